/**
 * The backup workflow's Lambda handlers: parse the state's small input, call the core, return keys
 * and counts. Each exported function is one Task of the state machine.
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import {
  BACKUP_MODES,
  BackupSuccessMetric,
  ErrorName,
  ServiceName,
} from '../../../contract/workflow-contract.ts';
import { compareObject } from '../../core/backup/changes.ts';
import { exportObject, recordObjectFailure } from '../../core/backup/export-object.ts';
import { exportWorkerPages } from '../../core/backup/parallel-export.ts';
import { backupFiles, planFiles, recordFilesFailure } from '../../core/backup/files.ts';
import { finishBackup } from '../../core/backup/finish.ts';
import { planMetadata, retrieveMetadata } from '../../core/backup/metadata.ts';
import { planBackup } from '../../core/backup/plan.ts';
import { backupHeartbeat } from '../../core/vault-lease.ts';
import { describeProblems, orgNameField as org, parseEvent } from '../parse-event.ts';
import { MetricUnit, telemetry } from '../runtime.ts';
import { backupDeps, settingsFromEnv } from './deps.ts';

/** The workflow input or a step's state did not have the expected shape. */
export class InvalidBackupRequestError extends Error {
  override readonly name = ErrorName.InvalidBackupRequest;
}

const { instrumented } = telemetry(ServiceName.Backup);

function parse<T>(schema: z.ZodType<T>, event: unknown, what: string): T {
  return parseEvent(
    schema,
    event,
    (problems) => new InvalidBackupRequestError(describeProblems(what, problems)),
  );
}

const snapshotRef = z.object({ org, snapshotId: z.string().min(1) });

/**
 * A step's dependencies, once it has said its run is still going: an erasure does not start while
 * a backup's heartbeat is live (lambdas/core/vault-lease.ts). Workers writing the same heartbeat
 * at once find it written; any other failure to write it fails the step, as a part write would.
 */
async function runningDeps(options: { salesforce: boolean }, run: { org: string; snapshotId: string }) {
  const deps = await backupDeps(options);
  await backupHeartbeat(deps.store, run.org, run.snapshotId, deps.clock().getTime());
  return deps;
}

const failure = z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional();

const requestSchema = z.object({
  org,
  mode: z.enum(BACKUP_MODES, { error: `write one of ${BACKUP_MODES.map((m) => `"${m}"`).join(', ')}` }),
  metadata: z.boolean().optional(),
  runId: z.string().optional(),
});

/** Plan: sign in, describe, count, and write the plan to the vault. */
export async function plan(event: unknown, _context?: Context) {
  const request = parse(requestSchema, event, 'The backup request');
  return instrumented('Plan', request.org, async ({ metrics, logger }) => {
    const deps = await backupDeps({ salesforce: true });
    const out = await planBackup(deps, request, settingsFromEnv());
    metrics.addMetric('PlanApiCalls', MetricUnit.Count, deps.source.apiCalls());
    logger.info('planned', {
      snapshotId: out.snapshotId,
      mode: out.mode,
      objects: out.objectsToExport,
      deferred: out.deferred,
    });
    return out;
  });
}

/** An invocation's attempt id (`newAttemptId`), which becomes part of vault keys. */
const attemptId = z
  .string()
  .regex(/^[0-9a-z]{8}$/, { error: 'an attempt id is 8 characters of 0-9 and a-z' });

const checkpointSchema = z
  .object({
    api: z.enum(['bulk', 'rest']),
    jobId: z.string().nullable(),
    jobPending: z.boolean().optional(),
    jobRestarts: z.number().int().nonnegative().optional(),
    locator: z.string().nullable(),
    nextPart: z.number().int().positive(),
    segment: z.number().int().positive(),
    segments: z.array(attemptId),
    apiCalls: z.number().int().nonnegative(),
    clause: z.number().int().nonnegative().optional(),
    parents: z
      .object({ files: z.number().int().nonnegative(), after: z.string().nullable(), done: z.boolean() })
      .optional(),
    pages: z
      .object({
        list: attemptId,
        pages: z.number().int().positive(),
        workers: z.number().int().positive(),
      })
      .optional(),
  })
  .nullable()
  .optional();

