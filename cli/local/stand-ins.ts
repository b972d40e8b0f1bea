/**
 * Where a policy-enforced local run sees the AWS calls handlers make, without any hook in the
 * handlers: while such a run is active, the S3 and Secrets Manager clients' `send` (as
 * aws-sdk-client-mock intercepts it) and the operations of the directory store that stands in for
 * the vault are wrapped. Inside a handler invocation (see `runAsCaller`), each call is first
 * authorized as the request AWS would receive, for the function's role:
 *
 * - S3 through the SDK: the command itself (`GetObject` with a version is `s3:GetObjectVersion`,
 *   the multipart commands are `s3:PutObject`, `ListObjectsV2` is `s3:ListBucket` with `s3:prefix`).
 * - The directory store: each operation as the S3Store requests it stands for (`put` is a
 *   HeadObject and a PutObject with `If-None-Match: *`, `putStream` a multipart upload,
 *   `putPointer` and `replace` a plain PutObject, `list` a ListBucket, `listVersions` a
 *   ListBucketVersions, `getVersion` a GetObject with a version, `deleteVersion` a DeleteObject
 *   with a version, bypassing a GOVERNANCE lock where the function's environment names one,
 *   `versionLock` a GetObjectRetention and a GetObjectLegalHold of the version), on the bucket the
 *   function's `VAULT_BUCKET` names.
 * - A read (GetObject, HeadObject, a write's HeadObject) of a key that does not exist: S3 says so
 *   only to a caller who may list it (`s3:ListBucket` with the key as `s3:prefix`) and refuses
 *   anyone else (403), so the same is asked here.
 * - With SSE-KMS, the KMS calls S3 makes on the caller's behalf: `kms:GenerateDataKey` on write,
 *   `kms:Decrypt` on read and for multipart parts, with `kms:ViaService` `s3.<region>.amazonaws.com`
 *   and the encryption context `aws:s3:arn` (the bucket's ARN when it uses an S3 Bucket Key).
 * - Secrets Manager `GetSecretValue`: the secret's resource policy and the caller's, then
 *   `kms:Decrypt` of the secret's customer key when it has one; the value comes from the run's
 *   `secrets`, never from AWS.
 *
 * Outside a handler invocation (the runner's own reads, test setup) nothing is checked.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EnvName } from '../../contract/workflow-contract.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { ObjectNotFoundError } from '../../lambdas/core/store.ts';
import { type AppPolicies, type AuthorizationRequest, currentCaller } from './policies.ts';

/** One S3 request as S3 authorizes it. */
export interface S3Request {
  readonly operation:
    | 'GetObject'
    | 'HeadObject'
    | 'GetObjectRetention'
    | 'GetObjectLegalHold'
    | 'PutObject'
    | 'CreateMultipartUpload'
    | 'UploadPart'
    | 'CompleteMultipartUpload'
    | 'AbortMultipartUpload'
    | 'ListObjectsV2'
    | 'ListObjectVersions'
    | 'DeleteObject';
  readonly bucket: string;
  readonly key?: string;
  readonly versionId?: string;
  /** `s3:prefix` of a listing. */
  readonly prefix?: string;
  /** The `If-None-Match` header of a write. */
  readonly ifNoneMatch?: string;
  /** The `x-amz-server-side-encryption-aws-kms-key-id` header of a write. */
  readonly kmsKeyId?: string;
  /** The `x-amz-bypass-governance-retention` header of a version removal. */
  readonly bypassGovernance?: boolean;
}

/** Who makes a request: a role, its session name, and the policies that decide. */
export interface Requester {
  readonly principal: string;
  readonly session: string;
  readonly policies: AppPolicies;
}

const OBJECT_CREATION: ReadonlySet<S3Request['operation']> = new Set([
  'PutObject',
  'CompleteMultipartUpload',
]);

