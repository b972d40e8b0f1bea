import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { emulatorControl, FIXTURES } from '../backup/e2e-support.ts';
import {
  api,
  backup,
  freshStoreDir,
  hardDelete,
  ids,
  orgState,
  restore,
  startSampleOrg,
} from './e2e-support.ts';

const running: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function sample(name = 'dreamhouse-lwc'): Promise<RunningEmulator> {
  const emu = await startSampleOrg(name);
  running.push(emu);
  return emu;
}

async function counts(emu: RunningEmulator) {
  return (await (await fetch(`${emu.instanceUrl}/__emulator/counts`)).json()) as {
    byEndpoint: Record<string, number>;
    rowsWritten: { inserted: number };
  };
}

describe('restore resilience', () => {
  it('inserts nothing twice when the answer to an insert is lost and the step is retried', async () => {
    const emu = await sample();
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const objects = ['Broker__c', 'Property__c'];
    const before = await orgState(emu, objects);
    const properties = await ids(emu, 'Property__c');
    await hardDelete(emu, properties.slice(0, 5));
    const insertedBefore = (await counts(emu)).rowsWritten.inserted;
    // The org saves the rows, then the connection drops before the answer arrives.
    await emulatorControl(emu, 'faults', { spec: 'collections:cut=5#1' });

    const done = await restore(emu, dir, {
      objects: ['Property__c'],
      mode: 'restore-deleted',
      confirmOrgId: emu.orgId,
    });
    expect(done.summary.status).toBe('SUCCEEDED');
    expect((await counts(emu)).rowsWritten.inserted - insertedBefore).toBe(5);
    expect(await ids(emu, 'Property__c')).toHaveLength(properties.length);
    expect(await orgState(emu, objects)).toEqual(before);
    const store = new LocalDirectoryStore(dir);
    const sources: string[] = [];
    for await (const entry of store.list(`restores/sample/${emu.orgId}/id-map/Property__c/`)) {
      sources.push(
        (JSON.parse(Buffer.from(await store.get(entry.key)).toString()) as { source: string }).source,
      );
    }
    expect(sources).toEqual(['reconciled']);
  });

  it('checks the restored rows an object per invocation when each has no time to spare, under its own policies', async () => {
    const emu = await sample();
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const properties = await ids(emu, 'Property__c');
    await hardDelete(emu, properties.slice(0, 3));
    const objects = ['Account', 'Contact', 'Case', 'Broker__c', 'Property__c'];
    const answers: { done: boolean; cursor: number }[] = [];
    // The verify function given no time: each row check invocation starts its first object only.
    const done = await restore(
      emu,
      dir,
      { objects, mode: 'restore-deleted', confirmOrgId: emu.orgId },
      {
        enforcePolicies: true,
        lambdaTimeoutMs: (fn) => (fn.handler === 'verify' ? 1 : fn.timeoutSeconds * 1000),
        onTask: (step) => {
          if (step.state === 'VerifyRows' && step.phase === 'after')
            answers.push(step.output as (typeof answers)[0]);
        },
      },
    );
    expect(done.summary.status, done.summary.message).toBe('SUCCEEDED');
    expect(answers.map((a) => [a.done, a.cursor])).toEqual([
      [false, 1],
      [false, 2],
      [false, 3],
      [false, 4],
      [true, 5],
    ]);
    // ...keeping each object's check, from which the report is made
    const store = new LocalDirectoryStore(dir);
    const checks: string[] = [];
    for await (const entry of store.list(`restores/sample/${emu.orgId}/runs/`))
      if (entry.key.includes('/row-checks/')) checks.push(entry.key.slice(entry.key.lastIndexOf('/') + 1));
    expect(checks.map((k) => k.replace(/^\d+-|\.json$/g, '')).sort()).toEqual([...objects].sort());
    const reportKey = done.summary.reportKey!;
    const report = JSON.parse(Buffer.from(await store.get(reportKey)).toString()) as {
      matches: boolean;
      objects: { object: string; verifiedRows: number }[];
    };
    expect(report.matches).toBe(true);
    expect(report.objects.find((o) => o.object === 'Property__c')?.verifiedRows).toBe(3);
    expect(await ids(emu, 'Property__c')).toHaveLength(properties.length);
  });

  it('uses Bulk API 2.0 ingest for large sets and still re-links every child', async () => {
    const emu = await sample('ebikes-lwc');
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const objects = ['Product_Family__c', 'Product__c'];
    const before = await orgState(emu, objects);
    await hardDelete(emu, [...(await ids(emu, 'Product_Family__c')), ...(await ids(emu, 'Product__c'))]);
    const bulkBefore = (await counts(emu)).byEndpoint['bulk-ingest'] ?? 0;
    const done = await restore(
      emu,
      dir,
      { objects: ['Product_Family__c'], includeChildren: true, mode: 'full', confirmOrgId: emu.orgId },
      { bulkThreshold: 2 },
    );
    expect(done.summary.status).toBe('SUCCEEDED');
    expect((await counts(emu)).byEndpoint['bulk-ingest'] ?? 0).toBeGreaterThan(bulkBefore);
    expect(await orgState(emu, objects)).toEqual(before);
  });

  it('plans and verifies through Bulk queryAll jobs, not REST pages, once a read is large', async () => {
    const emu = await sample('ebikes-lwc');
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const objects = ['Product_Family__c', 'Product__c'];
    const before = await orgState(emu, objects);
    await hardDelete(emu, [...(await ids(emu, 'Product_Family__c')), ...(await ids(emu, 'Product__c'))]);
    const countsBefore = (await counts(emu)).byEndpoint;
    const done = await restore(
      emu,
      dir,
      { objects: ['Product_Family__c'], includeChildren: true, mode: 'full', confirmOrgId: emu.orgId },
      { bulkThreshold: 2 },
    );
    expect(done.summary.status).toBe('SUCCEEDED');
    expect(done.summary.message).toMatch(/^Verified: /);
    const countsAfter = (await counts(emu)).byEndpoint;
    const used = (endpoint: string) => (countsAfter[endpoint] ?? 0) - (countsBefore[endpoint] ?? 0);
    // Plan and verification read each object by id through one queryAll job each (and results).
    expect(used('bulk-query')).toBeGreaterThanOrEqual(2 * 2 * 2);
    expect(used('bulk-results')).toBeGreaterThanOrEqual(4);
    expect(await orgState(emu, objects)).toEqual(before);
  });

  it('drills a restore of the latest snapshot into a sandbox and reports the recovery time', async () => {
    const production = await sample();
    const dir = freshStoreDir();
    await backup(production, dir, 'full');
    const sandbox = await startEmulator({
      projectDirs: [join(process.env.SFBACKUP_FIXTURES ?? FIXTURES, 'dreamhouse-lwc')],
    });
    running.push(sandbox);
    expect(await ids(sandbox, 'Broker__c')).toEqual([]);
    const drill = await restore(
      production,
      dir,
      { drill: true, objects: ['Broker__c', 'Property__c'] },
      { drill: { instanceUrl: sandbox.instanceUrl, accessToken: sandbox.accessToken } },
    );
    expect(drill.summary.status).toBe('SUCCEEDED');
    expect(drill.summary.recoveryTimeSeconds).toBeGreaterThan(0);
    const objects = ['Broker__c', 'Property__c'];
    expect(await orgState(sandbox, objects)).toEqual(await orgState(production, objects));
  });

  it('alerts on SNS and fails the execution when the org keeps refusing writes, reporting no success', async () => {
    const emu = await sample();
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    await hardDelete(emu, (await ids(emu, 'Broker__c')).slice(0, 2));
    await emulatorControl(emu, 'faults', { spec: 'collections:500' });
    const failed = await restore(emu, dir, { objects: ['Broker__c'], mode: 'full', confirmOrgId: emu.orgId });
    expect(failed.summary.status).toBe('FAILED');
    expect(failed.sns).toHaveLength(1);
    expect(failed.sns[0]?.message).toMatch(/The restore .* of org sample failed: /);
    expect(failed.sns[0]?.message).toContain('SalesforceTransientError');
    expect(await ids(emu, 'Broker__c')).toHaveLength(6);
  });

  it('reports a row Salesforce refuses with its error, alerts on SNS and fails the execution', async () => {
    const emu = await sample('ebikes-lwc');
    const [account] = await ids(emu, 'Account');
    const order = await api<{ id: string }>(emu, 'POST', '/sobjects/Order__c', {
      Account__c: account,
      Status__c: 'Draft',
    });
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    // The order and its required account are both gone for good; only the order is restored.
    await hardDelete(emu, [order.id]);
    await hardDelete(emu, [account!]);
    const failed = await restore(emu, dir, { objects: ['Order__c'], mode: 'full', confirmOrgId: emu.orgId });
    expect(failed.summary.status).toBe('FAILED');
    expect(failed.summary.error).toBe('RestoreVerificationError');
    expect(failed.summary.message).toContain(order.id);
    expect(failed.summary.message).toContain('REQUIRED_FIELD_MISSING');
    expect(failed.sns).toHaveLength(1);
    expect(failed.sns[0]?.message).toContain('did not bring everything back');
    expect(failed.sns[0]?.message).toContain(order.id);
  });
});
