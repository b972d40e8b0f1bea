/** Calls a function's real handler in this process, the way Lambda would call it. */
import { randomUUID } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Json } from './asl.ts';
import { runWithEnv } from './env-scope.ts';
import { type CallerScope, runAsCaller } from './policies.ts';
import type { LocalFunction } from './synthesize.ts';

/** A handler module or export could not be loaded. */
export class HandlerNotFoundError extends Error {
  override readonly name = 'HandlerNotFoundError';
}

/** What the caller of `invokeHandler` decides about the environment and time limits. */
export interface InvokeSettings {
  /** Directory the `sfbackup:entry` paths are relative to. */
  readonly projectRoot: string;
  /** Region reported to the handler in `AWS_REGION` when the environment has none. */
  readonly region: string;
  /** Variables layered over every function's own environment (e.g. a local store directory). */
  readonly env: Readonly<Record<string, string>>;
  /** Variables for one function only, by logical id, layered over `env`. */
  readonly functionEnv: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** What `context.getRemainingTimeInMillis()` counts down from. @default the function's timeout */
  readonly timeoutMs?: (fn: LocalFunction) => number;
  /**
   * The role each function's invocation runs as, when the run enforces the app's policies: every
   * AWS call its handler makes is then authorized for that role (see stand-ins.ts).
   * @default - calls are not authorized
   */
  readonly caller?: (fn: LocalFunction, session: string) => CallerScope | undefined;
}

type Handler = (event: unknown, context: unknown) => unknown;

const modules = new Map<string, Promise<Record<string, unknown>>>();

async function loadHandler(fn: LocalFunction, projectRoot: string): Promise<Handler> {
  const file = isAbsolute(fn.entry) ? fn.entry : join(projectRoot, fn.entry);
  let loading = modules.get(file);
  if (!loading) {
    loading = import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
    modules.set(file, loading);
  }
  let module: Record<string, unknown>;
  try {
    module = await loading;
  } catch (error) {
    modules.delete(file);
    throw new HandlerNotFoundError(
      `Function ${fn.logicalId}: cannot load its entry ${fn.entry} (${(error as Error).message}).`,
    );
  }
  const handler = module[fn.handler];
  if (typeof handler !== 'function') {
    throw new HandlerNotFoundError(
      `Function ${fn.logicalId}: ${fn.entry} has no exported function "${fn.handler}" (exports: ${Object.keys(module).join(', ') || 'none'}).`,
    );
  }
  return handler as Handler;
}

/**
 * The error a failed invocation hands to the interpreter: its name is the handler's error name
 * (what Retry and Catch match) and its message is the Cause Step Functions records for a
 * failed Lambda task, the JSON `{"errorType","errorMessage","trace"}`.
 */
export function lambdaTaskError(error: unknown): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const errorType = original.name || 'Error';
  const cause = JSON.stringify({
    errorType,
    errorMessage: original.message,
    trace: (original.stack ?? '').split('\n'),
  });
  const failure = new Error(cause);
  failure.name = errorType;
  return failure;
}

/** Invokes `fn` with `event` under its own environment and returns the JSON result. */
export async function invokeHandler(fn: LocalFunction, event: Json, settings: InvokeSettings): Promise<Json> {
  const name = `${fn.stackName}-${fn.logicalId}`;
  const env: Record<string, string> = {
    ...fn.environment,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    ...settings.env,
    ...settings.functionEnv[fn.logicalId],
  };
  if (env.AWS_REGION === undefined && process.env.AWS_REGION === undefined) env.AWS_REGION = settings.region;
  const timeoutMs = settings.timeoutMs?.(fn) ?? fn.timeoutSeconds * 1000;
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: String(fn.memorySize),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    // A copy of the event, as Lambda hands each invocation its own deserialized payload.
    const caller = settings.caller?.(fn, name);
    const call = async () => {
      // Loaded under the function's environment, so module-scope code reads it as on Lambda.
      const handler = await loadHandler(fn, settings.projectRoot);
      return handler(structuredClone(event), context);
    };
    const result = await runWithEnv(env, caller ? () => runAsCaller(caller, call) : call);
    return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as Json);
  } catch (error) {
    throw lambdaTaskError(error);
  }
}

/** The message inside a cause: `errorMessage` of a Lambda cause, else the cause itself. */
export function causeMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not a Lambda cause: the cause is the message.
  }
  return cause;
}
