import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  ListObjectVersionsCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { createStore } from '../../lambdas/adapters/create-store.ts';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { ObjectNotFoundError, PointerChangedError } from '../../lambdas/core/store.ts';
import {
  checkRadosgwBinaries,
  RADOSGW_OPT_OUT_ENV,
  RadosgwUnavailableError,
  radosgwOptedOut,
  startRadosgw,
} from '../support/radosgw.ts';
import { radosgwBucket } from '../support/radosgw-bucket.ts';
import {
  describeBackupStoreContract,
  digestOfGenerated,
  generatedBody,
  sha256,
} from '../support/store-contract.ts';

const MiB = 1024 * 1024;

describe('the radosgw test harness', () => {
  it('names the packages to install, and the opt-out, when Ceph is missing', async () => {
    const error = await checkRadosgwBinaries([]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RadosgwUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain('apt-get install -y radosgw ceph-mon ceph-osd ceph-common');
    expect(message).toContain('radosgw-admin');
    expect(message).toContain(`${RADOSGW_OPT_OUT_ENV}=1`);
  });
});

/** Processes whose command line mentions `text`, read from /proc. */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes(text)) found.push(`${pid}: ${commandLine.replaceAll('\0', ' ')}`);
  }
  return found;
}

describe.skipIf(radosgwOptedOut())('a radosgw started by the tests', () => {
  it('serves S3 until stopped, then leaves no process and no directory behind', async () => {
    const rgw = await startRadosgw();
    try {
      expect(await processesMentioning(rgw.directory)).not.toEqual([]);
      const bucket = await rgw.createBucket('lifecycle');
      const store = new S3Store(rgw.storeOptions(bucket));
      await store.put('alive.txt', 'yes');
      expect(await store.head('alive.txt')).toEqual({ key: 'alive.txt', bytes: 3 });
    } finally {
      await rgw.stop();
    }
    expect(await processesMentioning(rgw.directory)).toEqual([]);
    expect(existsSync(rgw.directory)).toBe(false);
    await expect(fetch(rgw.endpoint)).rejects.toThrow();
  });
});

