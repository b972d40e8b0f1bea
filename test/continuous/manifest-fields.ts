/**
 * Sets the continuous-protection fields of a stored snapshot manifest (per object `continuous`,
 * top-level `journalBreak`) as a run of a continuous org records them, for tests of the reader.
 */
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { manifestKey } from '../../lambdas/core/snapshot/keys.ts';
import type { MemoryStore } from '../backup/memory-store.ts';

/** The newest complete snapshot's id. */
export async function newestSnapshotId(store: MemoryStore, org: string): Promise<string> {
  const entry = await new SnapshotReader(store).latestComplete(org);
  if (!entry) throw new Error(`org ${org} has no complete snapshot`);
  return entry.snapshotId;
}

/** Rewrites a stored manifest with the given objects continuous and, if given, a journal break. */
export function amendManifest(
  store: MemoryStore,
  org: string,
  snapshotId: string,
  fields: {
    readonly continuous?: readonly string[];
    readonly journalBreak?: { readonly from: string; readonly to: string; readonly reason: string };
  },
): void {
  const key = manifestKey(org, snapshotId);
  const stored = store.objects.get(key);
  if (!stored) throw new Error(`no manifest at ${key}`);
  const manifest = JSON.parse(new TextDecoder().decode(stored)) as {
    objects: { name: string; continuous?: boolean }[];
    journalBreak?: unknown;
  };
  for (const object of manifest.objects) object.continuous = (fields.continuous ?? []).includes(object.name);
  if (fields.journalBreak) manifest.journalBreak = fields.journalBreak;
  store.objects.set(key, new TextEncoder().encode(JSON.stringify(manifest)));
}
