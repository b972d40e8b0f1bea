/**
 * A record hard deleted between a full and an incremental snapshot: the incremental holds no row
 * for it, only the delete log's tombstone, and the toolkit reads that as hard-deleted / gone.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { liveIds } from '../../cli/commands/demo-org.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { diffSnapshots, recordHistory } from '../../lambdas/core/insight/index.ts';
import { backup, freshStoreDir, pointInTimeOf, startSampleOrg } from '../backup/e2e-support.ts';
import { OrgWriter } from '../support/org-writer.ts';

let emu: RunningEmulator | undefined;
// The delete log answers by whole minutes up to the minute of the call: the clock moves on two
// minutes after the delete so the incremental's log lists it. Only Date is faked, and it advances
// with real time, so the org and the backup agree on "now".
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
});
afterAll(async () => {
  await emu?.stop();
  vi.useRealTimers();
});

describe('a hard delete an incremental learns from the delete log', () => {
  it('is hard-deleted in the history and gone in the diff', async () => {
    emu = await startSampleOrg('dreamhouse-lwc');
    const dir = freshStoreDir();
    const full = (await backup(emu, dir, 'full')).summary.snapshotId!;
    const [id] = (await liveIds(emu, 'Broker__c')).sort();
    vi.setSystemTime(Date.now() + 60_000);
    await new OrgWriter(emu).hardDelete('Broker__c', [id!]);
    vi.setSystemTime(Date.now() + 120_000);
    const incremental = (await backup(emu, dir, 'incremental')).summary.snapshotId!;
    const store = new LocalDirectoryStore(dir);
    const manifest = await pointInTimeOf(dir, incremental);
    expect(manifest.target.mode).toBe('incremental');
    expect(manifest.target.objects.find((o) => o.name === 'Broker__c')?.tombstones).toBeDefined();

    const history = await recordHistory(store, 'sample', 'Broker__c', id!);
    expect(history.versions.map((v) => [v.snapshotId, v.event])).toEqual([
      [full, 'created'],
      [incremental, 'hard-deleted'],
    ]);
    const diff = await diffSnapshots(store, 'sample', full, incremental, { object: 'Broker__c' });
    expect(diff.objects[0]!.gone).toEqual({ count: 1, sample: [id], truncated: false });
  }, 120_000);
});
