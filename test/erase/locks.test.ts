import { describe, expect, it } from 'vitest';
import { ErasureImpossibleError } from '../../lambdas/core/erase/errors.ts';
import { removeEarlierVersions } from '../../lambdas/core/erase/execute.ts';
import { RemovalLog } from '../../lambdas/core/erase/removals.ts';
import type { ObjectVersion, VersionedStore } from '../../lambdas/core/store.ts';
import { MemoryStore } from '../backup/memory-store.ts';

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
