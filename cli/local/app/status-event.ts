/**
 * The "Step Functions Execution Status Change" event Step Functions sends to EventBridge when a
 * Standard execution starts and when it ends, shaped as the Step Functions developer guide
 * ("EventBridge (CloudWatch Events) for Step Functions execution status changes") shows it:
 * dates in epoch milliseconds, `input` and `output` as JSON strings with `inputDetails` and
 * `outputDetails`, and `error` and `cause` null unless the execution failed, timed out or was aborted.
 */
import { randomUUID } from 'node:crypto';

/** An execution status as Step Functions reports it in these events. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What the event describes. */
export interface ExecutionFacts {
  readonly region: string;
  readonly account: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  /** When it ended; absent while RUNNING. */
  readonly stopDate?: Date;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/** The execution ARN Step Functions gives an execution of `stateMachineArn` named `name`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The event EventBridge receives for `facts`, at the stop date (or the start date while RUNNING). */
export function executionStatusChangeEvent(facts: ExecutionFacts): Record<string, unknown> {
  const executionArn = executionArnOf(facts.stateMachineArn, facts.name);
  const ended = facts.status !== 'RUNNING';
  const hasOutput = facts.status === 'SUCCEEDED' && facts.output !== undefined;
  const failed = facts.status === 'FAILED' || facts.status === 'TIMED_OUT' || facts.status === 'ABORTED';
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: facts.account,
    time: (facts.stopDate ?? facts.startDate).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: facts.region,
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: facts.stateMachineArn,
      name: facts.name,
      status: facts.status,
      startDate: facts.startDate.getTime(),
      stopDate: ended && facts.stopDate ? facts.stopDate.getTime() : null,
      input: JSON.stringify(facts.input ?? {}),
      output: hasOutput ? JSON.stringify(facts.output) : null,
      inputDetails: { included: true },
      outputDetails: hasOutput ? { included: true } : null,
      error: failed ? (facts.error ?? null) : null,
      cause: failed ? (facts.cause ?? null) : null,
    },
  };
}
