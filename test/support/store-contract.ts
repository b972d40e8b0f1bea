import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { InvalidStoreKeyError } from '../../lambdas/adapters/store-key.ts';
import { type BackupStore, ObjectExistsError, ObjectNotFoundError } from '../../lambdas/core/store.ts';

/** Makes a new, empty store for one test. */
export type StoreFactory = () => Promise<BackupStore>;

/** SHA-256 in lower-case hex, as stores report it. */
export function sha256(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * A deterministic body of `size` bytes produced lazily in `chunkSize` chunks, so that a test can
 * stream far more than it ever holds. `onChunk` sees each chunk before the store does.
 */
export async function* generatedBody(
  size: number,
  chunkSize = 64 * 1024,
  onChunk: (chunk: Buffer) => void = () => {},
): AsyncGenerator<Buffer> {
  let produced = 0;
  let counter = 0;
  while (produced < size) {
    const length = Math.min(chunkSize, size - produced);
    const chunk = Buffer.alloc(length);
    for (let offset = 0; offset + 4 <= length; offset += 4) chunk.writeUInt32BE(counter++ >>> 0, offset);
    onChunk(chunk);
    produced += length;
    yield chunk;
  }
}

/** Hash and size of `generatedBody(size, chunkSize)`, computed without keeping it. */
export async function digestOfGenerated(
  size: number,
  chunkSize = 64 * 1024,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of generatedBody(size, chunkSize)) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

/** The behaviour every BackupStore shares, run against each implementation. */
export function describeBackupStoreContract(name: string, newStore: StoreFactory): void {
  describe(`${name} behaves as a BackupStore`, () => {
    it('returns the exact bytes that were put, with their size and SHA-256', async () => {
      const store = await newStore();
      const body = new Uint8Array([0, 1, 2, 250, 251, 252, 255]);
      const result = await store.put('orgs/acme/blob.bin', body, { contentType: 'application/octet-stream' });
      expect(result).toMatchObject({ key: 'orgs/acme/blob.bin', bytes: 7, sha256: sha256(body) });
      expect(Buffer.from(await store.get('orgs/acme/blob.bin'))).toEqual(Buffer.from(body));
    });

    it('stores a string body as UTF-8', async () => {
      const store = await newStore();
      const result = await store.put('notes/unicode.txt', 'Zürich – 東京');
      expect(result.bytes).toBe(Buffer.byteLength('Zürich – 東京'));
      expect(result.sha256).toBe(sha256('Zürich – 東京'));
      expect(new TextDecoder().decode(await store.get('notes/unicode.txt'))).toBe('Zürich – 東京');
    });

    it('stores an empty body', async () => {
      const store = await newStore();
      const result = await store.put('empty.txt', '');
      expect(result).toMatchObject({ bytes: 0, sha256: sha256('') });
      expect((await store.get('empty.txt')).byteLength).toBe(0);
      expect(await store.head('empty.txt')).toEqual({ key: 'empty.txt', bytes: 0 });
    });

    it('refuses to put over an existing object and keeps the first body', async () => {
      const store = await newStore();
      await store.put('parts/part-00001.csv.gz', 'first');
      await expect(store.put('parts/part-00001.csv.gz', 'second')).rejects.toBeInstanceOf(ObjectExistsError);
      await expect(store.putStream('parts/part-00001.csv.gz', generatedBody(1000))).rejects.toThrow(
        ObjectExistsError,
      );
      expect(new TextDecoder().decode(await store.get('parts/part-00001.csv.gz'))).toBe('first');
    });

    it('names the key in the ObjectExistsError it throws', async () => {
      const store = await newStore();
      await store.put('a/once.json', '{}');
      const error = await store.put('a/once.json', '{}').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ObjectExistsError);
      expect((error as ObjectExistsError).name).toBe('ObjectExistsError');
      expect((error as ObjectExistsError).key).toBe('a/once.json');
    });

    it('streams a body from an async iterable, reporting the size and SHA-256 it computed', async () => {
      const store = await newStore();
      const size = 3 * 1024 * 1024 + 17;
      const result = await store.putStream('streams/generated.bin', generatedBody(size, 100_000));
      expect(result).toMatchObject({
        key: 'streams/generated.bin',
        ...(await digestOfGenerated(size, 100_000)),
      });
      expect(sha256(await store.get('streams/generated.bin'))).toBe(result.sha256);
    });

    it('streams a body from a Node.js Readable, including string chunks', async () => {
      const store = await newStore();
      const result = await store.putStream(
        'streams/readable.txt',
        Readable.from(['alpha,', 'beta,', 'gamma']),
      );
      expect(result).toMatchObject({ bytes: 16, sha256: sha256('alpha,beta,gamma') });
      expect(await text(await store.getStream('streams/readable.txt'))).toBe('alpha,beta,gamma');
    });

    it('stores no object when the streamed body fails part way', async () => {
      const store = await newStore();
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield Buffer.from('some rows\n');
        throw new Error('the source connection was cut');
      }
      await expect(store.putStream('streams/broken.csv', failing())).rejects.toThrow(
        'the source connection was cut',
      );
      expect(await store.head('streams/broken.csv')).toBeUndefined();
      await store.putStream('streams/broken.csv', Readable.from([Buffer.from('retried\n')]));
      expect(new TextDecoder().decode(await store.get('streams/broken.csv'))).toBe('retried\n');
    });

    it('overwrites a pointer and reads back the newest value', async () => {
      const store = await newStore();
      const first = await store.putPointer('orgs/acme/latest-complete.json', '{"snapshot":"1"}');
      const second = await store.putPointer('orgs/acme/latest-complete.json', '{"snapshot":"2"}');
      expect(first.sha256).toBe(sha256('{"snapshot":"1"}'));
      expect(second).toMatchObject({ bytes: 16, sha256: sha256('{"snapshot":"2"}') });
      expect(new TextDecoder().decode(await store.get('orgs/acme/latest-complete.json'))).toBe(
        '{"snapshot":"2"}',
      );
    });

    it('reads an object as a stream', async () => {
      const store = await newStore();
      await store.put('read/me.txt', 'streamed back');
      expect(await text(await store.getStream('read/me.txt'))).toBe('streamed back');
    });

    it('fails reads of a missing key with ObjectNotFoundError and heads it as undefined', async () => {
      const store = await newStore();
      await store.put('present/x.txt', 'x');
      await expect(store.get('present/y.txt')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.getStream('present/y.txt')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.get('present')).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.head('present/y.txt')).toBeUndefined();
      expect(await store.head('present')).toBeUndefined();
    });

    it('reports the size of an object through head', async () => {
      const store = await newStore();
      await store.put('sizes/ten.bin', new Uint8Array(10));
      expect(await store.head('sizes/ten.bin')).toEqual({ key: 'sizes/ten.bin', bytes: 10 });
    });

    it('lists every key under a prefix, nested ones too, in lexicographic byte order', async () => {
      const store = await newStore();
      const keys = [
        's/b.json',
        's/a/z.txt',
        's/a-1.txt',
        's/a/b/c.txt',
        's/A.txt',
        's/é.txt',
        't/outside.txt',
      ];
      for (const key of keys) await store.put(key, key);
      const listed = await collect(store.list('s/'));
      expect(listed.map((entry) => entry.key)).toEqual([
        's/A.txt',
        's/a-1.txt',
        's/a/b/c.txt',
        's/a/z.txt',
        's/b.json',
        's/é.txt',
      ]);
      expect(listed.find((entry) => entry.key === 's/é.txt')?.bytes).toBe(Buffer.byteLength('s/é.txt'));
    });

    it('lists by a prefix that ends inside a name, as S3 does', async () => {
      const store = await newStore();
      for (const key of ['snap/2024-01/a', 'snap/2024-02/b', 'snap/2025-01/c', 'snap/2024.txt']) {
        await store.put(key, 'x');
      }
      const listed = await collect(store.list('snap/2024-'));
      expect(listed.map((entry) => entry.key)).toEqual(['snap/2024-01/a', 'snap/2024-02/b']);
      expect(await collect(store.list('snap/2026'))).toEqual([]);
      expect(await collect(store.list('nothing/here/'))).toEqual([]);
    });

    it('lists more than a thousand keys completely and in order', async () => {
      const store = await newStore();
      const keys = Array.from({ length: 1105 }, (_, index) => `many/${String(index).padStart(5, '0')}.json`);
      // Fifty at a time: the SDK's default connection pool size.
      for (let start = 0; start < keys.length; start += 50) {
        await Promise.all(keys.slice(start, start + 50).map((key) => store.put(key, '1')));
      }
      const listed = await collect(store.list('many/'));
      expect(listed.length).toBe(1105);
      expect(listed.map((entry) => entry.key)).toEqual(keys);
      expect(listed.every((entry) => entry.bytes === 1)).toBe(true);
    });

    it('refuses keys that could escape the store or read differently as paths', async () => {
      const store = await newStore();
      for (const key of [
        '../outside.txt',
        'a/../../b',
        '/etc/passwd',
        'a//b',
        'a/./b',
        'a/',
        '',
        'a\\b',
        'a\nb',
      ]) {
        await expect(store.put(key, 'x'), key).rejects.toBeInstanceOf(InvalidStoreKeyError);
        await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidStoreKeyError);
        await expect(store.head(key), key).rejects.toBeInstanceOf(InvalidStoreKeyError);
      }
      await expect(store.putPointer('../pointer.json', 'x')).rejects.toThrow(
        /cannot point outside the store/,
      );
      await expect(collect(store.list('../'))).rejects.toBeInstanceOf(InvalidStoreKeyError);
    });
  });
}
