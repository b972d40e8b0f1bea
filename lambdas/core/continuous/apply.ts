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

/** A value as the snapshot's CSV holds it. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** The record fields of an event's payload but those sent as diffs, flattened to snapshot columns. */
function columnsOf(payload: Record<string, unknown>, diffs: ReadonlyMap<string, string | null>): Row {
  const out: Row = {};
  for (const [name, value] of Object.entries(payload)) {
    if (name === 'ChangeEventHeader' || diffs.has(name)) continue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [component, inner] of Object.entries(value as Record<string, unknown>))
        out[componentColumn(name, component)] = cell(inner);
    } else out[name] = cell(value);
  }
  return out;
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

/** A field named in `nulledFields`, as its snapshot column (`Compound.Component` for a component). */
function nulledColumn(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? name : componentColumn(name.slice(0, dot), name.slice(dot + 1));
}

/**
 * Applies the events of `entity`, in the order given (journal order), to `rows` (id -> values),
 * changing the map in place. CREATE makes a row (columns the event does not carry stay empty),
 * UPDATE replaces the fields it carries and empties those it names null, a field it sends as a
 * diff (`diffFields`) rebuilt from the row's value and checked against the diff's hash, or the
 * record counted uncertain when it does not rebuild (see `patchDiffs`), DELETE puts the row in
 * the recycle bin, UNDELETE takes it out with the fields it carries. Gap and overflow events change
 * nothing and are reported: the next scheduled run reads those records again.
 */
export function applyChangeEvents(
  rows: Map<string, Row>,
  lines: readonly JournalLine[],
  entity: string,
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
    const fields = columnsOf(payload, diffs);
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
          // A row the snapshot already read (the journal starts before the snapshot's read, so
          // events it reflects are replayed): the event's fields over it, which ends the same.
          rows.set(id, { ...(before ?? {}), ...fields, Id: id, IsDeleted: 'false' });
          if (!patchDiffs(rows.get(id) as Row, before, diffs)) unsettle(id);
          break;
        case 'UPDATE': {
          if (!before) {
            unsettle(id);
            break;
          }
          const after: Row = { ...before, ...fields };
          for (const name of header.nulledFields ?? []) after[nulledColumn(name)] = '';
          if (!patchDiffs(after, before, diffs)) unsettle(id);
          rows.set(id, after);
          break;
        }
        case 'DELETE':
          if (before) rows.set(id, { ...before, IsDeleted: 'true' });
          else unsettle(id);
          break;
        case 'UNDELETE':
          rows.set(id, { ...(before ?? {}), ...fields, Id: id, IsDeleted: 'false' });
          if (!patchDiffs(rows.get(id) as Row, before, diffs)) unsettle(id);
          break;
        default:
          unsettle(id);
      }
    }
  }
  return { uncertain: unsettled, overflow, applied };
}
