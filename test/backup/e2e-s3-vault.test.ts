import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalBackup } from '../../cli/commands/backup.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { type Radosgw, radosgwOptedOut, startRadosgw, useRadosgwEnv } from '../support/radosgw.ts';
import { dumpRows, startSampleOrg, TEST_SETTINGS } from './e2e-support.ts';

// Skipped only when a developer opts out explicitly; a missing radosgw fails these tests.
describe.skipIf(radosgwOptedOut())('a backup into an S3 vault (radosgw)', () => {
  let rgw: Radosgw;
  let emu: RunningEmulator;
  let restoreEnv = () => {};

  beforeAll(async () => {
    rgw = await startRadosgw();
    // Handlers and the runner reach the bucket through the SDK's default credential chain, as in Lambda.
    restoreEnv = useRadosgwEnv(rgw);
    emu = await startSampleOrg('ebikes-lwc');
  }, 180_000);

  afterAll(async () => {
    await emu?.stop();
    await rgw?.stop();
    restoreEnv();
  });

  it('writes a complete snapshot that the point-in-time reader reads back from the bucket', async () => {
    const bucket = await rgw.createBucket('backup-e2e');
    const { summary } = await runLocalBackup({
      instanceUrl: emu.instanceUrl,
      accessToken: emu.accessToken,
      store: { s3: { bucket, endpoint: rgw.endpoint } },
      mode: 'full',
      org: 'ebikes',
      settings: TEST_SETTINGS,
      retryIntervalScale: 0,
    });
    expect(summary.status).toBe('complete');
    const store = new S3Store(rgw.storeOptions(bucket));
    const pit = await new SnapshotReader(store).pointInTime('ebikes', 'latest');
    const dump = await dumpRows(emu);
    const rows = new Set<string>();
    for await (const row of pit.rows('Product__c')) rows.add(row.id);
    expect([...rows].sort()).toEqual([...(dump.get('Product__c')?.keys() ?? [])].sort());
    expect(pit.metadataParts().length).toBeGreaterThan(0);
  }, 300_000);
});
