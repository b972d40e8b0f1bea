import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { csvHeader, csvLine } from '../../lambdas/core/snapshot/csv.ts';
import { partKey } from '../../lambdas/core/snapshot/keys.ts';
import type { SnapshotManifest } from '../../lambdas/core/snapshot/manifest.ts';
import { SnapshotNotFoundError, SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { recordSnapshotOutcome, writeManifest } from '../../lambdas/core/snapshot/writer.ts';
import { MemoryStore } from './memory-store.ts';

const ORG = 'acme';
const FIELDS = ['Id', 'Name', 'IsDeleted', 'SystemModstamp'];

async function snapshot(
  store: MemoryStore,
  options: {
    id: string;
    mode: 'full' | 'incremental';
    base: string | null;
    finishedAt: string;
    rows: Record<string, string>[];
    status?: 'complete' | 'failed';
    unchanged?: boolean;
    /** Ids the delete log listed in this run's window. */
    tombstones?: string[];
    /** An incremental that read the object in full. */
    readInFull?: boolean;
  },
): Promise<SnapshotManifest> {
  const body = gzipSync(csvHeader(FIELDS) + options.rows.map((r) => csvLine(FIELDS, r)).join(''));
  const key = partKey(ORG, options.id, 'Account', 1, 'a1');
  await store.put(key, body);
  let tombstones: SnapshotManifest['objects'][number]['tombstones'];
  if (options.tombstones) {
    const columns = ['Id', 'DeletedDate'];
    const lines = options.tombstones.map((Id) => csvLine(columns, { Id, DeletedDate: options.finishedAt }));
    const gz = gzipSync(csvHeader(columns) + lines.join(''));
    const tombKey = `orgs/${ORG}/snapshots/${options.id}/objects/Account/tombstones-t1.csv.gz`;
    await store.put(tombKey, gz);
    tombstones = {
      key: tombKey,
      rows: options.tombstones.length,
      bytes: gz.length,
      sha256: createHash('sha256').update(gz).digest('hex'),
    };
  }
  const manifest: SnapshotManifest = {
    formatVersion: 1,
    snapshotId: options.id,
    runId: `run-${options.id}`,
    org: ORG,
    orgId: '00D000000000001AAA',
    apiVersion: '62.0',
    mode: options.mode,
    requestedMode: options.mode,
    baseSnapshotId: options.base,
    startedAt: options.finishedAt,
    finishedAt: options.finishedAt,
    watermark: options.finishedAt,
    overlapSeconds: 0,
    objects: [
      {
        name: 'Account',
        status: options.unchanged ? 'unchanged' : 'exported',
        api: options.unchanged ? 'none' : 'bulk',
        fields: FIELDS.map((name) => ({ name, type: name === 'Id' ? 'id' : 'string', inCsv: true })),
        rows: options.unchanged ? 0 : options.rows.length,
        deletedRows: options.rows.filter((r) => r.IsDeleted === 'true').length,
        bytes: body.length,
        parts: options.unchanged
          ? []
          : [
              {
                key,
                rows: options.rows.length,
                bytes: body.length,
                sha256: createHash('sha256').update(body).digest('hex'),
              },
            ],
        since: options.mode === 'full' || options.readInFull ? null : '2026-01-01T00:00:00.000Z',
        ...(tombstones ? { tombstones } : {}),
        watermark: options.finishedAt,
        apiCalls: 3,
      },
    ],
    skippedObjects: [],
    files: [],
    metadata: { included: false, components: 0, parts: [] },
    apiCalls: { total: 3, plan: 1, export: 2, files: 0, metadata: 0, finish: 0 },
    errors: [],
  };
  const written = await writeManifest(store, manifest);
  await recordSnapshotOutcome(store, manifest, {
    manifestKey: written.key,
    manifestSha256: written.sha256,
    problems: options.status === 'failed' ? ['Contact: export failed'] : [],
  });
  return manifest;
}

const row = (id: string, name: string, deleted = false) => ({
  Id: id,
  Name: name,
  IsDeleted: String(deleted),
  SystemModstamp: '2026-01-01T00:00:00.000Z',
});

async function collect(
  iterable: AsyncIterable<{ id: string; deleted: boolean; values: Record<string, string> }>,
) {
  const out: Record<string, { name: string | undefined; deleted: boolean }> = {};
  for await (const r of iterable) out[r.id] = { name: r.values.Name, deleted: r.deleted };
  return out;
}

describe('the point-in-time reader', () => {
  it('merges a full snapshot with later incrementals, newest version of each row winning', async () => {
    const store = new MemoryStore();
    await snapshot(store, {
      id: '20260101T000000000Z-aaaaaa',
      mode: 'full',
      base: null,
      finishedAt: '2026-01-01T00:10:00.000Z',
      rows: [row('001A', 'Alpha, "Inc"'), row('001B', 'Beta\nline two'), row('001C', 'Gamma')],
    });
    await snapshot(store, {
      id: '20260102T000000000Z-bbbbbb',
      mode: 'incremental',
      base: '20260101T000000000Z-aaaaaa',
      finishedAt: '2026-01-02T00:10:00.000Z',
      rows: [row('001B', 'Beta renamed'), row('001C', 'Gamma', true)],
    });
    await snapshot(store, {
      id: '20260103T000000000Z-cccccc',
      mode: 'incremental',
      base: '20260102T000000000Z-bbbbbb',
      finishedAt: '2026-01-03T00:10:00.000Z',
      rows: [],
      unchanged: true,
    });

    const latest = await new SnapshotReader(store).pointInTime(ORG, 'latest');
    expect(latest.chain.map((m) => m.snapshotId)).toEqual([
      '20260101T000000000Z-aaaaaa',
      '20260102T000000000Z-bbbbbb',
      '20260103T000000000Z-cccccc',
    ]);
    expect(await collect(latest.rows('Account'))).toEqual({
      '001A': { name: 'Alpha, "Inc"', deleted: false },
      '001B': { name: 'Beta renamed', deleted: false },
      '001C': { name: 'Gamma', deleted: true },
    });
    expect(Object.keys(await collect(latest.rows('Account', { includeDeleted: false })))).toEqual([
      '001B',
      '001A',
    ]);
    expect(latest.fields('Account').map((f) => f.name)).toEqual(FIELDS);

    const first = await new SnapshotReader(store).pointInTime(ORG, new Date('2026-01-01T12:00:00Z'));
    expect(await collect(first.rows('Account'))).toEqual({
      '001A': { name: 'Alpha, "Inc"', deleted: false },
      '001B': { name: 'Beta\nline two', deleted: false },
      '001C': { name: 'Gamma', deleted: false },
    });
  });

  it('hides rows the delete log lists as gone, but keeps the ones the same snapshot still holds', async () => {
    const store = new MemoryStore();
    await snapshot(store, {
      id: '20260101T000000000Z-aaaaaa',
      mode: 'full',
      base: null,
      finishedAt: '2026-01-01T00:10:00.000Z',
      rows: [row('001A', 'Alpha'), row('001B', 'Beta'), row('001C', 'Gamma'), row('001D', 'Delta')],
    });
    // 001A hard deleted; 001B soft deleted (in the recycle bin, so the run read it too); 001C purged
    // after a soft delete; 001D untouched.
    const second = await snapshot(store, {
      id: '20260102T000000000Z-bbbbbb',
      mode: 'incremental',
      base: '20260101T000000000Z-aaaaaa',
      finishedAt: '2026-01-02T00:10:00.000Z',
      rows: [row('001B', 'Beta', true)],
      tombstones: ['001A', '001B', '001C'],
    });
    // 001E created; 001A, hard deleted, stays gone in every later point in time.
    await snapshot(store, {
      id: '20260103T000000000Z-cccccc',
      mode: 'incremental',
      base: '20260102T000000000Z-bbbbbb',
      finishedAt: '2026-01-03T00:10:00.000Z',
      rows: [row('001E', 'Epsilon')],
    });
    const reader = new SnapshotReader(store);
    expect(await collect((await reader.pointInTime(ORG, 'latest')).rows('Account'))).toEqual({
      '001B': { name: 'Beta', deleted: true },
      '001D': { name: 'Delta', deleted: false },
      '001E': { name: 'Epsilon', deleted: false },
    });
    // Earlier points in time are not touched by later tombstones.
    expect(
      Object.keys(
        await collect((await reader.pointInTime(ORG, '20260101T000000000Z-aaaaaa')).rows('Account')),
      ),
    ).toEqual(['001A', '001B', '001C', '001D']);
    // A tombstones part that no longer matches its manifest is named by the verifier.
    expect(await verifySnapshot(store, second)).toEqual([]);
    store.objects.set(second.objects[0]!.tombstones!.key, gzipSync('"Id","DeletedDate"\n"001X","x"\n'));
    expect((await verifySnapshot(store, second)).join('\n')).toMatch(/tombstones .* does not match/);
  });

  it('ends the chain at an incremental that read the object in full', async () => {
    const store = new MemoryStore();
    await snapshot(store, {
      id: '20260101T000000000Z-aaaaaa',
      mode: 'full',
      base: null,
      finishedAt: '2026-01-01T00:10:00.000Z',
      rows: [row('001A', 'Alpha'), row('001B', 'Beta')],
    });
    // The recycle bin was emptied: the delete log could not say what went, so every row was read.
    await snapshot(store, {
      id: '20260102T000000000Z-bbbbbb',
      mode: 'incremental',
      base: '20260101T000000000Z-aaaaaa',
      finishedAt: '2026-01-02T00:10:00.000Z',
      rows: [row('001B', 'Beta')],
      readInFull: true,
    });
    const latest = await new SnapshotReader(store).pointInTime(ORG, 'latest');
    expect(await collect(latest.rows('Account'))).toEqual({ '001B': { name: 'Beta', deleted: false } });
  });

  it('never resolves to a failed snapshot and says why when asked for one', async () => {
    const store = new MemoryStore();
    await snapshot(store, {
      id: '20260101T000000000Z-aaaaaa',
      mode: 'full',
      base: null,
      finishedAt: '2026-01-01T00:10:00.000Z',
      rows: [row('001A', 'Alpha')],
    });
    await snapshot(store, {
      id: '20260102T000000000Z-bbbbbb',
      mode: 'full',
      base: null,
      finishedAt: '2026-01-02T00:10:00.000Z',
      rows: [],
      status: 'failed',
    });
    const reader = new SnapshotReader(store);
    expect((await reader.pointInTime(ORG, 'latest')).target.snapshotId).toBe('20260101T000000000Z-aaaaaa');
    expect((await reader.pointInTime(ORG, new Date('2026-02-01T00:00:00Z'))).target.snapshotId).toBe(
      '20260101T000000000Z-aaaaaa',
    );
    await expect(reader.pointInTime(ORG, '20260102T000000000Z-bbbbbb')).rejects.toThrow(
      /not complete.*Contact/,
    );
    await expect(reader.pointInTime(ORG, '20250101T000000000Z-zzzzzz')).rejects.toBeInstanceOf(
      SnapshotNotFoundError,
    );
    await expect(reader.pointInTime(ORG, new Date('2025-01-01T00:00:00Z'))).rejects.toThrow(
      /no complete snapshot/,
    );
  });

  it('reports an org with no backup clearly, naming the vault it looked in', async () => {
    const store = new MemoryStore();
    await expect(new SnapshotReader(store).pointInTime(ORG, 'latest')).rejects.toThrow(
      `has no complete snapshot in the vault at ${store.location}: run a backup first`,
    );
  });

  it('names the vault directory as a path, absolute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-reader-'));
    const error = await new SnapshotReader(new LocalDirectoryStore(dir))
      .pointInTime(ORG, 'latest')
      .catch((e) => e);
    expect(error.message).toContain(`in the vault at ${resolve(dir)}:`);
  });

  it('lists the orgs the vault holds', async () => {
    const store = new MemoryStore();
    await store.put('orgs/acme-prod/catalog/x.json', '{}');
    await store.put('orgs/acme-dev/latest.json', '{}');
    expect(await new SnapshotReader(store).orgs()).toEqual(['acme-dev', 'acme-prod']);
    expect(await new SnapshotReader(new MemoryStore()).orgs()).toEqual([]);
  });
});

describe('the snapshot verifier', () => {
  it('accepts intact parts and names a part whose bytes changed', async () => {
    const store = new MemoryStore();
    const manifest = await snapshot(store, {
      id: '20260101T000000000Z-aaaaaa',
      mode: 'full',
      base: null,
      finishedAt: '2026-01-01T00:10:00.000Z',
      rows: [row('001A', 'Alpha'), row('001B', 'Beta')],
    });
    expect(await verifySnapshot(store, manifest)).toEqual([]);
    const part = manifest.objects[0]!.parts[0]!;
    store.objects.set(part.key, gzipSync(csvHeader(FIELDS) + csvLine(FIELDS, row('001A', 'Alpha'))));
    const problems = await verifySnapshot(store, manifest);
    expect(problems.join('\n')).toMatch(/does not match its SHA-256/);
    expect(problems.join('\n')).toMatch(/holds 1 rows, not 2/);
  });
});
