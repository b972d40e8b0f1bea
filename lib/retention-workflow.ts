import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  EnvName,
  ErrorName,
  LAMBDA_SERVICE_ERRORS,
  orgNameProblem,
  orgPrefixOf,
  RETENTION_LOG_FOLDER,
  SWEEP_LEASE_PREFIX,
  VAULT_LEASE_FOLDER,
  type RetentionPolicy,
  SWEEP_PLANNING_RECORDS,
  SWEEPER_DELETE_FOLDERS,
} from '../contract/workflow-contract.ts';
import { WorkflowSchedules } from './backup-schedules.ts';
import { WorkflowFunction } from './function-defaults.ts';
import { RoleDuty, tagWorkflowRole } from './workflow-role-tags.ts';
import { policyConflicts, policyProblem, type VaultRetentionSettings } from './retention-policy.ts';
import { acknowledgeStateMachineRole, nagArnOf } from './workflows/support/acknowledgements.ts';
import { workflowStateMachine } from './workflows/support/state-machine.ts';
import { invokeTask, useVaultKey, type WorkflowRetry } from './workflows/support/tasks.ts';

/** The handler module of the sweeper. */
const HANDLERS = 'lambdas/handlers/retention/handlers.ts';

/** What the sweep retries: only Lambda's own transient failures; a re-run continues where it stopped. */
const SWEEP_RETRY: WorkflowRetry = {
  errors: LAMBDA_SERVICE_ERRORS,
  interval: Duration.seconds(10),
  maxAttempts: 3,
  backoffRate: 2,
};

/** What ends a sweep at once, with nothing removed: it cannot tell safely what expired. */
export const SWEEP_REFUSED_ERRORS = [
  ErrorName.RetentionCatalogUnreadable,
  ErrorName.RetentionPlan,
  ErrorName.InvalidRetentionPolicy,
] as const;

/** Bucket and object actions the sweeper must never have, whatever else grants them. */
const SWEEPER_DENIED_ACTIONS = [
  's3:DeleteObjectVersion',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:BypassGovernanceRetention',
  's3:PutBucketVersioning',
  's3:PutLifecycleConfiguration',
  's3:PutBucketPolicy',
  's3:PutBucketObjectLockConfiguration',
];

/** Props of RetentionWorkflow. */
export interface RetentionWorkflowProps {
  /** The org whose snapshots are swept: its config name, which is its vault prefix. */
  readonly orgName: string;
  /** The vault bucket. */
  readonly bucket: s3.IBucket;
  /** The vault key, to read the catalog and manifests and write the retention log. */
  readonly key: kms.IKey;
  /** How many daily, weekly, monthly and yearly snapshots the org keeps. */
  readonly policy: RetentionPolicy;
  /**
   * The sweeper role's name. The vault's bucket policy allows s3:DeleteObject only to roles it
   * names, so the vault and this construct must agree on it (`sweeperRoleNameOf`).
   * @default - a name CloudFormation generates; the vault's bucket policy then denies its deletes
   */
  readonly roleName?: string;
  /**
   * The org's backup workflow: each execution that SUCCEEDED starts a sweep.
   * @default - sweeps start on the schedule only
   */
  readonly backupStateMachine?: sfn.IStateMachine;
  /**
   * The backstop schedule, an EventBridge Scheduler expression in UTC.
   * @default 'cron(30 4 * * ? *)' - daily at 04:30 UTC
   */
  readonly schedule?: string;
  /**
   * The vault's own retention, checked against the policy (S3 expiring current versions before
   * the policy is done with them; Object Lock holding expired snapshots).
   * @default - not checked here; the Vault checks its sweepers' policies itself
   */
  readonly vaultRetention?: VaultRetentionSettings;
  /**
   * Topic alerted when a scheduled start could not be delivered.
   * @default - no alarm on the schedule's dead-letter queue
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Retention by policy for one org: a state machine with one Lambda task that lists the org's
 * snapshots, classifies them under the policy and removes the expired ones (delete markers; the
 * versions stay, noncurrent, until the vault's lifecycle expires them). Started when the org's
 * backup succeeds and daily as a backstop. Its function is the only one of the app that may
 * delete, and only under its org's snapshots, catalog and files; it can never delete a version.
 */
export class RetentionWorkflow extends Construct {
  /** The retention state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** The sweeper function, for error alarms. */
  readonly functions: lambda.IFunction[];
  /** The sweeper's role. */
  readonly role: iam.IRole;
  /** The daily backstop schedule. */
  readonly schedules: WorkflowSchedules;

