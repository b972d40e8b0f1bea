import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { type Radosgw, radosgwOptedOut, startRadosgw } from '../support/radosgw.ts';

// Skipped only when a developer opts out explicitly; a missing radosgw fails these tests.
describe.skipIf(radosgwOptedOut())('reading the version of a part the backup wrote, against radosgw', () => {
  let rgw: Radosgw;
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    rgw = await startRadosgw();
    s3 = rgw.client();
    bucket = await rgw.createBucket('part-versions');
  });

  afterAll(async () => {
    s3?.destroy();
    await rgw?.stop();
  });

  it('reads the version the backup wrote after another write to the key, whole and as a stream', async () => {
    const store = new S3Store(rgw.storeOptions(bucket, {}));
    const written = await store.put('orgs/acme/part.csv', 'Id,Name\n1,Acme\n');
    expect(written.versionId).toMatch(/\S/);
    // A later write to the same key, as anyone with write access to the bucket could make.
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'orgs/acme/part.csv', Body: 'Id,Name\n1,Evil\n' }),
    );
    expect(Buffer.from(await store.get('orgs/acme/part.csv')).toString()).toContain('Evil');
    const exact = { versionId: written.versionId! };
    expect(Buffer.from(await store.get('orgs/acme/part.csv', exact)).toString()).toBe('Id,Name\n1,Acme\n');
    const chunks: Buffer[] = [];
    for await (const chunk of await store.getStream('orgs/acme/part.csv', exact))
      chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('Id,Name\n1,Acme\n');
  });
});
