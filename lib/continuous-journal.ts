import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  EnvName,
  JOURNAL_BATCHING_WINDOW_SECONDS,
  METRICS_NAMESPACE,
  orgPrefixOf,
} from '../contract/workflow-contract.ts';
import { PARTNER_EVENT_SOURCE } from './config.ts';
import { WorkflowFunction } from './function-defaults.ts';
import { nagArnOf } from './workflows/support/acknowledgements.ts';

/** Props of ContinuousJournal. */
export interface ContinuousJournalProps {
  /** The org's name in the config: its vault prefix. */
  readonly orgName: string;
  /** The partner event source Event Relay publishes the org's change events to. */
  readonly partnerEventSource: string;
  readonly bucket: s3.IBucket;
  readonly key: kms.IKey;
  /** Where the dead-letter alarms go. */
  readonly alarmTopic: sns.ITopic;
  /** Change events one invocation of the writer takes at most. @default 10000 */
  readonly batchSize?: number;
}

/** How many times the writer may receive a message before it is parked in its dead-letter queue. */
export const JOURNAL_MAX_RECEIVES = 5;

/**
 * Continuous protection of one org (docs/continuous.md): the event bus of the org's Event Relay
 * partner event source (creating it associates the source), a rule that sends the org's change
 * events to a queue, and the journal writer that writes each batch to `orgs/<org>/journal/` in the
 * vault, append-only. An event the rule cannot deliver, and one the writer fails to write five
 * times, wait in a dead-letter queue, and each dead-letter queue alarms.
 */
export class ContinuousJournal extends Construct {
  /** The partner event bus. */
  readonly bus: events.EventBus;
  /** The rule that sends the org's change events to the queue. */
  readonly rule: events.Rule;
  /** The queue the writer reads. */
  readonly queue: sqs.Queue;
  /** The writer. */
  readonly writer: WorkflowFunction;
  /** Events the rule could not put on the queue. */
  readonly ruleDeadLetters: sqs.Queue;
  /** Events the writer failed to write, after its receives. */
  readonly writerDeadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: ContinuousJournalProps) {
    super(scope, id);
    if (!PARTNER_EVENT_SOURCE.test(props.partnerEventSource)) {
      throw new Error(
        `The partner event source "${props.partnerEventSource}" of org ${props.orgName} is not an Event Relay source: write aws.partner/salesforce.com/<org id>/<channel id>, as the EventBridge console lists it under Partner event sources.`,
      );
    }
    // The restore waits out this window before it trusts the journal to an instant: one value for both.
    const batchWindow = Duration.seconds(JOURNAL_BATCHING_WINDOW_SECONDS);
    const timeout = Duration.minutes(5);
    // A partner event bus takes the source's name; creating it associates the source.
    this.bus = new events.EventBus(this, 'Bus', { eventSourceName: props.partnerEventSource });
    const deadLetterQueue = (queueId: string, description: string) => {
      const queue = new sqs.Queue(this, queueId, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: `${queueId} is itself a dead-letter queue (${description}); it has no consumer that could fail.`,
      });
      const alarm = new cloudwatch.Alarm(this, `${queueId}Alarm`, {
        alarmDescription: `Change events of org ${props.orgName} are not in the journal: ${description}. The messages hold the events; the journal misses them until they are sent again.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
      return queue;
    };
    this.ruleDeadLetters = deadLetterQueue(
      'RuleDeadLetterQueue',
      'EventBridge could not put them on the queue',
    );
    this.writerDeadLetters = deadLetterQueue(
      'WriterDeadLetterQueue',
      `the journal writer failed ${JOURNAL_MAX_RECEIVES} times to write them`,
    );
    // Change events hold record values: the queue is encrypted and reachable over TLS only.
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      // Lambda's advice for a queue event source: six times the function timeout, plus the window.
      visibilityTimeout: timeout.plus(batchWindow).plus(Duration.minutes(25)),
      deadLetterQueue: { queue: this.writerDeadLetters, maxReceiveCount: JOURNAL_MAX_RECEIVES },
    });
    this.rule = new events.Rule(this, 'Rule', {
      eventBus: this.bus,
      description: `Sends the change events of org ${props.orgName} to its journal writer`,
      eventPattern: { source: [props.partnerEventSource] },
      targets: [
        new targets.SqsQueue(this.queue, { deadLetterQueue: this.ruleDeadLetters, retryAttempts: 185 }),
      ],
    });

    const prefix = `${orgPrefixOf(props.orgName)}journal/`;
    this.writer = new WorkflowFunction(this, 'Writer', {
      entry: 'lambdas/handlers/continuous/handlers.ts',
      handler: 'writeJournal',
      description: `Writes change events to the journal (org ${props.orgName})`,
      timeout,
      memorySize: 1769,
      environment: {
        [EnvName.VaultBucket]: props.bucket.bucketName,
        [EnvName.VaultKeyArn]: props.key.keyArn,
        [EnvName.OrgName]: props.orgName,
        [EnvName.MetricsNamespace]: METRICS_NAMESPACE,
      },
    });
    this.writer.addEventSource(
      new lambdaEvents.SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10_000,
        maxBatchingWindow: batchWindow,
        reportBatchItemFailures: true,
      }),
    );
    // Adds journal objects and reads them back (a retried batch finds what it wrote); nothing else.
    this.writer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.bucket.arnForObjects(`${prefix}*`)],
      }),
    );
    this.writer.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUnconditionalObjectCreation',
        effect: iam.Effect.DENY,
        actions: ['s3:PutObject'],
        resources: [props.bucket.arnForObjects(`${prefix}*`)],
        conditions: {
          Null: { 's3:if-none-match': 'true' },
          Bool: { 's3:ObjectCreationOperation': 'true' },
        },
      }),
    );
    this.writer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    );
    this.writer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.key.keyArn],
      }),
    );
    const policy = this.writer.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArnOf(this.writer, props.bucket.bucketArn)}/${prefix}*]`,
        reason: `${this.writer.node.path}: reads and adds journal objects only under ${prefix}; their keys are made per batch. No delete is granted, and an upload without If-None-Match is denied.`,
      });
    }
  }

  /**
   * The journal's widgets for the org's dashboard: the writer's invocations and errors, the
   * queue's waiting messages and the age of its oldest, and what waits in each dead-letter queue.
   */
  dashboardWidgets(): cloudwatch.IWidget[] {
    const period = Duration.minutes(5);
    return [
      new cloudwatch.GraphWidget({
        title: 'Journal writer invocations and errors',
        left: [this.writer.metricInvocations({ period }), this.writer.metricErrors({ period })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Change events waiting for the journal writer',
        left: [
          this.queue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
        ],
        right: [
          this.queue.metricApproximateAgeOfOldestMessage({ period, statistic: cloudwatch.Stats.MAXIMUM }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Change events in the dead-letter queues (not in the journal)',
        left: [
          this.ruleDeadLetters.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'rule dead-letter queue',
          }),
          this.writerDeadLetters.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'writer dead-letter queue',
          }),
        ],
        width: 12,
      }),
    ];
  }
}
