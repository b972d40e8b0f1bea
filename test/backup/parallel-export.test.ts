import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { exportObject } from '../../lambdas/core/backup/export-object.ts';
import { bulkPagePart, checkedScan } from '../../lambdas/core/backup/page-part.ts';
import { exportWorkerPages, pagesOf } from '../../lambdas/core/backup/parallel-export.ts';
import type { ExportOutput, WorkerResult } from '../../lambdas/core/backup/types.ts';
import { objectResultKey, workerResultKey } from '../../lambdas/core/snapshot/keys.ts';
import { planBackup } from '../../lambdas/core/backup/plan.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import type { BackupDeps } from '../../lambdas/core/backup/types.ts';
import { SalesforceTransientError } from '../../lambdas/core/salesforce.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { baseFields, type FakeObject, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const ROWS = 11;

function org(): FakeSource {
  const things: FakeObject = {
    name: 'Thing__c',
    fields: baseFields,
    rows: Array.from({ length: ROWS }, (_, i) => ({
      Id: `a00000000000${String(i).padStart(3, '0')}AAA`,
      Name: i === 4 ? 'comma, "quote"\nand newline' : `Thing ${i}`,
      IsDeleted: i === 7 ? 'true' : 'false',
      SystemModstamp: T0,
    })),
  };
  return new FakeSource([things]);
}

async function rowsOf(store: MemoryStore) {
  const pit = await new SnapshotReader(store).pointInTime('acme', 'latest');
  const out = new Map<string, Record<string, string>>();
  for await (const row of pit.rows('Thing__c')) out.set(row.id, { ...row.values });
  return out;
}

const PARALLEL = { exportWorkers: 3, parallelExportMinRows: 5 };

describe('an object exported by workers, through the core steps', () => {
  it('exports each result page as one part, in page order, with every row and delete counted', async () => {
    const source = org();
    source.gzipResults = true;
    source.serverPageSize = 2;
    const { store, finish } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      {
        ...PARALLEL,
        maxPagesPerInvocation: 1,
      },
    );
    expect(finish.status, finish.problems.join('; ')).toBe('complete');
    const rows = await rowsOf(store);
    expect(rows.size).toBe(ROWS);
    for (const row of source.objects[0]!.rows) expect(rows.get(row.Id!)?.Name).toBe(row.Name);
    const object = (await new SnapshotReader(store).pointInTime('acme', 'latest')).target.objects[0]!;
    expect(object.parts.map((p) => p.rows)).toEqual([2, 2, 2, 2, 2, 1]);
    expect(object.deletedRows).toBe(1);
    // Six pages, listed five at a time.
    expect(source.callLog.filter((c) => c === 'bulk-result-pages')).toHaveLength(2);
  });

  it('reads the object as one stream on an API version without result page lists', async () => {
    const source = org();
    source.apiVersion = '57.0';
    const { store, finish } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { ...PARALLEL, pageSize: 4 },
    );
    expect(finish.status).toBe('complete');
    expect((await rowsOf(store)).size).toBe(ROWS);
    expect(source.callLog).not.toContain('bulk-result-pages');
  });

  it('fetches a page again when it arrives cut, and ends with every row once', async () => {
    const source = org();
    source.serverPageSize = 3;
    source.cutNextUrlPage = true;
    const { store, finish } = await runCore(source, { org: 'acme', mode: 'full' }, PARALLEL);
    expect(source.cutNextUrlPage).toBe(false);
    expect(finish.status).toBe('complete');
    expect((await rowsOf(store)).size).toBe(ROWS);
  });

  it('reads the object as one stream when the org answers the page list as an unknown resource', async () => {
    const source = org();
    source.serverPageSize = 2;
    source.resultPagesMissing = true;
    const { store, finish } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { ...PARALLEL, pageSize: 4 },
    );
    expect(finish.status).toBe('complete');
    expect((await rowsOf(store)).size).toBe(ROWS);
    expect(source.callLog.filter((c) => c === 'bulk-result-pages')).toHaveLength(1);
    const object = (await new SnapshotReader(store).pointInTime('acme', 'latest')).target.objects[0]!;
    expect(object.parts.map((p) => p.rows)).toEqual([4, 4, 3]);
  });

  /** Plans the object and lists its pages for three workers; the workers have not run. */
  async function listed() {
    const source = org();
    source.serverPageSize = 2;
    const store = new MemoryStore();
    const deps: BackupDeps = { store, source, clock: () => new Date(), sleep: async () => {} };
    const plan = await planBackup(
      deps,
      { org: 'acme', mode: 'full' },
      parseBackupSettings({ pollIntervalMs: 0, ...PARALLEL }),
    );
    const input = { org: 'acme', snapshotId: plan.snapshotId, object: 'Thing__c' };
    const out: ExportOutput = await exportObject(deps, input);
    return { source, store, deps, input, out };
  }

  it('runs one share twice at once (a retry racing its original) and counts each page once', async () => {
    const { store, deps, input, out } = await listed();
    for (const worker of out.parallel!.workers) {
      const [a, b] = await Promise.all([
        exportWorkerPages(deps, { ...input, worker }),
        exportWorkerPages(deps, { ...input, worker }),
      ]);
      expect(a.done && b.done).toBe(true);
    }
    await exportObject(deps, { ...input, checkpoint: out.checkpoint });
    const result = JSON.parse(
      new TextDecoder().decode(store.objects.get(objectResultKey('acme', input.snapshotId, 'Thing__c'))!),
    ) as { status: string; rows: number; parts: { key: string }[] };
    expect(result.status).toBe('exported');
    expect(result.rows).toBe(ROWS);
    expect(result.parts).toHaveLength(6);
  });

  it('answers the same again when the gathering is run again after its result was written', async () => {
    const { deps, input, out } = await listed();
    for (const worker of out.parallel!.workers) await exportWorkerPages(deps, { ...input, worker });
    const first = await exportObject(deps, { ...input, checkpoint: out.checkpoint });
    const again = await exportObject(deps, { ...input, checkpoint: out.checkpoint });
    expect(first.done && again.done).toBe(true);
  });

  /** Rewrites worker `index`'s stored result (results are write-once: the test replaces it in memory). */
  function tamper(
    store: MemoryStore,
    snapshotId: string,
    list: string,
    index: number,
    change: (r: WorkerResult) => WorkerResult,
  ) {
    const key = workerResultKey('acme', snapshotId, 'Thing__c', list, index);
    const result = JSON.parse(new TextDecoder().decode(store.objects.get(key)!)) as WorkerResult;
    store.objects.set(key, new TextEncoder().encode(JSON.stringify(change(result))));
  }

  it.each([
    [
      'a page exported twice',
      (r: WorkerResult) => ({ ...r, pages: [...r.pages, { ...r.pages[0]!, page: 1 }] }),
      /result page 2 was exported twice/,
    ],
    [
      'a page in no result',
      (r: WorkerResult) => ({ ...r, pages: r.pages.slice(1) }),
      /result page 1 of 6 is in no worker's result/,
    ],
    [
      'rows that do not add up',
      (r: WorkerResult) => ({
        ...r,
        pages: r.pages.map((p, i) => (i === 0 ? { ...p, part: { ...p.part, rows: 1 } } : p)),
      }),
      /the result pages hold 10 rows, but Salesforce's job \S+ processed 11/,
    ],
  ])('never records the object as exported with %s', async (_what, change, message) => {
    const { store, deps, input, out } = await listed();
    for (const worker of out.parallel!.workers) await exportWorkerPages(deps, { ...input, worker });
    tamper(store, input.snapshotId, out.checkpoint!.pages!.list, 0, change);
    await expect(exportObject(deps, { ...input, checkpoint: out.checkpoint })).rejects.toThrow(message);
    expect(store.objects.has(objectResultKey('acme', input.snapshotId, 'Thing__c'))).toBe(false);
  });

  it('never records the object as exported when a worker left no result', async () => {
    const { store, deps, input, out } = await listed();
    expect(out.parallel?.workers.map((w) => [w.index, w.of])).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ]);
    await expect(exportObject(deps, { ...input, checkpoint: out.checkpoint })).rejects.toThrow(
      /worker 1 of 3 left no result; the object is not complete/,
    );
    expect([...store.objects.keys()].some((k) => k.endsWith('/result.json'))).toBe(false);
  });

  it('shares pages out round-robin, every page to exactly one worker', () => {
    const shares = [0, 1, 2].map((w) => pagesOf(w, 3, 8));
    expect(shares).toEqual([
      [0, 3, 6],
      [1, 4, 7],
      [2, 5],
    ]);
  });
});

