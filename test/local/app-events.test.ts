import { describe, expect, it } from 'vitest';
import { InvalidEventPatternError, matchesEventPattern } from '../../cli/local/app/event-pattern.ts';
import { readJsonPath, transformInput } from '../../cli/local/app/input-transformer.ts';
import { executionStatusChangeEvent } from '../../cli/local/app/status-event.ts';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:AcmeBackup';

function failedEvent(overrides: Partial<Parameters<typeof executionStatusChangeEvent>[0]> = {}) {
  return executionStatusChangeEvent({
    region: 'eu-west-1',
    account: '123456789012',
    stateMachineArn: STATE_MACHINE,
    name: 'run-1',
    status: 'FAILED',
    startDate: new Date('2026-03-02T02:00:00Z'),
    stopDate: new Date('2026-03-02T02:03:00Z'),
    input: { org: 'acme', mode: 'full' },
    error: 'BackupFailed',
    cause: '{"errorType":"SalesforceServerError","errorMessage":"HTTP 500"}',
    ...overrides,
  });
}

const FAILURE_PATTERN = {
  source: ['aws.states'],
  'detail-type': ['Step Functions Execution Status Change'],
  detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [STATE_MACHINE] },
};

describe('the Step Functions status change event', () => {
  it('has the shape Step Functions sends: epoch-millisecond dates, JSON-string input, error and cause only on failure', () => {
    const event = failedEvent();
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '123456789012',
      time: '2026-03-02T02:03:00Z',
      region: 'eu-west-1',
      resources: ['arn:aws:states:eu-west-1:123456789012:execution:AcmeBackup:run-1'],
      detail: {
        executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:AcmeBackup:run-1',
        stateMachineArn: STATE_MACHINE,
        name: 'run-1',
        status: 'FAILED',
        startDate: Date.parse('2026-03-02T02:00:00Z'),
        stopDate: Date.parse('2026-03-02T02:03:00Z'),
        input: '{"org":"acme","mode":"full"}',
        inputDetails: { included: true },
        output: null,
        outputDetails: null,
        error: 'BackupFailed',
      },
    });
    const succeeded = failedEvent({ status: 'SUCCEEDED', output: { status: 'complete' } });
    expect(succeeded.detail).toMatchObject({ error: null, cause: null, output: '{"status":"complete"}' });
  });
});

describe('event patterns', () => {
  it('matches the failure rule on a failed execution of its state machine only', () => {
    expect(matchesEventPattern(FAILURE_PATTERN, failedEvent())).toBe(true);
    expect(matchesEventPattern(FAILURE_PATTERN, failedEvent({ status: 'SUCCEEDED' }))).toBe(false);
    expect(matchesEventPattern(FAILURE_PATTERN, failedEvent({ status: 'RUNNING' }))).toBe(false);
    expect(matchesEventPattern(FAILURE_PATTERN, failedEvent({ stateMachineArn: `${STATE_MACHINE}2` }))).toBe(
      false,
    );
  });

  it('reads an array in the event as any of its elements, and a missing field as no match', () => {
    expect(matchesEventPattern({ resources: [{ prefix: 'arn:aws:states:' }] }, failedEvent())).toBe(true);
    expect(matchesEventPattern({ detail: { missing: ['x'] } }, failedEvent())).toBe(false);
    expect(matchesEventPattern({ detail: { missing: [{ exists: false }] } }, failedEvent())).toBe(true);
    expect(matchesEventPattern({ detail: { error: [{ exists: true }] } }, failedEvent())).toBe(true);
    expect(matchesEventPattern({ detail: { inputDetails: [{ exists: true }] } }, failedEvent())).toBe(false);
  });

  it('applies prefix, suffix, equals-ignore-case, wildcard and anything-but', () => {
    const e = failedEvent();
    expect(matchesEventPattern({ detail: { name: [{ prefix: 'run-' }] } }, e)).toBe(true);
    expect(matchesEventPattern({ detail: { name: [{ suffix: '-1' }] } }, e)).toBe(true);
    expect(matchesEventPattern({ detail: { status: [{ 'equals-ignore-case': 'failed' }] } }, e)).toBe(true);
    expect(
      matchesEventPattern({ detail: { executionArn: [{ wildcard: '*:execution:AcmeBackup:*' }] } }, e),
    ).toBe(true);
    expect(
      matchesEventPattern({ detail: { status: [{ 'anything-but': ['SUCCEEDED', 'RUNNING'] }] } }, e),
    ).toBe(true);
    expect(matchesEventPattern({ detail: { status: [{ 'anything-but': { prefix: 'FAIL' } }] } }, e)).toBe(
      false,
    );
    expect(matchesEventPattern({ detail: { missing: [{ 'anything-but': 'x' }] } }, e)).toBe(false);
  });

  it('compares numbers as numbers, within every bound given', () => {
    const e = failedEvent();
    const start = Date.parse('2026-03-02T02:00:00Z');
    expect(
      matchesEventPattern({ detail: { startDate: [{ numeric: ['>=', start, '<', start + 1] }] } }, e),
    ).toBe(true);
    expect(matchesEventPattern({ detail: { startDate: [{ numeric: ['>', start] }] } }, e)).toBe(false);
    expect(matchesEventPattern({ detail: { startDate: [start] } }, e)).toBe(true);
    expect(matchesEventPattern({ detail: { name: [{ numeric: ['>', 0] }] } }, e)).toBe(false);
  });

  it('matches any of the $or alternatives', () => {
    const pattern = { $or: [{ detail: { status: ['TIMED_OUT'] } }, { detail: { error: ['BackupFailed'] } }] };
    expect(matchesEventPattern(pattern, failedEvent())).toBe(true);
    expect(matchesEventPattern(pattern, failedEvent({ error: 'Other' }))).toBe(false);
  });

  it('refuses a malformed pattern, naming the field and what to write', () => {
    expect(() => matchesEventPattern({ source: 'aws.states' }, failedEvent())).toThrow(
      InvalidEventPatternError,
    );
    expect(() => matchesEventPattern({ source: 'aws.states' }, failedEvent())).toThrow(
      '"source" is "aws.states"',
    );
    expect(() =>
      matchesEventPattern({ detail: { status: [{ 'starts-with': 'F' }] } }, failedEvent()),
    ).toThrow('"detail.status" uses "starts-with"');
    expect(() => matchesEventPattern({ detail: { startDate: [{ numeric: ['>'] }] } }, failedEvent())).toThrow(
      'numeric takes one or two comparisons',
    );
  });
});

