import type { FieldInfo, Row, WriteRow } from './model.ts';

const NUMBER_TYPES = new Set(['int', 'long', 'double', 'currency', 'percent']);

/** Turns a snapshot's text value into the JSON value a write sends for this field type. */
export function toWriteValue(
  type: string,
  value: string | null | undefined,
): string | number | boolean | null {
  if (value === null || value === undefined || value === '') return null;
  if (type === 'boolean') return value === 'true' || value === '1';
  if (NUMBER_TYPES.has(type)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  return value;
}

/** Turns a value read from the live org (JSON) into the snapshot's text form. */
export function toText(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * A comparable form of a value: numbers by value, booleans as true/false, date-times as epoch
 * milliseconds, ids by their 15-character case-sensitive form, so the same value written two
 * ways (975000 and 975000.0, +0000 and Z, 15 and 18 characters) compares equal.
 */
export function comparable(type: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  if (type === 'boolean') return value === 'true' || value === '1' ? 'true' : 'false';
  if (NUMBER_TYPES.has(type)) {
    const n = Number(value);
    return Number.isFinite(n) ? String(n) : value;
  }
  if (type === 'datetime') {
    const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    return Number.isNaN(ms) ? value : String(ms);
  }
  if (type === 'id' || type === 'reference') return value.length === 18 ? value.slice(0, 15) : value;
  return value;
}

/** True when two text values mean the same for this field type. */
export function sameValue(type: string, a: string | null | undefined, b: string | null | undefined): boolean {
  return comparable(type, a) === comparable(type, b);
}

/** The 15-character form of an id, which is how the restore keys its maps. */
export function idKey(id: string): string {
  return id.length === 18 ? id.slice(0, 15) : id;
}

/** Builds a write row from snapshot text values for the given fields. */
export function writeRow(
  fields: readonly FieldInfo[],
  row: Row,
  extra: Record<string, string> = {},
): WriteRow {
  const out: Record<string, string | number | boolean | null> = { ...extra };
  for (const f of fields) out[f.name] = toWriteValue(f.type, row[f.name]);
  return out;
}
