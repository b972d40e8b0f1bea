/**
 * The org's retention log, `orgs/<org>/retention/<time>-<execution>.json`: one entry per sweep
 * that expired something, written before it removes anything, naming every snapshot it expired.
 */
import { RETENTION_LOG_FOLDER } from '../../../contract/workflow-contract.ts';
import { orgPrefix } from '../snapshot/keys.ts';
import type { BackupStore } from '../store.ts';
import { startOfId } from './classify.ts';

/** The prefix of the org's retention log. */
export const retentionLogPrefix = (org: string): string => `${orgPrefix(org)}${RETENTION_LOG_FOLDER}`;

/** A sortable UTC stamp for log keys, such as 20261203T213500123Z. */
export function stampOf(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

/**
 * The snapshots among `ids` that a sweep expired. A sweep classifies only what the catalog holds,
 * after its log's time, so only logs written after the oldest of them started can name one: only
 * those are read. `checkTime` is called between reads (it throws once time is up).
 */
export async function expiredInLogs(
  store: BackupStore,
  org: string,
  ids: readonly string[],
  checkTime: () => void = () => {},
): Promise<string[]> {
  if (ids.length === 0) return [];
  // An id that names no time (no backup writes one) leaves every log to read.
  const start = Math.min(...ids.map((id) => startOfId(id).getTime()));
  const oldest = Number.isNaN(start) ? '' : stampOf(new Date(start));
  const wanted = new Set(ids);
  const found = new Set<string>();
  const prefix = retentionLogPrefix(org);
  let listed = 0;
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) {
    if (++listed % 1000 === 0) checkTime();
    keys.push(entry.key);
  }
  for (const key of keys) {
    // A sweep's own records (its deferral, its removal list, its planning) sit in a folder beside
    // its entry; sweeps of earlier versions wrote their deferral beside it (<entry>-deferred.json),
    // which names no expired snapshot.
    const name = key.slice(prefix.length);
    if (name < oldest || name.includes('/')) continue;
    checkTime();
    const log = JSON.parse(new TextDecoder().decode(await store.get(key))) as {
      expired?: readonly { snapshotId?: unknown }[];
    };
    if (!Array.isArray(log.expired)) continue;
    for (const d of log.expired) if (wanted.has(d.snapshotId as string)) found.add(d.snapshotId as string);
  }
  return [...found];
}
