import { describe, expect, it } from 'vitest';
import { changesKey, type ObjectComparison } from '../../lambdas/core/backup/changes.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { baseFields, type FakeObject, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const id = (n: number) => `003000000000${String(n).padStart(3, '0')}AAA`;
const fields = [...baseFields, { name: 'Email', type: 'email' }, { name: 'Status', type: 'string' }];

function org(rows = 10): FakeSource {
  const contacts: FakeObject = {
    name: 'Contact',
    fields,
    global: { replicateable: true },
    rows: Array.from({ length: rows }, (_, n) => ({
      Id: id(n),
      Name: `C${n}`,
      IsDeleted: 'false',
      SystemModstamp: T0,
      Email: `c${n}@example.com`,
      Status: n % 2 ? 'Open' : 'Closed',
    })),
  };
  return new FakeSource([contacts]);
}

async function comparison(store: MemoryStore): Promise<ObjectComparison> {
  const target = (await new SnapshotReader(store).pointInTime('acme', 'latest')).target;
  return JSON.parse(
    new TextDecoder().decode(await store.get(changesKey('acme', target.snapshotId, 'Contact'))),
  ) as ObjectComparison;
}

const touch = (row: Record<string, string | null>, at: string) => {
  row.SystemModstamp = at;
};

describe('a run counts changes against the version the chain holds', () => {
  it('counts rows read again in the overlap window as no change', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const source = org();
    // Rows changed just before the full run are read again by the next incremental's overlap.
    for (const row of source.object('Contact').rows.slice(0, 3)) touch(row, '2026-01-01T23:58:00.000Z');
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    now = new Date('2026-01-02T00:00:23.000Z');
    const inc = await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    expect(inc.finish.status).toBe('complete');
    const manifest = (await new SnapshotReader(full.store).pointInTime('acme', 'latest')).target;
    const contact = manifest.objects.find((o) => o.name === 'Contact')!;
    expect(contact.rows).toBe(3);
    expect(contact.changes).toEqual({
      inserted: 0,
      updated: 0,
      deleted: 0,
      undeleted: 0,
      hardDeleted: 0,
      restored: 0,
    });
    expect(inc.finish.hasAnomalies).toBe(false);
  });

  it('tells inserts, updates, deletes, undeletes and hard deletes apart, and which fields changed how', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const source = org(12);
    const contacts = source.object('Contact');
    contacts.rows[11]!.IsDeleted = 'true';
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    now = new Date('2026-01-03T00:00:00.000Z');
    const at = '2026-01-02T12:00:00.000Z';
    // 0-3: Email blanked; 4-5: Status set to one value; 6: soft deleted; 7: hard deleted;
    // 11: undeleted; one new row.
    for (const row of contacts.rows.slice(0, 4)) {
      row.Email = null;
      touch(row, at);
    }
    for (const row of contacts.rows.slice(4, 6)) {
      row.Status = 'Escalated';
      touch(row, at);
    }
    contacts.rows[6]!.IsDeleted = 'true';
    touch(contacts.rows[6]!, at);
    source.deleteLog.push(
      { object: 'Contact', id: id(6), deletedDate: at },
      { object: 'Contact', id: id(7), deletedDate: at },
    );
    contacts.rows.splice(7, 1);
    const undeleted = contacts.rows.find((r) => r.Id === id(11))!;
    undeleted.IsDeleted = 'false';
    touch(undeleted, at);
    contacts.rows.push({
      Id: id(50),
      Name: 'New',
      IsDeleted: 'false',
      SystemModstamp: at,
      Email: 'n@example.com',
      Status: 'Open',
    });

    await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    const { changes } = await comparison(full.store);
    expect(changes?.counts).toEqual({ inserted: 1, updated: 6, deleted: 1, undeleted: 1, hardDeleted: 1 });
    expect(changes?.liveBefore).toBe(11);
    expect(changes?.ids.hardDeleted).toEqual([id(7)]);
    expect(changes?.ids.inserted).toEqual([id(50)]);
    const email = changes?.fields.find((f) => f.field === 'Email');
    expect(email?.nulled).toBe(4);
    expect([...(email?.nulledIds ?? [])].sort()).toEqual([id(0), id(1), id(2), id(3)]);
    const status = changes?.fields.find((f) => f.field === 'Status');
    expect(status?.sameValue?.count).toBe(2);
    // Values are never kept: only names, counts and ids.
    expect(JSON.stringify(changes)).not.toMatch(/Escalated|example\.com/);
  });

  it('counts on a full run the rows that disappeared since the last one as hard deleted', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const source = org();
    const first = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    now = new Date('2026-01-09T00:00:00.000Z');
    source.object('Contact').rows.splice(0, 2);
    await runCore(source, { org: 'acme', mode: 'full' }, {}, first.store, () => now);
    const { changes } = await comparison(first.store);
    expect(changes?.counts.hardDeleted).toBe(2);
    expect(changes?.counts.updated).toBe(0);
    expect(changes?.counts.inserted).toBe(0);
  });

  it('links rows a restore inserted again to the ids they replace, instead of counting them inserted', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const source = org();
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    now = new Date('2026-01-03T00:00:00.000Z');
    const at = '2026-01-02T12:00:00.000Z';
    // Row 0 was hard deleted, and a restore inserted it again as a new row.
    const contacts = source.object('Contact');
    const [gone] = contacts.rows.splice(0, 1);
    source.deleteLog.push({ object: 'Contact', id: id(0), deletedDate: at });
    contacts.rows.push({ ...gone!, Id: id(90), SystemModstamp: at });
    await full.store.put(
      'restores/acme/00D000000000001AAA/id-map/Contact/batch-1.json',
      JSON.stringify({
        object: 'Contact',
        batch: 'batch-1',
        entries: [[id(0), id(90)]],
        failed: [],
        source: 'insert',
      }),
    );
    await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    const result = await comparison(full.store);
    expect(result.changes?.counts.inserted).toBe(0);
    // Deleted and put back by a restore within one window: no change but the restore's.
    expect(result.changes?.counts.hardDeleted).toBe(0);
    expect(result.changes?.restored).toBe(1);
    const pit = await new SnapshotReader(full.store).pointInTime('acme', 'latest');
    const contact = pit.target.objects.find((o) => o.name === 'Contact')!;
    expect(contact.links?.rows).toBe(1);
    expect(contact.changes?.restored).toBe(1);
    expect(await pit.links('Contact')).toEqual(new Map([[id(90), id(0)]]));
    // One row, not two: the original is gone, its copy stands in for it.
    let count = 0;
    for await (const _ of pit.rows('Contact')) count++;
    expect(count).toBe(10);
  });

  it('raises one alert for a field blanked on 500 rows, with a stored dry-run restore input that reverts it', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const source = org(3000);
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    now = new Date('2026-01-03T00:00:00.000Z');
    const quiet = await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    expect(quiet.finish.hasAnomalies).toBe(false);
    expect(quiet.finish.anomalyMessage).toBe('');

    now = new Date('2026-01-04T00:00:00.000Z');
    const blanked = source.object('Contact').rows.slice(0, 500);
    for (const row of blanked) {
      row.Email = null;
      touch(row, '2026-01-03T12:00:00.000Z');
    }
    const inc = await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    expect(inc.finish.hasAnomalies).toBe(true);
    const message = inc.finish.anomalyMessage;
    expect(message.match(/^- /gm)).toHaveLength(1);
    expect(message).toMatch(/Contact\.Email|Email/);
    expect(message).toMatch(/500/);
    expect(message).not.toMatch(/example\.com/);
    const key = message.match(/orgs\/acme\/snapshots\/\S+\/remedies\/\S+\.json/)?.[0];
    expect(key).toBeDefined();
    const input = JSON.parse(new TextDecoder().decode(await full.store.get(key!))) as {
      snapshot: string;
      objects: string[];
      records: string[];
      fields: string[];
      mode: string;
    };
    expect(input.mode).toBe('dry-run');
    expect(input.snapshot).toBe(quiet.finish.snapshotId);
    expect(input.objects).toEqual(['Contact']);
    expect(input.fields).toEqual(['Contact.Email']);
    expect([...input.records].sort()).toEqual(blanked.map((r) => r.Id).sort());
  });
});

