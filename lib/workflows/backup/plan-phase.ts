import { BackupFailure } from '../../../contract/workflow-contract.ts';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { alertTask, invokeTask } from '../support/tasks.ts';
import { BACKUP_RETRY } from './functions.ts';

/** Props of BackupPlanPhase. */
export interface BackupPlanPhaseProps {
  /** The org backed up, named in the alert. */
  readonly orgName: string;
  /** The function that plans the run. */
  readonly planFunction: lambda.IFunction;
  /** Where a deferral is reported. */
  readonly alertTopic: sns.ITopic;
  /** Where a failure of the plan goes, with the error at `$.failure`. */
  readonly onFailure: sfn.IChainable;
  /** What runs once the run is planned and not deferred. */
  readonly next: sfn.IChainable;
}

/**
 * Plans the run from `{org, mode}`, and defers it with an alert when the API allowance share
 * would not cover it.
 */
export class BackupPlanPhase extends sfn.StateMachineFragment {
  /** The plan task. */
  readonly startState: sfn.State;
  /** None: the phase goes on to `next` itself. */
  readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: BackupPlanPhaseProps) {
    super(scope, id);
    const plan = invokeTask(this, 'Plan', {
      lambdaFunction: props.planFunction,
      retry: BACKUP_RETRY,
      payload: { 'org.$': '$.org', 'mode.$': '$.mode', 'runId.$': '$$.Execution.Id' },
    });
    plan.addCatch(props.onFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const deferred = alertTask(this, 'AlertDeferred', {
      topic: props.alertTopic,
      subject: `Backup of Salesforce org ${props.orgName} deferred`,
      message: sfn.TaskInput.fromJsonPathAt('$.deferredReason'),
    }).next(
      new sfn.Fail(this, 'RunDeferred', {
        error: BackupFailure.Deferred,
        cause: 'The API allowance share was not enough; see the alert.',
      }),
    );
    plan.next(
      new sfn.Choice(this, 'Deferred?')
        .when(sfn.Condition.booleanEquals('$.deferred', true), deferred)
        .otherwise(props.next),
    );
    this.startState = plan;
  }
}
