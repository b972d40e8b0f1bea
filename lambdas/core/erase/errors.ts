/**
 * Named errors of erasure. Their `name` is what the erase state machine catches: each ends the
 * execution at once, and an alert names it.
 */
import { ErrorName } from '../../../contract/workflow-contract.ts';
import type { InputProblem } from '../restore/errors.ts';

/** The erase input was rejected before anything was read or written. */
export class InvalidEraseRequestError extends Error {
  override readonly name = ErrorName.InvalidEraseRequest;
  constructor(readonly problems: readonly InputProblem[]) {
    super(
      `The erase input was rejected; nothing was written. ${problems
        .slice(0, 20)
        .map((p) => `${p.field}: ${p.problem} Fix: ${p.fix}`)
        .join(' | ')}`,
    );
  }
}

/** The vault is configured so that no one can remove a version: erasure cannot be done there. */
export class ErasureImpossibleError extends Error {
  override readonly name = ErrorName.ErasureImpossible;
}

/**
 * A real erasure found its org busy: before it claimed anything, a backup running, or a sweep, a
 * restore or another erasure holding a lease; or, once it held the org's leases (`holdsOrg`), a
 * backup that began before its claim still running. Nothing was erased; the workflow tries again,
 * and an erasure that holds the org keeps its leases meanwhile.
 */
export class ErasureMustWaitError extends Error {
  override readonly name = ErrorName.ErasureMustWait;
  constructor(
    message: string,
    readonly holdsOrg = false,
  ) {
    super(message);
  }
}

/** An id the input names is in no snapshot or journal of the org, or a filter matched no row. */
export class ErasureTargetNotFoundError extends Error {
  override readonly name = ErrorName.ErasureTargetNotFound;
}

/** The last scan of the org's versions still found an erased id or a filter value. */
export class ErasureTraceFoundError extends Error {
  override readonly name = ErrorName.ErasureTraceFound;
}
