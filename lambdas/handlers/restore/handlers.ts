/**
 * The restore workflow's Lambda handlers: each parses its event, calls one step of the core and
 * returns small plain data (keys, counts, ids) for the next state.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import type { MetadataProgress } from '../../core/restore/metadata.ts';
import {
  filesStep,
  levelStep,
  metadataStep,
  objectStep,
  planStep,
  type RestoreRun,
  validateStep,
  verifyStep,
} from '../../core/restore/workflow.ts';
import { drillInput } from './drill.ts';
import { restoreDeps } from './deps.ts';

/** What Lambda passes as context (only the part the restore uses). */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** The restore's logger: ids, counts, keys and durations only, never field values. */
const logger = new Logger({ serviceName: 'sfbackup-restore' });

/** Most characters of a summary carried in the state; the full plan and report are in the vault. */
const SUMMARY_LIMIT = 30_000;

function clip(text: string): string {
  return text.length > SUMMARY_LIMIT
    ? `${text.slice(0, SUMMARY_LIMIT)}\n... (see the plan or report in the vault)`
    : text;
}

/** How long before the function's timeout an object step stops starting new batches. */
const SAFETY_MS = 90_000;

const runSchema = z.looseObject({
  orgId: z.string(),
  runId: z.string(),
  mode: z.enum(['dry-run', 'restore-deleted', 'revert-changes', 'full']),
  dryRun: z.boolean(),
  startedAt: z.string(),
  metadata: z.number(),
  drill: z.boolean().optional(),
});

function runOf(event: unknown): RestoreRun {
  return runSchema.parse((event as { run?: unknown }).run) as RestoreRun;
}

/** Validates the console input; an invalid one fails with InvalidRestoreRequestError, writing nothing. */
export async function validate(event: {
  input: unknown;
  executionName?: string;
}): Promise<{ run: RestoreRun }> {
  const runId = (event.executionName ?? `run-${Date.now()}`).replace(/[^A-Za-z0-9_.-]/g, '-');
  const raw = event.input;
  const isDrill = typeof raw === 'object' && raw !== null && (raw as { drill?: unknown }).drill === true;
  const deps = await restoreDeps(isDrill);
  const input = isDrill ? await drillInput(raw as Record<string, unknown>, deps) : raw;
  const run = await validateStep(deps, input, runId);
  logger.info('restore accepted', { runId, orgId: run.orgId, mode: run.mode, drill: isDrill });
  return { run: { ...run, ...(isDrill ? { drill: true } : {}) } };
}

/** Plans against the live org and writes the plan to the vault. */
export async function plan(event: { run: unknown }) {
  const run = runOf(event);
  const result = await planStep(await restoreDeps(run.drill), run);
  logger.info('restore planned', { runId: run.runId, levels: result.levels, ...result.totals });
  return { ...result, summary: clip(result.summary) };
}

/** The objects of one level of the restore order. */
export async function level(event: { run: unknown; level?: number }) {
  const run = runOf(event);
  const at = event.level ?? 0;
  const result = await levelStep(await restoreDeps(run.drill), run, at);
  return { ...result, next: at + 1 };
}

/** Restores one object, batch by batch, until done or close to the time limit. */
export async function restoreObject(
  event: { run: unknown; object: string; phase?: 'main' | 'second-pass'; cursor?: number },
  context?: LambdaContext,
) {
  const run = runOf(event);
  const remaining = context?.getRemainingTimeInMillis() ?? 15 * 60_000;
  const deadline = Date.now() + Math.max(remaining - SAFETY_MS, remaining / 2);
  const phase = event.phase ?? 'main';
  const result = await objectStep(
    await restoreDeps(run.drill),
    run,
    event.object,
    phase,
    event.cursor ?? 0,
    deadline,
  );
  return {
    run,
    object: event.object,
    phase,
    cursor: result.cursor,
    done: result.done,
    succeeded: result.succeeded,
    failed: result.failed,
  };
}

/** Brings back the files of the scope. */
export async function restoreFiles(event: { run: unknown }) {
  const run = runOf(event);
  return filesStep(await restoreDeps(run.drill), run);
}

/** Advances the metadata deploy: validation (checkOnly) first, then the real deploy. */
export async function restoreMetadata(event: { run: unknown; progress?: MetadataProgress }) {
  const run = runOf(event);
  return metadataStep(await restoreDeps(run.drill), run, event.progress ?? { done: false });
}

/** Compares the org with the snapshot and writes the report; `matches` decides the execution's end. */
export async function verify(event: { run: unknown }) {
  const run = runOf(event);
  const result = await verifyStep(await restoreDeps(run.drill), run);
  logger.info('restore verified', {
    runId: run.runId,
    matches: result.matches,
    failedRows: result.failedRows,
    recoveryTimeSeconds: result.recoveryTimeSeconds,
  });
  // The recovery time is the figure a drill exists to measure: published as a metric per org.
  const metrics = new Metrics({ namespace: 'SfBackup', serviceName: 'sfbackup-restore' });
  metrics.addDimension('org', process.env.ORG_KEY ?? 'unknown');
  metrics.addDimension('kind', run.drill ? 'drill' : 'restore');
  metrics.addMetric('RecoveryTimeSeconds', MetricUnit.Seconds, result.recoveryTimeSeconds);
  metrics.addMetric('RowsNotRestored', MetricUnit.Count, result.failedRows);
  metrics.publishStoredMetrics();
  return {
    matches: result.matches,
    reportKey: result.reportKey,
    failedRows: result.failedRows,
    recoveryTimeSeconds: result.recoveryTimeSeconds,
    drill: run.drill === true,
    // Kept well inside the state payload limit; the full report is in the vault.
    summary: clip(result.summary),
  };
}