describe('a compressed result page', () => {
  const csv = '"Id","Name"\n"a1","x"\n"a2","y"\n';

  async function store(page: ReturnType<typeof bulkPagePart>): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of page.stored(1)) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }

  async function* pieces(bytes: Uint8Array) {
    for (let i = 0; i < bytes.length; i += 5) yield bytes.subarray(i, i + 5);
  }

  it('is stored as it was sent, and its rows are counted while it streams', async () => {
    const sent = gzipSync(csv, { level: 6 });
    const part = bulkPagePart({ body: pieces(sent), encoding: 'gzip', records: 2, nextLocator: null });
    expect((await store(part)).equals(sent)).toBe(true);
    expect((await checkedScan(part, 'page 1')).dataRows).toBe(2);
  });

  it('cut on the way, is refused as transient so the page is fetched again', async () => {
    const sent = gzipSync(csv);
    const part = bulkPagePart({
      body: pieces(sent.subarray(0, sent.length - 12)),
      encoding: 'gzip',
      records: 2,
      nextLocator: null,
    });
    await store(part);
    const refusal = await checkedScan(part, 'page 1').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(SalesforceTransientError);
    expect((refusal as Error).message).toMatch(/page 1 arrived cut/);
  });

  it('not gzip at all although it says so, is refused as transient, however many chunks it comes in', async () => {
    const plain = Buffer.from(csv.repeat(2000));
    const part = bulkPagePart({ body: pieces(plain), encoding: 'gzip', records: 4000, nextLocator: null });
    expect((await store(part)).equals(plain)).toBe(true);
    await expect(checkedScan(part, 'page 3')).rejects.toThrow(/page 3 arrived cut/);
  });

  it('holding fewer rows than Salesforce said, is refused as transient', async () => {
    const part = bulkPagePart({
      body: pieces(gzipSync(csv)),
      encoding: 'gzip',
      records: 3,
      nextLocator: null,
    });
    await store(part);
    await expect(checkedScan(part, 'page 2')).rejects.toThrow(
      /page 2 arrived incomplete \(2 rows, Salesforce said 3\)/,
    );
  });

  it('sent uncompressed although asked compressed, is compressed here', async () => {
    const part = bulkPagePart({
      body: pieces(Buffer.from(csv)),
      encoding: null,
      records: 2,
      nextLocator: null,
    });
    const stored = await store(part);
    expect(stored[0]).toBe(0x1f);
    expect((await checkedScan(part, 'page 1')).dataRows).toBe(2);
  });
});
