import { describe, expect, it } from 'vitest';
import { exportObject } from '../../lambdas/core/backup/export-object.ts';
import { planFiles } from '../../lambdas/core/backup/files.ts';
import { planBackup } from '../../lambdas/core/backup/plan.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import type { BackupDeps } from '../../lambdas/core/backup/types.ts';
import { baseFields, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';

/** A store whose reads of one key fail as a store outage would, not as a missing object. */
class FailingReadStore extends MemoryStore {
  failing: RegExp | undefined;
  override async get(key: string): Promise<Uint8Array> {
    if (this.failing?.test(key)) throw new Error('the store did not answer');
    return super.get(key);
  }
}

describe('planning file downloads', () => {
  it('fails, rather than counting no API calls, when an object result cannot be read for the API share', async () => {
    const source = new FakeSource([
      {
        name: 'ContentVersion',
        fields: [
          ...baseFields,
          { name: 'Checksum', type: 'string' },
          { name: 'VersionData', type: 'base64' },
        ],
        rows: [
          {
            Id: '068000000000001AAA',
            Name: 'a',
            IsDeleted: 'false',
            SystemModstamp: '2026-01-01T00:00:00Z',
            Checksum: null,
          },
        ],
      },
      { name: 'Account', fields: baseFields, rows: [] },
    ]);
    source.setBlob('ContentVersion', '068000000000001AAA', 'body');
    const store = new FailingReadStore();
    const deps: BackupDeps = { store, source, clock: () => new Date(), sleep: async () => {} };
    const plan = await planBackup(
      deps,
      { org: 'acme', mode: 'full' },
      parseBackupSettings({ metadata: false }),
    );
    for (const object of ['Account', 'ContentVersion']) {
      await exportObject(deps, { org: 'acme', snapshotId: plan.snapshotId, object });
    }
    store.failing = /objects\/Account\/result\.json$/;
    await expect(planFiles(deps, { org: 'acme', snapshotId: plan.snapshotId })).rejects.toThrow(
      'the store did not answer',
    );
  });
});
