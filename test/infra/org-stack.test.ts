import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BackupSuccessMetric } from '../../contract/workflow-contract.ts';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { appWithoutBundling, exampleConfigJson } from './fixtures/app-fixture.ts';

type MetricStat = {
  Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: { Ref?: string } }[] };
  Stat: string;
};

function exampleOrgStacks() {
  const { orgStacks } = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
  return orgStacks.map((stack) => ({ stack, template: Template.fromStack(stack) }));
}

describe('OrgStack', () => {
  const stacks = exampleOrgStacks();

  it('builds a backup, a restore, a diff report, an erase and a retention workflow for every org of the config, each in its own stack, in its order', () => {
    // GIVEN the example config, whose orgs both have a retention policy WHEN its stacks are built
    // THEN each org has its five workflows in its stack
    expect(stacks.map(({ stack }) => [stack.stackName, stack.org.name])).toEqual([
      ['SfBackup-Org-DreamhouseProd', 'dreamhouse-prod'],
      ['SfBackup-Org-DreamhouseUat', 'dreamhouse-uat'],
    ]);
    expect(
      stacks.map(({ stack }) => [
        stack.backup.node.id,
        stack.restore.node.id,
        stack.diffReport.node.id,
        stack.erase.node.id,
        stack.retention?.node.id,
      ]),
    ).toEqual([
      [
        'DreamhouseProdBackup',
        'DreamhouseProdRestore',
        'DreamhouseProdDiffReport',
        'DreamhouseProdErase',
        'DreamhouseProdRetention',
      ],
      [
        'DreamhouseUatBackup',
        'DreamhouseUatRestore',
        'DreamhouseUatDiffReport',
        'DreamhouseUatErase',
        'DreamhouseUatRetention',
      ],
    ]);
    for (const { template } of stacks) template.resourceCountIs('AWS::StepFunctions::StateMachine', 5);
  });

  it("starts each org's backup on its incremental, full and metadata schedules", () => {
    for (const { stack, template } of stacks) {
      const { org, schedules, backup } = stack;
      expect(Object.keys(schedules.schedules)).toEqual(['Incremental', 'Full', 'Metadata']);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: org.schedules.full,
        Target: Match.objectLike({
          Arn: { Ref: stack.getLogicalId(backup.stateMachine.node.defaultChild as CfnElement) },
          Input: JSON.stringify({ org: org.name, mode: 'full' }),
        }),
      });
    }
  });

  it('schedules a restore drill only for the org whose config has one', () => {
    const [prod, uat] = stacks;
    expect(prod?.stack.restore.drillSchedules).toBeDefined();
    expect(uat?.stack.restore.drillSchedules).toBeUndefined();
    // Three backup schedules per org and one drill.
    // Three backup schedules and the daily retention sweep each, and prod's drill.
    prod?.template.resourceCountIs('AWS::Scheduler::Schedule', 5);
    uat?.template.resourceCountIs('AWS::Scheduler::Schedule', 4);
  });

  it('alerts on every failed execution of each of its workflows, naming the org and the workflow', () => {
    for (const { stack, template } of stacks) {
      const { org } = stack;
      for (const workflow of ['backup', 'restore', 'diff report']) {
        template.hasResourceProperties('AWS::Events::Rule', {
          Description: `Alerts when the ${workflow} workflow of org ${org.name} does not succeed`,
        });
      }
    }
  });

  it('alarms when no backup succeeded for the hours the config gives, but not on restores', () => {
    const alarms = stacks.flatMap(({ template }) =>
      Object.values(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: {
            MetricName: BackupSuccessMetric.Name,
            Dimensions: Match.arrayWith([
              { Name: BackupSuccessMetric.KindDimension, Value: BackupSuccessMetric.DataKind },
            ]),
          },
        }),
      ),
    );
    expect(alarms.map((a) => a.Properties.EvaluationPeriods)).toEqual(
      stacks.map(({ stack }) => stack.org.noSuccessAlarmHours),
    );
  });

  it('alarms on the errors of every function in the stack, not only the ones a workflow lists, with at most 10 metrics an alarm', () => {
    for (const { stack, template } of stacks) {
      // Read from the template, so a function left off a workflow's list is found unalarmed.
      const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
      expect(functions.length).toBeGreaterThanOrEqual(15);
      const errorAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
        .map((alarm) => alarm.Properties as { Metrics?: { Expression?: string; MetricStat?: MetricStat }[] })
        .filter((p) => p.Metrics?.some((m) => m.MetricStat?.Metric.MetricName === 'Errors'));
      // One alarm per workflow (backup, restore, diff report, erase, retention: each holds at most 10
      // functions), and one for the journal writer of a continuous org.
      const continuous = Object.keys(template.findResources('AWS::Events::EventBus')).length;
      expect(errorAlarms).toHaveLength(5 + continuous);
      const alarmed = errorAlarms.flatMap((p) => {
        const metrics = (p.Metrics ?? []).filter((m) => m.MetricStat);
        expect(metrics.length).toBeLessThanOrEqual(10);
        expect(p.Metrics?.filter((m) => m.Expression)).toEqual([
          expect.objectContaining({ Expression: 'SUM(FILL(METRICS(), 0))' }),
        ]);
        return metrics.map((m) => {
          const metric = m.MetricStat?.Metric;
          expect(metric?.Namespace).toBe('AWS/Lambda');
          expect(m.MetricStat?.Stat).toBe('Sum');
          return metric?.Dimensions.find((d) => d.Name === 'FunctionName')?.Value.Ref;
        });
      });
      expect(
        functions.filter((id) => !alarmed.includes(id)),
        stack.stackName,
      ).toEqual([]);
    }
  });

  it("outputs each workflow's state machine ARN", () => {
    for (const { stack, template } of stacks) {
      const { backup, restore } = stack;
      const prefix = backup.node.id.replace(/Backup$/, '');
      template.hasOutput(`${prefix}BackupStateMachineArn`, {
        Value: { Ref: stack.getLogicalId(backup.stateMachine.node.defaultChild as CfnElement) },
      });
      template.hasOutput(`${prefix}RestoreStateMachineArn`, {
        Value: { Ref: stack.getLogicalId(restore.stateMachine.node.defaultChild as CfnElement) },
      });
    }
  });
});

