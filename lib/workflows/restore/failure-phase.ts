import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { alertTask, invokeTask } from '../support/tasks.ts';
import { RESTORE_RETRY } from './functions.ts';

/** Props of RestoreFailurePhase. */
export interface RestoreFailurePhaseProps {
  /** The org restored, named in the alert. */
  readonly orgName: string;
  /** Where the alert goes. */
  readonly alertTopic: sns.ITopic;
  /** The function that frees the org's restore lease of the failed run. */
  readonly releaseFunction: lambda.IFunction;
}

/**
 * Where a failed step of a restore ends: the run's lease on the org is freed, then an alert with
 * the error found at `$.error`, then a failed execution.
 */
export class RestoreFailurePhase extends sfn.StateMachineFragment {
  /** The alert. */
  readonly startState: sfn.State;
  /** None: the phase ends the execution. */
  readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: RestoreFailurePhaseProps) {
    super(scope, id);
    const notify = alertTask(this, 'NotifyFailure', {
      topic: props.alertTopic,
      subject: `Restore of Salesforce org ${props.orgName} failed`,
      message: sfn.TaskInput.fromJsonPathAt(
        sfn.JsonPath.format(
          `The restore {} of org ${props.orgName} failed: {}: {}`,
          sfn.JsonPath.stringAt('$$.Execution.Name'),
          sfn.JsonPath.stringAt('$.failure.error'),
          sfn.JsonPath.stringAt('$.failure.message'),
        ),
      ),
    });
    notify.next(
      new sfn.Fail(this, 'RestoreFailed', { errorPath: '$.failure.error', causePath: '$.failure.message' }),
    );
    // A Lambda error's cause is {"errorType","errorMessage","trace"}: only the message goes on,
    // since a stack trace means nothing to the person alerted and can name internal paths.
    const lambdaCause = new sfn.Pass(this, 'ReadLambdaCause', {
      parameters: { cause: sfn.JsonPath.stringToJson(sfn.JsonPath.stringAt('$.error.Cause')) },
      resultPath: '$.lambdaError',
    });
    const lambdaFailure = new sfn.Pass(this, 'LambdaFailure', {
      parameters: {
        error: sfn.JsonPath.stringAt('$.error.Error'),
        message: sfn.JsonPath.stringAt('$.lambdaError.cause.errorMessage'),
      },
      resultPath: '$.failure',
    });
    const otherFailure = new sfn.Pass(this, 'OtherFailure', {
      parameters: {
        error: sfn.JsonPath.stringAt('$.error.Error'),
        message: sfn.JsonPath.stringAt('$.error.Cause'),
      },
      resultPath: '$.failure',
    });
    const describe = new sfn.Choice(this, 'FailedInLambda')
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.error.Cause'),
          sfn.Condition.isString('$.error.Cause'),
          sfn.Condition.stringMatches('$.error.Cause', '{"errorType":*"errorMessage":*'),
        ),
        lambdaCause.next(lambdaFailure).next(notify),
      )
      .otherwise(otherFailure.next(notify));
    // The whole state goes to the release: a step that failed before validation left no run.
    const release = invokeTask(this, 'ReleaseRestoreLease', {
      lambdaFunction: props.releaseFunction,
      retry: RESTORE_RETRY,
      payload: { state: sfn.JsonPath.entirePayload },
      resultPath: sfn.JsonPath.DISCARD,
    });
    // A release that fails still alerts with the restore's own error; the lease then expires.
    release.addCatch(describe, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
    release.next(describe);
    this.startState = release;
  }

  /**
   * Sends every error of the phases' steps here, the error at `$.error`. Pass the phases in the
   * order they run: CDK grants the functions in the order it walks the states, so this order is
   * also the order of the state machine role's statements.
   */
  catchFrom(...phases: readonly RestorePhase[]): void {
    for (const step of phases.flatMap((phase) => phase.failingSteps)) {
      step.addCatch(this, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    }
  }
}

/** A step whose every error ends the restore with an alert. */
export type FailingStep = sfn.TaskStateBase | sfn.DistributedMap;

/** A phase of the restore, with the steps whose errors end the restore. */
export interface RestorePhase {
  /** The phase's tasks and maps, in the order the definition runs them. */
  readonly failingSteps: readonly FailingStep[];
}
