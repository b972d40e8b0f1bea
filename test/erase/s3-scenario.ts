/**
 * The erasure scenario's vault in a versioned radosgw bucket with Object Lock on (no default
 * retention: a version is locked only when one is put on it), for the tests of erasure on S3.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { type Radosgw, startRadosgw, useRadosgwEnv } from '../support/radosgw.ts';
import { buildErasureScenario, type ErasureScenario } from './scenario.ts';

/** The server, the scenario and its bucket, as a store and as a plain S3 client. */
export interface ErasureVaultOnS3 {
  readonly rgw: Radosgw;
  readonly sc: ErasureScenario;
  readonly bucket: string;
  readonly store: S3Store;
  readonly s3: S3Client;
}

/**
 * Starts radosgw and builds the scenario into a new bucket before the calling describe's tests,
 * and stops both after them; answers a getter for what it built.
 */
export function erasureVaultOnRadosgw(bucketPrefix: string): () => ErasureVaultOnS3 {
  let vault: ErasureVaultOnS3 | undefined;
  let rgw: Radosgw | undefined;
  let sc: ErasureScenario | undefined;
  let s3: S3Client | undefined;
  let restoreEnv = () => {};
  beforeAll(async () => {
    rgw = await startRadosgw();
    restoreEnv = useRadosgwEnv(rgw);
    const bucket = await rgw.createBucket(bucketPrefix, { objectLock: true });
    sc = await buildErasureScenario({ bucket, endpoint: rgw.endpoint });
    s3 = rgw.client();
    vault = { rgw, sc, bucket, store: new S3Store(rgw.storeOptions(bucket)), s3 };
  }, 300_000);
  afterAll(async () => {
    s3?.destroy();
    await sc?.emu.stop();
    await rgw?.stop();
    restoreEnv();
  });
  return () => {
    if (!vault) throw new Error('The erasure vault on radosgw was not built: see the beforeAll failure.');
    return vault;
  };
}
