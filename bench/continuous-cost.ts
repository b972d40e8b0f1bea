/**
 * Continuous protection's arithmetic: percentiles of measured latencies, the queue's batching
 * model (when Lambda's SQS event source invokes the writer), and the AWS cost of a million change
 * events from what the local run measured, itemised, beside the Firehose alternative of
 * docs/continuous.md section 1.
 */
import { LAMBDA_PER_GB_SECOND, LAMBDA_PER_REQUEST, S3_PER_READ, S3_PER_WRITE } from './aws-cost.ts';

// Prices, us-east-1, as published on the AWS pricing pages (checked 2026):
// EventBridge: partner events ingested $1.00 per million, each 64 KB chunk of a payload one event;
// delivery to a target in the same account is not charged (https://aws.amazon.com/eventbridge/pricing/).
export const EVENTBRIDGE_PER_EVENT = 1 / 1_000_000;
export const EVENTBRIDGE_CHUNK_BYTES = 64 * 1024;
// SQS standard: $0.40 per million requests, each 64 KB chunk of a request's payload one request
// (https://aws.amazon.com/sqs/pricing/).
export const SQS_PER_REQUEST = 0.4 / 1_000_000;
export const SQS_CHUNK_BYTES = 64 * 1024;
/** Messages one ReceiveMessage or DeleteMessageBatch call handles at most (SQS API reference). */
export const SQS_MESSAGES_PER_CALL = 10;
// S3 Standard storage: $0.023 per GB-month, first 50 TB (https://aws.amazon.com/s3/pricing/).
export const S3_PER_GB_MONTH = 0.023;
// Firehose Direct PUT ingestion: $0.029 per GB, first 500 TB a month, each record rounded up to
// the next 5 KB (https://aws.amazon.com/firehose/pricing/).
export const FIREHOSE_PER_GB = 0.029;
export const FIREHOSE_RECORD_INCREMENT_BYTES = 5 * 1024;
/** Lambda's payload limit for a synchronous invocation, which caps an SQS batch (6 MB). */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

const GB = 1024 ** 3;
const MILLION = 1_000_000;

/**
 * The `q` quantile (0 < q <= 1) of `values` by the nearest-rank method: the smallest value with
 * at least q of the values at or below it.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('A percentile needs at least one value; none were measured');
  if (!(q > 0 && q <= 1)) throw new Error(`A percentile is taken at 0 < q <= 1; got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(q * sorted.length) - 1] as number;
}

/** The writer's event source mapping, as synthesized. */
export interface BatchingModel {
  /** `BatchSize` of the event source mapping. */
  readonly batchSize: number;
  /** `MaximumBatchingWindowInSeconds` of the event source mapping. */
  readonly windowSeconds: number;
}

/**
 * Events in one invocation of the writer when events arrive steadily at `eventsPerSecond`, each
 * `eventBytes` long: Lambda gathers until the batching window ends, the batch size is reached or
 * the batch would pass the 6 MB payload limit, whichever comes first (Lambda's SQS event source
 * parameters; the SQS record's own fields beside the body are not counted).
 */
export function eventsPerBatch(model: BatchingModel, eventsPerSecond: number, eventBytes: number): number {
  if (!(eventsPerSecond > 0)) throw new Error(`The event rate must be above 0; got ${eventsPerSecond}`);
  if (!(eventBytes > 0)) throw new Error(`The event size must be above 0 bytes; got ${eventBytes}`);
  const byWindow = Math.floor(eventsPerSecond * model.windowSeconds);
  const byPayload = Math.floor(LAMBDA_PAYLOAD_LIMIT_BYTES / eventBytes);
  return Math.max(1, Math.min(model.batchSize, byPayload, byWindow));
}

/** Seconds a batch gathers before the writer is invoked, at that steady rate. */
export function batchGatherSeconds(
  model: BatchingModel,
  eventsPerSecond: number,
  eventBytes: number,
): number {
  if (!(eventsPerSecond > 0)) throw new Error(`The event rate must be above 0; got ${eventsPerSecond}`);
  return Math.min(
    model.windowSeconds,
    model.windowSeconds * (windowBoundRate(model, eventBytes) / eventsPerSecond),
  );
}

