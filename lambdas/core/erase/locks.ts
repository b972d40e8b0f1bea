/**
 * The versions an erasure could not remove: under a legal hold, which nobody may bypass, or under a
 * retention its role may not bypass (COMPLIANCE, or GOVERNANCE on a vault whose erase role was not
 * given the bypass because the vault is not configured GOVERNANCE). The vault's configured mode is
 * refused earlier (input.ts); these are locks put on single versions, by hand or by another tool.
 */
import { inTurns } from '../in-turns.ts';
import type { VersionedStore } from '../store.ts';

/** One version in the way, and why. */
export interface LockedVersion {
  readonly key: string;
  readonly versionId: string;
  readonly why: string;
}

/** HeadObject requests at once: a plan's keys are checked in a few seconds without crowding S3. */
const AT_ONCE = 8;

/** Every version of `keys` that the erasure could not remove at `now`, in key order. */
export async function lockedVersions(
  store: VersionedStore,
  keys: readonly string[],
  now: Date,
  bypassGovernance: boolean,
): Promise<LockedVersion[]> {
  const versions: { key: string; versionId: string }[] = [];
  for (const key of keys) {
    for await (const v of store.listVersions(key)) {
      // A delete marker holds no lock; a listing by prefix also names longer keys.
      if (v.key === key && !v.deleteMarker) versions.push({ key, versionId: v.versionId });
    }
  }
  const found = await inTurns(versions, AT_ONCE, async ({ key, versionId }) => {
    const lock = await store.versionLock(key, versionId);
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
