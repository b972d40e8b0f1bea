import { Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BACKUP_MODES, type BackupMode } from '../contract/workflow-contract.ts';
import type { OrgConfig } from './config.ts';

/** Props of WorkflowSchedules. */
export interface WorkflowSchedulesProps {
  /** The state machine the schedules start. */
  readonly stateMachine: sfn.IStateMachine;
  /** IANA time zone of the cron expressions, such as "UTC". */
  readonly timezone: string;
  /**
   * Topic alerted when a start could not be delivered and landed in the dead-letter queue.
   * @default - no alarm on the dead-letter queue
   */
  readonly alarmTopic?: sns.ITopic;
}

/** One schedule of a WorkflowSchedules. */
export interface WorkflowScheduleEntry {
  /** Construct id of the schedule; part of its identity, so keep it stable. */
  readonly id: string;
  /** EventBridge Scheduler expression, `rate(...)` or `cron(...)`. */
  readonly expression: string;
  /** The execution input, as a JSON object. */
  readonly input: Record<string, unknown>;
  /** What the schedule is for, shown in the console. */
  readonly description: string;
}

/**
 * EventBridge Scheduler schedules that start one state machine, sharing a role that may only
 * start that state machine and a dead-letter queue for starts that failed after retries.
 */
export class WorkflowSchedules extends Construct {
  /** The role the schedules assume; it can start only the given state machine. */
  readonly role: iam.Role;
  /** Where starts go that failed after every retry. */
  readonly deadLetterQueue: sqs.Queue;
  /** The schedules, by construct id. */
  readonly schedules: Record<string, scheduler.Schedule> = {};
  private readonly props: WorkflowSchedulesProps;

  constructor(scope: Construct, id: string, props: WorkflowSchedulesProps) {
    super(scope, id);
    this.props = props;
    this.role = new iam.Role(this, 'Role', {
      description: 'Lets EventBridge Scheduler start one workflow state machine',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'DeadLetterQueue is itself the dead-letter queue of the EventBridge Scheduler schedules; it has no consumer that could fail.',
    });
    if (props.alarmTopic) {
      const alarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
        alarmDescription:
          `A scheduled start of ${props.stateMachine.node.path} failed after every retry. ` +
          'The message in the dead-letter queue names the schedule and the error.',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    }
  }

  /** Adds a schedule that starts the state machine with `entry.input`. */
  add(entry: WorkflowScheduleEntry): scheduler.Schedule {
    const target = new schedulerTargets.StepFunctionsStartExecution(this.props.stateMachine, {
      role: this.role,
      deadLetterQueue: this.deadLetterQueue,
      input: scheduler.ScheduleTargetInput.fromObject(entry.input),
      retryAttempts: 10,
      maxEventAge: Duration.hours(6),
    });
    const schedule = new scheduler.Schedule(this, entry.id, {
      description: entry.description,
      schedule: scheduler.ScheduleExpression.expression(entry.expression, TimeZone.of(this.props.timezone)),
      target,
    });
    this.schedules[entry.id] = schedule;
    return schedule;
  }
}

/** Props of BackupSchedules. */
export interface BackupSchedulesProps {
  /** The org whose schedules these are. */
  readonly org: OrgConfig;
  /** The org's backup workflow. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Topic alerted when a scheduled start could not be delivered.
   * @default - no alarm on the dead-letter queue
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The incremental, full and metadata schedules of one org, each starting its backup workflow
 * with `{"org": name, "mode": mode}`.
 */
export class BackupSchedules extends WorkflowSchedules {
  constructor(scope: Construct, id: string, props: BackupSchedulesProps) {
    super(scope, id, {
      stateMachine: props.stateMachine,
      timezone: props.org.schedules.timezone,
      alarmTopic: props.alarmTopic,
    });
    const titles: Record<BackupMode, string> = {
      incremental: 'Incremental data backup',
      full: 'Full data backup',
      metadata: 'Metadata backup',
    };
    for (const mode of BACKUP_MODES) {
      this.add({
        id: `${mode[0]!.toUpperCase()}${mode.slice(1)}`,
        expression: props.org.schedules[mode],
        input: { org: props.org.name, mode },
        description: `${titles[mode]} of Salesforce org ${props.org.name}`,
      });
    }
  }
}