/** Authorizes an S3 request and the KMS requests S3 makes for it; throws AccessDeniedError. */
export async function authorizeS3(requester: Requester, request: S3Request): Promise<void> {
  const { policies } = requester;
  const bucketArn = `arn:aws:s3:::${request.bucket}`;
  const objectArn = `${bucketArn}/${request.key ?? ''}`;
  const ask = (r: Omit<AuthorizationRequest, 'principal' | 'session'>) =>
    policies.authorize({ principal: requester.principal, session: requester.session, ...r });
  const op = request.operation;
  if (op === 'ListObjectsV2') {
    await ask({
      action: 's3:ListBucket',
      resource: bucketArn,
      context: { 's3:prefix': request.prefix ?? '' },
    });
    return;
  }
  if (op === 'ListObjectVersions') {
    await ask({
      action: 's3:ListBucketVersions',
      resource: bucketArn,
      context: { 's3:prefix': request.prefix ?? '' },
    });
    return;
  }
  if (op === 'DeleteObject') {
    // A DeleteObject naming a version removes it for good; without one it writes a delete marker.
    await ask({
      action: request.versionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
      resource: objectArn,
    });
    if (request.bypassGovernance) await ask({ action: 's3:BypassGovernanceRetention', resource: objectArn });
    return;
  }
  if (op === 'AbortMultipartUpload') {
    await ask({ action: 's3:AbortMultipartUpload', resource: objectArn });
    return;
  }
  // A version's lock, which S3 refuses to a caller not allowed to read it (with a version or not).
  if (op === 'GetObjectRetention' || op === 'GetObjectLegalHold') {
    await ask({ action: `s3:${op}`, resource: objectArn });
    return;
  }
  if (op === 'GetObject' || op === 'HeadObject') {
    await ask({
      action: request.versionId ? 's3:GetObjectVersion' : 's3:GetObject',
      resource: objectArn,
    });
  } else {
    const creates = OBJECT_CREATION.has(op);
    const sse = op === 'PutObject' || op === 'CreateMultipartUpload';
    await ask({
      action: 's3:PutObject',
      resource: objectArn,
      context: {
        's3:ObjectCreationOperation': creates ? 'true' : 'false',
        ...(creates && request.ifNoneMatch ? { 's3:if-none-match': request.ifNoneMatch } : {}),
        ...(sse && request.kmsKeyId
          ? {
              's3:x-amz-server-side-encryption': 'aws:kms',
              's3:x-amz-server-side-encryption-aws-kms-key-id': request.kmsKeyId,
            }
          : {}),
      },
    });
  }
  // What S3 asks of KMS for the caller: a data key to write, a decrypt to read or add a part.
  const kmsAction =
    op === 'PutObject' || op === 'CreateMultipartUpload'
      ? 'kms:GenerateDataKey'
      : op === 'GetObject' || op === 'UploadPart'
        ? 'kms:Decrypt'
        : undefined;
  const key = request.kmsKeyId ?? policies.keyOf(request.bucket);
  if (!kmsAction || !key?.startsWith('arn:aws:kms:')) return;
  const bucketKey = request.kmsKeyId !== undefined || policies.usesBucketKey(request.bucket);
  await ask({
    action: kmsAction,
    resource: key,
    context: {
      'kms:ViaService': `s3.${policies.region}.amazonaws.com`,
      'kms:EncryptionContext:aws:s3:arn': bucketKey ? bucketArn : objectArn,
      'kms:EncryptionContextKeys': ['aws:s3:arn'],
    },
  });
}

/**
 * What S3 asks before it answers that a key does not exist: only a caller who may list the key
 * (`s3:ListBucket` with the key as `s3:prefix`) learns so (404); anyone else is refused (403
 * AccessDenied), which says nothing of whether the key exists. Throws AccessDeniedError then.
 */
