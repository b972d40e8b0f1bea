import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDirectoryStore, STAGING_FOLDER } from '../../lambdas/adapters/local-store.ts';
import { InvalidStoreKeyError } from '../../lambdas/adapters/store-key.ts';
import { ObjectExistsError, ObjectNotFoundError, PointerChangedError } from '../../lambdas/core/store.ts';
import { describeBackupStoreContract, generatedBody } from '../support/store-contract.ts';

const roots: string[] = [];

async function newRoot(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'sfvault-local-store-'));
  roots.push(root);
  return root;
}

afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describeBackupStoreContract('LocalDirectoryStore', async () => new LocalDirectoryStore(await newRoot()));

describe('LocalDirectoryStore', () => {
  it('keeps each object as a plain file at its key, readable without this project', async () => {
    const root = await newRoot();
    const store = new LocalDirectoryStore(root);
    await store.put('orgs/acme/snapshots/s1/manifest.json', '{"ok":true}');
    expect(await readFile(path.join(root, 'orgs', 'acme', 'snapshots', 's1', 'manifest.json'), 'utf8')).toBe(
      '{"ok":true}',
    );
    expect(store.location).toBe(pathToFileURL(root).href);
  });

  it('lets exactly one of many concurrent writers of a key win', async () => {
    const store = new LocalDirectoryStore(await newRoot());
    const bodies = Array.from({ length: 12 }, (_, index) => `writer ${index}`);
    const outcomes = await Promise.allSettled(bodies.map((body) => store.put('race/part.csv', body)));
    const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const losers = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers.every((outcome) => outcome.reason instanceof ObjectExistsError)).toBe(true);
    const winner = bodies[outcomes.findIndex((outcome) => outcome.status === 'fulfilled')];
    expect(new TextDecoder().decode(await store.get('race/part.csv'))).toBe(winner);
  });

  it('lets exactly one of many concurrent conditional writers replace the pointer they all read', async () => {
    const store = new LocalDirectoryStore(await newRoot());
    await store.putPointer('orgs/acme/latest-complete.json', 'first');
    const bodies = Array.from({ length: 12 }, (_, index) => `writer ${index}`);
    const outcomes = await Promise.allSettled(
      bodies.map((body) => store.putPointer('orgs/acme/latest-complete.json', body, { current: 'first' })),
    );
    const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    const losers = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(losers.every((outcome) => outcome.reason instanceof PointerChangedError)).toBe(true);
    const winner = bodies[outcomes.findIndex((outcome) => outcome.status === 'fulfilled')];
    expect(new TextDecoder().decode(await store.get('orgs/acme/latest-complete.json'))).toBe(winner);
  });

  it('writes a conditional pointer only where none exists when the caller read none', async () => {
    const root = await newRoot();
    const store = new LocalDirectoryStore(root);
    await store.putPointer('a/pointer.json', 'one', { current: null });
    await expect(store.putPointer('a/pointer.json', 'two', { current: null })).rejects.toBeInstanceOf(
      PointerChangedError,
    );
    expect(new TextDecoder().decode(await store.get('a/pointer.json'))).toBe('one');
    expect(await readdir(path.join(root, STAGING_FOLDER))).toEqual([]);
  });

  it('leaves no staging files behind after writes, failed writes and refusals', async () => {
    const root = await newRoot();
    const store = new LocalDirectoryStore(root);
    await store.putStream('a/b.bin', generatedBody(200_000));
    await store.putPointer('a/pointer.json', '1');
    await store.putPointer('a/pointer.json', '2');
    await expect(store.put('a/b.bin', 'again')).rejects.toBeInstanceOf(ObjectExistsError);
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('x');
      throw new Error('cut');
    }
    await expect(store.putStream('a/c.bin', broken())).rejects.toThrow('cut');
    expect(await readdir(path.join(root, STAGING_FOLDER))).toEqual([]);
  });

  it('does not list its staging folder and refuses keys inside it', async () => {
    const store = new LocalDirectoryStore(await newRoot());
    await store.put('visible.txt', 'x');
    const keys: string[] = [];
    for await (const entry of store.list('')) keys.push(entry.key);
    expect(keys).toEqual(['visible.txt']);
    await expect(store.put(`${STAGING_FOLDER}/x`, 'x')).rejects.toThrow(/reserved/);
  });

  it('explains that a key cannot be both an object and a folder', async () => {
    const store = new LocalDirectoryStore(await newRoot());
    await store.put('a/b', 'object');
    await expect(store.put('a/b/c', 'nested')).rejects.toThrow(InvalidStoreKeyError);
    await expect(store.put('a', 'parent')).rejects.toThrow(/cannot hold both/);
    await expect(store.putPointer('a', 'parent')).rejects.toThrow(/cannot hold both/);
  });

  it('reads from a directory that does not exist yet as an empty store', async () => {
    const store = new LocalDirectoryStore(path.join(await newRoot(), 'not', 'created'));
    expect(await store.head('x')).toBeUndefined();
    const keys: string[] = [];
    for await (const entry of store.list('')) keys.push(entry.key);
    expect(keys).toEqual([]);
    await store.put('x', 'now it exists');
    expect(await store.head('x')).toEqual({ key: 'x', bytes: 13 });
  });

  it('asks for a directory path when given none', () => {
    expect(() => new LocalDirectoryStore('  ')).toThrow(/needs the path of a directory/);
  });
});

