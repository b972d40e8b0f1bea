/**
 * The one run path of the workflow commands: synthesize the command's CDK app, run its state
 * machine in the local interpreter with the environment a local run gives the handlers, and, for
 * the command line, parse the options and print the report.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { EnvName } from '../../contract/workflow-contract.ts';
import { createStore } from '../../lambdas/adapters/create-store.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
// The local runner and the CDK are loaded when a run starts, not when a command line is checked:
// a bad command line is answered without them.
import type {
  Json,
  LocalFunction,
  LocalHistoryEvent,
  RunResult,
  SnsMessage,
  SynthesizedTemplates,
  SynthesizedWorkflow,
  TaskStep,
} from '../local/index.ts';
import {
  cachedTemplates,
  definitionCacheDir,
  definitionCacheKey,
  PROJECT_ROOT,
  sourcesDigest,
} from '../local/definition-cache.ts';
import type { LocalApp } from './local-app.ts';
import { withProgressLine } from './progress.ts';
import { heldOrgKey } from './vault-read.ts';
import {
  describeProblems,
  type LocalStoreSpec,
  type OptionSpecs,
  type OptionValues,
  type OrgConnection,
  parseCommandLine,
  readCommonOptions,
  resolveOrgKey,
  type COMMON_OPTIONS,
} from './options.ts';

/** What a caller of any local workflow run gives: the org, the vault, and how to run and report. */
export interface LocalRunOptions extends OrgConnection {
  readonly store: LocalStoreSpec;
  /** The org key in the vault. @default - the org id, lower-cased, from the identity endpoint */
  readonly org?: string;
  /** Multiplies Retry intervals (1 waits as deployed). @default 0.02 */
  readonly retryIntervalScale?: number;
  /** Child executions a Distributed Map runs at once locally. @default 8 */
  readonly maxConcurrency?: number;
  /** @default - `local-<timestamp>` */
  readonly executionName?: string;
  readonly onSns?: (message: SnsMessage) => void;
  /** Receives what a person should know before the run starts, such as a new backup chain. @default - none */
  readonly onNotice?: (text: string) => void;
  /** Receives every interpreter event (tests and diagnostics). @default - none */
  readonly onEvent?: (event: LocalHistoryEvent) => void;
  /** Called before and after each task; what it throws fails the task (see `runWorkflow`). @default - none */
  readonly onTask?: (step: TaskStep) => void | Promise<void>;
  /** Stops the execution when aborted, as StopExecution does (see `runWorkflow`). @default - none */
  readonly signal?: AbortSignal;
  /**
   * Authorize every AWS call of the run against the app's policies, as AWS would (see
   * docs/local-runner.md). @default false
   */
  readonly enforcePolicies?: boolean;
  /**
   * Run the functions with only their template's credentials setting, the secret's ARN: a local
   * Secrets Manager answers `GetSecretValue` (after the policy check) with these secret values,
   * as `credentialsFromSecret` reads them (`{"flow":"client-credentials","loginUrl",...}`).
   * `instanceUrl` and `accessToken` then only name the org. Needs `enforcePolicies`.
   * @default - the functions get the access tokens in their environment
   */
  readonly secrets?: { readonly org: string; readonly drill?: string };
  /**
   * What each function's `context.getRemainingTimeInMillis()` counts down from (a short one makes
   * a step that keeps its progress stop early and run again). @default - the function's Timeout
   */
  readonly lambdaTimeoutMs?: (fn: LocalFunction) => number;
}

/**
 * Options of `runLocalWorkflow`: the caller's, and what the command adds for its workflow. A
 * workflow that works on the vault alone (an erasure) runs without a connection to the org; then
 * `org` must be given.
 */
export interface LocalWorkflowOptions
  extends Omit<LocalRunOptions, keyof OrgConnection>,
    Partial<OrgConnection> {
  /**
   * `org` is the vault's key already (the caller looked it up, as `heldOrgKey` does): not looked
   * up again. @default false
   */
  readonly orgHeld?: boolean;
  /** Builds the app for the resolved org key. */
  readonly app: (org: string) => LocalApp;
  /**
   * What tells one build of the app from another besides the org and the bucket (the workflow
   * and its settings): synthesis takes seconds, so each distinct app is synthesized once per process.
   */
  readonly appKey: string;
  /**
   * Checks the vault once the org key is known, before the (slow) synthesis: it may tell the
   * person something (onNotice) or refuse the run by throwing. @default - none
   */
  readonly beforeSynthesis?: (org: string, store: BackupStore) => Promise<void>;
  /** The execution input for the resolved org key. */
  readonly input: (org: string) => Json;
  /** A second org the workflow may write to (a restore drill's sandbox). @default - none */
  readonly drill?: OrgConnection;
  /** The command's own variables for every handler. @default - none */
  readonly env?: Readonly<Record<string, string>>;
  /** Let the handlers log at INFO. @default false */
  readonly verbose?: boolean;
  /** Multiplies Wait states' seconds. @default 1 */
  readonly waitScale?: number;
}

