/** The local runner's entry points: run a synthesized state machine with the real handlers. */
import { fileURLToPath } from 'node:url';
import type { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { BackupStore } from '../../lambdas/core/store.ts';
import { type Json, validateDefinition } from './asl.ts';
import { withScopedEnv } from './env-scope.ts';
import { causeMessage } from './invoke.ts';
import { type ChildFailure, LocalExecutor, type TaskStep } from './execution.ts';
import { type ExecutionHistoryStats, type LocalHistoryEvent, STEP_FUNCTIONS_LIMITS } from './history.ts';
import type { SnsMessage } from './integrations.ts';
import type { LocalFunction, SynthesizedWorkflow } from './synthesize.ts';
import { synthesizeDefinition } from './synthesize.ts';
import { AppPolicies } from './policies.ts';
import { prepareDefinition } from './prepare.ts';
import { registerSecrets, withAwsStandIns } from './stand-ins.ts';

/** Options of `runWorkflow`. */
export interface RunWorkflowOptions {
  /** The synthesized state machine (from `synthesizeDefinition`). */
  readonly workflow: SynthesizedWorkflow;
  /** The execution input, as the console or a schedule would pass it. */
  readonly input: Json;
  /**
   * The store that stands in for the app's bucket(s): Distributed Map ItemReaders read from it,
   * ResultWriters and `aws-sdk:s3` tasks write to it. Handlers reach their store through their
   * own environment (see `env`).
   */
  readonly store: BackupStore;
  /** Variables layered over every function's environment. @default - none */
  readonly env?: Readonly<Record<string, string>>;
  /** Variables for single functions, by logical id, layered over `env`. @default - none */
  readonly functionEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Receives every message a Task state publishes to SNS. @default - only collected in the result */
  readonly onSns?: (message: SnsMessage) => void | Promise<void>;
  /** Receives every interpreter event, of the root execution and of child executions. @default - none */
  readonly onEvent?: (event: LocalHistoryEvent) => void;
  /**
   * Called before each Task state is performed and after it returned, in the root and in child
   * executions. What it throws fails the task, as a Lambda that crashed or timed out before or
   * after its work would (Retry and Catch see the error's name). @default - none
   */
  readonly onTask?: (step: TaskStep) => void | Promise<void>;
  /**
   * Stops the run when aborted, as StopExecution does: no task starts after it, the result of a
   * task that returns after it is dropped, Distributed Map children stop too, and the run resolves
   * ABORTED once every task in flight has returned (their Lambdas would run to the end). @default - none
   */
  readonly signal?: AbortSignal;
  /** Multiplies every Retry interval (0 retries at once, for tests). @default 1 */
  readonly retryIntervalScale?: number;
  /** Multiplies every Wait state's Seconds (0 skips the wait). @default 1 */
  readonly waitScale?: number;
  /** Most child executions a Distributed Map runs at once locally. @default 8 */
  readonly maxConcurrency?: number;
  /** Fail a task whose result passes 256 KB with States.DataLimitExceeded, as Step Functions does. @default true */
  readonly enforcePayloadLimit?: boolean;
  /** What `context.getRemainingTimeInMillis()` counts down from. @default - the function's Timeout */
  readonly lambdaTimeoutMs?: (fn: LocalFunction) => number;
  /** The execution's name. @default - `local-<timestamp>` */
  readonly executionName?: string;
  /** Directory the functions' `sfbackup:entry` paths are relative to. @default - the repository root */
  readonly projectRoot?: string;
  /** Region reported in ARNs and to handlers without `AWS_REGION`. @default 'us-east-1' */
  readonly region?: string;
  /**
   * Authorize every AWS call of the run as AWS would: the state machine's Lambda invokes, SNS
   * publishes and S3 requests for its role, each handler's S3 and Secrets Manager calls for its
   * function's role, against the app's identity, bucket, key, topic and secret policies. A refused
   * call fails with `AccessDenied` naming the role, the action and the resource.
   * @default false
   */
  readonly enforcePolicies?: boolean;
  /**
   * Values the local Secrets Manager answers `GetSecretValue` with (after the policy check), by
   * the secret's logical id or local ARN. Give the functions no credential variables of their own
   * (such as SFBACKUP_INSTANCE_URL) so that they read the secret their template names.
   * Needs `enforcePolicies`.
   * @default - Secrets Manager calls go to AWS
   */
  readonly secrets?: Readonly<Record<string, string>>;
}

const appPolicies = new WeakMap<SynthesizedWorkflow, AppPolicies>();

/** The policies of the workflow's app, read once per synthesized workflow. */
export function policiesOf(workflow: SynthesizedWorkflow, region = 'us-east-1'): AppPolicies {
  let policies = appPolicies.get(workflow);
  if (!policies) {
    policies = new AppPolicies(workflow.stacks, workflow.resolver, region);
    appPolicies.set(workflow, policies);
  }
  return policies;
}

/** A secret's local ARN from its logical id (in any stack of the app) or its ARN. */
function secretArn(workflow: SynthesizedWorkflow, idOrArn: string): string {
  if (idOrArn.startsWith('arn:')) return idOrArn;
  for (const stack of workflow.stacks) {
    if (stack.template.Resources?.[idOrArn]?.Type === 'AWS::SecretsManager::Secret') {
      return String(workflow.resolver.resolve({ Ref: idOrArn }, stack));
    }
  }
  throw new Error(
    `The run's secrets name "${idOrArn}", which is neither a secret ARN nor the logical id of a secret of the app.`,
  );
}

function enforcement(
  workflow: SynthesizedWorkflow,
  region: string,
  secrets: Readonly<Record<string, string>>,
) {
  const policies = policiesOf(workflow, region);
  const role = policies.roleOf(workflow.stackName, workflow.stateMachineLogicalId);
  if (!role) {
    throw new Error(
      `State machine ${workflow.stackName}/${workflow.stateMachineLogicalId} has no RoleArn to run as.`,
    );
  }
  const stack = workflow.resolver.stack(workflow.stackName);
  const stateMachineArn = String(
    stack ? workflow.resolver.resolve({ Ref: workflow.stateMachineLogicalId }, stack) : '',
  );
  registerSecrets(
    policies,
    new Map(
      Object.entries(secrets).map(([id, value]) => [policies.secretArn(secretArn(workflow, id)), value]),
    ),
  );
  const caller = (fn: LocalFunction, session: string) => {
    const principal = policies.roleOf(fn.stackName, fn.logicalId);
    if (!principal) throw new Error(`Function ${fn.stackName}/${fn.logicalId} has no Role to run as.`);
    return { principal, session, policies };
  };
  return { enforce: { policies, role, stateMachineArn }, caller };
}

/** How a local execution ended, and what Step Functions would have recorded for it. */
export interface RunResult {
  /** The execution's name (Distributed Map children are named `<name>/<state>/<index>`). */
  readonly executionName: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly output?: Json;
  /** The ASL error name (a handler's error `name`, or `States.*`). */
  readonly error?: string;
  /**
   * The cause as Step Functions reports it. For a Lambda task that threw, the JSON string
   * `{"errorType","errorMessage","trace"}`; `errorMessage` below holds the message alone.
   */
  readonly cause?: string;
  /** The failure's message: `errorMessage` of a Lambda cause, else the cause itself. */
  readonly errorMessage?: string;
  /** History events and payload sizes, of this execution and its Distributed Map children. */
  readonly history: ExecutionHistoryStats;
  /** Whether the execution stayed within 25,000 events and 256 KB payloads, children included. */
  readonly withinLimits: boolean;
  /** Every SNS message published, in order. */
  readonly snsMessages: readonly SnsMessage[];
  /** Distributed Map child executions that failed, at any depth (tolerated ones included). */
  readonly failedChildExecutions: number;
  /** The first 20 of them, with their error and cause: why a map's items did not get done. */
  readonly childFailures: readonly ChildFailure[];
}

const DEFAULT_PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs a synthesized state machine in the ASL interpreter: Lambda tasks call the real handlers
 * in-process with their CDK environment, Distributed Maps read their items from `store`, SNS
 * publishes go to `onSns`. Throws `InvalidDefinitionError` (listing every problem) when the
 * definition is invalid or uses what the runner cannot run; a failed execution is a result.
 */
export async function runWorkflow(options: RunWorkflowOptions): Promise<RunResult> {
  const { workflow } = options;
  validateDefinition(
    workflow.definition,
    `State machine ${workflow.stackName}/${workflow.stateMachineLogicalId}`,
  );
  const machine = prepareDefinition(workflow.definition, {
    findFunction: (nameOrArn) => workflow.findFunction(nameOrArn),
    ...(options.retryIntervalScale !== undefined ? { retryIntervalScale: options.retryIntervalScale } : {}),
    ...(options.waitScale !== undefined ? { waitScale: options.waitScale } : {}),
  });
  const region = options.region ?? 'us-east-1';
  if (options.secrets && !options.enforcePolicies) {
    throw new Error(
      'A run given secrets must enforce policies (enforcePolicies: true): the secrets are read through the policy check.',
    );
  }
  const enforced = options.enforcePolicies ? enforcement(workflow, region, options.secrets ?? {}) : undefined;
  const snsMessages: SnsMessage[] = [];
  const executor = new LocalExecutor({
    workflow,
    store: options.store,
    region,
    maxConcurrency: options.maxConcurrency ?? 8,
    enforcePayloadLimit: options.enforcePayloadLimit ?? true,
    invoke: {
      projectRoot: options.projectRoot ?? DEFAULT_PROJECT_ROOT,
      region,
      env: options.env ?? {},
      functionEnv: options.functionEnv ?? {},
      ...(options.lambdaTimeoutMs ? { timeoutMs: options.lambdaTimeoutMs } : {}),
      ...(enforced ? { caller: enforced.caller } : {}),
    },
    ...(enforced ? { enforce: enforced.enforce } : {}),
    onSns: async (message) => {
      snsMessages.push(message);
      await options.onSns?.(message);
    },
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.onTask ? { onTask: options.onTask } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const name = options.executionName ?? `local-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const execute = () =>
    withScopedEnv(async () => {
      const ended = await executor.execute(machine, options.input, name);
      await executor.settled();
      return ended;
    });
  // Handlers' AWS calls are seen, and authorized, only while the stand-ins are installed.
  const outcome = await (enforced ? withAwsStandIns(execute) : execute());
  const h = outcome.stats;
  return {
    executionName: name,
    status: outcome.status,
    ...(outcome.output !== undefined ? { output: outcome.output } : {}),
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    ...(outcome.cause !== undefined
      ? { cause: outcome.cause, errorMessage: causeMessage(outcome.cause) }
      : {}),
    history: h,
    withinLimits:
      Math.max(h.events, h.largestChildEvents) <= STEP_FUNCTIONS_LIMITS.historyEvents &&
      Math.max(h.largestPayloadBytes, h.largestChildPayloadBytes) <= STEP_FUNCTIONS_LIMITS.payloadBytes,
    snsMessages,
    failedChildExecutions: executor.failedChildExecutions,
    childFailures: executor.childFailures,
  };
}

/** Options of `runSynthesizedWorkflow`: `runWorkflow`'s, with a stack instead of a workflow. */
export interface RunSynthesizedWorkflowOptions extends Omit<RunWorkflowOptions, 'workflow'> {
  /** A stack of an app built in this process with `aws:cdk:bundling-stacks` set to `[]`. */
  readonly stack: Stack;
  /** The state machine construct, logical id or construct id. @default - the stack's only one */
  readonly stateMachine?: IConstruct | string;
  /** Local bucket names by logical id. @default - lower-cased `<stack>-<logicalId>` */
  readonly bucketNames?: Readonly<Record<string, string>>;
}

/**
 * Synthesizes `stateMachine` of `stack` and runs it locally: the one call the `backup` and
 * `restore` commands need.
 */
export async function runSynthesizedWorkflow(options: RunSynthesizedWorkflowOptions): Promise<RunResult> {
  const { stack, stateMachine, bucketNames, ...rest } = options;
  const workflow = synthesizeDefinition(stack, stateMachine, {
    ...(options.region ? { region: options.region } : {}),
    ...(bucketNames ? { bucketNames } : {}),
  });
  return runWorkflow({ ...rest, workflow });
}
