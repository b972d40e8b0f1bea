import { type App, type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { runLocalApp } from '../../cli/local/app/index.ts';
import { appWithoutBundling, testStateMachine } from '../infra/fixtures/app-fixture.ts';

const FROM = new Date('2026-03-02T01:30:00Z');
const TO = new Date('2026-03-02T02:30:00Z');

/** Starts `machine` every day at 02:00 UTC. */
function daily(stack: Stack, id: string, machine: sfn.IStateMachine): void {
  new events.Rule(stack, id, {
    schedule: events.Schedule.cron({ minute: '0', hour: '2' }),
    targets: [new targets.SfnStateMachine(machine, { input: events.RuleTargetInput.fromObject({}) })],
  });
}

/** A rule matching `status` of `machine`'s executions that starts `then` with `input`. */
function onStatus(
  stack: Stack,
  id: string,
  machine: sfn.IStateMachine,
  status: string,
  then: sfn.IStateMachine,
  input = events.RuleTargetInput.fromObject({ after: 'first' }),
): events.Rule {
  return new events.Rule(stack, id, {
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      detail: { status: [status], stateMachineArn: [machine.stateMachineArn] },
    },
    targets: [new targets.SfnStateMachine(then, { input })],
  });
}

/** Two state machines started at 02:00 by their schedules, and a third when the first succeeds. */
function app(): { app: App; stack: Stack; rule: events.Rule } {
  const app = appWithoutBundling();
  const stack = new Stack(app, 'Rules');
  const first = testStateMachine(stack, 'First');
  const second = testStateMachine(stack, 'Second');
  const after = testStateMachine(stack, 'AfterFirst');
  daily(stack, 'DailyFirst', first);
  daily(stack, 'DailySecond', second);
  const rule = onStatus(stack, 'WhenFirstSucceeds', first, 'SUCCEEDED', after);
  return { app, stack, rule };
}

const run = (stack: Stack) =>
  runLocalApp({ stack, from: FROM, to: TO, storeDir: '/nonexistent-store-never-written', env: {} });

/** A state machine's construct id, from its local ARN. */
const machineOf = (arn: string) =>
  arn
    .split(':')
    .at(-1)!
    .replace(/^Rules-/, '')
    .replace(/[0-9A-F]{8}$/, '');

describe('a rule whose target is a state machine, in the local app run', () => {
  it('starts it at the instant of the event it matched, after what was due before, with the target input', async () => {
    const { stack } = app();
    const { executions, refusedStarts, startsAfterWindow } = await run(stack);
    // THEN both schedules' executions due at 02:00 run first, then the rule's, started when the
    // first ended (a start run at once, inside the first's end, would come before the second)
    expect(executions.map((e) => [machineOf(e.stateMachineArn), e.startedBy, e.status])).toEqual([
      ['First', 'schedule', 'SUCCEEDED'],
      ['Second', 'schedule', 'SUCCEEDED'],
      ['AfterFirst', 'rule', 'SUCCEEDED'],
    ]);
    const [first, , after] = executions;
    expect(after!.startDate).toEqual(first!.stopDate);
    expect(after!.input).toEqual({ after: 'first' });
    expect(after!.schedule).toMatch(/^WhenFirstSucceeds/);
    expect(refusedStarts).toEqual([]);
    expect(startsAfterWindow).toEqual([]);
  });

  it('answers, without running it, a start due at or after the window ends', async () => {
    // GIVEN a first machine that takes a second, in a window that ends half a second after 02:00
    const app = appWithoutBundling();
    const stack = new Stack(app, 'Rules');
    const first = new sfn.StateMachine(stack, 'First', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new sfn.Wait(stack, 'TakeASecond', { time: sfn.WaitTime.duration(Duration.seconds(1)) }),
      ),
    });
    daily(stack, 'DailyFirst', first);
    onStatus(stack, 'WhenFirstSucceeds', first, 'SUCCEEDED', testStateMachine(stack, 'AfterFirst'));
    const to = new Date('2026-03-02T02:00:00.500Z');
    const { executions, startsAfterWindow } = await runLocalApp({
      stack,
      from: FROM,
      to,
      storeDir: '/nonexistent-store-never-written',
      env: {},
    });
    // THEN the first runs and ends after the window; the start its success made is answered, not run
    expect(executions.map((e) => machineOf(e.stateMachineArn))).toEqual(['First']);
    expect(executions[0]!.stopDate.getTime()).toBeGreaterThanOrEqual(to.getTime());
    expect(
      startsAfterWindow.map((s) => [
        s.source.replace(/[0-9A-F]{8}$/, ''),
        machineOf(s.stateMachineArn),
        s.at,
      ]),
    ).toEqual([['WhenFirstSucceeds', 'AfterFirst', executions[0]!.stopDate]]);
  });

  it('refuses, running nothing, a target without a role to start it as, and one given input that is not JSON', async () => {
    // GIVEN the rule's target without its role, and a second rule giving its target lines of text
    const { stack, rule } = app();
    (rule.node.defaultChild as CfnResource).addPropertyDeletionOverride('Targets.0.RoleArn');
    const first = stack.node.findChild('First') as sfn.IStateMachine;
    const after = stack.node.findChild('AfterFirst') as sfn.IStateMachine;
    onStatus(
      stack,
      'WhenFirstSucceedsText',
      first,
      'SUCCEEDED',
      after,
      events.RuleTargetInput.fromMultilineText('first line\nsecond line'),
    );
    const { executions, refusedStarts } = await run(stack);
    // THEN neither starts; each refusal names its rule and why, at the instant the first ended
    expect(executions.map((e) => machineOf(e.stateMachineArn))).toEqual(['First', 'Second']);
    expect(
      refusedStarts.map((r) => [r.source.replace(/[0-9A-F]{8}$/, ''), machineOf(r.stateMachineArn), r.at]),
    ).toEqual([
      ['WhenFirstSucceeds', 'AfterFirst', executions[0]!.stopDate],
      ['WhenFirstSucceedsText', 'AfterFirst', executions[0]!.stopDate],
    ]);
    expect(refusedStarts[0]!.reason).toMatch(
      /^rule WhenFirstSucceeds\w* names no role to start its state machine target as$/,
    );
    expect(refusedStarts[1]!.reason).toMatch(
      /^rule WhenFirstSucceedsText\w* gives its state machine target input that is not JSON$/,
    );
  });

  it('stops, naming the rule, when a rule starts the state machine whose starts it matches', async () => {
    // GIVEN a rule starting the first machine again each time one of its executions starts
    const { stack } = app();
    const first = stack.node.findChild('First') as sfn.IStateMachine;
    onStatus(stack, 'WhenFirstRuns', first, 'RUNNING', first);
    // THEN the run ends with an error rather than never
    await expect(run(stack)).rejects.toThrow(
      /^Rule WhenFirstRuns\w* started \S+ 100 times at 2026-03-02T02:00:00\.000Z: it matches the status changes of the executions it starts, which would never end\. Narrow its event pattern\.$/,
    );
  });
});
