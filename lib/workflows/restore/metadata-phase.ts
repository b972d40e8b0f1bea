import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { invokeTask } from '../support/tasks.ts';
import type { FailingStep, RestorePhase } from './failure-phase.ts';
import { RESTORE_RETRY } from './functions.ts';

/** Props of RestoreMetadataPhase. */
export interface RestoreMetadataPhaseProps {
  /** The function that deploys metadata, validated first. */
  readonly metadataFunction: lambda.IFunction;
  /** What runs once the deployment is done: the data. */
  readonly next: sfn.IChainable;
}

/**
 * Deploys the snapshot's metadata and polls until the deployment is done: objects and fields
 * must exist before rows can be written into them.
 */
export class RestoreMetadataPhase extends sfn.StateMachineFragment implements RestorePhase {
  /** The state that starts the deployment's progress. */
  readonly startState: sfn.State;
  /** None: the phase goes on to `next` itself. */
  readonly endStates: sfn.INextable[] = [];
  /** The steps whose errors end the restore. */
  readonly failingSteps: readonly FailingStep[];

  constructor(scope: Construct, id: string, props: RestoreMetadataPhaseProps) {
    super(scope, id);
    const startMetadata = new sfn.Pass(this, 'StartMetadata', {
      result: sfn.Result.fromObject({ done: false }),
      resultPath: '$.metadata',
    });
    const deploy = invokeTask(this, 'RestoreMetadata', {
      lambdaFunction: props.metadataFunction,
      retry: RESTORE_RETRY,
      payload: { run: sfn.JsonPath.objectAt('$.run'), progress: sfn.JsonPath.objectAt('$.metadata') },
      resultPath: '$.metadata',
    });
    const waitForDeploy = new sfn.Wait(this, 'WaitForDeploy', {
      time: sfn.WaitTime.duration(Duration.seconds(5)),
    });
    deploy.next(
      new sfn.Choice(this, 'MetadataDone')
        .when(sfn.Condition.booleanEquals('$.metadata.done', true), props.next)
        .otherwise(waitForDeploy.next(deploy)),
    );
    startMetadata.next(deploy);
    this.failingSteps = [deploy];
    this.startState = startMetadata;
  }
}