/** The event rate above which a batch is closed by its size or the payload limit, not the window. */
export function windowBoundRate(model: BatchingModel, eventBytes: number): number {
  if (!(eventBytes > 0)) throw new Error(`The event size must be above 0 bytes; got ${eventBytes}`);
  const cap = Math.min(model.batchSize, Math.floor(LAMBDA_PAYLOAD_LIMIT_BYTES / eventBytes));
  return cap / model.windowSeconds;
}

/**
 * The AWS recovery point at quantile `q`, in milliseconds: the measured local pipeline's `q`
 * quantile plus the `q` quantile of the wait for the batch to close, uniform from 0 to the gather
 * time (an event arriving at a uniformly random moment while the batch gathers).
 */
export function modelledRecoveryPointMs(
  localMs: readonly number[],
  q: number,
  gatherSeconds: number,
): number {
  return percentile(localMs, q) + q * gatherSeconds * 1000;
}

/** What the local run measured of the writer and the journal, per batch and per event. */
export interface JournalMeasures {
  /** Mean size of a change event as relayed (the EventBridge event, JSON). */
  readonly eventBytes: number;
  /** Events in one invocation of the writer on AWS (from `eventsPerBatch`). */
  readonly eventsPerBatch: number;
  /** Measured writer time per event, in milliseconds, in batches of about that size. */
  readonly writerMsPerEvent: number;
  /** The writer's memory, from the template. */
  readonly memoryMb: number;
  /** S3 PUT/LIST and GET/HEAD requests the writer made per invocation. */
  readonly s3WritesPerBatch: number;
  readonly s3ReadsPerBatch: number;
  /** Journal bytes stored per event (objects and manifests, compressed). */
  readonly storedBytesPerEvent: number;
}