const workerSchema = snapshotRef.extend({
  object: z.string().min(1),
  worker: z.object({
    list: attemptId,
    index: z.number().int().nonnegative(),
    of: z.number().int().positive(),
  }),
  progress: z
    .object({
      position: z.number().int().nonnegative(),
      segment: z.number().int().positive(),
      segments: z.array(attemptId),
      apiCalls: z.number().int().nonnegative(),
    })
    .nullable()
    .optional(),
});

/**
 * Export one object (or the next slice of it, from its checkpoint), or, with `worker`, one worker's
 * share of a large object's result pages.
 */
export async function exportObjectHandler(event: unknown, _context?: Context) {
  if (typeof event === 'object' && event !== null && 'worker' in event) {
    const input = parse(workerSchema, event, 'The export worker input');
    return instrumented('Export', input.org, async ({ metrics, logger }) => {
      const deps = await runningDeps({ salesforce: true }, input);
      const out = await exportWorkerPages(deps, input);
      metrics.addMetric('ExportApiCalls', MetricUnit.Count, deps.source.apiCalls());
      metrics.addMetric('ExportRows', MetricUnit.Count, out.rowsWritten ?? 0);
      metrics.addMetric('ExportBytes', MetricUnit.Bytes, out.bytesWritten ?? 0);
      logger.info('exported pages', {
        snapshotId: input.snapshotId,
        object: input.object,
        worker: input.worker.index,
        of: input.worker.of,
        done: out.done,
      });
      return out;
    });
  }
  const input = parse(
    snapshotRef.extend({ object: z.string().min(1), checkpoint: checkpointSchema }),
    event,
    'The export input',
  );
  return instrumented('Export', input.org, async ({ metrics, logger }) => {
    const deps = await runningDeps({ salesforce: true }, input);
    const out = await exportObject(deps, input);
    metrics.addMetric('ExportApiCalls', MetricUnit.Count, deps.source.apiCalls());
    metrics.addMetric('ExportRows', MetricUnit.Count, out.rowsWritten ?? 0);
    metrics.addMetric('ExportBytes', MetricUnit.Bytes, out.bytesWritten ?? 0);
    logger.info('exported', { snapshotId: input.snapshotId, object: input.object, done: out.done });
    return out;
  });
}

/** Compare one exported object with the chain: what changed, by kind, for the finish step's alerts. */
export async function compareObjectHandler(event: unknown, _context?: Context) {
  const input = parse(snapshotRef.extend({ object: z.string().min(1) }), event, 'The compare input');
  return instrumented('Compare', input.org, async ({ logger }) => {
    const deps = await runningDeps({ salesforce: false }, input);
    const out = await compareObject(deps, input);
    logger.info('compared', {
      snapshotId: input.snapshotId,
      object: input.object,
      compared: out.compared,
      ...(out.skipped ? { skipped: out.skipped } : {}),
      ...(out.changes ? out.changes.counts : {}),
    });
    return { org: input.org, snapshotId: input.snapshotId, object: input.object, compared: out.compared };
  });
}

/** Record a permanent failure of an object or a files batch, so the finish step names it. */
export async function recordFailure(event: unknown, _context?: Context) {
  const input = parse(
    snapshotRef.extend({ object: z.string().optional(), batch: z.number().int().optional(), error: failure }),
    event,
    'The failure record',
  );
  return instrumented('RecordFailure', input.org, async ({ metrics, logger }) => {
    const deps = await runningDeps({ salesforce: false }, input);
    metrics.addMetric('PermanentFailures', MetricUnit.Count, 1);
    logger.warn('permanent failure', {
      snapshotId: input.snapshotId,
      object: input.object,
      batch: input.batch,
      errorName: input.error?.Error,
    });
    const error = input.error ?? {};
    if (input.object)
      return recordObjectFailure(deps, {
        org: input.org,
        snapshotId: input.snapshotId,
        object: input.object,
        error,
      });
    if (input.batch !== undefined)
      return recordFilesFailure(deps, {
        org: input.org,
        snapshotId: input.snapshotId,
        batch: input.batch,
        error,
      });
    throw new InvalidBackupRequestError(
      'The failure record names neither an object nor a files batch: give "object" or "batch".',
    );
  });
}

