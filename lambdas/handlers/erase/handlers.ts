/**
 * The erase function: one function (so one role, the only workflow role that may remove versions)
 * whose `step` says which part of the workflow it runs, each thin over lambdas/core/erase/.
 */
import { z } from 'zod';
import { EnvName, ERASURE_WAIT, ErrorName, ServiceName } from '../../../contract/workflow-contract.ts';
import { ErasureMustWaitError } from '../../core/erase/errors.ts';
import type { ErasureOutcome } from '../../core/erase/execute.ts';
import {
  type EraseFinished,
  type EraseStarted,
  type EraseStillPlanning,
  type EraseStillScanning,
  eraseFromPlan,
  finishErasure,
  releaseErasure,
  startErasure,
} from '../../core/erase/workflow.ts';
import { describeProblems, parseEvent } from '../parse-event.ts';
import { orgNameFromEnv, readEnv, telemetry, versionedStoreFromEnv } from '../runtime.ts';

/** A real erasure that found its org busy and claimed nothing: the state machine waits and runs it again. */
export interface EraseWaiting {
  readonly done: false;
  readonly waiting: true;
  /** Who is in the way, and until when at the latest: run ids and times, never a value. */
  readonly reason: string;
}

/**
 * True while an execution that started at `startedAt` may still wait for its org; never without
 * a start (a step invoked alone fails at once).
 */
export function stillWaiting(startedAt: string | undefined, now = Date.now()): boolean {
  if (startedAt === undefined) return false;
  return now - Date.parse(startedAt) < ERASURE_WAIT.forSeconds * 1000;
}

/** An erase step was handed a state it cannot read: a defect of the workflow, not of the request. */
export class InvalidEraseStateError extends Error {
  override readonly name = ErrorName.InvalidEraseState;
}

const { instrumented } = telemetry(ServiceName.Erase);

const count = z.number().int().nonnegative();
const event = z.discriminatedUnion('step', [
  z.object({
    step: z.literal('start'),
    input: z.unknown(),
    executionName: z.string().min(1),
    /** When the execution started: an erasure that finds its org busy waits until ERASURE_WAIT after it. */
    startedAt: z.string().datetime({ offset: true }).optional(),
  }),
  z.object({ step: z.literal('erase'), input: z.unknown(), planKey: z.string().min(1) }),
  z.object({
    step: z.literal('release'),
    executionName: z.string().min(1),
    // The name of the error the execution failed with, as its catch recorded it: whatever it is,
    // the leases are given back (the core keeps only a name-shaped string).
    error: z.unknown().optional(),
  }),
  z.object({
    step: z.literal('finish'),
    input: z.unknown(),
    planKey: z.string().min(1),
    outcome: z.object({
      keysRewritten: count,
      rowsRemoved: count,
      journalEventsRemoved: count,
      manifestsRewritten: count,
      catalogEntriesRewritten: count,
      versionsRemoved: count,
      copiesBlanked: count,
    }),
  }),
]);

/** Time kept back from the invocation's end to write a step's progress and return. */
export const ERASE_STEP_MARGIN_MS = 120_000;

/** What Lambda passes besides the event. */
export interface EraseContext {
  getRemainingTimeInMillis(): number;
}

/**
 * Runs one step of the erase workflow. A plan, erase or scan that cannot end before the
 * invocation's time is out keeps its progress in the vault and answers `done: false`; the state
 * machine runs the step again, which goes on from there.
 */
export async function erase(
  raw: unknown,
  context?: EraseContext,
): Promise<
  | EraseStarted
  | EraseStillPlanning
  | (ErasureOutcome & { done: boolean })
  | EraseFinished
  | EraseStillScanning
  | EraseWaiting
  | { released: true }
> {
  const e = parseEvent(
    event,
    raw,
    (problems) => new InvalidEraseStateError(describeProblems('The erase state', problems)),
  );
  const org = orgNameFromEnv();
  const store = versionedStoreFromEnv();
  const lockMode = readEnv(EnvName.ObjectLockMode);
  const remaining = context?.getRemainingTimeInMillis() ?? 15 * 60_000;
  const deps = {
    store,
    versions: store,
    org,
    clock: () => new Date(),
    deadline: new Date(Date.now() + Math.max(remaining - ERASE_STEP_MARGIN_MS, 0)),
    ...(lockMode ? { lockMode } : {}),
  };
  return instrumented(`Erase-${e.step}`, org, async ({ logger }) => {
    if (e.step === 'start') {
      let out: Awaited<ReturnType<typeof startErasure>>;
      try {
        out = await startErasure(deps, e.input, e.executionName);
      } catch (error) {
        if (!(error instanceof ErasureMustWaitError) || !stillWaiting(e.startedAt)) throw error;
        // Nothing written (an erasure waiting for a backup that began before its claim keeps the
        // org's leases, renewed at each try): the state machine waits and runs this step again.
        logger.info('erasure waits for its org', { reason: error.message });
        const waiting: EraseWaiting = { done: false, waiting: true, reason: error.message };
        return waiting;
      }
      if (!out.done) {
        logger.info('erasure still planning', { mode: out.mode, planKey: out.planKey });
        return out;
      }
      // Counts and keys only: the ids stay in the plan, in the vault.
      logger.info('erasure planned', {
        mode: out.mode,
        planKey: out.planKey,
        ids: out.ids,
        parts: out.parts,
        snapshots: out.snapshots,
      });
      return out;
    }
    if (e.step === 'release') {
      const out = await releaseErasure(
        deps,
        e.executionName,
        typeof e.error === 'string' ? e.error : undefined,
      );
      logger.info('erasure ended: restore leases released', { executionName: e.executionName });
      return out;
    }
    if (e.step === 'erase') {
      const out = await eraseFromPlan(deps, e.input, e.planKey);
      logger.info(out.done ? 'erasure carried out' : 'erasure still erasing', { planKey: e.planKey, ...out });
      return out;
    }
    const out = await finishErasure(deps, e.input, e.planKey, e.outcome);
    logger.info(out.done ? 'erasure logged' : 'erasure still scanning', { ...out });
    return out;
  });
}
