/** Runs a prepared definition in the interpreter, performing its Task states locally. */
import { randomUUID } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';
import type { BackupStore } from '../../lambdas/core/store.ts';
import type { AslDefinition, Json } from './asl.ts';
import { type ChildOutcome, runDistributedMap } from './distributed-map.ts';
import { HistoryCollector, type LocalHistoryEvent, payloadBytes, STEP_FUNCTIONS_LIMITS } from './history.ts';
import { callS3, publishToSns, ServiceIntegrationError, type SnsMessage } from './integrations.ts';
import { type InvokeSettings, invokeHandler } from './invoke.ts';
import { AccessDeniedError, type AppPolicies } from './policies.ts';
import type { PreparedMachine, TaskPlan } from './prepare.ts';
import { authorizeS3, type Requester, type S3Request } from './stand-ins.ts';
import type { SynthesizedWorkflow } from './synthesize.ts';

/** What every execution of one run shares. */
export interface ExecutorSettings {
  readonly workflow: SynthesizedWorkflow;
  readonly store: BackupStore;
  readonly invoke: InvokeSettings;
  readonly region: string;
  readonly maxConcurrency: number;
  /** Fail a task whose result exceeds 256 KB with States.DataLimitExceeded, as Step Functions does. */
  readonly enforcePayloadLimit: boolean;
  readonly onSns: (message: SnsMessage) => void | Promise<void>;
  readonly onEvent?: (event: LocalHistoryEvent) => void;
  /** Called before each task is performed and after it returned; what it throws fails the task. */
  readonly onTask?: (step: TaskStep) => void | Promise<void>;
  /** Stops every execution of the run when aborted, as StopExecution does. */
  readonly signal?: AbortSignal;
  /**
   * The app's policies and the state machine's role, when the run enforces them: every Lambda
   * invoke, SNS publish and S3 request of the definition is then authorized for that role.
   * @default - nothing is authorized
   */
  readonly enforce?: {
    readonly policies: AppPolicies;
    /** The state machine's role. */
    readonly role: string;
    /** The state machine's ARN, which its Distributed Maps start child executions of. */
    readonly stateMachineArn: string;
  };
}

/** Runs `request`, turning a refusal into the task error `name` Step Functions reports. */
async function asTaskError<T>(name: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof AccessDeniedError) throw new ServiceIntegrationError(name, error.message);
    throw error;
  }
}

/** A Task state about to be performed (`before`) or that has returned its result (`after`). */
export interface TaskStep {
  /** The execution's name (Distributed Map children: `<name>/<state>/<index>`). */
  readonly execution: string;
  readonly state: string;
  readonly phase: 'before' | 'after';
  /** What the task returned, on the `after` step (progress reports read counts from it). */
  readonly output?: Json;
}

type MachineDefinition = ConstructorParameters<typeof StateMachine>[0];
type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

/** A Distributed Map child execution that did not succeed. */
export interface ChildFailure {
  readonly execution: string;
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
}

/** How many failed children a run keeps the details of. */
const KEPT_CHILD_FAILURES = 20;

