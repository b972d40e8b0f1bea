import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { BackupSchedules } from '../../lib/backup-schedules.ts';
import { configWith, testStateMachine } from './fixtures/app-fixture.ts';

function schedulesStack(withTopic = true) {
  const stack = new Stack(new App(), 'SchedulesTest', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const org = configWith({
    orgs: [
      {
        name: 'acme-prod',
        type: 'production',
        secretName: 'sfbackup/acme-prod',
        schedules: { incremental: 'rate(12 hours)', timezone: 'Europe/Berlin' },
      },
    ],
  }).orgs[0]!;
  const stateMachine = testStateMachine(stack);
  const topic = new sns.Topic(stack, 'Alerts');
  const schedules = new BackupSchedules(stack, 'AcmeProdSchedules', {
    org,
    stateMachine,
    alarmTopic: withTopic ? topic : undefined,
  });
  return { stack, schedules, template: Template.fromStack(stack) };
}

describe('BackupSchedules', () => {
  it('starts the backup workflow with the org and mode on the incremental, full and metadata schedules', () => {
    // GIVEN an org with one custom schedule and a time zone WHEN its schedules are built
    const { template } = schedulesStack();
    // THEN each mode has a schedule with the right expression, zone and input
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
    const expected = [
      ['incremental', 'rate(12 hours)'],
      ['full', 'cron(0 2 ? * SUN *)'],
      ['metadata', 'cron(0 5 * * ? *)'],
    ] as const;
    for (const [mode, expression] of expected) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'Europe/Berlin',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { Ref: Match.stringLikeRegexp('^TestWorkflow') },
          RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AcmeProdSchedulesRole'), 'Arn'] },
          Input: JSON.stringify({ org: 'acme-prod', mode }),
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21600 },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AcmeProdSchedulesDeadLetterQueue'), 'Arn'] },
          },
        },
      });
    }
  });

  it('gives the schedules a role that can only start this state machine and write to its dead-letter queue', () => {
    const { template } = schedulesStack();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ],
      },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p).includes('AcmeProdSchedulesRole'),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0] as { Properties: { PolicyDocument: { Statement: unknown[] } } })
      .Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: expect.stringMatching(/^TestWorkflow/) },
      },
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^AcmeProdSchedulesDeadLetterQueue/), 'Arn'] },
      },
    ]);
  });

  it('keeps failed starts for 14 days in an encrypted, TLS-only queue and alarms when one arrives', () => {
    const { template } = schedulesStack();
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alerts') }],
    });
  });

  it('adds no dead-letter alarm when no topic is given', () => {
    const { template } = schedulesStack(false);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });
});
