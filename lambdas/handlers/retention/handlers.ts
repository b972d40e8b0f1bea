/**
 * The retention sweeper: thin over lambdas/core/retention/sweep.ts. The one function of the app
 * that is handed a store that can remove; its role may delete only under its own org's
 * snapshots, catalog and files.
 */
import { z } from 'zod';
import { EnvName, ErrorName, ServiceName } from '../../../contract/workflow-contract.ts';
import { parseRetentionPolicy } from '../../core/retention/policy.ts';
import { type SweepOutput, sweepOrg } from '../../core/retention/sweep.ts';
import { endSweepTurn } from '../../core/vault-lease.ts';
import { describeProblems, parseEvent } from '../parse-event.ts';
import { MetricUnit, orgNameFromEnv, readEnv, removingStoreFromEnv, telemetry } from '../runtime.ts';

/** The sweep step was handed a state it cannot read: a defect of the workflow. */
export class InvalidSweepStateError extends Error {
  override readonly name = ErrorName.InvalidSweepState;
}

const { instrumented } = telemetry(ServiceName.Retention);

/** Time kept back from the invocation's end to log and return. */
export const SWEEP_MARGIN_MS = 60_000;

/** Where the previous invocation of the sweep stopped (lambdas/core/retention/sweep.ts SweepCursor). */
const sweepCursor = z
  .object({
    sweptAt: z.string().datetime(),
    planned: z
      .object({
        source: z.number().int().nonnegative(),
        list: z.number().int().nonnegative(),
        folder: z.number().int().min(0).max(256).optional(),
      })
      .strict()
      .optional(),
    indexAfter: z.string().min(1).optional(),
    indexDone: z.literal(true).optional(),
    bodiesRemoved: z.number().int().nonnegative().optional(),
  })
  .strict();

const sweepEvent = z.object({
  executionName: z.string().min(1).max(80),
  /** `release`: the execution failed; give its turn back (a sweep that died held it). */
  step: z.literal('release').optional(),
  /**
   * The state the task was entered with: the execution's input on the first invocation, the
   * previous invocation's answer after one that ran out of time (its cursor is where to go on).
   */
  state: z.object({ cursor: sweepCursor.nullish() }).optional(),
});

/** What Lambda passes besides the event. */
export interface SweepContext {
  getRemainingTimeInMillis(): number;
}

/**
 * Sweeps the org's expired snapshots; `done: false` when its time ran out first (run it again).
 * With `step: "release"`, gives the execution's turn back instead: the workflow's failure path.
 */
export async function sweep(
  event: unknown,
  context?: SweepContext,
): Promise<SweepOutput | { released: true }> {
  const { executionName, step, state } = parseEvent(
    sweepEvent,
    event,
    (problems) => new InvalidSweepStateError(describeProblems('The sweep state', problems)),
  );
  const org = orgNameFromEnv();
  if (step === 'release') {
    return instrumented('SweepRelease', org, async ({ logger }) => {
      await endSweepTurn(removingStoreFromEnv(), org, executionName, Date.now, true);
      logger.info('sweep ended: its turn given back', { executionName });
      return { released: true as const };
    });
  }
  const policy = parseRetentionPolicy(readEnv(EnvName.RetentionPolicy));
  return instrumented('Sweep', org, async ({ logger, metrics }) => {
    const store = removingStoreFromEnv();
    const remaining = context?.getRemainingTimeInMillis() ?? 15 * 60_000;
    const out = await sweepOrg(
      {
        store,
        remover: store,
        clock: () => new Date(),
        deadline: new Date(Date.now() + Math.max(remaining - SWEEP_MARGIN_MS, 0)),
      },
      { org, policy, execution: executionName, ...(state?.cursor ? { cursor: state.cursor } : {}) },
    );
    logger.info('sweep finished', { ...out });
    metrics.addMetric('SnapshotsExpired', MetricUnit.Count, out.expired);
    metrics.addMetric('SnapshotsKept', MetricUnit.Count, out.kept);
    return out;
  });
}
