/**
 * The restore workflow's Lambda handlers: each parses its event, calls one step of the core and
 * returns small plain data (keys, counts, ids) for the next state.
 */
import { z } from 'zod';
import { RESTORES_PREFIX, ServiceName } from '../../../contract/workflow-contract.ts';
import { InvalidRestoreRequestError, InvalidRestoreStateError } from '../../core/restore/errors.ts';
import { ORG_ID, RESTORE_MODES } from '../../core/restore/input.ts';
import {
  fileCheckStep,
  rowCheckStep,
  filesStep,
  levelStep,
  metadataStep,
  objectStep,
  planStep,
  type RestoreRun,
  releaseStep,
  validateStep,
  verifyStep,
} from '../../core/restore/workflow.ts';
import { describeProblems, type EventProblem, parseEvent } from '../parse-event.ts';
import { FunctionConfigError, MetricUnit, orgNameFromEnv, storeFromEnv, telemetry } from '../runtime.ts';
import { drillObjectsFromEnv, restoreDeps } from './deps.ts';
import { drillInput } from './drill.ts';

/** What Lambda passes as context (only the part the restore uses). */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

const { instrumented } = telemetry(ServiceName.Restore);

/** Most characters of a summary carried in the state; the full plan and report are in the vault. */
const SUMMARY_LIMIT = 30_000;

function clip(text: string): string {
  return text.length > SUMMARY_LIMIT
    ? `${text.slice(0, SUMMARY_LIMIT)}\n... (see the plan or report in the vault)`
    : text;
}

/** How long before the function's timeout an object step stops starting new batches. */
const SAFETY_MS = 90_000;

const EXAMPLE_INPUT = '{"snapshot": "latest", "objects": ["Account"], "mode": "dry-run"}';

function rejectRequest(problems: readonly EventProblem[]): InvalidRestoreRequestError {
  return new InvalidRestoreRequestError(
    problems.map((p) => ({
      field: p.path === '(root)' ? '(input)' : p.path,
      problem: `${p.message}.`,
      fix: `start the restore with a JSON object such as ${EXAMPLE_INPUT}.`,
    })),
  );
}

function parseState<T>(schema: z.ZodType<T>, event: unknown, what: string): T {
  return parseEvent(
    schema,
    event,
    (problems) => new InvalidRestoreStateError(describeProblems(what, problems)),
  );
}

// The execution's input, wrapped by the state machine with the execution's name; the input
// itself is parsed by the core, which names every problem and the fix for it.
const validateEvent = z.object({ input: z.unknown(), executionName: z.string().min(1).optional() });
const drillMarker = z.looseObject({ drill: z.literal(true) });
const drillRequest = z.looseObject({
  drill: z.literal(true),
  objects: z.array(z.string().min(1), { error: 'a list of object API names such as ["Account"]' }).optional(),
});

const run = z.object({
  orgId: z.string().regex(ORG_ID, 'an org id starting with 00D'),
  // Checked against the function's own configured org by the core before any key is made.
  root: z.string().startsWith(RESTORES_PREFIX, 'a restore root such as restores/<org name>/<org id>/'),
  runId: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, ".", "_" or "-"'),
  mode: z.enum(RESTORE_MODES),
  dryRun: z.boolean(),
  startedAt: z.iso.datetime(),
  metadata: z.number().int().nonnegative(),
  drill: z.boolean().optional(),
});
const runEvent = z.object({ run });
const levelEvent = z.object({ run, level: z.number().int().nonnegative().optional() });
const objectEvent = z.object({
  run,
  object: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'an object API name'),
  phase: z.enum(['main', 'second-pass']).optional(),
  cursor: z.number().int().nonnegative().optional(),
});
const filesEvent = z.object({ run, cursor: z.number().int().nonnegative().optional() });
/**
 * The verify step's state; `fileCheck` when it checks the restored files, a group at a time;
 * `rowCheck` when it checks the restored rows, an object at a time.
 */
