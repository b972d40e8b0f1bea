import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { radosgwOptedOut } from '../support/radosgw.ts';
import { radosgwBucket } from '../support/radosgw-bucket.ts';

// Skipped only when a developer opts out explicitly; a missing radosgw fails these tests.
describe.skipIf(radosgwOptedOut())('reading the version of a part the backup wrote, against radosgw', () => {
  const vault = radosgwBucket('part-versions');

  it('reads the version the backup wrote after another write to the key, whole and as a stream', async () => {
    const { rgw, s3, bucket } = vault();
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
