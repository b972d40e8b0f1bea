import { BackupFailure } from '../../../contract/workflow-contract.ts';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { alertTask } from '../support/tasks.ts';

/** Props of BackupFailurePhase. */
export interface BackupFailurePhaseProps {
  /** The org backed up, named in the alert. */
  readonly orgName: string;
  /** Where the alert goes. */
  readonly alertTopic: sns.ITopic;
}

/**
 * Where an unexpected failure of the run itself ends: an alert with the error and cause found at
 * `$.failure`, then a failed execution.
 */
export class BackupFailurePhase extends sfn.StateMachineFragment {
  /** The alert. */
  readonly startState: sfn.State;
  /** None: the phase ends the execution. */
  readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: BackupFailurePhaseProps) {
    super(scope, id);
    const alert = alertTask(this, 'AlertRunFailed', {
      topic: props.alertTopic,
      subject: `Backup of Salesforce org ${props.orgName} failed`,
      message: sfn.TaskInput.fromJsonPathAt(
        "States.Format('Backup of org {} failed: {} {}', $.org, $.failure.Error, $.failure.Cause)",
      ),
    });
    alert.next(
      new sfn.Fail(this, 'RunFailed', {
        error: BackupFailure.Failed,
        cause: 'The backup run failed; see the alert for the cause.',
      }),
    );
    this.startState = alert;
  }
}