describe('LocalDirectoryStore listings that go on from a key', () => {
  it('lists only the keys after the given one, in byte order, skipping whole folders before it', async () => {
    const store = new LocalDirectoryStore(await newRoot());
    for (const key of [
      'orgs/acme/a/1.json',
      'orgs/acme/x/1.json',
      'orgs/acme/x-2.json',
      'orgs/acme/x/2.json',
      'orgs/acme/y.json',
    ])
      await store.put(key, '{}');
    const listed = async (afterKey: string) => {
      const keys: string[] = [];
      for await (const entry of store.list('orgs/acme/', { afterKey })) keys.push(entry.key);
      return keys;
    };
    expect(await listed('orgs/acme/a/1.json')).toEqual([
      'orgs/acme/x-2.json',
      'orgs/acme/x/1.json',
      'orgs/acme/x/2.json',
      'orgs/acme/y.json',
    ]);
    // A key that is not stored still marks where the listing goes on.
    expect(await listed('orgs/acme/x/1.z')).toEqual(['orgs/acme/x/2.json', 'orgs/acme/y.json']);
    expect(await listed('orgs/acme/x/')).toEqual([
      'orgs/acme/x/1.json',
      'orgs/acme/x/2.json',
      'orgs/acme/y.json',
    ]);
    expect(await listed('orgs/acme/z')).toEqual([]);
  });
});

describe('LocalDirectoryStore folder listings', () => {
  it('names the folders under a prefix that hold an object, in key order, and not one a removal left empty', async () => {
    const store = new LocalDirectoryStore(await newRoot());
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
    // By bytes, as S3 orders its common prefixes: "a-2/" before "a/".
    expect(folders).toEqual(['a-2', 'a', 'b']);
    const none: string[] = [];
    for await (const name of store.listFolders('orgs/other/')) none.push(name);
    expect(none).toEqual([]);
  });
});

describe('LocalDirectoryStore as the versioned store erasure uses', () => {
  it('lists the keys after a given key in the order S3 lists them, so a long pass goes on where it stopped', async () => {
    const store = new LocalDirectoryStore(await newRoot());
    for (const key of ['orgs/acme/x/1.json', 'orgs/acme/x-2.json', 'orgs/acme/x/2.json', 'orgs/acme/y.json'])
      await store.put(key, '{}');
    const listed = async (afterKey?: string) => {
      const keys: string[] = [];
      for await (const v of store.listVersions('orgs/acme/', afterKey ? { afterKey } : {})) keys.push(v.key);
      return keys;
    };
    // By their bytes, as S3: "x-2.json" before the folder "x/".
    expect(await listed()).toEqual([
      'orgs/acme/x-2.json',
      'orgs/acme/x/1.json',
      'orgs/acme/x/2.json',
      'orgs/acme/y.json',
    ]);
    expect(await listed('orgs/acme/x-2.json')).toEqual([
      'orgs/acme/x/1.json',
      'orgs/acme/x/2.json',
      'orgs/acme/y.json',
    ]);
    expect(await listed('orgs/acme/x/2.json')).toEqual(['orgs/acme/y.json']);
  });

  it('holds one version per key, which a replace rewrites in place and a version removal deletes', async () => {
    const store = new LocalDirectoryStore(await newRoot());
    await store.put('orgs/acme/part.csv', 'Id\n1\n2\n');
    // GIVEN one version, named as S3 names the version of an unversioned bucket
    const listed = [];
    for await (const v of store.listVersions('orgs/acme/')) listed.push(v);
    expect(listed).toEqual([
      { key: 'orgs/acme/part.csv', versionId: 'null', latest: true, bytes: 7, deleteMarker: false },
    ]);
    // WHEN it is replaced THEN the key holds the new body and still one version
    const written = await store.replace('orgs/acme/part.csv', 'Id\n1\n');
    expect(written).toMatchObject({ key: 'orgs/acme/part.csv', bytes: 5 });
    expect(new TextDecoder().decode(await store.getVersion('orgs/acme/part.csv', 'null'))).toBe('Id\n1\n');
    await expect(store.getVersion('orgs/acme/part.csv', 'other')).rejects.toBeInstanceOf(ObjectNotFoundError);
    // WHEN its one version is removed, twice THEN it is gone, and the second removal succeeds
    await store.deleteVersion('orgs/acme/part.csv', 'null');
    await store.deleteVersion('orgs/acme/part.csv', 'null');
    expect(await store.head('orgs/acme/part.csv')).toBeUndefined();
  });
});
