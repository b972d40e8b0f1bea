import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { invokeTask } from '../support/tasks.ts';
import type { FailingStep, RestorePhase } from './failure-phase.ts';
import { RESTORE_RETRY } from './functions.ts';

/** Props of RestorePlanPhase. */
export interface RestorePlanPhaseProps {
  /** The function that plans against the live org. */
  readonly planFunction: lambda.IFunction;
  /** The function that validates metadata on a dry run (checkOnly). */
  readonly metadataFunction: lambda.IFunction;
  /** What a restore with metadata runs next. */
  readonly metadata: sfn.IChainable;
  /** What a restore without metadata runs next. */
  readonly data: sfn.IChainable;
}

/**
 * Plans the restore against the live org. A dry run stops here with the plan, after validating
 * its metadata without saving anything when it has some; a real run goes on to the metadata or
 * straight to the data.
 */
export class RestorePlanPhase extends sfn.StateMachineFragment implements RestorePhase {
  /** The plan task. */
  readonly startState: sfn.State;
  /** None: a dry run ends here, a real run goes on by itself. */
  readonly endStates: sfn.INextable[] = [];
  /** The steps whose errors end the restore. */
  readonly failingSteps: readonly FailingStep[];

  constructor(scope: Construct, id: string, props: RestorePlanPhaseProps) {
    super(scope, id);
    const run = sfn.JsonPath.objectAt('$.run');
    const plan = invokeTask(this, 'PlanRestore', {
      lambdaFunction: props.planFunction,
      retry: RESTORE_RETRY,
      payload: { run },
      resultPath: '$.plan',
    });
    const dryRunDone = new sfn.Pass(this, 'DryRunPlan', {
      parameters: {
        mode: 'dry-run',
        planKey: sfn.JsonPath.stringAt('$.plan.planKey'),
        totals: sfn.JsonPath.objectAt('$.plan.totals'),
        summary: sfn.JsonPath.stringAt('$.plan.summary'),
      },
    });

    // A dry run with metadata validates it (checkOnly, nothing saved) and reports what it found.
    const startValidation = new sfn.Pass(this, 'StartMetadataValidation', {
      result: sfn.Result.fromObject({ done: false }),
      resultPath: '$.metadata',
    });
    const validateMetadata = invokeTask(this, 'ValidateMetadata', {
      lambdaFunction: props.metadataFunction,
      retry: RESTORE_RETRY,
      payload: { run, progress: sfn.JsonPath.objectAt('$.metadata') },
      resultPath: '$.metadata',
    });
    const dryRunValidated = new sfn.Pass(this, 'DryRunPlanValidated', {
      parameters: {
        mode: 'dry-run',
        planKey: sfn.JsonPath.stringAt('$.plan.planKey'),
        totals: sfn.JsonPath.objectAt('$.plan.totals'),
        summary: sfn.JsonPath.format(
          '{}\n  {}',
          sfn.JsonPath.stringAt('$.plan.summary'),
          sfn.JsonPath.stringAt('$.metadata.report'),
        ),
      },
    });
    validateMetadata.next(
      new sfn.Choice(this, 'MetadataValidated')
        .when(sfn.Condition.booleanEquals('$.metadata.done', true), dryRunValidated)
        .otherwise(
          new sfn.Wait(this, 'WaitForValidation', { time: sfn.WaitTime.duration(Duration.seconds(5)) }).next(
            validateMetadata,
          ),
        ),
    );

    plan.next(
      new sfn.Choice(this, 'IsDryRun')
        .when(
          sfn.Condition.and(
            sfn.Condition.booleanEquals('$.run.dryRun', true),
            sfn.Condition.numberGreaterThan('$.run.metadata', 0),
          ),
          startValidation.next(validateMetadata),
        )
        .when(sfn.Condition.booleanEquals('$.run.dryRun', true), dryRunDone)
        .when(sfn.Condition.numberGreaterThan('$.run.metadata', 0), props.metadata)
        .otherwise(props.data),
    );
    this.failingSteps = [plan, validateMetadata];
    this.startState = plan;
  }
}
