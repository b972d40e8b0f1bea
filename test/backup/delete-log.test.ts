import { describe, expect, it } from 'vitest';
import { readDeleteLog, replicationGap } from '../../lambdas/core/backup/delete-log.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { baseFields, type FakeObject, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const id = (n: number) => `001000000000${String(n).padStart(3, '0')}AAA`;

function org(): FakeSource {
  const accounts: FakeObject = {
    name: 'Account',
    fields: baseFields,
    global: { replicateable: true },
    rows: [1, 2, 3, 4].map((n) => ({ Id: id(n), Name: `A${n}`, IsDeleted: 'false', SystemModstamp: T0 })),
  };
  const notes: FakeObject = {
    name: 'Note__c',
    fields: baseFields,
    global: { replicateable: true },
    rows: [{ Id: 'a00000000000001AAA', Name: 'n', IsDeleted: 'false', SystemModstamp: T0 }],
  };
  return new FakeSource([accounts, notes]);
}

async function liveIds(store: MemoryStore, object: string): Promise<string[]> {
  const pit = await new SnapshotReader(store).pointInTime('acme', 'latest');
  const out: string[] = [];
  for await (const row of pit.rows(object)) out.push(`${row.id}${row.deleted ? ' (bin)' : ''}`);
  return out.sort();
}

describe('an incremental reads the delete log', () => {
  it('records hard deletes and purges as tombstones, so the point in time no longer holds them', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const clock = () => now;
    const source = org();
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), clock);
    expect(full.finish.status).toBe('complete');

    now = new Date('2026-01-03T00:00:00.000Z');
    const accounts = source.object('Account');
    // A1 hard deleted; A2 soft deleted (still in the recycle bin); A3 soft deleted then purged.
    accounts.rows = accounts.rows.filter((r) => r.Id !== id(1) && r.Id !== id(3));
    accounts.rows[0]!.IsDeleted = 'true';
    accounts.rows[0]!.SystemModstamp = '2026-01-02T10:00:00.000Z';
    for (const n of [1, 2, 3])
      source.deleteLog.push({ object: 'Account', id: id(n), deletedDate: '2026-01-02T10:00:00.000Z' });
    source.callLog.length = 0;

    const inc = await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, clock);
    expect(inc.finish.status).toBe('complete');
    expect(inc.finish.mode).toBe('incremental');
    expect(source.callLog.filter((c) => c === 'composite-deleted')).toHaveLength(1);
    expect(await liveIds(full.store, 'Account')).toEqual([`${id(2)} (bin)`, id(4)]);
    const manifest = (await new SnapshotReader(full.store).pointInTime('acme', 'latest')).target;
    const account = manifest.objects.find((o) => o.name === 'Account')!;
    expect(account.tombstones?.rows).toBe(3);
    expect(account.tombstones?.key).toMatch(/objects\/Account\/tombstones-\w+\.csv\.gz$/);
    // An object with nothing deleted and nothing changed stays unchanged and costs no export.
    expect(manifest.objects.find((o) => o.name === 'Note__c')?.status).toBe('unchanged');
  });

  it('reads an object in full when its recycle bin was emptied since the last run, and says why', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const source = org();
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    now = new Date('2026-01-03T00:00:00.000Z');
    // A1 vanished with a purge of the recycle bin whose delete entry Salesforce no longer lists:
    // only earliestDateAvailable tells.
    source.object('Account').rows = source.object('Account').rows.filter((r) => r.Id !== id(1));
    source.earliestDateAvailable.set('Account', '2026-01-02T20:00:00.000Z');
    const inc = await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    expect(inc.finish.status).toBe('complete');
    const manifest = (await new SnapshotReader(full.store).pointInTime('acme', 'latest')).target;
    const account = manifest.objects.find((o) => o.name === 'Account')!;
    expect(account.since).toBeNull();
    expect(account.rows).toBe(3);
    expect(account.fullReason).toMatch(/delete log of Account starts at 2026-01-02T20:00:00.000Z/);
    expect(await liveIds(full.store, 'Account')).toEqual([id(2), id(3), id(4)]);
  });

  it('runs as a full backup when the last snapshot is older than the delete log, and says why', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const source = org();
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    now = new Date('2026-01-18T00:00:00.000Z');
    source.object('Account').rows.shift();
    const inc = await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    expect(inc.finish.status).toBe('complete');
    expect(inc.finish.mode).toBe('full');
    expect(inc.finish.fullReason).toMatch(
      /16\.0 days long, longer than the 15 days Salesforce keeps its delete log/,
    );
    const manifest = (await new SnapshotReader(full.store).pointInTime('acme', 'latest')).target;
    expect(manifest.mode).toBe('full');
    expect(manifest.requestedMode).toBe('incremental');
    expect(manifest.fullReason).toBe(inc.finish.fullReason);
    expect(await liveIds(full.store, 'Account')).toEqual([id(2), id(3), id(4)]);
  });
});