describe('what is not a change', () => {
  it('keeps a row deleted just before the base run in the recycle bin, instead of tombstoning it', async () => {
    const source = org();
    const contacts = source.object('Contact');
    // Deleted at 10:00:10; the full run starts at 10:00:30, reads it in the recycle bin.
    contacts.rows[0]!.IsDeleted = 'true';
    touch(contacts.rows[0]!, '2026-01-02T10:00:10.000Z');
    source.deleteLog.push({ object: 'Contact', id: id(0), deletedDate: '2026-01-02T10:00:10.000Z' });
    const full = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { overlapSeconds: 0 },
      new MemoryStore(),
      () => new Date('2026-01-02T10:00:30.000Z'),
    );
    // The delete log, read by the minute, lists it again in the next window, before the window's
    // own start: the base saw that delete, and no tombstone hides the row.
    await runCore(
      source,
      { org: 'acme', mode: 'incremental' },
      { overlapSeconds: 0 },
      full.store,
      () => new Date('2026-01-02T10:30:00.000Z'),
    );
    const pit = await new SnapshotReader(full.store).pointInTime('acme', 'latest');
    const rows = new Map<string, boolean>();
    for await (const row of pit.rows('Contact')) rows.set(row.id, row.deleted);
    expect(rows.get(id(0))).toBe(true);
    const contact = pit.target.objects.find((o) => o.name === 'Contact')!;
    expect(contact.status).toBe('unchanged');
    expect(contact.tombstones).toBeUndefined();
  });

  it('does not count again as hard deleted the rows already in the recycle bin when they are purged', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const source = org();
    const contacts = source.object('Contact');
    contacts.rows[0]!.IsDeleted = 'true';
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    now = new Date('2026-01-03T00:00:00.000Z');
    // Purged from the recycle bin, and one live row hard deleted: the object is read in full.
    contacts.rows.splice(0, 2);
    source.earliestDateAvailable.set('Contact', '2026-01-02T20:00:00.000Z');
    await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    const { changes } = await comparison(full.store);
    expect(changes?.ids.hardDeleted).toEqual([id(1)]);
  });

  it('compares an object without a watermark field on the values a person sets, on the columns both versions have', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const rates: FakeObject = {
      name: 'Rate__c',
      fields: [
        { name: 'Id', type: 'id' },
        { name: 'Name', type: 'string' },
      ],
      rows: [1, 2, 3].map((n) => ({ Id: `a01000000000${n}00AAA`, Name: `R${n}` })),
    };
    const source = new FakeSource([rates]);
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    now = new Date('2026-01-03T00:00:00.000Z');
    // A field added to the object: every row has a new column, none changed.
    rates.fields.push({ name: 'Code__c', type: 'string' });
    for (const row of rates.rows) row.Code__c = 'X';
    rates.rows[2]!.Name = 'R3 renamed';
    await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    const target = (await new SnapshotReader(full.store).pointInTime('acme', 'latest')).target;
    const result = JSON.parse(
      new TextDecoder().decode(await full.store.get(changesKey('acme', target.snapshotId, 'Rate__c'))),
    ) as ObjectComparison;
    expect(result.changes?.ids.updated).toEqual(['a01000000000300AAA']);
  });
});

