import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { backupFiles, planFiles } from '../../lambdas/core/backup/files.ts';
import { planBackup } from '../../lambdas/core/backup/plan.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import type { BackupDeps } from '../../lambdas/core/backup/types.ts';
import { exportObject } from '../../lambdas/core/backup/export-object.ts';
import { fileBodyKey } from '../../lambdas/core/snapshot/keys.ts';
import type { PutOptions, StoredObject } from '../../lambdas/core/store.ts';
import { baseFields, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
/** What any one write into the store, or any one piece of the body in flight, may hold. */
const BOUND = 1 * MiB;

/**
 * A store that records the size of every piece of a streamed body and refuses a whole one; it
 * keeps a streamed body's size only, and reads it back as `generated` makes it, recording the
 * pieces read.
 */
class ChunkRecordingStore extends MemoryStore {
  readonly chunkSizes = new Map<string, number[]>();
  readonly readSizes = new Map<string, number[]>();
  private readonly streamed = new Map<string, number>();

  override async put(key: string, body: Uint8Array | string, _options?: PutOptions): Promise<StoredObject> {
    const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (size > BOUND) throw new Error(`${key}: a whole body of ${size} bytes was written at once`);
    return super.put(key, body);
  }

  override async putStream(
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    _options?: PutOptions,
  ): Promise<StoredObject> {
    if (!key.includes('/files/sha256/')) return super.putStream(key, body);
    const sizes: number[] = [];
    this.chunkSizes.set(key, sizes);
    const hash = createHash('sha256');
    let bytes = 0;
    // Hashes and counts the chunks without keeping them; only their sizes are recorded.
    for await (const chunk of body) {
      const piece = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
      sizes.push(piece.byteLength);
      hash.update(piece);
      bytes += piece.byteLength;
    }
    const sha256 = hash.digest('hex');
    this.objects.set(key, new TextEncoder().encode(`(streamed ${bytes} bytes, sha256 ${sha256})`));
    this.streamed.set(key, bytes);
    return { key, bytes, sha256 };
  }

  override async getStream(key: string): Promise<Readable> {
    const bytes = this.streamed.get(key);
    if (bytes === undefined) return super.getStream(key);
    const sizes: number[] = [];
    this.readSizes.set(key, sizes);
    return Readable.from(
      (async function* () {
        for await (const chunk of generated(bytes)) {
          sizes.push(chunk.byteLength);
          yield chunk;
        }
      })(),
    );
  }
}

/** A body of `size` bytes made a chunk at a time, never whole. */
async function* generated(size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < size; at += CHUNK) {
    const chunk = Buffer.alloc(Math.min(CHUNK, size - at));
    for (let i = 0; i < chunk.length; i++) chunk[i] = (at + i) % 251;
    yield chunk;
  }
}

function digestOf(size: number): { sha256: string; md5: string } {
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  for (let at = 0; at < size; at += CHUNK) {
    const chunk = Buffer.alloc(Math.min(CHUNK, size - at));
    for (let i = 0; i < chunk.length; i++) chunk[i] = (at + i) % 251;
    sha.update(chunk);
    md5.update(chunk);
  }
  return { sha256: sha.digest('hex'), md5: md5.digest('hex') };
}

describe('file bodies', () => {
  it('pass from Salesforce to the store a bounded piece at a time, a body far larger than the bound included', async () => {
    const size = 24 * MiB + 123;
    const { sha256, md5 } = digestOf(size);
    const source = new FakeSource([
      {
        name: 'ContentVersion',
        fields: [
          ...baseFields,
          { name: 'Checksum', type: 'string' },
          { name: 'VersionData', type: 'base64' },
        ],
        rows: [
          {
            Id: '068000000000001AAA',
            Name: 'big.bin',
            IsDeleted: 'false',
            SystemModstamp: '2026-01-01T00:00:00Z',
            Checksum: md5,
          },
        ],
      },
    ]);
    source.downloadBlob = async () => generated(size);
    const store = new ChunkRecordingStore();
    const deps: BackupDeps = { store, source, clock: () => new Date(), sleep: async () => {} };
    const plan = await planBackup(
      deps,
      { org: 'acme', mode: 'full' },
      parseBackupSettings({ metadata: false }),
    );
    await exportObject(deps, { org: 'acme', snapshotId: plan.snapshotId, object: 'ContentVersion' });
    const files = await planFiles(deps, { org: 'acme', snapshotId: plan.snapshotId });
    expect(files.toDownload).toBe(1);

    const result = await backupFiles(deps, { org: 'acme', snapshotId: plan.snapshotId, batch: 1 });

    expect(result.downloaded).toBe(1);
    const sizes = store.chunkSizes.get(fileBodyKey('acme', sha256));
    expect(sizes, 'the body was streamed to its content address').toBeDefined();
    expect(sizes!.reduce((n, s) => n + s, 0)).toBe(size);
    expect(Math.max(...sizes!)).toBeLessThanOrEqual(BOUND);
    expect(sizes!.length).toBeGreaterThan(size / BOUND);
    // The body was read back from the store, and hashed, a bounded piece at a time too.
    const read = store.readSizes.get(fileBodyKey('acme', sha256));
    expect(read!.reduce((n, s) => n + s, 0)).toBe(size);
    expect(Math.max(...read!)).toBeLessThanOrEqual(BOUND);
  });
});
