/**
 * Mechanical changes that let the interpreter run a synthesized definition locally, without
 * changing what the workflow does:
 * - every Task state is marked with how the runner performs it (an in-process handler, an SNS
 *   callback, the store);
 * - a Distributed Map becomes a Task state the runner performs itself: it reads the items the
 *   ItemReader names from the store and runs the item processor as child executions (the
 *   interpreter has no ItemReader, ResultWriter or child executions). Its InputPath,
 *   ResultSelector, ResultPath, OutputPath, Retry and Catch stay as they were;
 * - Task states without a timeout get the function's own timeout (the interpreter would
 *   otherwise stop them after 60 seconds, which Step Functions does not);
 * - optionally, Retry intervals and Wait durations are scaled down so tests do not wait.
 */
import { type AslDefinition, type AslState, InvalidDefinitionError, isDistributedMap } from './asl.ts';
import type { StateKind } from './history.ts';
import type { LocalFunction } from './synthesize.ts';

/** How the runner performs one Task state. */
export type TaskPlan =
  | { readonly kind: 'lambda-invoke' }
  | { readonly kind: 'lambda'; readonly functionArn: string }
  | { readonly kind: 'sns' }
  | { readonly kind: 's3'; readonly action: string }
  | { readonly kind: 'distributed-map'; readonly map: DistributedMapPlan };

/** A Distributed Map as written, with its item processor prepared as a machine of its own. */
export interface DistributedMapPlan {
  readonly stateName: string;
  readonly state: AslState;
  readonly processor: PreparedMachine;
}

/** A definition ready for the interpreter, with the runner's plan for each Task state. */
export interface PreparedMachine {
  readonly definition: AslDefinition;
  readonly tasks: ReadonlyMap<string, TaskPlan>;
  readonly kinds: ReadonlyMap<string, StateKind>;
}

/** Options of `prepareDefinition`. */
export interface PrepareOptions {
  readonly findFunction: (nameOrArn: string) => LocalFunction | undefined;
  /** Multiplies every Retry interval and MaxDelaySeconds (0 retries at once). @default 1 */
  readonly retryIntervalScale?: number;
  /** Multiplies every Wait state's `Seconds` (0 skips them). @default 1 */
  readonly waitScale?: number;
}

/** Longest timeout the interpreter's timer can hold (just under 2^31 ms). */
const NO_TIMEOUT_SECONDS = 2_000_000;

const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke$/;
const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:[^:]+(:[^:]+)?$/;
const SNS_PUBLISH = /^arn:aws[\w-]*:states:::sns:publish$/;
const S3_SDK = /^arn:aws[\w-]*:states:::aws-sdk:s3:(\w+)$/;

/** Resource of the Task state that stands for a Distributed Map (never sent anywhere). */
export const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::local:distributedMap';

/** Prepares a validated definition; throws `InvalidDefinitionError` listing every unsupported state. */
export function prepareDefinition(definition: AslDefinition, options: PrepareOptions): PreparedMachine {
  const problems: string[] = [];
  const machine = prepareScope(definition, options, problems);
  if (problems.length > 0) {
    throw new InvalidDefinitionError('The state machine uses what the local runner cannot run:', problems);
  }
  return machine;
}

function prepareScope(
  definition: AslDefinition,
  options: PrepareOptions,
  problems: string[],
): PreparedMachine {
  const tasks = new Map<string, TaskPlan>();
  const kinds = new Map<string, StateKind>();
  const definitionCopy = transformScope(definition, options, problems, tasks, kinds);
  return { definition: definitionCopy, tasks, kinds };
}

