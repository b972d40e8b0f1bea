import type { ObjectDef } from './api.ts';
import { picklist, picklistValues, ref, sobject, text, typed } from './schema.ts';

const LONG_TEXT = { length: 32000 };
const READ_ONLY = { createable: false, updateable: false };
const COMPUTED = { ...READ_ONLY, defaultedOnCreate: true };

/** Objects that `WhatId`, `ParentId` and `LinkedEntityId` may point at before custom objects are added. */
const WHAT_TARGETS = ['Account', 'Opportunity', 'Case'];
const WHO_TARGETS = ['Contact', 'Lead'];

/** Polymorphic lookups that also accept every custom object, as activities and files do. */
export const POLYMORPHIC_CUSTOM_TARGETS: ReadonlyArray<readonly [string, string]> = [
  ['Task', 'WhatId'],
  ['Event', 'WhatId'],
  ['Note', 'ParentId'],
  ['Attachment', 'ParentId'],
  ['ContentDocumentLink', 'LinkedEntityId'],
  ['ContentVersion', 'FirstPublishLocationId'],
];

function defaulted(name: string, values: readonly string[], extra = {}) {
  return picklist(name, values, {
    nillable: false,
    defaultedOnCreate: true,
    defaultValue: values[0] ?? null,
    picklistValues: picklistValues(values, true),
    ...extra,
  });
}

const activityRefs = (childRelationshipName: string) => [
  ref('WhoId', WHO_TARGETS, { label: 'Name ID', childRelationshipName, cascadeDelete: true }),
  ref('WhatId', WHAT_TARGETS, { label: 'Related To ID', childRelationshipName, cascadeDelete: true }),
];

