import type { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { runLocalApp } from '../../cli/local/app/index.ts';
import { buildApp } from '../../lib/app.ts';
import { appWithoutBundling, configWith } from '../infra/fixtures/app-fixture.ts';

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
