/**
 * Applies journaled change events to an object's rows as a snapshot holds them (Bulk CSV text:
 * '' for null, 'true'/'false', ISO date-times), per docs/continuous.md, "Applying an event to a
 * row". Pure: the rows come from a point in time, the events from the journal, in journal order.
 */
import type { JournalLine } from './journal.ts';
import { resolveFieldDiff } from './unified-diff.ts';

/** What applying events could not settle: rows a gap event names, or the whole object after an overflow. */
export interface ApplyOutcome {
  /**
   * Ids whose state at the instant the journal cannot settle (a gap event named them, or an event
   * changed a row the snapshot did not hold), each with the commit time (ISO) of the first such event.
   */
  readonly uncertain: ReadonlyMap<string, string>;
  /** An overflow event: the object's state at the instant is not known from the journal. */
  readonly overflow: boolean;
  /** Events applied. */
  readonly applied: number;
}

type Row = Record<string, string>;

/** Header fields a change event carries besides the record's. */
interface Header {
  readonly entityName: string;
  readonly recordIds: readonly string[];
  readonly changeType: string;
  /** The fields an UPDATE changed, `LastModifiedDate` among them; compound components as `Name.LastName`. */
  readonly changedFields?: readonly string[];
  readonly nulledFields?: readonly string[];
  /** Long text fields whose value is a unified diff of the old value (unified-diff.ts). */
  readonly diffFields?: readonly string[];
}

/** The snapshot column of a compound field's component, as the Bulk API exports it. */
export function componentColumn(compound: string, component: string): string {
  // A geolocation field `Loc__c` is exported as `Loc__Latitude__s` and `Loc__Longitude__s`.
  if (compound.endsWith('__c')) return `${compound.slice(0, -1)}${component}__s`;
  // An address `BillingAddress` is exported as `BillingStreet`, `BillingCity`, ...; a standard
  // `Address` (of a Lead or a User) as `Street`, `City`, ...
  if (compound.endsWith('Address')) return `${compound.slice(0, -'Address'.length)}${component}`;
  // A person's `Name` is exported as its components: `FirstName`, `LastName`, `Salutation`.
  return component;
}

/**
 * The Salesforce type of each field of the object as the snapshot describes it (`datetime`,
 * `date`, `boolean`, ...), by field name: a component column (`BillingCity`) by its own name.
 */
export type FieldTypes = ReadonlyMap<string, string>;

const DAY_MS = 86_400_000;
/** The largest time a JavaScript Date holds, in ms either side of the epoch. */
const MAX_DATE_MS = 8.64e15;