/** Executes definitions (a root execution and Distributed Map children) with one set of settings. */
export class LocalExecutor {
  private readonly machineName: string;
  /** The first failed child executions, in the order they ended. */
  readonly childFailures: ChildFailure[] = [];
  /** Every failed child execution, counted. */
  failedChildExecutions = 0;
  /** Tasks being performed: a stopped run waits for them, as their Lambdas would run to the end. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly settings: ExecutorSettings) {
    this.machineName = `${settings.workflow.stackName}-${settings.workflow.stateMachineLogicalId}`;
  }

  /** Runs `machine` on `input` as the execution `name` and reports how it ended. */
  async execute(machine: PreparedMachine, input: Json, name: string): Promise<ChildOutcome> {
    const collector = new HistoryCollector(name, machine.kinds, this.settings.onEvent);
    const { signal } = this.settings;
    if (signal?.aborted) return { status: 'ABORTED', stats: collector.stats() };
    const handlers: LocalHandlers = {};
    for (const [stateName, plan] of machine.tasks) {
      handlers[stateName] = (taskInput) =>
        this.track(async () => {
          await this.step({ execution: name, state: stateName, phase: 'before' });
          const result = await this.perform(plan, stateName, taskInput as Json, name, collector);
          await this.step({ execution: name, state: stateName, phase: 'after', output: result });
          collector.measure(result, stateName);
          if (
            this.settings.enforcePayloadLimit &&
            payloadBytes(result) > STEP_FUNCTIONS_LIMITS.payloadBytes
          ) {
            throw new ServiceIntegrationError(
              'States.DataLimitExceeded',
              `The result of state "${stateName}" is ${payloadBytes(result)} bytes, more than Step Functions' 262144-byte limit.`,
            );
          }
          return result as never;
        });
    }
    const stateMachine = new StateMachine(machine.definition as unknown as MachineDefinition, {
      validationOptions: { noValidate: true },
    });
    const executionArn = `arn:aws:states:${this.settings.region}:000000000000:execution:${this.machineName}:${name}`;
    const execution = stateMachine.run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers },
      context: {
        Execution: { Id: executionArn, Name: name },
        StateMachine: {
          Id: `arn:aws:states:${this.settings.region}:000000000000:stateMachine:${this.machineName}`,
          Name: this.machineName,
        },
      },
    });
    const draining = (async () => {
      for await (const event of execution.eventLogs) collector.record(event as never);
    })();
    const stop = () => execution.abort();
    signal?.addEventListener('abort', stop, { once: true });
    // The first task starts inside run(), so a stop it asked for came before the listener.
    if (signal?.aborted) stop();
    let outcome: Omit<ChildOutcome, 'stats'>;
    try {
      outcome = { status: 'SUCCEEDED', output: (await execution.result) as Json };
    } catch (error) {
      outcome = describeFailure(error);
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    await draining;
    return { ...outcome, stats: collector.stats() };
  }

  /** Resolves once no task is being performed (tasks a stopped execution left running included). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(task: () => Promise<T>): Promise<T> {
    const running = task();
    this.inFlight.add(running);
    const done = () => this.inFlight.delete(running);
    running.then(done, done);
    return running;
  }

  /** Tells `onTask` about a step; once the run is stopped, no task starts and no result is handed on. */
  private async step(step: TaskStep): Promise<void> {
    await this.settings.onTask?.(step);
    if (this.settings.signal?.aborted) {
      throw new ServiceIntegrationError('States.Runtime', `The execution was stopped at ${step.state}.`);
    }
  }

  private recordChildFailure(execution: string, outcome: ChildOutcome): void {
    this.failedChildExecutions += 1;
    if (this.childFailures.length >= KEPT_CHILD_FAILURES) return;
    this.childFailures.push({
      execution,
      status: outcome.status,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}),
    });
  }

  /** The state machine's role in execution `executionName`, when the run enforces policies. */
  private requester(executionName: string): Requester | undefined {
    const enforce = this.settings.enforce;
    return enforce
      ? { principal: enforce.role, session: executionName, policies: enforce.policies }
      : undefined;
  }

  private async authorize(
    executionName: string,
    errorName: string,
    action: string,
    resource: string,
    context?: Readonly<Record<string, string | readonly string[]>>,
  ): Promise<void> {
    const requester = this.requester(executionName);
    if (!requester) return;
    await asTaskError(errorName, () =>
      requester.policies.authorize({ ...requester, action, resource, ...(context ? { context } : {}) }),
    );
  }

  private async authorizeS3(executionName: string, errorName: string, request: S3Request): Promise<void> {
    const requester = this.requester(executionName);
    if (requester) await asTaskError(errorName, () => authorizeS3(requester, request));
  }

  /** sns:Publish on the topic, and for a topic with a customer key the key's use by the publisher. */
  private async authorizePublish(executionName: string, input: Json): Promise<void> {
    const topic = (input as { TopicArn?: unknown } | null)?.TopicArn;
    const policies = this.settings.enforce?.policies;
    if (typeof topic !== 'string' || !policies) return;
    await this.authorize(executionName, 'SNS.AuthorizationErrorException', 'sns:Publish', topic);
    const key = policies.keyOf(topic);
    if (!key) return;
    const context = {
      'kms:ViaService': `sns.${policies.region}.amazonaws.com`,
      'kms:EncryptionContext:aws:sns:topicArn': topic,
    };
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      await this.authorize(executionName, 'SNS.KMSAccessDeniedException', action, key, context);
    }
  }

  private async perform(
    plan: TaskPlan,
    stateName: string,
    input: Json,
    executionName: string,
    collector: HistoryCollector,
  ): Promise<Json> {
    const { workflow, store } = this.settings;
    switch (plan.kind) {
      case 'lambda': {
        const fn = workflow.findFunction(plan.functionArn);
        if (!fn)
          throw new ServiceIntegrationError(
            'Lambda.ResourceNotFoundException',
            `No function ${plan.functionArn}.`,
          );
        await this.authorize(
          executionName,
          'Lambda.AccessDeniedException',
          'lambda:InvokeFunction',
          plan.functionArn,
        );
        return invokeHandler(fn, input, this.settings.invoke);
      }
      case 'lambda-invoke': {
        const params = (input ?? {}) as Record<string, Json>;
        const functionName = String(params.FunctionName);
        const fn = workflow.findFunction(functionName);
        if (!fn) {
          throw new ServiceIntegrationError(
            'Lambda.ResourceNotFoundException',
            `State "${stateName}" invokes ${functionName}, which is not a function of the app with entry metadata.`,
          );
        }
        await this.authorize(
          executionName,
          'Lambda.AccessDeniedException',
          'lambda:InvokeFunction',
          functionName.startsWith('arn:') ? functionName : fn.arn,
        );
        const payload = await invokeHandler(fn, params.Payload ?? {}, this.settings.invoke);
        return {
          ExecutedVersion: '$LATEST',
          Payload: payload,
          SdkHttpMetadata: { HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: randomUUID() },
          StatusCode: 200,
        };
      }
      case 'sns':
        await this.authorizePublish(executionName, input);
        return publishToSns(input, stateName, workflow.resolver, this.settings.onSns);
      case 's3':
        return callS3(plan.action, input, stateName, store, workflow.resolver, (request) =>
          this.authorizeS3(executionName, 'S3.AccessDeniedException', request),
        );
      case 'distributed-map':
        return runDistributedMap(plan.map, input, {
          store,
          resolver: workflow.resolver,
          region: this.settings.region,
          executionName,
          maxConcurrency: this.settings.maxConcurrency,
          evaluate: evaluatePayloadTemplate,
          runChild: async (processor, childInput, childName) => {
            const outcome = await this.execute(processor, childInput, childName);
            if (outcome.status !== 'SUCCEEDED') this.recordChildFailure(childName, outcome);
            return outcome;
          },
          onChild: (stats) => collector.addChild(stats),
          onItems: (items) =>
            collector.record({ type: 'MapRunStarted', state: { name: stateName, type: 'Map' }, items }),
          authorizeS3: (request) =>
            this.authorizeS3(
              executionName,
              request.operation === 'PutObject' ? 'States.ResultWriterFailed' : 'States.ItemReaderFailed',
              request,
            ),
          authorizeChildren: () =>
            this.authorize(
              executionName,
              'States.Runtime',
              'states:StartExecution',
              this.settings.enforce?.stateMachineArn ?? '',
            ),
        });
    }
  }
}

