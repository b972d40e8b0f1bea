import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore, InvalidStoreSpecError } from '../../lambdas/adapters/create-store.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describe('createStore', () => {
  it('treats a plain path as a local directory store that works', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'sfvault-create-store-'));
    roots.push(root);
    const store = createStore(root);
    expect(store).toBeInstanceOf(LocalDirectoryStore);
    expect(store.location).toBe(pathToFileURL(root).href);
    await store.put('x.txt', 'hello');
    expect(new TextDecoder().decode(await store.get('x.txt'))).toBe('hello');
    expect(createStore({ dir: root }).location).toBe(store.location);
  });

  it('builds an S3 store from an s3:// URL, with the prefix after the bucket', () => {
    const store = createStore('s3://my-vault/tenant-a');
    expect(store).toBeInstanceOf(S3Store);
    expect(store.location).toBe('s3://my-vault/tenant-a/');
    expect(createStore('s3://my-vault').location).toBe('s3://my-vault/');
  });

  it('builds an S3 store from an object naming the bucket, endpoint, key and prefix', () => {
    const store = createStore({
      s3: {
        bucket: 'vault-bucket',
        endpoint: 'http://127.0.0.1:7480',
        kmsKeyId: 'alias/vault',
        prefix: 'p/',
      },
    });
    expect(store).toBeInstanceOf(S3Store);
    expect(store.location).toBe('s3://vault-bucket/p/');
  });

  it('lists every problem of an S3 spec at once, with what to write instead', () => {
    const attempt = () =>
      createStore({
        s3: { bucket: 'Bad_Bucket', endpoint: 'localhost:7480', kmsKeyId: ' ', prefix: '/abs' },
      });
    expect(attempt).toThrow(InvalidStoreSpecError);
    expect(attempt).toThrow(/s3\.bucket is "Bad_Bucket"/);
    expect(attempt).toThrow(/s3\.endpoint is "localhost:7480": use a URL such as http:\/\/127\.0\.0\.1:7480/);
    expect(attempt).toThrow(/s3\.kmsKeyId/);
    expect(attempt).toThrow(/s3\.prefix is "\/abs"/);
  });

  it('refuses an empty or unrecognised spec with the accepted forms', () => {
    expect(() => createStore('')).toThrow(/give a directory path/);
    expect(() => createStore({ dir: '' })).toThrow(InvalidStoreSpecError);
    expect(() => createStore({ bucket: 'x' } as never)).toThrow(/is not understood/);
  });
});
