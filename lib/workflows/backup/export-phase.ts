import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { Duration } from 'aws-cdk-lib';
import { LAMBDA_CRASH_ERRORS } from '../../../contract/workflow-contract.ts';
import { invokeTask } from '../support/tasks.ts';
import { BACKUP_RETRY } from './functions.ts';

/** Props of BackupExportPhase. */
export interface BackupExportPhaseProps {
  /** The vault, where the plan lists the objects. */
  readonly bucket: s3.IBucket;
  /** The function that exports one object, a checkpoint at a time. */
  readonly exportFunction: lambda.IFunction;
  /** The function that compares an exported object with the chain. */
  readonly compareFunction: lambda.IFunction;
  /** The function that records an object's permanent failure. */
  readonly recordFailureFunction: lambda.IFunction;
  /** Objects exported at once. */
  readonly maxConcurrency: number;
  /**
   * Workers exporting one large object's result pages at once, at most (the org's `exportWorkers`
   * setting decides how many an object gets).
   * @default 16
   */
  readonly maxWorkersPerObject?: number;
}

/**
 * Exports every object of the plan with a Distributed Map. Each object loops on its checkpoints;
 * a permanent failure is recorded, not thrown, so the other objects go on.
 */
export class BackupExportPhase extends sfn.StateMachineFragment {
  /** The Distributed Map. */
  readonly startState: sfn.State;
  /** The Distributed Map, which discards its results. */
  readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: BackupExportPhaseProps) {
    super(scope, id);
    // The whole state goes in: the first time {org, snapshotId, object}, then the previous output with its checkpoint.
    const exportTask = invokeTask(this, 'ExportObject', {
      lambdaFunction: props.exportFunction,
      retry: BACKUP_RETRY,
    });
    const recordFailure = invokeTask(this, 'RecordObjectFailure', {
      lambdaFunction: props.recordFailureFunction,
      retry: BACKUP_RETRY,
      payload: {
        'org.$': '$.org',
        'snapshotId.$': '$.snapshotId',
        'object.$': '$.object',
        'error.$': '$.error',
      },
    }).next(new sfn.Pass(this, 'ObjectFailed', { result: sfn.Result.fromObject({}) }));
    exportTask.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    // Once exported, the object is compared with the chain: its changes by kind feed the alerts.
    // A comparison that fails for good leaves the backup as it is; the finish says it is missing.
    const compareTask = invokeTask(this, 'CompareObject', {
      lambdaFunction: props.compareFunction,
      retry: BACKUP_RETRY,
      payload: { 'org.$': '$.org', 'snapshotId.$': '$.snapshotId', 'object.$': '$.object' },
    });
    const exported = new sfn.Pass(this, 'ObjectExported', { result: sfn.Result.fromObject({}) });
    compareTask.addCatch(new sfn.Pass(this, 'ComparisonFailed', { result: sfn.Result.fromObject({}) }), {
      errors: [sfn.Errors.ALL],
      resultPath: sfn.JsonPath.DISCARD,
    });
    // A large object's result pages go to workers, each looping on its own share; the object's
    // export then runs once more to gather their parts. A worker failing for good fails the object.
    const workerTask = invokeTask(this, 'ExportPages', {
      lambdaFunction: props.exportFunction,
      retry: BACKUP_RETRY,
    });
    // A worker that died is run again from its checkpoint: its parts are written under new names,
    // and only those its result lists count. Twice at most, so one that always dies fails the object.
    workerTask.addRetry({
      errors: [...LAMBDA_CRASH_ERRORS],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 2,
    });
    const workerLoop = workerTask.next(
      new sfn.Choice(this, 'PagesDone?')
        .when(sfn.Condition.booleanEquals('$.done', true), new sfn.Succeed(this, 'WorkerDone'))
        .otherwise(workerTask),
    );
    const workers = new sfn.Map(this, 'ExportWithWorkers', {
      itemsPath: '$.parallel.workers',
      itemSelector: {
        'org.$': '$.org',
        'snapshotId.$': '$.snapshotId',
        'object.$': '$.object',
        'worker.$': '$$.Map.Item.Value',
      },
      maxConcurrency: props.maxWorkersPerObject ?? 16,
      resultPath: sfn.JsonPath.DISCARD,
    });
    workers.itemProcessor(workerLoop);
    workers.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    workers.next(exportTask);
    const exportLoop = exportTask.next(
      new sfn.Choice(this, 'ObjectDone?')
        .when(sfn.Condition.booleanEquals('$.done', true), compareTask.next(exported))
        .when(sfn.Condition.isPresent('$.parallel'), workers)
        .otherwise(exportTask),
    );
    const exportMap = new sfn.DistributedMap(this, 'ExportObjects', {
      itemReader: new sfn.S3JsonItemReader({ bucket: props.bucket, key: sfn.JsonPath.stringAt('$.planKey') }),
      itemSelector: {
        'org.$': '$.org',
        'snapshotId.$': '$.snapshotId',
        'object.$': '$$.Map.Item.Value.object',
      },
      maxConcurrency: props.maxConcurrency,
      toleratedFailurePercentage: 100,
      resultPath: sfn.JsonPath.DISCARD,
    });
    exportMap.itemProcessor(exportLoop);
    this.startState = exportMap;
    this.endStates = [exportMap];
  }
}
