import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { runLocalApp } from '../../cli/local/app/index.ts';
import { buildApp } from '../../lib/app.ts';
import { appWithoutBundling, configWith, testStateMachine } from '../infra/fixtures/app-fixture.ts';

describe('a scheduled start the schedule role may not make', () => {
  it('starts nothing, keeps the start in the schedule dead-letter queue and raises its alarm to the topic', async () => {
    // GIVEN the schedules' role allowed only to describe executions, not to start them
    const built = buildApp(configWith(), appWithoutBundling(), { nag: false });
    const policy = built.orgStacks[0]?.schedules.role.node.findChild('DefaultPolicy').node
      .defaultChild as CfnPolicy;
    policy.addPropertyOverride('PolicyDocument.Statement.0.Action', 'states:DescribeExecution');
    // WHEN the app runs over the hour of a scheduled incremental backup (Monday 02:00 UTC)
    const run = await runLocalApp({
      stack: built.orgStacks[0]!,
      from: new Date('2026-03-02T01:30:00Z'),
      to: new Date('2026-03-02T02:30:00Z'),
      storeDir: '/nonexistent-store-never-written',
      env: {},
    });
    // THEN no execution started, the start is in the dead-letter queue with the refusal, and its alarm alerts
    expect(run.executions).toEqual([]);
    expect(run.deadLetters).toHaveLength(1);
    expect(run.deadLetters[0]).toMatchObject({
      source: expect.stringMatching(/^AcmeProdSchedulesIncremental/),
      at: new Date('2026-03-02T02:00:00Z'),
      message: '{"org":"acme-prod","mode":"incremental"}',
      queueArn: expect.stringMatching(/AcmeProdSchedulesDeadLetterQueue/),
      reason: expect.stringMatching(
        /may not call states:StartExecution .* because no identity-based policy allows/,
      ),
    });
    const alarm = Object.keys(run.alarmStates).find((id) =>
      id.startsWith('AcmeProdSchedulesDeadLetterAlarm'),
    ) as string;
    expect(run.alarmStates[alarm]).toBe('ALARM');
    // (the no-recent-success alarm alerts too: with nothing backed up, every hour breaches)
    expect(run.alerts.filter((a) => a.from === 'alarm').map((a) => a.source)).toContain(alarm);
  }, 300_000);
});

describe('a local run of an app of several org stacks', () => {
  it("fires the schedules of every org's stack and raises each org's own alarm", async () => {
    // GIVEN two orgs, each in its own stack, whose schedule roles may not start their backups
    const built = buildApp(
      configWith({
        orgs: [
          { name: 'acme-prod', type: 'production', secretName: 'sfbackup/acme-prod' },
          { name: 'acme-uat', type: 'sandbox', secretName: 'sfbackup/acme-uat' },
        ],
      }),
      appWithoutBundling(),
      { nag: false },
    );
    for (const orgStack of built.orgStacks) {
      const policy = orgStack.schedules.role.node.findChild('DefaultPolicy').node.defaultChild as CfnPolicy;
      policy.addPropertyOverride('PolicyDocument.Statement.0.Action', 'states:DescribeExecution');
    }
    // WHEN the app runs, given the second org's stack, over the hour of their incremental backups
    const run = await runLocalApp({
      stack: built.orgStacks[1]!,
      from: new Date('2026-03-02T01:30:00Z'),
      to: new Date('2026-03-02T02:30:00Z'),
      storeDir: '/nonexistent-store-never-written',
      env: {},
    });
    // THEN both orgs' starts are refused into their own dead-letter queues, each raising its own alarm
    expect(run.deadLetters.map((d) => [d.source.replace(/[0-9A-F]{8}$/, ''), d.message])).toEqual([
      ['AcmeProdSchedulesIncremental', '{"org":"acme-prod","mode":"incremental"}'],
      ['AcmeUatSchedulesIncremental', '{"org":"acme-uat","mode":"incremental"}'],
    ]);
    for (const org of ['AcmeProd', 'AcmeUat']) {
      const alarm = Object.keys(run.alarmStates).find((id) =>
        id.startsWith(`${org}SchedulesDeadLetterAlarm`),
      ) as string;
      expect(run.alarmStates[alarm], org).toBe('ALARM');
      expect(run.alerts.find((a) => a.source === alarm)?.subject).toMatch(
        new RegExp(`^ALARM: "SfBackup-Org-${org}-${alarm}" in us-east-1$`),
      );
    }
  }, 300_000);

  it('refuses an app whose stacks hold an alarm of the same logical id, which it could not tell apart', async () => {
    const app = appWithoutBundling();
    for (const name of ['One', 'Two']) {
      const stack = new Stack(app, name);
      testStateMachine(stack);
      new cloudwatch.Alarm(stack, 'Same', {
        metric: new cloudwatch.Metric({ namespace: 'Test', metricName: 'Errors' }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    }
    await expect(
      runLocalApp({
        stack: app.node.findChild('One') as Stack,
        from: new Date('2026-03-02T00:00:00Z'),
        to: new Date('2026-03-02T01:00:00Z'),
        storeDir: '/nonexistent-store-never-written',
        env: {},
      }),
    ).rejects.toThrow(/^Stacks One and Two both hold a schedule, rule or alarm Same[0-9A-F]{8}; /);
  });
});
