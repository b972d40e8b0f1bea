import { ORG_NAME_RULE, orgNameProblem } from '../contract/workflow-contract.ts';

/** What a share of the daily API allowance must be, for error messages. */
export const SHARE_RULE = 'a number greater than 0 and at most 1, such as 0.5';

/** True when `value` is a share of an allowance: more than nothing, at most all of it. */
export function isShare(value: number): boolean {
  return value > 0 && value <= 1;
}

/** True when `value` is a whole number from `min` to `max`. */
export function isWholeNumber(value: number, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Collects the problems of a construct's props so that one error lists all of them: a caller
 * fixes everything in one go instead of one problem per synth.
 */
export class PropsProblems {
  private readonly problems: string[] = [];

  constructor(
    /** The construct's class and id, such as "BackupWorkflow AcmeProdBackup". */
    private readonly owner: string,
  ) {}

  /** Records the org-name rule's problem with `name`, if any. */
  orgName(prop: string, name: unknown): this {
    if (orgNameProblem(name) !== undefined) {
      this.problems.push(`${prop} is ${JSON.stringify(name)}: write ${ORG_NAME_RULE}`);
    }
    return this;
  }

  /** Records a problem when `value` is set and is not a share of an allowance. */
  share(prop: string, value: number | undefined): this {
    if (value !== undefined && !isShare(value))
      this.problems.push(`${prop} is ${value}: write ${SHARE_RULE}`);
    return this;
  }

  /** Records a problem when `value` is set and is not a whole number from `min` to `max`. */
  wholeNumber(prop: string, value: number | undefined, min: number, max?: number): this {
    if (value !== undefined && !isWholeNumber(value, min, max)) {
      const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
      this.problems.push(`${prop} is ${value}: write a whole number ${range}`);
    }
    return this;
  }

  /** Throws one error listing every recorded problem; does nothing when there is none. */
  throwIfAny(): void {
    if (this.problems.length > 0) throw new Error(`${this.owner}: ${this.problems.join('; ')}.`);
  }
}
