/**
 * Benchmark "continuous": the recovery point of continuous protection and its cost per million
 * change events.
 *
 * Recovery point: clients write Accounts through sObject Collections over HTTP (creates, then
 * updates of the same records, 10 per request, 250 changes a second); the emulator publishes each change event and relays it; the
 * relay's events go through the synthesized rule and queue (`localJournal`) to the real writer
 * handler, which a consumer invokes whenever the queue holds messages. A change's latency is from
 * the moment its write's answer reached the client to the moment the writer returned with the
 * journal object and manifest on disk (0 when that came first). The queue's batching window is
 * modelled, not slept: the AWS figures add the wait for a batch to close, from the template's
 * values, to the measured latencies.
 *
 * Cost: the relayed events are written again into a fresh journal in batches of the size the
 * model gives at a steady million events a day, timing the writer and counting its S3 requests
 * and stored bytes; `continuous-cost.ts` prices them.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localJournal } from '../cli/local/continuous.ts';
import { synthesizeDefinition } from '../cli/local/synthesize.ts';
import { startEmulator } from '../emulator/index.ts';
import type { EventBridgeEvent } from '../emulator/org/cdc/relay.ts';
import { buildApp } from '../lib/app.ts';
import type { OrgStack } from '../lib/stacks/org-stack.ts';
import { appWithoutBundling, configWith } from '../test/infra/fixtures/app-fixture.ts';
import { countStoreRequests } from './aws-cost.ts';
import {
  type BatchingModel,
  batchGatherSeconds,
  eventsPerBatch,
  firehoseCostPerMillion,
  modelledRecoveryPointMs,
  percentile,
  queueCostPerMillion,
  windowBoundRate,
} from './continuous-cost.ts';
import type { BenchOptions } from './options.ts';
import type { Report } from './report.ts';

/** Records per Collections request, and changes per second the clients write. */
const RECORDS_PER_REQUEST = 10;
const WRITE_RATE = 250;
/** A default Unlimited Edition org's event delivery allocation: 50,000 events in 24 hours. */
const ALLOCATION_PER_DAY = 50_000;
/** The steady rate the cost is given at, as in docs/continuous.md: a million events a day. */
const COST_RATE_PER_DAY = 1_000_000;
/** Firehose's buffer interval in the comparison (docs/continuous.md, candidate A). */
const FIREHOSE_BUFFER_SECONDS = 60;

type Json = Record<string, unknown>;