export async function authorizeMissingKey(requester: Requester, bucket: string, key: string): Promise<void> {
  await requester.policies.authorize({
    principal: requester.principal,
    session: requester.session,
    action: 's3:ListBucket',
    resource: `arn:aws:s3:::${bucket}`,
    context: { 's3:prefix': key },
  });
}

/** The S3 request an SDK command stands for, when it is one the stores send. */
function s3RequestOf(command: unknown): S3Request | undefined {
  const input = (command as { input?: Record<string, unknown> }).input ?? {};
  const bucket = String(input.Bucket ?? '');
  const key = input.Key === undefined ? undefined : String(input.Key);
  const common = { bucket, ...(key !== undefined ? { key } : {}) };
  const kms =
    input.ServerSideEncryption === 'aws:kms' && typeof input.SSEKMSKeyId === 'string'
      ? { kmsKeyId: input.SSEKMSKeyId }
      : {};
  const ifNoneMatch = typeof input.IfNoneMatch === 'string' ? { ifNoneMatch: input.IfNoneMatch } : {};
  if (command instanceof GetObjectCommand) {
    return {
      operation: 'GetObject',
      ...common,
      ...(typeof input.VersionId === 'string' ? { versionId: input.VersionId } : {}),
    };
  }
  if (command instanceof HeadObjectCommand) {
    return {
      operation: 'HeadObject',
      ...common,
      ...(typeof input.VersionId === 'string' ? { versionId: input.VersionId } : {}),
    };
  }
  if (command instanceof GetObjectRetentionCommand || command instanceof GetObjectLegalHoldCommand) {
    return {
      operation: command instanceof GetObjectRetentionCommand ? 'GetObjectRetention' : 'GetObjectLegalHold',
      ...common,
      ...(typeof input.VersionId === 'string' ? { versionId: input.VersionId } : {}),
    };
  }
  if (command instanceof PutObjectCommand)
    return { operation: 'PutObject', ...common, ...kms, ...ifNoneMatch };
  if (command instanceof CreateMultipartUploadCommand) {
    return { operation: 'CreateMultipartUpload', ...common, ...kms };
  }
  if (command instanceof UploadPartCommand) return { operation: 'UploadPart', ...common };
  if (command instanceof CompleteMultipartUploadCommand) {
    return { operation: 'CompleteMultipartUpload', ...common, ...ifNoneMatch };
  }
  if (command instanceof AbortMultipartUploadCommand) return { operation: 'AbortMultipartUpload', ...common };
  if (command instanceof ListObjectVersionsCommand) {
    return { operation: 'ListObjectVersions', bucket, prefix: String(input.Prefix ?? '') };
  }
  if (command instanceof DeleteObjectCommand) {
    return {
      operation: 'DeleteObject',
      ...common,
      ...(typeof input.VersionId === 'string' ? { versionId: input.VersionId } : {}),
      ...(input.BypassGovernanceRetention === true ? { bypassGovernance: true } : {}),
    };
  }
  if (command instanceof ListObjectsV2Command) {
    return { operation: 'ListObjectsV2', bucket, prefix: String(input.Prefix ?? '') };
  }
  return undefined;
}

/** An SDK error saying the key does not exist (NoSuchKey from GetObject, a bare 404 from HeadObject). */
function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'NoSuchBucket') return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** A Secrets Manager secret the stand-in does not hold. */
export class SecretNotFoundError extends Error {
  override readonly name = 'ResourceNotFoundException';
}

/** Secret values a run's stand-in answers with, by secret ARN. */
export type SecretValues = ReadonlyMap<string, string>;

const secretValues = new WeakMap<AppPolicies, SecretValues>();

/** Registers the values the Secrets Manager stand-in answers with for the run using `policies`. */
export function registerSecrets(policies: AppPolicies, values: SecretValues): void {
  secretValues.set(policies, values);
}

