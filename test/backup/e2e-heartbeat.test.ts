import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { runningBackups } from '../../lambdas/core/vault-lease.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { backup, freshStoreDir, startSampleOrg } from './e2e-support.ts';

describe('the heartbeat of a running backup, as the synthesized workflow writes it', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startSampleOrg('dreamhouse-lwc');
  }, 120_000);
  afterAll(async () => emu?.stop());

  it('is written by every step, the plan first and the finish before the catalog entry, and ends with the run', async () => {
    const dir = freshStoreDir();
    const writes: string[] = [];
    const original = LocalDirectoryStore.prototype.put;
    const spy = vi.spyOn(LocalDirectoryStore.prototype, 'put').mockImplementation(async function (
      this: LocalDirectoryStore,
      ...args
    ) {
      writes.push(args[0]);
      return original.apply(this, args);
    });
    try {
      const { summary } = await backup(emu, dir, 'full');
      expect(summary.status).toBe('complete');
    } finally {
      spy.mockRestore();
    }
    const snapshot = writes.find((k) => k.includes('/snapshots/'))!.split('/')[3]!;
    const heartbeats = writes.flatMap((k, i) =>
      k.includes(`/lease/backups/`) && k.includes(snapshot) ? [i] : [],
    );
    const firstSnapshotWrite = writes.findIndex((k) => k.includes(`/snapshots/${snapshot}/`));
    const firstPart = writes.findIndex((k) => k.includes(`/snapshots/${snapshot}/objects/`));
    const catalog = writes.findIndex((k) => k.includes(`/catalog/${snapshot}`));
    // The plan's heartbeat precedes every snapshot object; the export, files and metadata steps
    // write theirs as they go; the finish writes one before its catalog entry.
    expect(heartbeats[0]).toBeLessThan(firstSnapshotWrite);
    expect(heartbeats.filter((i) => i > firstPart).length).toBeGreaterThan(10);
    expect(heartbeats.filter((i) => i > firstPart && i < catalog).at(-1)).toBeGreaterThan(
      writes.findLastIndex((k, i) => i < catalog && k.includes(`/snapshots/${snapshot}/objects/`)),
    );
    // Its catalog entry ends it: no erasure waits for a finished run.
    expect(await runningBackups(new LocalDirectoryStore(dir), 'sample', Date.now())).toEqual([]);
  }, 180_000);
});