/** Whether year, month and day name a day of the calendar (no 30 February). */
function calendarDay(year: number, month: number, day: number): boolean {
  const at = new Date(Date.UTC(year, month - 1, day));
  return at.getUTCFullYear() === year && at.getUTCMonth() === month - 1 && at.getUTCDate() === day;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z?$/;
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/** A date-time as the Bulk CSV holds it (`2026-12-03T10:05:09.123Z`): from epoch ms or ISO 8601 text. */
function dateTimeCell(value: unknown): string | undefined {
  if (typeof value === 'number')
    return Number.isInteger(value) && Math.abs(value) <= MAX_DATE_MS
      ? new Date(value).toISOString()
      : undefined;
  if (typeof value !== 'string') return undefined;
  const m = ISO_DATETIME.exec(value);
  if (!m || !calendarDay(Number(m[1]), Number(m[2]), Number(m[3]))) return undefined;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return undefined;
  const zone = m[8]!.length === 5 ? `${m[8]!.slice(0, 3)}:${m[8]!.slice(3)}` : m[8]!;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${(m[7] ?? '').slice(0, 4)}${zone}`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** A date as the Bulk CSV holds it (`2026-12-03`): from days since the epoch or `YYYY-MM-DD`. */
function dateCell(value: unknown): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || Math.abs(value * DAY_MS) > MAX_DATE_MS) return undefined;
    const iso = new Date(value * DAY_MS).toISOString();
    return /^\d{4}-/.test(iso) ? iso.slice(0, 10) : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const m = ISO_DATE.exec(value);
  return m && calendarDay(Number(m[1]), Number(m[2]), Number(m[3])) ? value : undefined;
}

/** A time as the Bulk CSV holds it (`10:05:09.123Z`): from ms since midnight or `HH:mm:ss[.SSS][Z]`. */
function timeCell(value: unknown): string | undefined {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value < DAY_MS
      ? `${new Date(value).toISOString().slice(11, 23)}Z`
      : undefined;
  if (typeof value !== 'string') return undefined;
  const m = ISO_TIME.exec(value);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3]) > 59) return undefined;
  return `${m[1]}:${m[2]}:${m[3]}${(m[4] ?? '.000').padEnd(4, '0')}Z`;
}

const NUMERIC = new Set(['int', 'long', 'double', 'currency', 'percent']);

/**
 * A value as the snapshot's CSV holds it, converted by the field's type: '' for null, date-times,
 * dates and times as the Bulk API prints them whether the event sent text or numbers (epoch
 * milliseconds, epoch days, milliseconds since midnight), booleans as `true`/`false`. Undefined
 * when the value is not one of the field's type: the caller keeps the row's value and counts the
 * record uncertain rather than write a wrong one. A field the snapshot does not describe takes
 * text as it is and numbers and booleans as their text.
 */
export function cellOf(value: unknown, type: string | undefined): string | undefined {
  if (value === null) return '';
  switch (type?.toLowerCase()) {
    case 'datetime':
      return dateTimeCell(value);
    case 'date':
      return dateCell(value);
    case 'time':
      return timeCell(value);
    case 'boolean':
      if (typeof value === 'boolean') return value ? 'true' : 'false';
      return value === 'true' || value === 'false' ? value : undefined;
    default:
      if (type && NUMERIC.has(type.toLowerCase())) {
        if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
        return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
          ? value
          : undefined;
      }
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return undefined;
  }
}

/** What an event carries for a column: its value, or nothing (the column is named but not sent). */
type Carried = { readonly value: unknown } | undefined;

const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/**
 * Every record field of a CREATE or UNDELETE payload but those sent as diffs, as snapshot columns
 * (compound fields split into their component columns), each the value the event carries for it.
 */
function carriedColumns(
  payload: Record<string, unknown>,
  diffs: ReadonlyMap<string, string | null>,
): Map<string, Carried> {
  const out = new Map<string, Carried>();
  for (const [name, value] of Object.entries(payload)) {
    if (name === 'ChangeEventHeader' || diffs.has(name)) continue;
    const compound = record(value);
    if (compound) {
      for (const [component, inner] of Object.entries(compound))
        out.set(componentColumn(name, component), { value: inner });
    } else out.set(name, { value });
  }
  return out;
}

/**
 * The columns an UPDATE changes: only those its header names in `changedFields` (components of a
 * compound as `BillingAddress.City`) and `nulledFields`, each with what the payload carries for
 * it. A payload that carries every field, unchanged ones null (the Pub/Sub API's and Apex's
 * shape), changes no column its header does not name. Fields sent as diffs are left to
 * `patchDiffs`.
 */
function changedColumns(
  payload: Record<string, unknown>,
  header: Header,
  diffs: ReadonlyMap<string, string | null>,
): Map<string, Carried> {
  const out = new Map<string, Carried>();
  const nulled = new Set(names(header.nulledFields));
  for (const name of new Set([...names(header.changedFields), ...nulled])) {
    if (diffs.has(name)) continue;
    if (!FIELD_NAME.test(name)) {
      // Not a field's name (a Pub/Sub bitmap such as `0x650004E0`): what it names is not known.
      out.set(name, undefined);
      continue;
    }
    const dot = name.indexOf('.');
    if (dot >= 0) {
      const compound = name.slice(0, dot);
      const component = name.slice(dot + 1);
      const outer = payload[compound];
      const column = componentColumn(compound, component);
      if (nulled.has(name) || outer === null) out.set(column, { value: null });
      else {
        const inner = record(outer);
        out.set(column, inner && component in inner ? { value: inner[component] } : undefined);
      }
      continue;
    }
    if (nulled.has(name)) {
      out.set(name, { value: null });
      continue;
    }
    const value = payload[name];
    const inner = record(value);
    if (inner) {
      // A compound named whole: each component it carries.
      for (const [component, v] of Object.entries(inner))
        out.set(componentColumn(name, component), { value: v });
    } else out.set(name, name in payload ? { value } : undefined);
  }
  return out;
}

/** A field's API name, or a compound's component (`BillingAddress.City`). */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$/;

/** The field names of a header list; anything else in it names no field. */
const names = (list: unknown): string[] =>
  Array.isArray(list) ? list.filter((n): n is string => typeof n === 'string') : [];

/**
 * Sets each column of `row` to its carried value converted by the field's type. A column whose
 * value is not carried or not of its type is left as it was (absent, so empty, on a new row), and
 * the result is false.
 */
function setColumns(row: Row, columns: ReadonlyMap<string, Carried>, types: FieldTypes): boolean {
  let settled = true;
  for (const [column, carried] of columns) {
    const text = carried === undefined ? undefined : cellOf(carried.value, types.get(column));
    if (text === undefined) settled = false;
    else row[column] = text;
  }
  return settled;
}

/**
 * The fields `diffFields` names, each with its diff: the field's value in a relayed (Pub/Sub
 * shaped) payload, or its `diff` member in the streaming (CometD) shape; null when it is neither.
 */
function diffsOf(payload: Record<string, unknown>, header: Header): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const name of header.diffFields ?? []) {
    const value = payload[name];
    const inner = value !== null && typeof value === 'object' ? (value as { diff?: unknown }).diff : value;
    out.set(name, typeof inner === 'string' ? inner : null);
  }
  return out;
}

/**
 * Sets each diffed field of `after` to the new value rebuilt from the row's value before the
 * event. A field whose diff does not rebuild a value with the diff's hash keeps its value before
 * the event, and the result is false: the record is uncertain, never given a wrong value.
 */
function patchDiffs(after: Row, before: Row | undefined, diffs: ReadonlyMap<string, string | null>): boolean {
  let settled = true;
  for (const [name, diff] of diffs) {
    const current = before?.[name] ?? '';
    const resolved = diff === null ? null : resolveFieldDiff(current, diff);
    if (resolved && resolved.kind !== 'unresolved') {
      after[name] = resolved.value;
      continue;
    }
    after[name] = current;
    settled = false;
  }
  return settled;
}

/**
 * Applies the events of `entity`, in the order given (journal order), to `rows` (id -> values),
 * changing the map in place, each value converted by its field's type in `types` (see `cellOf`).
 * CREATE makes a row (columns the event does not carry stay empty); UPDATE sets only the fields
 * its header names in `changedFields`, `nulledFields` and `diffFields`, a field sent as a diff
 * rebuilt from the row's value and checked against the diff's hash (see `patchDiffs`); DELETE
 * puts the row in the recycle bin; UNDELETE takes it out with the fields it carries. A record
 * whose event names a field it does not carry, carries a value not of the field's type, sends a
 * diff that does not rebuild, or is an UPDATE without a `changedFields` list keeps those values it
 * had and is counted uncertain: never given a wrong value. Gap and overflow events change nothing
 * and are reported: the next scheduled run reads those records again.
 */
export function applyChangeEvents(
  rows: Map<string, Row>,
  lines: readonly JournalLine[],
  entity: string,
  /** The object's field types as the base snapshot describes them. */
  types: FieldTypes,
  /**
   * The base snapshot's watermark (ms): it read every row after this, so events committed before it
   * are already in `rows`, replayed only to be safe. A record such an event names that `rows` lacks
   * was gone by the read (hard deleted or purged): it stays gone, and is not uncertain.
   */
  readAfter = Number.NEGATIVE_INFINITY,
): ApplyOutcome {
  const unsettled = new Map<string, string>();
  let overflow = false;
  let applied = 0;
  for (const line of lines) {
    if (line.sort.entityName !== entity) continue;
    const committed = new Date(line.sort.commitTimestamp).toISOString();
    const unsettle = (id: string): void => {
      if (!unsettled.has(id)) unsettled.set(id, committed);
    };
    const payload = (line.event as { detail: { payload: Record<string, unknown> } }).detail.payload;
    const header = payload.ChangeEventHeader as Header;
    const diffs = diffsOf(payload, header);
    applied++;
    if (header.changeType === 'GAP_OVERFLOW') {
      overflow = true;
      continue;
    }
    if (header.changeType.startsWith('GAP_')) {
      for (const id of header.recordIds) unsettle(id);
      continue;
    }
    const beforeRead = line.sort.commitTimestamp < readAfter;
    for (const id of header.recordIds) {
      const before = rows.get(id);
      if (beforeRead && !before) continue;
      switch (header.changeType) {
        case 'CREATE':
        case 'UNDELETE': {
          // Both carry every field. A CREATE of a row the snapshot already read (the journal
          // starts before the snapshot's read, so events it reflects are replayed): the event's
          // fields over it, which ends the same.
          const after: Row = { ...(before ?? {}) };
          const settled = setColumns(after, carriedColumns(payload, diffs), types);
          after.Id = id;
          after.IsDeleted = 'false';
          if (!patchDiffs(after, before, diffs) || !settled) unsettle(id);
          rows.set(id, after);
          break;
        }
        case 'UPDATE': {
          // Without the list of changed fields, which of the payload's fields changed is not known.
          if (!before || !Array.isArray(header.changedFields)) {
            unsettle(id);
            break;
          }
          const after: Row = { ...before };
          const settled = setColumns(after, changedColumns(payload, header, diffs), types);
          if (!patchDiffs(after, before, diffs) || !settled) unsettle(id);
          rows.set(id, after);
          break;
        }
        case 'DELETE':
          if (before) rows.set(id, { ...before, IsDeleted: 'true' });
          else unsettle(id);
          break;
        default:
          unsettle(id);
      }
    }
  }
  return { uncertain: unsettled, overflow, applied };
}
