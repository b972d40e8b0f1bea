/**
 * The erase workflow's steps as the state machine runs them: each step again while it answers
 * `done: false` (its time ran out), until it answers its result.
 */
import type { ErasureOutcome } from '../../lambdas/core/erase/execute.ts';
import * as steps from '../../lambdas/core/erase/workflow.ts';

type Deps = Parameters<typeof steps.startErasure>[0];

/** Plans until the plan is written. */
export async function startErasure(
  deps: Deps,
  input: unknown,
  execution: string,
): Promise<steps.EraseStarted> {
  for (;;) {
    const out = await steps.startErasure(deps, input, execution);
    if (out.done) return out;
  }
}

/** Carries the plan out until it is done. */
export async function eraseFromPlan(deps: Deps, input: unknown, planKey: string): Promise<ErasureOutcome> {
  for (;;) {
    const { done, ...outcome } = await steps.eraseFromPlan(deps, input, planKey);
    if (done) return outcome;
  }
}

/** Scans until the log is written. */
export async function finishErasure(
  deps: Deps,
  input: unknown,
  planKey: string,
  outcome: ErasureOutcome,
): Promise<steps.EraseFinished> {
  for (;;) {
    const out = await steps.finishErasure(deps, input, planKey, outcome);
    if (out.done) return out;
  }
}

export const releaseErasure = steps.releaseErasure;
