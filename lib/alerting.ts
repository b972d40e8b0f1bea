import { Duration, Names, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BackupSuccessMetric, METRICS_NAMESPACE, ServiceName } from '../contract/workflow-contract.ts';

/** Execution statuses that mean a workflow did not do its job. */
export const FAILED_EXECUTION_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/** Props of an Alerting that creates the alert topic. */
export interface NewTopicAlertingProps {
  /** Addresses subscribed to the alert topic; each must confirm the subscription e-mail. */
  readonly emails: readonly string[];
  /**
   * The key that encrypts the topic.
   * @default - a new customer-managed key with rotation, usable by EventBridge and CloudWatch
   */
  readonly key?: kms.IKey;
}

/**
 * Props of an Alerting that reports to a topic made elsewhere (another stack's Alerting): its
 * rules, alarms and dead-letter queue are created here, the topic and its key are not touched.
 */
export interface ExistingTopicAlertingProps {
  /** The alert topic, imported with its key so that publishers are granted the key too. */
  readonly topic: sns.ITopic;
}

/** Props of Alerting: a new topic, or one made elsewhere. */
export type AlertingProps = NewTopicAlertingProps | ExistingTopicAlertingProps;

/** CloudWatch evaluates at most 10 metrics in one metric math alarm (a hard limit). */
export const MAX_METRICS_PER_ALARM = 10;

/**
 * The expression of a function error alarm: the error count of all its functions in a period,
 * a function with no datapoint in the period counting as 0.
 */
export const FUNCTION_ERRORS_EXPRESSION = 'SUM(FILL(METRICS(), 0))';

/** Identifies the workflow a rule or alarm watches, for people reading the alert. */
export interface MonitorWorkflowProps {
  /** The org the workflow serves, as named in the config. */
  readonly orgName: string;
  /** What the workflow does, such as "backup" or "restore". */
  readonly workflow: string;
}

/** Props of a "no successful run recently" alarm. */
export interface NoRecentSuccessProps {
  /** The org the workflow serves, as named in the config. */
  readonly orgName: string;
  /** Hours without a successful execution before the alarm fires (1 to 168). */
  readonly hours: number;
  /**
   * What the workflow does, used in the alarm's name and description.
   * @default 'backup'
   */
  readonly workflow?: string;
}

/**
 * One encrypted SNS topic and everything that reports to it: failed workflow executions,
 * workflows that stopped succeeding, and Lambda errors. Built with `emails` it creates the topic
 * and its key; built with `topic` (another stack's, imported with its key) it creates only the
 * rules, alarms and dead-letter queue that report to it, in its own stack.
 */
