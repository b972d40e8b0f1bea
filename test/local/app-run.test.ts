import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnResource } from 'aws-cdk-lib';
import type { CfnKey } from 'aws-cdk-lib/aws-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlarm } from '../../cli/local/app/alarms.ts';
import { type LocalAppRun, runLocalApp } from '../../cli/local/app/index.ts';
import { MetricStore } from '../../cli/local/app/metrics.ts';
import { EnvName } from '../../contract/workflow-contract.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { buildApp } from '../../lib/app.ts';
import { appWithoutBundling, configWith } from '../infra/fixtures/app-fixture.ts';

const HOUR = 3_600_000;

/** What every function of a local app run reads: the emulator's org and a local vault. */
function localEnv(emu: RunningEmulator, storeDir: string): Record<string, string> {
  return {
    [EnvName.LocalInstanceUrl]: emu.instanceUrl,
    [EnvName.LocalAccessToken]: emu.accessToken,
    [EnvName.LocalStoreDir]: storeDir,
    [EnvName.BackupSettings]: JSON.stringify({ overlapSeconds: 0, pollIntervalMs: 50 }),
  };
}

/** Sets the emulator's faults; an empty spec clears them. */
async function setFaults(emu: RunningEmulator, spec: string): Promise<void> {
  await fetch(`${emu.instanceUrl}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ spec }),
  });
}

/**
 * One org on the example schedules: incrementals Monday to Saturday at 02:00, a full on Sunday,
 * metadata daily at 05:00; `changes` to the rest of the config.
 */
function app(changes: Record<string, unknown> = {}) {
  const config = configWith({
    orgs: [
      {
        name: 'acme-prod',
        type: 'production',
        secretName: 'sfbackup/acme-prod',
        schedules: {
          incremental: 'cron(0 2 ? * MON-SAT *)',
          full: 'cron(0 2 ? * SUN *)',
          metadata: 'cron(0 5 * * ? *)',
        },
        files: false,
        noSuccessAlarmHours: 36,
      },
    ],
    ...changes,
  });
  return buildApp(config, appWithoutBundling(), { nag: false });
}

describe('the whole app run locally on a clock', () => {
  let emu: RunningEmulator;
  let run: LocalAppRun;
  const built = app();
  const from = new Date('2026-03-02T00:00:00Z'); // a Monday

  beforeAll(async () => {
    emu = await startEmulator({ generate: 'objects=2,rows=10,files=0,seed=7' });
    const storeDir = mkdtempSync(join(tmpdir(), 'sfbackup-app-'));
    let dataRuns = 0;
    run = await runLocalApp({
      stack: built.orgStacks[0]!,
      from,
      to: new Date(from.getTime() + 54 * HOUR),
      storeDir,
      env: localEnv(emu, storeDir),
      // After the first data backup, the org answers every describe of its objects with a server
      // error: data runs (whose plan describes the objects) keep failing, while metadata runs
      // (which describe none) keep succeeding.
      onExecution: async (execution) => {
        if ((execution.input as { mode?: string }).mode === 'metadata' || ++dataRuns > 1) return;
        await setFaults(emu, 'describe-global:500');
      },
    });
  }, 900_000);

  afterAll(async () => {
    await emu?.stop();
  });

  it('starts each backup at the instant its schedule names, with the schedule input', () => {
    expect(
      run.executions.map((e) => [e.startDate.toISOString(), (e.input as { mode: string }).mode, e.status]),
    ).toEqual([
      ['2026-03-02T02:00:00.000Z', 'incremental', 'SUCCEEDED'],
      ['2026-03-02T05:00:00.000Z', 'metadata', 'SUCCEEDED'],
      ['2026-03-03T02:00:00.000Z', 'incremental', 'FAILED'],
      ['2026-03-03T05:00:00.000Z', 'metadata', 'SUCCEEDED'],
      ['2026-03-04T02:00:00.000Z', 'incremental', 'FAILED'],
      ['2026-03-04T05:00:00.000Z', 'metadata', 'SUCCEEDED'],
    ]);
    expect(run.executions.every((e) => (e.input as { org: string }).org === 'acme-prod')).toBe(true);
  });

  it('alerts the topic for each failed backup with exactly the text the rule input transformer makes, and never for a succeeded one', () => {
    const ruleAlerts = run.alerts.filter((a) => a.from === 'rule');
    const failed = run.executions.filter((e) => e.status === 'FAILED');
    expect(ruleAlerts).toHaveLength(failed.length);
    for (const [i, execution] of failed.entries()) {
      const name = execution.executionArn.split(':').at(-1) as string;
      const message = ruleAlerts[i]?.message ?? '';
      const lines = message.split('\n');
      // The template is one quoted JSON string a line; EventBridge fills each placeholder with the
      // value as it is and sends the text as it stands.
      expect(lines.slice(0, 5)).toEqual([
        '"The backup workflow of Salesforce org \\"acme-prod\\" did not succeed."',
        '""',
        '"Status: FAILED"',
        `"Execution: ${name}"`,
        `"Execution ARN: ${execution.executionArn}"`,
      ]);
      expect(lines[5]).toBe(
        `"Console: https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${execution.executionArn}"`,
      );
      expect(lines[6]).toBe(`"Error: ${execution.error}"`);
      expect(lines[7]).toMatch(/^"Cause: .+"$/);
      expect(lines.slice(8)).toEqual([
        '""',
        '"Open the console link to see the failed step, its input and its error."',
        '"Until a backup run succeeds, recent changes in the org are not in the vault."',
      ]);
    }
    expect(run.deadLetters).toEqual([]);
  });

  it('raises the no-recent-success alarm 36 hours after the last data backup, though metadata backups keep succeeding', () => {
    const alarm = Object.keys(run.alarmStates).find((id) => id.includes('NoRecentSuccess')) as string;
    const lastDataSuccess = run.executions.find(
      (e) => e.status === 'SUCCEEDED' && (e.input as { mode: string }).mode !== 'metadata',
    );
    expect(lastDataSuccess?.startDate.toISOString()).toBe('2026-03-02T02:00:00.000Z');
    // The hour of the last data success is the last non-breaching period: 36 hours later the alarm fires.
    expect(run.alarmTransitions.filter((t) => t.alarm === alarm).at(-1)).toEqual({
      alarm,
      at: new Date('2026-03-03T15:00:00Z'),
      from: 'OK',
      to: 'ALARM',
    });
    expect(run.alarmStates[alarm]).toBe('ALARM');
    expect(run.undelivered).toEqual([]);
    expect(run.alerts.some((a) => a.from === 'alarm' && a.source === alarm)).toBe(true);
  });

  it('would have stayed quiet on the state machine success count, which metadata runs keep up', () => {
    // The same alarm on AWS/States ExecutionsSucceeded, the metric it used before success was per mode.
    const metrics = new MetricStore();
    metrics.put(...run.metrics);
    const stateMachineArn = run.executions[0]?.stateMachineArn as string;
    const end = new Date(from.getTime() + 54 * HOUR).getTime();
    const before = evaluateAlarm(
      {
        logicalId: 'ExecutionsSucceededAlarm',
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsSucceeded',
        Dimensions: [{ Name: 'StateMachineArn', Value: stateMachineArn }],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 36,
        DatapointsToAlarm: 36,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      },
      metrics,
      end,
      'OK',
    );
    expect(before.state).toBe('OK');
  });

  it('keeps every other alarm of the app out of ALARM', () => {
    const others = Object.entries(run.alarmStates).filter(([id]) => !id.includes('NoRecentSuccess'));
    // Each workflow's function error alarm (on the sum of its functions' errors) and the
    // dead-letter alarms of the schedules, of the org's failure rules and of the shared alerting
    // stack: the run reads the alarms of every stack of the app.
    expect(others.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AcmeProdAlertingAcmeProdBackupFunctionErrors',
      'AcmeProdAlertingAcmeProdDiffReportFunctionErrors',
      'AcmeProdAlertingAcmeProdEraseFunctionErrors',
      'AcmeProdAlertingAcmeProdRestoreFunctionErrors',
      'AcmeProdAlertingDeadLetterAlarm',
      'AcmeProdSchedulesDeadLetterAlarm',
      'AlertingDeadLetterAlarm',
    ]);
    expect(others.filter(([, state]) => state === 'ALARM')).toEqual([]);
  });
});

describe('a failure alert the topic refuses', () => {
  let emu: RunningEmulator;
  let run: LocalAppRun;

  beforeAll(async () => {
    // Every data backup fails from the start; the alert key's policy names the wrong service for
    // EventBridge, so the topic cannot encrypt the failure alert.
    emu = await startEmulator({ generate: 'objects=1,rows=5,files=0,seed=3', faults: 'describe-global:500' });
    const built = app();
    const key = built.alertingStack.alerting.key.node.defaultChild as CfnKey;
    // Statement 1 is Alerting's own grant to EventBridge, statement 3 the one its grant to publish adds.
    for (const i of [1, 3])
      key.addPropertyOverride(`KeyPolicy.Statement.${i}.Principal.Service`, 'sns.amazonaws.com');
    const storeDir = mkdtempSync(join(tmpdir(), 'sfbackup-app-'));
    const from = new Date('2026-03-02T01:00:00Z');
    run = await runLocalApp({
      stack: built.orgStacks[0]!,
      from,
      to: new Date(from.getTime() + 2 * HOUR),
      storeDir,
      env: localEnv(emu, storeDir),
    });
  }, 900_000);

  afterAll(async () => {
    await emu?.stop();
  });

  it('lands in the rule target dead-letter queue, whose alarm then alerts through CloudWatch', () => {
    expect(run.executions.map((e) => e.status)).toEqual(['FAILED']);
    expect(run.alerts.filter((a) => a.from === 'rule')).toEqual([]);
    expect(run.deadLetters).toHaveLength(1);
    expect(run.deadLetters[0]?.queueArn).toMatch(/AcmeProdAlertingDeadLetterQueue/);
    expect(run.deadLetters[0]?.reason).toMatch(
      /the key policy of .* does not allow events\.amazonaws\.com to call kms:GenerateDataKey/,
    );
    expect(run.deadLetters[0]?.message).toContain('"Status: FAILED"');
    const alarm = Object.keys(run.alarmStates).find((id) =>
      id.startsWith('AcmeProdAlertingDeadLetterAlarm'),
    ) as string;
    expect(run.alarmStates[alarm]).toBe('ALARM');
    expect(run.alerts.filter((a) => a.from === 'alarm').map((a) => a.source)).toContain(alarm);
  });
});

describe('a retention sweep started by each backup that succeeded', () => {
  let emu: RunningEmulator;
  let run: LocalAppRun;
  let storeDir: string;
  const built = app({ retention: { keep: { daily: 7, weekly: 4, monthly: 0, yearly: 0 } } });
  const from = new Date('2026-03-01T00:00:00Z'); // a Sunday

  beforeAll(async () => {
    emu = await startEmulator({ generate: 'objects=2,rows=10,files=0,seed=7' });
    storeDir = mkdtempSync(join(tmpdir(), 'sfbackup-app-'));
    run = await runLocalApp({
      stack: built.orgStacks[0]!,
      from,
      // Sunday's full backup at 02:00, the daily sweep at 04:30, the metadata backup at 05:00,
      // Monday's incremental at 02:00
      to: new Date(from.getTime() + 27 * HOUR),
      storeDir,
      env: localEnv(emu, storeDir),
      // After the metadata backup, every describe of the org's objects fails: Monday's incremental fails.
      onExecution: async (execution) => {
        if ((execution.input as { mode?: string }).mode !== 'metadata') return;
        await setFaults(emu, 'describe-global:500');
      },
    });
  }, 900_000);

  afterAll(async () => {
    await emu?.stop();
  });

  it('starts a sweep of the org as each backup succeeds, as the rule target role, and none for the one that failed', () => {
    const backup = run.executions[0]!.stateMachineArn;
    const backups = run.executions.filter((e) => e.stateMachineArn === backup);
    expect(
      backups.map((e) => [(e.input as { mode: string }).mode, e.startDate.toISOString(), e.status]),
    ).toEqual([
      ['full', '2026-03-01T02:00:00.000Z', 'SUCCEEDED'],
      ['metadata', '2026-03-01T05:00:00.000Z', 'SUCCEEDED'],
      ['incremental', '2026-03-02T02:00:00.000Z', 'FAILED'],
    ]);
    const sweeps = run.executions.filter((e) => e.stateMachineArn !== backup);
    expect(new Set(sweeps.map((e) => e.stateMachineArn)).size).toBe(1);
    expect(sweeps[0]!.stateMachineArn).toMatch(/Retention/);
    // ...one at the end of each backup that succeeded, by the rule, and the daily one by its schedule
    expect(sweeps.map((e) => [e.startedBy, e.startDate.getTime(), e.input, e.status])).toEqual([
      ['rule', backups[0]!.stopDate.getTime(), {}, 'SUCCEEDED'],
      ['schedule', Date.parse('2026-03-01T04:30:00.000Z'), {}, 'SUCCEEDED'],
      ['rule', backups[1]!.stopDate.getTime(), {}, 'SUCCEEDED'],
    ]);
    expect(sweeps.filter((e) => e.startedBy === 'rule').map((e) => e.schedule)).toEqual([
      expect.stringMatching(/AfterBackup/),
      expect.stringMatching(/AfterBackup/),
    ]);
    expect(run.refusedStarts).toEqual([]);
    // ...each sweep ran its handler under its execution's name: it took the org's vault lease and gave it back
    const released = readdirSync(join(storeDir, 'orgs/acme-prod/lease/released'));
    for (const sweep of sweeps)
      expect(released.some((name) => name.includes(sweep.executionArn.split(':').at(-1)!))).toBe(true);
  });

  it("refuses a rule's start that its role may not make, and runs nothing", async () => {
    // GIVEN the same app whose rule target role may start no execution
    const denied = buildApp(
      configWith({
        orgs: [{ name: 'acme-prod', type: 'production', secretName: 'sfbackup/acme-prod', files: false }],
        retention: { keep: { daily: 7, weekly: 0, monthly: 0, yearly: 0 } },
      }),
      appWithoutBundling(),
      { nag: false },
    );
    const stack = denied.orgStacks[0]!;
    // (EventBridge starts the sweep as the role CDK makes for the state machine as a rule target)
    const policy = stack.node
      .findAll()
      .find((c) => c.node.path.endsWith('Retention/StateMachine/EventsRole/DefaultPolicy'));
    expect(policy).toBeDefined();
    (policy!.node.defaultChild as CfnResource).addPropertyOverride(
      'PolicyDocument.Statement.0.Effect',
      'Deny',
    );
    await setFaults(emu, '');
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-app-'));
    // WHEN a backup succeeds (the default schedules: the metadata backup at 05:00)
    const refused = await runLocalApp({
      stack,
      from: new Date('2026-03-03T04:50:00Z'),
      to: new Date('2026-03-03T05:10:00Z'),
      storeDir: dir,
      env: localEnv(emu, dir),
    });
    // THEN the rule's start is refused, naming the role and the state machine, and no sweep runs
    expect(refused.executions.map((e) => [e.startedBy, e.status])).toEqual([['schedule', 'SUCCEEDED']]);
    expect(refused.refusedStarts).toHaveLength(1);
    expect(refused.refusedStarts[0]).toMatchObject({
      source: expect.stringMatching(/AfterBackup/),
      stateMachineArn: expect.stringMatching(/Retention/),
      reason: expect.stringMatching(/may not call states:StartExecution on/),
    });
  });
});
