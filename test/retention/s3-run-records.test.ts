import {
  type LifecycleRule,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
} from '@aws-sdk/client-s3';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { VaultStack } from '../../lib/stacks/vault-stack.ts';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { acquireLease } from '../../lambdas/core/restore/lease.ts';
import { catalogKey } from '../../lambdas/core/snapshot/keys.ts';
import {
  BackupHeldByErasureError,
  backupHeartbeat,
  startBackupRun,
  vaultLeaseRoot,
} from '../../lambdas/core/vault-lease.ts';
import { appWithoutBundling, configWith } from '../infra/fixtures/app-fixture.ts';
import { LIFECYCLE_DAY_SECONDS, radosgwOptedOut } from '../support/radosgw.ts';
import { radosgwBucket } from '../support/radosgw-bucket.ts';

/** A lifecycle rule as the vault stack's template holds it (CloudFormation's shape). */
interface TemplateRule {
  readonly Id: string;
  readonly Status: string;
  readonly Prefix?: string;
  readonly ExpirationInDays?: number;
  readonly ExpiredObjectDeleteMarker?: boolean;
  readonly NoncurrentVersionExpiration?: { readonly NoncurrentDays: number };
  readonly AbortIncompleteMultipartUpload?: { readonly DaysAfterInitiation: number };
}

/**
 * The synthesized vault's lifecycle rules in the S3 API's shape, as CloudFormation puts them.
 * Storage class transitions are left out: this server has no GLACIER_IR or DEEP_ARCHIVE.
 */
function synthesizedRules(): LifecycleRule[] {
  const config = configWith();
  const stack = new VaultStack(appWithoutBundling(), `${config.stackPrefix}-Vault`, { config });
  const bucket = Object.values(
    Template.fromStack(stack).findResources('AWS::S3::Bucket', {
      Properties: { ObjectLockEnabled: true },
    }),
  )[0];
  return (bucket!.Properties.LifecycleConfiguration.Rules as TemplateRule[]).map((r) => ({
    ID: r.Id,
    Status: r.Status === 'Enabled' ? 'Enabled' : 'Disabled',
    Filter: { Prefix: r.Prefix ?? '' },
    ...(r.ExpirationInDays !== undefined || r.ExpiredObjectDeleteMarker !== undefined
      ? {
          Expiration: {
            ...(r.ExpirationInDays !== undefined ? { Days: r.ExpirationInDays } : {}),
            ...(r.ExpiredObjectDeleteMarker !== undefined
              ? { ExpiredObjectDeleteMarker: r.ExpiredObjectDeleteMarker }
              : {}),
          },
        }
      : {}),
    ...(r.NoncurrentVersionExpiration ? { NoncurrentVersionExpiration: r.NoncurrentVersionExpiration } : {}),
    ...(r.AbortIncompleteMultipartUpload
      ? { AbortIncompleteMultipartUpload: r.AbortIncompleteMultipartUpload }
      : {}),
  }));
}

// Skipped only when a developer opts out explicitly; a missing radosgw fails these tests.
describe.skipIf(radosgwOptedOut())("the vault's lifecycle and a backup run's records", () => {
  const vault = radosgwBucket('vault', { objectLock: true });

  it("removes a run's heartbeats and end record two days on, and nothing else the org's backups, sweeps or erasures wrote", async () => {
    const { rgw, s3, bucket } = vault();
    // GIVEN the synthesized vault's lifecycle on a versioned, locked bucket
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: synthesizedRules() },
      }),
    );
    // AND an org with a backup run's heartbeats, a run refused by an erasure (its heartbeat and
    // its end), the erasure's claim, a catalog entry and a snapshot part; another org's heartbeat
    const store = new S3Store(rgw.storeOptions(bucket));
    const now = Date.now();
    await backupHeartbeat(store, 'acme-prod', 'run-a', now);
    await acquireLease(store, vaultLeaseRoot('acme-prod'), 'erasure-e1', { sleep: async () => {} });
    await expect(startBackupRun(store, 'acme-prod', 'run-b', now)).rejects.toThrow(BackupHeldByErasureError);
    await store.put(catalogKey('acme-prod', 'run-a'), '{}');
    await store.put('orgs/acme-prod/snapshots/run-a/Account/part-00001.csv.gz', 'rows');
    await backupHeartbeat(store, 'other-org', 'run-c', now);

    // WHEN two of the rules' days have passed and the lifecycle runs (again, until it has acted:
    // the server may be slow to)
    await new Promise((resolve) => setTimeout(resolve, 2 * LIFECYCLE_DAY_SECONDS * 1000));
    const deadline = Date.now() + 60_000;
    let listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    while ((listed.DeleteMarkers ?? []).length < 3 && Date.now() < deadline) {
      await rgw.processLifecycle();
      listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    }

    // THEN the run records of the configured org are behind a delete marker, their versions kept
    const marked = (listed.DeleteMarkers ?? []).filter((m) => m.IsLatest).map((m) => m.Key!);
    const current = (listed.Versions ?? []).filter((v) => v.IsLatest).map((v) => v.Key!);
    expect(
      marked.sort().map((k) => k.replace(/\/\d{4}-\d\d-\d\dT\d\d\//, '/<hour>/').replace(/\d{15}/, 'N')),
    ).toEqual([
      'orgs/acme-prod/lease/backups-ended/run-b.json',
      'orgs/acme-prod/lease/backups/<hour>/run-a-N.json',
      'orgs/acme-prod/lease/backups/<hour>/run-b-N.json',
    ]);
    expect((listed.Versions ?? []).filter((v) => marked.includes(v.Key!))).toHaveLength(3);
    // AND everything else is current: the erasure's claim, the catalog entry, the part, and the
    // heartbeat of an org the config does not name (no rule covers it)
    expect(
      current.sort().map((k) => k.replace(/\/\d{4}-\d\d-\d\dT\d\d\//, '/<hour>/').replace(/\d{15}/, 'N')),
    ).toEqual([
      'orgs/acme-prod/catalog/run-a.json',
      'orgs/acme-prod/lease/claims/N-erasure-e1.json',
      'orgs/acme-prod/snapshots/run-a/Account/part-00001.csv.gz',
      'orgs/other-org/lease/backups/<hour>/run-c-N.json',
    ]);
  }, 120_000);
});
