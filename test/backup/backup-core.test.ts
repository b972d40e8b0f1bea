import { describe, expect, it } from 'vitest';
import { latestPointerKey } from '../../lambdas/core/snapshot/keys.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { baseFields, type FakeObject, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

const T0 = '2026-01-01T00:00:00.000Z';

function org(): FakeSource {
  const accounts: FakeObject = {
    name: 'Account',
    fields: [
      ...baseFields,
      { name: 'BillingAddress', type: 'address' },
      { name: 'BillingCity', type: 'string' },
    ],
    rows: [
      {
        Id: '001000000000001AAA',
        Name: 'Acme, "Intl"',
        IsDeleted: 'false',
        SystemModstamp: T0,
        BillingCity: 'Zürich',
      },
      {
        Id: '001000000000002AAA',
        Name: 'Multi\nline',
        IsDeleted: 'false',
        SystemModstamp: T0,
        BillingCity: null,
      },
      { Id: '001000000000003AAA', Name: 'Gone', IsDeleted: 'true', SystemModstamp: T0, BillingCity: 'Paris' },
    ],
  };
  const contacts: FakeObject = {
    name: 'Contact',
    fields: [...baseFields, { name: 'AccountId', type: 'reference', referenceTo: ['Account'] }],
    rows: Array.from({ length: 7 }, (_, i) => ({
      Id: `003000000000${String(i).padStart(3, '0')}AAA`,
      Name: `Contact ${i}`,
      IsDeleted: 'false',
      SystemModstamp: T0,
      AccountId: '001000000000001AAA',
    })),
  };
  const restOnly: FakeObject = {
    name: 'RestOnly__c',
    fields: baseFields,
    bulk: false,
    rows: Array.from({ length: 5 }, (_, i) => ({
      Id: `a00${i}`,
      Name: `R${i}`,
      IsDeleted: 'false',
      SystemModstamp: T0,
    })),
  };
  const versions: FakeObject = {
    name: 'ContentVersion',
    fields: [...baseFields, { name: 'Checksum', type: 'string' }, { name: 'VersionData', type: 'base64' }],
    rows: [
      { Id: '068000000000001AAA', Name: 'a.txt', IsDeleted: 'false', SystemModstamp: T0, Checksum: null },
      { Id: '068000000000002AAA', Name: 'b.txt', IsDeleted: 'false', SystemModstamp: T0, Checksum: null },
    ],
  };
  const source = new FakeSource([accounts, contacts, restOnly, versions]);
  source.setBlob('ContentVersion', '068000000000001AAA', 'hello file');
  source.setBlob('ContentVersion', '068000000000002AAA', 'second file');
  source.metadata = [
    { type: 'ApexClass', fullName: 'Hello' },
    { type: 'CustomObject', fullName: 'RestOnly__c' },
  ];
  return source;
}

async function rowsOf(store: MemoryStore, object: string) {
  const pit = await new SnapshotReader(store).pointInTime('acme', 'latest');
  const out = new Map<string, Record<string, string>>();
  for await (const row of pit.rows(object)) out.set(row.id, { ...row.values });
  return out;
}