const verifyEvent = z
  .object({
    run,
    fileCheck: z.object({ cursor: z.number().int().nonnegative() }).optional(),
    rowCheck: z.object({ cursor: z.number().int().nonnegative() }).optional(),
  })
  .refine((state) => !(state.fileCheck && state.rowCheck), {
    message: 'a verify step checks the files or the rows, not both: pass fileCheck or rowCheck',
    path: ['rowCheck'],
  });
const metadataEvent = z.object({
  run,
  progress: z
    .object({
      deployId: z.string().min(1).optional(),
      checkOnly: z.boolean().optional(),
      retrieveId: z.string().min(1).optional(),
      done: z.boolean(),
      deployed: z.number().int().nonnegative().optional(),
      report: z.string().optional(),
    })
    .optional(),
});

/** Validates the console input; an invalid one fails with InvalidRestoreRequestError, writing nothing. */
export async function validate(event: unknown): Promise<{ run: RestoreRun }> {
  const { input, executionName } = parseEvent(validateEvent, event, rejectRequest);
  const runId = (executionName ?? `run-${Date.now()}`).replace(/[^A-Za-z0-9_.-]/g, '-');
  const drill = drillMarker.safeParse(input).success
    ? parseEvent(drillRequest, input, rejectRequest)
    : undefined;
  return instrumented('Validate', orgNameFromEnv(), async ({ logger }) => {
    const deps = await restoreDeps(drill !== undefined).catch((error: unknown) => {
      throw drill ? noSandbox(error) : error;
    });
    const request = drill ? await drillInput(drill, drillObjectsFromEnv(), deps) : input;
    const accepted = await validateStep(deps, request, runId);
    logger.info('restore accepted', { runId, orgId: accepted.orgId, mode: accepted.mode, drill: !!drill });
    return { run: { ...accepted, ...(drill ? { drill: true } : {}) } };
  });
}

/** A drill whose sandbox cannot be reached: one line saying what to configure, whatever the cause. */
function noSandbox(error: unknown): FunctionConfigError {
  const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new FunctionConfigError(
    `The restore drill has no sandbox it can reach (${cause.replace(/\s+/g, ' ').slice(0, 500)}). Configure restoreDrill with the sandbox's secret for this org, or give a local run --drill-instance-url and --drill-access-token.`,
  );
}

/** Plans against the live org and writes the plan to the vault. */
export async function plan(event: unknown) {
  const { run } = parseState(runEvent, event, 'The plan step state');
  return instrumented('Plan', orgNameFromEnv(), async ({ logger }) => {
    const result = await planStep(await restoreDeps(run.drill), run);
    logger.info('restore planned', { runId: run.runId, levels: result.levels, ...result.totals });
    return { ...result, summary: clip(result.summary) };
  });
}

/** The objects of one level of the restore order. */
export async function level(event: unknown) {
  const { run, level: at = 0 } = parseState(levelEvent, event, 'The level step state');
  return instrumented('Level', orgNameFromEnv(), async () => {
    const result = await levelStep(await restoreDeps(run.drill), run, at);
    return { ...result, next: at + 1 };
  });
}

/** Restores one object, batch by batch, until done or close to the time limit. */
export async function restoreObject(event: unknown, context?: LambdaContext) {
  const input = parseState(objectEvent, event, 'The object step state');
  const { run, object } = input;
  const phase = input.phase ?? 'main';
  const remaining = context?.getRemainingTimeInMillis() ?? 15 * 60_000;
  const deadline = Date.now() + Math.max(remaining - SAFETY_MS, remaining / 2);
  return instrumented('RestoreObject', orgNameFromEnv(), async () => {
    const deps = await restoreDeps(run.drill);
    const result = await objectStep(deps, run, object, phase, input.cursor ?? 0, deadline);
    return {
      run,
      object,
      phase,
      cursor: result.cursor,
      done: result.done,
      succeeded: result.succeeded,
      failed: result.failed,
    };
  });
}

