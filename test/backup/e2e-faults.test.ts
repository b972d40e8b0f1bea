import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { backup, dumpRows, freshStoreDir, latest, snapshotRows, startSampleOrg } from './e2e-support.ts';

/**
 * Every fault must end one of two ways: a complete snapshot whose rows equal the org's, or a failed
 * run that alerted and left no complete snapshot behind. Never a "complete" snapshot missing rows.
 */
async function expectCompleteAndExactOrFailedWithAlert(
  emu: RunningEmulator,
  faults: string,
  settings: Record<string, unknown> = {},
) {
  const dir = freshStoreDir();
  await fetch(`${emu.instanceUrl}/__emulator/faults`, {
    method: 'POST',
    body: JSON.stringify({ spec: faults }),
  });
  const { summary, sns } = await backup(emu, dir, 'full', settings);
  // The faults really fired: every rule with a count and no probability used all of its turns.
  const { rules } = (await (await fetch(`${emu.instanceUrl}/__emulator/faults`)).json()) as {
    rules: { pattern: string; kind: string; probability: number; remaining: number | null }[];
  };
  for (const rule of rules.filter((r) => r.probability === 1 && typeof r.remaining === 'number')) {
    expect(rule.remaining, `${rule.pattern}:${rule.kind} fired`).toBe(0);
  }
  await fetch(`${emu.instanceUrl}/__emulator/faults`, { method: 'POST', body: JSON.stringify({ spec: '' }) });
  if (summary.status === 'complete') {
    const pit = await latest(dir);
    const dump = await dumpRows(emu);
    for (const object of pit.objectNames()) {
      const rows = await snapshotRows(dir, object);
      expect([...rows.keys()].sort(), `${object} under ${faults}`).toEqual(
        [...(dump.get(object)?.keys() ?? [])].sort(),
      );
    }
    return { summary, sns, dir };
  }
  expect(summary.status, faults).toBe('failed');
  expect(sns.length, `an alert for ${faults}`).toBeGreaterThan(0);
  expect(existsSync(join(dir, 'orgs', 'sample', 'latest-complete.json'))).toBe(false);
  return { summary, sns, dir };
}

describe('a backup under injected faults', () => {
  let emu: RunningEmulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  it('ends complete and exact after result pages cut mid-body, 5xx answers, rate limits and an expired session', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    const runs = [
      'bulk-results:cut=120#3',
      'seed=3,*:503@0.05#6,bulk-query:500#2',
      'composite:rate-limit#2,bulk-query:rate-limit#2',
      'bulk-results:expired-session#2,describe-global:expired-session#1',
    ];
    for (const faults of runs) {
      const { summary } = await expectCompleteAndExactOrFailedWithAlert(emu, faults, { pageSize: 5 });
      expect(summary.status, faults).toBe('complete');
    }
  });

  it('ends complete and exact when one Metadata API answer in ten is a 500', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    for (const seed of [1, 2, 3]) {
      const faults = `seed=${seed},metadata:500@0.1`;
      const { summary, dir } = await expectCompleteAndExactOrFailedWithAlert(emu, faults);
      expect(summary.status, `${faults}: ${summary.problems.join('; ')}`).toBe('complete');
      expect((await latest(dir)).target.metadata.components).toBeGreaterThan(0);
    }
  });

  it('fails with an alert naming the cause, and no values, when the Metadata API keeps answering 500', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    const { summary, sns } = await expectCompleteAndExactOrFailedWithAlert(emu, 'metadata:500');
    expect(summary.status).toBe('failed');
    const alert = sns.map((m) => m.message).join('\n');
    expect(alert).toMatch(
      /metadata was never listed: SalesforceTransientError UNKNOWN_EXCEPTION \(HTTP 500\) in Metadata API describeMetadata, \d+ attempts/,
    );
    expect(alert).not.toContain('ErrorId');
  });

  it('continues an object across invocations from its checkpoint, one result page per invocation', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    const { summary, dir } = await expectCompleteAndExactOrFailedWithAlert(emu, '', {
      pageSize: 2,
      maxPagesPerInvocation: 1,
    });
    expect(summary.status).toBe('complete');
    const manifest = (await latest(dir)).target;
    const products = manifest.objects.find((o) => o.name === 'Product__c')!;
    expect(products.parts.length).toBe(Math.ceil(products.rows / 2));
    expect(products.parts.length).toBeGreaterThan(2);
  });

  it('tries a failed Bulk job again and still ends complete', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    const { summary } = await expectCompleteAndExactOrFailedWithAlert(emu, 'bulk-query:bulk-fail#2');
    expect(summary.status).toBe('complete');
  });

  it('fails with an alert naming what is missing, and marks nothing complete, when Bulk jobs keep failing', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    const { summary, sns } = await expectCompleteAndExactOrFailedWithAlert(emu, 'bulk-query:bulk-fail');
    expect(summary.status).toBe('failed');
    expect(summary.problems.join('\n')).toMatch(/Account: SalesforceBulkJobFailedError/);
    expect(sns.map((m) => m.message).join('\n')).toMatch(/FAILED and was not marked complete/);
  });
});

describe('a backup whose settings name objects the org lacks', () => {
  let emu: RunningEmulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  it('fails with an alert naming each unknown object and its nearest real name, and moves no pointer', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    const dir = freshStoreDir();
    const { summary, sns } = await backup(emu, dir, 'full', { includeObjects: ['Acount', 'Contact'] });
    expect(summary.status).toBe('failed');
    const alert = sns.map((m) => m.message).join('\n');
    expect(alert).toMatch(/UnknownBackupObjectsError/);
    expect(alert).toContain('Acount (did you mean Account?)');
    expect(existsSync(join(dir, 'orgs', 'sample', 'latest-complete.json'))).toBe(false);
  });

  it('fails with an alert naming a misspelt settings key and the nearest known one', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    const dir = freshStoreDir();
    const { summary, sns } = await backup(emu, dir, 'full', { includeObject: ['Account'] });
    expect(summary.status).toBe('failed');
    expect(sns.map((m) => m.message).join('\n')).toContain(
      'unknown key "includeObject" (did you mean "includeObjects"?)',
    );
    expect(existsSync(join(dir, 'orgs', 'sample', 'latest-complete.json'))).toBe(false);
  });
});

describe('two backups of one org at once', () => {
  let emu: RunningEmulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  it('leave the latest pointer on the newer complete snapshot, every time', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    const dir = freshStoreDir();
    for (let round = 0; round < 3; round++) {
      const runs = await Promise.all([backup(emu, dir, 'full'), backup(emu, dir, 'full')]);
      expect(runs.map((r) => r.summary.status)).toEqual(['complete', 'complete']);
      const newest = runs
        .map((r) => r.summary.snapshotId!)
        .sort()
        .at(-1);
      const pointer = JSON.parse(
        readFileSync(join(dir, 'orgs', 'sample', 'latest-complete.json'), 'utf8'),
      ) as {
        snapshotId: string;
      };
      expect(pointer.snapshotId, `round ${round + 1}`).toBe(newest);
    }
  });
});
