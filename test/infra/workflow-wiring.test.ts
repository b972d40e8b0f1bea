import { type App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { Alerting } from '../../lib/alerting.ts';
import { WorkflowFunction } from '../../lib/function-defaults.ts';
import { wireBackupWorkflow, wireRestoreWorkflow } from '../../lib/workflow-wiring.ts';
import {
  appWithoutBundling,
  configWith,
  ECHO_HANDLER_ENTRY,
  testStateMachine,
} from './fixtures/app-fixture.ts';

const ORG = configWith({
  orgs: [
    { name: 'acme-prod', type: 'production', secretName: 'sfbackup/acme-prod', noSuccessAlarmHours: 30 },
  ],
}).orgs[0]!;

function wiringStack(app: App = appWithoutBundling()) {
  const stack = new Stack(app, 'WiringTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const alerting = new Alerting(stack, 'Alerting', { emails: ['ops@example.com'] });
  const fn = new WorkflowFunction(stack, 'Echo', { entry: ECHO_HANDLER_ENTRY });
  return { stack, alerting, fn };
}

function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath}`),
  );
}

describe('wireBackupWorkflow', () => {
  it('adds the schedules, a failure alert, a no-success alarm, function alarms and an output', () => {
    // GIVEN a backup state machine and its function WHEN they are wired
    const { stack, alerting, fn } = wiringStack();
    const wired = wireBackupWorkflow(stack, alerting, ORG, testStateMachine(stack), [fn]);
    const template = Template.fromStack(stack);
    // THEN the org's three schedules start it
    expect(Object.keys(wired.schedules.schedules)).toEqual(['Incremental', 'Full', 'Metadata']);
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ Input: '{"org":"acme-prod","mode":"full"}' }),
    });
    // AND a failed execution is alerted, as is a quiet schedule and a function error
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'Alerts when the backup workflow of org acme-prod does not succeed',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsSucceeded',
      EvaluationPeriods: 30,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
    });
    // AND the state machine's ARN is an output
    template.hasOutput('AcmeProdBackupStateMachineArn', {
      Value: { Ref: Match.stringLikeRegexp('^TestWorkflow') },
    });
  });

  it('adds nothing the AwsSolutions checks find fault with', () => {
    const { stack, alerting, fn } = wiringStack();
    const wired = wireBackupWorkflow(stack, alerting, ORG, testStateMachine(stack), [fn]);
    // The test state machine is not product code, so only what the wiring and the function add is checked.
    const ours = [
      wired.schedules,
      alerting,
      ...stack.node.children.filter((c) => c.node.id.startsWith('Echo')),
    ];
    for (const scope of ours) expect(nagFindings(scope)).toEqual([]);
  });
});

describe('wireRestoreWorkflow', () => {
  it('adds a failure alert, function alarms and an output, but no schedule', () => {
    const { stack, alerting, fn } = wiringStack();
    wireRestoreWorkflow(stack, alerting, ORG, testStateMachine(stack, 'TestRestore'), [fn]);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'Alerts when the restore workflow of org acme-prod does not succeed',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
    });
    template.hasOutput('AcmeProdRestoreStateMachineArn', {
      Value: { Ref: Match.stringLikeRegexp('^TestRestore') },
    });
  });
});
