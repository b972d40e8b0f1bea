import { describe, expect, it } from 'vitest';
import { searchRecords } from '../../cli/ui/queries.ts';
import type { PointInTime, SnapshotRow } from '../../lambdas/core/snapshot/reader.ts';
import { accountId } from './vault.ts';

/** A point in time of `count` accounts named "House n", counting the rows it is asked for. */
function accounts(count: number, onRow: (n: number) => void = () => {}) {
  const read = { rows: 0 };
  const pit = {
    target: { snapshotId: 'S1' },
    fields: () => [
      { name: 'Id', inCsv: true },
      { name: 'Name', inCsv: true },
    ],
    async *rows(): AsyncIterable<SnapshotRow> {
      for (let n = 1; n <= count; n++) {
        read.rows++;
        onRow(n);
        yield {
          id: accountId(n),
          deleted: false,
          values: { Id: accountId(n), Name: `House ${n}` },
          snapshotId: 'S1',
        };
      }
    },
  } as unknown as PointInTime;
  return { pit, read };
}

describe('record search', () => {
  it('counts every match when there are no more than the limit', async () => {
    const { pit, read } = accounts(100);
    const found = await searchRecords(pit, 'Account', { text: 'house 1', limit: 50 });
    // House 1, 10-19 and 100.
    expect(found).toMatchObject({ total: 12, more: false, snapshotId: 'S1', columns: ['Id', 'Name'] });
    expect(found.rows.map((r) => r.values.Name)).toContain('House 100');
    expect(read.rows).toBe(100);
  });

  it('stops reading at the first match past the limit, and says more rows match', async () => {
    const { pit, read } = accounts(10_000);
    const found = await searchRecords(pit, 'Account', { text: 'house', limit: 50 });
    expect(found.more).toBe(true);
    expect(found.total).toBe(50);
    expect(found.rows.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => accountId(i + 1)));
    expect(read.rows).toBe(51);
  });

  it('stops reading, and rejects, once the page that asked stops waiting', async () => {
    const gone = new AbortController();
    const { pit, read } = accounts(10_000, (n) => {
      if (n === 20) gone.abort();
    });
    await expect(
      searchRecords(pit, 'Account', { text: 'no such value', signal: gone.signal }),
    ).rejects.toThrow(/abort/i);
    expect(read.rows).toBe(20);
  });
});
