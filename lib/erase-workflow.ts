import { Aws, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  EnvName,
  erasePrefixesOf,
  eraseRemovalPatternsOf,
  ErrorName,
  ERASURE_REMOVED_FOLDER,
  ERASURE_WAIT,
  ERASURES_FOLDER,
  LAMBDA_CRASH_ERRORS,
  LAMBDA_SERVICE_ERRORS,
  orgNameProblem,
  orgPrefixOf,
} from '../contract/workflow-contract.ts';
import { constructIdOf } from './config.ts';
import { WorkflowFunction } from './function-defaults.ts';
import { RoleDuty, tagWorkflowRole } from './workflow-role-tags.ts';
import { acknowledgeStateMachineRole, nagArnOf } from './workflows/support/acknowledgements.ts';
import { workflowStateMachine } from './workflows/support/state-machine.ts';
import { invokeTask, useVaultKey, type WorkflowRetry } from './workflows/support/tasks.ts';

/** The handler module of the erase function. */
const HANDLERS = 'lambdas/handlers/erase/handlers.ts';

/** The longest name IAM gives a role. */
const ROLE_NAME_LIMIT = 64;

/**
 * The name of the erase role of `orgName` in the app of `stackPrefix`: fixed, so the vault stack,
 * deployed first, can name it in its bucket policy without a reference to the org stack.
 */
export function eraseRoleNameOf(stackPrefix: string, orgName: string): string {
  const name = `${stackPrefix}-Erase-${constructIdOf(orgName)}`;
  if (name.length > ROLE_NAME_LIMIT) {
    throw new Error(
      `The erase role of org ${orgName} would be named ${name} (${name.length} characters), longer than IAM's ${ROLE_NAME_LIMIT}: shorten stackPrefix "${stackPrefix}" or the org name.`,
    );
  }
  return name;
}

/** The ARN of an erase role in the account and partition the stack is deployed to. */
export function eraseRoleArnOf(stackPrefix: string, orgName: string): string {
  return `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${eraseRoleNameOf(stackPrefix, orgName)}`;
}

/**
 * How every erase task retries: Lambda's own transient failures, and a function that died (a
 * timeout, a crash): each step is safe to run again, and goes on from its last progress.
 */
const ERASE_RETRY: WorkflowRetry = {
  errors: [...LAMBDA_SERVICE_ERRORS, ...LAMBDA_CRASH_ERRORS],
  interval: Duration.seconds(5),
  maxAttempts: 3,
  backoffRate: 2,
};

/**
 * What ends an erasure at its first step, with nothing written but the failure. A wait for the org
 * that lasted its whole time is not one: the erasure may hold the org's leases by then (it waited
 * for a backup that began before its claim), so it ends through the release state.
 */
export const ERASE_INPUT_REJECTED_ERRORS = [
  ErrorName.InvalidEraseRequest,
  ErrorName.ErasureImpossible,
  ErrorName.ErasureTargetNotFound,
] as const;

/** Props of EraseWorkflow. */
export interface EraseWorkflowProps {
  /** The org whose backups it erases from: its config name, which is its vault prefix. */
  readonly orgName: string;
  /** The vault bucket. */
  readonly bucket: s3.IBucket;
  /** The vault key. */
  readonly key: kms.IKey;
  /** The erase function's role name; the vault's bucket policy lets only this role remove versions of the org's records. */
  readonly roleName: string;
  /**
   * The vault's Object Lock mode: with GOVERNANCE the role may bypass it; with COMPLIANCE every
   * execution is refused at its first step, since no one can remove a locked version.
   * @default - the vault has no default lock
   */
  readonly objectLockMode?: 'GOVERNANCE' | 'COMPLIANCE';
}

/**
 * Erases a person from one org's backups (docs/erasure.md): started from the Step Functions
 * console with record ids or an object and a filter, and who asked; a dry run unless
 * `"mode": "erase"` and the org id confirm it. It rewrites every part holding the person without
 * their rows, removes every earlier version, describes the snapshots again so they still verify,
 * then scans every version of the org for what should be gone and logs the erasure. Its one
 * function runs under a role of its own, the only workflow role that may remove versions, and only
 * where an erasure rewrites the org's records; it has no Salesforce credentials.
 */
export class EraseWorkflow extends Construct {
  /** The erase state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** The erase function, for error alarms. */
  readonly functions: lambda.IFunction[];

