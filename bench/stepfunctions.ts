/**
 * Benchmark "stepfunctions": one full backup execution of a small and a large org, measured as Step
 * Functions would record it (largest state payload, history events, child executions), and
 * what a daily run costs on AWS from the measured transitions, Lambda GB-seconds and S3 requests.
 */
import { countStoreRequests, ExecutionMeter, executionCost, taskMemory } from './aws-cost.ts';
import { freshVault, synthesizedBackup, timedBackup } from './backup-run.ts';
import type { BenchOptions } from './options.ts';
import { startEmulatorProcess } from './proc.ts';
import type { Report } from './report.ts';

/** Runs benchmark "stepfunctions" for both org sizes. */
export async function benchStepFunctions(report: Report, o: BenchOptions): Promise<void> {
  const memory = taskMemory(synthesizedBackup());
  if (memory.size === 0) throw new Error('No Lambda task found in the synthesized backup workflow');
  for (const [size, objects] of [
    ['small', o.sfnSmall],
    ['large', o.sfnLarge],
  ] as const) {
    const section = `Step Functions: one full backup of ${objects.toLocaleString('en-US')} objects`;
    const add = (name: string, label: string, value: number, unit: string) =>
      report.add({ section, name: `sfn.${size}.${name}`, label, value, unit });
    const emu = await startEmulatorProcess({
      generate: `objects=${objects},rows=2,fields=20,seed=42,files=0`,
    });
    const meter = new ExecutionMeter(memory);
    const counting = countStoreRequests();
    try {
      const run = await timedBackup(emu, freshVault(), 'full', {
        settings: { pollIntervalMs: 200 },
        onEvent: meter.onEvent,
        maxConcurrency: 16,
      });
      counting.stop();
      const h = run.result.history;
      const cost = executionCost(meter, counting.requests);
      add('objects', 'objects backed up', run.summary.objects, 'objects');
      add(
        'largest_payload_bytes',
        'largest state payload (limit 262,144)',
        Math.max(h.largestPayloadBytes, h.largestChildPayloadBytes),
        'bytes',
      );
      add('history_events', 'history events of the execution (limit 25,000)', h.events, 'events');
      add('child_executions', 'Distributed Map child executions', h.childExecutions, 'executions');
      add(
        'largest_child_events',
        'history events of the largest child execution',
        h.largestChildEvents,
        'events',
      );
      add('state_transitions', 'state transitions (children included)', meter.transitions, 'transitions');
      add('lambda_invocations', 'Lambda invocations', meter.invocations, 'invocations');
      add(
        'lambda_gb_seconds',
        'Lambda GB-seconds (template memory x measured duration)',
        meter.gbSeconds,
        'GB-s',
      );
      add('s3_write_requests', 'S3 PUT/LIST requests', counting.requests.writes, 'requests');
      add('s3_read_requests', 'S3 GET/HEAD requests', counting.requests.reads, 'requests');
      add('cost_per_run_usd', 'AWS cost of one run (Step Functions + Lambda + S3)', cost.total, 'USD');
      add('cost_sfn_share', 'Step Functions share of that cost', cost.stepFunctions / cost.total, 'ratio');
      add('cost_per_month_usd', 'daily runs for 30 days', cost.total * 30, 'USD');
    } finally {
      counting.stop();
      await emu.stop();
    }
  }
}
