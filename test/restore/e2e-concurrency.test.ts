import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { backup, freshStoreDir, hardDelete, ids, orgState, restore, startSampleOrg } from './e2e-support.ts';

const running: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function faults(emu: RunningEmulator, spec: string): Promise<void> {
  const response = await fetch(`${emu.instanceUrl}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ spec }),
  });
  if (!response.ok) throw new Error(`faults: ${response.status} ${await response.text()}`);
}

describe('restores of one org at once', () => {
  it('lets one of two restores started together write to a slow org and refuses the other, naming it', async () => {
    // GIVEN a backed-up org that lost two properties for good, and answers slowly
    const emu = await startSampleOrg('dreamhouse-lwc');
    running.push(emu);
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const objects = ['Broker__c', 'Property__c'];
    const before = await orgState(emu, objects);
    const properties = await ids(emu, 'Property__c');
    await hardDelete(emu, properties.slice(0, 2));
    await faults(emu, '*:latency=150ms');
    const input = { objects: ['Property__c'], mode: 'restore-deleted', confirmOrgId: emu.orgId };

    // WHEN two restores of the same org start together
    const [a, b] = await Promise.all([
      restore(emu, dir, input, { executionName: 'restore-a' }),
      restore(emu, dir, input, { executionName: 'restore-b' }),
    ]);

    // THEN one restores the rows and the other is refused before writing, naming the first
    const statuses = [a.summary.status, b.summary.status].sort();
    expect(statuses).toEqual(['FAILED', 'SUCCEEDED']);
    const refused = a.summary.status === 'FAILED' ? a : b;
    const holder = a.summary.status === 'FAILED' ? 'restore-b' : 'restore-a';
    expect(refused.summary.error).toBe('RestoreInProgressError');
    expect(refused.summary.message).toContain(`execution ${holder}`);
    expect(refused.summary.message).toContain('Wait for that execution to end');
    expect(refused.sns).toEqual([]);
    await faults(emu, '');
    expect(await ids(emu, 'Property__c')).toHaveLength(properties.length);
    expect(await orgState(emu, objects)).toEqual(before);

    // AND the org is free again: the same restore runs and finds nothing left to do
    const again = await restore(emu, dir, input, { executionName: 'restore-c' });
    expect(again.summary.status).toBe('SUCCEEDED');
    expect(await ids(emu, 'Property__c')).toHaveLength(properties.length);
  });

  it('frees the org when a restore fails, so the next restore need not wait for the lease to expire', async () => {
    const emu = await startSampleOrg('dreamhouse-lwc');
    running.push(emu);
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const brokers = await ids(emu, 'Broker__c');
    await hardDelete(emu, brokers.slice(0, 2));
    const input = { objects: ['Broker__c'], mode: 'full', confirmOrgId: emu.orgId };
    await faults(emu, 'collections:500');
    const failed = await restore(emu, dir, input, { executionName: 'restore-failing' });
    expect(failed.summary.status).toBe('FAILED');
    expect(failed.sns).toHaveLength(1);
    await faults(emu, '');
    const next = await restore(emu, dir, input, { executionName: 'restore-next' });
    // The lease is free: the next restore is not refused, and brings the two brokers back.
    expect(next.summary.error).not.toBe('RestoreInProgressError');
    expect(next.summary.status).toBe('SUCCEEDED');
    expect(await ids(emu, 'Broker__c')).toHaveLength(brokers.length);
  });
});
