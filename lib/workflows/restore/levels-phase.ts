import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { invokeTask } from '../support/tasks.ts';
import type { FailingStep, RestorePhase } from './failure-phase.ts';
import { RESTORE_RETRY } from './functions.ts';

/** Props of RestoreLevelsPhase. */
export interface RestoreLevelsPhaseProps {
  /** The function that lists the objects of one level. */
  readonly levelFunction: lambda.IFunction;
  /** The function that restores one object, a batch at a time. */
  readonly objectFunction: lambda.IFunction;
}

/**
 * Restores the objects level by level, parents first, with a Distributed Map per level, then
 * closes the reference cycles in a second pass.
 */
export class RestoreLevelsPhase extends sfn.StateMachineFragment implements RestorePhase {
  /** The state that starts at the first level. */
  readonly startState: sfn.State;
  /** The second pass. */
  readonly endStates: sfn.INextable[];
  /** The steps whose errors end the restore. */
  readonly failingSteps: readonly FailingStep[];

  constructor(scope: Construct, id: string, props: RestoreLevelsPhaseProps) {
    super(scope, id);
    const firstLevel = new sfn.Pass(this, 'FirstLevel', {
      result: sfn.Result.fromObject({ level: 0 }),
      resultPath: '$.cursor',
    });
    const nextLevel = invokeTask(this, 'NextLevel', {
      lambdaFunction: props.levelFunction,
      retry: RESTORE_RETRY,
      payload: { run: sfn.JsonPath.objectAt('$.run'), level: sfn.JsonPath.numberAt('$.cursor.level') },
      resultPath: '$.level',
    });
    const restoreLevel = this.objectMap('RestoreLevel', props.objectFunction, '$.level.objects', 'main');
    const advanceLevel = new sfn.Pass(this, 'AdvanceLevel', {
      parameters: { level: sfn.JsonPath.numberAt('$.level.next') },
      resultPath: '$.cursor',
    });
    const secondPass = this.objectMap(
      'RestoreSecondPass',
      props.objectFunction,
      '$.plan.secondPass',
      'second-pass',
    );
    firstLevel
      .next(nextLevel)
      .next(
        new sfn.Choice(this, 'AllLevelsDone')
          .when(sfn.Condition.booleanEquals('$.level.done', true), secondPass)
          .otherwise(restoreLevel.next(advanceLevel).next(nextLevel)),
      );
    this.failingSteps = [nextLevel, restoreLevel, secondPass];
    this.startState = firstLevel;
    this.endStates = [secondPass];
  }

  /** A Distributed Map over object names that restores each object until it reports done. */
  private objectMap(
    id: string,
    objectFunction: lambda.IFunction,
    itemsPath: string,
    phase: string,
  ): sfn.DistributedMap {
    // The whole item goes in the first time, then the previous output with its cursor.
    const step = invokeTask(this, `${id}Object`, { lambdaFunction: objectFunction, retry: RESTORE_RETRY });
    const loop = step.next(
      new sfn.Choice(this, `${id}ObjectFinished`)
        .when(sfn.Condition.booleanEquals('$.done', true), new sfn.Succeed(this, `${id}ObjectDone`))
        .otherwise(step),
    );
    const map = new sfn.DistributedMap(this, id, {
      itemsPath,
      itemSelector: {
        run: sfn.JsonPath.objectAt('$.run'),
        object: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
        phase,
        cursor: 0,
      },
      maxConcurrency: 10,
      resultPath: sfn.JsonPath.DISCARD,
    });
    map.itemProcessor(loop);
    return map;
  }
}
