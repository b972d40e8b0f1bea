/**
 * getDeleted and getUpdated, the data replication calls, over the org's rows and delete log,
 * with the rules of the SOAP API Developer Guide ("getDeleted()", "getUpdated()") and the REST
 * API Developer Guide ("sObject Get Deleted", "sObject Get Updated"); see docs/emulator-org.md.
 */
import { SalesforceError } from './api.ts';
import { type DeleteLog, RETENTION_MS } from './delete-log.ts';
import type { OrgStore, Table } from './store.ts';

/** Most ids one call may answer; more is `EXCEEDED_ID_LIMIT`. */
export const DEFAULT_REPLICATION_ID_LIMIT = 600_000;

/** How far back getUpdated may start: 30 days. */
export const UPDATED_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

const MINUTE_MS = 60_000;

/** What getDeleted answers (instants as Dates, UTC). */
export interface GetDeletedResult {
  /** The rows deleted in the window, oldest delete first. */
  readonly deletedRecords: ReadonlyArray<{ readonly id: string; readonly deletedDate: Date }>;
  /** Before this instant the object's log may be incomplete: later than the start, read it in full. */
  readonly earliestDateAvailable: Date;
  /** The end of the window, to the minute: the start of the next call. */
  readonly latestDateCovered: Date;
}

/** What getUpdated answers. */
export interface GetUpdatedResult {
  /** Live rows whose SystemModstamp falls in the window. */
  readonly ids: readonly string[];
  readonly latestDateCovered: Date;
}

/** What the calls read: the org's tables, its log, its clock and the id limit. */
export interface ReplicationSource {
  readonly store: OrgStore;
  readonly log: DeleteLog;
  readonly now: number;
  readonly idLimit: number;
}

function floorMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

function invalidDate(message: string): SalesforceError {
  return new SalesforceError('INVALID_REPLICATION_DATE', message);
}

/** The table of a replicateable object, or Salesforce's refusal. */
function replicable(store: OrgStore, objectName: string): Table {
  const table = store.find(objectName);
  if (!table) {
    throw new SalesforceError('INVALID_TYPE', `sObject type '${objectName}' is not supported.`);
  }
  if (!table.def.replicateable) {
    throw new SalesforceError('INVALID_TYPE', `sObject type ${table.def.name} is not replicable`);
  }
  return table;
}

/**
 * The window `[start, end)` a call covers, checked: `end` after now counts as now; the start must
 * come more than a minute before the end; both are then cut to the minute; the start may lie at
 * most `maxAgeMs` before now (cut to the minute).
 */
function window(
  source: ReplicationSource,
  start: Date,
  end: Date,
  maxAgeMs: number,
): { start: number; end: number; oldest: number } {
  for (const [name, value] of [
    ['startDate', start],
    ['endDate', end],
  ] as const) {
    if (Number.isNaN(value.getTime())) {
      throw new SalesforceError('INVALID_REPLICATION_DATE', `${name} is not a valid dateTime`);
    }
  }
  const clampedEnd = Math.min(end.getTime(), source.now);
  if (clampedEnd - start.getTime() <= MINUTE_MS) {
    throw invalidDate('startDate must be at least one minute greater than endDate');
  }
  const oldest = floorMinute(source.now) - maxAgeMs;
  const from = floorMinute(start.getTime());
  if (from < oldest) {
    throw invalidDate(
      `startDate must be no more than ${maxAgeMs / (24 * 60 * MINUTE_MS)} days before the current time; choose a later startDate`,
    );
  }
  return { start: from, end: floorMinute(clampedEnd), oldest };
}

function checkLimit(count: number, limit: number): void {
  if (count > limit) {
    throw new SalesforceError(
      'EXCEEDED_ID_LIMIT',
      `The window holds ${count} ids, more than the limit of ${limit}; choose start and end dates closer together`,
    );
  }
}

/** getDeleted: the rows of an object deleted in the window, from the delete log. */
export function getDeleted(
  source: ReplicationSource,
  objectName: string,
  start: Date,
  end: Date,
): GetDeletedResult {
  const table = replicable(source.store, objectName);
  const w = window(source, start, end, RETENTION_MS);
  const entries = source.log.deletedBetween(table.def.name, w.start, w.end);
  checkLimit(entries.length, source.idLimit);
  return {
    deletedRecords: entries.map((e) => ({ id: e.id, deletedDate: new Date(e.deletedDate) })),
    earliestDateAvailable: new Date(source.log.earliestDateAvailable(table.def.name, w.oldest)),
    latestDateCovered: new Date(w.end),
  };
}

/** getUpdated: the live rows of an object whose SystemModstamp (else LastModifiedDate) is in the window. */
export function getUpdated(
  source: ReplicationSource,
  objectName: string,
  start: Date,
  end: Date,
): GetUpdatedResult {
  const table = replicable(source.store, objectName);
  const w = window(source, start, end, UPDATED_WINDOW_MS);
  const slot = table.audit.systemModstamp >= 0 ? table.audit.systemModstamp : table.audit.lastModifiedDate;
  const ids: string[] = [];
  if (slot >= 0) {
    for (const [id, row] of table.rows) {
      const stamp = row[slot];
      if (typeof stamp !== 'number' || stamp < w.start || stamp >= w.end || table.isDeleted(row)) continue;
      ids.push(id);
    }
  }
  checkLimit(ids.length, source.idLimit);
  return { ids, latestDateCovered: new Date(w.end) };
}
