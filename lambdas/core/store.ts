import { ErrorName } from '../../contract/workflow-contract.ts';
import type { Readable } from 'node:stream';

/** What the store reports after it has durably written an object. */
export interface StoredObject {
  readonly key: string;
  /** Size of the stored bytes. */
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the stored bytes. */
  readonly sha256: string;
  /** The S3 version id, where the store keeps versions. */
  readonly versionId?: string;
}

/** One entry of a listing. */
export interface StoreEntry {
  readonly key: string;
  readonly bytes: number;
}

/**
 * The vault as the runtime sees it: a flat key space of immutable objects plus a few mutable
 * pointers. Backup code can only add; nothing here deletes, so no caller can remove a backup.
 */
export interface BackupStore {
  /** A short description for logs and summaries, e.g. `s3://bucket` or `file:///path`. */
  readonly location: string;
  /**
   * Writes a new immutable object. Fails with `ObjectExistsError` if the key is taken, so a
   * retried or concurrent writer can never replace a part that was already verified.
   */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<StoredObject>;
  /** Streams a new immutable object of unknown length (multipart on S3); same rule as `put`. */
  putStream(
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    options?: PutOptions,
  ): Promise<StoredObject>;
  /**
   * Writes a mutable pointer (e.g. the org's latest complete snapshot); versioned on S3. With a
   * condition, the write happens only if the pointer still holds what the caller read, and fails
   * with `PointerChangedError` otherwise. The local directory store and AWS S3 (If-Match and
   * If-None-Match) enforce it atomically; a store that cannot (radosgw ignores the conditional
   * headers on a versioned bucket) checks it just before writing, so two writers can still
   * interleave there, and callers read the pointer back to catch that.
   */
  putPointer(key: string, body: string, condition?: PointerCondition): Promise<StoredObject>;
  /** Reads a whole object; fails with `ObjectNotFoundError` if it does not exist. */
  get(key: string, options?: ReadOptions): Promise<Uint8Array>;
  /** Reads an object as a stream; fails with `ObjectNotFoundError` if it does not exist. */
  getStream(key: string, options?: ReadOptions): Promise<Readable>;
  /** Size of an object, or undefined if there is none. */
  head(key: string): Promise<StoreEntry | undefined>;
  /**
   * Every key under a prefix, in key order (by bytes); with `afterKey`, only the keys after it (a
   * long pass goes on from there).
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<StoreEntry>;
  /**
   * The names of the folders directly under `prefix` (which ends in `/`) that hold any object, in
   * key order: one listing page per thousand folders, however many objects they hold (S3's
   * Delimiter).
   */
  listFolders(prefix: string): AsyncIterable<string>;
}

/** Options for a read. */
export interface ReadOptions {
  /**
   * The version to read, as the write reported it: a later write to the key (a tampered part)
   * is then not what is read. Stores without versions read the one object they hold.
   */
  readonly versionId?: string;
}

/** Options for a write. */
export interface PutOptions {
  readonly contentType?: string;
  readonly contentEncoding?: string;
}

/** What a pointer must hold for a conditional write to go ahead. */
export interface PointerCondition {
  /** The body the caller read from the pointer, or null when there was no pointer. */
  readonly current: string | null;
}

/** A conditional pointer write was refused: the pointer changed since it was read. */
export class PointerChangedError extends Error {
  override readonly name = ErrorName.PointerChanged;
  constructor(readonly key: string) {
    super(`The pointer ${key} changed since it was read; read it again and decide again.`);
  }
}

/** A write was refused because the key already holds an object. */
export class ObjectExistsError extends Error {
  override readonly name = ErrorName.ObjectExists;
  constructor(readonly key: string) {
    super(`The store already holds ${key}; backups are immutable and are never overwritten.`);
  }
}

/** A read named a key that holds no object. */
export class ObjectNotFoundError extends Error {
  override readonly name = ErrorName.ObjectNotFound;
  constructor(readonly key: string) {
    super(`The store holds no object at ${key}.`);
  }
}

/** One stored version of a key, as a versioned listing reports it. */
export interface ObjectVersion {
  readonly key: string;
  /** The store's version id; `null` (S3's name for it) where the store keeps one version per key. */
  readonly versionId: string;
  /** True for the version a plain read returns. */
  readonly latest: boolean;
  readonly bytes: number;
  /** True for a delete marker, which holds no bytes. */
  readonly deleteMarker: boolean;
}

/** Where a listing starts. */
export interface ListOptions {
  /**
   * List only keys after this one, in key order: S3's StartAfter for objects, its KeyMarker
   * without a VersionIdMarker for versions.
   */
  readonly afterKey?: string;
}

/**
 * The one power over the vault that removes data, kept apart from `BackupStore` so that no backup,
 * restore or report code is handed it: erasure (docs/erasure.md) rewrites an object without a
 * person's rows and removes every earlier version of it. Only the erase handler is given one.
 */
export interface VersionedStore {
  /** A short description for logs, as `BackupStore.location`. */
  readonly location: string;
  /**
   * Every version of every key under a prefix (delete markers included), current ones too, key by
   * key in key order (every version of a key, delete markers too, one after another); with
   * `afterKey`, only the keys after it (a long pass goes on from there).
   */
  listVersions(prefix: string, options?: ListOptions): AsyncIterable<ObjectVersion>;
  /** Reads one version; fails with `ObjectNotFoundError` if it does not exist. */
  getVersion(key: string, versionId: string): Promise<Uint8Array>;
  /**
   * Writes a new current version of a key that may already hold one (a store with one version
   * per key replaces it atomically). Reports the version written.
   */
  replace(key: string, body: Uint8Array | string, options?: PutOptions): Promise<StoredObject>;
  /** Removes one version for good (on S3, DeleteObjectVersion); removing one that is gone succeeds. */
  deleteVersion(key: string, versionId: string): Promise<void>;
  /**
   * One version's Object Lock: its retention and legal hold (none where the store has no locks, or
   * the version is gone). On S3 GetObjectRetention and GetObjectLegalHold of the version, which fail
   * with AccessDenied for a caller not allowed `s3:GetObjectRetention` and `s3:GetObjectLegalHold`:
   * a lock it cannot see is never taken for no lock.
   */
  versionLock(key: string, versionId: string): Promise<VersionLock>;
}

/** A version's Object Lock, as the store reports it. */
export interface VersionLock {
  /** The retention mode, when the version has a retention. */
  readonly mode?: 'GOVERNANCE' | 'COMPLIANCE';
  /** Until when the retention holds. */
  readonly retainUntil?: Date;
  /** True while a legal hold is on the version, which nobody can bypass. */
  readonly legalHold: boolean;
}