const task = sobject({ name: 'Task', keyPrefix: '00T', owner: ['Group', 'User'] }, [
  ...activityRefs('Tasks'),
  text('Subject', 255, { type: 'combobox' }),
  typed('ActivityDate', 'date', { label: 'Due Date Only' }),
  defaulted('Status', ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred']),
  defaulted('Priority', ['Normal', 'High', 'Low']),
  typed('IsHighPriority', 'boolean', READ_ONLY),
  typed('Description', 'textarea', LONG_TEXT),
  typed('IsClosed', 'boolean', READ_ONLY),
  ref('AccountId', ['Account'], READ_ONLY),
  picklist('TaskSubtype', ['Task', 'Email', 'Call'], { createable: true, updateable: false }),
  picklist('CallType', ['Internal', 'Inbound', 'Outbound']),
  typed('CallDurationInSeconds', 'int', { label: 'Call Duration' }),
  typed('CompletedDateTime', 'datetime', READ_ONLY),
  typed('IsArchived', 'boolean', READ_ONLY),
]);

const event = sobject({ name: 'Event', keyPrefix: '00U', owner: ['User'] }, [
  ...activityRefs('Events'),
  text('Subject', 255, { type: 'combobox' }),
  text('Location', 255),
  typed('IsAllDayEvent', 'boolean', { label: 'All-Day Event' }),
  typed('ActivityDateTime', 'datetime', { label: 'Due Date Time' }),
  typed('ActivityDate', 'date', { label: 'Due Date Only' }),
  typed('DurationInMinutes', 'int', { label: 'Duration' }),
  typed('StartDateTime', 'datetime'),
  typed('EndDateTime', 'datetime'),
  typed('Description', 'textarea', LONG_TEXT),
  ref('AccountId', ['Account'], READ_ONLY),
  typed('IsPrivate', 'boolean', { label: 'Private' }),
  picklist('ShowAs', ['Busy', 'OutOfOffice', 'Free'], { label: 'Show Time As' }),
  typed('IsArchived', 'boolean', READ_ONLY),
]);

const note = sobject({ name: 'Note', keyPrefix: '002', owner: ['User'] }, [
  ref('ParentId', [...WHAT_TARGETS, 'Contact', 'Lead'], {
    nillable: false,
    childRelationshipName: 'Notes',
    cascadeDelete: true,
  }),
  text('Title', 80, { nillable: false, nameField: true }),
  typed('IsPrivate', 'boolean', { label: 'Private' }),
  typed('Body', 'textarea', LONG_TEXT),
]);

const attachment = sobject({ name: 'Attachment', keyPrefix: '00P', owner: ['User'] }, [
  ref('ParentId', [...WHAT_TARGETS, 'Contact', 'Lead', 'Task', 'Event'], {
    nillable: false,
    updateable: false,
    childRelationshipName: 'Attachments',
    cascadeDelete: true,
  }),
  text('Name', 255, { label: 'File Name', nillable: false, nameField: true }),
  typed('IsPrivate', 'boolean', { label: 'Private' }),
  text('ContentType', 120),
  typed('BodyLength', 'int', COMPUTED),
  typed('Body', 'base64', { nillable: false }),
  typed('Description', 'textarea', { length: 500 }),
]);

const folder = sobject({ name: 'Folder', keyPrefix: '00l', isDeleted: false }, [
  text('Name', 40, { nillable: false, nameField: true }),
  text('DeveloperName', 80, { defaultedOnCreate: true }),
  picklist('AccessType', ['Shared', 'Public', 'Hidden', 'PublicInternal'], {
    nillable: false,
    restrictedPicklist: true,
  }),
  picklist('Type', ['Document', 'Email', 'Report', 'Dashboard'], {
    nillable: false,
    restrictedPicklist: true,
  }),
  typed('IsReadonly', 'boolean'),
]);

const documentObject = sobject({ name: 'Document', keyPrefix: '015' }, [
  ref('FolderId', ['Folder', 'User'], { nillable: false, relationshipName: 'Folder' }),
  text('Name', 255, { label: 'Document Name', nillable: false, nameField: true }),
  text('DeveloperName', 80, { label: 'Document Unique Name', defaultedOnCreate: true }),
  text('ContentType', 120, { label: 'MIME Type' }),
  text('Type', 40, { label: 'File Extension' }),
  typed('IsPublic', 'boolean', { label: 'Externally Available' }),
  typed('BodyLength', 'int', COMPUTED),
  typed('Body', 'base64'),
  typed('Url', 'url'),
  typed('Description', 'textarea', { length: 255 }),
  typed('Keywords', 'string', { length: 255 }),
  typed('IsInternalUseOnly', 'boolean'),
  ref('AuthorId', ['User'], { defaultedOnCreate: true }),
]);

const contentDocument = sobject(
  {
    name: 'ContentDocument',
    keyPrefix: '069',
    owner: ['User'],
    flags: { createable: false, updateable: true, deletable: true, undeletable: true },
  },
  [
    text('Title', 255, { nillable: false, nameField: true, createable: false, updateable: true }),
    typed('IsArchived', 'boolean', READ_ONLY),
    picklist('PublishStatus', ['U', 'P', 'R'], READ_ONLY),
    ref('LatestPublishedVersionId', ['ContentVersion'], {
      ...READ_ONLY,
      relationshipName: 'LatestPublishedVersion',
    }),
    ref('ParentId', ['ContentWorkspace'], READ_ONLY),
    typed('Description', 'textarea', { length: 1000, createable: false, updateable: true }),
    typed('ContentSize', 'int', READ_ONLY),
    text('FileType', 20, READ_ONLY),
    text('FileExtension', 40, READ_ONLY),
    typed('ContentModifiedDate', 'datetime', READ_ONLY),
  ],
);

const contentVersion = sobject(
  {
    name: 'ContentVersion',
    keyPrefix: '068',
    owner: ['User'],
    flags: { deletable: false, undeletable: false },
  },
  [
    ref('ContentDocumentId', ['ContentDocument'], {
      updateable: false,
      defaultedOnCreate: true,
      cascadeDelete: true,
      childRelationshipName: 'ContentVersions',
    }),
    typed('IsLatest', 'boolean', READ_ONLY),
    typed('ContentUrl', 'url'),
    text('VersionNumber', 20, COMPUTED),
    text('Title', 255, { nillable: false, nameField: true }),
    typed('Description', 'textarea', { length: 1000 }),
    text('ReasonForChange', 1000),
    text('PathOnClient', 500, { updateable: false }),
    typed('ContentSize', 'int', COMPUTED),
    text('FileType', 20, COMPUTED),
    text('FileExtension', 40, COMPUTED),
    text('Checksum', 50, COMPUTED),
    typed('VersionData', 'base64', { updateable: false }),
    ref('FirstPublishLocationId', ['User', ...WHAT_TARGETS, 'Contact', 'Lead'], { updateable: false }),
    defaulted('Origin', ['C', 'H'], { updateable: false, label: 'Content Origin' }),
    defaulted('ContentLocation', ['S', 'E', 'L'], { updateable: false }),
    defaulted('SharingOption', ['A', 'R']),
    defaulted('SharingPrivacy', ['N', 'P']),
    typed('ContentModifiedDate', 'datetime', { updateable: false, defaultedOnCreate: true }),
    text('TagCsv', 2000),
  ],
);

// Object Reference, ContentDocumentLink: supported calls create, delete, query, retrieve, update and
// upsert, no undelete(): a deleted link is gone, except that a deleted document's links come back
// with it.
const contentDocumentLink = sobject(
  {
    name: 'ContentDocumentLink',
    keyPrefix: '06A',
    modstampOnly: true,
    flags: { undeletable: false },
  },
  [
    ref('LinkedEntityId', ['User', ...WHAT_TARGETS, 'Contact', 'Lead'], {
      nillable: false,
      updateable: false,
      childRelationshipName: 'ContentDocumentLinks',
      cascadeDelete: true,
    }),
    ref('ContentDocumentId', ['ContentDocument'], {
      nillable: false,
      updateable: false,
      cascadeDelete: true,
      childRelationshipName: 'ContentDocumentLinks',
    }),
    defaulted('ShareType', ['V', 'C', 'I'], { restrictedPicklist: true }),
    defaulted('Visibility', ['AllUsers', 'InternalUsers', 'SharedUsers'], { restrictedPicklist: true }),
  ],
);

const statusObject = (name: string, keyPrefix: string) =>
  sobject(
    {
      name,
      keyPrefix,
      isDeleted: false,
      flags: { createable: false, updateable: false, bulkQueryable: false, replicateable: false },
    },
    [
      text('MasterLabel', 255, { ...READ_ONLY, nameField: true }),
      text('ApiName', 255, READ_ONLY),
      typed('SortOrder', 'int', READ_ONLY),
      typed('IsDefault', 'boolean', READ_ONLY),
      typed('IsClosed', 'boolean', READ_ONLY),
    ],
  );

const accountChangeEvent = sobject(
  {
    name: 'AccountChangeEvent',
    keyPrefix: '1CE',
    isDeleted: false,
    flags: {
      queryable: false,
      createable: false,
      updateable: false,
      retrieveable: false,
      replicateable: false,
    },
  },
  [text('ChangeEventHeader', 255, { ...READ_ONLY, type: 'anyType', filterable: false })],
);

/** Activities, notes, attachments, documents, files, and system objects with API restrictions. */
export const CONTENT_OBJECTS: readonly ObjectDef[] = [
  task,
  event,
  note,
  attachment,
  folder,
  documentObject,
  contentDocument,
  contentVersion,
  contentDocumentLink,
  statusObject('TaskStatus', '01J'),
  statusObject('CaseStatus', '01K'),
  accountChangeEvent,
];
