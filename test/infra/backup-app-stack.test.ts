import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BackupSuccessMetric } from '../../contract/workflow-contract.ts';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { appWithoutBundling, exampleConfigJson } from './fixtures/app-fixture.ts';

function exampleStack() {
  const { backupStack } = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
  return { stack: backupStack, template: Template.fromStack(backupStack) };
}

describe('BackupAppStack', () => {
  const { stack, template } = exampleStack();

  it('builds a backup and a restore workflow for every org of the config, in its order', () => {
    // GIVEN the example config WHEN its stack is built THEN each org has both workflows
    expect(stack.orgs.map((o) => o.org.name)).toEqual(['dreamhouse-prod', 'dreamhouse-uat']);
    expect(stack.orgs.map((o) => [o.backup.node.id, o.restore.node.id])).toEqual([
      ['DreamhouseProdBackup', 'DreamhouseProdRestore'],
      ['DreamhouseUatBackup', 'DreamhouseUatRestore'],
    ]);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 4);
  });

  it("starts each org's backup on its incremental, full and metadata schedules", () => {
    for (const { org, schedules, backup } of stack.orgs) {
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
    const [prod, uat] = stack.orgs;
    expect(prod?.restore.drillSchedules).toBeDefined();
    expect(uat?.restore.drillSchedules).toBeUndefined();
    // Three backup schedules per org and one drill.
    template.resourceCountIs('AWS::Scheduler::Schedule', 7);
  });

  it('alerts on every failed execution of both workflows, naming the org and the workflow', () => {
    for (const { org } of stack.orgs) {
      for (const workflow of ['backup', 'restore']) {
        template.hasResourceProperties('AWS::Events::Rule', {
          Description: `Alerts when the ${workflow} workflow of org ${org.name} does not succeed`,
        });
      }
    }
  });

  it('alarms when no backup succeeded for the hours the config gives, but not on restores', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: {
        MetricName: BackupSuccessMetric.Name,
        Dimensions: Match.arrayWith([
          { Name: BackupSuccessMetric.KindDimension, Value: BackupSuccessMetric.DataKind },
        ]),
      },
    });
    expect(Object.values(alarms).map((a) => a.Properties.EvaluationPeriods)).toEqual(
      stack.orgs.map((o) => o.org.noSuccessAlarmHours),
    );
  });

  it('alarms on the errors of every function in the stack, not only the ones a workflow lists', () => {
    // Read from the template, so a function left off a workflow's list is found unalarmed.
    const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThanOrEqual(15 * stack.orgs.length);
    const alarmed = Object.values(template.findResources('AWS::CloudWatch::Alarm')).flatMap((alarm) => {
      const properties = alarm.Properties as {
        MetricName?: string;
        Dimensions?: { Name: string; Value: { Ref?: string } }[];
      };
      return properties.MetricName === 'Errors'
        ? (properties.Dimensions ?? []).filter((d) => d.Name === 'FunctionName').map((d) => d.Value.Ref)
        : [];
    });
    expect(functions.filter((id) => !alarmed.includes(id))).toEqual([]);
  });

  it("outputs each workflow's state machine ARN", () => {
    for (const { backup, restore } of stack.orgs) {
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
