import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFaultSpec, type RunningEmulator } from '../../emulator/index.ts';
import { connect, raw, setFaults, start } from './server-support.ts';

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

describe('row-time fault specs', () => {
  it('parse a per-row duration, fractions of a millisecond included', () => {
    const spec = parseFaultSpec('collections:row-time=0.5ms, bulk-ingest:row-time=2ms');
    expect(spec.rules.map((r) => [r.pattern, r.kind, r.amount])).toEqual([
      ['collections', 'row-time', 0.5],
      ['bulk-ingest', 'row-time', 2],
    ]);
  });

  it('are refused without a duration, with an example', () => {
    expect(() => parseFaultSpec('collections:row-time')).toThrow(
      /row-time needs a duration, for example row-time=0.5ms/,
    );
  });
});

describe('the emulator spends row-time per row written', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await start();
  });
  afterAll(async () => emulator.stop());

  const collection = (n: number, prefix: string) => ({
    allOrNone: false,
    records: Array.from({ length: n }, (_, i) => ({
      attributes: { type: 'Account' },
      Name: `${prefix} ${i}`,
    })),
  });
  const insert = (n: number, prefix: string) =>
    raw(emulator, '/services/data/v62.0/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify(collection(n, prefix)),
    });

  it('delays a Collections insert by the rows it wrote, and a read not at all', async () => {
    await setFaults(emulator, 'collections:row-time=5ms,query:row-time=5ms');
    try {
      const slow = await timed(() => insert(100, 'Slow'));
      expect(slow).toBeGreaterThanOrEqual(500);
      const read = await timed(() =>
        raw(emulator, `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id FROM Account')}`),
      );
      expect(read).toBeLessThan(400);
    } finally {
      await setFaults(emulator, '');
    }
    expect(await timed(() => insert(100, 'Fast'))).toBeLessThan(400);
  });

  it('keeps a Bulk ingest job in progress for its rows times the row-time', async () => {
    await setFaults(emulator, 'bulk-ingest:row-time=4ms');
    try {
      const conn = connect(emulator);
      const rows = Array.from({ length: 150 }, (_, i) => `Bulk timed ${i}`).join('\n');
      const started = performance.now();
      const results = await conn.bulk2.loadAndWaitForResults({
        object: 'Account',
        operation: 'insert',
        input: `Name\n${rows}\n`,
        pollInterval: 10,
        pollTimeout: 10_000,
      });
      expect(results.successfulResults).toHaveLength(150);
      expect(performance.now() - started).toBeGreaterThanOrEqual(600);
    } finally {
      await setFaults(emulator, '');
    }
  });
});
