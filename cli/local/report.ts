/** Plain-text lines the CLI prints about a local run. */
import { STEP_FUNCTIONS_LIMITS } from './history.ts';
import type { SnsMessage } from './integrations.ts';
import { causeMessage } from './invoke.ts';
import type { RunResult } from './run.ts';

function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

/**
 * Describes what Step Functions would have recorded for the run, against its limits, e.g.
 * `history: 15 events; 2,000 child executions, the largest 13 events; largest payload 1.2 KB (Plan)`.
 */
export function describeHistory(result: RunResult): string {
  const h = result.history;
  const parts = [`history: ${h.events.toLocaleString('en-US')} events`];
  if (h.childExecutions > 0) {
    parts.push(
      `${h.childExecutions.toLocaleString('en-US')} child executions, the largest ${h.largestChildEvents.toLocaleString('en-US')} events`,
    );
  }
  const [bytes, state] =
    h.largestPayloadBytes >= h.largestChildPayloadBytes
      ? [h.largestPayloadBytes, h.largestPayloadState]
      : [h.largestChildPayloadBytes, h.largestChildPayloadState];
  parts.push(`largest payload ${kilobytes(bytes)}${state ? ` (${state})` : ''}`);
  const verdict = result.withinLimits
    ? 'within'
    : `OVER (${STEP_FUNCTIONS_LIMITS.historyEvents.toLocaleString('en-US')} events, ${kilobytes(STEP_FUNCTIONS_LIMITS.payloadBytes)})`;
  return `${parts.join('; ')}; ${verdict} Step Functions limits`;
}

/** One SNS message as the CLI prints it. */
export function describeSnsMessage(message: SnsMessage): string {
  const topic = message.topic ?? message.topicArn;
  return `SNS ${topic}${message.subject ? ` "${message.subject}"` : ''}: ${message.message}`;
}

/** One line per failed Distributed Map child the result kept, and how many there were in all. */
export function describeChildFailures(result: RunResult): string[] {
  if (result.failedChildExecutions === 0) return [];
  const lines = result.childFailures.map(
    (f) =>
      `child ${f.execution} ${f.status}${f.error ? `: ${f.error}` : ''}${f.cause ? ` (${causeMessage(f.cause)})` : ''}`,
  );
  const hidden = result.failedChildExecutions - result.childFailures.length;
  if (hidden > 0) lines.push(`...and ${hidden} more failed child executions`);
  return lines;
}

/** The outcome line: status, and for a failure its error and message. */
export function describeOutcome(result: RunResult): string {
  if (result.status === 'SUCCEEDED') return 'execution SUCCEEDED';
  return `execution ${result.status}${result.error ? `: ${result.error}` : ''}${result.errorMessage ? ` (${result.errorMessage})` : ''}`;
}
