/**
 * What one backup execution would cost on AWS, from what the local run measured: state
 * transitions (states entered, child executions included), Lambda GB-seconds (each function's
 * memory from the synthesized template times its measured task durations) and S3 requests
 * (every call the handlers and the runner made on the store, as the S3 requests it maps to).
 */
import type { LocalHistoryEvent, SynthesizedWorkflow } from '../cli/local/index.ts';
import { LocalDirectoryStore } from '../lambdas/adapters/local-store.ts';
import { DEFAULT_PART_SIZE } from '../lambdas/adapters/s3-store.ts';

// Prices, us-east-1, as published on the AWS pricing pages (checked 2026):
// Step Functions Standard: $0.025 per 1,000 state transitions (https://aws.amazon.com/step-functions/pricing/).
const SFN_PER_TRANSITION = 0.025 / 1000;
// Lambda arm64: $0.0000133334 per GB-second and $0.20 per 1M requests (https://aws.amazon.com/lambda/pricing/).
export const LAMBDA_PER_GB_SECOND = 0.0000133334;
export const LAMBDA_PER_REQUEST = 0.2 / 1_000_000;
// S3 Standard: PUT, COPY, POST, LIST $0.005 per 1,000; GET $0.0004 per 1,000 (https://aws.amazon.com/s3/pricing/).
export const S3_PER_WRITE = 0.005 / 1000;
export const S3_PER_READ = 0.0004 / 1000;

/** S3 requests the store calls map to. */
export interface S3Requests {
  writes: number;
  reads: number;
}

/** Counts store calls as S3 requests until `stop()`; covers every LocalDirectoryStore in the process. */
export function countStoreRequests(): { readonly requests: S3Requests; stop(): void } {
  const requests: S3Requests = { writes: 0, reads: 0 };
  const proto = LocalDirectoryStore.prototype;
  const original = {
    put: proto.put,
    putStream: proto.putStream,
    putPointer: proto.putPointer,
    get: proto.get,
    getStream: proto.getStream,
    head: proto.head,
    list: proto.list,
  };
  proto.put = function (this: LocalDirectoryStore, ...args) {
    requests.writes += 1;
    return original.put.apply(this, args);
  };
  proto.putPointer = function (this: LocalDirectoryStore, ...args) {
    requests.writes += 1;
    return original.putPointer.apply(this, args);
  };
  // On S3 a stream is a multipart upload: create, one request per part, complete.
  proto.putStream = async function (this: LocalDirectoryStore, ...args) {
    const stored = await original.putStream.apply(this, args);
    const parts = Math.max(1, Math.ceil(stored.bytes / DEFAULT_PART_SIZE));
    requests.writes += parts === 1 ? 1 : parts + 2;
    return stored;
  };
  proto.get = function (this: LocalDirectoryStore, ...args) {
    requests.reads += 1;
    return original.get.apply(this, args);
  };
  proto.getStream = function (this: LocalDirectoryStore, ...args) {
    requests.reads += 1;
    return original.getStream.apply(this, args);
  };
  proto.head = function (this: LocalDirectoryStore, ...args) {
    requests.reads += 1;
    return original.head.apply(this, args);
  };
  // A listing is one LIST request per 1,000 keys.
  proto.list = async function* (this: LocalDirectoryStore, prefix: string) {
    let n = 0;
    requests.writes += 1;
    for await (const entry of original.list.call(this, prefix)) {
      if (++n % 1000 === 0) requests.writes += 1;
      yield entry;
    }
  };
  return {
    requests,
    stop() {
      Object.assign(proto, original);
    },
  };
}

type Json = Record<string, unknown>;

/** Memory (MB) of the Lambda function each Task state invokes, by state name, from the definition. */
export function taskMemory(workflow: SynthesizedWorkflow): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (states: Json | undefined) => {
    for (const [name, raw] of Object.entries(states ?? {})) {
      const state = raw as Json;
      if (state.Type === 'Task') {
        const params = (state.Parameters ?? state.Arguments ?? {}) as Json;
        const target = String(params.FunctionName ?? state.Resource ?? '');
        const fn = target ? workflow.findFunction(target.replace(/:\$LATEST$/, '')) : undefined;
        if (fn) out.set(name, fn.memorySize);
      }
      for (const nested of [state.ItemProcessor, state.Iterator] as (Json | undefined)[]) {
        visit(nested?.States as Json | undefined);
      }
      for (const branch of (state.Branches ?? []) as Json[]) visit(branch.States as Json);
    }
  };
  visit((workflow.definition as unknown as Json).States as Json);
  return out;
}

/** Times Lambda tasks and counts state transitions from the runner's events. */
export class ExecutionMeter {
  transitions = 0;
  invocations = 0;
  gbSeconds = 0;
  private readonly open = new Map<string, number>();

  constructor(private readonly memory: ReadonlyMap<string, number>) {}

  /** Feed every runner event here (`onEvent`). */
  readonly onEvent = (event: LocalHistoryEvent): void => {
    if (event.type === 'StateEntered') this.transitions += 1;
    if (!event.state || !this.memory.has(event.state)) return;
    const key = `${event.execution}|${event.state}|${event.index ?? ''}`;
    if (event.type === 'StateEntered') {
      this.open.set(key, performance.now());
      this.invocations += 1;
    } else if (event.type === 'StateExited' || event.type === 'StateFailed') {
      const started = this.open.get(key);
      if (started === undefined) return;
      this.open.delete(key);
      this.gbSeconds +=
        ((performance.now() - started) / 1000) * ((this.memory.get(event.state) ?? 128) / 1024);
    }
  };
}

/** Dollars for one execution. */
export function executionCost(
  meter: ExecutionMeter,
  s3: S3Requests,
): {
  stepFunctions: number;
  lambda: number;
  s3: number;
  total: number;
} {
  const stepFunctions = meter.transitions * SFN_PER_TRANSITION;
  const lambda = meter.gbSeconds * LAMBDA_PER_GB_SECOND + meter.invocations * LAMBDA_PER_REQUEST;
  const s3Cost = s3.writes * S3_PER_WRITE + s3.reads * S3_PER_READ;
  return { stepFunctions, lambda, s3: s3Cost, total: stepFunctions + lambda + s3Cost };
}
