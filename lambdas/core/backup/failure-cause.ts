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
  const label = callLabelOf(error instanceof Error ? error.message : '');
  if (label) parts.push(`in ${label}`);
  return parts.join(' ');
}

/** The call a message names before its first ": ", when it is a label the code wrote. */
function callLabelOf(message: string): string | undefined {
  const colon = message.indexOf(': ');
  const label = colon > 0 ? message.slice(0, colon) : '';
  return CALL_LABEL.test(label) ? label : undefined;
}

/** The failure of the latest of several attempts, with how many there were, for a problem line. */
export function describeAttempts(failures: readonly StepFailure[]): string {
  const last = [...failures].sort((a, b) => a.at.localeCompare(b.at)).at(-1);
  if (!last) return '';
  return `${last.cause}, ${failures.length} attempt${failures.length === 1 ? '' : 's'}`;
}

/** The error document Step Functions passes to a Catch: `Error` and a `Cause` text. */
export interface TaskFailure {
  readonly Error?: string;
  readonly Cause?: string;
}

const ERROR_NAME = /^[A-Za-z][\w.:-]{0,99}$/;
// Step Functions and Lambda write these errors' causes themselves ("Task timed out after 900.00
// seconds", "The cause could not be determined..."); they never quote the org's data.
const SERVICE_ERROR = /^(States|Lambda|Sandbox)\./;

/**
 * A short cause of a task that failed for good, from the error document the state machine
 * caught, carrying no values: the error's name and type, and the call its message names before
 * the first ": ". Lambda's Cause is a JSON document whose `errorMessage` may quote Salesforce's
 * text, so the message itself is kept only when Step Functions or Lambda wrote it.
 */
export function taskFailureCause(error?: TaskFailure): string {
  if (!error) return 'failed without an error';
  const name = error.Error && ERROR_NAME.test(error.Error) ? error.Error : 'Error';
  const cause = error.Cause ?? '';
  let document: { errorType?: unknown; errorMessage?: unknown } | undefined;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object') document = parsed as typeof document;
  } catch {
    // Not Lambda's JSON error document.
  }
  if (!document) {
    return SERVICE_ERROR.test(name) && cause ? `${name}: ${cause.slice(0, 300)}` : name;
  }
  const parts = [name];
  if (
    typeof document.errorType === 'string' &&
    ERROR_NAME.test(document.errorType) &&
    document.errorType !== name
  ) {
    parts.push(`(${document.errorType})`);
  }
  const label = callLabelOf(typeof document.errorMessage === 'string' ? document.errorMessage : '');
  if (label) parts.push(`in ${label}`);
  return parts.join(' ');
}

/**
 * The error a function lets out to Step Functions: a Salesforce error keeps its name (which the
 * state machines match) with a value-free message, since Lambda logs the message and the
 * workflows carry it into alerts; any other error passes unchanged.
 */
export function withoutSalesforceText(error: unknown): unknown {
  if (!(error instanceof SalesforceError)) return error;
  const safe = new Error(
    `${shortCause(error)}; Salesforce's message is left out, as it can quote the org's data`,
  );
  safe.name = error.name;
  return safe;
}