/** Runs benchmark "continuous". */
export async function benchContinuous(report: Report, o: BenchOptions): Promise<void> {
  const section = `Continuous protection: ${o.changes.toLocaleString('en-US')} changes`;
  const add = (name: string, label: string, value: number, unit: string) =>
    report.add({ section, name: `continuous.${name}`, label, value, unit });

  const emu = await startEmulator({});
  try {
    const config = configWith({
      orgs: [
        {
          name: 'acme-prod',
          type: 'production',
          secretName: 'sfbackup/acme-prod',
          continuous: { partnerEventSource: emu.relay.source },
        },
      ],
    });
    const { orgStacks } = buildApp(config, appWithoutBundling(), { nag: false });
    const stack = orgStacks[0] as OrgStack;
    const workflow = synthesizeDefinition(stack, stack.backup.stateMachine);
    const model = batchingOf(workflow.stacks.find((s) => s.stackName === workflow.stackName)?.template);
    const env = { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' };
    const journal = localJournal(workflow, { storeDir: tempDir(), env });
    const writer = [...workflow.functions.values()].find((f) => f.handler === 'writeJournal');
    if (!writer) throw new Error('The synthesized org stack has no journal writer (handler writeJournal)');

    // --- Recovery point: acknowledged write -> journal object and manifest written.
    const relayed: EventBridgeEvent[] = [];
    let wake: (() => void) | undefined;
    emu.relay.subscribe((event) => {
      if (journal.put([event]) !== 1)
        throw new Error(`The rule did not match a relayed event of ${event.source}`);
      relayed.push(event);
      wake?.();
    });
    emu.cdc.select(['Account']);
    emu.relay.configure({ state: 'RUN' });
    // One change first, so the writer's module is loaded (a cold start) before anything is timed.
    await collections(emu, 'POST', {
      allOrNone: true,
      records: [{ attributes: { type: 'Account' }, Name: 'Warm-up' }],
    });
    await journal.drain();
    relayed.length = 0;

    const durableAt: number[] = [];
    let writing = true;
    let batches = 0;
    const consumer = (async () => {
      while (writing || durableAt.length < relayed.length) {
        if (durableAt.length === relayed.length) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const drained = await journal.drain();
        if (drained.deadLettered.length > 0)
          throw new Error(`The writer parked ${drained.deadLettered.length} events in its dead-letter queue`);
        batches += drained.batches;
        // A drain returns when the queue is empty: every event put so far is in the journal.
        const t = performance.now();
        while (durableAt.length < relayed.length) durableAt.push(t);
      }
    })();

    const acks = new Map<string, number[]>();
    // A client creates a few Accounts, then updates them; a new client starts on a fixed
    // schedule, so the org sees a steady rate and the writer is not starved of the event loop.
    const client = async (k: number, size: number) => {
      const created = await collections(emu, 'POST', {
        allOrNone: true,
        records: Array.from({ length: size }, (_, i) => ({
          attributes: { type: 'Account' },
          Name: `Bench ${k}-${i}`,
          Phone: `555-${String(i).padStart(4, '0')}`,
          Industry: 'Technology',
        })),
      });
      ackAll(acks, created, performance.now());
      const updated = await collections(emu, 'PATCH', {
        allOrNone: true,
        records: created.map((id, i) => ({
          attributes: { type: 'Account' },
          id,
          Name: `Bench ${k}-${i}, renamed`,
          Description: `Updated by client ${k}`,
        })),
      });
      ackAll(acks, updated, performance.now());
    };
    const perClient = 2 * RECORDS_PER_REQUEST;
    const intervalMs = (perClient / WRITE_RATE) * 1000;
    const started = performance.now();
    const clients: Promise<void>[] = [];
    try {
      for (let k = 0; k * perClient < o.changes; k++) {
        const wait = started + k * intervalMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        clients.push(client(k, Math.min(RECORDS_PER_REQUEST, Math.ceil((o.changes - k * perClient) / 2))));
      }
      await Promise.all(clients);
    } finally {
      writing = false;
      wake?.();
      await consumer;
    }
    const elapsed = (performance.now() - started) / 1000;

    // Each change's event, matched to its write by record id and the order of that record's changes.
    const seen = new Map<string, number>();
    const latencies: number[] = [];
    relayed.forEach((event, index) => {
      for (const id of recordIdsOf(event)) {
        const nth = seen.get(id) ?? 0;
        seen.set(id, nth + 1);
        const ack = acks.get(id)?.[nth];
        if (ack === undefined) throw new Error(`Record ${id} has a change event but no acknowledged write`);
        latencies.push(Math.max(0, (durableAt[index] as number) - ack));
      }
    });
    const changes = [...acks.values()].reduce((n, list) => n + list.length, 0);
    if (latencies.length !== changes) {
      throw new Error(`${changes} changes were acknowledged but ${latencies.length} reached the journal`);
    }
    const eventBytes =
      relayed.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0) / Math.max(1, relayed.length);

    add('changes', 'changes acknowledged (Collections create and update, over HTTP)', changes, 'changes');
    add('events', 'change events relayed and journaled', relayed.length, 'events');
    add('write_rate', 'changes per second the clients wrote', changes / elapsed, 'changes/s');
    add(
      'local_batches',
      'writer invocations during the run (no batching window locally)',
      batches,
      'invocations',
    );
    add(
      'local_p50_ms',
      'measured: acknowledged write -> journal object + manifest, p50',
      percentile(latencies, 0.5),
      'ms',
    );
    add(
      'local_p99_ms',
      'measured: acknowledged write -> journal object + manifest, p99',
      percentile(latencies, 0.99),
      'ms',
    );
    add(
      'local_max_ms',
      'measured: acknowledged write -> journal object + manifest, max',
      percentile(latencies, 1),
      'ms',
    );
    add('template_batch_size', 'template: BatchSize of the event source mapping', model.batchSize, 'events');
    add('template_window_s', 'template: MaximumBatchingWindowInSeconds', model.windowSeconds, 's');
    add('event_bytes', 'mean change event as relayed (EventBridge JSON)', eventBytes, 'bytes');
    const allocationRate = ALLOCATION_PER_DAY / 86_400;
    const gather = batchGatherSeconds(model, allocationRate, eventBytes);
    add('aws_gather_s', 'modelled: a batch gathers at 50,000 events a day', gather, 's');
    add(
      'aws_window_bound_rate',
      'modelled: event rate above which size, not the window, closes a batch',
      windowBoundRate(model, eventBytes),
      'events/s',
    );
    for (const [q, name] of [
      [0.5, 'p50'],
      [0.99, 'p99'],
      [1, 'max'],
    ] as const) {
      add(
        `aws_recovery_${name}_s`,
        `AWS recovery point ${name}: measured ${name} + ${name} of a uniform wait over that gather`,
        modelledRecoveryPointMs(latencies, q, gather) / 1000,
        's',
      );
    }

    // --- Cost: the writer timed and counted in batches of the modelled size.
    const costRate = COST_RATE_PER_DAY / 86_400;
    const modelled = eventsPerBatch(model, costRate, eventBytes);
    const batch = Math.min(modelled, relayed.length);
    const costDir = tempDir();
    const costJournal = localJournal(workflow, { storeDir: costDir, env });
    const counting = countStoreRequests();
    let writerMs = 0;
    let measuredBatches = 0;
    try {
      for (let i = 0; i < relayed.length; i += batch) {
        measuredBatches++;
        costJournal.put(relayed.slice(i, i + batch));
        const t = performance.now();
        const drained = await costJournal.drain();
        writerMs += performance.now() - t;
        if (drained.delivered !== Math.min(batch, relayed.length - i))
          throw new Error(`The writer took ${drained.delivered} of a batch of ${batch} events`);
      }
    } finally {
      counting.stop();
    }
    const stored = directoryBytes(costDir);
    const measures = {
      eventBytes,
      eventsPerBatch: modelled,
      writerMsPerEvent: writerMs / relayed.length,
      memoryMb: writer.memorySize,
      s3WritesPerBatch: counting.requests.writes / measuredBatches,
      s3ReadsPerBatch: counting.requests.reads / measuredBatches,
      storedBytesPerEvent: stored / relayed.length,
    };
    const queue = queueCostPerMillion(measures);
    const firehose = firehoseCostPerMillion({
      eventBytes,
      storedBytesPerEvent: measures.storedBytesPerEvent,
      eventsPerDay: COST_RATE_PER_DAY,
      bufferSeconds: FIREHOSE_BUFFER_SECONDS,
    });
    add(
      'cost_batch_events',
      'modelled batch at a million events a day (window, size or 6 MB)',
      modelled,
      'events',
    );
    add('cost_measured_batch_events', 'batch the writer was timed with', batch, 'events');
    add(
      'writer_ms_per_batch',
      'measured writer time per modelled batch (local disk)',
      measures.writerMsPerEvent * modelled,
      'ms',
    );
    add('writer_memory_mb', "template: the writer's memory", writer.memorySize, 'MB');
    add(
      's3_writes_per_batch',
      'measured S3 PUTs per batch (objects and manifests)',
      measures.s3WritesPerBatch,
      'requests',
    );
    add(
      'stored_bytes_per_event',
      'measured journal bytes stored per event (gzip, manifests included)',
      measures.storedBytesPerEvent,
      'bytes',
    );
    for (const line of queue.items) {
      add(
        `cost_${line.name}_usd`,
        `per million events: ${line.label} (${round(line.quantity)} ${line.unit})`,
        line.usd,
        'USD',
      );
    }
    add(
      'cost_per_million_usd',
      'per million events: EventBridge -> SQS -> writer -> S3, total',
      queue.total,
      'USD',
    );
    add(
      'firehose_per_million_usd',
      'per million events: EventBridge -> Firehose -> S3 (60 s buffer), total',
      firehose.total,
      'USD',
    );
    add(
      'cost_ratio_to_firehose',
      'SQS writer / Firehose, per million events',
      queue.total / firehose.total,
      'ratio',
    );
    report.note(
      'Continuous protection: the emulator runs in the benchmark process (the relay hands its events to an in-process subscriber); the writes go over HTTP. ' +
        "The local latency has no batching window; the AWS recovery point adds the modelled wait for a batch to close (uniform over the gather time at 50,000 events a day, from the template's BatchSize and MaximumBatchingWindowInSeconds and the 6 MB payload limit) and leaves out Event Relay's and EventBridge's own delivery times, which are not measured. " +
        `The writer's time is on local disk; on AWS its S3 PUTs take longer.${o.quick ? ' Quick run: fewer changes than the 10,000 of a full run.' : ''}`,
    );
  } finally {
    await emu.stop();
  }
}

