import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { latestPointerKey } from '../../lambdas/core/snapshot/keys.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { recordSnapshotOutcome } from '../../lambdas/core/snapshot/writer.ts';
import type {
  BackupStore,
  PointerCondition,
  PutOptions,
  StoredObject,
  ListOptions,
  StoreEntry,
} from '../../lambdas/core/store.ts';
import { baseFields, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function directoryStore(): Promise<LocalDirectoryStore> {
  const root = await mkdtemp(path.join(tmpdir(), 'sfbackup-pointer-'));
  roots.push(root);
  return new LocalDirectoryStore(root);
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * A store whose pointer writes wait until `writers` of them have arrived (so every run has read
 * the pointer before any writes it), then go ahead one at a time in the order `order` gives.
 */
class PointerRaceStore implements BackupStore {
  readonly location: string;
  private readonly arrived: string[] = [];
  private readonly finished = new Map<string, Deferred<void>>();
  private readonly all = deferred<string[]>();

  constructor(
    private readonly inner: BackupStore,
    private readonly writers: number,
    private readonly order: (bodies: string[]) => string[],
  ) {
    this.location = inner.location;
  }

  async putPointer(key: string, body: string, condition?: PointerCondition): Promise<StoredObject> {
    // A writer's later attempts (after its first was refused) go straight through.
    if (this.finished.has(body) || this.arrived.length >= this.writers) {
      return this.inner.putPointer(key, body, condition);
    }
    this.arrived.push(body);
    this.finished.set(body, deferred<void>());
    if (this.arrived.length === this.writers) this.all.resolve(this.order(this.arrived));
    const order = await this.all.promise;
    const before = order[order.indexOf(body) - 1];
    if (before !== undefined) await this.finished.get(before)!.promise;
    try {
      return await this.inner.putPointer(key, body, condition);
    } finally {
      this.finished.get(body)!.resolve();
    }
  }

  put(key: string, body: Uint8Array | string, options?: PutOptions) {
    return this.inner.put(key, body, options);
  }
  putStream(key: string, body: Readable | AsyncIterable<Uint8Array>, options?: PutOptions) {
    return this.inner.putStream(key, body, options);
  }
  get(key: string) {
    return this.inner.get(key);
  }
  getStream(key: string) {
    return this.inner.getStream(key);
  }
  head(key: string): Promise<StoreEntry | undefined> {
    return this.inner.head(key);
  }
  list(prefix: string, options?: ListOptions) {
    return this.inner.list(prefix, options);
  }
  listFolders(prefix: string) {
    return this.inner.listFolders(prefix);
  }
}

function org(): FakeSource {
  return new FakeSource([
    {
      name: 'Account',
      fields: baseFields,
      rows: [
        { Id: '001000000000001AAA', Name: 'a', IsDeleted: 'false', SystemModstamp: '2026-01-01T00:00:00Z' },
      ],
    },
  ]);
}

function pointsTo(text: string): string {
  return (JSON.parse(text) as { snapshotId: string }).snapshotId;
}

async function pointer(store: BackupStore): Promise<string> {
  return pointsTo(new TextDecoder().decode(await store.get(latestPointerKey('acme'))));
}

const stores: [string, () => Promise<BackupStore>][] = [
  ['a directory store', directoryStore],
  ['the in-memory store', async () => new MemoryStore()],
];

describe.each(stores)('the latest pointer on %s', (_name, makeStore) => {
  it('stays on the newer snapshot when two runs of one org finish together and the older writes last', async () => {
    const inner = await makeStore();
    // Both runs read the pointer before either writes; the newer run's write lands first.
    const store = new PointerRaceStore(inner, 2, (bodies) =>
      [...bodies].sort((a, b) => pointsTo(b).localeCompare(pointsTo(a))),
    );
    const older = runCore(
      org(),
      { org: 'acme', mode: 'full' },
      {},
      store,
      () => new Date('2026-03-01T00:00:00Z'),
    );
    const newer = runCore(
      org(),
      { org: 'acme', mode: 'full' },
      {},
      store,
      () => new Date('2026-03-01T00:05:00Z'),
    );
    const [a, b] = await Promise.all([older, newer]);
    expect(a.finish.status).toBe('complete');
    expect(b.finish.status).toBe('complete');
    expect(b.finish.snapshotId > a.finish.snapshotId).toBe(true);
    expect(await pointer(inner)).toBe(b.finish.snapshotId);
    expect((await new SnapshotReader(inner).latestComplete('acme'))?.snapshotId).toBe(b.finish.snapshotId);
  });

  it('ends on the newest of many snapshots completed at once, whatever order their writes land in', async () => {
    const inner = await makeStore();
    const ids = Array.from(
      { length: 12 },
      (_, i) => `20260301T0000${String(10 + i)}000Z-run${String(i).padStart(3, '0')}`,
    );
    // The newest lands first and the oldest last, the order that left the pointer behind.
    const store = new PointerRaceStore(inner, ids.length, (bodies) =>
      [...bodies].sort((a, b) => pointsTo(b).localeCompare(pointsTo(a))),
    );
    const moved = await Promise.all(
      ids.map((snapshotId) =>
        recordSnapshotOutcome(
          store,
          {
            org: 'acme',
            orgId: '00D000000000001AAA',
            snapshotId,
            mode: 'full',
            baseSnapshotId: null,
            startedAt: '2026-03-01T00:00:00.000Z',
            finishedAt: '2026-03-01T00:01:00.000Z',
            watermark: '2026-03-01T00:00:00.000Z',
            metadata: { included: false, components: 0, parts: [] },
          },
          {
            manifestKey: `orgs/acme/snapshots/${snapshotId}/manifest.json`,
            manifestSha256: 'ab',
            problems: [],
          },
        ),
      ),
    );
    expect(moved.every((entry) => entry.status === 'complete')).toBe(true);
    expect(await pointer(inner)).toBe(ids.at(-1));
  });

  it('does not move back when an older snapshot completes after a newer one', async () => {
    const store = await makeStore();
    const newer = await runCore(
      org(),
      { org: 'acme', mode: 'full' },
      {},
      store,
      () => new Date('2026-03-02T00:00:00Z'),
    );
    const older = await runCore(
      org(),
      { org: 'acme', mode: 'full' },
      {},
      store,
      () => new Date('2026-03-01T00:00:00Z'),
    );
    expect(older.finish.status).toBe('complete');
    expect(await pointer(store)).toBe(newer.finish.snapshotId);
  });
});
