import type { S3Client } from '@aws-sdk/client-s3';
import { ErrorName } from '../../contract/workflow-contract.ts';
import type { RemovingStore } from '../core/removing-store.ts';
import type { BackupStore } from '../core/store.ts';
import { LocalDirectoryStore } from './local-store.ts';
import { type S3ConnectionOptions, S3Store } from './s3-store.ts';

/** Where an S3 vault is and how to write to it. */
export interface S3StoreSpec extends S3ConnectionOptions {
  readonly bucket: string;
  /** @default - the bucket's default encryption */
  readonly kmsKeyId?: string;
  /** Key prefix inside the bucket. @default - none */
  readonly prefix?: string;
  /** A client to share with other stores, such as one kept at module scope in a Lambda. @default - a new client built from the connection options */
  readonly client?: S3Client;
}

/**
 * What the CLI asks for: a directory path (the default kind), `s3://bucket/optional/prefix`, or an
 * object naming the directory or the bucket.
 */
export type StoreSpec = string | { readonly dir: string } | { readonly s3: S3StoreSpec };

/** A store specification that names no usable store; the message says what to write instead. */
export class InvalidStoreSpecError extends Error {
  override readonly name = ErrorName.InvalidStoreSpec;
}

// S3's bucket naming rules: 3-63 lower-case letters, digits, dots and hyphens.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Builds the store a spec names: a LocalDirectoryStore or an S3Store. */
export function createStore(spec: StoreSpec): BackupStore {
  return buildStore(spec);
}

/**
 * The same store, with the one way to remove objects: only the retention sweeper builds its
 * store with this (on S3 a removal is a delete marker; see RemovingStore).
 */
export function createRemovingStore(spec: StoreSpec): BackupStore & RemovingStore {
  return buildStore(spec);
}

function buildStore(spec: StoreSpec): LocalDirectoryStore | S3Store {
  if (typeof spec === 'string') {
    if (spec.trim() === '') {
      throw new InvalidStoreSpecError(
        'The store is empty: give a directory path (e.g. ./backups) or s3://bucket.',
      );
    }
    return spec.startsWith('s3://') ? createS3Store(parseS3Url(spec)) : new LocalDirectoryStore(spec);
  }
  if (spec && typeof spec === 'object' && 'dir' in spec) {
    if (typeof spec.dir !== 'string' || spec.dir.trim() === '') {
      throw new InvalidStoreSpecError(
        `store.dir is ${JSON.stringify(spec.dir)}: give a directory path such as "./backups".`,
      );
    }
    return new LocalDirectoryStore(spec.dir);
  }
  if (spec && typeof spec === 'object' && 's3' in spec && spec.s3 && typeof spec.s3 === 'object') {
    return createS3Store(spec.s3);
  }
  throw new InvalidStoreSpecError(
    `The store ${JSON.stringify(spec)} is not understood: give a directory path, "s3://bucket/prefix", ` +
      '{ dir: "./backups" } or { s3: { bucket: "my-vault", endpoint?, kmsKeyId?, prefix? } }.',
  );
}

function createS3Store(spec: S3StoreSpec): S3Store {
  const problems: string[] = [];
  if (typeof spec.bucket !== 'string' || !BUCKET_NAME.test(spec.bucket)) {
    problems.push(
      `s3.bucket is ${JSON.stringify(spec.bucket)}: use the vault bucket's name (3-63 lower-case letters, digits, "." or "-").`,
    );
  }
  if (spec.endpoint !== undefined && !isHttpUrl(spec.endpoint)) {
    problems.push(
      `s3.endpoint is ${JSON.stringify(spec.endpoint)}: use a URL such as http://127.0.0.1:7480.`,
    );
  }
  if (spec.kmsKeyId !== undefined && (typeof spec.kmsKeyId !== 'string' || spec.kmsKeyId.trim() === '')) {
    problems.push(
      `s3.kmsKeyId is ${JSON.stringify(spec.kmsKeyId)}: use the vault key's id, alias or ARN, or leave it out.`,
    );
  }
  if (spec.prefix !== undefined && (typeof spec.prefix !== 'string' || spec.prefix.startsWith('/'))) {
    problems.push(
      `s3.prefix is ${JSON.stringify(spec.prefix)}: use a relative prefix such as "tenant-a/", or leave it out.`,
    );
  }
  if (problems.length > 0)
    throw new InvalidStoreSpecError(`The S3 store is misconfigured:\n- ${problems.join('\n- ')}`);
  return new S3Store(spec);
}

function parseS3Url(url: string): S3StoreSpec {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1);
  return prefix === '' ? { bucket } : { bucket, prefix };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
