import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  type BackupStore,
  ObjectExistsError,
  type ListOptions,
  type ObjectVersion,
  ObjectNotFoundError,
  PointerChangedError,
  type PointerCondition,
  type PutOptions,
  type ReadOptions,
  type StoredObject,
  type StoreEntry,
  type VersionedStore,
  type VersionLock,
} from '../core/store.ts';
import type { RemovingStore } from '../core/removing-store.ts';
import { BodyDigest, checkStoreKey, checkStorePrefix, compareKeys, toBuffer } from './store-key.ts';

/** Default size of a multipart part: memory per upload is about `partSize * (queueSize + 1)`. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Default number of parts in flight at once. */
export const DEFAULT_QUEUE_SIZE = 2;

const READ_AHEAD_BYTES = 256 * 1024;

/** How to reach the bucket when the caller does not pass a ready client. */
export interface S3ConnectionOptions {
  /** @default - the SDK's region chain (AWS_REGION, profile); `us-east-1` when `endpoint` is set */
  readonly region?: string;
  /** An S3-compatible endpoint such as `http://127.0.0.1:7480`. @default - AWS S3 */
  readonly endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need. @default - true when `endpoint` is set */
  readonly forcePathStyle?: boolean;
  /** Static credentials. @default - the SDK's default credential chain */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

/** Options of an S3Store. */
export interface S3StoreOptions extends S3ConnectionOptions {
  /** The vault bucket. */
  readonly bucket: string;
  /** Prepended to every key, e.g. `tenant-a/`. @default - none */
  readonly prefix?: string;
  /** KMS key (id, alias or ARN) for SSE-KMS on every write. @default - the bucket's default encryption */
  readonly kmsKeyId?: string;
  /** An existing client, e.g. one built at module scope in a Lambda. @default - built from the connection options */
  readonly client?: S3Client;
  /** Multipart part size in bytes (at least 5 MiB). @default DEFAULT_PART_SIZE */
  readonly partSize?: number;
  /** Parts uploaded concurrently. @default DEFAULT_QUEUE_SIZE */
  readonly queueSize?: number;
  /**
   * Send `x-amz-bypass-governance-retention` when removing a version, as a bucket in Object Lock
   * GOVERNANCE mode needs (with `s3:BypassGovernanceRetention`). @default false
   */
  readonly bypassGovernanceRetention?: boolean;
}

/** Builds an S3 client with the checksum settings S3-compatible servers such as radosgw need. */
export function createS3Client(options: S3ConnectionOptions = {}): S3Client {
  return new S3Client({
    region: options.region ?? (options.endpoint ? 'us-east-1' : undefined),
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    credentials: options.credentials,
    // The SDK's default CRC32 trailers (aws-chunked uploads) are not understood by radosgw.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * A BackupStore over an S3 bucket (the vault). Writes carry SSE-KMS with the configured key.
 *
 * Overwrite refusal: every immutable write is sent with `If-None-Match: *`, which AWS S3 enforces
 * atomically for PutObject and CompleteMultipartUpload. radosgw (Ceph 16) ignores that condition
 * on a versioned bucket, so the store also checks with HEAD before writing; there, two writers
 * racing on one key can both succeed, and the bucket's versioning keeps both bodies.
 *
 * Conditional pointer writes: `If-Match` with the ETag of the body the caller read, or
 * `If-None-Match: *` when it read none; AWS S3 enforces both atomically. On a versioned radosgw
 * bucket the first is refused even when it matches and the second is ignored, so there only the
 * check just before the write holds, and two writers can interleave between check and write.
 */
export class S3Store implements BackupStore, RemovingStore, VersionedStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly kmsKeyId: string | undefined;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly bypassGovernance: boolean;

  constructor(options: S3StoreOptions) {
    if (!options.bucket || typeof options.bucket !== 'string') {
      throw new TypeError('S3Store needs a bucket name, e.g. { bucket: "my-vault-bucket" }.');
    }
    const prefix = options.prefix ?? '';
    if (prefix !== '') checkStorePrefix(prefix);
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.bucket = options.bucket;
    this.kmsKeyId = options.kmsKeyId;
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.bypassGovernance = options.bypassGovernanceRetention ?? false;
    if (this.partSize < 5 * 1024 * 1024) {
      throw new RangeError(`S3Store partSize ${this.partSize} is below S3's 5 MiB minimum part size.`);
    }
    if (!Number.isInteger(this.queueSize) || this.queueSize < 1) {
      throw new RangeError(`S3Store queueSize ${this.queueSize} must be a whole number of at least 1.`);
    }
    this.client = options.client ?? createS3Client(options);
    this.location = `s3://${this.bucket}/${this.prefix}`;
  }

  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<StoredObject> {
    const objectKey = this.objectKey(key);
    const bytes = toBuffer(body);
    const digest = new BodyDigest().update(bytes);
    await this.refuseExisting(key, objectKey);
    const result = await this.send(key, () =>
      this.client.send(
        new PutObjectCommand({
          ...this.writeParams(objectKey, options),
          Body: bytes,
          ContentLength: bytes.byteLength,
          IfNoneMatch: '*',
          // Verified by AWS S3 on arrival; radosgw accepts and ignores it.
          ChecksumSHA256: Buffer.from(digest.sha256, 'hex').toString('base64'),
          Metadata: { sha256: digest.sha256 },
        }),
      ),
    );
    return stored(key, digest, result.VersionId);
  }

  async putStream(
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    options?: PutOptions,
  ): Promise<StoredObject> {
    const objectKey = this.objectKey(key);
    await this.refuseExisting(key, objectKey);
    const digest = new BodyDigest();
    // The hash is final only when the last part has been read, after the object's metadata was
    // sent, so it is returned to the caller (who records it in the manifest) rather than stored.
    const upload = new Upload({
      client: this.client,
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
      params: {
        ...this.writeParams(objectKey, options),
        // A byte stream with a small buffer, so read-ahead stays small whatever the chunk sizes.
        Body: Readable.from(digest.measure(body), { objectMode: false, highWaterMark: READ_AHEAD_BYTES }),
        IfNoneMatch: '*',
      },
    });
    const result = await this.send(key, () => upload.done());
    return stored(key, digest, result.VersionId);
  }

  async putPointer(key: string, body: string, condition?: PointerCondition): Promise<StoredObject> {
    const objectKey = this.objectKey(key);
    const bytes = toBuffer(body);
    const digest = new BodyDigest().update(bytes);
    const write = (precondition: { IfNoneMatch?: string; IfMatch?: string }) =>
      this.client.send(
        new PutObjectCommand({
          ...this.writeParams(objectKey, undefined),
          Body: bytes,
          ContentLength: bytes.byteLength,
          ChecksumSHA256: Buffer.from(digest.sha256, 'hex').toString('base64'),
          Metadata: { sha256: digest.sha256 },
          ...precondition,
        }),
      );
    if (!condition) return stored(key, digest, (await write({})).VersionId);
    const precondition = await this.pointerPrecondition(key, objectKey, condition);
    try {
      return stored(key, digest, (await write(precondition)).VersionId);
    } catch (error) {
      // 412: the ETag no longer matches (or an object appeared); 409: a concurrent conditional write won.
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (status !== 412 && status !== 409) throw error;
      // radosgw (Ceph 16) answers 412 to every If-Match on a versioned bucket, even one that
      // matches. A pointer still carrying the ETag sent is that case: the check just made is all
      // this server allows, and the write goes ahead without the header.
      if (status === 412 && precondition.IfMatch && (await this.etagOf(objectKey)) === precondition.IfMatch) {
        return stored(key, digest, (await write({})).VersionId);
      }
      throw new PointerChangedError(key);
    }
  }

  private async etagOf(objectKey: string): Promise<string | undefined> {
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }))).ETag;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * The header that makes a pointer write conditional on what the caller read: If-None-Match: *
   * when there was no pointer, else If-Match with the ETag of the body found now, after checking
   * that body is still the one read. AWS S3 enforces both atomically; radosgw ignores them on a
   * versioned bucket, where this check just before the write is what remains.
   */
  private async pointerPrecondition(
    key: string,
    objectKey: string,
    condition: PointerCondition,
  ): Promise<{ IfNoneMatch?: string; IfMatch?: string }> {
    let response: GetObjectCommandOutput;
    try {
      response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      if (condition.current !== null) throw new PointerChangedError(key);
      return { IfNoneMatch: '*' };
    }
    const text = (await response.Body?.transformToString()) ?? '';
    if (condition.current === null || text !== condition.current || !response.ETag) {
      throw new PointerChangedError(key);
    }
    return { IfMatch: response.ETag };
  }

