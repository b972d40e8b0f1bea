import { SalesforceError, type FieldDef } from './api.ts';
import { afterInsert, beforeWrite } from './object-hooks.ts';
import type { OrgContext } from './context.ts';
import { toId18 } from './ids.ts';
import { checkReference, relationshipField, resolveByExternalId } from './references.ts';
import type { Row, Table } from './store.ts';
import { coerceInput, type Stored } from './values.ts';

/** Audit fields a client may set on insert when "Set Audit Fields upon Record Creation" is on. */
export const AUDIT_ON_CREATE: ReadonlySet<string> = new Set([
  'createddate',
  'createdbyid',
  'lastmodifieddate',
  'lastmodifiedbyid',
]);

type Mode = 'insert' | 'update';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
}

function notWritable(field: string): SalesforceError {
  return new SalesforceError(
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    `Unable to create/update fields: ${field}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
    { fields: [field] },
  );
}

function noSuchField(table: Table, name: string): SalesforceError {
  return new SalesforceError(
    'INVALID_FIELD',
    `No such column '${name}' on sobject of type ${table.def.name}`,
    {
      fields: [name],
    },
  );
}

/** Values keyed by slot, checked and converted; references resolved but not yet checked. */
function assignments(ctx: OrgContext, table: Table, values: Readonly<Record<string, unknown>>, mode: Mode) {
  const out = new Map<number, Stored>();
  for (const [key, raw] of Object.entries(values)) {
    if (key === 'attributes') continue;
    const dot = key.indexOf('.');
    if (dot > 0 || isPlainObject(raw)) {
      const relName = dot > 0 ? key.slice(0, dot) : key;
      const f = relationshipField(table, relName);
      if (!f) throw noSuchField(table, key);
      if (!(mode === 'insert' ? f.createable : f.updateable)) throw notWritable(f.name);
      let extField: string;
      let extValue: unknown;
      let typeHint: string | undefined;
      if (dot > 0) {
        extField = key.slice(dot + 1);
        extValue = raw;
      } else {
        const nested = raw as Record<string, unknown>;
        const attrs = nested.attributes as { type?: string } | undefined;
        typeHint = attrs?.type;
        const keys = Object.keys(nested).filter((k) => k !== 'attributes');
        if (keys.length !== 1) {
          throw new SalesforceError(
            'INVALID_FIELD',
            `${relName}: give exactly one external id field of the parent`,
            {
              fields: [f.name],
            },
          );
        }
        extField = keys[0]!;
        extValue = nested[extField];
      }
      out.set(table.slotOf(f.name), resolveByExternalId(ctx, f, extField, extValue, typeHint));
      continue;
    }
    const f = table.field(key);
    if (!f) throw noSuchField(table, key);
    if (f.name === 'Id') {
      if (mode === 'insert') {
        throw new SalesforceError('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', {
          fields: ['Id'],
        });
      }
      continue;
    }
    const auditOk =
      mode === 'insert' && ctx.settings.setAuditFieldsOnCreate && AUDIT_ON_CREATE.has(f.name.toLowerCase());
    if (!auditOk && !(mode === 'insert' ? f.createable : f.updateable)) throw notWritable(f.name);
    out.set(table.slotOf(f.name), coerceInput(f, raw));
  }
  return out;
}

function checkRow(
  ctx: OrgContext,
  table: Table,
  row: Row,
  id: string | undefined,
  touched: Iterable<number>,
): void {
  const missingSlots = table.requiredSlots.filter((i) => row[i] === null || row[i] === undefined);
  if (missingSlots.length) {
    const names = missingSlots.map((i) => table.stored[i]!.name);
    throw new SalesforceError(
      'REQUIRED_FIELD_MISSING',
      `Required fields are missing: [${names.join(', ')}]`,
      {
        fields: names,
      },
    );
  }
  for (const slot of touched) {
    const f = table.stored[slot]!;
    const v = row[slot];
    if (v === null || v === undefined) continue;
    if (f.type === 'reference') checkReference(ctx, f, v as string);
    if (f.unique || f.externalId) checkUnique(ctx, table, f, slot, v, id);
  }
}

function checkUnique(
  ctx: OrgContext,
  table: Table,
  f: FieldDef,
  slot: number,
  v: Stored,
  id: string | undefined,
) {
  if (!f.unique) return;
  const clash = ctx.indexes
    .lookup(table, slot, v)
    .find((other) => other !== id && !table.isDeleted(table.rows.get(other)!));
  if (clash) {
    throw new SalesforceError(
      'DUPLICATE_VALUE',
      `duplicate value found: ${f.name} duplicates value on record with id: ${clash}`,
      { fields: [f.name] },
    );
  }
}

function autoNumber(table: Table, f: FieldDef): string {
  const next = (table.autoNumbers.get(f.name) ?? 0) + 1;
  table.autoNumbers.set(f.name, next);
  const format = f.displayFormat ?? '{0}';
  return format.replace(/\{(0+)\}/, (_m, zeros: string) => String(next).padStart(zeros.length, '0'));
}

/** Keeps `Name` of people-like objects equal to FirstName + LastName. */
function deriveName(table: Table, row: Row): void {
  const name = table.field('Name');
  if (!name || name.createable || table.slot('LastName') < 0) return;
  const parts = [row[table.slot('FirstName')], row[table.slot('LastName')]].filter(
    (p) => typeof p === 'string',
  );
  row[table.slotOf('Name')] = parts.join(' ') || null;
}

/** Inserts one row after Salesforce's checks; returns the new id. */
export function insertRow(ctx: OrgContext, table: Table, values: Readonly<Record<string, unknown>>): string {
  if (!table.def.createable) {
    throw new SalesforceError(
      'CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY',
      `entity type cannot be inserted: ${table.def.label}`,
    );
  }
  const given = assignments(ctx, table, values, 'insert');
  const row: Row = new Array(table.stored.length).fill(null);
  for (const [slot, v] of given) row[slot] = v;
  const stored = table.stored;
  for (let i = 0; i < stored.length; i++) {
    if (row[i] !== null) continue;
    const f = stored[i]!;
    if (f.autoNumber) row[i] = autoNumber(table, f);
    else if (f.defaultValue !== null) row[i] = f.defaultValue;
  }
  const now = ctx.now().getTime();
  const a = table.audit;
  if (a.owner >= 0 && row[a.owner] === null) row[a.owner] = ctx.user.id;
  if (a.createdDate >= 0 && row[a.createdDate] === null) row[a.createdDate] = now;
  if (a.createdBy >= 0 && row[a.createdBy] === null) row[a.createdBy] = ctx.user.id;
  if (a.lastModifiedDate >= 0 && row[a.lastModifiedDate] === null)
    row[a.lastModifiedDate] = row[a.createdDate] ?? now;
  if (a.lastModifiedBy >= 0 && row[a.lastModifiedBy] === null)
    row[a.lastModifiedBy] = row[a.createdBy] ?? ctx.user.id;
  row[a.systemModstamp] = now;
  if (table.deletedSlot >= 0) row[table.deletedSlot] = false;
  deriveName(table, row);
  beforeWrite(ctx, table, row, undefined);
  checkRow(
    ctx,
    table,
    row,
    undefined,
    [...given.keys(), table.slot('OwnerId')].filter((s) => s >= 0),
  );
  const id = ctx.store.ids.next(table.def.keyPrefix);
  row[table.idSlot] = id;
  table.rows.set(id, row);
  ctx.indexes.onWrite(table, id, undefined, row);
  ctx.changes.written(table, id, undefined, row);
  ctx.counters.inserted++;
  afterInsert(ctx, table, id, row);
  return id;
}

/** Finds a live row of the table by id, with Salesforce's errors for the other cases. */
export function liveRow(ctx: OrgContext, table: Table, rawId: string): { id: string; row: Row } {
  const id = toId18(rawId);
  if (!id || ctx.store.forId(id) !== table) {
    throw new SalesforceError('MALFORMED_ID', `${table.def.label} ID: id value of incorrect type: ${rawId}`, {
      fields: ['Id'],
    });
  }
  const row = table.rows.get(id);
  if (!row || table.isDeleted(row)) {
    throw new SalesforceError('ENTITY_IS_DELETED', 'entity is deleted', { statusCode: row ? 400 : 404 });
  }
  return { id, row };
}

/** Updates one live row after Salesforce's checks. */
export function updateRow(
  ctx: OrgContext,
  table: Table,
  rawId: string,
  values: Readonly<Record<string, unknown>>,
): void {
  if (!table.def.updateable) {
    throw new SalesforceError(
      'CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY',
      `entity type cannot be updated: ${table.def.label}`,
    );
  }
  const { id, row: before } = liveRow(ctx, table, rawId);
  const given = assignments(ctx, table, values, 'update');
  const row = before.slice();
  while (row.length < table.stored.length) row.push(null);
  for (const [slot, v] of given) row[slot] = v;
  const now = ctx.now().getTime();
  for (const [name, v] of [
    ['LastModifiedDate', now],
    ['LastModifiedById', ctx.user.id],
    ['SystemModstamp', now],
  ] as const) {
    const s = table.slot(name);
    if (s >= 0) row[s] = v;
  }
  deriveName(table, row);
  beforeWrite(ctx, table, row, before);
  checkRow(ctx, table, row, id, given.keys());
  table.rows.set(id, row);
  ctx.indexes.onWrite(table, id, before, row);
  ctx.changes.written(table, id, before, row);
  ctx.counters.updated++;
}

/** Upsert by external id (or Id): one match is updated, none inserted, several refused. */
export function upsertRow(
  ctx: OrgContext,
  table: Table,
  externalIdField: string,
  value: string,
  values: Readonly<Record<string, unknown>>,
): { id: string; created: boolean } {
  const f = table.field(externalIdField);
  if (!f) {
    throw new SalesforceError(
      'NOT_FOUND',
      `Provided external ID field does not exist or is not accessible: ${externalIdField}`,
      { statusCode: 404 },
    );
  }
  if (!f.externalId && !f.idLookup) {
    throw new SalesforceError(
      'INVALID_FIELD',
      `Field name provided, ${f.name} is not an External ID or indexed field for ${table.def.name}`,
      { fields: [f.name] },
    );
  }
  const rest = Object.fromEntries(
    Object.entries(values).filter(([k]) => k.toLowerCase() !== f.name.toLowerCase()),
  );
  if (f.name === 'Id') {
    if (value === '' || value === null || value === undefined)
      return { id: insertRow(ctx, table, rest), created: true };
    updateRow(ctx, table, value, rest);
    return { id: toId18(value)!, created: false };
  }
  const matches = ctx.indexes
    .lookup(table, table.slotOf(f.name), coerceInput(f, value))
    .filter((id) => !table.isDeleted(table.rows.get(id)!));
  if (matches.length > 1) {
    throw new SalesforceError(
      'DUPLICATE_EXTERNAL_ID',
      `${f.label}: more than one record found for external id field: [${matches.join(', ')}]`,
      { fields: [f.name], statusCode: 300 },
    );
  }
  if (matches.length === 1) {
    updateRow(ctx, table, matches[0]!, rest);
    return { id: matches[0]!, created: false };
  }
  return { id: insertRow(ctx, table, { ...rest, [f.name]: value }), created: true };
}