/** BatchSize and MaximumBatchingWindowInSeconds of the queue's event source mapping in the template. */
function batchingOf(template: { readonly Resources?: unknown } | undefined): BatchingModel {
  const resources = (template?.Resources ?? {}) as Record<string, { Type?: string; Properties?: Json }>;
  const mappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
  if (mappings.length !== 1) {
    throw new Error(
      `The org stack should have one event source mapping (the journal queue's); it has ${mappings.length}`,
    );
  }
  const p = mappings[0]?.Properties ?? {};
  const batchSize = Number(p.BatchSize ?? 10);
  const windowSeconds = Number(p.MaximumBatchingWindowInSeconds ?? 0);
  if (!(batchSize > 0) || !(windowSeconds > 0)) {
    throw new Error(
      `The journal queue's event source mapping has BatchSize ${batchSize} and window ${windowSeconds} s; both must be above 0`,
    );
  }
  return { batchSize, windowSeconds };
}

async function collections(
  emu: { instanceUrl: string; accessToken: string },
  method: 'POST' | 'PATCH',
  body: unknown,
): Promise<string[]> {
  const response = await fetch(`${emu.instanceUrl}/services/data/v62.0/composite/sobjects`, {
    method,
    headers: { authorization: `Bearer ${emu.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { id?: string; success?: boolean; errors?: unknown[] }[];
  if (!response.ok || !Array.isArray(answer) || answer.some((r) => !r.success || !r.id)) {
    throw new Error(
      `${method} /composite/sobjects answered ${response.status}: ${JSON.stringify(answer).slice(0, 300)}`,
    );
  }
  return answer.map((r) => r.id as string);
}

function ackAll(acks: Map<string, number[]>, ids: readonly string[], at: number): void {
  for (const id of ids) {
    const list = acks.get(id);
    if (list) list.push(at);
    else acks.set(id, [at]);
  }
}

function recordIdsOf(event: EventBridgeEvent): readonly string[] {
  return event.detail.payload.ChangeEventHeader.recordIds;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bench-journal-'));
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

function round(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);
}
