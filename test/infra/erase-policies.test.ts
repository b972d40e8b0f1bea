import { beforeAll, describe, expect, it } from 'vitest';
import { AppPolicies } from '../../cli/local/policies.ts';
import { type StackTemplate, TemplateResolver } from '../../cli/local/template.ts';
import { type SynthesizedWorkflow, synthesizeDefinition } from '../../cli/local/index.ts';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { appWithoutBundling, exampleConfigJson } from './fixtures/app-fixture.ts';

/** The example app with its vault locked in GOVERNANCE mode, synthesized, and its policies as AWS evaluates them. */
describe('who may remove versions of the vault, under the synthesized policies', () => {
  let w: SynthesizedWorkflow;
  let policies: AppPolicies;
  let bucket: string;

  const roleOf = (logicalIdStart: string): string => {
    const fn = [...w.functions.values()].find(
      (f) => f.stackName === w.stackName && f.logicalId.startsWith(logicalIdStart),
    );
    if (!fn) throw new Error(`No function ${logicalIdStart} in ${w.stackName}`);
    return String(policies.roleOf(fn.stackName, fn.logicalId));
  };
  const part = (org: string) =>
    `arn:aws:s3:::${bucket}/orgs/${org}/snapshots/20260101T000000000Z-abcdef/objects/Contact/part-00001-aaaaaaaa.csv.gz`;
  const allowed = async (principal: string, action: string, resource: string, context = {}) =>
    (await policies.check({ principal, action, resource, context })).allowed;
  /** Functions of the org's other workflows (by the start of their logical id). */
  const OTHER_ROLES = [
    'DreamhouseProdBackupPlanFunction',
    'DreamhouseProdBackupExport',
    'DreamhouseProdRestorePlanFunction',
    'DreamhouseProdDiffReportDiffStartFunction',
  ];

  beforeAll(() => {
    const config = parseConfig({
      ...exampleConfigJson(),
      retention: { objectLock: { mode: 'GOVERNANCE', days: 7 } },
    });
    const built = buildApp(config, appWithoutBundling(), { nag: false });
    const prod = built.orgStacks.find((s) => s.org.name === 'dreamhouse-prod');
    if (!prod) throw new Error('The example config has no org dreamhouse-prod.');
    w = synthesizeDefinition(prod, prod.erase.stateMachine);
    policies = new AppPolicies(w.stacks, w.resolver, 'us-east-1');
    const fn = [...w.functions.values()].find((f) =>
      f.logicalId.startsWith('DreamhouseProdEraseEraseFunction'),
    );
    bucket = String(fn?.environment.VAULT_BUCKET);
  }, 180_000);

  it("lets an org's erase role read, list, replace and remove versions under its own prefix, bypassing a GOVERNANCE lock", async () => {
    const erase = roleOf('DreamhouseProdEraseEraseFunction');
    expect(erase).toMatch(/:role\/SfBackup-Erase-DreamhouseProd$/);
    for (const action of [
      's3:GetObject',
      's3:GetObjectVersion',
      // The lock of each version it would remove, which S3 reports only with these.
      's3:GetObjectRetention',
      's3:GetObjectLegalHold',
      's3:DeleteObjectVersion',
      's3:BypassGovernanceRetention',
    ]) {
      expect(await allowed(erase, action, part('dreamhouse-prod')), action).toBe(true);
    }
    expect(
      await allowed(erase, 's3:ListBucketVersions', `arn:aws:s3:::${bucket}`, {
        's3:prefix': 'orgs/dreamhouse-prod/',
      }),
    ).toBe(true);
  });

  it("refuses an org's erase role every version, listing and removal of another org", async () => {
    const erase = roleOf('DreamhouseProdEraseEraseFunction');
    for (const action of [
      's3:GetObjectVersion',
      's3:GetObjectRetention',
      's3:GetObjectLegalHold',
      's3:PutObject',
      's3:DeleteObjectVersion',
      's3:BypassGovernanceRetention',
    ]) {
      expect(await allowed(erase, action, part('dreamhouse-uat')), action).toBe(false);
    }
    expect(
      await allowed(erase, 's3:ListBucketVersions', `arn:aws:s3:::${bucket}`, {
        's3:prefix': 'orgs/dreamhouse-uat/',
      }),
    ).toBe(false);
    // Nor a delete marker, nor the other org's restore records and reports.
    expect(await allowed(erase, 's3:DeleteObject', part('dreamhouse-prod'))).toBe(false);
    for (const folder of ['restores', 'reports']) {
      const other = `arn:aws:s3:::${bucket}/${folder}/dreamhouse-uat/x.json`;
      for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObjectVersion'])
        expect(await allowed(erase, action, other), `${action} ${other}`).toBe(false);
    }
  });

  it('lets the erase role remove versions only where an erasure rewrites, and never of the erasure or retention log', async () => {
    const erase = roleOf('DreamhouseProdEraseEraseFunction');
    const key = (rest: string) => `arn:aws:s3:::${bucket}/orgs/dreamhouse-prod/${rest}`;
    // Its org's restore records and diff reports, which hold her too.
    for (const key of [
      'restores/dreamhouse-prod/00D000000000001EAA/id-map/Contact/b1.json',
      'reports/dreamhouse-prod/diffs/d1/diff.json',
    ]) {
      for (const action of ['s3:GetObjectVersion', 's3:PutObject', 's3:DeleteObjectVersion'])
        expect(await allowed(erase, action, `arn:aws:s3:::${bucket}/${key}`), `${action} ${key}`).toBe(true);
    }
    expect(
      await allowed(erase, 's3:ListBucketVersions', `arn:aws:s3:::${bucket}`, {
        's3:prefix': 'restores/dreamhouse-prod/',
      }),
    ).toBe(true);
    for (const rest of [
      'catalog/20260101T000000000Z-abcdef.json',
      'files/sha256/ab/abcdef',
      'journal/2026/01/01/00/x.jsonl.gz',
      'erasures/request-42/plan.json',
      'erasures/request-42/progress/scan.json',
    ]) {
      expect(await allowed(erase, 's3:DeleteObjectVersion', key(rest)), rest).toBe(true);
    }
    for (const rest of [
      'erasures/log/20260101T000000000Z-request-42.json',
      'retention/20260101T000000000Z.json',
      'latest.json',
    ]) {
      for (const action of ['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention']) {
        expect(await allowed(erase, action, key(rest)), `${action} ${rest}`).toBe(false);
      }
      // It may still write there: the log is written once, and completed in place.
      expect(await allowed(erase, 's3:PutObject', key(rest)), rest).toBe(true);
    }
  });

  it('lets the erase role add a record to the list of removed versions, and never replace one', async () => {
    const erase = roleOf('DreamhouseProdEraseEraseFunction');
    const list = `arn:aws:s3:::${bucket}/orgs/dreamhouse-prod/erasures/exec-1/removed/0123456789abcdef0123456789abcdef.json`;
    const write = (ifNoneMatch?: string) =>
      allowed(erase, 's3:PutObject', list, {
        's3:ObjectCreationOperation': 'true',
        ...(ifNoneMatch ? { 's3:if-none-match': ifNoneMatch } : {}),
      });
    // Written once, with If-None-Match: * (which S3 refuses over an existing key).
    expect(await write('*')).toBe(true);
    // A plain PutObject would replace a record: refused.
    expect(await write()).toBe(false);
    // Its other records (the plan, rewritten without digests at the end) it still replaces.
    const plan = `arn:aws:s3:::${bucket}/orgs/dreamhouse-prod/erasures/exec-1/plan.json`;
    expect(await allowed(erase, 's3:PutObject', plan, { 's3:ObjectCreationOperation': 'true' })).toBe(true);
  });

  it('keeps the erasure records to the erase role: no other workflow role may write them, though it may write its own records', async () => {
    const fn = [...w.functions.values()].find((f) =>
      f.logicalId.startsWith('DreamhouseProdEraseEraseFunction'),
    );
    const upload = {
      's3:ObjectCreationOperation': 'true',
      's3:if-none-match': '*',
      's3:x-amz-server-side-encryption': 'aws:kms',
      's3:x-amz-server-side-encryption-aws-kms-key-id': String(fn?.environment.VAULT_KEY_ARN),
    };
    const erasures = [
      'erasures/exec-1/removed/0123456789abcdef0123456789abcdef.json',
      'erasures/log/20260101T000000000Z-exec-1.json',
      'erasures/exec-1/plan.json',
    ].map((rest) => `arn:aws:s3:::${bucket}/orgs/dreamhouse-prod/${rest}`);
    const backup = roleOf('DreamhouseProdBackupPlanFunction');
    expect(await allowed(backup, 's3:PutObject', part('dreamhouse-prod'), upload)).toBe(true);
    for (const start of OTHER_ROLES) {
      for (const key of erasures)
        expect(await allowed(roleOf(start), 's3:PutObject', key, upload), `${start} ${key}`).toBe(false);
    }
    // The backup role's own policy denies it every key but a backup's; the vault's bucket policy
    // refuses the erasure records to it even without that statement (an administrator who widened
    // the role could not plant a list of versions for erase-replica either).
    const stacks = structuredClone(w.stacks) as StackTemplate[];
    for (const stack of stacks)
      for (const resource of Object.values(stack.template.Resources ?? {})) {
        const document = resource.Properties?.PolicyDocument as
          | { Statement?: { Sid?: string }[] }
          | undefined;
        if (resource.Type === 'AWS::IAM::Policy' && document?.Statement)
          document.Statement = document.Statement.filter((st) => st.Sid !== 'DenyWritesOutsideBackupKeys');
      }
    const widened = new AppPolicies(stacks, new TemplateResolver(stacks, 'us-east-1'), 'us-east-1');
    expect(
      (
        await widened.check({
          principal: backup,
          action: 's3:PutObject',
          resource: erasures[0]!.replace('erasures/', 'retention/'),
          context: upload,
        })
      ).allowed,
    ).toBe(true);
    const planted = await widened.check({
      principal: backup,
      action: 's3:PutObject',
      resource: erasures[0]!,
      context: upload,
    });
    expect(planted).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('resource-based policy'),
    });
    const erase = roleOf('DreamhouseProdEraseEraseFunction');
    for (const key of erasures) expect(await allowed(erase, 's3:PutObject', key, upload), key).toBe(true);
  });

  it('refuses the backup, restore and diff report roles any delete, even of their own org', async () => {
    for (const start of OTHER_ROLES) {
      const role = roleOf(start);
      for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention']) {
        expect(await allowed(role, action, part('dreamhouse-prod')), `${start} ${action}`).toBe(false);
      }
    }
  });
});
