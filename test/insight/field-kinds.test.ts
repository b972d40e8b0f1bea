/**
 * Which fields the diff, the history and the plans count as changes and offer to restore: fields
 * Salesforce computes or sets are counted apart, fields it will not let a restore write are refused,
 * columns one version lacks are listed apart, and a changed-fields plan writes only what changed.
 * The vault is written directly, so every field's description is exactly what the test says.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  changedGroups,
  diffSnapshots,
  planFromDiff,
  planFromHistory,
  recordHistory,
} from '../../lambdas/core/insight/index.ts';
import { csvHeader, csvLine } from '../../lambdas/core/snapshot/csv.ts';
import { partKey } from '../../lambdas/core/snapshot/keys.ts';
import type { SnapshotField, SnapshotManifest } from '../../lambdas/core/snapshot/manifest.ts';
import { recordSnapshotOutcome, writeManifest } from '../../lambdas/core/snapshot/writer.ts';
import { MemoryStore } from '../backup/memory-store.ts';

const ORG = 'acme';
const S1 = '20260101T000000000Z-aaaaaa';
const S2 = '20260102T000000000Z-bbbbbb';
const S3 = '20260103T000000000Z-cccccc';

const DESCRIBED: Record<string, Partial<SnapshotField>> = {
  Id: { type: 'id', updateable: false },
  IsDeleted: { type: 'boolean', updateable: false },
  SystemModstamp: { type: 'datetime', updateable: false },
  Formula__c: { calculated: true, updateable: false },
  LastViewedDate: { type: 'datetime', updateable: false },
  Locked__c: { updateable: false },
};

async function snapshot(
  store: MemoryStore,
  id: string,
  finishedAt: string,
  columns: readonly string[],
  rows: readonly Record<string, string>[],
): Promise<void> {
  const body = gzipSync(csvHeader([...columns]) + rows.map((r) => csvLine([...columns], r)).join(''));
  const key = partKey(ORG, id, 'Account', 1, 'a1');
  const stored = await store.put(key, body);
  const manifest: SnapshotManifest = {
    formatVersion: 1,
    snapshotId: id,
    runId: `run-${id}`,
    org: ORG,
    orgId: '00D000000000001AAA',
    apiVersion: '62.0',
    mode: 'full',
    requestedMode: 'full',
    baseSnapshotId: null,
    startedAt: finishedAt,
    finishedAt,
    watermark: finishedAt,
    overlapSeconds: 0,
    objects: [
      {
        name: 'Account',
        status: 'exported',
        api: 'bulk',
        fields: columns.map((name) => ({
          name,
          type: 'string',
          updateable: true,
          inCsv: true,
          ...DESCRIBED[name],
        })),
        rows: rows.length,
        deletedRows: 0,
        bytes: body.length,
        parts: [{ key, rows: rows.length, bytes: body.length, sha256: stored.sha256 }],
        since: null,
        watermark: finishedAt,
        apiCalls: 1,
      },
    ],
    skippedObjects: [],
    files: [],
    metadata: { included: false, components: 0, parts: [] },
    apiCalls: { total: 1, plan: 0, export: 1, files: 0, metadata: 0, finish: 0 },
    errors: [],
  };
  const written = await writeManifest(store, manifest);
  await recordSnapshotOutcome(store, manifest, {
    manifestKey: written.key,
    manifestSha256: written.sha256,
    problems: [],
  });
}

const id = (n: number): string => `001000000000${String(n).padStart(3, '0')}AAA`;
const COLUMNS = [
  'Id',
  'IsDeleted',
  'SystemModstamp',
  'Name',
  'Amount',
  'Formula__c',
  'LastViewedDate',
  'Locked__c',
];

function row(n: number, values: Record<string, string> = {}): Record<string, string> {
  return {
    Id: id(n),
    IsDeleted: 'false',
    SystemModstamp: '2026-01-01T00:00:00.000Z',
    Name: `Row ${n}`,
    Amount: '10',
    Formula__c: '20',
    LastViewedDate: '',
    Locked__c: 'L',
    ...values,
  };
}

/**
 * Two full snapshots: between them row 1's formula (and its stamp) and row 2's view date moved,
 * row 3's Name changed, row 4's Name and Amount, row 5's Locked__c (not updateable); row 6 did not.
 */
