import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  type BackupStore,
  ObjectExistsError,
  ObjectNotFoundError,
  PointerChangedError,
  type PointerCondition,
  type StoredObject,
  type ListOptions,
  type StoreEntry,
} from '../../lambdas/core/store.ts';
import type { RemovingStore } from '../../lambdas/core/removing-store.ts';
import { foldersListed, keysListed } from '../support/memory-listing.ts';

/** An in-memory BackupStore with the same immutability rule as the real ones. */
export class MemoryStore implements BackupStore, RemovingStore {
  readonly location = 'memory://';
  readonly objects = new Map<string, Uint8Array>();
  readonly pointerWrites: string[] = [];

  async put(key: string, body: Uint8Array | string): Promise<StoredObject> {
    if (this.objects.has(key)) throw new ObjectExistsError(key);
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    this.objects.set(key, bytes);
    return describe(key, bytes);
  }

  async putStream(key: string, body: Readable | AsyncIterable<Uint8Array>): Promise<StoredObject> {
    if (this.objects.has(key)) throw new ObjectExistsError(key);
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk as Uint8Array);
    if (this.objects.has(key)) throw new ObjectExistsError(key);
    const bytes = Buffer.concat(chunks);
    this.objects.set(key, bytes);
    return describe(key, bytes);
  }

  async putPointer(key: string, body: string, condition?: PointerCondition): Promise<StoredObject> {
    // Checked and written in one synchronous step, as atomically as a store that enforces it.
    if (condition) {
      const current = this.objects.get(key);
      const text = current === undefined ? null : new TextDecoder().decode(current);
      if (text !== condition.current) throw new PointerChangedError(key);
    }
    const bytes = new TextEncoder().encode(body);
    this.objects.set(key, bytes);
    this.pointerWrites.push(key);
    return describe(key, bytes);
  }

  async get(key: string): Promise<Uint8Array> {
    const bytes = this.objects.get(key);
    if (!bytes) throw new ObjectNotFoundError(key);
    return bytes;
  }

  async getStream(key: string): Promise<Readable> {
    return Readable.from([Buffer.from(await this.get(key))]);
  }

  async head(key: string): Promise<StoreEntry | undefined> {
    const bytes = this.objects.get(key);
    return bytes ? { key, bytes: bytes.length } : undefined;
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<StoreEntry> {
    for (const key of keysListed(this.objects.keys(), prefix, options))
      yield { key, bytes: this.objects.get(key)!.length };
  }

  async *listFolders(prefix: string): AsyncIterable<string> {
    yield* foldersListed(this.objects.keys(), prefix);
  }

  /** Keys removed, in order, for assertions. */
  readonly removed: string[] = [];
  /** What each removed key last held, as a versioned bucket keeps it noncurrent. */
  readonly noncurrent = new Map<string, Uint8Array>();

  async remove(key: string): Promise<void> {
    const bytes = this.objects.get(key);
    if (bytes && this.objects.delete(key)) {
      this.removed.push(key);
      this.noncurrent.set(key, bytes);
    }
  }

  /** Text a removed key last held, for assertions. */
  removedText(key: string): string {
    const bytes = this.noncurrent.get(key);
    if (!bytes) throw new ObjectNotFoundError(key);
    return new TextDecoder().decode(bytes);
  }

  /** Text of a stored object, for assertions. */
  text(key: string): string {
    return new TextDecoder().decode(this.objects.get(key));
  }
}

function describe(key: string, bytes: Uint8Array): StoredObject {
  return { key, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * A MemoryStore where a backup's list of reused bodies becomes one list per body, as a plan that
 * met each body in another window would write them: a snapshot naming many lists from few files.
 */
export class ListPerBodyStore extends MemoryStore {
  override async put(key: string, body: Uint8Array | string): Promise<StoredObject> {
    if (!/files\/reused-00001\.json$/.test(key)) return super.put(key, body);
    const entries = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body)) as unknown[];
    for (const [i, entry] of entries.entries())
      await super.put(key.replace('00001', String(i + 1).padStart(5, '0')), JSON.stringify([entry]));
    return super.put(key.replace('00001', '99999'), '[]');
  }
}