  constructor(scope: Construct, id: string, props: RetentionWorkflowProps) {
    super(scope, id);
    RetentionWorkflow.validate(id, props);
    const sweeper = new WorkflowFunction(this, 'SweepFunction', {
      entry: HANDLERS,
      handler: 'sweep',
      description: `the retention sweeper of org ${props.orgName}: expires the snapshots its policy no longer keeps`,
      // A planning step holds up to about a million body keys (some 130 bytes each), or past that
      // a filter of two bytes a name, beside the candidates, and parses 16 file lists at a time.
      memorySize: 3008,
      timeout: Duration.minutes(15),
      environment: {
        [EnvName.OrgName]: props.orgName,
        [EnvName.VaultBucket]: props.bucket.bucketName,
        [EnvName.VaultKeyArn]: props.key.keyArn,
        [EnvName.RetentionPolicy]: JSON.stringify(props.policy),
      },
    });
    this.role = sweeper.role!;
    if (props.roleName) (this.role.node.defaultChild as iam.CfnRole).roleName = props.roleName;
    tagWorkflowRole(this.role, props.orgName, RoleDuty.RetentionSweep);
    this.functions = [sweeper];
    this.grantVault(props, this.role);

    // The state goes along whole: after an invocation that ran out of time it is that answer,
    // whose cursor the next invocation goes on from; on the first, the execution's input.
    const sweep = invokeTask(this, 'Sweep', {
      lambdaFunction: sweeper,
      retry: SWEEP_RETRY,
      payload: {
        executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
        state: sfn.JsonPath.entirePayload,
      },
    });
    sweep.addCatch(
      new sfn.Fail(this, 'SweepRefused', { errorPath: '$.error.Error', causePath: '$.error.Cause' }),
      { errors: [...SWEEP_REFUSED_ERRORS], resultPath: '$.error' },
    );
    // A sweep that died (a timeout, a crash) between its claim and its end still holds the org's
    // turn, which would keep erasures and the next sweep off for an hour: it is given back first.
    const failed = new sfn.Fail(this, 'SweepFailed', {
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    const release = invokeTask(this, 'ReleaseSweepTurn', {
      lambdaFunction: sweeper,
      retry: SWEEP_RETRY,
      payload: { executionName: sfn.JsonPath.stringAt('$$.Execution.Name'), step: 'release' },
      resultPath: sfn.JsonPath.DISCARD,
    });
    release.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
    release.next(failed);
    sweep.addCatch(release, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    // A sweep that ran out of time answers done: false; the next invocation continues it.
    const finished = new sfn.Choice(this, 'SweepDone')
      .when(sfn.Condition.booleanEquals('$.done', true), new sfn.Succeed(this, 'Swept'))
      .otherwise(sweep);
    this.stateMachine = workflowStateMachine(this, {
      definition: sweep.next(finished),
      comment: `Expires the snapshots of Salesforce org ${props.orgName} that its retention policy no longer keeps (docs/config.md)`,
    });
    acknowledgeStateMachineRole(this.stateMachine, this.functions);

    this.schedules = new WorkflowSchedules(this, 'Schedules', {
      stateMachine: this.stateMachine,
      timezone: 'UTC',
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });
    this.schedules.add({
      id: 'Daily',
      expression: props.schedule ?? 'cron(30 4 * * ? *)',
      input: {},
      description: `Retention sweep of Salesforce org ${props.orgName}, a backstop to the sweep after each backup`,
    });
    if (props.backupStateMachine) {
      new events.Rule(this, 'AfterBackup', {
        description: `Sweeps org ${props.orgName} after each backup that succeeded`,
        eventPattern: {
          source: ['aws.states'],
          detailType: ['Step Functions Execution Status Change'],
          detail: { status: ['SUCCEEDED'], stateMachineArn: [props.backupStateMachine.stateMachineArn] },
        },
        targets: [
          new targets.SfnStateMachine(this.stateMachine, { input: events.RuleTargetInput.fromObject({}) }),
        ],
      });
    }
  }

  /** Every problem of the props at once, each with what to write instead. */
  private static validate(id: string, props: RetentionWorkflowProps): void {
    const problems: string[] = [];
    const orgProblem = orgNameProblem(props.orgName);
    if (orgProblem) problems.push(`orgName: ${orgProblem}`);
    const policy = policyProblem(props.policy);
    if (policy) problems.push(`policy ${JSON.stringify(props.policy)}: ${policy}`);
    else if (props.vaultRetention) {
      for (const conflict of policyConflicts(props.policy, props.vaultRetention, 'the policy')) {
        problems.push(`vaultRetention.${conflict.setting} is ${conflict.value}: ${conflict.message}`);
      }
    }
    if (props.roleName !== undefined && !/^[\w+=,.@-]{1,64}$/.test(props.roleName)) {
      problems.push(
        `roleName is ${JSON.stringify(props.roleName)}: write at most 64 letters, digits or +=,.@_- (sweeperRoleNameOf gives the name the vault expects)`,
      );
    }
    if (problems.length > 0) {
      throw new Error(
        `RetentionWorkflow ${id}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  - ${problems.join('\n  - ')}`,
      );
    }
  }

  /**
   * Read the org's backups; delete (delete markers) only under its snapshots, catalog and files,
   * and its own planning records; write only its retention log; never delete a version or change
   * the bucket's protection.
   */
  private grantVault(props: RetentionWorkflowProps, role: iam.IRole): void {
    const orgPrefix = orgPrefixOf(props.orgName);
    const removable = SWEEPER_DELETE_FOLDERS.map((folder) => `${orgPrefix}${folder}*`);
    const planning = `${orgPrefix}${SWEEP_PLANNING_RECORDS}`;
    const logs = `${orgPrefix}${RETENTION_LOG_FOLDER}*`;
    // The org's vault lease (lambdas/core/vault-lease.ts): its own claims, renewals and releases
    // only, under its run id `sweep-<execution>`: never an erasure's release, which would let
    // backups in during the erasure, nor a backup's heartbeat.
    const lease = [
      `claims/${'?'.repeat(15)}-${SWEEP_LEASE_PREFIX}*`,
      `renewed/${'?'.repeat(15)}-${'?'.repeat(15)}-${SWEEP_LEASE_PREFIX}*`,
      `released/${SWEEP_LEASE_PREFIX}*`,
    ].map((f) => `${orgPrefix}${VAULT_LEASE_FOLDER}${f}`);
    const policy = new iam.Policy(this, 'VaultAccess', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadOrgBackups',
          actions: ['s3:GetObject'],
          resources: [props.bucket.arnForObjects(`${orgPrefix}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'ListOrgBackups',
          actions: ['s3:ListBucket'],
          resources: [props.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${orgPrefix}*`] } },
        }),
        new iam.PolicyStatement({
          sid: 'RemoveExpiredSnapshots',
          actions: ['s3:DeleteObject'],
          resources: removable.map((p) => props.bucket.arnForObjects(p)),
        }),
        new iam.PolicyStatement({
          sid: 'RemoveOwnPlanningRecords',
          actions: ['s3:DeleteObject'],
          resources: [props.bucket.arnForObjects(planning)],
        }),
        new iam.PolicyStatement({
          sid: 'WriteRetentionLog',
          actions: ['s3:PutObject'],
          resources: [props.bucket.arnForObjects(logs)],
        }),
        new iam.PolicyStatement({
          sid: 'TakeTurnsWithErasures',
          actions: ['s3:PutObject'],
          resources: lease.map((p) => props.bucket.arnForObjects(p)),
        }),
        new iam.PolicyStatement({
          sid: 'NeverDeleteVersionsOrWeakenTheVault',
          effect: iam.Effect.DENY,
          actions: SWEEPER_DENIED_ACTIONS,
          resources: [props.bucket.bucketArn, props.bucket.arnForObjects('*')],
        }),
        useVaultKey(props.key),
      ],
    });
    const bucket = nagArnOf(this, props.bucket.bucketArn);
    const path = policy.node.path;
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/${orgPrefix}*]`,
      reason: `${path}: the sweeper reads its own org's catalog, manifests, file index and retention log under ${orgPrefix}, whose keys are made at backup time; read only.`,
    });
    for (const prefix of removable) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucket}/${prefix}]`,
        reason: `${path}: the sweeper removes (delete markers, no version) the expired snapshots' objects under ${prefix}, named at backup time; the versions stay until the lifecycle expires them.`,
      });
    }
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/${planning}]`,
      reason: `${path}: the sweeper removes (delete markers, no version) the planning records and filters its own sweeps kept beside their log entries (${planning}), named at run time; never a log entry.`,
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/${logs}]`,
      reason: `${path}: the sweeper writes one retention log entry per sweep under ${logs}, named at run time.`,
    });
    for (const prefix of lease) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucket}/${prefix}]`,
        reason: `${path}: the sweeper takes, renews and gives back its org's vault lease, one record per sweep under ${prefix}, named at run time.`,
      });
    }
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/*]`,
      reason: `${path}: the explicit deny of version deletes and lock, lifecycle, versioning or policy changes covers every object of the vault.`,
    });
  }
}