describe('input transformation', () => {
  const rule = {
    ruleArn: 'arn:aws:events:eu-west-1:123456789012:rule/AcmeFailed',
    ruleName: 'AcmeFailed',
    ingestionTime: new Date('2026-03-02T02:03:01Z'),
  };

  it('reads dot paths with array indices, and nothing for a path the event lacks', () => {
    const e = failedEvent();
    expect(readJsonPath(e, '$.detail.status')).toBe('FAILED');
    expect(readJsonPath(e, '$.resources[0]')).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:AcmeBackup:run-1',
    );
    expect(readJsonPath(e, '$.detail.nothing.here')).toBeUndefined();
  });

  it('puts a value inside a quoted template string as it is, unescaped, and an object without its quotes', () => {
    const text = transformInput(
      {
        InputPathsMap: {
          status: '$.detail.status',
          cause: '$.detail.cause',
          details: '$.detail.inputDetails',
        },
        InputTemplate: '"Status: <status>"\n"Cause: <cause>"\n"Details: <details>"',
      },
      failedEvent(),
      rule,
    );
    expect(text).toBe(
      '"Status: FAILED"\n"Cause: {"errorType":"SalesforceServerError","errorMessage":"HTTP 500"}"\n"Details: {included:true}"',
    );
  });

  it('puts a value outside quotes as JSON, strings quoted, and fills the reserved variables', () => {
    const text = transformInput(
      {
        InputPathsMap: { status: '$.detail.status', start: '$.detail.startDate', missing: '$.detail.nope' },
        InputTemplate:
          '{"status": <status>, "start": <start>, "rule": "<aws.events.rule-name>", "at": "<aws.events.event.ingestion-time>", "gone": "<missing>"}',
      },
      failedEvent(),
      rule,
    );
    expect(JSON.parse(text)).toEqual({
      status: 'FAILED',
      start: Date.parse('2026-03-02T02:00:00Z'),
      rule: 'AcmeFailed',
      at: '2026-03-02T02:03:01.000Z',
      gone: '',
    });
  });

  it('refuses a variable named like a reserved one and a path EventBridge does not read', () => {
    expect(() =>
      transformInput(
        { InputPathsMap: { 'aws.mine': '$.detail' }, InputTemplate: '"<aws.mine>"' },
        failedEvent(),
        rule,
      ),
    ).toThrow('starts with "aws."');
    expect(() =>
      transformInput({ InputPathsMap: { x: '$..status' }, InputTemplate: '"<x>"' }, failedEvent(), rule),
    ).toThrow('write dot notation with array indices');
  });
});
