/**
 * The versions an erasure could not remove: under a legal hold, which nobody may bypass, or under a
 * retention its role may not bypass (COMPLIANCE, or GOVERNANCE on a vault whose erase role was not
 * given the bypass because the vault is not configured GOVERNANCE). The vault's configured mode is
 * refused earlier (input.ts); these are locks put on single versions, by hand or by another tool.
 */
import { journalManifestKeyOf } from '../continuous/journal.ts';
import { inTurns } from '../in-turns.ts';
import { catalogKey, catalogPrefix, FILE_LIST_KEY, manifestKey } from '../snapshot/keys.ts';
import type { VersionedStore } from '../store.ts';
import { ErasureImpossibleError } from './errors.ts';

/** One version in the way, and why. */
export interface LockedVersion {
  readonly key: string;
  readonly versionId: string;
  readonly why: string;
}

/** Listings and lock reads at once. */
const AT_ONCE = 8;

/** What the check is given of a plan's key. */
interface PlannedKeyRef {
  readonly key: string;
  readonly kind: 'part' | 'journal' | 'text' | 'other';
  readonly snapshotId?: string;
  /** False when its current version holds nothing of hers, which the erase step keeps. */
  readonly currentHolds?: boolean;
}

/**
 * Every key whose earlier versions the erasure removes (execute.ts), and so whose locks matter:
 * `rewritten`, every version (the current one is replaced first): the planned keys whose current
 * version holds her (stored files aside: never rewritten), the JSON records beside each planned
 * part, the manifest of each planned journal object, and the manifest and catalog entry of each
 * snapshot holding a planned part or file list (described again: a part an erasure that stopped
 * rewrote leaves them stale);
 * `kept`, only the versions before the current one: the planned keys whose current version holds
 * nothing of hers (the erase step finds nothing to rewrite in it), and the manifest and catalog
 * entry of every other snapshot, which the erasure reads again and rewrites only when they no
 * longer match. The erase
 * step finds the same keys its own way, as it describes them; a key it removes versions from that
 * this list lacks fails the erasure tests over a local vault ("has checked the lock of every key").
 */
export async function keysItRemovesFrom(
  store: VersionedStore,
  org: string,
  planned: readonly PlannedKeyRef[],
): Promise<{ rewritten: string[]; kept: string[] }> {
  const rewritten = new Set<string>();
  const kept = new Set<string>();
  const snapshots = new Set<string>();
  const folders = new Set<string>();
  for (const k of planned) {
    if (k.kind === 'other') continue;
    (k.currentHolds === false ? kept : rewritten).add(k.key);
    // A file list the manifest names with its checksum: the manifest is described again.
    const list = FILE_LIST_KEY.exec(k.key);
    if (k.kind === 'text' && list) snapshots.add(list[1]!);
    if (k.kind === 'journal') rewritten.add(journalManifestKeyOf(k.key));
    if (k.kind === 'part') {
      folders.add(k.key.slice(0, k.key.lastIndexOf('/') + 1));
      if (k.snapshotId) snapshots.add(k.snapshotId);
    }
  }
  for (const folder of folders) {
    for await (const v of store.listVersions(folder)) {
      if (v.key.endsWith('.json') && !v.key.slice(folder.length).includes('/')) rewritten.add(v.key);
    }
  }
  for (const id of snapshots) {
    rewritten.add(manifestKey(org, id));
    rewritten.add(catalogKey(org, id));
  }
  for await (const v of store.listVersions(catalogPrefix(org))) {
    const id = v.key.slice(catalogPrefix(org).length).replace(/\.json$/, '');
    if (v.key.endsWith('.json') && !snapshots.has(id)) {
      kept.add(v.key);
      kept.add(manifestKey(org, id));
    }
  }
  // A key both lists name (a clean record beside a rewritten part) may have every version removed.
  return { rewritten: [...rewritten].sort(), kept: [...kept].filter((k) => !rewritten.has(k)).sort() };
}

/**
 * Every version the erasure would remove that is locked at `now`: of `rewritten` keys every
 * version, of `kept` keys all but the current one.
 */
export async function lockedVersions(
  store: VersionedStore,
  keys: { readonly rewritten: readonly string[]; readonly kept: readonly string[] },
  now: Date,
  bypassGovernance: boolean,
): Promise<LockedVersion[]> {
  const listed = await inTurns(
    [
      ...keys.rewritten.map((key) => ({ key, latest: true })),
      ...keys.kept.map((key) => ({ key, latest: false })),
    ],
    AT_ONCE,
    async ({ key, latest }) => {
      const versions: { key: string; versionId: string }[] = [];
      for await (const v of store.listVersions(key)) {
        // A delete marker holds no lock; a listing by prefix also names longer keys.
        if (v.key === key && !v.deleteMarker && (latest || !v.latest))
          versions.push({ key, versionId: v.versionId });
      }
      return versions;
    },
  );
  const found = await inTurns(listed.flat(), AT_ONCE, async ({ key, versionId }) => {
    const lock = await lockOf(store, key, versionId);
    const held = lock.retainUntil !== undefined && lock.retainUntil.getTime() > now.getTime();
    const until = lock.retainUntil?.toISOString();
    const why = lock.legalHold
      ? 'a legal hold is on'
      : held && lock.mode === 'COMPLIANCE'
        ? `COMPLIANCE retention until ${until}`
        : held && lock.mode === 'GOVERNANCE' && !bypassGovernance
          ? `GOVERNANCE retention until ${until}, which the erase role may bypass only on a vault configured GOVERNANCE`
          : undefined;
    return why ? { key, versionId, why } : undefined;
  });
  return found.filter((v): v is LockedVersion => v !== undefined);
}

/**
 * A version's lock, or the erasure's end when its role may not read it: a lock it cannot see would
 * pass for none, and the erasure would rewrite keys whose earlier versions it then cannot remove.
 */
async function lockOf(store: VersionedStore, key: string, versionId: string) {
  try {
    return await store.versionLock(key, versionId);
  } catch (error) {
    if (!/AccessDenied/.test((error as Error).name)) throw error;
    throw new ErasureImpossibleError(
      `The erase role may not read the Object Lock of ${key} version ${versionId} (${(error as Error).name}), so it cannot tell which versions it may remove. Nothing was written. Give the role s3:GetObjectRetention and s3:GetObjectLegalHold on the org's prefixes (the erase workflow as deployed has both; a policy or permissions boundary added since may deny them), then start the erasure again.`,
    );
  }
}
