import { createHash, randomUUID } from 'node:crypto';
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import {
  type BackupStore,
  ObjectExistsError,
  type ListOptions,
  type ObjectVersion,
  ObjectNotFoundError,
  PointerChangedError,
  type PointerCondition,
  type PutOptions,
  type StoredObject,
  type StoreEntry,
  type VersionedStore,
  type VersionLock,
} from '../core/store.ts';
import type { RemovingStore } from '../core/removing-store.ts';
import {
  BodyDigest,
  checkStoreKey,
  checkStorePrefix,
  compareKeys,
  InvalidStoreKeyError,
  toBuffer,
} from './store-key.ts';

/**
 * Folder, at the store's root, for bodies being written. It sits on the same file system as the
 * objects so that publishing a finished body is a single link or rename.
 */
export const STAGING_FOLDER = '.sfvault-staging';

/** The version id of a key's one version in a directory store. */
export const LOCAL_VERSION_ID = 'null';

/** Age past which a pointer lock is taken to be left by a writer that stopped. */
const LOCK_STALE_MS = 30_000;
/** Tries to take a held pointer lock (about 15 ms apart) before giving up. */
const LOCK_WAITS = 2_000;

/**
 * A BackupStore over a local directory: key `a/b.json` is the file `<root>/a/b.json`, so a
 * snapshot can be read with ordinary tools. Writes go to a staging file first and are published
 * atomically: immutable objects with `link` (which fails if the name exists, so of two concurrent
 * writers exactly one wins) and pointers with `rename` (which replaces the old file in one step);
 * a conditional pointer write compares and renames under a lock file every process sees.
 * Content type and encoding are not recorded; the file holds the bytes exactly as given.
 */
export class LocalDirectoryStore implements BackupStore, RemovingStore, VersionedStore {
  readonly location: string;
  /** Absolute path of the store's root directory. */
  readonly root: string;

