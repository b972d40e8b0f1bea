import { describe, expect, it } from 'vitest';
import { existingEntry, writeErasureStarted } from '../../lambdas/core/erase/finish.ts';
import { MemoryStore } from '../restore/fakes.ts';

describe("an erasure's log entry", () => {
  it('is found by its own execution only, never by one whose name ends the same way', async () => {
    const store = new MemoryStore();
    const started = (execution: string, startedAt: string) =>
      writeErasureStarted(store, {
        formatVersion: 1,
        org: 'acme',
        execution,
        status: 'started',
        startedAt,
        requestedBy: 'dpo@example.com',
        ids: ['003000000000001AAA'],
      } as Parameters<typeof writeErasureStarted>[1]);
    const retry = await started('retry-2', '2026-12-04T10:00:00.000Z');
    expect(retry).toBe('orgs/acme/erasures/log/20261204T100000000Z-retry-2.json');
    expect(await existingEntry(store, 'acme', '2')).toBeUndefined();
    const own = await started('2', '2026-12-04T11:00:00.000Z');
    expect(own).toBe('orgs/acme/erasures/log/20261204T110000000Z-2.json');
    expect((await existingEntry(store, 'acme', '2'))?.key).toBe(own);
    expect((await existingEntry(store, 'acme', 'retry-2'))?.key).toBe(retry);
  });
});
