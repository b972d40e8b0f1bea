import { describe, expect, it } from 'vitest';
import { listSnapshots } from '../../lambdas/core/insight/list.ts';
import { catalogKey, catalogPrefix, manifestKey } from '../../lambdas/core/snapshot/keys.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import type { ListOptions, StoreEntry } from '../../lambdas/core/store.ts';
import { baseFields, FakeSource } from '../backup/fake-source.ts';
import { MemoryStore } from '../backup/memory-store.ts';
import { runCore } from '../backup/run-core.ts';

const DAY_MS = 86_400_000;
const FIRST = Date.parse('2026-11-01T02:00:00.000Z');
const at = (day: number) => new Date(FIRST + day * DAY_MS);

/** A vault in which the retention sweep removes `victim` (catalog entry, then manifest) as soon as a reader has listed the catalog. */
class SweptWhileRead extends MemoryStore {
  victim: string | undefined;
  override async *list(prefix: string, options?: ListOptions): AsyncIterable<StoreEntry> {
    const entries: StoreEntry[] = [];
    for await (const entry of super.list(prefix, options)) entries.push(entry);
    if (this.victim && prefix === catalogPrefix('acme')) {
      await this.remove(catalogKey('acme', this.victim));
      await this.remove(manifestKey('acme', this.victim));
    }
    yield* entries;
  }
}

async function vault(): Promise<{ store: SweptWhileRead; source: FakeSource; ids: string[] }> {
  const store = new SweptWhileRead();
  const source = new FakeSource([
    {
      name: 'Account',
      fields: baseFields,
      rows: [
        { Id: '001000000000001AAA', Name: 'A', IsDeleted: 'false', SystemModstamp: at(-1).toISOString() },
      ],
    },
  ]);
  const ids: string[] = [];
  for (let day = 0; day < 3; day++) {
    const run = await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () =>
      at(day),
    );
    ids.push(run.finish.snapshotId);
  }
  return { store, source, ids };
}

describe('readers of the catalog while the retention sweep removes a snapshot', () => {
  it('the catalog leaves out an entry removed between its listing and its read', async () => {
    const { store, ids } = await vault();
    store.victim = ids[0];
    expect((await new SnapshotReader(store).catalog('acme')).map((e) => e.snapshotId)).toEqual(ids.slice(1));
  });

  it('the snapshot list leaves out a snapshot whose manifest was removed after the catalog was read', async () => {
    const { store, ids } = await vault();
    // The catalog entry is still listed and read; the manifest is gone by the time it is read.
    await store.remove(manifestKey('acme', ids[0]!));
    const list = await listSnapshots(store, 'acme');
    expect(list.snapshots.map((s) => s.snapshotId)).toEqual([ids[2], ids[1]]);
  });

  it('a backup finishes when an earlier run its change baseline reads was removed after the catalog was read', async () => {
    const { store, source, ids } = await vault();
    await store.remove(manifestKey('acme', ids[0]!));
    const run = await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () =>
      at(3),
    );
    expect(run.finish.status).toBe('complete');
  });
});
