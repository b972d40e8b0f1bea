import { describe, expect, it } from 'vitest';
import { removeEarlierVersions } from '../../lambdas/core/erase/execute.ts';
import { RemovalLog, removedVersionsPrefix } from '../../lambdas/core/erase/removals.ts';
import type { ObjectVersion, VersionedStore } from '../../lambdas/core/store.ts';
import { MemoryStore } from '../backup/memory-store.ts';

const KEY = 'orgs/acme/catalog/x.json';

/** One key's versions, newest first, with a sweep's delete marker between two bodies. */
function versionsWithAMarker(removed: string[]): VersionedStore {
  const versions: ObjectVersion[] = [
    { key: KEY, versionId: 'v3', latest: true, bytes: 2, deleteMarker: false },
    { key: KEY, versionId: 'm2', latest: false, bytes: 0, deleteMarker: true },
    { key: KEY, versionId: 'v1', latest: false, bytes: 2, deleteMarker: false },
    // A longer key the listing by prefix names too.
    { key: `${KEY}.bak`, versionId: 'w1', latest: false, bytes: 2, deleteMarker: false },
  ];
  return {
    location: 'memory://',
    async *listVersions() {
      yield* versions.filter((v) => !removed.includes(`${v.key} ${v.versionId}`));
    },
    getVersion: async () => new Uint8Array(),
    replace: async (key) => ({ key, bytes: 0, sha256: '' }),
    versionLock: async () => ({ legalHold: false }),
    deleteVersion: async (key, versionId) => {
      removed.push(`${key} ${versionId}`);
    },
  };
}

describe('the list of versions an erasure removes', () => {
  it('names every earlier version of the key before it goes, but delete markers, which hold no data', async () => {
    const store = new MemoryStore();
    const removed: string[] = [];
    const log = RemovalLog.of(store, 'acme', 'e1');
    expect(await removeEarlierVersions(versionsWithAMarker(removed), KEY, log)).toBe(2);
    expect(removed).toEqual([`${KEY} m2`, `${KEY} v1`]);
    const records: unknown[] = [];
    for await (const { key } of store.list(removedVersionsPrefix('acme', 'e1')))
      records.push(JSON.parse(store.text(key)));
    expect(records).toEqual([{ key: KEY, versionIds: ['v1'] }]);
    // Run again (after a stop), nothing is left to remove and nothing more is listed.
    expect(await removeEarlierVersions(versionsWithAMarker(removed), KEY, log)).toBe(0);
    let count = 0;
    for await (const _ of store.list(removedVersionsPrefix('acme', 'e1'))) count++;
    expect(count).toBe(1);
  });
});
