import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { ErasureImpossibleError } from '../../lambdas/core/erase/errors.ts';
import { removeEarlierVersions } from '../../lambdas/core/erase/execute.ts';
import { keysItRemovesFrom } from '../../lambdas/core/erase/locks.ts';
import { RemovalLog } from '../../lambdas/core/erase/removals.ts';
import { catalogKey, filesResultKey, manifestKey } from '../../lambdas/core/snapshot/keys.ts';
import type { ObjectVersion, VersionedStore } from '../../lambdas/core/store.ts';
import { MemoryStore } from '../backup/memory-store.ts';
import { keepingVersions } from './vault-scan.ts';

const removals = () => RemovalLog.of(new MemoryStore(), 'acme', 'e1');

/** Two versions of one key, the earlier of which S3 refuses to remove. */
function lockedAfterThePlan(errorName: string): VersionedStore {
  const versions: ObjectVersion[] = [
    { key: 'orgs/acme/catalog/x.json', versionId: 'v2', latest: true, bytes: 2, deleteMarker: false },
    { key: 'orgs/acme/catalog/x.json', versionId: 'v1', latest: false, bytes: 2, deleteMarker: false },
  ];
  return {
    location: 'memory://',
    async *listVersions() {
      yield* versions;
    },
    getVersion: async () => new Uint8Array(),
    replace: async (key) => ({ key, bytes: 0, sha256: '' }),
    versionLock: async () => ({ legalHold: false }),
    deleteVersion: async () => {
      throw Object.assign(new Error('forbidden by object lock'), { name: errorName });
    },
  };
}

describe('a version locked after the plan looked', () => {
  it('stops the erasure with what happened and what to do, naming the key and version', async () => {
    const removal = removeEarlierVersions(
      lockedAfterThePlan('AccessDenied'),
      'orgs/acme/catalog/x.json',
      removals(),
    );
    await expect(removal).rejects.toBeInstanceOf(ErasureImpossibleError);
    await expect(removal).rejects.toThrow(
      /Version v1 of orgs\/acme\/catalog\/x\.json could not be removed \(AccessDenied\).*Lift the lock.*start a new erase execution with the same request/,
    );
  });

  it('leaves other failures as they are', async () => {
    await expect(
      removeEarlierVersions(lockedAfterThePlan('SlowDown'), 'orgs/acme/catalog/x.json', removals()),
    ).rejects.toThrow(/forbidden by object lock/);
  });
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the keys whose locks an erasure checks', () => {
  it("count a snapshot's manifest and catalog entry as rewritten when one of its file lists is", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'erase-locks-'));
    dirs.push(dir);
    const store = keepingVersions(new LocalDirectoryStore(dir));
    const snapshot = '20261101T020000000Z-abcdef';
    const list = filesResultKey('acme', snapshot, 1);
    const report = 'reports/acme/20261101T030000000Z-diff.json';
    const keys = await keysItRemovesFrom(store, 'acme', [
      { key: list, kind: 'text' },
      { key: report, kind: 'text' },
    ]);
    // Every version of the manifest is checked: the erasure replaces its current one.
    expect(keys.rewritten).toEqual(
      [catalogKey('acme', snapshot), list, manifestKey('acme', snapshot), report].sort(),
    );
    expect(keys.kept).toEqual([]);
  });
});
