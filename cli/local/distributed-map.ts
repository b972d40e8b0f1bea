/**
 * A Distributed Map performed by the runner: items read from the store as the ItemReader
 * describes, each item (or batch) run as a child execution of the item processor, failures
 * weighed against the tolerated threshold, results written as the ResultWriter describes.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import type { BackupStore } from '../../lambdas/core/store.ts';
import type { AslState, Json } from './asl.ts';
import type { ExecutionHistoryStats } from './history.ts';
import { checkBucket, ServiceIntegrationError } from './integrations.ts';
import type { DistributedMapPlan, PreparedMachine } from './prepare.ts';
import type { S3Request } from './stand-ins.ts';
import type { TemplateResolver } from './template.ts';

/** How one child execution ended. */
export interface ChildOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  readonly stats: ExecutionHistoryStats;
}

/** What the runner lends a Distributed Map. */
export interface DistributedMapDeps {
  readonly store: BackupStore;
  readonly resolver: TemplateResolver;
  readonly region: string;
  readonly executionName: string;
  /** Upper bound on child executions at once, whatever the state's MaxConcurrency. */
  readonly maxConcurrency: number;
  /** Evaluates a JSONPath payload template against `input`, with `$$.Map.Item` when given. */
  evaluate(template: Json, input: Json, item?: { Index: number; Value: Json }): Promise<Json>;
  runChild(processor: PreparedMachine, input: Json, name: string): Promise<ChildOutcome>;
  /** Called once the items are read and batched, with how many child executions will run. @default - none */
  onItems?(items: number): void;
  /** Called with each child's statistics as it finishes. */
  onChild(stats: ExecutionHistoryStats, input: Json): void;
  /** Authorizes the state machine's S3 requests (ItemReader, ResultWriter). */
  authorizeS3(request: S3Request): Promise<void>;
  /** Authorizes starting the child executions. */
  authorizeChildren(): Promise<void>;
}

function fail(name: string, message: string): never {
  throw new ServiceIntegrationError(name, message);
}

async function evaluateNumber(
  state: AslState,
  field: string,
  input: Json,
  deps: DistributedMapDeps,
  holder: Record<string, unknown> = state,
): Promise<number | undefined> {
  if (typeof holder[field] === 'number') return holder[field] as number;
  const path = holder[`${field}Path`];
  if (typeof path !== 'string') return undefined;
  const value = ((await deps.evaluate({ 'v.$': path }, input)) as { v: Json }).v;
  if (typeof value !== 'number') fail('States.Runtime', `${field}Path ${path} did not select a number.`);
  return value;
}

async function readItems(
  state: AslState,
  input: Json,
  deps: DistributedMapDeps,
  stateName: string,
): Promise<Json[]> {
  const reader = state.ItemReader as
    | { Resource: string; Parameters?: Json; ReaderConfig?: Record<string, unknown> }
    | undefined;
  if (!reader) {
    const path = typeof state.ItemsPath === 'string' ? state.ItemsPath : '$';
    const items = ((await deps.evaluate({ 'items.$': path }, input)) as { items: Json }).items;
    if (!Array.isArray(items))
      fail('States.Runtime', `Map "${stateName}": ItemsPath ${path} is not an array.`);
    return items;
  }
  const params = (await deps.evaluate(reader.Parameters ?? {}, input)) as Record<string, Json>;
  const config = reader.ReaderConfig ?? {};
  checkBucket(params.Bucket, deps.resolver, `The ItemReader of Map "${stateName}"`);
  let items: Json[];
  const bucket = params.Bucket as string;
  if (/:s3:listObjectsV2$/.test(reader.Resource)) {
    const prefix = typeof params.Prefix === 'string' ? params.Prefix : '';
    await deps.authorizeS3({ operation: 'ListObjectsV2', bucket, prefix });
    items = [];
    for await (const entry of deps.store.list(typeof params.Prefix === 'string' ? params.Prefix : '')) {
      items.push({ Key: entry.key, Size: entry.bytes });
    }
  } else if (/:s3:getObject$/.test(reader.Resource)) {
    const key = String(params.Key);
    await deps.authorizeS3({ operation: 'GetObject', bucket, key });
    let text: string;
    try {
      text = Buffer.from(await deps.store.get(key)).toString('utf8');
    } catch (error) {
      fail(
        'States.ItemReaderFailed',
        `Map "${stateName}" cannot read its items from ${key}: ${(error as Error).message}`,
      );
    }
    items = parseItems(text, String(config.InputType ?? 'JSON'), config, key, stateName);
  } else {
    fail(
      'States.ItemReaderFailed',
      `Map "${stateName}": ItemReader resource ${reader.Resource} is not supported.`,
    );
  }
  const max = await evaluateNumber(state, 'MaxItems', input, deps, config);
  return max !== undefined && max > 0 ? items.slice(0, max) : items;
}