async function getSecretValue(
  requester: Requester,
  secretIdGiven: string,
): Promise<{ SecretString: string }> {
  const { policies } = requester;
  const secretId = policies.secretArn(secretIdGiven);
  await policies.authorize({
    principal: requester.principal,
    session: requester.session,
    action: 'secretsmanager:GetSecretValue',
    resource: secretId,
  });
  const key = policies.keyOf(secretId);
  // A secret under the AWS managed key aws/secretsmanager needs no grant of its own.
  if (key?.startsWith('arn:aws:kms:')) {
    await policies.authorize({
      principal: requester.principal,
      session: requester.session,
      action: 'kms:Decrypt',
      resource: key,
      context: {
        'kms:ViaService': `secretsmanager.${policies.region}.amazonaws.com`,
        'kms:EncryptionContext:SecretARN': secretId,
        'kms:EncryptionContextKeys': ['SecretARN', 'SecretVersionId'],
      },
    });
  }
  const value = secretValues.get(policies)?.get(secretId);
  if (value === undefined) {
    throw new SecretNotFoundError(
      `Secrets Manager can't find the specified secret ${secretId}: give the run a value for it in its secrets.`,
    );
  }
  return { SecretString: value };
}

type Send = (this: unknown, command: unknown, ...rest: unknown[]) => Promise<unknown>;
type StoreMethod = (this: LocalDirectoryStore, ...args: unknown[]) => unknown;

let installed: { users: number; restore: () => void } | undefined;

/** Wraps the clients and the directory store for the duration of `body` (nested runs share it). */
export async function withAwsStandIns<T>(body: () => Promise<T>): Promise<T> {
  if (!installed) installed = { users: 0, restore: install() };
  installed.users += 1;
  try {
    return await body();
  } finally {
    installed.users -= 1;
    if (installed.users === 0) {
      installed.restore();
      installed = undefined;
    }
  }
}

