/**
 * Named errors of the restore. Their `name` is what the state machine's Catch matches, so a
 * rejected input ends the execution at once and a failed verification goes through the failure
 * path (its lease freed, its alert sent).
 */

import { ErrorName } from '../../../contract/workflow-contract.ts';

/** One problem with the restore input: the field at fault and what to write instead. */
export interface InputProblem {
  readonly field: string;
  readonly problem: string;
  readonly fix: string;
}

/** Problems a rejection names one by one; the rest are counted. */
export const REPORTED_PROBLEMS = 20;
/** Longest text of one problem in a rejection's message. */
const PROBLEM_TEXT_LIMIT = 300;

/** The restore input was rejected before anything was written. */
export class InvalidRestoreRequestError extends Error {
  override readonly name = ErrorName.InvalidRestoreRequest;
  /** The first problems found (at most REPORTED_PROBLEMS); `problemCount` counts them all. */
  readonly problems: readonly InputProblem[];
  readonly problemCount: number;
  constructor(problems: readonly InputProblem[]) {
    const shown = problems.slice(0, REPORTED_PROBLEMS);
    const more = problems.length - shown.length;
    super(
      `The restore input was rejected; nothing was written. ${shown
        .map((p) => clipText(`${p.field}: ${p.problem} Fix: ${p.fix}`))
        .join(' | ')}${more > 0 ? ` | ... and ${more} more problem(s): fix these first.` : ''}`,
    );
    this.problems = shown;
    this.problemCount = problems.length;
  }
}

function clipText(text: string): string {
  return text.length > PROBLEM_TEXT_LIMIT ? `${text.slice(0, PROBLEM_TEXT_LIMIT)}...` : text;
}

/** No snapshot matches the input's `snapshot`. */
export class UnknownSnapshotError extends Error {
  override readonly name = ErrorName.UnknownSnapshot;
  constructor(
    readonly selector: string,
    detail: string,
  ) {
    super(`No snapshot matches "${selector}": ${detail}`);
  }
}

/** The org the credentials reach is not the org the restore was confirmed for. */
export class OrgMismatchError extends Error {
  override readonly name = ErrorName.RestoreOrgMismatch;
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`The target org is ${actual}, but the restore was confirmed for ${expected}; nothing was written.`);
  }
}

/** After the restore, the org does not match the snapshot on some rows or fields. */
export class RestoreVerificationError extends Error {
  override readonly name = ErrorName.RestoreVerification;
  constructor(
    readonly failedRows: number,
    readonly reportKey: string,
  ) {
    super(
      `${failedRows} row(s) do not match the snapshot after the restore; see the report at ${reportKey}.`,
    );
  }
}

/** A metadata deploy (validation or real) failed. */
export class MetadataDeployError extends Error {
  override readonly name = ErrorName.MetadataDeploy;
  constructor(
    readonly checkOnly: boolean,
    readonly failures: readonly { readonly component: string; readonly problem: string }[],
  ) {
    super(
      `The metadata ${checkOnly ? 'validation (checkOnly)' : 'deploy'} failed: ${failures
        .map((f) => `${f.component}: ${f.problem}`)
        .join('; ')}`,
    );
  }
}

/** The components a deploy reported as saved do not read back as the snapshot holds them. */
export class MetadataVerificationError extends Error {
  override readonly name = ErrorName.MetadataVerification;
  constructor(readonly problems: readonly string[]) {
    super(
      `The deployed metadata does not match the snapshot when retrieved back: ${problems.join('; ')}. Check the components in Setup and run the restore again.`,
    );
  }
}

/** A step's state (what the previous step returned) does not have the expected shape: a fault of the workflow, not of the input. */
export class InvalidRestoreStateError extends Error {
  override readonly name = ErrorName.InvalidRestoreState;
}

/**
 * Another restore holds the org's restore lease: two restores writing to one org at once would
 * each insert the rows the other inserts. Nothing was written to the org.
 */
export class RestoreInProgressError extends Error {
  override readonly name = ErrorName.RestoreInProgress;
}

/** A restore's lease on its org expired or passed to another restore; it stops before writing more. */
export class RestoreLeaseLostError extends Error {
  override readonly name = ErrorName.RestoreLeaseLost;
}
