import type { FieldDef, ObjectDef, QueryRestriction } from './api.ts';
import { field, picklist, ref, text, typed } from './schema.ts';
import { CATALOG_ROWS } from './standard-catalog-data.ts';

/**
 * How an object of the production catalog answers, which decides its describe flags and query rules:
 * - `data`: business records (createable, Bulk-queryable);
 * - `setup`: read-only setup and system objects, queryable;
 * - `nobulk`: queryable by REST, refused by Bulk API 2.0;
 * - `filter`: every query must filter on key fields (`Implementation restriction: ...`);
 * - `virtual`: listed by describe, never queryable (ActivityHistory, AggregateResult, ...);
 * - `change`: change data capture events (`...ChangeEvent`), not queryable;
 * - `event`: platform events (`__e` and standard ones), published, never queried;
 * - `history`, `share`, `feed`: field history, sharing and Chatter feed rows of a parent object;
 * - `knowledge`: Knowledge article versions, queried only by PublishStatus (or Id);
 * - `big`: big objects, queried only by their index fields in order, refused by Bulk;
 * - `external`: external objects whose external data source cannot be reached;
 * - `metadata`: custom metadata types (`__mdt`), queryable by REST, refused by Bulk;
 * - `setting`: custom settings (describe `customSetting: true`).
 */
export type CatalogCategory =
  | 'data'
  | 'setup'
  | 'nobulk'
  | 'filter'
  | 'virtual'
  | 'change'
  | 'event'
  | 'history'
  | 'share'
  | 'feed'
  | 'knowledge'
  | 'big'
  | 'external'
  | 'metadata'
  | 'setting';

const CATEGORIES: ReadonlySet<string> = new Set<CatalogCategory>([
  'data',
  'setup',
  'nobulk',
  'filter',
  'virtual',
  'change',
  'event',
  'history',
  'share',
  'feed',
  'knowledge',
  'big',
  'external',
  'metadata',
  'setting',
]);

/** One parsed catalog row. */
export interface CatalogEntry {
  readonly name: string;
  readonly category: CatalogCategory;
  /** System field letters (see `standard-catalog-data.ts`). */
  readonly audit: string;
  /** History, share and feed rows: the field naming the tracked record. */
  readonly parentField: string | null;
}

type Flags = Pick<
  ObjectDef,
  | 'queryable'
  | 'retrieveable'
  | 'createable'
  | 'updateable'
  | 'deletable'
  | 'replicateable'
  | 'searchable'
  | 'layoutable'
  | 'triggerable'
  | 'bulkQueryable'
>;

const NONE: Flags = {
  queryable: false,
  retrieveable: false,
  createable: false,
  updateable: false,
  deletable: false,
  replicateable: false,
  searchable: false,
  layoutable: false,
  triggerable: false,
  bulkQueryable: false,
};
const READ: Flags = { ...NONE, queryable: true, retrieveable: true, bulkQueryable: true };
const WRITE: Flags = { ...READ, createable: true, updateable: true, deletable: true, replicateable: true };

/** Describe flags per category, as a production org reports them for objects of that kind. */
const CATEGORY_FLAGS: Record<CatalogCategory, Flags> = {
  data: { ...WRITE, searchable: true, layoutable: true, triggerable: true },
  setup: READ,
  nobulk: { ...READ, bulkQueryable: false },
  filter: READ,
  virtual: NONE,
  change: NONE,
  event: { ...NONE, createable: true, triggerable: true },
  history: { ...READ, replicateable: true },
  share: WRITE,
  feed: { ...READ, deletable: true, replicateable: true },
  knowledge: { ...READ, searchable: true, layoutable: true },
  big: { ...READ, bulkQueryable: false },
  external: { ...READ, bulkQueryable: false },
  metadata: { ...READ, bulkQueryable: false },
  setting: WRITE,
};

/** Filter-required objects that clients may still create (the rule is about reading). */
const CREATEABLE_FILTERED = new Set(['ContentFolderItem', 'ContentFolderMember', 'IdeaComment', 'Vote']);

/** Salesforce's own wording where it differs from the ContentDocumentLink pattern. */
const FILTER_MESSAGES: Record<string, string> = {
  ContentFolderMember:
    'Implementation restriction: ContentFolderMember requires a filter by a single Id, ChildRecordId or ParentContentFolderId using the equals operator',
  Vote: "Implementation restriction: When querying the Vote object, you must filter using the following syntax: ParentId = [single ID], Parent.Type = [single Type], Id = [single ID], or Id IN [list of ID's].",
  UserEntityAccess: 'UserEntityAccess: a filter on a reified column is required [UserId,DurableId]',
};