export class Alerting extends Construct {
  /** Where every alert goes. */
  readonly topic: sns.ITopic;
  /** The key that encrypts the topic. */
  readonly key: kms.IKey;
  private readonly alarmAction: cwActions.SnsAction;
  private deadLetters?: sqs.Queue;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    if ('topic' in props) {
      const key = props.topic.masterKey;
      if (!key) {
        throw new Error(
          `Alerting ${this.node.path}: the alert topic was given without its key; import it with sns.Topic.fromTopicAttributes({ topicArn, keyArn }) so that publishers are granted the key.`,
        );
      }
      this.topic = props.topic;
      this.key = key;
      this.alarmAction = new cwActions.SnsAction(props.topic);
      return;
    }
    const key =
      props.key ??
      new kms.Key(this, 'Key', {
        description: 'Encrypts backup alert messages',
        enableKeyRotation: true,
      });
    this.key = key;
    // EventBridge and CloudWatch publish to an encrypted topic only if they may use its key.
    if (key instanceof kms.Key) {
      // EventBridge's KMS calls for SNS delivery carry no aws:SourceAccount or aws:SourceArn, so a
      // condition on them would drop every failure alert silently; the statement stays unconditioned.
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowEventBridgeToEncryptAlerts',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToEncryptAlerts',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
      );
    }
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'Salesforce backup alerts',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic has a policy of its own, which replaces the default policy that let the account's
    // services publish: CloudWatch alarms and EventBridge rules (of every stack of the app, so the
    // topic depends on no rule) are allowed by name. Both send their source's ARN and account, so
    // no other account's alarm or rule may publish.
    const { account, region, partition } = Stack.of(this);
    const allowPublishFrom = (sid: string, service: string, sourceArn: string) =>
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          principals: [new iam.ServicePrincipal(service)],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': account },
            ArnLike: { 'aws:SourceArn': sourceArn },
          },
        }),
      );
    allowPublishFrom(
      'AllowCloudWatchAlarmsToPublish',
      'cloudwatch.amazonaws.com',
      `arn:${partition}:cloudwatch:${region}:${account}:alarm:*`,
    );
    allowPublishFrom(
      'AllowEventBridgeRulesToPublish',
      'events.amazonaws.com',
      `arn:${partition}:events:${region}:${account}:rule/*`,
    );
    for (const email of props.emails) {
      topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    this.topic = topic;
    this.alarmAction = new cwActions.SnsAction(topic);
  }

  /**
   * Sends an alert a person can act on whenever an execution of `stateMachine` fails, times out
   * or is aborted: org, workflow, execution name and ARN, console link, status, error and cause.
   */
  monitorWorkflow(stateMachine: sfn.IStateMachine, props: MonitorWorkflowProps): events.Rule {
    const id = `${Names.uniqueId(stateMachine)}Failed`;
    const rule = new events.Rule(this, id, {
      description: `Alerts when the ${props.workflow} workflow of org ${props.orgName} does not succeed`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: [...FAILED_EXECUTION_STATUSES],
          stateMachineArn: [stateMachine.stateMachineArn],
        },
      },
    });
    const field = (path: string) => events.EventField.fromPath(path);
    const region = field('$.region');
    const executionArn = field('$.detail.executionArn');
    const message = events.RuleTargetInput.fromMultilineText(
      [
        `The ${props.workflow} workflow of Salesforce org "${props.orgName}" did not succeed.`,
        '',
        `Status: ${field('$.detail.status')}`,
        `Execution: ${field('$.detail.name')}`,
        `Execution ARN: ${executionArn}`,
        `Console: https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`,
        `Error: ${field('$.detail.error')}`,
        `Cause: ${field('$.detail.cause')}`,
        '',
        'Open the console link to see the failed step, its input and its error.',
        props.workflow === 'backup'
          ? 'Until a backup run succeeds, recent changes in the org are not in the vault.'
          : `Start the ${props.workflow} again once the cause is fixed.`,
      ].join('\n'),
    );
    rule.addTarget(
      new targets.SnsTopic(this.topic, {
        message,
        // An alert the topic refused (a key or topic policy gone wrong, throttling) is retried for
        // a day, then kept in the queue, whose alarm says so, instead of being dropped.
        deadLetterQueue: this.deadLetterQueue(),
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      }),
    );
    return rule;
  }

  /** Where EventBridge puts the failure alerts it could not deliver to the topic; one for every rule. */
  deadLetterQueue(): sqs.Queue {
    if (this.deadLetters) return this.deadLetters;
    const queue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'Alerting DeadLetterQueue is itself the dead-letter queue of the failure-alert rules; it has no consumer that could fail.',
    });
    const alarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'A workflow failure alert could not be delivered to the alert topic and is in the dead-letter queue. ' +
        'The message holds the event and the delivery error; check the topic policy and its key policy.',
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.alarmAction);
    this.deadLetters = queue;
    return queue;
  }

  /**
   * Alarms when the org has had no successful data backup (full or incremental) for `hours`
   * hours, so a schedule that silently stopped, or data runs that keep failing while metadata
   * runs succeed, are noticed. Missing data counts as no success.
   */
  noRecentSuccessAlarm(stateMachine: sfn.IStateMachine, props: NoRecentSuccessProps): cloudwatch.Alarm {
    const workflow = props.workflow ?? 'backup';
    if (!Number.isInteger(props.hours) || props.hours < 1 || props.hours > 168) {
      throw new Error(
        `noRecentSuccessAlarm for org "${props.orgName}": hours is ${props.hours}; write a whole number from 1 to 168 (CloudWatch evaluates at most 7 days).`,
      );
    }
    const metric = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: BackupSuccessMetric.Name,
      dimensionsMap: {
        org: props.orgName,
        service: ServiceName.Backup,
        [BackupSuccessMetric.KindDimension]: BackupSuccessMetric.DataKind,
      },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.hours(1),
    });
    const alarm = new cloudwatch.Alarm(this, `${Names.uniqueId(stateMachine)}NoRecentSuccess`, {
      alarmDescription:
        `No successful ${workflow} of the data of Salesforce org "${props.orgName}" (full or incremental) in the last ${props.hours} hours. ` +
        'Check the schedules in EventBridge Scheduler and the latest executions in Step Functions.',
      metric,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: props.hours,
      datapointsToAlarm: props.hours,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm.addAlarmAction(this.alarmAction);
    return alarm;
  }

  /**
   * Alarms on any error of the functions of one workflow, reported to the alert topic: one alarm
   * on a metric math expression over the functions' Errors, for each group of at most 10
   * functions (CloudWatch's limit), named `<id>FunctionErrors`, `<id>FunctionErrors2`, ...
   */
  monitorFunctions(
    id: string,
    fns: readonly lambda.IFunction[],
    props: MonitorWorkflowProps,
  ): cloudwatch.Alarm[] {
    const groups: lambda.IFunction[][] = [];
    for (let i = 0; i < fns.length; i += MAX_METRICS_PER_ALARM) {
      groups.push(fns.slice(i, i + MAX_METRICS_PER_ALARM));
    }
    return groups.map((group, g) => {
      const usingMetrics = Object.fromEntries(
        group.map((fn, i) => [
          `e${i + 1}`,
          fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        ]),
      );
      const names = group.map((fn) => fn.node.id).join(', ');
      const alarm = new cloudwatch.Alarm(this, `${id}FunctionErrors${g === 0 ? '' : g + 1}`, {
        alarmDescription:
          `A function of the ${props.workflow} workflow of Salesforce org "${props.orgName}" reported errors (${names}). ` +
          "The alarm's metrics show which one; its log group shows the error and the request id.",
        metric: new cloudwatch.MathExpression({
          expression: FUNCTION_ERRORS_EXPRESSION,
          usingMetrics,
          period: Duration.minutes(5),
          label: `Errors of the ${props.workflow} functions of ${props.orgName}`,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(this.alarmAction);
      return alarm;
    });
  }
}
