import { SalesforceError } from '../salesforce.ts';

/** One failed attempt of a step, as the finish step reports it. */
export interface StepFailure {
  /** The error's name, which the state machine matched. */
  readonly error: string;
  /** Name, Salesforce code, HTTP status and the call that failed; never values from the org. */
  readonly cause: string;
  /** When the attempt failed (ISO), to order attempts. */
  readonly at: string;
}

// The call an error names before its first ": " is a label the code wrote ("Metadata API
// retrieve"); what follows may quote Salesforce's message, which can hold the org's data.
const CALL_LABEL = /^[A-Za-z][\w .()/-]{0,79}$/;

/** A short cause of a failure that carries no values: name, code, status and the call. */
export function shortCause(error: unknown): string {
  const name = error instanceof Error ? error.name : 'Error';
  const parts = [name];
  if (error instanceof SalesforceError) {
    if (error.errorCode && /^[\w:]{1,80}$/.test(error.errorCode)) parts.push(error.errorCode);
    if (error.status !== undefined) parts.push(`(HTTP ${error.status})`);
  }
  const message = error instanceof Error ? error.message : '';
  const colon = message.indexOf(': ');
  const label = colon > 0 ? message.slice(0, colon) : '';
  if (CALL_LABEL.test(label)) parts.push(`in ${label}`);
  return parts.join(' ');
}

/** The failure of the latest of several attempts, with how many there were, for a problem line. */
export function describeAttempts(failures: readonly StepFailure[]): string {
  const last = [...failures].sort((a, b) => a.at.localeCompare(b.at)).at(-1);
  if (!last) return '';
  return `${last.cause}, ${failures.length} attempt${failures.length === 1 ? '' : 's'}`;
}
