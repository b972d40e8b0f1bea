import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { Alerting } from '../../lib/alerting.ts';
import { testStateMachine } from './fixtures/app-fixture.ts';

function alertingStack(emails: string[] = ['ops@example.com', 'security@example.com']) {
  const stack = new Stack(new App(), 'AlertingTest', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const alerting = new Alerting(stack, 'Alerting', { emails });
  return { stack, alerting };
}

describe('Alerting', () => {
  it('encrypts the topic with a rotating key that EventBridge (unconditioned, as its delivery requires) and CloudWatch may use', () => {
    // GIVEN alerting WHEN synthesized
    const { stack } = alertingStack();
    const template = Template.fromStack(stack);
    // THEN the topic uses the key, and the key lets the two publishers encrypt for it
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertingKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowEventBridgeToEncryptAlerts',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
          },
          {
            Sid: 'AllowCloudWatchAlarmsToEncryptAlerts',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ]),
      },
    });
  });

  it('denies publishing or subscribing to the topic without TLS', () => {
    const template = Template.fromStack(alertingStack().stack);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('subscribes every configured e-mail address', () => {
    const template = Template.fromStack(alertingStack().stack);
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'security@example.com',
    });
  });

  it('sends an actionable message when an execution of a monitored workflow fails, times out or is aborted', () => {
    // GIVEN a state machine WHEN it is monitored
    const { stack, alerting } = alertingStack();
    const stateMachine = testStateMachine(stack);
    alerting.monitorWorkflow(stateMachine, { orgName: 'acme-prod', workflow: 'backup' });
    const template = Template.fromStack(stack);
    // THEN a rule matches the failed statuses of exactly that state machine
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^TestWorkflow') }],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^AlertingTopic') },
          InputTransformer: {
            InputPathsMap: {
              'detail-status': '$.detail.status',
              'detail-name': '$.detail.name',
              'detail-executionArn': '$.detail.executionArn',
              region: '$.region',
              'detail-error': '$.detail.error',
              'detail-cause': '$.detail.cause',
            },
            InputTemplate: Match.anyValue(),
          },
        }),
      ],
    });
    // AND the message names the org, workflow, execution, console link, status, error and cause
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0] as {
      Properties: { Targets: { InputTransformer: { InputTemplate: string } }[] };
    };
    const message = rule.Properties.Targets[0]!.InputTransformer.InputTemplate;
    expect(message).toContain('The backup workflow of Salesforce org \\"acme-prod\\" did not succeed.');
    expect(message).toContain('Status: <detail-status>');
    expect(message).toContain('Execution: <detail-name>');
    expect(message).toContain('Execution ARN: <detail-executionArn>');
    expect(message).toContain(
      'Console: https://<region>.console.aws.amazon.com/states/home?region=<region>#/v2/executions/details/<detail-executionArn>',
    );
    expect(message).toContain('Error: <detail-error>');
    expect(message).toContain('Cause: <detail-cause>');
  });

  it("lets the account's EventBridge rules, and no other account's, publish the failure message to the topic", () => {
    const { stack, alerting } = alertingStack();
    alerting.monitorWorkflow(testStateMachine(stack), { orgName: 'acme-prod', workflow: 'restore' });
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowEventBridgeRulesToPublish',
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '123456789012' },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:123456789012:rule/*'],
                  ],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it("lets the account's CloudWatch alarms publish to the topic, whose own policy replaces the default one that would", () => {
    const { stack } = alertingStack();
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '123456789012' },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-1:123456789012:alarm:*'],
                  ],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it('alarms when a workflow has had no successful execution for the configured hours, counting silence as failure', () => {
    // GIVEN a state machine WHEN a 36-hour no-success alarm is added
    const { stack, alerting } = alertingStack();
    alerting.noRecentSuccessAlarm(testStateMachine(stack), { orgName: 'acme-prod', hours: 36 });
    // THEN 36 hourly periods without a success, missing data included, raise the alarm to the topic
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BackupSucceeded',
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 36,
      DatapointsToAlarm: 36,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlertingTopic') }],
      AlarmDescription: Match.stringLikeRegexp(
        'No successful backup of the data of Salesforce org "acme-prod" \\(full or incremental\\) in the last 36 hours',
      ),
    });
  });

  it('keeps a failure alert EventBridge could not deliver: retries, then an encrypted dead-letter queue with an alarm on its depth', () => {
    // GIVEN a monitored workflow WHEN synthesized
    const { stack, alerting } = alertingStack();
    alerting.monitorWorkflow(testStateMachine(stack), { orgName: 'acme-prod', workflow: 'backup' });
    const template = Template.fromStack(stack);
    // THEN the rule's target retries and then sends the event to a queue instead of dropping it
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^AlertingTopic') },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertingDeadLetterQueue'), 'Arn'] },
          },
        }),
      ],
    });
    // AND the queue is encrypted, refuses plain HTTP, keeps messages 14 days, and takes messages from that rule only
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
    // AND a message in the queue raises an alarm
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertingDeadLetterQueue'), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('counts only a data backup (full or incremental) as a backup success, so succeeding metadata runs do not hide failing data runs', () => {
    // GIVEN a backup workflow WHEN its no-success alarm is added
    const { stack, alerting } = alertingStack();
    alerting.noRecentSuccessAlarm(testStateMachine(stack), { orgName: 'acme-prod', hours: 36 });
    // THEN the alarm watches the successes the finish step publishes for data runs of that org
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'SfBackup',
      MetricName: 'BackupSucceeded',
      Dimensions: [
        { Name: 'kind', Value: 'data' },
        { Name: 'org', Value: 'acme-prod' },
        { Name: 'service', Value: 'sfbackup-backup' },
      ],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 36,
      DatapointsToAlarm: 36,
      TreatMissingData: 'breaching',
    });
  });

  it('refuses a no-success window CloudWatch cannot evaluate', () => {
    const { stack, alerting } = alertingStack();
    expect(() =>
      alerting.noRecentSuccessAlarm(testStateMachine(stack), { orgName: 'acme-prod', hours: 200 }),
    ).toThrow('noRecentSuccessAlarm for org "acme-prod": hours is 200; write a whole number from 1 to 168');
  });

  it("alarms on any error of a workflow's functions with one alarm on the sum of their errors", () => {
    // GIVEN two functions WHEN monitored
    const { stack, alerting } = alertingStack();
    const alarms = alerting.monitorFunctions('Backup', functions(stack, 2), {
      orgName: 'acme-prod',
      workflow: 'backup',
    });
    // THEN one alarm sums the errors of both, a function without data counting as none, to the topic
    expect(alarms).toHaveLength(1);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    const errors = (id: string) => ({
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp(`^${id}`) } }],
        },
        Period: 300,
        Stat: 'Sum',
      },
      ReturnData: false,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({ Expression: 'SUM(FILL(METRICS(), 0))' }),
        Match.objectLike({ Id: 'e1', ...errors('Fn1') }),
        Match.objectLike({ Id: 'e2', ...errors('Fn2') }),
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlertingTopic') }],
      AlarmDescription: Match.stringLikeRegexp(
        '^A function of the backup workflow of Salesforce org "acme-prod" reported errors \\(Fn1, Fn2\\)',
      ),
    });
  });

  it('splits the functions of a workflow over alarms of at most 10 metrics, the CloudWatch limit', () => {
    const { stack, alerting } = alertingStack();
    const alarms = alerting.monitorFunctions('Restore', functions(stack, 23), {
      orgName: 'acme-prod',
      workflow: 'restore',
    });
    expect(alarms.map((a) => a.node.id)).toEqual([
      'RestoreFunctionErrors',
      'RestoreFunctionErrors2',
      'RestoreFunctionErrors3',
    ]);
    const metricCounts = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a.Properties.Metrics as { MetricStat?: unknown }[]).filter((m) => m.MetricStat).length,
    );
    expect(metricCounts).toEqual([10, 10, 3]);
  });
});

describe('Alerting on a topic made elsewhere', () => {
  function importedTopic(withKey: boolean) {
    const stack = new Stack(new App(), 'OrgTest', { env: { account: '123456789012', region: 'eu-west-1' } });
    const topic = sns.Topic.fromTopicAttributes(stack, 'AlertTopic', {
      topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
      ...(withKey ? { keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/alerts' } : {}),
    });
    return { stack, topic };
  }

  it('makes its rules, alarms and dead-letter queue beside it, and no topic or key', () => {
    // GIVEN alerting on an imported topic WHEN a workflow is monitored
    const { stack, topic } = importedTopic(true);
    const alerting = new Alerting(stack, 'AcmeProdAlerting', { topic });
    alerting.monitorWorkflow(testStateMachine(stack), { orgName: 'acme-prod', workflow: 'backup' });
    alerting.noRecentSuccessAlarm(testStateMachine(stack, 'Other'), { orgName: 'acme-prod', hours: 24 });
    const template = Template.fromStack(stack);
    // THEN the rule delivers to the imported topic, keeping what it could not in a queue of this stack
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AcmeProdAlertingDeadLetterQueue'), 'Arn'] },
          },
        }),
      ],
    });
    // AND the queue takes messages from that rule only, and every alarm reports to the imported topic
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
    const actions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmActions,
    );
    expect(actions).toEqual([
      ['arn:aws:sns:eu-west-1:123456789012:alerts'],
      ['arn:aws:sns:eu-west-1:123456789012:alerts'],
    ]);
  });

  it('refuses a topic imported without its key, whose publishers would not be granted the key', () => {
    const { stack, topic } = importedTopic(false);
    expect(() => new Alerting(stack, 'AcmeProdAlerting', { topic })).toThrow(
      'Alerting OrgTest/AcmeProdAlerting: the alert topic was given without its key; import it with sns.Topic.fromTopicAttributes({ topicArn, keyArn })',
    );
  });
});

function functions(stack: Stack, count: number): lambda.Function[] {
  return Array.from(
    { length: count },
    (_, i) =>
      new lambda.Function(stack, `Fn${i + 1}`, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => 1;'),
      }),
  );
}
