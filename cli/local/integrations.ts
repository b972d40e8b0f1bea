/** Local stand-ins for the service integrations a definition may call: SNS publish and S3. */
import { ErrorName } from '../../contract/workflow-contract.ts';
import { randomUUID } from 'node:crypto';
import type { BackupStore } from '../../lambdas/core/store.ts';
import type { Json } from './asl.ts';
import type { S3Request } from './stand-ins.ts';
import type { TemplateResolver } from './template.ts';

/** A message a Task state published to an SNS topic. */
export interface SnsMessage {
  /** The topic's local ARN as the definition holds it. */
  readonly topicArn: string;
  /** The topic's logical id in its stack, when the topic belongs to the app. */
  readonly topic?: string;
  readonly subject?: string;
  /** The message as SNS would deliver it: a string (objects are serialized as JSON). */
  readonly message: string;
  /** The state that published it. */
  readonly stateName: string;
}

/** An error as a service integration reports it: `name` is the ASL error (`S3.NoSuchKeyException`). */
export class ServiceIntegrationError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function asObject(input: Json, stateName: string): Record<string, Json> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ServiceIntegrationError(
      'States.Runtime',
      `State "${stateName}" needs an object of parameters.`,
    );
  }
  return input;
}

/** Publishes to the `onSns` callback and answers like SNS `Publish`. */
export async function publishToSns(
  input: Json,
  stateName: string,
  resolver: TemplateResolver,
  onSns: (message: SnsMessage) => void | Promise<void>,
): Promise<Json> {
  const params = asObject(input, stateName);
  const topicArn = params.TopicArn ?? params.TargetArn;
  if (typeof topicArn !== 'string') {
    throw new ServiceIntegrationError(
      'SNS.InvalidParameterException',
      `State "${stateName}" publishes without a TopicArn.`,
    );
  }
  const resource = resolver.lookup(topicArn);
  const message = params.Message;
  await onSns({
    topicArn,
    ...(resource?.kind === 'topic' ? { topic: resource.logicalId } : {}),
    ...(typeof params.Subject === 'string' ? { subject: params.Subject } : {}),
    message: typeof message === 'string' ? message : JSON.stringify(message),
    stateName,
  });
  const requestId = randomUUID();
  return {
    MessageId: randomUUID(),
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

/** Checks that a bucket name belongs to the app, so the local store stands in for it. */
export function checkBucket(bucket: unknown, resolver: TemplateResolver, where: string): void {
  if (typeof bucket !== 'string' || resolver.lookup(bucket)?.kind !== 'bucket') {
    throw new ServiceIntegrationError(
      'S3.NoSuchBucketException',
      `${where} names bucket ${JSON.stringify(bucket)}, which is not a bucket of the app; the local store stands in for the app's bucket only.`,
    );
  }
}

async function readObject(store: BackupStore, key: string): Promise<Uint8Array> {
  try {
    return await store.get(key);
  } catch (error) {
    if ((error as Error).name === ErrorName.ObjectNotFound) {
      throw new ServiceIntegrationError('S3.NoSuchKeyException', `The specified key does not exist: ${key}`);
    }
    throw error;
  }
}

/** Runs an `arn:aws:states:::aws-sdk:s3:<action>` task against the store. */
export async function callS3(
  action: string,
  input: Json,
  stateName: string,
  store: BackupStore,
  resolver: TemplateResolver,
  authorize: (request: S3Request) => Promise<void> = async () => undefined,
): Promise<Json> {
  const params = asObject(input, stateName);
  checkBucket(params.Bucket, resolver, `State "${stateName}"`);
  const bucket = params.Bucket as string;
  const key = typeof params.Key === 'string' ? params.Key : undefined;
  const needKey = (): string => {
    if (key === undefined)
      throw new ServiceIntegrationError('S3.S3Exception', `State "${stateName}" needs a Key.`);
    return key;
  };
  switch (action) {
    case 'getObject': {
      await authorize({ operation: 'GetObject', bucket, key: needKey() });
      const bytes = await readObject(store, needKey());
      return { Body: Buffer.from(bytes).toString('utf8'), ContentLength: bytes.byteLength };
    }
    case 'headObject': {
      await authorize({ operation: 'HeadObject', bucket, key: needKey() });
      const entry = await store.head(needKey());
      if (!entry)
        throw new ServiceIntegrationError(
          'S3.NoSuchKeyException',
          `The specified key does not exist: ${key}`,
        );
      return { ContentLength: entry.bytes };
    }
    case 'putObject': {
      await authorize({ operation: 'PutObject', bucket, key: needKey() });
      const body = params.Body;
      const stored = await store.put(needKey(), typeof body === 'string' ? body : JSON.stringify(body ?? ''));
      return { ETag: `"${stored.sha256}"`, ...(stored.versionId ? { VersionId: stored.versionId } : {}) };
    }
    case 'listObjectsV2': {
      const prefix = typeof params.Prefix === 'string' ? params.Prefix : '';
      await authorize({ operation: 'ListObjectsV2', bucket, prefix });
      const after = String(params.ContinuationToken ?? params.StartAfter ?? '');
      const max = typeof params.MaxKeys === 'number' ? params.MaxKeys : 1000;
      const contents: Json[] = [];
      let truncated = false;
      for await (const entry of store.list(prefix)) {
        if (entry.key <= after) continue;
        if (contents.length === max) {
          truncated = true;
          break;
        }
        contents.push({ Key: entry.key, Size: entry.bytes });
      }
      const last = contents.at(-1) as { Key: string } | undefined;
      return {
        Contents: contents,
        KeyCount: contents.length,
        IsTruncated: truncated,
        Prefix: prefix,
        ...(truncated && last ? { NextContinuationToken: last.Key } : {}),
      };
    }
    default:
      throw new ServiceIntegrationError(
        'States.Runtime',
        `State "${stateName}" calls s3:${action}, which the local runner does not provide (getObject, headObject, putObject, listObjectsV2).`,
      );
  }
}
