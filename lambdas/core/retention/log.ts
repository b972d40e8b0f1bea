/**
 * The org's retention log, `orgs/<org>/retention/<time>-<execution>.json`: one entry per sweep
 * that expired snapshots or removes file bodies, written before it removes anything, naming every
 * snapshot it expired and its state then.
 */
import { RETENTION_LOG_FOLDER } from '../../../contract/workflow-contract.ts';
import { orgPrefix } from '../snapshot/keys.ts';
import type { BackupStore } from '../store.ts';
import { type RetentionDecision, startOfId } from './classify.ts';

/** The prefix of the org's retention log. */
export const retentionLogPrefix = (org: string): string => `${orgPrefix(org)}${RETENTION_LOG_FOLDER}`;

/** A sortable UTC stamp for log keys, such as 20261203T213500123Z. */
export function stampOf(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

/** A snapshot a sweep expired, as its log entry says. */
export interface ExpiredSnapshot {
  readonly snapshotId: string;
  /** What the snapshot was when the sweep classified it. */
  readonly state: RetentionDecision['state'];
  /** When that sweep began (its log key's time), in ms. */
  readonly sweptAt: number;
}

/** What the log says of some snapshots, and the entries that could not be read. */
export interface ExpiredInLogs {
  readonly expired: readonly ExpiredSnapshot[];
  /** Keys of entries that are not a log entry (not JSON, or a list that is not of decisions). */
  readonly unreadable: readonly string[];
}

/**
 * What the org's retention log says of the snapshots `ids`: each time a sweep expired one. A sweep
 * takes its time (the stamp of its log key) when it begins and expires only snapshots that started
 * before it, so only entries stamped after the oldest of them started can name one: the listing
 * starts there. `checkTime` is called between reads (it throws once time is up).
 */
export async function expiredInLogs(
  store: BackupStore,
  org: string,
  ids: readonly string[],
  checkTime: () => void = () => {},
): Promise<ExpiredInLogs> {
  if (ids.length === 0) return { expired: [], unreadable: [] };
  // An id that names no time (no backup writes one) leaves every entry to read.
  const start = Math.min(...ids.map((id) => startOfId(id).getTime()));
  const prefix = retentionLogPrefix(org);
  const from = Number.isNaN(start) ? {} : { afterKey: `${prefix}${stampOf(new Date(start))}` };
  const keys: string[] = [];
  let listed = 0;
  for await (const entry of store.list(prefix, from)) {
    if (++listed % 1000 === 0) checkTime();
    // A sweep's own records (its deferral, its removal list, its planning) sit in a folder beside
    // its entry.
    if (!entry.key.slice(prefix.length).includes('/')) keys.push(entry.key);
  }
  const wanted = new Set(ids);
  const expired: ExpiredSnapshot[] = [];
  const unreadable: string[] = [];
  for (const key of keys) {
    checkTime();
    // An entry's key begins with its sweep's stamp, as a snapshot id does.
    const sweptAt = startOfId(key.slice(prefix.length)).getTime();
    const decisions = decisionsIn(new TextDecoder().decode(await store.get(key)));
    if (Number.isNaN(sweptAt) || !decisions) {
      unreadable.push(key);
      continue;
    }
    for (const decision of decisions)
      if (wanted.has(decision.snapshotId)) expired.push({ ...decision, sweptAt });
  }
  return { expired, unreadable };
}

/**
 * The expired decisions of a log entry's text; none for a record without them (sweeps of earlier
 * versions wrote their deferral beside their entry, `<entry>-deferred.json`); undefined when it is
 * not JSON or its list is not a list of decisions.
 */
function decisionsIn(text: string): { snapshotId: string; state: RetentionDecision['state'] }[] | undefined {
  let log: unknown;
  try {
    log = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof log !== 'object' || log === null) return undefined;
  const list = (log as { expired?: unknown }).expired;
  if (list === undefined) return [];
  if (!Array.isArray(list)) return undefined;
  const out: { snapshotId: string; state: RetentionDecision['state'] }[] = [];
  for (const d of list as { snapshotId?: unknown; state?: unknown }[]) {
    if (typeof d?.snapshotId !== 'string') return undefined;
    const state = d.state === 'complete' || d.state === 'failed' ? d.state : 'unfinished';
    out.push({ snapshotId: d.snapshotId, state });
  }
  return out;
}
