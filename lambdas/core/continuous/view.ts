/**
 * An object as of any instant: the newest complete snapshot finished by then, and the journal's
 * change events from that snapshot's watermark less its overlap up to the instant, replayed in
 * journal order (docs/continuous.md, "Point-in-time restore to any second"). The journal starts
 * before the snapshot's read, so some events the snapshot already reflects are replayed: in order,
 * they end in the same state.
 */
import { SnapshotReader } from '../snapshot/reader.ts';
import type { BackupStore } from '../store.ts';
import { applyChangeEvents } from './apply.ts';
import { readJournal } from './journal.ts';

/** An object's rows as of an instant, and what the journal could not settle. */
export interface InstantView {
  readonly snapshotId: string;
  /** Where the replayed journal starts. */
  readonly journalFrom: string;
  readonly rows: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Ids a gap event named: the next scheduled backup reads them again. */
  readonly uncertain: ReadonlySet<string>;
  /** An overflow event: the object as a whole is known only from the next backup on. */
  readonly overflow: boolean;
  /** Change events replayed. */
  readonly events: number;
}

/** The rows of `object` (recycle bin included) as of `instant`. */
export async function rowsAtInstant(
  store: BackupStore,
  org: string,
  object: string,
  instant: Date,
): Promise<InstantView> {
  const pit = await new SnapshotReader(store).pointInTime(org, instant);
  const rows = new Map<string, Record<string, string>>();
  for await (const row of pit.rows(object, { includeDeleted: true })) rows.set(row.id, { ...row.values });
  const target = pit.target;
  const from = new Date(Date.parse(target.watermark) - target.overlapSeconds * 1000);
  const lines = await readJournal(store, org, from, instant);
  const outcome = applyChangeEvents(rows, lines, object);
  return {
    snapshotId: target.snapshotId,
    journalFrom: from.toISOString(),
    rows,
    uncertain: outcome.uncertain,
    overflow: outcome.overflow,
    events: outcome.applied,
  };
}
