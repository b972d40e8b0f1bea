import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupFailure } from '../../contract/workflow-contract.ts';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { runWorkflow, type SynthesizedWorkflow, synthesizeDefinition } from '../../cli/local/index.ts';
import { AccessDeniedError, AppPolicies } from '../../cli/local/policies.ts';
import type { CfnTemplate, StackTemplate } from '../../cli/local/template.ts';
import { appWithoutBundling, exampleConfigJson } from '../infra/fixtures/app-fixture.ts';
import { MemoryStore } from './fixtures/memory-store.ts';
import { buildTestApp } from './fixtures/test-app.ts';

/** A copy of the workflow whose templates `edit` changed, so its policies are read afresh. */
function withTemplates(
  workflow: SynthesizedWorkflow,
  edit: (stack: StackTemplate) => void,
): SynthesizedWorkflow {
  const stacks = workflow.stacks.map((s) => ({
    stackName: s.stackName,
    template: structuredClone(s.template) as CfnTemplate,
  }));
  for (const stack of stacks) edit(stack);
  return { ...workflow, stacks };
}

interface Statement {
  Action?: string | string[];
  Resource?: unknown;
  Effect?: string;
}

/** Removes from every IAM policy of `stack` the statements `drop` picks; returns how many it removed. */
function dropStatements(
  stack: StackTemplate,
  drop: (statement: Statement) => boolean,
  policyIdStart = '',
): number {
  let dropped = 0;
  for (const [id, resource] of Object.entries(stack.template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::Policy' || !id.startsWith(policyIdStart)) continue;
    const document = resource.Properties?.PolicyDocument as { Statement: Statement[] };
    const kept = document.Statement.filter((s) => !drop(s));
    dropped += document.Statement.length - kept.length;
    document.Statement = kept;
  }
  return dropped;
}

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action ?? '']);