function parseItems(
  text: string,
  inputType: string,
  config: Record<string, unknown>,
  key: string,
  stateName: string,
): Json[] {
  try {
    switch (inputType) {
      case 'JSON': {
        const parsed = JSON.parse(text) as Json;
        if (!Array.isArray(parsed)) throw new Error('the object is not a JSON array');
        return parsed;
      }
      case 'JSONL':
        return text
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as Json);
      case 'CSV': {
        const delimiters: Record<string, string> = {
          COMMA: ',',
          PIPE: '|',
          SEMICOLON: ';',
          SPACE: ' ',
          TAB: '\t',
        };
        const delimiter = delimiters[String(config.CSVDelimiter ?? 'COMMA')] ?? ',';
        const given = config.CSVHeaderLocation === 'GIVEN' ? (config.CSVHeaders as string[]) : undefined;
        const rows = parseCsv(text, {
          delimiter,
          skip_empty_lines: true,
          relax_column_count: true,
        }) as string[][];
        const [first, ...rest] = rows;
        const headers = given ?? first ?? [];
        return (given ? rows : rest).map((row) =>
          Object.fromEntries(headers.map((h, i) => [h, row[i] ?? ''])),
        );
      }
      default:
        throw new Error(`InputType ${inputType} is not supported (JSON, JSONL, CSV)`);
    }
  } catch (error) {
    return fail(
      'States.ItemReaderFailed',
      `Map "${stateName}" cannot read items from ${key}: ${(error as Error).message}`,
    );
  }
}

async function batch(items: Json[], state: AslState, input: Json, deps: DistributedMapDeps): Promise<Json[]> {
  const batcher = state.ItemBatcher as Record<string, unknown> | undefined;
  if (!batcher) return items;
  const maxItems =
    (await evaluateNumber(state, 'MaxItemsPerBatch', input, deps, batcher)) ?? Number.POSITIVE_INFINITY;
  const maxBytes =
    (await evaluateNumber(state, 'MaxInputBytesPerBatch', input, deps, batcher)) ?? Number.POSITIVE_INFINITY;
  const batchInput =
    batcher.BatchInput !== undefined ? await deps.evaluate(batcher.BatchInput as Json, input) : undefined;
  const batches: Json[] = [];
  let current: Json[] = [];
  let bytes = 0;
  const flush = () => {
    if (current.length === 0) return;
    batches.push({ ...(batchInput !== undefined ? { BatchInput: batchInput } : {}), Items: current });
    current = [];
    bytes = 0;
  };
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item));
    if (current.length >= maxItems || (current.length > 0 && bytes + size > maxBytes)) flush();
    current.push(item);
    bytes += size;
  }
  flush();
  return batches;
}

