import { describe, expect, it } from 'vitest';
import {
  describeChildFailures,
  describeHistory,
  describeOutcome,
  describeSnsMessage,
  type RunResult,
} from '../../cli/local/index.ts';

const base: RunResult = {
  executionName: 'local-1',
  status: 'SUCCEEDED',
  history: {
    events: 15,
    largestPayloadBytes: 2048,
    largestPayloadState: 'Plan',
    childExecutions: 2000,
    largestChildEvents: 13,
    largestChildPayloadBytes: 512,
    largestChildPayloadState: 'ExportObject',
  },
  withinLimits: true,
  snsMessages: [],
  failedChildExecutions: 0,
  childFailures: [],
};

describe('run reports', () => {
  it('describes the history against Step Functions limits, children apart', () => {
    expect(describeHistory(base)).toBe(
      'history: 15 events; 2,000 child executions, the largest 13 events; largest payload 2.0 KB (Plan); within Step Functions limits',
    );
    expect(describeHistory({ ...base, withinLimits: false })).toMatch(/OVER \(25,000 events, 256\.0 KB\)/);
  });

  it('names the error and its message for a failed run, and the topic and subject of an SNS message', () => {
    const failed: RunResult = {
      ...base,
      status: 'FAILED',
      error: 'BackupFailed',
      errorMessage: 'Account failed',
    };
    expect(describeOutcome(failed)).toBe('execution FAILED: BackupFailed (Account failed)');
    expect(describeOutcome(base)).toBe('execution SUCCEEDED');
    expect(
      describeSnsMessage({
        topicArn: 'arn:x',
        topic: 'Alerts',
        subject: 'Backup failed',
        message: '{}',
        stateName: 'A',
      }),
    ).toBe('SNS Alerts "Backup failed": {}');
  });

  it('lists the failed child executions it kept, with the message of each, and how many more there were', () => {
    const cause = JSON.stringify({
      errorType: 'PermanentExportError',
      errorMessage: 'Broken cannot be exported',
    });
    const failed: RunResult = {
      ...base,
      failedChildExecutions: 3,
      childFailures: [
        { execution: 'run/ExportEach/4', status: 'FAILED', error: 'PermanentExportError', cause },
      ],
    };
    expect(describeChildFailures(failed)).toEqual([
      'child run/ExportEach/4 FAILED: PermanentExportError (Broken cannot be exported)',
      '...and 2 more failed child executions',
    ]);
    expect(describeChildFailures(base)).toEqual([]);
  });
});
