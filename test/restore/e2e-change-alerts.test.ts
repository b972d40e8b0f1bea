import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { api, backup, freshStoreDir, ids, orgState, restore, softDelete, update } from './e2e-support.ts';

/**
 * The seed scenarios of unusual change, end to end on the synthesized workflows: each mass change
 * raises exactly one alert naming it, the alert's stored restore input brings the org back, and
 * the runs around them stay quiet.
 */
const running: RunningEmulator[] = [];
// Salesforce's delete log is read to the whole minute: a delete in the minute a run starts is
// listed to the next run. Between a change and the backup that should see it, the clock moves two
// minutes, for the org and the workflow alike (both read the process clock).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
});
afterEach(async () => {
  vi.useRealTimers();
  for (const emu of running.splice(0)) await emu.stop();
});

function twoMinutesLater(): void {
  vi.setSystemTime(Date.now() + 120_000);
}

/** A generated org with 1,500 contacts, each with an e-mail address. */
const ORG_SPEC = 'objects=1,rows=20,files=0,seed=11,fields=12,accounts=1500,activities=0';
const OBJECTS = ['Account', 'Contact'];

/** Rows removed for good with a Bulk API 2.0 hardDelete job, as a careless admin would. */
async function bulkHardDelete(
  emu: RunningEmulator,
  object: string,
  rowIds: readonly string[],
): Promise<void> {
  const job = await api<{ id: string }>(emu, 'POST', '/jobs/ingest', {
    object,
    operation: 'hardDelete',
    contentType: 'CSV',
    lineEnding: 'LF',
  });
  const upload = await fetch(`${emu.instanceUrl}/services/data/v62.0/jobs/ingest/${job.id}/batches`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${emu.accessToken}`, 'content-type': 'text/csv' },
    body: `Id\n${rowIds.join('\n')}\n`,
  });
  expect(upload.status).toBe(201);
  await api(emu, 'PATCH', `/jobs/ingest/${job.id}`, { state: 'UploadComplete' });
  for (;;) {
    const status = await api<{ state: string; numberRecordsProcessed: number }>(
      emu,
      'GET',
      `/jobs/ingest/${job.id}`,
    );
    if (status.state === 'JobComplete') {
      expect(status.numberRecordsProcessed).toBe(rowIds.length);
      return;
    }
    if (status.state === 'Failed' || status.state === 'Aborted')
      throw new Error(`hardDelete job ${status.state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The anomaly alerts of a backup run (other alerts, such as a failure, are not anomalies). */
function anomalyAlerts(sns: readonly { message: string }[]): string[] {
  return sns.map((m) => m.message).filter((m) => m.includes('Unusual changes'));
}

/** The restore inputs an alert names, read from the vault, switched to the writing mode it says. */
function remedyInputs(dir: string, alert: string, mode: string, orgId: string): Record<string, unknown>[] {
  const keys = [...alert.matchAll(/orgs\/\S+\/remedies\/\S+\.json/g)].map((m) => m[0]);
  expect(keys.length).toBeGreaterThan(0);
  return keys.map((key) => {
    const input = JSON.parse(readFileSync(join(dir, key), 'utf8')) as Record<string, unknown>;
    expect(input.mode).toBe('dry-run');
    return { ...input, mode, confirmOrgId: orgId };
  });
}

async function quietIncremental(emu: RunningEmulator, dir: string): Promise<void> {
  twoMinutesLater();
  const run = await backup(emu, dir, 'incremental', { overlapSeconds: 300 });
  expect(run.summary.status).toBe('complete');
  expect(anomalyAlerts(run.sns)).toEqual([]);
}

async function incrementalWithOneAlert(emu: RunningEmulator, dir: string): Promise<string> {
  twoMinutesLater();
  const run = await backup(emu, dir, 'incremental', { overlapSeconds: 300 });
  expect(run.summary.status).toBe('complete');
  const alerts = anomalyAlerts(run.sns);
  expect(alerts).toHaveLength(1);
  // One incident, one line: the alert lists exactly one unusual change.
  expect(alerts[0]!.match(/^- /gm)).toHaveLength(1);
  return alerts[0]!;
}

async function restoreAll(
  emu: RunningEmulator,
  dir: string,
  inputs: Record<string, unknown>[],
): Promise<void> {
  for (const input of inputs) {
    const dry = await restore(emu, dir, { ...input, mode: 'dry-run', confirmOrgId: undefined });
    expect(dry.summary.status).toBe('SUCCEEDED');
    const done = await restore(emu, dir, input);
    expect(done.summary.error).toBeNull();
    expect(done.summary.status).toBe('SUCCEEDED');
  }
}

describe('change alerts over the synthesized workflows', () => {
  it('alert once per mass change, and their stored restore inputs undo each one', async () => {
    const emu = await startEmulator({ generate: ORG_SPEC });
    running.push(emu);
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full', { overlapSeconds: 300 })).summary.status).toBe('complete');
    await quietIncremental(emu, dir);
    await quietIncremental(emu, dir);
    const contacts = await ids(emu, 'Contact');
    expect(contacts).toHaveLength(1500);

    // A bulk import with the wrong mapping blanks the e-mail of 500 contacts.
    const beforeImport = await orgState(emu, OBJECTS);
    await update(
      emu,
      'Contact',
      contacts.slice(0, 500).map((Id) => ({ Id, Email: null })),
    );
    const blanked = await incrementalWithOneAlert(emu, dir);
    expect(blanked).toMatch(/Contact/);
    expect(blanked).toMatch(/Email/);
    expect(blanked).toMatch(/500/);
    expect(blanked).not.toMatch(/@example\.com/);
    await restoreAll(emu, dir, remedyInputs(dir, blanked, 'revert-changes', emu.orgId));
    expect(await orgState(emu, OBJECTS)).toEqual(beforeImport);
    // The restore's own writes are not news.
    await quietIncremental(emu, dir);

    // Someone mass-deletes the wrong list.
    const beforeDelete = await orgState(emu, OBJECTS);
    await softDelete(emu, contacts.slice(500, 900));
    const deleted = await incrementalWithOneAlert(emu, dir);
    expect(deleted).toMatch(/Contact: 400 rows deleted/);
    await restoreAll(emu, dir, remedyInputs(dir, deleted, 'restore-deleted', emu.orgId));
    expect(await orgState(emu, OBJECTS)).toEqual(beforeDelete);
    await quietIncremental(emu, dir);

    // A Bulk API hard delete bypasses the recycle bin.
    const beforeHardDelete = await orgState(emu, OBJECTS);
    await bulkHardDelete(emu, 'Contact', contacts.slice(1000, 1300));
    const hard = await incrementalWithOneAlert(emu, dir);
    expect(hard).toMatch(/Contact: 300 rows/);
    expect(hard).toMatch(/hard deleted|gone for good|removed for good/i);
    await restoreAll(emu, dir, remedyInputs(dir, hard, 'restore-deleted', emu.orgId));
    expect(await orgState(emu, OBJECTS)).toEqual(beforeHardDelete);
    await quietIncremental(emu, dir);

    // The chain holds each contact once: the originals are gone, their copies linked to them.
    const pit = await new SnapshotReader(new LocalDirectoryStore(dir)).pointInTime('sample', 'latest');
    const live: string[] = [];
    for await (const row of pit.rows('Contact', { includeDeleted: false })) live.push(row.id);
    expect(live.sort()).toEqual((await ids(emu, 'Contact')).sort());
    expect(live).toHaveLength(1500);
    const links = await pit.links('Contact');
    expect(links.size).toBe(300);
    expect([...links.values()].sort()).toEqual(contacts.slice(1000, 1300).sort());

    // A drill of the latest snapshot into a sandbox restores the org as it is, each row once.
    const sandbox = await startEmulator({});
    running.push(sandbox);
    const drill = await restore(
      emu,
      dir,
      { drill: true, objects: OBJECTS },
      { drill: { instanceUrl: sandbox.instanceUrl, accessToken: sandbox.accessToken } },
    );
    expect(drill.summary.error).toBeNull();
    expect(drill.summary.status).toBe('SUCCEEDED');
    expect(await orgState(sandbox, OBJECTS)).toEqual(await orgState(emu, OBJECTS));
  });
});
