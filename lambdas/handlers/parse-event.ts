/**
 * Parsing at the edge: every handler checks its event with zod before calling the core, and a bad
 * event becomes the workflow's own named error (which the state machine's Catch matches), never a
 * ZodError.
 */
import { z } from 'zod';
import { orgNameProblem } from '../../contract/workflow-contract.ts';

/** One thing wrong with an event: the field at fault (`(root)` for the event itself) and what. */
export interface EventProblem {
  readonly path: string;
  readonly message: string;
}

/** Parses `event` with `schema`, or throws the error `reject` makes of every problem found. */
export function parseEvent<T>(
  schema: z.ZodType<T>,
  event: unknown,
  reject: (problems: readonly EventProblem[]) => Error,
): T {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  throw reject(
    result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(root)',
      message: issue.message,
    })),
  );
}

/** The problems as one line for an error message, such as `The finish input is invalid: org: ...`. */
export function describeProblems(what: string, problems: readonly EventProblem[]): string {
  return `${what} is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
}

/** An org name (the vault prefix), checked with the contract's rule. */
export const orgNameField = z.string().superRefine((value, ctx) => {
  const problem = orgNameProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