  constructor(root: string) {
    if (typeof root !== 'string' || root.trim() === '') {
      throw new TypeError('LocalDirectoryStore needs the path of a directory, e.g. "./.sfbackup/store".');
    }
    this.root = path.resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  async put(key: string, body: Uint8Array | string, _options?: PutOptions): Promise<StoredObject> {
    return this.publish(key, [toBuffer(body)]);
  }

  async putStream(
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    _options?: PutOptions,
  ): Promise<StoredObject> {
    return this.publish(key, body);
  }

  private async publish(
    key: string,
    body: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<StoredObject> {
    const target = this.pathOf(key);
    // A cheap early refusal; the link below is what makes the rule hold under concurrency.
    if (await isFile(target)) throw new ObjectExistsError(key);
    const staged = await this.stage(body);
    try {
      await this.makeParent(key, target);
      try {
        await link(staged.path, target);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
        if (await isFile(target)) throw new ObjectExistsError(key);
        throw conflict(key);
      }
    } finally {
      await unlink(staged.path).catch(() => undefined);
    }
    return { key, bytes: staged.digest.bytes, sha256: staged.digest.sha256 };
  }

  async putPointer(key: string, body: string, condition?: PointerCondition): Promise<StoredObject> {
    const target = this.pathOf(key);
    const staged = await this.stage([toBuffer(body)]);
    try {
      await this.makeParent(key, target);
      if (condition) {
        // Compare and replace under the key's lock, so no other writer can land in between.
        await this.withLock(key, async () => {
          if ((await this.currentText(target)) !== condition.current) throw new PointerChangedError(key);
          await rename(staged.path, target);
        });
      } else {
        await rename(staged.path, target);
      }
    } catch (error) {
      await unlink(staged.path).catch(() => undefined);
      if (['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes(errorCode(error) ?? '')) throw conflict(key);
      throw error;
    }
    return { key, bytes: staged.digest.bytes, sha256: staged.digest.sha256 };
  }

  private async currentText(target: string): Promise<string | null> {
    try {
      return await readFile(target, 'utf8');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /**
   * Runs `work` holding the key's lock: a file created exclusively in the staging folder, which
   * every process sharing the directory sees. A lock older than LOCK_STALE_MS is left by a writer
   * that stopped mid-way (the work it guards takes milliseconds) and is taken over.
   */
  private async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const folder = path.join(this.root, STAGING_FOLDER);
    const lock = path.join(folder, `${createHash('sha256').update(key).digest('hex')}.lock`);
    for (let waited = 0; ; waited++) {
      try {
        const handle = await open(lock, 'wx');
        await handle.close();
        break;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
        const held = await stat(lock).catch(() => undefined);
        if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) {
          await unlink(lock).catch(() => undefined);
          continue;
        }
        if (waited >= LOCK_WAITS) {
          throw new Error(
            `The pointer ${key} stayed locked by another writer (${lock}); if no backup is running, delete that file.`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 20)));
      }
    }
    try {
      return await work();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async getStream(key: string): Promise<Readable> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
    // Opening a directory for reading succeeds on Linux; only a regular file is an object.
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new ObjectNotFoundError(key);
    }
    return handle.createReadStream();
  }

  async head(key: string): Promise<StoreEntry | undefined> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, bytes: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /**
   * Removes the file at `key`; a directory keeps no versions, so unlike S3 nothing remains to
   * recover. Only the retention sweeper is handed the store as a RemovingStore.
   */
  async remove(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<StoreEntry> {
    checkStorePrefix(prefix);
    // The prefix need not end at a folder boundary ("orgs/acme/snap" matches "orgs/acme/snapshots/...").
    const folderKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const namePrefix = prefix.slice(folderKey.length);
    yield* this.walk(folderKey, namePrefix, options.afterKey);
  }

  /**
   * Yields the files under a folder in key order; a folder's keys all share `name/`, so it sorts
   * as that. Keys up to `after` are left out, and so is a whole folder that sorts before it.
   */
  private async *walk(folderKey: string, namePrefix: string, after?: string): AsyncGenerator<StoreEntry> {
    const folder = path.join(this.root, ...folderKey.split('/'));
    let entries: { name: string; folder: boolean }[];
    try {
      entries = (await readdir(folder, { withFileTypes: true }))
        .filter((entry) => entry.name.startsWith(namePrefix))
        .filter((entry) => !(folderKey === '' && entry.name === STAGING_FOLDER))
        .filter((entry) => entry.isFile() || entry.isDirectory())
        .map((entry) => ({ name: entry.name, folder: entry.isDirectory() }));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    const sortName = (entry: { name: string; folder: boolean }) =>
      entry.folder ? `${entry.name}/` : entry.name;
    entries.sort((a, b) => compareKeys(sortName(a), sortName(b)));
    for (const entry of entries) {
      const key = `${folderKey}${entry.name}`;
      if (entry.folder) {
        // Every key in the folder starts with `key/`: all sort before `after` when it does not.
        const passed =
          after !== undefined && !after.startsWith(`${key}/`) && compareKeys(`${key}/`, after) < 0;
        if (!passed) yield* this.walk(`${key}/`, '', after);
        continue;
      }
      if (after !== undefined && compareKeys(key, after) <= 0) continue;
      const info = await stat(path.join(folder, entry.name)).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (info?.isFile()) yield { key, bytes: info.size };
    }
  }

  /** The sub-directories of the prefix's directory that hold a file at any depth (a removal may leave one empty). */
  async *listFolders(prefix: string): AsyncIterable<string> {
    checkStorePrefix(prefix);
    if (!prefix.endsWith('/')) return;
    const folder = path.join(this.root, ...prefix.split('/'));
    let names: string[];
    try {
      names = (await readdir(folder, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() && !(prefix === '' && entry.name === STAGING_FOLDER))
        .map((entry) => entry.name);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    names.sort((a, b) => compareKeys(`${a}/`, `${b}/`));
    for (const name of names) {
      for await (const _ of this.walk(`${prefix}${name}/`, '')) {
        yield name;
        break;
      }
    }
  }

  /** Each key holds one version, which a listing names `null`, as S3 names a version of an unversioned bucket. */
  async *listVersions(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectVersion> {
    for await (const entry of this.list(prefix, options)) {
      yield {
        key: entry.key,
        versionId: LOCAL_VERSION_ID,
        latest: true,
        bytes: entry.bytes,
        deleteMarker: false,
      };
    }
  }

  async getVersion(key: string, versionId: string): Promise<Uint8Array> {
    if (versionId !== LOCAL_VERSION_ID) throw new ObjectNotFoundError(key);
    return this.get(key);
  }

  /** Replaces the key's one version in a single rename: a reader sees the old body or the new, never part of one. */
  async replace(key: string, body: Uint8Array | string, _options?: PutOptions): Promise<StoredObject> {
    const target = this.pathOf(key);
    const staged = await this.stage([toBuffer(body)]);
    try {
      await this.makeParent(key, target);
      await rename(staged.path, target);
    } catch (error) {
      await unlink(staged.path).catch(() => undefined);
      if (['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes(errorCode(error) ?? '')) throw conflict(key);
      throw error;
    }
    return { key, bytes: staged.digest.bytes, sha256: staged.digest.sha256 };
  }

  /** A directory has no Object Lock. */
  async versionLock(_key: string, _versionId: string): Promise<VersionLock> {
    return { legalHold: false };
  }

  async deleteVersion(key: string, versionId: string): Promise<void> {
    if (versionId !== LOCAL_VERSION_ID) return;
    try {
      await unlink(this.pathOf(key));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /** Writes a body to a new staging file, flushed to disk, hashing it on the way. */
  private async stage(
    body: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<{ path: string; digest: BodyDigest }> {
    const folder = path.join(this.root, STAGING_FOLDER);
    await mkdir(folder, { recursive: true });
    const staged = path.join(folder, `${randomUUID()}.part`);
    const digest = new BodyDigest();
    const handle = await open(staged, 'wx');
    try {
      // Awaiting each write is the back-pressure: the source is read no faster than the disk takes it.
      for await (const chunk of digest.measure(body)) await handle.write(chunk);
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(staged).catch(() => undefined);
      throw error;
    }
    await handle.close();
    return { path: staged, digest };
  }

  private async makeParent(key: string, target: string): Promise<void> {
    try {
      await mkdir(path.dirname(target), { recursive: true });
    } catch (error) {
      if (['EEXIST', 'ENOTDIR'].includes(errorCode(error) ?? '')) throw conflict(key);
      throw error;
    }
  }

  private pathOf(key: string): string {
    checkStoreKey(key);
    if (key.split('/')[0] === STAGING_FOLDER) {
      throw new InvalidStoreKeyError(
        key,
        `the top-level name "${STAGING_FOLDER}" is reserved for writes in progress.`,
      );
    }
    return path.join(this.root, ...key.split('/'));
  }
}

function conflict(key: string): InvalidStoreKeyError {
  return new InvalidStoreKeyError(
    key,
    'a directory store keeps "a" and "a/b" as a file and a folder, so it cannot hold both; choose keys where no object name is also a folder.',
  );
}

async function isFile(target: string): Promise<boolean> {
  try {
    return (await lstat(target)).isFile();
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function isMissing(error: unknown): boolean {
  return ['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errorCode(error) ?? '');
}
