/**
 * The record fields of a change event, as Salesforce's Change Data Capture sends them in JSON:
 * no `Id` (the ids are in the header's `recordIds`), no `IsDeleted`, no `SystemModstamp`, no
 * formula fields and no binary fields; compound fields (addresses, geolocations, the Name of
 * people) nested with their component names; datetimes as ISO-8601 UTC text with milliseconds.
 * Sources are named in docs/emulator-cdc.md.
 */
import { createHash } from 'node:crypto';
import type { FieldDef } from '../api.ts';
import type { Row, Table } from '../store.ts';
import type { Stored } from '../values.ts';
import type { ChangeKind } from './capture.ts';
import { textDiff } from './text-diff.ts';

/** A field of the event: a plain one, or a compound with its component slots. */
type EventField =
  | { readonly kind: 'plain'; readonly name: string; readonly field: FieldDef; readonly slot: number }
  | {
      readonly kind: 'compound';
      readonly name: string;
      readonly parts: ReadonlyArray<{
        readonly key: string;
        readonly field: FieldDef;
        readonly slot: number;
      }>;
    };

const SKIPPED = new Set(['id', 'isdeleted', 'systemmodstamp']);
const PERSON_NAME_PARTS = ['Salutation', 'FirstName', 'MiddleName', 'LastName', 'Suffix'];
const COMPONENT =
  /(Street|City|StateCode|State|PostalCode|CountryCode|Country|GeocodeAccuracy|Latitude|Longitude)(__s)?$/;

const layouts = new WeakMap<Table, { defs: Table['def']; fields: EventField[]; schemaId: string }>();

/** Whether an object's Name is the compound of its people's name parts (Contact, Lead, User). */
function personName(table: Table): boolean {
  const name = table.field('Name');
  return !!name && !name.createable && table.slot('FirstName') >= 0 && table.slot('LastName') >= 0;
}

function layoutOf(table: Table): { fields: EventField[]; schemaId: string } {
  const cached = layouts.get(table);
  if (cached && cached.defs === table.def) return cached;
  const fields: EventField[] = [];
  const person = personName(table);
  for (const f of table.def.fields) {
    if (SKIPPED.has(f.name.toLowerCase()) || f.calculated || f.type === 'base64') continue;
    if (f.compoundFieldName) continue;
    if (person && PERSON_NAME_PARTS.includes(f.name)) continue;
    if (f.type === 'address' || f.type === 'location') {
      const parts = table.def.fields
        .filter((p) => p.compoundFieldName === f.name)
        .map((p) => ({ key: COMPONENT.exec(p.name)?.[1] ?? p.name, field: p, slot: table.slot(p.name) }))
        .filter((p) => p.slot >= 0);
      fields.push({ kind: 'compound', name: f.name, parts });
      continue;
    }
    if (person && f.name === 'Name') {
      const parts = PERSON_NAME_PARTS.flatMap((key) => {
        const p = table.field(key);
        return p ? [{ key, field: p, slot: table.slot(key) }] : [];
      });
      fields.push({ kind: 'compound', name: 'Name', parts });
      continue;
    }
    const slot = table.slot(f.name);
    if (slot >= 0) fields.push({ kind: 'plain', name: f.name, field: f, slot });
  }
  const shape = fields.map((f) => (f.kind === 'plain' ? f.name : `${f.name}(${f.parts.map((p) => p.key)})`));
  const schemaId = createHash('sha256')
    .update(`${table.def.name}:${shape.join(',')}`)
    .digest('base64url')
    .slice(0, 22);
  const layout = { defs: table.def, fields, schemaId };
  layouts.set(table, layout);
  return layout;
}

/** The schema id of an entity's change events: stable while its fields stay the same. */
export function schemaIdOf(table: Table): string {
  return layoutOf(table).schemaId;
}

/** A stored value as change events carry it. */
function eventValue(field: FieldDef, value: Stored | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (field.type === 'datetime' && typeof value === 'number') return new Date(value).toISOString();
  if (value instanceof Uint8Array) return null;
  return value;
}

/** A text value, or null for anything else. */
function textOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function same(a: Stored | undefined, b: Stored | undefined): boolean {
  return (a ?? null) === (b ?? null);
}

/** The record fields of one event and the header's field lists. */
export interface EventBody {
  readonly fields: Record<string, unknown>;
  readonly changedFields: string[];
  readonly nulledFields: string[];
  /** Long text fields of an UPDATE sent as a unified diff of their old value (text-diff.ts). */
  readonly diffFields: string[];
  /** Changes this record counts toward the overflow threshold. */
  readonly weight: number;
}

/** Every field, nulls included: what CREATE and UNDELETE carry. */
function allFields(fields: readonly EventField[], row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.kind === 'plain') {
      out[f.name] = eventValue(f.field, row[f.slot]);
      continue;
    }
    const nested: Record<string, unknown> = {};
    let any = false;
    for (const p of f.parts) {
      const v = eventValue(p.field, row[p.slot]);
      if (v !== null) any = true;
      nested[p.key] = v;
    }
    out[f.name] = any ? nested : null;
  }
  return out;
}

/** The changed fields of an update, with `LastModifiedDate` always among them. */
function changedFields(fields: readonly EventField[], before: Row, after: Row): EventBody {
  const out: Record<string, unknown> = {};
  const changed: string[] = [];
  const nulled: string[] = [];
  const diffed: string[] = [];
  for (const f of fields) {
    if (f.kind === 'plain') {
      const always = f.name === 'LastModifiedDate';
      if (!always && same(before[f.slot], after[f.slot])) continue;
      const v = eventValue(f.field, after[f.slot]);
      const diff = f.field.type === 'textarea' ? textDiff(textOf(before[f.slot]), textOf(v)) : null;
      out[f.name] = diff ?? v;
      changed.push(f.name);
      if (v === null) nulled.push(f.name);
      if (diff !== null) diffed.push(f.name);
      continue;
    }
    const nested: Record<string, unknown> = {};
    for (const p of f.parts) {
      if (same(before[p.slot], after[p.slot])) continue;
      const v = eventValue(p.field, after[p.slot]);
      nested[p.key] = v;
      changed.push(`${f.name}.${p.key}`);
      if (v === null) nulled.push(`${f.name}.${p.key}`);
    }
    if (Object.keys(nested).length > 0) out[f.name] = nested;
  }
  return {
    fields: out,
    changedFields: changed,
    nulledFields: nulled,
    diffFields: diffed,
    weight: changed.length,
  };
}

/** The body of a change event of `kind` for one record. */
export function eventBody(table: Table, kind: ChangeKind, before: Row | undefined, after: Row): EventBody {
  const { fields } = layoutOf(table);
  if (kind === 'UPDATE' && before) return changedFields(fields, before, after);
  const body = kind === 'DELETE' ? {} : allFields(fields, after);
  return { fields: body, changedFields: [], nulledFields: [], diffFields: [], weight: 1 };
}
