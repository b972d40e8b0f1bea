import { ErrorName } from '../../contract/workflow-contract.ts';
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** A key the store refuses: it could escape the store, collide with a folder, or be unreadable. */
export class InvalidStoreKeyError extends Error {
  override readonly name = ErrorName.InvalidStoreKey;
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Invalid store key ${JSON.stringify(key)}: ${reason}`);
  }
}

// S3 caps keys at 1,024 bytes of UTF-8; a local file name at 255 bytes per path segment.
const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Checks a store key and returns it. Keys are relative, `/`-separated paths: the same key must
 * name the same object in a directory and in a bucket, so anything a file system would read
 * differently (absolute paths, `..`, empty segments, backslashes) is refused with the reason.
 */
export function checkStoreKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidStoreKeyError(
      String(key),
      'a key must be a non-empty string such as "orgs/acme/x.json".',
    );
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidStoreKeyError(key, `a key may hold at most ${MAX_KEY_BYTES} bytes of UTF-8.`);
  }
  if (key.startsWith('/')) {
    throw new InvalidStoreKeyError(key, 'keys are relative; remove the leading "/".');
  }
  if (key.includes('\\')) {
    throw new InvalidStoreKeyError(key, 'use "/" to separate segments, never "\\".');
  }
  if (CONTROL_CHARACTERS.test(key)) {
    throw new InvalidStoreKeyError(key, 'control characters (including NUL and newlines) are not allowed.');
  }
  for (const segment of key.split('/')) {
    if (segment === '') {
      throw new InvalidStoreKeyError(
        key,
        'a key may not end with "/" or contain "//"; every segment needs a name.',
      );
    }
    if (segment === '.' || segment === '..') {
      throw new InvalidStoreKeyError(
        key,
        `the segment "${segment}" is not allowed; keys cannot point outside the store.`,
      );
    }
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) {
      throw new InvalidStoreKeyError(
        key,
        `each segment may hold at most ${MAX_SEGMENT_BYTES} bytes of UTF-8.`,
      );
    }
  }
  return key;
}

/** Checks a listing prefix: empty, or a key-like string that may end with `/`. */
export function checkStorePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkStoreKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** Byte count and SHA-256 of a body, filled in while it streams through `measure`. */
export class BodyDigest {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  private hex: string | undefined;

  /** Passes every chunk of `source` on as a Buffer, hashing and counting it on the way. */
  async *measure(
    source: Readable | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  ): AsyncGenerator<Buffer> {
    for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
      const buffer = toBuffer(chunk);
      this.hash.update(buffer);
      this.count += buffer.byteLength;
      yield buffer;
    }
  }

  /** Hashes a body that is already in memory. */
  update(body: Uint8Array): this {
    this.hash.update(body);
    this.count += body.byteLength;
    return this;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.count;
  }

  /** Lower-case hex SHA-256; call once the body has been read to its end. */
  get sha256(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}

/** Turns a body given as text or bytes into a Buffer without copying bytes. */
export function toBuffer(body: Uint8Array | string): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** Orders keys the way S3 lists them: by their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
