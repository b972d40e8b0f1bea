import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { invokeTask } from '../support/tasks.ts';
import { BACKUP_RETRY } from './functions.ts';

/** Props of BackupMetadataPhase. */
export interface BackupMetadataPhaseProps {
  /** The function that lists the org's metadata. */
  readonly metadataPlanFunction: lambda.IFunction;
  /** The function that retrieves one chunk of metadata. */
  readonly metadataFunction: lambda.IFunction;
  /** Where a failed step goes, with the error at `$.stepFailure`. */
  readonly onFailure: sfn.IChainable;
  /** What runs once every chunk is retrieved. */
  readonly next: sfn.IChainable;
}

/** Lists the org's metadata, then retrieves it chunk by chunk until the retrieve reports done. */
export class BackupMetadataPhase extends sfn.StateMachineFragment {
  /** The metadata plan task. */
  readonly startState: sfn.State;
  /** None: the phase goes on to `next` itself. */
  readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: BackupMetadataPhaseProps) {
    super(scope, id);
    const planMetadata = invokeTask(this, 'PlanMetadata', {
      lambdaFunction: props.metadataPlanFunction,
      retry: BACKUP_RETRY,
      payload: { 'org.$': '$.org', 'snapshotId.$': '$.snapshotId' },
      resultPath: '$.metadata',
    });
    const retrieve = invokeTask(this, 'RetrieveMetadata', {
      lambdaFunction: props.metadataFunction,
      retry: BACKUP_RETRY,
      payload: {
        'org.$': '$.metadata.org',
        'snapshotId.$': '$.metadata.snapshotId',
        'chunk.$': '$.metadata.chunk',
        'chunks.$': '$.metadata.chunks',
        'done.$': '$.metadata.done',
      },
      resultPath: '$.metadata',
    });
    // A failed step still reaches the finish, which records the run as failed with what is missing.
    for (const step of [planMetadata, retrieve]) {
      step.addCatch(props.onFailure, { errors: [sfn.Errors.ALL], resultPath: '$.stepFailure' });
    }
    const metadataLoop = new sfn.Choice(this, 'MetadataDone?')
      .when(sfn.Condition.booleanEquals('$.metadata.done', true), props.next)
      .otherwise(retrieve);
    retrieve.next(metadataLoop);
    planMetadata.next(metadataLoop);
    this.startState = planMetadata;
  }
}