describe('a policy-enforced local run of the runner test app', () => {
  let workflow: SynthesizedWorkflow;
  let planRole: string;

  beforeAll(() => {
    const testApp = buildTestApp();
    workflow = synthesizeDefinition(testApp.flowStack, testApp.stateMachine);
    const policies = new AppPolicies(workflow.stacks, workflow.resolver, 'us-east-1');
    planRole = String(policies.roleOf(workflow.stackName, workflow.stateMachineLogicalId));
  });

  async function run(w: SynthesizedWorkflow) {
    const store = new MemoryStore();
    await store.put('plans/r1/objects.json', JSON.stringify(['Account', 'Contact']));
    return runWorkflow({
      workflow: w,
      input: { itemsKey: 'plans/r1/objects.json', runId: 'r1' },
      store,
      retryIntervalScale: 0,
      enforcePolicies: true,
    });
  }

  it('succeeds with the template as synthesized: every invoke, item read and child start is granted', async () => {
    const result = await run(workflow);
    expect(result.errorMessage).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
  });

  it("fails, naming the state machine's role, the action and the function, once the grant to invoke the plan function is removed", async () => {
    const planArn = [...workflow.functions.values()].find((f) => f.logicalId.startsWith('PlanFunction'))?.arn;
    const edited = withTemplates(workflow, (stack) => {
      dropStatements(
        stack,
        (s) =>
          actions(s).includes('lambda:InvokeFunction') && JSON.stringify(s.Resource).includes('PlanFunction'),
      );
    });
    const result = await run(edited);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Lambda.AccessDeniedException');
    const roleName = planRole.split('/').at(-1);
    expect(result.errorMessage).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/${roleName}/${result.executionName} is not authorized to perform: lambda:InvokeFunction on resource: ${planArn} because no identity-based policy allows the lambda:InvokeFunction action`,
    );
  });

  it("fails the Distributed Map's item read, naming s3:GetObject on the plan's object, once the ItemReader's grant is removed", async () => {
    const edited = withTemplates(workflow, (stack) => {
      dropStatements(stack, (s) => actions(s).includes('s3:GetObject'));
    });
    const result = await run(edited);
    // The map's Catch turns the failure into the alert and the workflow's own failure.
    expect(result.error).toBe('BackupFailed');
    expect(result.snsMessages[0]?.message).toContain('States.ItemReaderFailed');
    const edited2 = withTemplates(workflow, (stack) => {
      dropStatements(stack, (s) => actions(s).includes('s3:GetObject'));
    });
    await expect(
      new AppPolicies(edited2.stacks, edited2.resolver, 'us-east-1').authorize({
        principal: planRole,
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::runnerdata-vault/plans/r1/objects.json',
      }),
    ).rejects.toThrow(AccessDeniedError);
  });
});

describe("a policy-enforced run of a Distributed Map's ResultWriter", () => {
  it('writes the results with the template intact, and fails ResultWriterFailed once the grant to put them is removed', async () => {
    const testApp = buildTestApp({ withResultWriter: true });
    const workflow = synthesizeDefinition(testApp.flowStack, testApp.stateMachine);
    const run = async (w: SynthesizedWorkflow) => {
      const store = new MemoryStore();
      await store.put('plans/r1/objects.json', JSON.stringify(['Account']));
      return runWorkflow({
        workflow: w,
        input: { itemsKey: 'plans/r1/objects.json', runId: 'r1' },
        store,
        retryIntervalScale: 0,
        enforcePolicies: true,
      });
    };
    const intact = await run(workflow);
    expect(intact.errorMessage).toBeUndefined();
    expect(intact.status).toBe('SUCCEEDED');
    let dropped = 0;
    const edited = withTemplates(workflow, (stack) => {
      dropped += dropStatements(stack, (s) => actions(s).includes('s3:PutObject'));
    });
    expect(dropped).toBeGreaterThan(0);
    const refused = await run(edited);
    expect(refused.error).toBe('BackupFailed');
    expect(refused.snsMessages[0]?.message).toContain('States.ResultWriterFailed');
  });
});

describe('the policies of the example app', () => {
  let backup: SynthesizedWorkflow;
  let policies: AppPolicies;
  let bucket: string;
  let vaultKey: string;
  let storeDir: string;

  const role = (w: SynthesizedWorkflow, logicalIdStart: string): string => {
    const fn = [...w.functions.values()].find(
      (f) => f.stackName === w.stackName && f.logicalId.startsWith(logicalIdStart),
    );
    if (!fn) throw new Error(`No function ${logicalIdStart}`);
    return String(policies.roleOf(fn.stackName, fn.logicalId));
  };

  beforeAll(async () => {
    const built = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
    const prod = built.orgStacks.find((s) => s.org.name === 'dreamhouse-prod');
    if (!prod) throw new Error('The example config has no org dreamhouse-prod.');
    backup = synthesizeDefinition(prod, prod.backup.stateMachine);
    policies = new AppPolicies(backup.stacks, backup.resolver, 'us-east-1');
    const fn = [...backup.functions.values()].find((f) => f.logicalId.startsWith('DreamhouseProdBackupPlan'));
    bucket = String(fn?.environment.VAULT_BUCKET);
    vaultKey = String(fn?.environment.VAULT_KEY_ARN);
    storeDir = await mkdtemp(path.join(tmpdir(), 'sfbackup-policies-'));
  }, 180_000);

  afterAll(async () => {
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
  });

  describe('scope each org to its own prefix', () => {
    let restoreRole: string;
    let restoreMachine: string;
    let backupMachine: string;
    const objectOf = (org: string) =>
      `arn:aws:s3:::${bucket}/orgs/${org}/snapshots/20260101T000000000Z-abcdef/manifest.json`;

    beforeAll(() => {
      backupMachine = String(policies.roleOf(backup.stackName, backup.stateMachineLogicalId));
      restoreRole = role(backup, 'DreamhouseProdRestorePlanFunction');
      const stack = backup.resolver.stack(backup.stackName);
      const restoreId = Object.entries(stack?.template.Resources ?? {}).find(
        ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith('DreamhouseProdRestore'),
      )?.[0];
      restoreMachine = String(policies.roleOf(backup.stackName, String(restoreId)));
    });

    it("refuses org A's restore functions org B's snapshots, and lets them read their own", async () => {
      for (const action of ['s3:GetObject', 's3:GetObjectVersion']) {
        expect(
          await policies.check({ principal: restoreRole, action, resource: objectOf('dreamhouse-prod') }),
        ).toEqual({ allowed: true });
        expect(
          await policies.check({ principal: restoreRole, action, resource: objectOf('dreamhouse-uat') }),
        ).toMatchObject({ allowed: false });
      }
      expect(
        await policies.check({
          principal: restoreRole,
          action: 's3:ListBucket',
          resource: `arn:aws:s3:::${bucket}`,
          context: { 's3:prefix': 'orgs/dreamhouse-uat/catalog/' },
        }),
      ).toMatchObject({ allowed: false });
    });

    it("refuses every restore function of org A org B's restore records (read, list, write), and lets it use its own", async () => {
      const record = (org: string) =>
        `arn:aws:s3:::${bucket}/restores/${org}/00D000000000001AAA/id-map/Account/run-1-main-00000-aaaaaaaa.json`;
      const lease = (org: string) =>
        `arn:aws:s3:::${bucket}/restores/${org}/00D000000000001AAA/lease/claims/000001767225600000-run-1.json`;
      const upload = {
        's3:ObjectCreationOperation': 'true',
        's3:if-none-match': '*',
        's3:x-amz-server-side-encryption': 'aws:kms',
        's3:x-amz-server-side-encryption-aws-kms-key-id': vaultKey,
      };
      const restoreFunctions = [...backup.functions.values()].filter(
        (f) =>
          f.stackName === backup.stackName &&
          f.environment.ORG_KEY === 'dreamhouse-prod' &&
          /^DreamhouseProdRestore/.test(f.logicalId),
      );
      // Every function of the workflow, the lease release included.
      expect(restoreFunctions.map((f) => f.logicalId).some((id) => id.includes('ReleaseLease'))).toBe(true);
      for (const fn of restoreFunctions) {
        const principal = String(policies.roleOf(fn.stackName, fn.logicalId));
        for (const resource of [record('dreamhouse-prod'), lease('dreamhouse-prod')]) {
          await policies.authorize({ principal, action: 's3:GetObject', resource });
          await policies.authorize({ principal, action: 's3:PutObject', resource, context: upload });
        }
        await policies.authorize({
          principal,
          action: 's3:ListBucket',
          resource: `arn:aws:s3:::${bucket}`,
          context: { 's3:prefix': 'restores/dreamhouse-prod/00D000000000001AAA/id-map/' },
        });
        for (const resource of [record('dreamhouse-uat'), lease('dreamhouse-uat')]) {
          for (const action of ['s3:GetObject', 's3:GetObjectVersion']) {
            await expect(
              policies.authorize({ principal, action, resource }),
              `${fn.logicalId} ${action}`,
            ).rejects.toThrow(AccessDeniedError);
          }
          await expect(
            policies.authorize({ principal, action: 's3:PutObject', resource, context: upload }),
            `${fn.logicalId} s3:PutObject`,
          ).rejects.toThrow(AccessDeniedError);
        }
        for (const prefix of ['restores/dreamhouse-uat/', 'restores/', 'restores/00D000000000001AAA/']) {
          await expect(
            policies.authorize({
              principal,
              action: 's3:ListBucket',
              resource: `arn:aws:s3:::${bucket}`,
              context: { 's3:prefix': prefix },
            }),
            `${fn.logicalId} list ${prefix}`,
          ).rejects.toThrow(AccessDeniedError);
        }
        // Nor the layout of earlier versions, restores/<org id>/, which no configured org owns.
        await expect(
          policies.authorize({
            principal,
            action: 's3:PutObject',
            resource: `arn:aws:s3:::${bucket}/restores/00D000000000001AAA/id-map/Account/x.json`,
            context: upload,
          }),
        ).rejects.toThrow(AccessDeniedError);
      }
    });

    it("refuses org A's backup state machine org B's objects and lets it read its own; the restore state machine reads none", async () => {
      expect(
        await policies.check({
          principal: backupMachine,
          action: 's3:GetObject',
          resource: objectOf('dreamhouse-prod'),
        }),
      ).toEqual({ allowed: true });
      for (const machine of [backupMachine, restoreMachine]) {
        expect(
          await policies.check({
            principal: machine,
            action: 's3:GetObject',
            resource: objectOf('dreamhouse-uat'),
          }),
        ).toMatchObject({ allowed: false });
      }
    });

    it("lets org A's comparison function read its restores' id maps and lease releases, list their lease, and nothing else of the restore records", async () => {
      const compare = role(backup, 'DreamhouseProdBackupCompareFunction');
      const restores = (org: string, rest: string) =>
        `arn:aws:s3:::${bucket}/restores/${org}/00D000000000001AAA/${rest}`;
      const idMap = 'id-map/Contact/run-1-main-00000-aaaaaaaa.json';
      expect(
        await policies.check({
          principal: compare,
          action: 's3:GetObject',
          resource: restores('dreamhouse-prod', idMap),
        }),
      ).toEqual({ allowed: true });
      expect(
        await policies.check({
          principal: compare,
          action: 's3:GetObject',
          resource: restores('dreamhouse-prod', 'lease/released/run-1.json'),
        }),
      ).toEqual({ allowed: true });
      for (const prefix of ['lease/claims/', 'lease/renewed/', 'lease/released/']) {
        expect(
          await policies.check({
            principal: compare,
            action: 's3:ListBucket',
            resource: `arn:aws:s3:::${bucket}`,
            context: { 's3:prefix': `restores/dreamhouse-prod/00D000000000001AAA/${prefix}` },
          }),
        ).toEqual({ allowed: true });
      }
      for (const denied of [
        { action: 's3:GetObject', resource: restores('dreamhouse-uat', idMap) },
        { action: 's3:GetObject', resource: restores('dreamhouse-prod', 'runs/run-1/plan.json') },
        { action: 's3:PutObject', resource: restores('dreamhouse-prod', 'lease/released/run-1.json') },
        { action: 's3:PutObject', resource: restores('dreamhouse-prod', idMap) },
        { action: 's3:DeleteObject', resource: objectOf('dreamhouse-prod') },
      ]) {
        expect(await policies.check({ principal: compare, ...denied })).toMatchObject({ allowed: false });
      }
      for (const prefix of [
        'restores/dreamhouse-uat/',
        'restores/dreamhouse-prod/00D000000000001AAA/runs/',
      ]) {
        expect(
          await policies.check({
            principal: compare,
            action: 's3:ListBucket',
            resource: `arn:aws:s3:::${bucket}`,
            context: { 's3:prefix': prefix },
          }),
        ).toMatchObject({ allowed: false });
      }
    });
  });

  it("lets the backup state machine use the alert topic's key, which publishing to the encrypted topic needs", async () => {
    const machine = String(policies.roleOf(backup.stackName, backup.stateMachineLogicalId));
    const topic = [...backup.resolver.resources.entries()].find(([, r]) => r.kind === 'topic')?.[0] ?? '';
    const key = String(policies.keyOf(topic));
    const context = { 'kms:ViaService': 'sns.us-east-1.amazonaws.com' };
    expect(await policies.check({ principal: machine, action: 'sns:Publish', resource: topic })).toEqual({
      allowed: true,
    });
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      expect(await policies.check({ principal: machine, action, resource: key, context })).toEqual({
        allowed: true,
      });
    }
  });

  it('delivers the failure alert of a backup that failed at its plan, instead of failing the publish', async () => {
    const result = await runWorkflow({
      workflow: backup,
      input: { org: 'dreamhouse-prod', mode: 'full' },
      store: new MemoryStore(),
      retryIntervalScale: 0,
      enforcePolicies: true,
      // The org's secret holds no usable credentials, so the plan fails for good.
      secrets: { [String(backup.functions.values().next().value?.environment.ORG_SECRET_ARN)]: 'not json' },
      env: {
        SFBACKUP_STORE_DIR: storeDir,
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    expect(result.errorMessage).not.toMatch(/not authorized/);
    expect(result.error).toBe(BackupFailure.Failed);
    expect(result.snsMessages).toHaveLength(1);
    expect(result.snsMessages[0]?.message).toContain('InvalidOrgSecretError');
  }, 120_000);

  it("fails the plan with AccessDeniedException naming the plan function's role, the action and the secret once its grant to read the secret is removed", async () => {
    const plan = [...backup.functions.values()].find((f) =>
      f.logicalId.startsWith('DreamhouseProdBackupPlan'),
    );
    const secret = String(plan?.environment.ORG_SECRET_ARN);
    let dropped = 0;
    const edited = withTemplates(backup, (stack) => {
      dropped += dropStatements(
        stack,
        (s) => actions(s).includes('secretsmanager:GetSecretValue'),
        'DreamhouseProdBackupPlanFunction',
      );
    });
    expect(dropped).toBe(1);
    const result = await runWorkflow({
      workflow: edited,
      input: { org: 'dreamhouse-prod', mode: 'full' },
      store: new MemoryStore(),
      retryIntervalScale: 0,
      enforcePolicies: true,
      secrets: { [secret]: 'not json' },
      env: {
        SFBACKUP_STORE_DIR: storeDir,
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    expect(result.error).toBe(BackupFailure.Failed);
    const role = String(policies.roleOf(String(plan?.stackName), String(plan?.logicalId)))
      .split('/')
      .at(-1);
    expect(result.snsMessages[0]?.message).toContain(
      `AccessDeniedException {"errorType":"AccessDeniedException","errorMessage":"User: arn:aws:sts::000000000000:assumed-role/${role}/${plan?.stackName}-${plan?.logicalId} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secret}-000000 because no identity-based policy allows the secretsmanager:GetSecretValue action"`,
    );
  }, 120_000);

  it('refuses an upload under another key with the explicit deny of the bucket policy, though the role may write there', async () => {
    const exportRole = role(backup, 'DreamhouseProdBackupExport');
    const resource = `arn:aws:s3:::${bucket}/orgs/dreamhouse-prod/snapshots/s1/x.csv.gz`;
    const base = { 's3:ObjectCreationOperation': 'true', 's3:if-none-match': '*' };
    const sse = (key: string) => ({
      ...base,
      's3:x-amz-server-side-encryption': 'aws:kms',
      's3:x-amz-server-side-encryption-aws-kms-key-id': key,
    });
    expect(
      await policies.check({
        principal: exportRole,
        action: 's3:PutObject',
        resource,
        context: sse(vaultKey),
      }),
    ).toEqual({ allowed: true });
    const refused = await policies.check({
      principal: exportRole,
      action: 's3:PutObject',
      resource,
      context: sse('arn:aws:kms:us-east-1:000000000000:key/another'),
    });
    expect(refused).toEqual({
      allowed: false,
      reason: 'with an explicit deny in a resource-based policy (statement DenyUploadsWithAnotherKey)',
    });
  });

  it("lets every backup function write only a backup's own keys under its org's prefix: never a lease claim, the retention log or the journal", async () => {
    const backupRoles = [...backup.functions.values()]
      .filter((f) => f.stackName === backup.stackName && f.logicalId.startsWith('DreamhouseProdBackup'))
      .map((f) => String(policies.roleOf(f.stackName, f.logicalId)));
    expect(new Set(backupRoles).size).toBeGreaterThanOrEqual(8);
    const context = {
      's3:ObjectCreationOperation': 'true',
      's3:if-none-match': '*',
      's3:x-amz-server-side-encryption': 'aws:kms',
      's3:x-amz-server-side-encryption-aws-kms-key-id': vaultKey,
    };
    const key = (rest: string) => `arn:aws:s3:::${bucket}/orgs/dreamhouse-prod/${rest}`;
    const own = [
      'snapshots/20261201T020000000Z-abcdef/objects/Account/part-00001.csv.gz',
      'catalog/20261201T020000000Z-abcdef.json',
      'files/sha256/ab/ab12',
      'files/index/068000000000001AAA.json',
      'latest-complete.json',
      'lease/backups/2026-12-01T03/20261201T020000000Z-abcdef-000001764558000000.json',
      'lease/backups-ended/20261201T020000000Z-abcdef.json',
    ];
    const others = [
      'lease/claims/000001764558000-sweep-daily-1.json',
      'lease/renewed/000001764558000-erasure-dpo-1.json',
      'lease/released/erasure-dpo-1.json',
      'retention/20261201T030000000Z-daily-1.json',
      'journal/2026/12/01/events-0001.ndjson.gz',
      'erasures/dpo-1/plan.json',
    ];
    for (const principal of backupRoles) {
      for (const rest of own)
        expect(
          await policies.check({ principal, action: 's3:PutObject', resource: key(rest), context }),
          `${principal} ${rest}`,
        ).toEqual({ allowed: true });
      for (const rest of others)
        expect(
          await policies.check({ principal, action: 's3:PutObject', resource: key(rest), context }),
          `${principal} ${rest}`,
        ).toMatchObject({ allowed: false });
    }
  });

  it('refuses the vault key to a role whose identity policy allows it when the key policy does not (used outside S3)', async () => {
    const exportRole = role(backup, 'DreamhouseProdBackupExport');
    const viaS3 = {
      'kms:ViaService': 's3.us-east-1.amazonaws.com',
      'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${bucket}`,
    };
    expect(
      await policies.check({
        principal: exportRole,
        action: 'kms:Decrypt',
        resource: vaultKey,
        context: viaS3,
      }),
    ).toEqual({ allowed: true });
    await expect(
      policies.authorize({ principal: exportRole, action: 'kms:Decrypt', resource: vaultKey, session: 'fn' }),
    ).rejects.toThrow(
      `is not authorized to perform: kms:Decrypt on resource: ${vaultKey} because the key policy does not allow the kms:Decrypt action`,
    );
  });
});