function describeFailure(error: unknown): Omit<ChildOutcome, 'stats'> {
  if (error instanceof ExecutionError) {
    const cause = error.cause as Error | undefined;
    return { status: 'FAILED', error: cause?.name ?? 'Error', cause: cause?.message ?? error.message };
  }
  if (error instanceof ExecutionTimeoutError) {
    return {
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: 'The execution ran longer than its TimeoutSeconds.',
    };
  }
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  throw error;
}

/**
 * Evaluates a JSONPath payload template (`{"key.$": "$.path"}`, intrinsic functions included)
 * with the interpreter itself, through a one-state machine, so a Distributed Map's ItemSelector
 * and ItemReader parameters mean exactly what they mean in a Map the interpreter runs.
 */
export async function evaluatePayloadTemplate(
  template: Json,
  input: Json,
  item?: { Index: number; Value: Json },
): Promise<Json> {
  const definition: AslDefinition = {
    StartAt: 'Evaluate',
    States: { Evaluate: { Type: 'Pass', Parameters: template, End: true } },
  };
  const machine = new StateMachine(definition as unknown as MachineDefinition, {
    validationOptions: { noValidate: true },
  });
  const execution = machine.run(input as never, item ? { context: { Map: { Item: item } } } : {});
  try {
    return (await execution.result) as Json;
  } catch (error) {
    if (error instanceof ExecutionError && error.cause instanceof Error) throw error.cause;
    throw error;
  }
}
