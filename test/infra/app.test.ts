import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { BackupSchedules } from '../../lib/backup-schedules.ts';
import { REPO_ROOT, WorkflowFunction } from '../../lib/function-defaults.ts';
import {
  appWithoutBundling,
  ECHO_HANDLER_ENTRY,
  exampleConfigJson,
  testStateMachine,
} from './fixtures/app-fixture.ts';

type Findings = { ruleName: string; violatingResources: { constructPath?: string }[] }[];

function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return (report.violations as Findings).flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
}

function acknowledgements(scope: IConstruct): { path: string; id: string; rule: string; reason: string }[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([rule, reason]) => ({
          path: c.node.path,
          id: c.node.id,
          rule,
          reason,
        })),
      ),
  );
}

function exampleApp(nag = true) {
  return buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag });
}

describe('buildApp', () => {
  it('builds the vault, the shared alerting and one stack per org, named after the stack prefix', () => {
    const { app, vaultStack, alertingStack, orgStacks } = exampleApp();
    expect(app.node.children.filter((c) => c instanceof Stack).map((s) => s.node.id)).toEqual([
      'SfBackup-Vault',
      'SfBackup-Alerting',
      'SfBackup-Org-DreamhouseProd',
      'SfBackup-Org-DreamhouseUat',
    ]);
    expect(vaultStack.terminationProtection).toBe(true);
    expect(alertingStack.dependencies).toEqual([vaultStack]);
    expect(orgStacks.map((s) => s.org.name)).toEqual(['dreamhouse-prod', 'dreamhouse-uat']);
    for (const orgStack of orgStacks) {
      expect(orgStack.dependencies).toEqual([vaultStack, alertingStack]);
      expect(orgStack.vaultExports).toEqual({
        bucketArn: 'SfBackup-Vault-BucketArn',
        keyArn: 'SfBackup-Vault-KeyArn',
      });
    }
    expect(alertingStack.exports).toEqual({
      topicArn: 'SfBackup-Alerting-TopicArn',
      topicKeyArn: 'SfBackup-Alerting-TopicKeyArn',
      logsKeyArn: 'SfBackup-Alerting-LogsKeyArn',
    });
  });

  it('reaches the vault and the alerting from the org stacks through named exports only', () => {
    // GIVEN the example app WHEN synthesized
    const assembly = exampleApp(false).app.synth();
    const text = (name: string) => JSON.stringify(assembly.getStackByName(name).template);
    // THEN the org stacks import the exports by name, and neither shared stack names an org stack
    for (const name of ['SfBackup-Org-DreamhouseProd', 'SfBackup-Org-DreamhouseUat']) {
      const imports = [...text(name).matchAll(/"Fn::ImportValue":"([^"]+)"/g)].map((m) => m[1]);
      expect([...new Set(imports)].sort()).toEqual([
        'SfBackup-Alerting-LogsKeyArn',
        'SfBackup-Alerting-TopicArn',
        'SfBackup-Alerting-TopicKeyArn',
        'SfBackup-Vault-BucketArn',
        'SfBackup-Vault-KeyArn',
      ]);
    }
    // AND neither shared stack names an org stack; the vault names each org's erase role and
    // sweeper (in its bucket policy's lists of exceptions), by name, never by reference, and its
    // prefix in a lifecycle rule
    const vault = text('SfBackup-Vault');
    expect(vault).toContain('role/SfBackup-Erase-DreamhouseProd');
    expect(vault).toContain('role/SfBackup-sweep-dreamhouse-uat');
    expect(vault).toContain('"Prefix":"orgs/dreamhouse-uat/lease/backups"');
    const named = vault.replace(
      /role\/SfBackup-(Erase-Dreamhouse(Prod|Uat)|sweep-dreamhouse-(prod|uat))|"ExpirationInDays":2,"Id":"expire-backup-run-records-dreamhouse-(prod|uat)","Prefix":"orgs\/dreamhouse-(prod|uat)\/lease\/backups"/g,
      '',
    );
    expect(named).not.toMatch(/dreamhouse|Org-/i);
    expect(text('SfBackup-Alerting')).not.toMatch(/Dreamhouse|Org-/);
  });

  it('passes the AwsSolutions checks with no unacknowledged finding in any stack', () => {
    // GIVEN the example app WHEN it is synthesized (references resolve as they do for `cdk synth`)
    const { app, vaultStack, alertingStack, orgStacks } = exampleApp(false);
    app.synth();
    // THEN the checks find nothing that is not acknowledged
    for (const stack of [vaultStack, alertingStack, ...orgStacks]) expect(nagFindings(stack)).toEqual([]);
  });

  it('gives every acknowledged finding in the app a specific reason', () => {
    const acks = acknowledgements(exampleApp(false).app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect(ack.reason.length, `${ack.rule} at ${ack.path}`).toBeGreaterThan(40);
  });

  it('names the resource in every reason the foundation constructs give', () => {
    // GIVEN the app with a function and backup schedules, so every acknowledging construct is present
    const { app, alertingStack, orgStacks } = exampleApp(false);
    const stack = new Stack(app, 'Extra');
    new WorkflowFunction(stack, 'Echo', { entry: ECHO_HANDLER_ENTRY });
    new BackupSchedules(stack, 'Schedules', {
      org: orgStacks[0]!.org,
      stateMachine: testStateMachine(stack),
      alarmTopic: alertingStack.alerting.topic,
    });
    // WHEN the acknowledgements of the vault, the function and the schedules are collected
    const acks = acknowledgements(app).filter((a) => /^(SfBackup-Vault|Extra)\//.test(a.path));
    // THEN each one names the construct it covers
    expect(acks.map((a) => a.rule).sort()).toEqual([
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-L1',
      'Annotation::AwsSolutions-S1',
      'Annotation::AwsSolutions-SQS3',
    ]);
    for (const ack of acks) expect(ack.reason).toContain(ack.id);
  });

  it('lets a function in an org stack be granted the vault without changing the vault stack', () => {
    // GIVEN a function in an org stack WHEN it is granted read and write on the vault
    const before = JSON.stringify(Template.fromStack(exampleApp(false).vaultStack).toJSON().Resources);
    const { vaultStack, orgStacks } = exampleApp(false);
    const orgStack = orgStacks[0]!;
    const fn = new WorkflowFunction(orgStack, 'Echo', { entry: ECHO_HANDLER_ENTRY });
    orgStack.vault.bucket.grantReadWrite(fn);
    // THEN the grant lands in the function's role and the vault's resources stay as they were
    const after = Template.fromStack(vaultStack).toJSON().Resources;
    expect(JSON.stringify(after)).toBe(before);
    Template.fromStack(orgStack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['kms:Decrypt', 'kms:GenerateDataKey*']),
            Resource: { 'Fn::ImportValue': 'SfBackup-Vault-KeyArn' },
          }),
        ]),
      },
    });
  });
});