describe('reading the delete log', () => {
  it('asks again in halves when Salesforce lists too many ids at once', async () => {
    const source = org();
    for (let n = 0; n < 10; n++)
      source.deleteLog.push({ object: 'Account', id: id(n), deletedDate: `2026-01-02T0${n}:00:00.000Z` });
    const real = source.getDeleted.bind(source);
    let calls = 0;
    source.getDeleted = async (windows) => {
      calls++;
      const answers = await real(windows);
      // Six ids or more in one answer is "too many" here.
      return answers.map((a) =>
        a.kind === 'deleted' && a.records.length > 5
          ? { object: a.object, kind: 'refused', errorCode: 'EXCEEDED_ID_LIMIT' }
          : a,
      );
    };
    const log = await readDeleteLog(
      source,
      ['Account'],
      new Date('2026-01-02T00:00:00.000Z'),
      new Date('2026-01-03T00:00:00.000Z'),
    );
    const reading = log.get('Account')!;
    expect(reading.kind).toBe('deleted');
    expect(reading.kind === 'deleted' && reading.records.map((r) => r.id).sort()).toEqual(
      Array.from({ length: 10 }, (_, n) => id(n)),
    );
    expect(calls).toBeGreaterThan(1);
  });

  it('reads in full an object whose window Salesforce refuses', async () => {
    const source = org();
    source.deletedRefusals.set('Account', 'INVALID_REPLICATION_DATE');
    const log = await readDeleteLog(
      source,
      ['Account', 'Note__c'],
      new Date('2026-01-02T00:00:00.000Z'),
      new Date('2026-01-03T00:00:00.000Z'),
    );
    expect(log.get('Account')).toEqual({
      kind: 'read-in-full',
      reason: expect.stringMatching(/INVALID_REPLICATION_DATE/),
    });
    expect(log.get('Note__c')).toEqual({ kind: 'deleted', records: [] });
  });

  it("reads in full an object whose log stops before the next run's window, or that Salesforce will not list", async () => {
    const source = org();
    source.latestDateCovered.set('Account', '2026-01-02T12:00:00.000Z');
    source.deletedRefusals.set('Note__c', 'INVALID_TYPE');
    const log = await readDeleteLog(
      source,
      ['Account', 'Note__c'],
      new Date('2026-01-02T00:00:00.000Z'),
      new Date('2026-01-03T00:00:00.000Z'),
      new Date('2026-01-02T23:55:00.000Z'),
    );
    expect(log.get('Account')).toEqual({
      kind: 'read-in-full',
      reason: expect.stringMatching(/only up to 2026-01-02T12:00:00.000Z, before 2026-01-02T23:55:00.000Z/),
    });
    expect(log.get('Note__c')).toEqual({
      kind: 'read-in-full',
      reason: expect.stringMatching(/refused to read the object's delete log \(INVALID_TYPE\)/),
    });
  });

  it('finds no gap within the 15 days Salesforce keeps the log', () => {
    const start = new Date('2026-01-20T00:00:00.000Z');
    expect(replicationGap('s1', new Date('2026-01-06T00:00:00.000Z'), start)).toBeUndefined();
    expect(replicationGap('s1', new Date('2026-01-04T23:00:00.000Z'), start)).toMatch(/15\.0 days long/);
  });
});
