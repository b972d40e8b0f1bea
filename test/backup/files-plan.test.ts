import { describe, expect, it } from 'vitest';
import { exportObject } from '../../lambdas/core/backup/export-object.ts';
import { createHash } from 'node:crypto';
import { backupFiles, planFiles } from '../../lambdas/core/backup/files.ts';
import { filesReusedListKey } from '../../lambdas/core/snapshot/keys.ts';
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

/** A ContentVersion table of `count` files, each with its own checksum, and their bodies. */
function filesOrg(count: number): FakeSource {
  const rows = Array.from({ length: count }, (_, i) => ({
    Id: `068${String(i).padStart(12, '0')}AAA`,
    Name: `file-${i}`,
    IsDeleted: 'false',
    SystemModstamp: '2026-01-01T00:00:00Z',
    Checksum: createHash('md5').update(`body ${i}`).digest('hex'),
  }));
  const source = new FakeSource([
    {
      name: 'ContentVersion',
      fields: [...baseFields, { name: 'Checksum', type: 'string' }, { name: 'VersionData', type: 'base64' }],
      rows,
    },
  ]);
  for (const [i, row] of rows.entries()) source.setBlob('ContentVersion', row.Id, `body ${i}`);
  return source;
}

async function plannedRun(deps: BackupDeps): Promise<string> {
  const plan = await planBackup(
    deps,
    { org: 'acme', mode: 'full' },
    parseBackupSettings({ metadata: false }),
  );
  await exportObject(deps, { org: 'acme', snapshotId: plan.snapshotId, object: 'ContentVersion' });
  return plan.snapshotId;
}

describe('planning file downloads', () => {
  it('reuses every body the index knows, in the order of the rows, and fails when an index entry cannot be read', async () => {
    const source = filesOrg(100);
    const store = new FailingReadStore();
    const deps: BackupDeps = { store, source, clock: () => new Date(), sleep: async () => {} };
    // GIVEN the bodies of the 100 files stored by a first run
    const first = await plannedRun(deps);
    const planned = await planFiles(deps, { org: 'acme', snapshotId: first });
    expect(planned).toMatchObject({ toDownload: 100, reused: 0 });
    for (let batch = 1; batch <= planned.batches; batch++)
      await backupFiles(deps, { org: 'acme', snapshotId: first, batch });
    // WHEN a second run plans its files THEN it reuses them all, in the order of the rows
    const second = await plannedRun(deps);
    expect(await planFiles(deps, { org: 'acme', snapshotId: second })).toMatchObject({
      toDownload: 0,
      reused: 100,
    });
    const reused = JSON.parse(store.text(filesReusedListKey('acme', second, 1))) as { recordId: string }[];
    expect(reused.map((f) => f.recordId)).toEqual(source.object('ContentVersion').rows.map((r) => r.Id));
    // WHEN one index entry cannot be read THEN the plan fails with that error, not a download
    const third = await plannedRun(deps);
    store.failing = new RegExp(`files/index/md5-${source.object('ContentVersion').rows[57]!.Checksum}`);
    await expect(planFiles(deps, { org: 'acme', snapshotId: third })).rejects.toThrow(
      'the store did not answer',
    );
  });

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