describe('bin/app.ts', () => {
  function synth(configFile: string): { status: number | null; stderr: string; outdir: string } {
    const outdir = mkdtempSync(path.join(tmpdir(), 'sfbackup-synth-'));
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ configFile, 'aws:cdk:bundling-stacks': [] }),
      },
    });
    return { status: result.status, stderr: result.stderr, outdir };
  }

  it('synthesizes every stack from the config file named in the context', () => {
    const { status, stderr, outdir } = synth('config/example.json');
    try {
      expect(stderr).not.toContain('Error');
      expect(status).toBe(0);
      expect(existsSync(path.join(outdir, 'SfBackup-Vault.template.json'))).toBe(true);
      for (const name of ['Alerting', 'Org-DreamhouseProd', 'Org-DreamhouseUat']) {
        expect(existsSync(path.join(outdir, `SfBackup-${name}.template.json`))).toBe(true);
      }
      expect(existsSync(path.join(outdir, 'SfBackup-Backup.template.json'))).toBe(false);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('fails with one message listing every problem of a bad config file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sfbackup-config-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ orgs: [{ name: 'Bad Name', type: 'prod' }], alertEmails: ['x'] }));
    const { status, stderr, outdir } = synth(file);
    try {
      expect(status).toBe(1);
      expect(stderr).toContain(`The config in ${file} has 4 problems:`);
      expect(stderr).toContain('orgs[0].name: received "Bad Name"');
      expect(stderr).toContain('orgs[0].type: received "prod"');
      expect(stderr).toContain('orgs[0].secretName: received nothing');
      expect(stderr).toContain('alertEmails[0]: received "x"');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says how to pass a config when the file cannot be read', () => {
    const { status, stderr, outdir } = synth('config/does-not-exist.json');
    rmSync(outdir, { recursive: true, force: true });
    expect(status).toBe(1);
    expect(stderr).toContain('Cannot read the config config/does-not-exist.json');
    expect(stderr).toContain('cdk synth -c configFile=path/to/config.json');
  });
});