async function vault(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await snapshot(
    store,
    S1,
    '2026-01-01T00:00:00.000Z',
    COLUMNS,
    [1, 2, 3, 4, 5, 6].map((n) => row(n)),
  );
  await snapshot(store, S2, '2026-01-02T00:00:00.000Z', COLUMNS, [
    row(1, { Formula__c: '30', SystemModstamp: '2026-01-02T00:00:00.000Z' }),
    row(2, { LastViewedDate: '2026-01-02T00:00:00.000Z' }),
    row(3, { Name: 'Renamed 3' }),
    row(4, { Name: 'Renamed 4', Amount: '99' }),
    row(5, { Locked__c: 'M' }),
    row(6),
  ]);
  return store;
}

describe('fields Salesforce computes or sets', () => {
  it('are counted apart by the diff, never as changed', async () => {
    const diff = await diffSnapshots(await vault(), ORG, S1, S2, { object: 'Account' });
    const [a] = diff.objects;
    expect(a!.changed.sample.sort()).toEqual([id(3), id(4), id(5)]);
    expect(a!.changed.fields).toEqual([
      { field: 'Name', rows: 2 },
      { field: 'Amount', rows: 1 },
      { field: 'Locked__c', rows: 1 },
    ]);
    expect(a!.computedOnly).toBe(2);
    expect(a!.computedFields).toEqual(['Formula__c', 'LastViewedDate']);
    expect(a!.unchanged).toBe(1);
  });

  it('are counted apart by the history, never as changed', async () => {
    const store = await vault();
    const formula = await recordHistory(store, ORG, 'Account', id(1));
    expect(formula.versions.map((v) => [v.event, v.computedChanged, v.auditChanged])).toEqual([
      ['created', [], []],
      ['unchanged', ['Formula__c'], ['SystemModstamp']],
    ]);
    expect(() => planFromHistory(formula, { to: S1 })).toThrow('holds the same values as its newest version');
    const viewed = await recordHistory(store, ORG, 'Account', id(2));
    expect(viewed.versions[1]).toMatchObject({
      event: 'unchanged',
      changes: [],
      computedChanged: ['LastViewedDate'],
    });
  });
});

describe('a plan of changed fields', () => {
  it('refuses rows that differ in which fields changed, naming the groups and how to narrow', async () => {
    const diff = await diffSnapshots(await vault(), ORG, S1, S2, { object: 'Account' });
    expect(() => planFromDiff(diff, { kind: 'changed' })).toThrow(
      'Account: 2 groups: Name (1 rows); Amount, Name (1 rows)',
    );
    expect(() => planFromDiff(diff, { kind: 'changed' })).toThrow('one field at a time (--fields F)');
  });

  it('gives an exact input per field, and one per group of rows that share their changed fields', async () => {
    const diff = await diffSnapshots(await vault(), ORG, S1, S2, { object: 'Account' });
    expect(planFromDiff(diff, { kind: 'changed', fields: ['Amount'] })).toEqual({
      snapshot: S1,
      objects: ['Account'],
      records: [id(4)],
      fields: ['Account.Amount'],
      mode: 'dry-run',
    });
    expect(planFromDiff(diff, { kind: 'changed', fields: ['Account.Name'] }).records?.sort()).toEqual([
      id(3),
      id(4),
    ]);
    const groups = changedGroups(diff);
    expect(groups.map((g) => [g.fields, g.records, g.input.fields])).toEqual([
      [['Name'], [id(3)], ['Account.Name']],
      [['Amount', 'Name'], [id(4)], ['Account.Amount', 'Account.Name']],
    ]);
  });

  it('leaves out fields a restore cannot write, and refuses one asked for by name, saying why', async () => {
    const diff = await diffSnapshots(await vault(), ORG, S1, S2, { object: 'Account' });
    expect(changedGroups(diff).flatMap((g) => g.fields)).not.toContain('Locked__c');
    expect(() => planFromDiff(diff, { kind: 'changed', fields: ['Locked__c'] })).toThrow(
      'cannot put back Account.Locked__c (the snapshot describes it as not updateable)',
    );
    expect(() => planFromDiff(diff, { kind: 'changed', fields: ['Formula__c'] })).toThrow(
      'cannot put back Account.Formula__c (it is a formula or roll-up: Salesforce computes it)',
    );
    const history = await recordHistory(await vault(), ORG, 'Account', id(5));
    expect(() => planFromHistory(history, { to: S1 })).toThrow(
      'differs from its newest version only in fields a restore cannot write: Locked__c (the snapshot describes it as not updateable)',
    );
    expect(() => planFromHistory(history, { to: S1, fields: ['Locked__c'] })).toThrow(
      'cannot put back Locked__c (the snapshot describes it as not updateable)',
    );
  });

  it('refuses a diff whose sample was truncated, naming the sample limit that applied', async () => {
    const diff = await diffSnapshots(await vault(), ORG, S1, S2, { object: 'Account', sampleLimit: 1 });
    expect(() => planFromDiff(diff, { kind: 'changed', fields: ['Name'] })).toThrow(
      'the diff kept 1 of 3 changed ids of Account (its sample limit is 1 ids per kind and object)',
    );
    expect(() => changedGroups(diff)).toThrow('its sample limit is 1');
    expect(() => changedGroups(diff)).toThrow('compare again keeping up to 10000 ids');
  });
});