describe("a restore's own writes", () => {
  it('count as restored only while a restore of the org held its lease, from its claim to its release, not an erasure', async () => {
    const user = '005000000000001AAA';
    const rows = [1, 2, 3].map((n) => ({
      Id: id(n),
      Name: `C${n}`,
      IsDeleted: 'false',
      SystemModstamp: T0,
      LastModifiedDate: T0,
      LastModifiedById: '005000000000009AAA',
    }));
    const source = new FakeSource([
      {
        name: 'Contact',
        fields: [
          ...baseFields,
          { name: 'LastModifiedDate', type: 'datetime' },
          { name: 'LastModifiedById', type: 'reference' },
        ],
        rows,
      },
    ]);
    let now = new Date('2026-01-02T00:00:00.000Z');
    const full = await runCore(source, { org: 'acme', mode: 'full' }, {}, new MemoryStore(), () => now);
    // A restore held the lease from 10:00 to 10:30; the integration user wrote once inside that
    // window, once after it (while an erasure held the lease: it writes nothing to the org, so
    // its window explains no change), and another user once inside it.
    const root = 'restores/acme/00D000000000001AAA/lease/';
    const held = async (run: string, from: string, to: string) => {
      await full.store.put(`${root}claims/${String(Date.parse(from)).padStart(15, '0')}-${run}.json`, '{}');
      await full.store.put(`${root}released/${run}.json`, JSON.stringify({ runId: run, releasedAt: to }));
    };
    await held('run-1', '2026-01-02T10:00:00.000Z', '2026-01-02T10:30:00.000Z');
    await held('erasure-request-42', '2026-01-02T10:45:00.000Z', '2026-01-02T11:30:00.000Z');
    const write = (row: Record<string, string | null>, at: string, by: string) => {
      row.Name = `${row.Name} again`;
      row.SystemModstamp = at;
      row.LastModifiedDate = at;
      row.LastModifiedById = by;
    };
    write(rows[0]!, '2026-01-02T10:10:00.000Z', user);
    write(rows[1]!, '2026-01-02T11:00:00.000Z', user);
    write(rows[2]!, '2026-01-02T10:20:00.000Z', '005000000000009AAA');
    now = new Date('2026-01-03T00:00:00.000Z');
    await runCore(source, { org: 'acme', mode: 'incremental' }, {}, full.store, () => now);
    const { changes } = await comparison(full.store);
    expect(changes?.restored).toBe(1);
    expect([...(changes?.ids.updated ?? [])].sort()).toEqual([id(2), id(3)]);
  });
});
