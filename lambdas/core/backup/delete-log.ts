import { writeSidePart } from '../snapshot/writer.ts';
import type { SnapshotPart } from '../snapshot/manifest.ts';
import type { DeletedWindow, SalesforceSource } from '../salesforce.ts';
import type { BackupStore } from '../store.ts';

/**
 * Days Salesforce keeps its delete log: getDeleted answers for no more than 15 days before the
 * day of the call (SOAP API Developer Guide, "getDeleted()"; REST API Developer Guide, "sObject Get
 * Deleted").
 */
export const DELETE_LOG_DAYS = 15;

/**
 * getDeleted refuses a window whose start is not more than one minute before its end (SOAP API
 * Developer Guide, "getDeleted()", INVALID_REPLICATION_DATE); and it ignores seconds.
 */
const SHORTEST_WINDOW_MS = 2 * 60_000;

/** Why an incremental cannot learn of every delete since its base, or undefined when it can. */
export function replicationGap(baseSnapshotId: string, since: Date, started: Date): string | undefined {
  // The log is read from `since` (the base watermark less the overlap), down to the minute.
  const oldest = started.getTime() - DELETE_LOG_DAYS * 86_400_000;
  if (since.getTime() - 60_000 >= oldest) return undefined;
  const days = ((started.getTime() - since.getTime()) / 86_400_000).toFixed(1);
  return `the window since the last complete snapshot (${baseSnapshotId}) is ${days} days long, longer than the ${DELETE_LOG_DAYS} days Salesforce keeps its delete log, so an incremental could miss deletes`;
}

/** What the delete log says of one object over the run's window. */
export type DeleteLogReading =
  | { readonly kind: 'deleted'; readonly records: readonly { id: string; deletedDate: string }[] }
  /** The log cannot cover the window: the object is read in full instead, for this reason. */
  | { readonly kind: 'read-in-full'; readonly reason: string };

/**
 * Reads the delete log of each object over [start, end], 25 objects per call. A window with more
 * ids than Salesforce answers at once (EXCEEDED_ID_LIMIT) is read again in halves; one the log
 * cannot cover (INVALID_REPLICATION_DATE, or an `earliestDateAvailable` after the start: the
 * recycle bin was purged since) makes the object be read in full.
 */
export async function readDeleteLog(
  source: SalesforceSource,
  objects: readonly string[],
  start: Date,
  end: Date,
  /** Where the next run's window will start: the log must have covered up to there. */
  coverUntil: Date = end,
): Promise<Map<string, DeleteLogReading>> {
  const readings = new Map<string, DeleteLogReading>();
  const found = new Map<string, Map<string, string>>();
  let windows: DeletedWindow[] = objects.map((object) => ({
    object,
    start: start.toISOString(),
    end: end.toISOString(),
  }));
  while (windows.length > 0) {
    const next: DeletedWindow[] = [];
    const answers = await source.getDeleted(windows);
    for (const [index, answer] of answers.entries()) {
      const window = windows[index]!;
      if (readings.has(answer.object)) continue;
      if (answer.kind === 'refused') {
        const halves = answer.errorCode === 'EXCEEDED_ID_LIMIT' ? split(window) : undefined;
        if (halves) next.push(...halves);
        else readings.set(answer.object, { kind: 'read-in-full', reason: refusalReason(answer.errorCode) });
        continue;
      }
      // Salesforce covers a window only up to `latestDateCovered` (transactions still open at its
      // end are left for the next call); what the next run's window will not reach is read in full.
      if (
        window.end === end.toISOString() &&
        new Date(answer.latestDateCovered).getTime() < coverUntil.getTime()
      ) {
        readings.set(answer.object, {
          kind: 'read-in-full',
          reason: `Salesforce's delete log of ${answer.object} covers the window only up to ${answer.latestDateCovered}, before ${coverUntil.toISOString()} where the next run's window starts`,
        });
        continue;
      }
      if (new Date(answer.earliestDateAvailable).getTime() > new Date(window.start).getTime()) {
        readings.set(answer.object, {
          kind: 'read-in-full',
          reason: `Salesforce's delete log of ${answer.object} starts at ${answer.earliestDateAvailable}, after the window's start ${window.start} (the recycle bin was emptied or purged since): deletes before then are not listed`,
        });
        continue;
      }
      const ids = found.get(answer.object) ?? new Map<string, string>();
      for (const record of answer.records) ids.set(record.id, record.deletedDate);
      found.set(answer.object, ids);
    }
    windows = next;
  }
  for (const object of objects) {
    if (readings.has(object)) continue;
    const ids = found.get(object) ?? new Map<string, string>();
    readings.set(object, {
      kind: 'deleted',
      records: [...ids].map(([id, deletedDate]) => ({ id, deletedDate })),
    });
  }
  return readings;
}

function split(window: DeletedWindow): DeletedWindow[] | undefined {
  const from = new Date(window.start).getTime();
  const to = new Date(window.end).getTime();
  if (to - from < 2 * SHORTEST_WINDOW_MS) return undefined;
  // Halves meet on a whole minute, as Salesforce reads the window; the overlap only repeats ids.
  const middle = new Date(Math.floor((from + (to - from) / 2) / 60_000) * 60_000).toISOString();
  return [
    { object: window.object, start: window.start, end: middle },
    { object: window.object, start: middle, end: window.end },
  ];
}

function refusalReason(errorCode: string): string {
  if (errorCode === 'EXCEEDED_ID_LIMIT')
    return 'more rows were deleted than Salesforce lists at once (EXCEEDED_ID_LIMIT), even in a window of a few minutes';
  if (errorCode === 'INVALID_REPLICATION_DATE')
    return "Salesforce's delete log does not cover the window since the last snapshot (INVALID_REPLICATION_DATE)";
  return `Salesforce refused to read the object's delete log (${errorCode}); check that the integration user may read the object and that it is replicable`;
}

/**
 * The start of the delete-log window: `since`, made at least a few minutes long, down to the whole
 * minute (Salesforce reads the log's windows in whole minutes).
 */
export function deleteLogStart(since: Date, end: Date): Date {
  const start = Math.min(since.getTime(), end.getTime() - SHORTEST_WINDOW_MS);
  return new Date(Math.floor(start / 60_000) * 60_000);
}

/** Writes an object's tombstones (Id, DeletedDate) as one gzip CSV part of the snapshot. */
export function writeTombstones(
  store: BackupStore,
  org: string,
  snapshotId: string,
  object: string,
  records: readonly { id: string; deletedDate: string }[],
  random?: () => number,
): Promise<SnapshotPart> {
  return writeSidePart(
    store,
    { org, snapshotId, object, kind: 'tombstones' },
    ['Id', 'DeletedDate'],
    records.map((r) => ({ Id: r.id, DeletedDate: r.deletedDate })),
    random,
  );
}