  async get(key: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const objectKey = this.objectKey(key);
    const response = await this.read(key, () =>
      this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, VersionId: options.versionId }),
      ),
    );
    if (!response.Body) throw new ObjectNotFoundError(key);
    return response.Body.transformToByteArray();
  }

  async getStream(key: string, options: ReadOptions = {}): Promise<Readable> {
    const objectKey = this.objectKey(key);
    const response = await this.read(key, () =>
      this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, VersionId: options.versionId }),
      ),
    );
    if (!response.Body) throw new ObjectNotFoundError(key);
    // In Node.js the SDK's body is an IncomingMessage, which is a Readable.
    return response.Body as Readable;
  }

  async head(key: string): Promise<StoreEntry | undefined> {
    const objectKey = this.objectKey(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return { key, bytes: response.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * DeleteObject without a version id: on the versioned vault, a delete marker. The versions
   * stay, noncurrent, until the lifecycle rule expires them. Only the retention sweeper is handed
   * the store as a RemovingStore, and only its role may delete, under its own org's prefix.
   */
  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<StoreEntry> {
    checkStorePrefix(prefix);
    const startAfter = options.afterKey !== undefined ? this.objectKey(options.afterKey) : undefined;
    for await (const page of this.pages(prefix, { startAfter })) {
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { key: object.Key.slice(this.prefix.length), bytes: object.Size ?? 0 };
      }
    }
  }

  async *listFolders(prefix: string): AsyncIterable<string> {
    checkStorePrefix(prefix);
    const full = `${this.prefix}${prefix}`;
    for await (const page of this.pages(prefix, { delimiter: '/' })) {
      for (const common of page.CommonPrefixes ?? []) {
        if (common.Prefix?.startsWith(full)) yield common.Prefix.slice(full.length, -1);
      }
    }
  }

  /** Every page of a ListObjectsV2 under a store prefix; StartAfter counts only on the first request. */
  private async *pages(
    prefix: string,
    options: { startAfter?: string; delimiter?: string },
  ): AsyncIterable<ListObjectsV2CommandOutput> {
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: `${this.prefix}${prefix}`,
          Delimiter: options.delimiter,
          ContinuationToken: continuationToken,
          StartAfter: continuationToken === undefined ? options.startAfter : undefined,
        }),
      );
      yield page;
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async *listVersions(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectVersion> {
    checkStorePrefix(prefix);
    // A key marker alone lists the keys after it, every version of each.
    const keyMarkerGiven = options.afterKey !== undefined ? this.objectKey(options.afterKey) : undefined;
    let keyMarker: string | undefined = keyMarkerGiven;
    let versionIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectVersionsCommand({
          Bucket: this.bucket,
          Prefix: `${this.prefix}${prefix}`,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      const entries: ObjectVersion[] = [
        ...(page.Versions ?? []).map((v) => ({
          key: String(v.Key),
          versionId: v.VersionId ?? 'null',
          latest: v.IsLatest === true,
          bytes: v.Size ?? 0,
          deleteMarker: false,
        })),
        ...(page.DeleteMarkers ?? []).map((m) => ({
          key: String(m.Key),
          versionId: m.VersionId ?? 'null',
          latest: m.IsLatest === true,
          bytes: 0,
          deleteMarker: true,
        })),
      ];
      // S3 gives a page's versions and its delete markers apart, each in key order: merged, every
      // version of a key comes together, and a pass may stop between two keys (see ListOptions).
      entries.sort((a, b) => compareKeys(a.key, b.key));
      for (const entry of entries) {
        if (entry.key === 'undefined') continue;
        // S3 starts after the marker's versions; some compatible servers list them too.
        if (keyMarkerGiven !== undefined && compareKeys(entry.key, keyMarkerGiven) <= 0) continue;
        yield { ...entry, key: entry.key.slice(this.prefix.length) };
      }
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      versionIdMarker = more ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
  }

  async getVersion(key: string, versionId: string): Promise<Uint8Array> {
    return this.get(key, { versionId });
  }

  async replace(key: string, body: Uint8Array | string, options?: PutOptions): Promise<StoredObject> {
    const objectKey = this.objectKey(key);
    const bytes = toBuffer(body);
    const digest = new BodyDigest().update(bytes);
    const result = await this.client.send(
      new PutObjectCommand({
        ...this.writeParams(objectKey, options),
        Body: bytes,
        ContentLength: bytes.byteLength,
        ChecksumSHA256: Buffer.from(digest.sha256, 'hex').toString('base64'),
        Metadata: { sha256: digest.sha256 },
      }),
    );
    return stored(key, digest, result.VersionId);
  }

  /**
   * GetObjectRetention and GetObjectLegalHold of the version, which S3 refuses (AccessDenied) to a
   * caller not allowed them. A HeadObject would answer such a caller too, with the lock headers
   * left out, as if the version had no lock.
   */
  async versionLock(key: string, versionId: string): Promise<VersionLock> {
    const target = { Bucket: this.bucket, Key: this.objectKey(key), VersionId: versionId };
    const [retention, hold] = await Promise.all([
      lockOrNone(this.client.send(new GetObjectRetentionCommand(target))),
      lockOrNone(this.client.send(new GetObjectLegalHoldCommand(target))),
    ]);
    const mode = retention?.Retention?.Mode;
    const until = retention?.Retention?.RetainUntilDate;
    return {
      ...(mode === 'GOVERNANCE' || mode === 'COMPLIANCE' ? { mode } : {}),
      ...(until ? { retainUntil: new Date(until) } : {}),
      legalHold: hold?.LegalHold?.Status === 'ON',
    };
  }

  async deleteVersion(key: string, versionId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          VersionId: versionId,
          ...(this.bypassGovernance ? { BypassGovernanceRetention: true } : {}),
        }),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private objectKey(key: string): string {
    return `${this.prefix}${checkStoreKey(key)}`;
  }

  private writeParams(objectKey: string, options: PutOptions | undefined): PutObjectCommandInput {
    return {
      Bucket: this.bucket,
      Key: objectKey,
      ContentType: options?.contentType,
      ContentEncoding: options?.contentEncoding,
      ...(this.kmsKeyId
        ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.kmsKeyId, BucketKeyEnabled: true }
        : {}),
    };
  }

  private async refuseExisting(key: string, objectKey: string): Promise<void> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    throw new ObjectExistsError(key);
  }

  /** Runs a conditional write, turning S3's "precondition failed" into ObjectExistsError. */
  private async send<T>(key: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      // 412: the key exists. 409 (ConditionalRequestConflict): another conditional write of the
      // same key is under way, as when the workers of a run write one heartbeat together.
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (status === 412 || status === 409) throw new ObjectExistsError(key);
      throw error;
    }
  }

  private async read<T>(key: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }
}

function stored(key: string, digest: BodyDigest, versionId: string | undefined): StoredObject {
  return versionId
    ? { key, bytes: digest.bytes, sha256: digest.sha256, versionId }
    : { key, bytes: digest.bytes, sha256: digest.sha256 };
}

/**
 * A lock's answer, or undefined where there is none: the version has none (404
 * NoSuchObjectLockConfiguration; radosgw names it ObjectLockConfigurationNotFoundError), is gone
 * (404), or the bucket has no Object Lock (400 InvalidRequest saying so). Anything else, a refusal
 * above all, is thrown.
 */
async function lockOrNone<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    if (
      error instanceof S3ServiceException &&
      error.name === 'InvalidRequest' &&
      /object lock/i.test(error.message)
    )
      return undefined;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  // A missing bucket is a configuration problem, never an absent object.
  if (error.name === 'NoSuchBucket') return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
}
