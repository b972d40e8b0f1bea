/**
 * An object as of any instant: the newest complete snapshot finished by then, and the journal's
 * change events from that snapshot's watermark less its overlap up to the instant, replayed in
 * journal order (docs/continuous.md, "Point-in-time restore to any second"). The journal starts
 * before the snapshot's read, so some events the snapshot already reflects are replayed: in order,
 * they end in the same state.
 *
 * The journal is applied only when it can be trusted for the object over the whole window: the
 * base snapshot marks the object continuous, no overflow event of the object lies in the window
 * (nor one committed before it that reached the journal too late for the base), and no
 * snapshot records a journal break overlapping it. Otherwise the object's rows are the base
 * snapshot's, and the view says why.
 */
import type { SnapshotManifest } from '../snapshot/manifest.ts';
import { SnapshotReader } from '../snapshot/reader.ts';
import type { BackupStore } from '../store.ts';
import { applyChangeEvents } from './apply.ts';
import { type JournalLine, readJournal, rereadKind, rereadsSince } from './journal.ts';

/** A stretch of time the journal is not complete for, as a snapshot manifest records it. */
type JournalBreak = NonNullable<SnapshotManifest['journalBreak']>;

/** How far Salesforce's clock and the backup's may differ when judging what a snapshot read. */
export const CLOCK_ALLOWANCE_MS = 60_000;

/** Why the journal was not applied to an object: its rows are the base snapshot's. */
export type SnapshotOnlyCause =
  /** The base snapshot does not mark the object continuous (its change events were not relayed). */
  | { readonly kind: 'not-continuous' }
  /**
   * An overflow event (or a wildcard one) of the object, committed at `at`, lies in the window, or
   * was committed before it and received too late for the base to serve (see `rowsAtInstant`).
   */
  | { readonly kind: 'overflow'; readonly at: string }
  /** Snapshot `snapshotId` records a break of the journal that overlaps the window. */
  | ({ readonly kind: 'journal-break'; readonly snapshotId: string } & JournalBreak);

/** An object's rows as of an instant, and what the journal could not settle. */
export interface InstantView {
  /** The base snapshot. */
  readonly snapshotId: string;
  /** The base snapshot's watermark: its rows are as of then. */
  readonly watermark: string;
  /** The instant asked for (ISO). */
  readonly instant: string;
  /** Where the replayed journal starts. */
  readonly journalFrom: string;
  readonly rows: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Set when the journal was not applied: the rows are the base snapshot's, and this says why. */
  readonly snapshotOnly?: SnapshotOnlyCause;
  /**
   * Ids the applied journal could not settle (a gap event named them: one in the window, or one
   * committed before it that the journal received too late for the base), each with the
   * commit time of the first such event: the next scheduled backup reads them again. Empty when
   * snapshot only.
   */
  readonly uncertain: ReadonlyMap<string, string>;
  /** Change events replayed (0 when snapshot only). */
  readonly events: number;
}

