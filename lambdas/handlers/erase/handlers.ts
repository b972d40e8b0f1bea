/**
 * The erase function: one function (so one role, the only workflow role that may remove versions)
 * whose `step` says which part of the workflow it runs, each thin over lambdas/core/erase/.
 */
import { z } from 'zod';
import { EnvName, ErrorName, ServiceName } from '../../../contract/workflow-contract.ts';
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

/** An erase step was handed a state it cannot read: a defect of the workflow, not of the request. */
export class InvalidEraseStateError extends Error {
  override readonly name = ErrorName.InvalidEraseState;
}

const { instrumented } = telemetry(ServiceName.Erase);

const count = z.number().int().nonnegative();
const event = z.discriminatedUnion('step', [
  z.object({ step: z.literal('start'), input: z.unknown(), executionName: z.string().min(1) }),
  z.object({ step: z.literal('erase'), input: z.unknown(), planKey: z.string().min(1) }),
  z.object({ step: z.literal('release'), executionName: z.string().min(1) }),
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
      const out = await startErasure(deps, e.input, e.executionName);
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
      const out = await releaseErasure(deps, e.executionName);
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
