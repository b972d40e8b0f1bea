import { createHash } from 'node:crypto';
import { SalesforceError } from './api.ts';
import type { OrgContext } from './context.ts';
import type { Row, Table } from './store.ts';
import type { Stored } from './values.ts';

const FILE_TYPES: Record<string, string> = {
  pdf: 'PDF',
  png: 'PNG',
  jpg: 'JPG',
  jpeg: 'JPEG',
  gif: 'GIF',
  txt: 'TEXT',
  csv: 'CSV',
  json: 'JSON',
  xml: 'XML',
  zip: 'ZIP',
  doc: 'WORD',
  docx: 'WORD_X',
  xls: 'EXCEL',
  xlsx: 'EXCEL_X',
  ppt: 'POWER_POINT',
  pptx: 'POWER_POINT_X',
  html: 'HTML',
};

/** Writes a row the platform creates itself (no client checks), with audit fields. */
export function systemInsert(ctx: OrgContext, table: Table, values: Record<string, Stored>): string {
  const row: Row = new Array(table.stored.length).fill(null);
  const now = ctx.now().getTime();
  const base: Record<string, Stored> = {
    OwnerId: ctx.user.id,
    IsDeleted: false,
    CreatedDate: now,
    CreatedById: ctx.user.id,
    LastModifiedDate: now,
    LastModifiedById: ctx.user.id,
    SystemModstamp: now,
  };
  for (const [name, v] of Object.entries({ ...base, ...values })) {
    const s = table.slot(name);
    if (s >= 0) row[s] = v;
  }
  const id = ctx.store.ids.next(table.def.keyPrefix);
  row[table.idSlot] = id;
  table.rows.set(id, row);
  ctx.indexes.onWrite(table, id, undefined, row);
  ctx.changes.written(table, id, undefined, row);
  return id;
}

/** The field of a history or share object that names its parent record (`AccountId`, `ParentId`). */
function parentFieldOf(child: Table, parentName: string): string | undefined {
  return child.def.fields.find((f) => f.type === 'reference' && f.referenceTo.includes(parentName))?.name;
}

/** History (`Field = 'created'`) and owner share rows of a new record, as Salesforce writes them. */
function trackNewRecord(ctx: OrgContext, table: Table, id: string, row: Row): void {
  const name = table.def.name;
  const history = ctx.store.find(name === 'Opportunity' ? 'OpportunityFieldHistory' : `${name}History`);
  const historyParent = history && parentFieldOf(history, name);
  if (history && historyParent && history.slot('Field') >= 0) {
    systemInsert(ctx, history, { [historyParent]: id, Field: 'created' });
  }
  const share = ctx.store.find(`${name}Share`);
  const shareParent = share && parentFieldOf(share, name);
  const owner = table.audit.owner >= 0 ? row[table.audit.owner] : null;
  if (share && shareParent && typeof owner === 'string' && share.slot('RowCause') >= 0) {
    const access = share.slot(`${name}AccessLevel`) >= 0 ? `${name}AccessLevel` : 'AccessLevel';
    systemInsert(ctx, share, { [shareParent]: id, UserOrGroupId: owner, [access]: 'All', RowCause: 'Owner' });
  }
}

/** Sets fields of an existing row the platform maintains. */
export function systemUpdate(
  ctx: OrgContext,
  table: Table,
  id: string,
  values: Record<string, Stored>,
): void {
  const before = table.rows.get(id);
  if (!before) return;
  const row = before.slice();
  for (const [name, v] of Object.entries(values)) {
    const s = table.slot(name);
    if (s >= 0) row[s] = v;
  }
  table.rows.set(id, row);
  ctx.indexes.onWrite(table, id, before, row);
  ctx.changes.written(table, id, before, row);
}

function get(table: Table, row: Row, name: string): Stored {
  return table.get(row, table.slot(name));
}

function put(table: Table, row: Row, name: string, v: Stored): void {
  const s = table.slot(name);
  if (s >= 0) row[s] = v;
}

/** Derived fields the platform keeps on each write (sizes, checksums, closed flags). */
export function beforeWrite(ctx: OrgContext, table: Table, row: Row, before: Row | undefined): void {
  switch (table.def.name) {
    case 'Attachment':
    case 'Document': {
      const body = get(table, row, 'Body');
      put(table, row, 'BodyLength', body instanceof Uint8Array ? body.length : null);
      if (table.def.name === 'Document' && !before) {
        if (get(table, row, 'DeveloperName') === null) {
          const name = String(get(table, row, 'Name') ?? 'Document');
          put(
            table,
            row,
            'DeveloperName',
            name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'Document',
          );
        }
        if (get(table, row, 'AuthorId') === null) put(table, row, 'AuthorId', ctx.user.id);
      }
      return;
    }
    case 'ContentVersion':
      if (!before) prepareContentVersion(ctx, table, row);
      return;
    case 'ContentDocumentLink':
      if (!before) refuseDuplicateLink(table, row);
      return;
    case 'Task':
      put(table, row, 'IsClosed', get(table, row, 'Status') === 'Completed');
      put(table, row, 'IsHighPriority', get(table, row, 'Priority') === 'High');
      return;
    case 'Case':
      put(table, row, 'IsClosed', get(table, row, 'Status') === 'Closed');
      return;
    case 'Opportunity': {
      const stage = get(table, row, 'StageName');
      put(table, row, 'IsClosed', stage === 'Closed Won' || stage === 'Closed Lost');
      put(table, row, 'IsWon', stage === 'Closed Won');
      return;
    }
    default:
  }
}