/** Runs a Distributed Map over the state input `input` and returns the state's result. */
export async function runDistributedMap(
  plan: DistributedMapPlan,
  input: Json,
  deps: DistributedMapDeps,
): Promise<Json> {
  const { state, stateName } = plan;
  const items = await readItems(state, input, deps, stateName);
  const selector = (state.ItemSelector ?? state.Parameters) as Json | undefined;
  const selected: Json[] = [];
  for (const [index, value] of items.entries()) {
    selected.push(
      selector === undefined ? value : await deps.evaluate(selector, input, { Index: index, Value: value }),
    );
  }
  const childInputs = await batch(selected, state, input, deps);
  deps.onItems?.(childInputs.length);
  const toleratedCount = (await evaluateNumber(state, 'ToleratedFailureCount', input, deps)) ?? 0;
  const toleratedPercent = (await evaluateNumber(state, 'ToleratedFailurePercentage', input, deps)) ?? 0;
  const tolerated = Math.max(toleratedCount, Math.floor((toleratedPercent / 100) * childInputs.length));
  const stateLimit = (await evaluateNumber(state, 'MaxConcurrency', input, deps)) || Number.POSITIVE_INFINITY;
  const concurrency = Math.max(1, Math.min(stateLimit, deps.maxConcurrency));

  if (childInputs.length > 0) await deps.authorizeChildren();
  const runId = randomUUID();
  const outcomes: (ChildOutcome | undefined)[] = new Array(childInputs.length);
  let failures = 0;
  let next = 0;
  const worker = async () => {
    while (next < childInputs.length && failures <= tolerated) {
      const index = next++;
      const childInput = childInputs[index] as Json;
      const outcome = await deps.runChild(
        plan.processor,
        childInput,
        `${deps.executionName}/${stateName}/${index}`,
      );
      outcomes[index] = outcome;
      deps.onChild(outcome.stats, childInput);
      if (outcome.status !== 'SUCCEEDED') failures += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, childInputs.length) }, worker));
  if (failures > tolerated) {
    const first = outcomes.find((o) => o && o.status !== 'SUCCEEDED');
    fail(
      'States.ExceedToleratedFailureThreshold',
      `Map "${stateName}": ${failures} of ${childInputs.length} child executions failed, more than the ${tolerated} tolerated. First failure: ${first?.error ?? 'unknown'}: ${first?.cause ?? ''}`,
    );
  }

  const mapRunArn = `arn:aws:states:${deps.region}:000000000000:mapRun:${deps.executionName}/${stateName}:${runId}`;
  const records = childInputs.map((childInput, index) => {
    const outcome = outcomes[index] as ChildOutcome;
    return {
      ExecutionArn: `${mapRunArn}/${index}`,
      Input: JSON.stringify(childInput),
      InputDetails: { Included: true },
      Name: String(index),
      Status: outcome.status,
      ...(outcome.status === 'SUCCEEDED'
        ? { Output: JSON.stringify(outcome.output ?? null), OutputDetails: { Included: true } }
        : { Error: outcome.error ?? '', Cause: outcome.cause ?? '' }),
    };
  });
  const writer = state.ResultWriter as
    | {
        Resource?: string;
        Parameters?: Json;
        WriterConfig?: { Transformation?: string; OutputType?: string };
      }
    | undefined;
  const transformation = writer?.WriterConfig?.Transformation ?? (writer?.Resource ? 'NONE' : 'COMPACT');
  const shape = (index: number): Json[] => {
    const outcome = outcomes[index] as ChildOutcome;
    if (outcome.status !== 'SUCCEEDED' || transformation === 'NONE') return [records[index] as Json];
    const output = outcome.output ?? null;
    return transformation === 'FLATTEN' && Array.isArray(output) ? output : [output];
  };
  const indexes = records.map((_, i) => i);
  if (!writer?.Resource) return indexes.flatMap(shape);
  const succeeded = indexes.filter((i) => records[i]?.Status === 'SUCCEEDED').flatMap(shape);
  const failed = indexes.filter((i) => records[i]?.Status !== 'SUCCEEDED').flatMap(shape);
  return writeResults(
    writer,
    { SUCCEEDED: succeeded, FAILED: failed },
    input,
    mapRunArn,
    runId,
    deps,
    stateName,
  );
}

async function writeResults(
  writer: { Parameters?: Json; WriterConfig?: { OutputType?: string } },
  results: { SUCCEEDED: Json[]; FAILED: Json[] },
  input: Json,
  mapRunArn: string,
  runId: string,
  deps: DistributedMapDeps,
  stateName: string,
): Promise<Json> {
  const params = (await deps.evaluate(writer.Parameters ?? {}, input)) as Record<string, Json>;
  checkBucket(params.Bucket, deps.resolver, `The ResultWriter of Map "${stateName}"`);
  const prefix =
    typeof params.Prefix === 'string' && params.Prefix !== '' ? `${params.Prefix.replace(/\/$/, '')}/` : '';
  const jsonl = writer.WriterConfig?.OutputType === 'JSONL';
  const files: Record<string, { Key: string; Size: number }[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  for (const status of ['SUCCEEDED', 'FAILED'] as const) {
    const entries = results[status];
    if (entries.length === 0) continue;
    const key = `${prefix}${runId}/${status}_0.json`;
    await deps.authorizeS3({ operation: 'PutObject', bucket: params.Bucket as string, key });
    const body = jsonl ? entries.map((e) => JSON.stringify(e)).join('\n') : JSON.stringify(entries);
    const stored = await deps.store.put(key, body, { contentType: 'application/json' });
    files[status]?.push({ Key: key, Size: stored.bytes });
  }
  const manifestKey = `${prefix}${runId}/manifest.json`;
  await deps.authorizeS3({ operation: 'PutObject', bucket: params.Bucket as string, key: manifestKey });
  const manifest = { DestinationBucket: params.Bucket, MapRunArn: mapRunArn, ResultFiles: files };
  await deps.store.put(manifestKey, JSON.stringify(manifest), { contentType: 'application/json' });
  return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: params.Bucket as Json, Key: manifestKey } };
}
