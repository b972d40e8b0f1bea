import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { Duration } from 'aws-cdk-lib';
import { LAMBDA_CRASH_ERRORS, RESTORE_MISMATCH_ERROR } from '../../../contract/workflow-contract.ts';
import { alertTask, invokeTask } from '../support/tasks.ts';
import type { FailingStep, RestorePhase } from './failure-phase.ts';
import { RESTORE_RETRY } from './functions.ts';

/** Props of RestoreVerifyPhase. */
export interface RestoreVerifyPhaseProps {
  /** The org restored, named in the alert. */
  readonly orgName: string;
  /** The function that restores files. */
  readonly filesFunction: lambda.IFunction;
  /** The function that verifies the org against the snapshot. */
  readonly verifyFunction: lambda.IFunction;
  /** Where rows that did not come back are reported. */
  readonly alertTopic: sns.ITopic;
}

/**
 * Restores the files, checks them, checks the rows an object at a time, then verifies the org
 * against the snapshot from those checks: a match ends with the report
 * and the recovery time, a mismatch is alerted and fails the execution.
 */
export class RestoreVerifyPhase extends sfn.StateMachineFragment implements RestorePhase {
  /** The files task. */
  readonly startState: sfn.State;
  /** None: the phase ends the execution. */
  readonly endStates: sfn.INextable[] = [];
  /** The steps whose errors end the restore. */
  readonly failingSteps: readonly FailingStep[];

  constructor(scope: Construct, id: string, props: RestoreVerifyPhaseProps) {
    super(scope, id);
    const run = sfn.JsonPath.objectAt('$.run');
    const startFiles = new sfn.Pass(this, 'StartFiles', {
      result: sfn.Result.fromObject({ done: false, cursor: 0 }),
      resultPath: '$.files',
    });
    // One invocation stops starting files near its time limit: the loop carries on from its cursor.
    const files = invokeTask(this, 'RestoreFiles', {
      lambdaFunction: props.filesFunction,
      retry: RESTORE_RETRY,
      payload: { run, cursor: sfn.JsonPath.numberAt('$.files.cursor') },
      resultPath: '$.files',
    });
    // The restored files are checked a group at a time, on as many invocations as it takes.
    const startFileCheck = new sfn.Pass(this, 'StartFileCheck', {
      result: sfn.Result.fromObject({ done: false, cursor: 0 }),
      resultPath: '$.fileCheck',
    });
    const fileCheck = invokeTask(this, 'VerifyFiles', {
      lambdaFunction: props.verifyFunction,
      retry: RESTORE_RETRY,
      payload: { run, fileCheck: { cursor: sfn.JsonPath.numberAt('$.fileCheck.cursor') } },
      resultPath: '$.fileCheck',
    });
    // The restored rows are checked an object at a time, on as many invocations as it takes; the
    // report is made from what each check kept.
    const startRowCheck = new sfn.Pass(this, 'StartRowCheck', {
      result: sfn.Result.fromObject({ done: false, cursor: 0 }),
      resultPath: '$.rowCheck',
    });
    const rowCheck = invokeTask(this, 'VerifyRows', {
      lambdaFunction: props.verifyFunction,
      retry: RESTORE_RETRY,
      payload: { run, rowCheck: { cursor: sfn.JsonPath.numberAt('$.rowCheck.cursor') } },
      resultPath: '$.rowCheck',
    });
    // A check only reads the org and keeps what it found once: an invocation that died or ran out
    // of time (one object longer than its time) is run again, going on from its cursor.
    rowCheck.addRetry({
      errors: [...LAMBDA_CRASH_ERRORS],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 2,
    });
    const verify = invokeTask(this, 'VerifyRestore', {
      lambdaFunction: props.verifyFunction,
      retry: RESTORE_RETRY,
      payload: { run },
      resultPath: '$.verify',
    });
    const restored = new sfn.Pass(this, 'Restored', {
      parameters: {
        mode: sfn.JsonPath.stringAt('$.run.mode'),
        planKey: sfn.JsonPath.stringAt('$.plan.planKey'),
        reportKey: sfn.JsonPath.stringAt('$.verify.reportKey'),
        recoveryTimeSeconds: sfn.JsonPath.numberAt('$.verify.recoveryTimeSeconds'),
        summary: sfn.JsonPath.stringAt('$.verify.summary'),
      },
    });
    const mismatch = alertTask(this, 'NotifyMismatch', {
      topic: props.alertTopic,
      subject: `Restore of Salesforce org ${props.orgName} left rows unrestored`,
      message: sfn.TaskInput.fromJsonPathAt(
        sfn.JsonPath.format(
          `The restore {} of org ${props.orgName} did not bring everything back. {}`,
          sfn.JsonPath.stringAt('$$.Execution.Name'),
          sfn.JsonPath.stringAt('$.verify.summary'),
        ),
      ),
    }).next(
      new sfn.Fail(this, 'RestoreDidNotMatch', {
        error: RESTORE_MISMATCH_ERROR,
        causePath: '$.verify.summary',
      }),
    );
    startFiles.next(files);
    files.next(
      new sfn.Choice(this, 'FilesDone')
        .when(sfn.Condition.booleanEquals('$.files.done', true), startFileCheck)
        .otherwise(files),
    );
    startFileCheck.next(fileCheck);
    fileCheck.next(
      new sfn.Choice(this, 'FilesChecked')
        .when(sfn.Condition.booleanEquals('$.fileCheck.done', true), startRowCheck)
        .otherwise(fileCheck),
    );
    startRowCheck.next(rowCheck);
    rowCheck.next(
      new sfn.Choice(this, 'RowsChecked')
        .when(sfn.Condition.booleanEquals('$.rowCheck.done', true), verify)
        .otherwise(rowCheck),
    );
    verify.next(
      new sfn.Choice(this, 'OrgMatchesSnapshot')
        .when(sfn.Condition.booleanEquals('$.verify.matches', true), restored)
        .otherwise(mismatch),
    );
    this.failingSteps = [files, fileCheck, rowCheck, verify];
    this.startState = startFiles;
  }
}