/** Brings back the files of the scope, file by file, until done or close to the time limit. */
export async function restoreFiles(event: unknown, context?: LambdaContext) {
  const { run, cursor } = parseState(filesEvent, event, 'The files step state');
  const remaining = context?.getRemainingTimeInMillis() ?? 15 * 60_000;
  const deadline = Date.now() + Math.max(remaining - SAFETY_MS, remaining / 2);
  return instrumented('RestoreFiles', orgNameFromEnv(), async () =>
    filesStep(await restoreDeps(run.drill), run, cursor ?? 0, deadline),
  );
}

/** Advances the metadata deploy: validation (checkOnly) first, then the real deploy. */
export async function restoreMetadata(event: unknown) {
  const { run, progress } = parseState(metadataEvent, event, 'The metadata step state');
  return instrumented('RestoreMetadata', orgNameFromEnv(), async () =>
    metadataStep(await restoreDeps(run.drill), run, progress ?? { done: false }),
  );
}

/**
 * Compares the org with the snapshot and writes the report; `matches` decides the execution's end.
 * With `fileCheck`, checks the restored files from its cursor until done or close to the time limit;
 * with `rowCheck`, the restored rows, an object at a time.
 */
export async function verify(event: unknown, context?: LambdaContext) {
  const { run, fileCheck, rowCheck } = parseState(verifyEvent, event, 'The verify step state');
  const remaining = context?.getRemainingTimeInMillis() ?? 15 * 60_000;
  const deadline = Date.now() + Math.max(remaining - SAFETY_MS, remaining / 2);
  if (fileCheck) {
    return instrumented('VerifyFiles', orgNameFromEnv(), async () =>
      fileCheckStep(await restoreDeps(run.drill), run, fileCheck.cursor, deadline),
    );
  }
  if (rowCheck) {
    return instrumented('VerifyRows', orgNameFromEnv(), async () =>
      rowCheckStep(await restoreDeps(run.drill), run, rowCheck.cursor, deadline),
    );
  }
  return instrumented('Verify', orgNameFromEnv(), async ({ metrics, logger }) => {
    const result = await verifyStep(await restoreDeps(run.drill), run);
    logger.info('restore verified', {
      runId: run.runId,
      matches: result.matches,
      failedRows: result.failedRows,
      recoveryTimeSeconds: result.recoveryTimeSeconds,
    });
    // The recovery time is the figure a drill exists to measure: published as a metric per org.
    metrics.addDimension('kind', run.drill ? 'drill' : 'restore');
    metrics.addMetric('RecoveryTimeSeconds', MetricUnit.Seconds, result.recoveryTimeSeconds);
    metrics.addMetric('RowsNotRestored', MetricUnit.Count, result.failedRows);
    return {
      matches: result.matches,
      reportKey: result.reportKey,
      failedRows: result.failedRows,
      recoveryTimeSeconds: result.recoveryTimeSeconds,
      drill: run.drill === true,
      // Kept well inside the state payload limit; the full report is in the vault.
      summary: clip(result.summary),
    };
  });
}

// The failure path hands over its whole state: a step that failed before the run was accepted
// left no run, and there is then no lease to release.
const releaseEvent = z.object({ state: z.looseObject({ run: z.unknown().optional() }).optional() });

/** Frees the org's restore lease on the failure path, so the next restore need not wait for it to expire. */
export async function releaseRestoreLease(event: unknown): Promise<{ released: boolean }> {
  const { state } = parseState(releaseEvent, event, 'The lease release state');
  const parsed = run.safeParse(state?.run);
  if (!parsed.success) return { released: false };
  const accepted = parsed.data;
  return instrumented('ReleaseLease', orgNameFromEnv(), async ({ logger }) => {
    // The vault alone: freeing the lease must not depend on reaching the org. The run's root is
    // checked against the configured org this function belongs to before anything is written.
    await releaseStep({ orgName: orgNameFromEnv(), store: storeFromEnv() }, accepted);
    logger.info('restore lease released', { runId: accepted.runId, orgId: accepted.orgId });
    return { released: !accepted.dryRun };
  });
}