function prepareContentVersion(ctx: OrgContext, table: Table, row: Row): void {
  const data = get(table, row, 'VersionData');
  if (data instanceof Uint8Array) {
    const path = get(table, row, 'PathOnClient');
    if (path === null) {
      throw new SalesforceError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [PathOnClient]', {
        fields: ['PathOnClient'],
      });
    }
    const ext = /\.([A-Za-z0-9]+)$/.exec(String(path))?.[1]?.toLowerCase() ?? '';
    put(table, row, 'FileExtension', ext || null);
    put(table, row, 'FileType', FILE_TYPES[ext] ?? 'UNKNOWN');
    put(table, row, 'ContentSize', data.length);
    put(table, row, 'Checksum', createHash('md5').update(data).digest('hex'));
  } else if (get(table, row, 'ContentUrl') === null) {
    throw new SalesforceError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [VersionData]', {
      fields: ['VersionData'],
    });
  } else {
    put(table, row, 'FileType', 'LINK');
  }
  if (get(table, row, 'ContentModifiedDate') === null)
    put(table, row, 'ContentModifiedDate', ctx.now().getTime());
  put(table, row, 'IsLatest', true);
}

/**
 * Rows the platform creates alongside a new one: a file's document and its first link; and, where
 * the org lists the object's history and share objects (the production catalog), the `created`
 * field history row and the owner's share row.
 */
export function afterInsert(ctx: OrgContext, table: Table, id: string, row: Row): void {
  trackNewRecord(ctx, table, id, row);
  if (table.def.name !== 'ContentVersion') return;
  const docs = ctx.store.require('ContentDocument');
  const docFields = {
    Title: get(table, row, 'Title'),
    LatestPublishedVersionId: id,
    ContentSize: get(table, row, 'ContentSize'),
    FileType: get(table, row, 'FileType'),
    FileExtension: get(table, row, 'FileExtension'),
    ContentModifiedDate: get(table, row, 'ContentModifiedDate'),
    PublishStatus: 'P',
    OwnerId: get(table, row, 'OwnerId'),
  };
  let docId = get(table, row, 'ContentDocumentId') as string | null;
  let version = 1;
  if (docId === null) {
    docId = systemInsert(ctx, docs, docFields);
  } else {
    const docSlot = table.slotOf('ContentDocumentId');
    for (const [otherId, other] of table.rows) {
      if (otherId === id || other[docSlot] !== docId) continue;
      version++;
      systemUpdate(ctx, table, otherId, { IsLatest: false });
    }
    systemUpdate(ctx, docs, docId, { ...docFields, LastModifiedDate: ctx.now().getTime() });
  }
  systemUpdate(ctx, table, id, { ContentDocumentId: docId, VersionNumber: String(version) });
  if (version > 1) return;
  // A new document is shared with its owner (ShareType I, the link that cannot be deleted) and,
  // when given, with the record it was first published to (ShareType V).
  const links = ctx.store.require('ContentDocumentLink');
  const owner = get(table, row, 'OwnerId');
  if (typeof owner === 'string') {
    systemInsert(ctx, links, {
      LinkedEntityId: owner,
      ContentDocumentId: docId,
      ShareType: 'I',
      Visibility: 'AllUsers',
    });
  }
  const linkTo = get(table, row, 'FirstPublishLocationId');
  if (linkTo !== null && linkTo !== owner) {
    systemInsert(ctx, links, {
      LinkedEntityId: linkTo,
      ContentDocumentId: docId,
      ShareType: 'V',
      Visibility: 'AllUsers',
    });
  }
}

/**
 * A document is linked to an entity at most once: a second link answers `DUPLICATE_VALUE` on
 * `LinkedEntityId` ("Document with ID: ... is already linked with the entity with ID: ...").
 */
function refuseDuplicateLink(table: Table, row: Row): void {
  const doc = get(table, row, 'ContentDocumentId');
  const entity = get(table, row, 'LinkedEntityId');
  if (typeof doc !== 'string' || typeof entity !== 'string') return;
  const docSlot = table.slot('ContentDocumentId');
  const entitySlot = table.slot('LinkedEntityId');
  for (const other of table.rows.values()) {
    if (other[docSlot] !== doc || other[entitySlot] !== entity || table.isDeleted(other)) continue;
    throw new SalesforceError(
      'DUPLICATE_VALUE',
      `Document with ID: ${doc} is already linked with the entity with ID: ${entity}`,
      { fields: ['LinkedEntityId'] },
    );
  }
}

/**
 * Why a row may not be deleted, if it may not: the owner's link of a document (the owner keeps
 * access to what they own; Salesforce answers `FIELD_INTEGRITY_EXCEPTION`).
 */
export function refusedDelete(ctx: OrgContext, table: Table, row: Row): SalesforceError | undefined {
  if (table.def.name !== 'ContentDocumentLink') return undefined;
  const doc = get(table, row, 'ContentDocumentId');
  const docs = ctx.store.find('ContentDocument');
  const docRow = typeof doc === 'string' ? docs?.rows.get(doc) : undefined;
  if (!docs || !docRow || docs.isDeleted(docRow)) return undefined;
  if (get(table, row, 'LinkedEntityId') !== get(docs, docRow, 'OwnerId')) return undefined;
  return new SalesforceError('FIELD_INTEGRITY_EXCEPTION', 'field integrity exception: []');
}