/** What a local run left behind: the org key it used, the store it wrote, the runner's result. */
export interface LocalWorkflowRun {
  readonly org: string;
  readonly store: BackupStore;
  readonly result: RunResult;
  /** When the execution was started, ISO 8601. */
  readonly startedAt: string;
}

const synthesizedApps = new Map<string, SynthesizedWorkflow>();

/**
 * Runs one workflow locally: resolves the org key, synthesizes the app (once per process for each
 * distinct app) and runs its state machine with the real handlers in-process, each seeing its CDK
 * environment with the local connection and vault layered over it.
 */
export async function runLocalWorkflow(options: LocalWorkflowOptions): Promise<LocalWorkflowRun> {
  const store = createStore(options.store);
  const org =
    options.org !== undefined
      ? options.orgHeld
        ? options.org
        : await heldOrgKey(store, options.org)
      : await resolveOrgKey(connectionOf(options));
  await options.beforeSynthesis?.(org, store);
  const s3 = typeof options.store === 'string' ? undefined : options.store.s3;
  const { runWorkflow, synthesizeTemplates, workflowFromTemplates } = await import('../local/index.ts');
  const workflow = synthesized([options.appKey, org, s3?.bucket ?? ''], workflowFromTemplates, () => {
    const app = options.app(org);
    const bucketId = app.stack.getLogicalId(app.bucket.node.defaultChild as CfnElement);
    return synthesizeTemplates(
      app.stack,
      app.workflow.stateMachine,
      s3 ? { bucketNames: { [bucketId]: s3.bucket } } : {},
    );
  });
  const startedAt = new Date().toISOString();
  const result = await runWorkflow({
    workflow,
    input: options.input(org),
    store,
    env: localEnvironment(options),
    retryIntervalScale: options.retryIntervalScale ?? 0.02,
    ...(options.waitScale !== undefined ? { waitScale: options.waitScale } : {}),
    ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
    ...(options.executionName ? { executionName: options.executionName } : {}),
    ...(options.onSns ? { onSns: options.onSns } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.onTask ? { onTask: options.onTask } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.enforcePolicies ? { enforcePolicies: true } : {}),
    ...(options.secrets ? { secrets: secretValues(workflow, options.secrets) } : {}),
    ...(options.lambdaTimeoutMs ? { lambdaTimeoutMs: options.lambdaTimeoutMs } : {}),
  });
  return { org, store, result, startedAt };
}

/** The org connection of a run that needs one to find its org key. */
function connectionOf(options: Partial<OrgConnection>): OrgConnection {
  if (options.instanceUrl === undefined || options.accessToken === undefined)
    throw new Error('A local run without a connection to the org must name the org key (org).');
  return { instanceUrl: options.instanceUrl, accessToken: options.accessToken };
}

let digest: string | undefined;

/**
 * The app built from `inputs`, synthesized once per process and kept on disk across runs (see
 * definition-cache.ts): a second run of the same app on unchanged sources skips the synthesis.
 */
function synthesized(
  inputs: readonly string[],
  fromTemplates: (templates: SynthesizedTemplates) => SynthesizedWorkflow,
  synthesize: () => SynthesizedTemplates,
): SynthesizedWorkflow {
  const memo = inputs.join('\n');
  let workflow = synthesizedApps.get(memo);
  if (!workflow) {
    digest ??= sourcesDigest(PROJECT_ROOT);
    const key = definitionCacheKey(inputs, digest);
    workflow = fromTemplates(cachedTemplates(definitionCacheDir(), key, synthesize));
    synthesizedApps.set(memo, workflow);
  }
  return workflow;
}