/** The filter-required objects and the fields a query must name with `=` or `IN`. */
const FILTER_FIELDS: Record<string, { anyOf?: readonly string[]; allOf?: readonly string[] }> = {
  ContentDocumentLink: { anyOf: ['Id', 'ContentDocumentId', 'LinkedEntityId'] },
  ContentFolderItem: { anyOf: ['Id', 'ParentContentFolderId'] },
  ContentFolderMember: { anyOf: ['Id', 'ChildRecordId', 'ParentContentFolderId'] },
  IdeaComment: { anyOf: ['Id', 'IdeaId'] },
  Vote: { anyOf: ['Id', 'ParentId'] },
  UserRecordAccess: { allOf: ['UserId', 'RecordId'] },
  CollaborationGroupRecord: { anyOf: ['Id', 'CollaborationGroupId'] },
  Announcement: { anyOf: ['Id', 'FeedItemId'] },
  AppTabMember: { anyOf: ['AppDefinitionId'] },
  ColorDefinition: { anyOf: ['TabDefinitionId'] },
  IconDefinition: { anyOf: ['TabDefinitionId'] },
  DataStatistics: { anyOf: ['UserId'] },
  EntityParticle: { anyOf: ['DurableId', 'EntityDefinitionId'] },
  FieldDefinition: { anyOf: ['DurableId', 'EntityDefinitionId'] },
  FlexQueueItem: { anyOf: ['JobType'] },
  OwnerChangeOptionInfo: { anyOf: ['EntityDefinitionId'] },
  PicklistValueInfo: { anyOf: ['DurableId', 'EntityParticleId'] },
  PlatformAction: { anyOf: ['SourceEntity'] },
  RelationshipDomain: { anyOf: ['DurableId', 'ChildSobjectId', 'ParentSobjectId'] },
  RelationshipInfo: { anyOf: ['DurableId', 'ChildSobjectId'] },
  SearchLayout: { anyOf: ['EntityDefinitionId'] },
  SiteDetail: { anyOf: ['DurableId'] },
  UserEntityAccess: { anyOf: ['DurableId', 'UserId'] },
  UserFieldAccess: { anyOf: ['DurableId', 'EntityDefinitionId'] },
};

/**
 * Salesforce's text for a filter-required object: its own where known (ContentDocumentLink,
 * ContentFolderMember, Vote, UserEntityAccess); the others follow ContentDocumentLink's pattern
 * with the object's own filter fields.
 */
export function filterRestrictionMessage(
  objectName: string,
  rule: { anyOf?: readonly string[]; allOf?: readonly string[] },
): string {
  const own = FILTER_MESSAGES[objectName];
  if (own) return own;
  if (rule.allOf) {
    return `Implementation restriction: ${objectName} requires a filter by ${rule.allOf.join(' and ')} using the equals operator or multiple Id's using the IN operator.`;
  }
  const named = (rule.anyOf ?? []).filter((f) => f !== 'Id');
  const fields = named.length > 0 ? named : ['Id'];
  const list = fields.length > 1 ? `${fields.slice(0, -1).join(', ')} or ${fields.at(-1)}` : fields[0];
  return `Implementation restriction: ${objectName} requires a filter by a single Id on ${list} using the equals operator or multiple Id's using the IN operator.`;
}

/** Salesforce's text for a Knowledge article version query without a PublishStatus (or Id) filter. */
export function knowledgeRestrictionMessage(objectName: string): string {
  return `Implementation restriction: When querying or searching the ${objectName} object, you must filter using the following syntax: Id = [single ID], Id IN [list of ID's], or PublishStatus = [status]. In addition PublishStatus is only permitted in a top-level AND condition.`;
}

/** The text for a big object query that does not filter on its index fields in order. */
export function indexRestrictionMessage(objectName: string, indexFields: readonly string[]): string {
  return `Implementation restriction: a query of the big object ${objectName} must filter on its index fields in order, starting with the first and without gaps (${indexFields.join(', ')}), using = or IN, and a range (<, <=, >, >=) only on the last field it filters on.`;
}

/** The restriction of every filter-required object of the catalog (ContentDocumentLink too). */
export function filterRestriction(objectName: string): QueryRestriction | undefined {
  const rule = FILTER_FIELDS[objectName];
  if (!rule) return undefined;
  return { kind: 'filter', ...rule, message: filterRestrictionMessage(objectName, rule) };
}

