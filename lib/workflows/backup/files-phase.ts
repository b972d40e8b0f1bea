import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { Duration } from 'aws-cdk-lib';
import { LAMBDA_CRASH_ERRORS } from '../../../contract/workflow-contract.ts';
import { invokeTask } from '../support/tasks.ts';
import { BACKUP_RETRY } from './functions.ts';

/** Props of BackupFilesPhase. */
export interface BackupFilesPhaseProps {
  /** The vault, where the files plan lists the batches. */
  readonly bucket: s3.IBucket;
  /** The function that plans the file downloads. */
  readonly filesPlanFunction: lambda.IFunction;
  /** The function that downloads one batch of file bodies. */
  readonly filesFunction: lambda.IFunction;
  /** The function that records a batch's permanent failure. */
  readonly recordFailureFunction: lambda.IFunction;
  /** File batches fetched at once. */
  readonly maxConcurrency: number;
  /** Where a failed step goes, with the error at `$.stepFailure`. */
  readonly onFailure: sfn.IChainable;
  /** What runs once the files are fetched, or when there are none. */
  readonly next: sfn.IChainable;
}

/**
 * Plans the file downloads (in as many invocations as it takes) and fetches them in batches with a Distributed Map; a batch that
 * fails for good is recorded so the others go on.
 */
export class BackupFilesPhase extends sfn.StateMachineFragment {
  /** The files plan task. */
  readonly startState: sfn.State;
  /** None: the phase goes on to `next` itself. */
  readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: BackupFilesPhaseProps) {
    super(scope, id);
    // The plan runs in steps, each answering how many have run, until one answers done.
    const startPlan = new sfn.Pass(this, 'StartFilesPlan', {
      result: sfn.Result.fromObject({ step: 0 }),
      resultPath: '$.files',
    });
    const planFiles = invokeTask(this, 'PlanFiles', {
      lambdaFunction: props.filesPlanFunction,
      retry: BACKUP_RETRY,
      payload: { 'org.$': '$.org', 'snapshotId.$': '$.snapshotId', 'step.$': '$.files.step' },
      resultPath: '$.files',
    });
    // A batch of large bodies may outlast one invocation: it answers where to go on until done.
    const filesTask = invokeTask(this, 'BackupFiles', {
      lambdaFunction: props.filesFunction,
      retry: BACKUP_RETRY,
      payload: {
        'org.$': '$.org',
        'snapshotId.$': '$.snapshotId',
        'batch.$': '$.batch',
        'from.$': '$.from',
      },
    });
    const recordFailure = invokeTask(this, 'RecordFilesFailure', {
      lambdaFunction: props.recordFailureFunction,
      retry: BACKUP_RETRY,
      payload: {
        'org.$': '$.org',
        'snapshotId.$': '$.snapshotId',
        'batch.$': '$.batch',
        'error.$': '$.error',
      },
    }).next(new sfn.Pass(this, 'FilesBatchFailed', { result: sfn.Result.fromObject({}) }));
    // A plan step or a batch invocation that died or timed out is run again (twice at most): a plan
    // step writes again only what it wrote before, a batch goes on from its last recorded stop.
    for (const step of [planFiles, filesTask])
      step.addRetry({
        errors: [...LAMBDA_CRASH_ERRORS],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 2,
      });
    filesTask.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const filesMap = new sfn.DistributedMap(this, 'BackupFileBatches', {
      itemReader: new sfn.S3JsonItemReader({
        bucket: props.bucket,
        key: sfn.JsonPath.stringAt('$.files.filesPlanKey'),
      }),
      itemSelector: {
        'org.$': '$.org',
        'snapshotId.$': '$.snapshotId',
        'batch.$': '$$.Map.Item.Value.batch',
        from: 0,
      },
      maxConcurrency: props.maxConcurrency,
      toleratedFailurePercentage: 100,
      resultPath: sfn.JsonPath.DISCARD,
    });
    filesMap.itemProcessor(
      filesTask.next(
        new sfn.Choice(this, 'FilesBatchFetched?')
          .when(
            sfn.Condition.booleanEquals('$.done', true),
            new sfn.Pass(this, 'FilesBatchDone', { result: sfn.Result.fromObject({}) }),
          )
          .otherwise(filesTask),
      ),
    );
    // A failed step still reaches the finish, which records the run as failed with what is missing.
    for (const step of [planFiles, filesMap]) {
      step.addCatch(props.onFailure, { errors: [sfn.Errors.ALL], resultPath: '$.stepFailure' });
    }
    const toFetch = new sfn.Choice(this, 'FilesToFetch?')
      .when(sfn.Condition.numberGreaterThan('$.files.batches', 0), filesMap.next(props.next))
      .otherwise(props.next);
    startPlan
      .next(planFiles)
      .next(
        new sfn.Choice(this, 'FilesPlanned?')
          .when(sfn.Condition.booleanEquals('$.files.done', true), toFetch)
          .otherwise(planFiles),
      );
    this.startState = startPlan;
  }
}