function install(): () => void {
  if (Object.hasOwn(S3Client.prototype, 'send') || Object.hasOwn(SecretsManagerClient.prototype, 'send')) {
    throw new Error(
      'The S3 or Secrets Manager client already has its send replaced (a client mock?): a policy-enforced run cannot see its calls.',
    );
  }
  const s3Send = S3Client.prototype.send as unknown as Send;
  const secretsSend = SecretsManagerClient.prototype.send as unknown as Send;
  (S3Client.prototype as unknown as { send: Send }).send = async function (command, ...rest) {
    const caller = currentCaller();
    const request = caller ? s3RequestOf(command) : undefined;
    if (caller && request) await authorizeS3(caller, request);
    try {
      return await s3Send.call(this, command, ...rest);
    } catch (error) {
      const reads = request?.operation === 'GetObject' || request?.operation === 'HeadObject';
      if (caller && request?.key !== undefined && reads && !request.versionId && isNotFound(error))
        await authorizeMissingKey(caller, request.bucket, request.key);
      throw error;
    }
  };
  (SecretsManagerClient.prototype as unknown as { send: Send }).send = async function (command, ...rest) {
    const caller = currentCaller();
    if (caller && command instanceof GetSecretValueCommand && secretValues.has(caller.policies)) {
      return getSecretValue(caller, String(command.input.SecretId));
    }
    return secretsSend.call(this, command, ...rest);
  };
  const proto = LocalDirectoryStore.prototype as unknown as Record<string, StoreMethod>;
  const originals = Object.fromEntries(
    [
      'put',
      'putStream',
      'putPointer',
      'get',
      'getStream',
      'head',
      'list',
      'listVersions',
      'getVersion',
      'replace',
      'deleteVersion',
      'versionLock',
    ].map((m) => [m, proto[m] as StoreMethod]),
  );
  const vault = (): { bucket: string; kmsKeyId?: string } => {
    const bucket = process.env[EnvName.VaultBucket];
    if (!bucket) {
      throw new Error(
        `A directory store stands in for the bucket in ${EnvName.VaultBucket}, which this function's environment does not set.`,
      );
    }
    const kmsKeyId = process.env[EnvName.VaultKeyArn];
    return kmsKeyId ? { bucket, kmsKeyId } : { bucket };
  };
  // Each operation, authorized as the requests the S3Store sends for it.
  const asRequests = (method: string, args: unknown[]): S3Request[] => {
    const v = vault();
    const key = String(args[0]);
    switch (method) {
      case 'put':
        return [
          { operation: 'HeadObject', bucket: v.bucket, key },
          { operation: 'PutObject', ...v, key, ifNoneMatch: '*' },
        ];
      case 'putStream':
        return [
          { operation: 'HeadObject', bucket: v.bucket, key },
          { operation: 'CreateMultipartUpload', ...v, key },
          { operation: 'UploadPart', bucket: v.bucket, key },
          { operation: 'CompleteMultipartUpload', bucket: v.bucket, key, ifNoneMatch: '*' },
        ];
      case 'putPointer':
        return [{ operation: 'PutObject', ...v, key }];
      case 'get':
      case 'getStream':
        return [{ operation: 'GetObject', bucket: v.bucket, key }];
      case 'head':
        return [{ operation: 'HeadObject', bucket: v.bucket, key }];
      case 'replace':
        return [{ operation: 'PutObject', ...v, key }];
      case 'getVersion':
        return [{ operation: 'GetObject', bucket: v.bucket, key, versionId: String(args[1]) }];
      case 'versionLock':
        return [
          { operation: 'GetObjectRetention', bucket: v.bucket, key, versionId: String(args[1]) },
          { operation: 'GetObjectLegalHold', bucket: v.bucket, key, versionId: String(args[1]) },
        ];
      case 'deleteVersion':
        return [
          {
            operation: 'DeleteObject',
            bucket: v.bucket,
            key,
            versionId: String(args[1]),
            ...(process.env[EnvName.ObjectLockMode] === 'GOVERNANCE' ? { bypassGovernance: true } : {}),
          },
        ];
      case 'listVersions':
        return [{ operation: 'ListObjectVersions', bucket: v.bucket, prefix: key }];
      default:
        return [{ operation: 'ListObjectsV2', bucket: v.bucket, prefix: key }];
    }
  };
  for (const [method, original] of Object.entries(originals)) {
    if (method === 'list' || method === 'listVersions') {
      proto[method] = function (this: LocalDirectoryStore, ...args: unknown[]) {
        const caller = currentCaller();
        const self = this;
        return (async function* () {
          if (caller) for (const r of asRequests(method, args)) await authorizeS3(caller, r);
          yield* original.apply(self, args) as AsyncIterable<unknown>;
        })();
      };
      continue;
    }
    proto[method] = async function (this: LocalDirectoryStore, ...args: unknown[]) {
      const caller = currentCaller();
      if (!caller) return original.apply(this, args);
      for (const r of asRequests(method, args)) await authorizeS3(caller, r);
      const key = String(args[0]);
      const missing = () => authorizeMissingKey(caller, vault().bucket, key);
      // A write's HeadObject, which finds no key before a new object.
      if (method === 'put' || method === 'putStream') {
        if ((await originals.head!.apply(this, [key])) === undefined) await missing();
        return original.apply(this, args);
      }
      if (method === 'head') {
        const entry = await original.apply(this, args);
        if (entry === undefined) await missing();
        return entry;
      }
      if (method !== 'get' && method !== 'getStream') return original.apply(this, args);
      try {
        return await original.apply(this, args);
      } catch (error) {
        if (error instanceof ObjectNotFoundError) await missing();
        throw error;
      }
    };
  }
  return () => {
    // The clients inherit `send`; taking the wrapper away leaves them as they were.
    delete (S3Client.prototype as unknown as { send?: Send }).send;
    delete (SecretsManagerClient.prototype as unknown as { send?: Send }).send;
    for (const [method, original] of Object.entries(originals)) proto[method] = original;
  };
}
