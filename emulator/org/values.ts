import { SalesforceError, type FieldDef } from './api.ts';
import { toId18 } from './ids.ts';

/**
 * Internal value of a stored field. Datetimes are epoch milliseconds (compact, compare as
 * numbers), dates `YYYY-MM-DD` and times `HH:MM:SS.sssZ` strings (compare as strings), blobs
 * bytes; everything else as the JSON value.
 */
export type Stored = string | number | boolean | Uint8Array | null;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?Z?$/i;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const BASE64_RE = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function notOfType(field: FieldDef, raw: unknown): SalesforceError {
  return new SalesforceError(
    'INVALID_TYPE_ON_FIELD_IN_RECORD',
    `${field.label}: value not of required type: ${String(raw)}`,
    { fields: [field.name] },
  );
}

const MIN_DATETIME = Date.UTC(1700, 0, 1);
const MAX_DATETIME = Date.UTC(4001, 0, 1) - 1;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Parses a date (`YYYY-MM-DD`, or the date part of a datetime) or returns undefined. */
export function parseDate(text: string): string | undefined {
  const m = DATE_RE.exec(text) ?? DATE_RE.exec(text.slice(0, 10));
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]! || (mo === 2 && d === 29 && !leap))
    return undefined;
  // Hand back the caller's string when it is already canonical, so equal dates can share storage.
  return text.length === 10 ? text : text.slice(0, 10);
}

/** Parses an ISO-8601 datetime (Salesforce accepts `+0000` and `Z`) to epoch ms, or undefined. */
export function parseDateTime(text: string): number | undefined {
  const m = DATETIME_RE.exec(text.trim());
  if (!m || parseDate(m[1]!) === undefined) return undefined;
  let zone = m[6] ?? 'Z';
  if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const iso = `${m[1]}T${m[2] ?? '00'}:${m[3] ?? '00'}:${m[4] ?? '00'}${(m[5] ?? '').slice(0, 4)}${zone.toUpperCase()}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

let lastMs = Number.NaN;
let lastText = '';

/** Formats epoch ms the way Salesforce REST and Bulk print datetimes. */
export function formatDateTime(ms: number): string {
  // Audit fields of a row usually share one instant; remembering the last answer halves the work.
  if (ms !== lastMs) {
    lastText = `${new Date(ms).toISOString().slice(0, 23)}+0000`;
    lastMs = ms;
  }
  return lastText;
}

function parseTime(text: string): string | undefined {
  const m = TIME_RE.exec(text.trim());
  if (!m) return undefined;
  const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? '0')];
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const frac = (m[4] ?? '.000').padEnd(4, '0');
  return `${m[1]}:${m[2]}:${m[3] ?? '00'}${frac}Z`;
}

function toNumber(field: FieldDef, raw: unknown): number {
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n)) throw notOfType(field, raw);
  const scale = field.type === 'int' || field.type === 'long' ? 0 : field.scale;
  const rounded =
    scale > 0 ? Number(n.toFixed(scale)) : field.precision > 0 || scale === 0 ? Math.round(n) : n;
  if ((field.type === 'int' || field.type === 'long') && !Number.isInteger(n)) throw notOfType(field, raw);
  const integerDigits = field.type === 'int' ? field.digits : field.precision - field.scale;
  if (integerDigits > 0 && Math.abs(Math.trunc(rounded)).toString().length > integerDigits) {
    throw new SalesforceError(
      'NUMBER_OUTSIDE_VALID_RANGE',
      `${field.label}: value outside of valid range on numeric field: ${String(raw)}`,
      { fields: [field.name] },
    );
  }
  return rounded;
}

function toBoolean(field: FieldDef, raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'number' && (raw === 0 || raw === 1)) return raw === 1;
  if (typeof raw === 'string') {
    const t = raw.trim().toLowerCase();
    if (t === 'true' || t === '1' || t === 'yes') return true;
    if (t === 'false' || t === '0' || t === 'no') return false;
  }
  throw notOfType(field, raw);
}

function checkLength(field: FieldDef, text: string): string {
  if (field.length > 0 && text.length > field.length) {
    throw new SalesforceError(
      'STRING_TOO_LONG',
      `${field.label}: data value too large: ${text.slice(0, 80)} (max length=${field.length})`,
      { fields: [field.name] },
    );
  }
  return text;
}

function checkPicklist(field: FieldDef, text: string): string {
  if (!field.restrictedPicklist) return text;
  const values = field.type === 'multipicklist' ? text.split(';') : [text];
  for (const v of values) {
    if (!field.picklistValues.some((p) => p.value === v && p.active)) {
      throw new SalesforceError(
        'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        `${field.label}: bad value for restricted picklist field: ${v}`,
        { fields: [field.name] },
      );
    }
  }
  return text;
}

function toBytes(field: FieldDef, raw: unknown): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string' && BASE64_RE.test(raw)) return Buffer.from(raw, 'base64');
  throw notOfType(field, typeof raw === 'string' ? raw.slice(0, 40) : raw);
}

/**
 * Checks and converts a value a client sent for a field into its stored form. Empty strings are
 * null, as Salesforce stores them. Reference existence is the org's job, not this function's.
 */
export function coerceInput(field: FieldDef, raw: unknown): Stored {
  if (raw === null || raw === undefined || raw === '') return null;
  switch (field.type) {
    case 'boolean':
      return toBoolean(field, raw);
    case 'int':
    case 'long':
    case 'double':
    case 'currency':
    case 'percent':
      return toNumber(field, raw);
    case 'date': {
      const d = typeof raw === 'string' ? parseDate(raw) : undefined;
      if (d === undefined) throw notOfType(field, raw);
      return d;
    }
    case 'datetime': {
      const ms =
        typeof raw === 'number' && Number.isFinite(raw)
          ? raw
          : raw instanceof Date
            ? raw.getTime()
            : typeof raw === 'string'
              ? parseDateTime(raw)
              : undefined;
      // Salesforce keeps datetimes between the years 1700 and 4000.
      if (ms === undefined || Number.isNaN(ms) || ms < MIN_DATETIME || ms > MAX_DATETIME)
        throw notOfType(field, raw);
      return ms;
    }
    case 'time': {
      const t = typeof raw === 'string' ? parseTime(raw) : undefined;
      if (t === undefined) throw notOfType(field, raw);
      return t;
    }
    case 'base64':
      return toBytes(field, raw);
    case 'id':
    case 'reference': {
      const id = typeof raw === 'string' ? toId18(raw.trim()) : undefined;
      if (id === undefined) {
        throw new SalesforceError(
          'MALFORMED_ID',
          `${field.label}: id value of incorrect type: ${String(raw)}`,
          {
            fields: [field.name],
          },
        );
      }
      return id;
    }
    case 'address':
    case 'location':
    case 'anyType':
      throw notOfType(field, raw);
    default: {
      if (typeof raw === 'object') throw notOfType(field, JSON.stringify(raw));
      const text = checkLength(field, String(raw));
      if (field.type === 'email' && !EMAIL_RE.test(text)) {
        throw new SalesforceError('INVALID_EMAIL_ADDRESS', `${field.label}: invalid email address: ${text}`, {
          fields: [field.name],
        });
      }
      if (field.type === 'picklist' || field.type === 'multipicklist') return checkPicklist(field, text);
      return text;
    }
  }
}

/** The stored value as the APIs print it (datetimes formatted; blobs are the caller's job). */
export function formatStored(field: FieldDef, value: Stored | undefined): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (field.type === 'datetime' && typeof value === 'number') return formatDateTime(value);
  if (value instanceof Uint8Array) return null;
  return value;
}