describe('a full backup through the core steps', () => {
  it('stores every row of every object, deleted rows and awkward values included, and marks it complete', async () => {
    const source = org();
    const { store, finish } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { pageSize: 2, maxPagesPerInvocation: 1 },
    );
    expect(finish.status).toBe('complete');
    expect(finish.problems).toEqual([]);
    for (const object of source.objects) {
      const rows = await rowsOf(store, object.name);
      expect(rows.size).toBe(object.rows.length);
      for (const row of object.rows) {
        expect(rows.get(row.Id!)?.Name).toBe(row.Name);
      }
    }
    const accounts = await rowsOf(store, 'Account');
    expect(accounts.get('001000000000001AAA')?.BillingCity).toBe('Zürich');
    expect(accounts.get('001000000000001AAA')).not.toHaveProperty('BillingAddress');
    const manifest = (await new SnapshotReader(store).pointInTime('acme', 'latest')).target;
    expect(manifest.objects.find((o) => o.name === 'RestOnly__c')?.api).toBe('rest');
    expect(manifest.objects.find((o) => o.name === 'Contact')?.parts.length).toBe(4);
    expect(manifest.objects.find((o) => o.name === 'Account')?.deletedRows).toBe(1);
    expect(manifest.metadata.components).toBe(2);
    expect(finish.files).toBe(2);
    expect(store.objects.has(latestPointerKey('acme'))).toBe(true);
  });

  it('fetches a page again when it arrives shorter than Salesforce said, and ends with every row', async () => {
    const source = org();
    source.cutNextPage = true;
    const { store, finish } = await runCore(source, { org: 'acme', mode: 'full' }, { pageSize: 3 });
    expect(finish.status).toBe('complete');
    expect((await rowsOf(store, 'Account')).size).toBe(3);
    expect(source.cutNextPage).toBe(false);
  });

  it('waits for a long Bulk job across invocations instead of creating it again', async () => {
    const source = org();
    source.pendingPolls = 4;
    let now = Date.parse('2026-01-02T00:00:00Z');
    // Each reading of the clock moves it 10 ms, so a 15 ms budget runs out after a poll or two.
    const tick = () => {
      now += 10;
      return new Date(now);
    };
    const { finish, invocations } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { invocationBudgetMs: 15 },
      new MemoryStore(),
      tick,
    );
    expect(finish.status).toBe('complete');
    expect(source.callLog.filter((c) => c === 'bulk-create').length).toBe(4);
    expect(invocations).toBeGreaterThan(4);
  });

  it('tries a fresh Bulk job when one fails on the org side', async () => {
    const source = org();
    source.failNextJobs = 1;
    const { finish } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('complete');
    // Four objects try Bulk (one is refused and goes to REST) and one job is created again.
    expect(source.callLog.filter((c) => c === 'bulk-create').length).toBe(5);
  });

  it('fails the run, names the object and keeps the pointer where it was when one object cannot be exported', async () => {
    const source = org();
    const first = await runCore(source, { org: 'acme', mode: 'full' });
    const pointerBefore = first.store.text(latestPointerKey('acme'));
    source.failNextJobs = 100;
    const { finish, store } = await runCore(source, { org: 'acme', mode: 'full' }, {}, first.store);
    expect(finish.status).toBe('failed');
    expect(finish.problems.join('\n')).toMatch(/Account: SalesforceBulkJobFailedError/);
    expect(finish.failureMessage).toMatch(/FAILED/);
    expect(store.text(latestPointerKey('acme'))).toBe(pointerBefore);
    const catalog = await new SnapshotReader(store).catalog('acme');
    expect(catalog.map((e) => e.status)).toEqual(['complete', 'failed']);
  });
});

describe('an incremental backup through the core steps', () => {
  it('exports only changed rows, finds unchanged objects with batched counts, and reuses known files', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const clock = () => now;
    const source = org();
    const full = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { overlapSeconds: 0 },
      new MemoryStore(),
      clock,
    );
    expect(full.finish.status).toBe('complete');

    now = new Date('2026-01-03T00:00:00.000Z');
    const accounts = source.object('Account');
    accounts.rows[1]!.Name = 'Renamed';
    accounts.rows[1]!.SystemModstamp = '2026-01-02T12:00:00.000Z';
    accounts.rows[0]!.IsDeleted = 'true';
    accounts.rows[0]!.SystemModstamp = '2026-01-02T12:00:00.000Z';
    const versions = source.object('ContentVersion');
    versions.rows[0]!.Name = 'renamed.txt';
    versions.rows[0]!.SystemModstamp = '2026-01-02T12:00:00.000Z';
    source.callLog.length = 0;

    const inc = await runCore(
      source,
      { org: 'acme', mode: 'incremental' },
      { overlapSeconds: 0 },
      full.store,
      clock,
    );
    expect(inc.finish.status).toBe('complete');
    expect(inc.finish.mode).toBe('incremental');
    const manifest = (await new SnapshotReader(full.store).pointInTime('acme', 'latest')).target;
    const byName = Object.fromEntries(manifest.objects.map((o) => [o.name, o]));
    expect(byName.Account?.rows).toBe(2);
    expect(byName.Contact?.status).toBe('unchanged');
    expect(byName.RestOnly__c?.status).toBe('unchanged');
    expect(source.callLog.filter((c) => c === 'composite-count').length).toBe(1);
    expect(source.callLog.some((c) => c.startsWith('blob'))).toBe(false);

    const rows = await rowsOf(full.store, 'Account');
    expect(rows.get('001000000000002AAA')?.Name).toBe('Renamed');
    expect(rows.get('001000000000001AAA')?.IsDeleted).toBe('true');
    expect((await rowsOf(full.store, 'Contact')).size).toBe(7);
    // One row deleted and one renamed: counted by kind against the chain, and too few to alert.
    expect(byName.Account?.changes).toEqual({
      inserted: 0,
      updated: 1,
      deleted: 1,
      undeleted: 0,
      hardDeleted: 0,
      restored: 0,
    });
    expect(inc.finish.hasAnomalies).toBe(false);
  });

  it('costs only identity, limits, describeGlobal and one batched count when nothing changed', async () => {
    let now = new Date('2026-01-02T00:00:00.000Z');
    const source = org();
    const full = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { overlapSeconds: 0 },
      new MemoryStore(),
      () => now,
    );
    now = new Date('2026-01-03T00:00:00.000Z');
    const before = source.calls;
    const inc = await runCore(
      source,
      { org: 'acme', mode: 'incremental' },
      { overlapSeconds: 0 },
      full.store,
      () => now,
    );
    expect(inc.finish.status).toBe('complete');
    expect(source.calls - before).toBe(4);
    expect(inc.finish.apiCalls).toBe(4);
  });
});