/** One billed line. */
export interface CostItem {
  readonly name: string;
  readonly label: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

/** The cost of a million change events through EventBridge, SQS, the writer and S3, line by line. */
export function queueCostPerMillion(m: JournalMeasures): { items: CostItem[]; total: number } {
  checkMeasures(m);
  const calls = MILLION / SQS_MESSAGES_PER_CALL;
  const invocations = MILLION / m.eventsPerBatch;
  // Lambda bills each invocation's duration rounded up to the millisecond.
  const msPerInvocation = Math.ceil(m.writerMsPerEvent * m.eventsPerBatch);
  const gbSeconds = invocations * (msPerInvocation / 1000) * (m.memoryMb / 1024);
  const ebEvents = MILLION * chunks(m.eventBytes, EVENTBRIDGE_CHUNK_BYTES);
  const sends = MILLION * chunks(m.eventBytes, SQS_CHUNK_BYTES);
  const receives = calls * chunks(m.eventBytes * SQS_MESSAGES_PER_CALL, SQS_CHUNK_BYTES);
  const deletes = calls;
  const s3Writes = invocations * m.s3WritesPerBatch;
  const s3Reads = invocations * m.s3ReadsPerBatch;
  const storedGb = (MILLION * m.storedBytesPerEvent) / GB;
  const items: CostItem[] = [
    item(
      'eventbridge',
      'EventBridge partner events ingested',
      ebEvents,
      'events',
      ebEvents * EVENTBRIDGE_PER_EVENT,
    ),
    item('rule_delivery', "the rule's delivery to SQS (same account)", MILLION, 'deliveries', 0),
    item('sqs_send', 'SQS SendMessage (by EventBridge)', sends, 'requests', sends * SQS_PER_REQUEST),
    item(
      'sqs_receive',
      'SQS ReceiveMessage (10 messages each)',
      receives,
      'requests',
      receives * SQS_PER_REQUEST,
    ),
    item(
      'sqs_delete',
      'SQS DeleteMessageBatch (10 messages each)',
      deletes,
      'requests',
      deletes * SQS_PER_REQUEST,
    ),
    item(
      'lambda_requests',
      'Lambda invocations of the writer',
      invocations,
      'invocations',
      invocations * LAMBDA_PER_REQUEST,
    ),
    item(
      'lambda_gb_seconds',
      'Lambda GB-seconds of the writer',
      gbSeconds,
      'GB-s',
      gbSeconds * LAMBDA_PER_GB_SECOND,
    ),
    item('s3_puts', 'S3 PUTs (journal objects and manifests)', s3Writes, 'requests', s3Writes * S3_PER_WRITE),
    item('s3_reads', 'S3 GET/HEAD requests of the writer', s3Reads, 'requests', s3Reads * S3_PER_READ),
    item(
      's3_storage',
      'S3 storage of the journal, one month',
      storedGb,
      'GB-month',
      storedGb * S3_PER_GB_MONTH,
    ),
  ];
  return { items, total: items.reduce((sum, i) => sum + i.usd, 0) };
}

/**
 * The Firehose alternative (docs/continuous.md, candidate A) for the same events: EventBridge, Firehose
 * ingestion in 5 KB increments, one S3 object per buffer interval while events flow at
 * `eventsPerDay`, and the same stored bytes.
 */
export function firehoseCostPerMillion(input: {
  readonly eventBytes: number;
  readonly storedBytesPerEvent: number;
  readonly eventsPerDay: number;
  readonly bufferSeconds: number;
}): { items: CostItem[]; total: number } {
  if (!(input.eventBytes > 0))
    throw new Error(`The event size must be above 0 bytes; got ${input.eventBytes}`);
  if (!(input.eventsPerDay > 0 && input.bufferSeconds > 0)) {
    throw new Error(
      `Firehose needs a daily event count and a buffer interval above 0; got ${input.eventsPerDay} and ${input.bufferSeconds}`,
    );
  }
  const ebEvents = MILLION * chunks(input.eventBytes, EVENTBRIDGE_CHUNK_BYTES);
  const billedGb =
    (MILLION *
      Math.ceil(input.eventBytes / FIREHOSE_RECORD_INCREMENT_BYTES) *
      FIREHOSE_RECORD_INCREMENT_BYTES) /
    GB;
  const objects = (MILLION / input.eventsPerDay) * (86_400 / input.bufferSeconds);
  const storedGb = (MILLION * input.storedBytesPerEvent) / GB;
  const items: CostItem[] = [
    item(
      'eventbridge',
      'EventBridge partner events ingested',
      ebEvents,
      'events',
      ebEvents * EVENTBRIDGE_PER_EVENT,
    ),
    item(
      'firehose_ingest',
      'Firehose ingestion (5 KB increments)',
      billedGb,
      'GB',
      billedGb * FIREHOSE_PER_GB,
    ),
    item(
      's3_puts',
      'S3 PUTs by Firehose (one object per buffer)',
      objects,
      'requests',
      objects * S3_PER_WRITE,
    ),
    item('s3_storage', 'S3 storage, one month', storedGb, 'GB-month', storedGb * S3_PER_GB_MONTH),
  ];
  return { items, total: items.reduce((sum, i) => sum + i.usd, 0) };
}

function item(name: string, label: string, quantity: number, unit: string, usd: number): CostItem {
  return { name, label, quantity, unit, usd };
}

function checkMeasures(m: JournalMeasures): void {
  const problems = Object.entries(m)
    .filter(([key, value]) =>
      ['eventBytes', 'eventsPerBatch', 'memoryMb'].includes(key) ? !(value > 0) : !(value >= 0),
    )
    .map(([key, value]) => `${key} is ${value}`);
  if (problems.length > 0) {
    throw new Error(
      `The journal measures cannot be priced: ${problems.join(', ')} (sizes, batch and memory must be above 0, counts and times at least 0)`,
    );
  }
}

/** Billing chunks of a message: EventBridge and SQS bill each started 64 KB as one. */
function chunks(bytes: number, chunk: number): number {
  return Math.max(1, Math.ceil(bytes / chunk));
}
