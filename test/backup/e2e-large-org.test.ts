import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { apiCallsUsed, backup, freshStoreDir, latest } from './e2e-support.ts';

const PAYLOAD_LIMIT = 256 * 1024;
const HISTORY_LIMIT = 25_000;

describe('a backup of an org with 2,000 custom objects', () => {
  let emu: RunningEmulator;
  const dir = freshStoreDir();

  beforeAll(async () => {
    emu = await startEmulator({ generate: 'objects=2000,rows=2,files=0,seed=7' });
  }, 120_000);

  afterAll(async () => {
    await emu?.stop();
  });

  it('plans and runs within Step Functions payload and history limits, measured on the execution', async () => {
    const { summary } = await backup(emu, dir, 'full', {}, 32);
    expect(summary.status).toBe('complete');
    expect(summary.objects).toBeGreaterThanOrEqual(2000);
    expect(summary.metadataComponents).toBeGreaterThanOrEqual(2000);
    expect(summary.execution.withinLimits).toBe(true);
    expect(summary.execution.historyEvents).toBeLessThan(HISTORY_LIMIT / 100);
    expect(summary.execution.largestPayloadBytes).toBeLessThan(PAYLOAD_LIMIT / 10);
    const pit = await latest(dir);
    expect(pit.target.objects.filter((o) => o.status === 'exported').length).toBe(summary.objects);
    expect(pit.target.objects.reduce((n, o) => n + o.rows, 0)).toBe(summary.rows);
  }, 600_000);

  it('finds every object unchanged with batched counts and delete-log reads, 25 objects per API call', async () => {
    const before = (await apiCallsUsed(emu)).used;
    const { summary } = await backup(emu, dir, 'incremental');
    expect(summary.status).toBe('complete');
    expect(summary.rows).toBe(0);
    const spent = (await apiCallsUsed(emu)).used - before;
    // ContentDocumentLink cannot be counted without a filter: every incremental reads the
    // ContentDocument ids again (one call here) and queries it per batch of them (none, with no file).
    // And the delete log of every object that keeps one is read, 25 objects per Composite call.
    expect(spent).toBeLessThanOrEqual(2 * Math.ceil(summary.objects / 25) + 3 + 1);
  }, 300_000);
});