/** The secret values by the ARNs the functions' environments name (the org's and the drill's). */
function secretValues(
  workflow: SynthesizedWorkflow,
  secrets: NonNullable<LocalRunOptions['secrets']>,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const fn of workflow.functions.values()) {
    const org = fn.environment[EnvName.OrgSecretArn];
    const drill = fn.environment[EnvName.DrillSecretArn];
    if (org) values[org] = secrets.org;
    if (drill && secrets.drill !== undefined) values[drill] = secrets.drill;
  }
  return values;
}

/** The variables a local run layers over every function's environment, in place of a deployment's. */
function localEnvironment(options: LocalWorkflowOptions): Record<string, string> {
  const { drill, store } = options;
  const s3 = typeof store === 'string' ? undefined : store.s3;
  return {
    // An access token stands in for the Secrets Manager secret a deployed function reads, unless
    // the run answers the secrets themselves (or works on the vault alone).
    ...(options.secrets || options.instanceUrl === undefined || options.accessToken === undefined
      ? {}
      : {
          [EnvName.LocalInstanceUrl]: options.instanceUrl,
          [EnvName.LocalAccessToken]: options.accessToken,
        }),
    ...(drill && !options.secrets
      ? {
          [EnvName.LocalDrillInstanceUrl]: drill.instanceUrl,
          [EnvName.LocalDrillAccessToken]: drill.accessToken,
        }
      : {}),
    // Powertools' own variables: no CloudWatch here, and handler logs only when asked for.
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: options.verbose ? 'INFO' : 'SILENT',
    ...(typeof store === 'string' ? { [EnvName.LocalStoreDir]: store } : {}),
    // The local key is not a real KMS key: an S3-compatible server uses its bucket's default.
    ...(s3?.endpoint ? { [EnvName.S3Endpoint]: s3.endpoint, [EnvName.VaultKeyArn]: '' } : {}),
    ...options.env,
  };
}

/** A run's execution figures as the summaries print them: the largest of the execution and its children. */
export function executionFigures(result: RunResult): {
  historyEvents: number;
  largestPayloadBytes: number;
  withinLimits: boolean;
} {
  return {
    historyEvents: Math.max(result.history.events, result.history.largestChildEvents),
    largestPayloadBytes: Math.max(
      result.history.largestPayloadBytes,
      result.history.largestChildPayloadBytes,
    ),
    withinLimits: result.withinLimits,
  };
}

/** A workflow command as `runCommand` drives it. */
export interface WorkflowCommand<S extends OptionSpecs, R, Summary> {
  /** The sub-command's name, as typed after `sfbackup`. */
  readonly name: string;
  /** The whole --help text. */
  readonly usage: string;
  /** The command's options beyond COMMON_OPTIONS. */
  readonly options: S;
  /** Checks the command's own options, pushing what is wrong onto `problems`. */
  read(values: OptionValues<typeof COMMON_OPTIONS & S>, problems: string[]): R;
  /** Runs the workflow with the checked common options, the command's own, and where alerts go. */
  run(options: LocalRunOptions & R): Promise<{ readonly summary: Summary }>;
  /** The exit code for a summary: 0 when the run did what was asked. */
  exitCode(summary: Summary): number;
  /** The summary as plain text, for a person. */
  describe(summary: Summary): string;
}

/**
 * Runs a workflow command line: prints the help, or every problem of the options with exit code 2,
 * or runs the workflow, printing SNS messages to standard error as they come and the report (text,
 * or with --json one JSON object last) to standard output.
 */
export async function runCommand<S extends OptionSpecs, R, Summary>(
  command: WorkflowCommand<S, R, Summary>,
  args: readonly string[],
): Promise<number> {
  const { values, problems } = parseCommandLine(command.name, command.options, args);
  if (values.help) {
    process.stdout.write(command.usage);
    return 0;
  }
  const common = readCommonOptions(values, problems);
  const own = command.read(values, problems);
  if (problems.length > 0 || !common) {
    process.stderr.write(describeProblems(command.name, problems, command.usage));
    return 2;
  }
  // A terminal gets a live line on standard error; --json and a redirected standard error get
  // only the result.
  const { summary } = await withProgressLine(command.name, common.json, ({ print, hooks }) =>
    command.run({
      ...common.connection,
      store: common.store,
      ...(common.org !== undefined ? { org: common.org } : {}),
      onSns: (message) => print(`[SNS ${message.subject ?? ''}] ${message.message}\n`),
      onNotice: (text) => print(`${text}\n`),
      ...hooks,
      ...own,
    }),
  );
  process.stdout.write(common.json ? `${JSON.stringify(summary)}\n` : command.describe(summary));
  return command.exitCode(summary);
}