// Skipped only when a developer opts out explicitly; a missing radosgw fails these tests.
describe.skipIf(radosgwOptedOut())('S3Store against radosgw', () => {
  const vault = radosgwBucket('store-tests');

  // Each contract test gets its own prefix in the shared bucket, which also exercises `prefix`.
  describeBackupStoreContract('S3Store', async () => {
    const { rgw, bucket } = vault();
    return new S3Store(rgw.storeOptions(bucket, { prefix: `contract-${randomBytes(4).toString('hex')}` }));
  });

  const newStore = (options: Partial<ConstructorParameters<typeof S3Store>[0]> = {}) => {
    const { rgw, bucket } = vault();
    return new S3Store(rgw.storeOptions(bucket, options));
  };

  it('returns the version id of each write and records the SHA-256 as object metadata', async () => {
    const { s3, bucket } = vault();
    const store = newStore();
    const result = await store.put('versions/part.csv', 'a,b\n1,2\n', { contentType: 'text/csv' });
    expect(result.versionId).toMatch(/\S/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'versions/part.csv' }));
    expect(head.VersionId).toBe(result.versionId);
    expect(head.Metadata?.sha256).toBe(sha256('a,b\n1,2\n'));
    expect(head.ContentType).toBe('text/csv');
  });

  it("reports each version's legal hold and retention as S3 gives them, and none where there is none", async () => {
    const { rgw, s3 } = vault();
    const locked = await rgw.createBucket('store-locks', { objectLock: true });
    const store = new S3Store(rgw.storeOptions(locked));
    const first = await store.put('locks/part.csv', 'a\n1\n');
    const second = await store.replace('locks/part.csv', 'a\n2\n');
    const plain = await store.put('locks/other.csv', 'a\n3\n');
    const until = new Date(Date.now() + 86_400_000);
    const legalHold = (Status: 'ON' | 'OFF') =>
      s3.send(
        new PutObjectLegalHoldCommand({
          Bucket: locked,
          Key: 'locks/part.csv',
          VersionId: first.versionId,
          LegalHold: { Status },
        }),
      );
    await legalHold('ON');
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket: locked,
        Key: 'locks/part.csv',
        VersionId: second.versionId,
        Retention: { Mode: 'COMPLIANCE', RetainUntilDate: until },
      }),
    );
    expect(await store.versionLock('locks/part.csv', first.versionId!)).toMatchObject({ legalHold: true });
    const retained = await store.versionLock('locks/part.csv', second.versionId!);
    expect(retained).toMatchObject({ mode: 'COMPLIANCE', legalHold: false });
    expect(Math.abs(retained.retainUntil!.getTime() - until.getTime())).toBeLessThan(1000);
    expect(await store.versionLock('locks/other.csv', plain.versionId!)).toEqual({ legalHold: false });
    // The held version cannot be removed while the hold is on; lifted, it can.
    await expect(store.deleteVersion('locks/part.csv', first.versionId!)).rejects.toThrow();
    await legalHold('OFF');
    expect(await store.versionLock('locks/part.csv', first.versionId!)).toEqual({ legalHold: false });
    await store.deleteVersion('locks/part.csv', first.versionId!);
    // A removed version, and a bucket without Object Lock (S3 answers InvalidRequest), hold no lock.
    expect(await store.versionLock('locks/part.csv', first.versionId!)).toEqual({ legalHold: false });
    const unlocked = newStore();
    const written = await unlocked.put('locks/unlocked.csv', 'a\n4\n');
    expect(await unlocked.versionLock('locks/unlocked.csv', written.versionId!)).toEqual({
      legalHold: false,
    });
  });

  it('lists every version of the keys after a given key, in key order, so a long pass goes on where it stopped', async () => {
    const store = newStore({ prefix: 'tenant-a/' });
    for (const key of [
      'after/x/1.json',
      'after/x/1.json',
      'after/x-2.json',
      'after/x/2.json',
      'after/x/2.json',
      'after/y.json',
    ])
      await store.replace(key, `{"at":"${key}"}`);
    const listed = async (afterKey?: string) => {
      const keys: string[] = [];
      for await (const v of store.listVersions('after/', afterKey ? { afterKey } : {})) keys.push(v.key);
      return keys;
    };
    // A delete marker comes with its key's versions, not after the page's versions.
    await store.remove('after/x-2.json');
    // S3 orders keys by their bytes: "x-2.json" before "x/1.json".
    expect(await listed()).toEqual([
      'after/x-2.json',
      'after/x-2.json',
      'after/x/1.json',
      'after/x/1.json',
      'after/x/2.json',
      'after/x/2.json',
      'after/y.json',
    ]);
    expect(await listed('after/x/1.json')).toEqual(['after/x/2.json', 'after/x/2.json', 'after/y.json']);
    expect(await listed('after/y.json')).toEqual([]);
  });

  it('lists only the current keys after a given key, within its tenant prefix', async () => {
    const store = newStore({ prefix: 'tenant-b/' });
    for (const key of ['from/a/1.json', 'from/x/1.json', 'from/x-2.json', 'from/x/2.json', 'from/y.json'])
      await store.put(key, '{}');
    await store.remove('from/x/2.json');
    const listed = async (afterKey: string) => {
      const keys: string[] = [];
      for await (const entry of store.list('from/', { afterKey })) keys.push(entry.key);
      return keys;
    };
    expect(await listed('from/a/1.json')).toEqual(['from/x-2.json', 'from/x/1.json', 'from/y.json']);
    expect(await listed('from/x/1.z')).toEqual(['from/y.json']);
    expect(await listed('from/y.json')).toEqual([]);
  });

  it('names the folders under a prefix that hold a current object, within its tenant prefix', async () => {
    const store = newStore({ prefix: 'tenant-c/' });
    for (const key of [
      'orgs/acme/snapshots/b/objects/Account/part-1.csv.gz',
      'orgs/acme/snapshots/a-2/plan.json',
      'orgs/acme/snapshots/a/plan.json',
      'orgs/acme/snapshots/c/plan.json',
      'orgs/acme/snapshots/loose.json',
    ])
      await store.put(key, '{}');
    await store.remove('orgs/acme/snapshots/c/plan.json');
    const folders: string[] = [];
    for await (const name of store.listFolders('orgs/acme/snapshots/')) folders.push(name);
    expect(folders).toEqual(['a-2', 'a', 'b']);
  });

  it('keeps every version of a pointer: two writes leave two versions, the newest one current', async () => {
    const { s3, bucket } = vault();
    const store = newStore();
    const first = await store.putPointer('orgs/acme/latest-complete.json', '{"snapshot":"s1"}');
    const second = await store.putPointer('orgs/acme/latest-complete.json', '{"snapshot":"s2"}');
    expect(first.versionId).not.toBe(second.versionId);
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'orgs/acme/latest-complete.json' }),
    );
    expect(versions.Versions?.map((version) => version.VersionId).sort()).toEqual(
      [first.versionId, second.versionId].sort(),
    );
    expect(versions.Versions?.find((version) => version.IsLatest)?.VersionId).toBe(second.versionId);
    const old = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'orgs/acme/latest-complete.json',
        VersionId: first.versionId,
      }),
    );
    expect(await old.Body?.transformToString()).toBe('{"snapshot":"s1"}');
  });

  it('makes a pointer write conditional on the body read: If-Match with its ETag, or If-None-Match when there was none', async () => {
    const { rgw, s3, bucket } = vault();
    const client = rgw.client();
    const puts: Record<string, string>[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { method?: string; headers?: Record<string, string> };
        if (request.method === 'PUT') puts.push({ ...request.headers });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordPointerPuts' },
    );
    const store = newStore({ client });
    const key = `conditional-${randomBytes(4).toString('hex')}/latest-complete.json`;
    await store.putPointer(key, 'one', { current: null });
    expect(puts[0]?.['if-none-match']).toBe('*');
    const etag = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;
    await store.putPointer(key, 'two', { current: 'one' });
    expect(puts[1]?.['if-match']).toBe(etag);
    expect(puts[1]?.['if-none-match']).toBeUndefined();
    client.destroy();
  });

  it('refuses a conditional pointer write when the pointer changed since it was read, writing nothing', async () => {
    const { s3, bucket } = vault();
    const store = newStore();
    const key = `conditional-${randomBytes(4).toString('hex')}/latest-complete.json`;
    await store.putPointer(key, 'read');
    await store.putPointer(key, 'written by another run');
    await expect(store.putPointer(key, 'mine', { current: 'read' })).rejects.toBeInstanceOf(
      PointerChangedError,
    );
    await expect(store.putPointer(key, 'mine', { current: null })).rejects.toBeInstanceOf(
      PointerChangedError,
    );
    expect(new TextDecoder().decode(await store.get(key))).toBe('written by another run');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    expect(versions.Versions).toHaveLength(2);
  });

  it('encrypts every write with SSE-KMS under the configured key and reads back plaintext', async () => {
    const { rgw, s3, bucket } = vault();
    const store = newStore();
    await store.put('kms/put.txt', 'customer data');
    await store.putPointer('kms/pointer.json', '{"p":1}');
    await store.putStream('kms/stream.bin', generatedBody(6 * MiB));
    for (const key of ['kms/put.txt', 'kms/pointer.json', 'kms/stream.bin']) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(head.ServerSideEncryption, key).toBe('aws:kms');
      expect(head.SSEKMSKeyId, key).toBe(rgw.kmsKeyId);
    }
    expect(new TextDecoder().decode(await store.get('kms/put.txt'))).toBe('customer data');
    expect(sha256(await store.get('kms/stream.bin'))).toBe((await digestOfGenerated(6 * MiB)).sha256);
  });

  it('fails a write under a KMS key the server does not hold, storing nothing', async () => {
    const store = newStore({ kmsKeyId: 'no-such-key' });
    await expect(store.put('kms/unknown-key.txt', 'x')).rejects.toThrow();
    expect(await newStore().head('kms/unknown-key.txt')).toBeUndefined();
  });

  it('uploads a large stream in several parts with bounded memory and the right SHA-256', async () => {
    const { rgw, s3, bucket } = vault();
    const partSize = 5 * MiB;
    const size = 30 * MiB + 12_345;
    let uploaded = 0;
    let produced = 0;
    let largestLead = 0;
    const client = rgw.client();
    // Counts bytes that have reached the server, so the test can see how far reading runs ahead.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'UploadPartCommand') {
          uploaded += ((args.input as { Body?: Uint8Array }).Body ?? new Uint8Array()).byteLength;
        }
        return result;
      },
      { step: 'initialize', name: 'countUploadedPartBytes' },
    );
    const store = newStore({ client, partSize, queueSize: 1 });
    const body = generatedBody(size, 64 * 1024, (chunk) => {
      produced += chunk.length;
      largestLead = Math.max(largestLead, produced - uploaded);
    });
    const result = await store.putStream('multipart/big.bin', body);
    client.destroy();

    expect(result).toMatchObject({ key: 'multipart/big.bin', ...(await digestOfGenerated(size)) });
    expect(result.versionId).toMatch(/\S/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/big.bin' }));
    expect(head.ContentLength).toBe(size);
    expect(head.ETag).toMatch(/-7"$/);
    // The part in flight plus a little read-ahead: the rest of the body is not read yet.
    expect(largestLead).toBeLessThanOrEqual(partSize + MiB);
    const hash = createHash('sha256');
    for await (const chunk of await store.getStream('multipart/big.bin')) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(result.sha256);
  });

  it('keeps keys under its prefix and lists them without it', async () => {
    const { s3, bucket } = vault();
    const store = newStore({ prefix: 'tenant-a/' });
    await store.put('x/1.txt', '1');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tenant-a/x/1.txt' }));
    expect(head.ContentLength).toBe(1);
    const keys: string[] = [];
    for await (const entry of store.list('x/')) keys.push(entry.key);
    expect(keys).toEqual(['x/1.txt']);
    expect(store.location).toBe(`s3://${bucket}/tenant-a/`);
  });

  it('tells a missing bucket apart from a missing object', async () => {
    const { rgw } = vault();
    const store = new S3Store(rgw.storeOptions('no-such-bucket-here'));
    const error = await store.get('x').catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(ObjectNotFoundError);
    expect((error as Error).name).toBe('NoSuchBucket');
  });

  it('is what createStore builds from an s3 spec naming the endpoint, bucket and key', async () => {
    const { rgw, s3, bucket } = vault();
    // Credentials come from the environment, as they do for the CLI.
    for (const [name, value] of Object.entries(rgw.env)) vi.stubEnv(name, value);
    const store = createStore({
      s3: { bucket, endpoint: rgw.endpoint, kmsKeyId: rgw.kmsKeyId, prefix: 'cli/' },
    });
    const stored = await store.put('from-cli.txt', 'via createStore').finally(() => vi.unstubAllEnvs());
    expect(stored.versionId).toMatch(/\S/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cli/from-cli.txt' }));
    expect(head.SSEKMSKeyId).toBe(rgw.kmsKeyId);
  });

  it('refuses part sizes below the S3 minimum', () => {
    expect(() => newStore({ partSize: MiB })).toThrow(/5 MiB minimum/);
  });
});
