import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  EnvName,
  ErrorName,
  LAMBDA_SERVICE_ERRORS,
  orgNameProblem,
  orgPrefixOf,
  reportPrefixOf,
} from '../contract/workflow-contract.ts';
import { WorkflowFunction } from './function-defaults.ts';
import {
  acknowledgeDistributedMaps,
  acknowledgeStateMachineRole,
  nagArnOf,
} from './workflows/support/acknowledgements.ts';
import { workflowStateMachine } from './workflows/support/state-machine.ts';
import {
  denyBackupChanges,
  denyReadsOutside,
  invokeTask,
  useVaultKey,
  type WorkflowRetry,
} from './workflows/support/tasks.ts';

/** The handler module of the report functions. */
const HANDLERS = 'lambdas/handlers/report/handlers.ts';

/** How every report task retries: only Lambda's own transient failures (it reads the vault, nothing else). */
const REPORT_RETRY: WorkflowRetry = {
  errors: LAMBDA_SERVICE_ERRORS,
  interval: Duration.seconds(5),
  maxAttempts: 3,
  backoffRate: 2,
};

/** What ends a report at once as a rejected input: nothing is written. */
export const DIFF_INPUT_REJECTED_ERRORS = [
  ErrorName.InvalidInsightRequest,
  ErrorName.SnapshotNotFound,
] as const;

/** Props of DiffReportWorkflow. */
export interface DiffReportWorkflowProps {
  /** The org whose snapshots are compared: its config name, which is its vault prefix. */
  readonly orgName: string;
  /** The vault bucket. */
  readonly bucket: s3.IBucket;
  /** The vault key, to read the snapshots and write the report. */
  readonly key: kms.IKey;
  /**
   * Objects compared at once.
   * @default 10
   */
  readonly maxConcurrency?: number;
}

/**
 * Compares two snapshots of one org inside AWS, with no laptop: started from the Step Functions
 * console with `{"from": "<snapshot id or instant>", "to": "latest"}`, it writes the diff report
 * (rows inserted, deleted and changed per object, fields changed, metadata components) and the
 * restore input it suggests under `reports/<org name>/diffs/<execution>/`, and returns their keys.
 * One object per Distributed Map item, so an org of thousands of objects stays within a
 * function's time. Its functions may read the org's backups and write its reports, nothing else:
 * no Salesforce credentials, no delete.
 */
export class DiffReportWorkflow extends Construct {
  /** The report state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** Every function of the workflow, for error alarms. */
  readonly functions: lambda.IFunction[];

  constructor(scope: Construct, id: string, props: DiffReportWorkflowProps) {
    super(scope, id);
    const problem = orgNameProblem(props.orgName);
    if (problem) throw new Error(`${id}: orgName: ${problem}`);
    const concurrency = props.maxConcurrency ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) {
      throw new Error(
        `${id}: maxConcurrency is ${concurrency}: give a whole number from 1 to 1000 (objects compared at once).`,
      );
    }
    const environment = {
      [EnvName.OrgName]: props.orgName,
      [EnvName.VaultBucket]: props.bucket.bucketName,
      [EnvName.VaultKeyArn]: props.key.keyArn,
    };
    const fn = (name: string, handler: string, description: string) =>
      new WorkflowFunction(this, `${name}Function`, {
        entry: HANDLERS,
        handler,
        description: `the diff report of org ${props.orgName}: ${description}`,
        memorySize: 3008,
        timeout: Duration.minutes(15),
        environment,
      });
    const start = fn('DiffStart', 'diffStart', 'checks the input and lists the objects to compare');
    const object = fn('DiffObject', 'diffObject', 'compares one object of the two snapshots');
    const finish = fn(
      'DiffFinish',
      'diffFinish',
      'compares metadata and writes the report and the restore input',
    );
    this.functions = [start, object, finish];
    this.grantVault(props);