/** List the file bodies to fetch, reusing those the vault already holds. */
export async function planFilesHandler(event: unknown, _context?: Context) {
  const input = parse(
    snapshotRef.extend({ step: z.number().int().nonnegative().optional() }),
    event,
    'The files plan input',
  );
  return instrumented('FilesPlan', input.org, async ({ metrics }) => {
    const out = await planFiles(await runningDeps({ salesforce: false }, input), input);
    // The counts are the whole plan's, reported by the one invocation that recorded its end.
    if (out.finished) {
      metrics.addMetric('FilesReused', MetricUnit.Count, out.reused);
      metrics.addMetric('FilesToDownload', MetricUnit.Count, out.toDownload);
    }
    return out;
  });
}

/** Fetch one batch of file bodies. */
export async function backupFilesHandler(event: unknown, _context?: Context) {
  const input = parse(
    snapshotRef.extend({
      batch: z.number().int().positive(),
      from: z.number().int().nonnegative().optional(),
    }),
    event,
    'The files batch input',
  );
  return instrumented('Files', input.org, async ({ metrics }) => {
    const deps = await runningDeps({ salesforce: true }, input);
    const out = await backupFiles(deps, input);
    metrics.addMetric('FilesDownloaded', MetricUnit.Count, out.downloaded);
    metrics.addMetric('FilesApiCalls', MetricUnit.Count, deps.source.apiCalls());
    return out;
  });
}

/** List metadata and split it into retrieves. */
export async function planMetadataHandler(event: unknown, _context?: Context) {
  const input = parse(snapshotRef, event, 'The metadata plan input');
  return instrumented('MetadataPlan', input.org, async ({ metrics }) => {
    const deps = await runningDeps({ salesforce: true }, input);
    const out = await planMetadata(deps, input);
    metrics.addMetric('MetadataComponents', MetricUnit.Count, out.components);
    return { org: out.org, snapshotId: out.snapshotId, chunk: out.chunk, chunks: out.chunks, done: out.done };
  });
}

/** Run the next metadata retrieve. */
export async function retrieveMetadataHandler(event: unknown, _context?: Context) {
  const input = parse(
    snapshotRef.extend({
      chunk: z.number().int().nonnegative(),
      chunks: z.number().int().nonnegative(),
      done: z.boolean(),
    }),
    event,
    'The metadata retrieve input',
  );
  return instrumented('MetadataRetrieve', input.org, async () => {
    const deps = await runningDeps({ salesforce: true }, input);
    return retrieveMetadata(deps, input);
  });
}

/** Write the manifest, verify it, mark the snapshot complete or failed. */
export async function finishHandler(event: unknown, _context?: Context) {
  const input = parse(snapshotRef, event, 'The finish input');
  return instrumented('Finish', input.org, async ({ metrics, logger }) => {
    const deps = await runningDeps({ salesforce: true }, input);
    const out = await finishBackup(deps, input);
    metrics.addMetric('RunRows', MetricUnit.Count, out.rows);
    metrics.addMetric('RunApiCalls', MetricUnit.Count, out.apiCalls);
    metrics.addMetric('RunFiles', MetricUnit.Count, out.files);
    metrics.addMetric('SnapshotComplete', MetricUnit.Count, out.status === 'complete' ? 1 : 0);
    metrics.addMetric('SnapshotFailed', MetricUnit.Count, out.status === 'complete' ? 0 : 1);
    // Success per mode: the no-recent-success alarm (lib/alerting.ts) counts data runs only, since
    // a metadata run that succeeds says nothing about the org's records.
    const succeeded = metrics.singleMetric();
    const m = BackupSuccessMetric;
    succeeded.addDimensions({ [m.ModeDimension]: out.mode });
    succeeded.addDimensions({ [m.KindDimension]: out.mode === 'metadata' ? m.MetadataKind : m.DataKind });
    succeeded.addMetric(m.Name, MetricUnit.Count, out.status === 'complete' ? 1 : 0);
    logger.info('finished', {
      snapshotId: out.snapshotId,
      status: out.status,
      rows: out.rows,
      apiCalls: out.apiCalls,
    });
    return out;
  });
}