/** Parses the compact catalog rows; throws naming the line for a malformed one. */
export function parseCatalog(rows: string): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  for (const [i, line] of rows.split('\n').entries()) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] === '') continue;
    const [name, category, audit, parentField] = parts;
    if (!name || !category || !CATEGORIES.has(category) || !audit || !/^(-|[NODCLS]+)$/.test(audit)) {
      throw new Error(
        `Catalog line ${i}: "${line}" must be "Name category audit [parentField]" with a known category and audit letters from NODCLS (or -).`,
      );
    }
    entries.push({
      name,
      category: category as CatalogCategory,
      audit: audit === '-' ? '' : audit,
      parentField: parentField ?? null,
    });
  }
  return entries;
}

const READ_ONLY = { createable: false, updateable: false, nillable: false, defaultedOnCreate: true };
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Key prefixes of catalog objects: `Z00`, `Z01`, ... (no built-in or custom object uses `Z`). */
function catalogKeyPrefix(n: number): string {
  return `Z${BASE62[Math.floor(n / 62) % 62]}${BASE62[n % 62]}`;
}

/** The object a history, share or feed object tracks (`AccountHistory` -> `Account`). */
export function trackedObject(name: string): string {
  return name.replace(/(Field)?History$|Share$|Feed$/, '');
}

function auditFields(audit: string): { head: FieldDef[]; tail: FieldDef[] } {
  const head: FieldDef[] = [];
  const tail: FieldDef[] = [];
  if (audit.includes('O')) {
    head.push(ref('OwnerId', ['User'], { label: 'Owner ID', nillable: false, defaultedOnCreate: true }));
  }
  if (audit.includes('D')) head.push(typed('IsDeleted', 'boolean', { label: 'Deleted', ...READ_ONLY }));
  if (audit.includes('C')) {
    tail.push(typed('CreatedDate', 'datetime', { label: 'Created Date', ...READ_ONLY }));
    tail.push(ref('CreatedById', ['User'], { label: 'Created By ID', ...READ_ONLY }));
  }
  if (audit.includes('L')) {
    tail.push(typed('LastModifiedDate', 'datetime', { label: 'Last Modified Date', ...READ_ONLY }));
    tail.push(ref('LastModifiedById', ['User'], { label: 'Last Modified By ID', ...READ_ONLY }));
  }
  if (audit.includes('S'))
    tail.push(typed('SystemModstamp', 'datetime', { label: 'System Modstamp', ...READ_ONLY }));
  return { head, tail };
}

/** A key field a filter-required object's queries name: a lookup (to User for `UserId`) or text. */
function keyField(name: string): FieldDef {
  if (name === 'UserId') return ref(name, ['User']);
  if (name.endsWith('Id') && name !== 'DurableId') return ref(name, [], { relationshipName: null });
  return text(name, 255);
}