    const readInput = new sfn.Pass(this, 'ReadInput', {
      parameters: {
        input: sfn.JsonPath.objectAt('$$.Execution.Input'),
        executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
      },
    });
    const startTask = invokeTask(this, 'StartDiff', { lambdaFunction: start, retry: REPORT_RETRY });
    startTask.addCatch(
      new sfn.Fail(this, 'InputRejected', { errorPath: '$.error.Error', causePath: '$.error.Cause' }),
      { errors: [...DIFF_INPUT_REJECTED_ERRORS], resultPath: '$.error' },
    );
    const objectTask = invokeTask(this, 'DiffObject', {
      lambdaFunction: object,
      retry: REPORT_RETRY,
    });
    const objects = new sfn.DistributedMap(this, 'DiffObjects', {
      itemReader: new sfn.S3JsonItemReader({
        bucket: props.bucket,
        key: sfn.JsonPath.stringAt('$.objectsKey'),
      }),
      itemSelector: {
        'runKey.$': '$.runKey',
        'object.$': '$$.Map.Item.Value',
      },
      maxConcurrency: concurrency,
      resultPath: sfn.JsonPath.DISCARD,
    });
    objects.itemProcessor(objectTask);
    const finishTask = invokeTask(this, 'FinishDiff', {
      lambdaFunction: finish,
      retry: REPORT_RETRY,
      payload: { runKey: sfn.JsonPath.stringAt('$.runKey') },
    });
    const failed = new sfn.Fail(this, 'DiffFailed', {
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    objects.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    finishTask.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    this.stateMachine = workflowStateMachine(this, {
      definition: readInput.next(startTask).next(objects).next(finishTask),
      comment: `Compares two snapshots of Salesforce org ${props.orgName} and writes a diff report; input documented in docs/restore.md`,
    });
    // CDK's ItemReader grants s3:GetObject on the whole vault; the map reads only its report's list,
    // which the vault key encrypts.
    this.stateMachine.addToRolePolicy(denyReadsOutside(props.bucket, [`${reportPrefixOf(props.orgName)}*`]));
    props.key.grantDecrypt(this.stateMachine);
    const machine = `${this.node.path}/StateMachine`;
    const bucketName = JSON.stringify(this.stateMachine.stack.resolve(props.bucket.bucketName));
    acknowledgeStateMachineRole(this.stateMachine, this.functions, [
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucketName}/*]`,
        reason: `${machine}: CDK's S3JsonItemReader grants s3:GetObject on the vault's objects for the Distributed Map's ItemReader; an explicit deny limits reads to ${reportPrefixOf(props.orgName)}, where the objects list of each run is written.`,
      },
    ]);
    acknowledgeDistributedMaps(this.stateMachine);
  }

  /** Read the org's backups, write only its reports, with the vault's key; never delete. */
  private grantVault(props: DiffReportWorkflowProps): void {
    const roles = this.functions.map((f) => f.role).filter((r): r is iam.IRole => r !== undefined);
    const orgPrefix = orgPrefixOf(props.orgName);
    const reportPrefix = reportPrefixOf(props.orgName);
    const policy = new iam.Policy(this, 'VaultAccess', {
      roles,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadBackupsAndReports',
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [
            props.bucket.arnForObjects(`${orgPrefix}*`),
            props.bucket.arnForObjects(`${reportPrefix}*`),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ListBackupsAndReports',
          actions: ['s3:ListBucket'],
          resources: [props.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${orgPrefix}*`, `${reportPrefix}*`] } },
        }),
        new iam.PolicyStatement({
          sid: 'WriteReports',
          actions: ['s3:PutObject'],
          resources: [props.bucket.arnForObjects(`${reportPrefix}*`)],
        }),
        denyBackupChanges(props.bucket),
        useVaultKey(props.key),
      ],
    });
    const bucket = nagArnOf(this, props.bucket.bucketArn);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/${orgPrefix}*]`,
      reason: `${policy.node.path}: a diff report reads any snapshot of its own org, under ${orgPrefix}, whose keys are made at backup time; read only, deletes explicitly denied.`,
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/${reportPrefix}*]`,
      reason: `${policy.node.path}: a diff report writes under ${reportPrefix} only, one folder per execution, named at run time.`,
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/*]`,
      reason: `${policy.node.path}: the explicit deny of deletes and lock, lifecycle or versioning changes covers every object of the vault.`,
    });
  }
}