describe('an org stack beside the others', () => {
  /**
   * Each stack's template as JSON text, by stack name, of the app of `orgs` and the example's other
   * settings. With bundling skipped, CDK names a function's code after the first function of the
   * app built from the same source, a stand-in for the hash of the bundle it would have built (the
   * same for every org, since the bundle does not depend on the org); the stand-in is masked.
   */
  function templatesOf(orgs: unknown[]): Map<string, string> {
    const config = parseConfig({ ...exampleConfigJson(), orgs });
    const assembly = buildApp(config, appWithoutBundling(), { nag: false }).app.synth();
    return new Map(
      assembly.stacks.map((s) => [
        s.stackName,
        JSON.stringify(s.template).replace(/"S3Key":"[0-9a-f]{64}\.zip"/g, '"S3Key":"<bundle hash>"'),
      ]),
    );
  }
  const example = exampleConfigJson().orgs as { name: string }[];
  const third = {
    name: 'acme-dev',
    type: 'sandbox',
    secretName: 'sfbackup/acme-dev',
    schedules: { incremental: 'rate(12 hours)' },
    objects: { include: ['Account', 'Contact'] },
    files: false,
  };
  const two = templatesOf(example);
  const three = templatesOf([...example, third]);

  /**
   * The vault template without the marks of `org`: its erase role (and, when a policy applies, its
   * sweeper), named in the bucket policy's lists of principals that keep their one exception, and
   * the lifecycle rule expiring its backup runs' records. The statements themselves do not depend
   * on the orgs.
   */
  function vaultWithoutOrgRoles(template: string, org: string): string {
    const marks = [
      `-sweep-${org}`,
      `-Erase-${org
        .split('-')
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join('')}`,
    ];
    const parsed = JSON.parse(template, (key, value) => {
      if (key === 'Rules' && Array.isArray(value))
        return value.filter((rule: { Id?: string }) => rule.Id !== `expire-backup-run-records-${org}`);
      if (key !== 'aws:PrincipalArn' || !Array.isArray(value)) return value;
      return value.filter((arn: unknown) => !marks.some((mark) => JSON.stringify(arn).includes(mark)));
    });
    return JSON.stringify(parsed);
  }

  it("changes only the vault's lists of erase roles and its lifecycle rules when an org without a retention policy is added", () => {
    // GIVEN the example's two orgs WHEN a third that keeps every snapshot is added THEN only its stack is new
    const unswept = templatesOf([...example, { ...third, keep: 'all' }]);
    expect([...unswept.keys()].filter((name) => !two.has(name))).toEqual(['SfBackup-Org-AcmeDev']);
    expect(
      [...two].filter(([name, template]) => unswept.get(name) !== template).map(([name]) => name),
    ).toEqual(['SfBackup-Vault']);
    // AND the vault differs only by the new org's erase role and lifecycle rule, no sweeper
    const vault = unswept.get('SfBackup-Vault')!;
    expect(vault).toContain('-Erase-AcmeDev');
    expect(vault).toContain(
      '"Id":"expire-backup-run-records-acme-dev","Prefix":"orgs/acme-dev/lease/backups"',
    );
    expect(vault).not.toContain('-sweep-acme-dev');
    expect(vaultWithoutOrgRoles(vault, 'acme-dev')).toBe(
      JSON.stringify(JSON.parse(two.get('SfBackup-Vault')!)),
    );
  });

  it("changes only the vault's lists of erase roles and sweepers and its lifecycle rules when an org with a retention policy is added", () => {
    // GIVEN the example's two orgs WHEN a third under the default policy is added
    expect([...three.keys()].filter((name) => !two.has(name))).toEqual(['SfBackup-Org-AcmeDev']);
    // THEN the other org stacks and the alerting are as they were, and the vault differs only by its roles
    expect([...two].filter(([name, template]) => three.get(name) !== template).map(([name]) => name)).toEqual(
      ['SfBackup-Vault'],
    );
    const vault = three.get('SfBackup-Vault')!;
    expect(vault).toContain('-sweep-acme-dev');
    expect(vault).toContain('"Id":"expire-backup-run-records-acme-dev"');
    expect(vaultWithoutOrgRoles(vault, 'acme-dev')).toBe(
      JSON.stringify(JSON.parse(two.get('SfBackup-Vault')!)),
    );
  });

  it("leaves the remaining orgs and the alerting byte for byte, and the vault but for the org's roles and rule, when an org is removed", () => {
    // GIVEN three orgs WHEN the first is removed (its drill sandbox stays) THEN only its stack goes
    const withoutFirst = templatesOf([example[1], third]);
    expect([...three.keys()].filter((name) => !withoutFirst.has(name))).toEqual([
      'SfBackup-Org-DreamhouseProd',
    ]);
    expect(
      [...withoutFirst].filter(([name, template]) => three.get(name) !== template).map(([name]) => name),
    ).toEqual(['SfBackup-Vault']);
    expect(vaultWithoutOrgRoles(three.get('SfBackup-Vault')!, 'dreamhouse-prod')).toBe(
      JSON.stringify(JSON.parse(withoutFirst.get('SfBackup-Vault')!)),
    );
  });
});