/** The fields of an entry beyond Id and the system fields. */
function categoryFields(entry: CatalogEntry): FieldDef[] {
  const parent = entry.parentField;
  const tracked = trackedObject(entry.name);
  const fields: FieldDef[] = [];
  if (entry.audit.includes('N')) fields.push(text('Name', 255, { nameField: true, nillable: false }));
  switch (entry.category) {
    case 'history':
      fields.push(
        ref(parent ?? 'ParentId', [tracked], {
          ...READ_ONLY,
          relationshipName: parent === 'ParentId' ? 'Parent' : tracked,
          childRelationshipName: 'Histories',
          cascadeDelete: true,
        }),
        text('Field', 255, READ_ONLY),
        text('DataType', 40, READ_ONLY),
        typed('OldValue', 'anyType', { createable: false, updateable: false }),
        typed('NewValue', 'anyType', { createable: false, updateable: false }),
      );
      break;
    case 'share': {
      const accessField = parent && parent !== 'ParentId' ? `${tracked}AccessLevel` : 'AccessLevel';
      fields.push(
        ref(parent ?? 'ParentId', [tracked], {
          nillable: false,
          updateable: false,
          relationshipName: parent === 'ParentId' ? 'Parent' : tracked,
          childRelationshipName: 'Shares',
          cascadeDelete: true,
        }),
        ref('UserOrGroupId', ['Group', 'User'], { nillable: false, updateable: false }),
        picklist(accessField, ['Read', 'Edit', 'All'], { nillable: false, restrictedPicklist: true }),
        picklist('RowCause', ['Owner', 'Manual', 'Rule', 'ImplicitChild', 'ImplicitParent', 'Team'], {
          defaultedOnCreate: true,
          defaultValue: 'Manual',
        }),
      );
      break;
    }
    case 'feed':
      fields.push(
        ref('ParentId', [tracked], { ...READ_ONLY, childRelationshipName: 'Feeds', cascadeDelete: true }),
        picklist('Type', ['TextPost', 'LinkPost', 'ContentPost', 'TrackedChange'], READ_ONLY),
        typed('Body', 'textarea', { length: 10000, createable: false, updateable: false }),
      );
      break;
    case 'filter': {
      const rule = FILTER_FIELDS[entry.name];
      for (const name of [...(rule?.anyOf ?? []), ...(rule?.allOf ?? [])]) {
        if (name !== 'Id') fields.push(keyField(name));
      }
      break;
    }
    case 'knowledge':
      fields.push(
        text('Title', 255, { nillable: false }),
        text('UrlName', 255, { nillable: false }),
        picklist('PublishStatus', ['Online', 'Draft', 'Archived'], {
          ...READ_ONLY,
          restrictedPicklist: true,
        }),
        picklist('Language', ['en_US'], { nillable: false, restrictedPicklist: true }),
        ref('KnowledgeArticleId', ['KnowledgeArticle'], READ_ONLY),
        text('ArticleNumber', 30, READ_ONLY),
        typed('VersionNumber', 'int', READ_ONLY),
        typed('IsLatestVersion', 'boolean', READ_ONLY),
      );
      break;
    case 'big':
      fields.push(
        picklist('FieldHistoryType', ['Account', 'Case', 'Contact', 'Lead', 'Opportunity'], READ_ONLY),
        ref('ParentId', [], { ...READ_ONLY, relationshipName: null }),
        text('Field', 255, READ_ONLY),
        typed('OldValue', 'anyType', { createable: false, updateable: false }),
        typed('NewValue', 'anyType', { createable: false, updateable: false }),
      );
      break;
    case 'event':
      fields.push(text('ReplayId', 255, READ_ONLY), text('EventUuid', 36, READ_ONLY));
      break;
    default:
      break;
  }
  return fields;
}

/** Builds the ObjectDef of a catalog entry. */
export function catalogObject(entry: CatalogEntry, keyPrefix: string): ObjectDef {
  const flags = { ...CATEGORY_FLAGS[entry.category] };
  if (entry.category === 'filter' && CREATEABLE_FILTERED.has(entry.name)) {
    Object.assign(flags, { createable: true, deletable: true });
  }
  if (entry.category === 'setup' || entry.category === 'nobulk') {
    // getUpdated/getDeleted (what `replicateable` promises) need a modification stamp.
    flags.replicateable = entry.audit.includes('S');
  }
  if (entry.category === 'knowledge' && entry.name.endsWith('__kav')) {
    Object.assign(flags, { createable: true, updateable: true, deletable: true });
  }
  const { head, tail } = auditFields(entry.audit);
  const label = entry.name.replace(/__(kav|ka|c|b|x|e|mdt)$/, '').replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  let queryRestriction: QueryRestriction | undefined;
  if (entry.category === 'filter') queryRestriction = filterRestriction(entry.name);
  if (entry.category === 'knowledge') {
    queryRestriction = {
      kind: 'filter',
      anyOf: ['Id', 'PublishStatus'],
      // As the message says: `PublishStatus = [status]`, a single value.
      equalsOnly: ['PublishStatus'],
      message: knowledgeRestrictionMessage(entry.name),
    };
  }
  if (entry.category === 'big') {
    const indexFields = ['FieldHistoryType', 'ParentId', 'CreatedDate'];
    queryRestriction = {
      kind: 'index',
      indexFields,
      message: indexRestrictionMessage(entry.name, indexFields),
    };
  }
  return {
    name: entry.name,
    label,
    labelPlural: label.endsWith('s') ? label : `${label}s`,
    keyPrefix,
    custom: entry.name.includes('__'),
    ...flags,
    undeletable: flags.deletable && entry.audit.includes('D') && entry.category === 'data',
    queryRestriction,
    fields: [
      field({ name: 'Id', type: 'id', label: `${label} ID`, ...READ_ONLY }),
      ...head,
      ...categoryFields(entry),
      ...tail,
    ],
    childRelationships: [],
  };
}

/** The standard objects of the production catalog, in row order, with `Z..` key prefixes. */
export function productionStandardObjects(): ObjectDef[] {
  return parseCatalog(CATALOG_ROWS).map((entry, i) => catalogObject(entry, catalogKeyPrefix(i)));
}