describe('columns one version holds and the other does not', () => {
  it('are listed apart by the history, and a plan never offers them', async () => {
    const store = new MemoryStore();
    const before = ['Id', 'IsDeleted', 'Name', 'Old__c'];
    const after = ['Id', 'IsDeleted', 'Name', 'New__c'];
    const r = { Id: id(1), IsDeleted: 'false', Name: 'One' };
    await snapshot(store, S1, '2026-01-01T00:00:00.000Z', before, [{ ...r, Old__c: 'old' }]);
    await snapshot(store, S2, '2026-01-02T00:00:00.000Z', after, [{ ...r, New__c: 'new' }]);
    await snapshot(store, S3, '2026-01-03T00:00:00.000Z', after, [{ ...r, Name: 'Two', New__c: 'new' }]);
    const history = await recordHistory(store, ORG, 'Account', id(1));
    expect(
      history.versions.map((v) => [v.event, v.changes.map((c) => c.field), v.fieldsAdded, v.fieldsRemoved]),
    ).toEqual([
      ['created', [], [], []],
      ['unchanged', [], ['New__c'], ['Old__c']],
      ['changed', ['Name'], [], []],
    ]);
    expect(planFromHistory(history, { to: S1 }).fields).toEqual(['Account.Name']);
    expect(() => planFromHistory(history, { to: S3, fields: ['Old__c'] })).toThrow(
      `Old__c (the version at ${S3} holds no such field)`,
    );
  });
});

describe('the field-detail pass', () => {
  it('reads each side once more for 6,000 changed rows, not once per 5,000', async () => {
    const reads = new Map<string, number>();
    // MemoryStore's getStream reads through get, so get sees every read.
    class CountingStore extends MemoryStore {
      override async get(key: string): Promise<Uint8Array> {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        return super.get(key);
      }
    }
    const store = new CountingStore();
    const many = Array.from({ length: 6000 }, (_, n) => n + 1);
    await snapshot(
      store,
      S1,
      '2026-01-01T00:00:00.000Z',
      COLUMNS,
      many.map((n) => row(n)),
    );
    await snapshot(
      store,
      S2,
      '2026-01-02T00:00:00.000Z',
      COLUMNS,
      many.map((n) => row(n, { Amount: '11' })),
    );
    reads.clear();
    const diff = await diffSnapshots(store, ORG, S1, S2, { object: 'Account', skipMetadata: true });
    expect(diff.objects[0]!.changed.fields).toEqual([{ field: 'Amount', rows: 6000 }]);
    const parts = [...reads].filter(([key]) => key.endsWith('.csv.gz')).map(([, n]) => n);
    expect(parts).toEqual([2, 2]);
  });
});
