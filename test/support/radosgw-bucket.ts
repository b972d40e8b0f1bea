/**
 * A radosgw of the calling describe's own, with one versioned bucket and a client of it: started
 * before its tests, stopped after them.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { type Radosgw, startRadosgw } from './radosgw.ts';

/** The server, its bucket and a client. */
export interface RadosgwBucket {
  readonly rgw: Radosgw;
  readonly s3: S3Client;
  readonly bucket: string;
}

/** Registers the describe's set-up and tear-down; answers a getter for what the set-up made. */
export function radosgwBucket(
  namePrefix: string,
  options: { objectLock?: boolean } = {},
): () => RadosgwBucket {
  let made: RadosgwBucket | undefined;
  let rgw: Radosgw | undefined;
  let s3: S3Client | undefined;
  beforeAll(async () => {
    rgw = await startRadosgw();
    s3 = rgw.client();
    made = { rgw, s3, bucket: await rgw.createBucket(namePrefix, options) };
  });
  afterAll(async () => {
    s3?.destroy();
    await rgw?.stop();
  });
  return () => {
    if (!made)
      throw new Error(`radosgw with bucket ${namePrefix} was not started: see the beforeAll failure.`);
    return made;
  };
}