/**
 * Sample custom objects of the kinds a production org holds besides its own `__c` objects, named
 * after Salesforce's documentation examples: a big object, an external object, a platform event,
 * a custom metadata type and a hierarchy custom setting.
 */
export function productionSampleObjects(firstPrefix: number): ObjectDef[] {
  const prefix = (i: number) => catalogKeyPrefix(firstPrefix + i);
  const audit = auditFields('CLS');
  const bigIndex = ['Account__c', 'Game_Platform__c', 'Play_Date__c'];
  const big: ObjectDef = {
    ...catalogObject(
      { name: 'Customer_Interaction__b', category: 'big', audit: '', parentField: null },
      prefix(0),
    ),
    createable: true,
    queryRestriction: {
      kind: 'index',
      indexFields: bigIndex,
      message: indexRestrictionMessage('Customer_Interaction__b', bigIndex),
    },
    fields: [
      field({ name: 'Id', type: 'id', label: 'Customer Interaction ID', ...READ_ONLY }),
      ref('Account__c', ['Account'], { nillable: false, relationshipName: 'Account__r' }),
      text('Game_Platform__c', 40, { nillable: false }),
      typed('Play_Date__c', 'datetime', { nillable: false }),
      typed('Play_Duration__c', 'double', { precision: 18, scale: 2 }),
      ...audit.tail.filter((f) => f.name !== 'LastModifiedDate' && f.name !== 'LastModifiedById'),
    ],
  };
  const external: ObjectDef = {
    ...catalogObject({ name: 'Orders__x', category: 'external', audit: '', parentField: null }, prefix(1)),
    queryRestriction: {
      kind: 'unavailable',
      errorCode: 'EXTERNAL_OBJECT_CONNECTION_EXCEPTION',
      message:
        "Salesforce Connect couldn't connect to the external data source Orders_Source behind Orders__x: the external system didn't respond.",
    },
    fields: [
      field({ name: 'Id', type: 'id', label: 'Orders ID', ...READ_ONLY }),
      text('ExternalId', 255, { label: 'External ID', ...READ_ONLY }),
      typed('DisplayUrl', 'url', { label: 'Display URL', createable: false, updateable: false }),
      text('OrderNumber__c', 40),
      typed('OrderDate__c', 'date'),
      ref('Account__c', ['Account'], { relationshipName: 'Account__r' }),
    ],
  };
  const event: ObjectDef = {
    ...catalogObject({ name: 'Order_Event__e', category: 'event', audit: 'C', parentField: null }, prefix(2)),
    fields: [
      field({ name: 'Id', type: 'id', label: 'Order Event ID', ...READ_ONLY }),
      text('ReplayId', 255, READ_ONLY),
      text('EventUuid', 36, READ_ONLY),
      text('Order_Number__c', 40),
      ...auditFields('C').tail,
    ],
  };
  const metadata: ObjectDef = {
    ...catalogObject(
      { name: 'Support_Tier__mdt', category: 'metadata', audit: '', parentField: null },
      prefix(3),
    ),
    fields: [
      field({ name: 'Id', type: 'id', label: 'Support Tier ID', ...READ_ONLY }),
      text('DeveloperName', 40, { label: 'Custom Metadata Record Name', nillable: false }),
      text('MasterLabel', 40, { label: 'Label', nameField: true, nillable: false }),
      text('Label', 40, READ_ONLY),
      text('QualifiedApiName', 70, READ_ONLY),
      text('NamespacePrefix', 15, READ_ONLY),
      picklist('Language', ['en_US'], READ_ONLY),
      typed('Response_Hours__c', 'double', { precision: 18, scale: 0 }),
    ],
  };
  const setting: ObjectDef = {
    ...catalogObject(
      { name: 'Integration_Settings__c', category: 'setting', audit: 'D', parentField: null },
      prefix(4),
    ),
    customSetting: true,
    fields: [
      field({ name: 'Id', type: 'id', label: 'Integration Settings ID', ...READ_ONLY }),
      typed('IsDeleted', 'boolean', { label: 'Deleted', ...READ_ONLY }),
      text('Name', 80, { nameField: true, nillable: false }),
      ref('SetupOwnerId', ['Organization', 'Profile', 'User'], {
        label: 'Location',
        relationshipName: 'SetupOwner',
      }),
      typed('Endpoint__c', 'url'),
      ...audit.tail,
    ],
  };
  return [big, external, event, metadata, setting];
}

/** Every object the production catalog adds to an org: the standard long tail and the samples. */
export function productionCatalog(): ObjectDef[] {
  const standard = productionStandardObjects();
  return [...standard, ...productionSampleObjects(standard.length)];
}