describe('planning', () => {
  it('defers a run that would spend more than its share of the API allowance, saying why', async () => {
    const source = org();
    source.limitsRemaining = 3;
    await expect(runCore(source, { org: 'acme', mode: 'full' })).rejects.toThrow(
      /deferred: it needs about \d+ API calls, but only 3/,
    );
  });

  it("stops downloading file bodies when the run's API share runs out, and fails the run saying so", async () => {
    const source = org();
    source.limitsRemaining = 19;
    const { finish } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('failed');
    expect(finish.problems.join('\n')).toMatch(
      /1 file bodies were not downloaded: the run's API share \(19 calls\) ran out/,
    );
    expect(source.callLog.filter((c) => c.startsWith('blob')).length).toBe(1);
  });

  it('refuses to mix two orgs under one name', async () => {
    const source = org();
    const { store } = await runCore(source, { org: 'acme', mode: 'full' });
    source.identity = async () => ({ orgId: '00D000000000002AAA', userId: '005' });
    await expect(runCore(source, { org: 'acme', mode: 'full' }, {}, store)).rejects.toThrow(
      /holds snapshots of org 00D000000000001AAA/,
    );
  });
});

describe('a metadata-only run', () => {
  it('retrieves metadata without touching rows, and the data point in time still reads the last data snapshot', async () => {
    const source = org();
    const full = await runCore(source, { org: 'acme', mode: 'full' }, { metadata: false });
    source.callLog.length = 0;
    const meta = await runCore(source, { org: 'acme', mode: 'metadata' }, {}, full.store);
    expect(meta.finish.status).toBe('complete');
    expect(meta.finish.metadataComponents).toBe(2);
    expect(source.callLog.some((c) => c.startsWith('bulk') || c === 'describeGlobal')).toBe(false);
    const pit = await new SnapshotReader(full.store).pointInTime('acme', 'latest');
    expect(pit.target.mode).toBe('full');
    expect(pit.metadataParts().length).toBe(1);
    expect((await rowsOf(full.store, 'Contact')).size).toBe(7);
  });
});

describe('metadata retrieves', () => {
  it('splits a retrieve that Salesforce refuses as too large until every component is in a zip', async () => {
    const source = org();
    source.metadata = Array.from({ length: 9 }, (_, i) => ({ type: 'ApexClass', fullName: `Class${i}` }));
    source.maxRetrieveComponents = 2;
    const { finish, store } = await runCore(
      source,
      { org: 'acme', mode: 'metadata' },
      { componentsPerRetrieve: 4 },
    );
    expect(finish.status).toBe('complete');
    expect(finish.metadataComponents).toBe(9);
    const parts = (await new SnapshotReader(store).manifest('acme', finish.snapshotId)).metadata.parts;
    expect(parts.every((p) => p.components <= 2)).toBe(true);
    expect(parts.reduce((n, p) => n + p.components, 0)).toBe(9);
  });
});
