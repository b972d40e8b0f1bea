import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { RESTORE_INPUT_REJECTED_ERRORS } from '../../../contract/workflow-contract.ts';
import { invokeTask } from '../support/tasks.ts';
import type { FailingStep, RestorePhase } from './failure-phase.ts';
import { RESTORE_RETRY } from './functions.ts';

/** Props of RestoreInputPhase. */
export interface RestoreInputPhaseProps {
  /** The function that validates the input against the org and the snapshot. */
  readonly validateFunction: lambda.IFunction;
}

/**
 * Validates the execution input before anything else; a rejected input ends the execution at
 * once, with nothing written and without the failure path (no lease to free, no second alert: the
 * failed execution raises the workflow's alert). Its output, the run, replaces the state.
 */
export class RestoreInputPhase extends sfn.StateMachineFragment implements RestorePhase {
  /** The state that wraps the input. */
  readonly startState: sfn.State;
  /** The validation. */
  readonly endStates: sfn.INextable[];
  /** The steps whose errors end the restore. */
  readonly failingSteps: readonly FailingStep[];

  constructor(scope: Construct, id: string, props: RestoreInputPhaseProps) {
    super(scope, id);
    // The input is wrapped first so that any input, even one that is not an object (null, a
    // string, a list), reaches the validation, which names what is wrong with it. It is read from
    // the context object: a path into the state itself cannot select a null input.
    const readInput = new sfn.Pass(this, 'ReadInput', {
      parameters: { input: sfn.JsonPath.objectAt('$$.Execution.Input') },
    });
    const validate = invokeTask(this, 'ValidateInput', {
      lambdaFunction: props.validateFunction,
      retry: RESTORE_RETRY,
      payload: {
        input: sfn.JsonPath.objectAt('$.input'),
        executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
      },
    });
    validate.addCatch(
      new sfn.Fail(this, 'InputRejected', { errorPath: '$.error.Error', causePath: '$.error.Cause' }),
      { errors: [...RESTORE_INPUT_REJECTED_ERRORS], resultPath: '$.error' },
    );
    readInput.next(validate);
    this.failingSteps = [validate];
    this.startState = readInput;
    this.endStates = [validate];
  }
}