  constructor(scope: Construct, id: string, props: EraseWorkflowProps) {
    super(scope, id);
    const problem = orgNameProblem(props.orgName);
    if (problem) throw new Error(`${id}: orgName: ${problem}`);
    if (props.roleName.length === 0 || props.roleName.length > ROLE_NAME_LIMIT) {
      throw new Error(
        `${id}: roleName "${props.roleName}" must have 1 to ${ROLE_NAME_LIMIT} characters: use eraseRoleNameOf(stackPrefix, orgName).`,
      );
    }
    const fn = new WorkflowFunction(this, 'EraseFunction', {
      entry: HANDLERS,
      handler: 'erase',
      description: `the erase workflow of org ${props.orgName}: plans, erases and scans`,
      memorySize: 3008,
      timeout: Duration.minutes(15),
      roleName: props.roleName,
      environment: {
        [EnvName.OrgName]: props.orgName,
        [EnvName.VaultBucket]: props.bucket.bucketName,
        [EnvName.VaultKeyArn]: props.key.keyArn,
        ...(props.objectLockMode ? { [EnvName.ObjectLockMode]: props.objectLockMode } : {}),
      },
    });
    this.functions = [fn];
    if (fn.role) tagWorkflowRole(fn.role, props.orgName, RoleDuty.Erase);
    this.grantVault(props, fn);

    const readInput = new sfn.Pass(this, 'ReadInput', {
      parameters: {
        step: 'start',
        input: sfn.JsonPath.objectAt('$$.Execution.Input'),
        executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      },
    });
    const start = invokeTask(this, 'PlanErasure', { lambdaFunction: fn, retry: ERASE_RETRY });
    start.addCatch(
      new sfn.Fail(this, 'InputRejected', { errorPath: '$.error.Error', causePath: '$.error.Cause' }),
      { errors: [...ERASE_INPUT_REJECTED_ERRORS], resultPath: '$.error' },
    );
    const apply = invokeTask(this, 'EraseVersions', {
      lambdaFunction: fn,
      retry: ERASE_RETRY,
      payload: {
        step: 'erase',
        input: sfn.JsonPath.objectAt('$$.Execution.Input'),
        planKey: sfn.JsonPath.stringAt('$.planKey'),
      },
      resultPath: '$.outcome',
    });
    const finish = invokeTask(this, 'ScanAndLog', {
      lambdaFunction: fn,
      retry: ERASE_RETRY,
      payload: {
        step: 'finish',
        input: sfn.JsonPath.objectAt('$$.Execution.Input'),
        planKey: sfn.JsonPath.stringAt('$.planKey'),
        outcome: sfn.JsonPath.objectAt('$.outcome'),
      },
      resultPath: '$.log',
    });
    const failed = new sfn.Fail(this, 'ErasureFailed', {
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    // However it fails, an erasure gives the org's restore leases back before it ends (a step
    // that fails after taking them releases them itself; this covers a timeout or a crash).
    const release = invokeTask(this, 'ReleaseRestoreLeases', {
      lambdaFunction: fn,
      retry: ERASE_RETRY,
      // The error's name goes in the erasure log (never its message, which may name keys).
      payload: {
        step: 'release',
        executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
        error: sfn.JsonPath.stringAt('$.error.Error'),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    release.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
    release.next(failed);
    start.addCatch(release, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    apply.addCatch(release, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    finish.addCatch(release, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    // A step whose time ran out before its end (a vault too large for one invocation) kept its
    // progress in the vault and answered done: false; it runs again and goes on from there.
    const scanned = new sfn.Choice(this, 'Scanned?')
      .when(sfn.Condition.booleanEquals('$.log.done', false), finish)
      .otherwise(new sfn.Succeed(this, 'Erased'));
    const erased = new sfn.Choice(this, 'VersionsErased?')
      .when(sfn.Condition.booleanEquals('$.outcome.done', false), apply)
      .otherwise(finish);
    apply.next(erased);
    finish.next(scanned);
    const mode = new sfn.Choice(this, 'DryRun?')
      .when(sfn.Condition.stringEquals('$.mode', 'erase'), apply)
      .otherwise(new sfn.Succeed(this, 'DryRunDone'));
    // A real erasure that found its org busy (a backup running, a sweep, a restore or another
    // erasure holding a lease) claimed nothing, or holds the org while a backup that began before
    // its claim ends, and answered waiting: it waits its turn, without a failed invocation (which
    // the function's error alarm would count), until the step gives up (ErasureMustWaitError,
    // caught by the release state, which gives back what it holds).
    const waitForOrg = new sfn.Wait(this, 'WaitForOrg', {
      time: sfn.WaitTime.duration(Duration.seconds(ERASURE_WAIT.intervalSeconds)),
    }).next(readInput);
    const planned = new sfn.Choice(this, 'Planned?')
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.waiting'),
          sfn.Condition.booleanEquals('$.waiting', true),
        ),
        waitForOrg,
      )
      .when(sfn.Condition.booleanEquals('$.done', false), readInput)
      .otherwise(mode);

    this.stateMachine = workflowStateMachine(this, {
      definition: readInput.next(start).next(planned),
      comment: `Erases a person from the backups of Salesforce org ${props.orgName}; input documented in docs/erasure.md`,
    });
    acknowledgeStateMachineRole(this.stateMachine, this.functions, []);
  }

  /**
   * Read, list (versions too) and replace under the org's prefixes (backups, restore records,
   * diff reports) only, and remove versions where an erasure rewrites (`eraseRemovalPatternsOf`),
   * with the vault's key; bypass a GOVERNANCE lock when the vault has one. The vault's bucket
   * policy denies version removal to every other workflow role.
   */
  private grantVault(props: EraseWorkflowProps, fn: WorkflowFunction): void {
    const role = fn.role;
    if (!role) throw new Error('The erase function has no role.');
    const prefixes = erasePrefixesOf(props.orgName);
    const removable = eraseRemovalPatternsOf(props.orgName);
    const removalLists = `${orgPrefixOf(props.orgName)}${ERASURES_FOLDER}*/${ERASURE_REMOVED_FOLDER}*`;
    const policy = new iam.Policy(this, 'VaultAccess', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadAndReplaceInOwnOrg',
          // The retention and legal hold of each version it would remove: the plan refuses locked ones.
          actions: [
            's3:GetObject',
            's3:GetObjectVersion',
            's3:GetObjectRetention',
            's3:GetObjectLegalHold',
            's3:PutObject',
          ],
          resources: prefixes.map((prefix) => props.bucket.arnForObjects(`${prefix}*`)),
        }),
        new iam.PolicyStatement({
          sid: 'RemoveVersionsWhereErasureRewrites',
          actions: [
            's3:DeleteObjectVersion',
            ...(props.objectLockMode === 'GOVERNANCE' ? ['s3:BypassGovernanceRetention'] : []),
          ],
          resources: removable.map((pattern) => props.bucket.arnForObjects(pattern)),
        }),
        new iam.PolicyStatement({
          sid: 'ListOwnOrgWithVersions',
          actions: ['s3:ListBucket', 's3:ListBucketVersions'],
          resources: [props.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
        }),
        // Each record of the list of removed versions is written once (If-None-Match: *, which S3
        // refuses over an existing key): a record replaced would hide a version from the replica's cleaning.
        new iam.PolicyStatement({
          sid: 'NeverReplaceRemovalLists',
          effect: iam.Effect.DENY,
          actions: ['s3:PutObject'],
          resources: [props.bucket.arnForObjects(removalLists)],
          conditions: {
            Null: { 's3:if-none-match': 'true' },
            Bool: { 's3:ObjectCreationOperation': 'true' },
          },
        }),
        new iam.PolicyStatement({
          sid: 'NeverChangeProtection',
          effect: iam.Effect.DENY,
          actions: [
            's3:DeleteObject',
            's3:PutObjectRetention',
            's3:PutObjectLegalHold',
            's3:PutBucketVersioning',
            's3:PutLifecycleConfiguration',
            's3:PutBucketPolicy',
            's3:PutBucketObjectLockConfiguration',
          ],
          resources: [props.bucket.bucketArn, props.bucket.arnForObjects('*')],
        }),
        useVaultKey(props.key),
      ],
    });
    const bucket = nagArnOf(this, props.bucket.bucketArn);
    for (const prefix of prefixes) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucket}/${prefix}*]`,
        reason: `${policy.node.path}: an erasure reads and rewrites any object of its own org under ${prefix} (backups, restore records, diff reports), wherever the person's rows are.`,
      });
    }
    for (const pattern of removable.filter((p) => !prefixes.some((prefix) => p === `${prefix}*`))) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucket}/${pattern}]`,
        reason: `${policy.node.path}: an erasure removes the earlier versions of what it rewrote under ${pattern}; the bucket policy allows version removal to this role there only.`,
      });
    }
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/*]`,
      reason: `${policy.node.path}: the explicit deny of deletes and lock, lifecycle or versioning changes covers every object of the vault.`,
    });
  }
}
