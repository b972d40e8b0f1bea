import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { VaultSnapshotSource } from '../../lambdas/core/restore/snapshot-view.ts';
import type { SnapshotManifest } from '../../lambdas/core/snapshot/manifest.ts';
import { SnapshotCorruptError } from '../../lambdas/core/snapshot/reader.ts';
import { recordSnapshotOutcome, writeManifest } from '../../lambdas/core/snapshot/writer.ts';
import type { ReadOptions, StoredObject } from '../../lambdas/core/store.ts';
import { MemoryStore } from './fakes.ts';

/** A store that keeps every version of a key, as the versioned vault bucket does. */
class VersionedStore extends MemoryStore {
  readonly versions = new Map<string, Uint8Array>();
  private next = 0;

  override async put(key: string, body: Uint8Array | string): Promise<StoredObject> {
    const stored = await super.put(key, body);
    const versionId = `v${++this.next}`;
    this.versions.set(`${key}@${versionId}`, this.objects.get(key)!);
    return { ...stored, versionId };
  }
  /** Another write to a key, as someone with write access to the bucket could make. */
  overwrite(key: string, body: Uint8Array): void {
    this.objects.set(key, body);
    this.versions.set(`${key}@v${++this.next}`, body);
  }
  override async get(key: string, options: ReadOptions = {}): Promise<Uint8Array> {
    if (!options.versionId) return super.get(key);
    const bytes = this.versions.get(`${key}@${options.versionId}`);
    if (!bytes) throw new Error(`no version ${options.versionId} of ${key}`);
    return bytes;
  }
  override async getStream(key: string, options: ReadOptions = {}): Promise<Readable> {
    return Readable.from([await this.get(key, options)]);
  }
}

const ORG_ID = '00D000000000001AAA';
const SNAPSHOT = '20260101T000000000Z-abcdef';
const PART = `orgs/acme/snapshots/${SNAPSHOT}/data/Account/part-00000.csv.gz`;
const CSV = 'Id,IsDeleted,Name\n001000000000001AAA,false,Acme\n001000000000002AAA,false,Globex\n';

async function snapshotWithPart(
  store: VersionedStore,
  options: { recordVersion: boolean; rows?: number },
): Promise<void> {
  const body = gzipSync(CSV);
  const stored = await store.put(PART, body);
  const at = '2026-01-01T00:00:00.000Z';
  const manifest: SnapshotManifest = {
    formatVersion: 1,
    snapshotId: SNAPSHOT,
    runId: 'run',
    org: 'acme',
    orgId: ORG_ID,
    apiVersion: '62.0',
    mode: 'full',
    requestedMode: 'full',
    baseSnapshotId: null,
    startedAt: at,
    finishedAt: at,
    watermark: at,
    overlapSeconds: 0,
    objects: [
      {
        name: 'Account',
        status: 'exported',
        api: 'bulk',
        fields: ['Id', 'IsDeleted', 'Name'].map((name) => ({ name, type: 'string', inCsv: true })),
        rows: 2,
        deletedRows: 0,
        bytes: body.length,
        parts: [
          {
            key: PART,
            rows: options.rows ?? 2,
            bytes: body.length,
            sha256: createHash('sha256').update(body).digest('hex'),
            ...(options.recordVersion && stored.versionId ? { versionId: stored.versionId } : {}),
          },
        ],
        since: null,
        watermark: at,
        apiCalls: 1,
      },
    ],
    skippedObjects: [],
    files: [],
    metadata: { included: false, components: 0, parts: [] },
    apiCalls: { total: 1, plan: 0, export: 1, files: 0, metadata: 0, finish: 0 },
    errors: [],
  };
  const written = await writeManifest(store, manifest);
  await recordSnapshotOutcome(store, manifest, {
    manifestKey: written.key,
    manifestSha256: written.sha256,
    problems: [],
  });
}

async function names(store: VersionedStore): Promise<(string | null | undefined)[]> {
  const view = await new VaultSnapshotSource(store, 'acme').resolve(ORG_ID, { kind: 'latest' });
  const out: (string | null | undefined)[] = [];
  for await (const row of view.rows('Account')) out.push(row.Name);
  return out;
}

const tampered = gzipSync(CSV.replace('Globex', 'Initech'));

describe('the snapshot parts a restore reads', () => {
  it('reads the version of a part the backup wrote, not a later write to its key', async () => {
    const store = new VersionedStore();
    await snapshotWithPart(store, { recordVersion: true });
    store.overwrite(PART, tampered);
    expect(await names(store)).toEqual(['Acme', 'Globex']);
  });

  it('fails, naming the part, when the part read does not match its SHA-256', async () => {
    const store = new VersionedStore();
    await snapshotWithPart(store, { recordVersion: false });
    store.overwrite(PART, tampered);
    const error = await names(store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotCorruptError);
    expect((error as Error).message).toContain(PART);
    expect((error as Error).message).toContain('SHA-256');
  });

  it('fails, naming the part, when the part holds another number of rows than its manifest says', async () => {
    const store = new VersionedStore();
    await snapshotWithPart(store, { recordVersion: true, rows: 3 });
    const error = await names(store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotCorruptError);
    expect((error as Error).message).toContain(PART);
    expect((error as Error).message).toMatch(/2 rows.*3/);
  });
});