function transformScope(
  scope: AslDefinition,
  options: PrepareOptions,
  problems: string[],
  tasks: Map<string, TaskPlan>,
  kinds: Map<string, StateKind>,
): AslDefinition {
  const states: Record<string, AslState> = {};
  for (const [name, original] of Object.entries(scope.States)) {
    const state = scaleTimes(structuredClone(original), options);
    if (isDistributedMap(original)) {
      const processor = prepareScope(original.ItemProcessor as AslDefinition, options, problems);
      tasks.set(name, { kind: 'distributed-map', map: { stateName: name, state: original, processor } });
      kinds.set(name, 'distributed-map');
      states[name] = distributedMapAsTask(state);
    } else if (state.Type === 'Map') {
      kinds.set(name, 'inline-map');
      const key = state.ItemProcessor ? 'ItemProcessor' : 'Iterator';
      const processor = state[key] as AslDefinition;
      state[key] = transformScope(processor, options, problems, tasks, kinds);
      states[name] = state;
    } else if (state.Type === 'Parallel') {
      kinds.set(name, 'parallel');
      state.Branches = (state.Branches ?? []).map((b) => transformScope(b, options, problems, tasks, kinds));
      states[name] = state;
    } else if (state.Type === 'Task') {
      kinds.set(name, 'task');
      const plan = planTask(name, state, options, problems);
      if (plan) tasks.set(name, plan);
      if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
        const fn =
          plan?.kind === 'lambda' ? options.findFunction(plan.functionArn) : staticFunction(state, options);
        state.TimeoutSeconds = fn ? fn.timeoutSeconds : NO_TIMEOUT_SECONDS;
      }
      states[name] = state;
    } else {
      kinds.set(name, 'other');
      states[name] = state;
    }
  }
  return { ...scope, States: states };
}

function staticFunction(state: AslState, options: PrepareOptions): LocalFunction | undefined {
  const name = (state.Parameters as Record<string, unknown> | undefined)?.FunctionName;
  return typeof name === 'string' ? options.findFunction(name) : undefined;
}

function planTask(
  name: string,
  state: AslState,
  options: PrepareOptions,
  problems: string[],
): TaskPlan | undefined {
  const resource = state.Resource ?? '';
  if (LAMBDA_INVOKE.test(resource)) {
    const params = state.Parameters as Record<string, unknown> | undefined;
    const functionName = params?.FunctionName;
    if (typeof functionName === 'string') checkFunction(name, functionName, options, problems);
    else if (typeof params?.['FunctionName.$'] !== 'string') {
      problems.push(`Task "${name}" invokes Lambda without a FunctionName parameter.`);
    }
    return { kind: 'lambda-invoke' };
  }
  if (LAMBDA_ARN.test(resource)) {
    checkFunction(name, resource, options, problems);
    return { kind: 'lambda', functionArn: resource };
  }
  if (SNS_PUBLISH.test(resource)) return { kind: 'sns' };
  const s3 = S3_SDK.exec(resource);
  if (s3?.[1]) return { kind: 's3', action: s3[1] };
  problems.push(
    `Task "${name}" uses resource ${resource}; the local runner runs Lambda invokes, sns:publish and aws-sdk:s3 tasks.`,
  );
  return undefined;
}

function checkFunction(
  stateName: string,
  nameOrArn: string,
  options: PrepareOptions,
  problems: string[],
): void {
  if (!options.findFunction(nameOrArn)) {
    problems.push(
      `Task "${stateName}" calls ${nameOrArn}, which is not a function of the app with "sfbackup:entry" metadata (build it with WorkflowFunction).`,
    );
  }
}

function distributedMapAsTask(state: AslState): AslState {
  const kept = [
    'InputPath',
    'ResultSelector',
    'ResultPath',
    'OutputPath',
    'Retry',
    'Catch',
    'Next',
    'End',
    'Comment',
  ];
  const task: AslState = {
    Type: 'Task',
    Resource: DISTRIBUTED_MAP_RESOURCE,
    TimeoutSeconds: NO_TIMEOUT_SECONDS,
  };
  for (const field of kept) {
    if (field in state) task[field] = state[field];
  }
  return task;
}

function scaleTimes(state: AslState, options: PrepareOptions): AslState {
  const retryScale = options.retryIntervalScale;
  if (retryScale !== undefined && state.Retry) {
    state.Retry = state.Retry.map((r) => ({
      ...r,
      IntervalSeconds: (r.IntervalSeconds ?? 1) * retryScale,
      ...(r.MaxDelaySeconds !== undefined ? { MaxDelaySeconds: r.MaxDelaySeconds * retryScale } : {}),
    }));
  }
  if (options.waitScale !== undefined && state.Type === 'Wait' && state.Seconds !== undefined) {
    state.Seconds = state.Seconds * options.waitScale;
  }
  return state;
}
