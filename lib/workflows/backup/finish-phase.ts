import { BackupFailure } from '../../../contract/workflow-contract.ts';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { alertTask, invokeTask } from '../support/tasks.ts';
import { BACKUP_RETRY } from './functions.ts';

/** Props of BackupFinishPhase. */
export interface BackupFinishPhaseProps {
  /** The org backed up, named in the alerts. */
  readonly orgName: string;
  /** The function that verifies the snapshot and completes it. */
  readonly finishFunction: lambda.IFunction;
  /** Where an incomplete snapshot and unusual changes are reported. */
  readonly alertTopic: sns.ITopic;
  /** Where a failure of the finish itself goes, with the error at `$.failure`. */
  readonly onFailure: sfn.IChainable;
}

/**
 * Verifies the snapshot and marks it complete, or fails the run with an alert naming what is
 * missing; a complete snapshot with unusual deletes or changes is alerted too.
 */
export class BackupFinishPhase extends sfn.StateMachineFragment {
  /** The finish task. */
  readonly startState: sfn.State;
  /** None: the phase ends the execution. */
  readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: BackupFinishPhaseProps) {
    super(scope, id);
    const org = props.orgName;
    const finish = invokeTask(this, 'Finish', {
      lambdaFunction: props.finishFunction,
      retry: BACKUP_RETRY,
      payload: { 'org.$': '$.org', 'snapshotId.$': '$.snapshotId' },
      resultPath: '$.result',
    });
    finish.addCatch(props.onFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    const incomplete = alertTask(this, 'AlertIncomplete', {
      topic: props.alertTopic,
      subject: `Backup of Salesforce org ${org} incomplete`,
      message: sfn.TaskInput.fromJsonPathAt('$.result.failureMessage'),
    }).next(
      new sfn.Fail(this, 'SnapshotIncomplete', {
        error: BackupFailure.Incomplete,
        cause: 'The snapshot is missing data and was not marked complete; see the alert.',
      }),
    );
    const succeeded = new sfn.Succeed(this, 'SnapshotComplete', { outputPath: '$.result' });
    const anomalies = alertTask(this, 'AlertAnomalies', {
      topic: props.alertTopic,
      subject: `Unusual changes in Salesforce org ${org}`,
      message: sfn.TaskInput.fromJsonPathAt('$.result.anomalyMessage'),
    }).next(succeeded);
    finish.next(
      new sfn.Choice(this, 'Complete?')
        .when(
          sfn.Condition.stringEquals('$.result.status', 'complete'),
          new sfn.Choice(this, 'Anomalies?')
            .when(sfn.Condition.booleanEquals('$.result.hasAnomalies', true), anomalies)
            .otherwise(succeeded),
        )
        .otherwise(incomplete),
    );
    this.startState = finish;
  }
}