/** The rows of `object` (recycle bin included) as of `instant`. */
export async function rowsAtInstant(
  store: BackupStore,
  org: string,
  object: string,
  instant: Date,
): Promise<InstantView> {
  const reader = new SnapshotReader(store);
  const pit = await reader.pointInTime(org, instant);
  const target = pit.target;
  const from = new Date(Date.parse(target.watermark) - target.overlapSeconds * 1000);
  const rows = new Map<string, Record<string, string>>();
  for await (const row of pit.rows(object, { includeDeleted: true })) rows.set(row.id, { ...row.values });
  const view = {
    snapshotId: target.snapshotId,
    watermark: target.watermark,
    instant: instant.toISOString(),
    journalFrom: from.toISOString(),
    rows,
  };
  const snapshotOnly = (cause: SnapshotOnlyCause): InstantView => ({
    ...view,
    snapshotOnly: cause,
    uncertain: new Map(),
    events: 0,
  });

  // Manifests written before continuous protection have no `continuous`: such objects are not.
  const entry = target.objects.find((o) => o.name === object);
  if (entry?.continuous !== true) {
    return snapshotOnly({ kind: 'not-continuous' });
  }
  const broken = await breakOverlapping(reader, org, target.snapshotId, from, instant);
  if (broken) return snapshotOnly(broken);
  // Gap, overflow and wildcard events the base snapshot settled (it read the object in full after
  // the journal received them) leave nothing uncertain; later ones do.
  const settled = entry?.journalSettled ? Date.parse(entry.journalSettled) : Number.NEGATIVE_INFINITY;
  const lines = (await readJournal(store, org, from, instant)).filter(
    (l) =>
      !(
        l.sort.entityName === object &&
        rereadKind(l.sort) !== undefined &&
        Date.parse(l.writer.receivedAt) <= settled
      ),
  );
  // Events committed before the window but received after the base's watermark: the base could
  // not serve them, and the replayed journal starts after them. Those received from the window's
  // start on are looked at too, as the next run's plan serves them: a writer records a reread
  // after it received the event, so one received just before the base was planned can have been
  // listed too late for it. One the base settled counts for nothing.
  const late = (await rereadsSince(store, org, from)).filter(
    (r) =>
      r.entityName === object &&
      Date.parse(r.receivedAt) > settled &&
      Date.parse(r.commitTimestamp) < from.getTime(),
  );
  const overflowAt = late.find((r) => r.kind === 'overflow')?.commitTimestamp ?? firstOverflow(lines, object);
  if (overflowAt) return snapshotOnly({ kind: 'overflow', at: overflowAt });
  // The base read every row after its watermark by the Lambda's clock; Salesforce's commit times
  // are another clock. Both are kept to the second by NTP: a minute's allowance is left, within
  // which a record the base lacks stays uncertain rather than gone.
  const types = new Map(pit.fields(object).map((f) => [f.name, f.type]));
  const outcome = applyChangeEvents(
    rows,
    lines,
    object,
    types,
    Date.parse(target.watermark) - CLOCK_ALLOWANCE_MS,
  );
  const uncertain = new Map(outcome.uncertain);
  for (const gap of late) {
    for (const id of gap.recordIds) {
      const known = uncertain.get(id);
      if (known === undefined || gap.commitTimestamp < known) uncertain.set(id, gap.commitTimestamp);
    }
  }
  return { ...view, uncertain, events: outcome.applied };
}

/**
 * The first journal break a complete snapshot records that overlaps [from, until]. The base's own
 * break is left out: that run was made full because of it, and read its rows after the break's
 * end. A run records a break ending no later than the run itself, so snapshots that finished
 * before `from` cannot hold one that reaches the window and are not read.
 */
async function breakOverlapping(
  reader: SnapshotReader,
  org: string,
  baseId: string,
  from: Date,
  until: Date,
): Promise<SnapshotOnlyCause | undefined> {
  for (const entry of await reader.catalog(org)) {
    if (entry.status !== 'complete' || entry.snapshotId === baseId) continue;
    if (Date.parse(entry.finishedAt) < from.getTime()) continue;
    // Gone when the retention sweep removed it since the catalog was read.
    const journalBreak = (await reader.manifestUnlessSwept(org, entry.snapshotId))?.journalBreak;
    if (!journalBreak) continue;
    if (Date.parse(journalBreak.from) <= until.getTime() && Date.parse(journalBreak.to) >= from.getTime()) {
      return { kind: 'journal-break', snapshotId: entry.snapshotId, ...journalBreak };
    }
  }
  return undefined;
}

/**
 * The commit time of the first overflow of `object` in the lines: a `GAP_OVERFLOW` event, or an
 * event whose record ids are a key prefix and a wildcard (`001*`), which names every record.
 */
function firstOverflow(lines: readonly JournalLine[], object: string): string | undefined {
  const line = lines.find((l) => l.sort.entityName === object && rereadKind(l.sort) === 'overflow');
  return line ? new Date(line.sort.commitTimestamp).toISOString() : undefined;
}
