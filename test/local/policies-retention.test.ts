import { beforeAll, describe, expect, it } from 'vitest';
import { type SynthesizedWorkflow, synthesizeDefinition } from '../../cli/local/index.ts';
import { AppPolicies } from '../../cli/local/policies.ts';
import type { CfnTemplate } from '../../cli/local/template.ts';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { appWithoutBundling, exampleConfigJson } from '../infra/fixtures/app-fixture.ts';

const SNAPSHOT = '20260101T020000000Z-abcdef';

describe('who may remove from the vault, under the synthesized policies of the example app', () => {
  let retention: SynthesizedWorkflow;
  let policies: AppPolicies;
  let bucket: string;
  let vaultKey: string;
  let sweeper: string;

  const object = (key: string) => `arn:aws:s3:::${bucket}/${key}`;
  const upload = () => ({
    's3:ObjectCreationOperation': 'true',
    's3:x-amz-server-side-encryption': 'aws:kms',
    's3:x-amz-server-side-encryption-aws-kms-key-id': vaultKey,
  });
  const check = (principal: string, action: string, key: string, context?: Record<string, string>) =>
    policies.check({ principal, action, resource: object(key), ...(context ? { context } : {}) });

  beforeAll(() => {
    const built = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
    const prod = built.orgStacks.find((s) => s.org.name === 'dreamhouse-prod')!;
    retention = synthesizeDefinition(prod, prod.retention!.stateMachine);
    policies = new AppPolicies(retention.stacks, retention.resolver, 'us-east-1');
    const fn = [...retention.functions.values()].find((f) =>
      f.logicalId.startsWith('DreamhouseProdRetentionSweep'),
    )!;
    sweeper = String(policies.roleOf(fn.stackName, fn.logicalId));
    bucket = String(fn.environment.VAULT_BUCKET);
    vaultKey = String(fn.environment.VAULT_KEY_ARN);
  }, 180_000);

  it('lets the sweeper remove its own org snapshots, catalog entries and file bodies, and write its log', async () => {
    expect(sweeper).toBe('arn:aws:iam::000000000000:role/SfBackup-sweep-dreamhouse-prod');
    for (const key of [
      `orgs/dreamhouse-prod/snapshots/${SNAPSHOT}/manifest.json`,
      `orgs/dreamhouse-prod/catalog/${SNAPSHOT}.json`,
      `orgs/dreamhouse-prod/files/sha256/ab/${'ab'.repeat(32)}`,
      'orgs/dreamhouse-prod/files/index/md5-0123.json',
      // Its own planning records and filters, once the sweep has ended.
      'orgs/dreamhouse-prod/retention/20260101T030000000Z-x/planning-0-0.json',
      'orgs/dreamhouse-prod/retention/20260101T030000000Z-x/planning-0-16-255.filter',
    ]) {
      expect(await check(sweeper, 's3:DeleteObject', key), key).toEqual({ allowed: true });
    }
    expect(
      await check(
        sweeper,
        's3:PutObject',
        'orgs/dreamhouse-prod/retention/20260101T030000000Z-x.json',
        upload(),
      ),
    ).toEqual({ allowed: true });
    // Its turn: the org's vault lease records, and none of a backup's heartbeats or another org's lease.
    for (const key of [
      'orgs/dreamhouse-prod/lease/claims/001767236400000-sweep-x.json',
      'orgs/dreamhouse-prod/lease/renewed/001767240000000-001767236400000-sweep-x.json',
      'orgs/dreamhouse-prod/lease/released/sweep-x.json',
      // A claim taken again by a retried invocation after the sweep gave its lease back.
      'orgs/dreamhouse-prod/lease/claims/001767236400000-sweep-x~1.json',
      'orgs/dreamhouse-prod/lease/renewed/001767240000000-001767236400000-sweep-x~1.json',
      'orgs/dreamhouse-prod/lease/released/sweep-x~1.json',
      // A failed execution's record that it ended.
      'orgs/dreamhouse-prod/lease/released/sweep-x~ended.json',
    ]) {
      expect(await check(sweeper, 's3:PutObject', key, upload()), key).toEqual({ allowed: true });
    }
    for (const key of [
      `orgs/dreamhouse-prod/lease/backups/2026-01-01T03/${SNAPSHOT}-001767236400000.json`,
      `orgs/dreamhouse-prod/lease/backups-ended/${SNAPSHOT}.json`,
      'orgs/dreamhouse-uat/lease/claims/001767236400000-sweep-x.json',
      // An erasure's records: a release would let backups in during the erasure.
      'orgs/dreamhouse-prod/lease/released/erasure-x.json',
      'orgs/dreamhouse-prod/lease/claims/001767236400000-erasure-x.json',
      'orgs/dreamhouse-prod/lease/claims/001767236400000-erasure-x-sweep-y.json',
      'orgs/dreamhouse-prod/lease/renewed/001767240000000-001767236400000-erasure-x.json',
      'orgs/dreamhouse-prod/lease/renewed/001767240000000-001767236400000-erasure-x-sweep-y.json',
    ]) {
      expect(await check(sweeper, 's3:PutObject', key, upload()), key).toMatchObject({ allowed: false });
    }
  });

  it('refuses the sweeper any version delete, and any delete outside its org or of the latest pointer and log', async () => {
    const own = `orgs/dreamhouse-prod/snapshots/${SNAPSHOT}/manifest.json`;
    expect(await check(sweeper, 's3:DeleteObjectVersion', own)).toMatchObject({ allowed: false });
    for (const key of [
      `orgs/dreamhouse-uat/snapshots/${SNAPSHOT}/manifest.json`,
      `orgs/dreamhouse-uat/catalog/${SNAPSHOT}.json`,
      'orgs/dreamhouse-prod/latest-complete.json',
      'orgs/dreamhouse-prod/retention/20260101T030000000Z-x.json',
      // The sweep's other records, what it removed and why, stay with its log.
      'orgs/dreamhouse-prod/retention/20260101T030000000Z-x/bodies.json',
      'orgs/dreamhouse-prod/retention/20260101T030000000Z-x/deferred.json',
      'orgs/dreamhouse-uat/retention/20260101T030000000Z-x/planning-0-0.json',
      'restores/dreamhouse-prod/00D000000000001AAA/report.json',
    ]) {
      expect(await check(sweeper, 's3:DeleteObject', key), key).toMatchObject({ allowed: false });
    }
    expect(await check(sweeper, 's3:PutObject', own, upload())).toMatchObject({ allowed: false });
  });

  it('keeps the sweeper to its own org through the bucket policy, even with an identity policy that allows every delete', async () => {
    // GIVEN the sweeper's identity policy widened to s3:DeleteObject on the whole bucket
    const stacks = retention.stacks.map((s) => ({
      stackName: s.stackName,
      template: structuredClone(s.template) as CfnTemplate,
    }));
    let widened = 0;
    for (const stack of stacks) {
      for (const [id, resource] of Object.entries(stack.template.Resources ?? {})) {
        if (resource.Type !== 'AWS::IAM::Policy' || !id.startsWith('DreamhouseProdRetentionVaultAccess'))
          continue;
        const document = resource.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
        document.Statement.push({ Effect: 'Allow', Action: 's3:DeleteObject', Resource: '*' });
        widened++;
      }
    }
    expect(widened).toBe(1);
    const wide = new AppPolicies(stacks, retention.resolver, 'us-east-1');
    const wideCheck = (key: string) =>
      wide.check({ principal: sweeper, action: 's3:DeleteObject', resource: object(key) });
    // THEN the vault's own statement for this sweeper still refuses other orgs and other folders
    expect(await wideCheck(`orgs/dreamhouse-prod/snapshots/${SNAPSHOT}/manifest.json`)).toEqual({
      allowed: true,
    });
    expect(await wideCheck('orgs/dreamhouse-prod/retention/20260101T030000000Z-x/planning-0-0.json')).toEqual(
      {
        allowed: true,
      },
    );
    for (const key of [
      `orgs/dreamhouse-uat/snapshots/${SNAPSHOT}/manifest.json`,
      'orgs/dreamhouse-prod/latest-complete.json',
      'orgs/dreamhouse-prod/retention/20260101T030000000Z-x.json',
      'orgs/dreamhouse-prod/retention/20260101T030000000Z-x/bodies.json',
      'orgs/dreamhouse-uat/retention/20260101T030000000Z-x/planning-0-0.json',
    ]) {
      expect(await wideCheck(key), key).toMatchObject({
        allowed: false,
        reason: expect.stringContaining('resource-based policy'),
      });
    }
  });

  it('still refuses every backup and restore function any delete, their own org included', async () => {
    const others = [...retention.functions.values()].filter(
      (f) => /^DreamhouseProd(Backup|Restore)/.test(f.logicalId) && f.stackName === retention.stackName,
    );
    expect(others.length).toBeGreaterThan(10);
    for (const fn of others) {
      const principal = String(policies.roleOf(fn.stackName, fn.logicalId));
      for (const key of [
        `orgs/dreamhouse-prod/snapshots/${SNAPSHOT}/manifest.json`,
        `orgs/dreamhouse-prod/catalog/${SNAPSHOT}.json`,
        'orgs/dreamhouse-prod/files/index/md5-0123.json',
      ]) {
        for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion']) {
          expect(await check(principal, action, key), `${fn.logicalId} ${action} ${key}`).toMatchObject({
            allowed: false,
          });
        }
      }
    }
  });
});
