/** The toolkit core over a vault of real snapshots: list, diff, history and plans, asserted exactly. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import {
  DiffCsvWriter,
  diffSnapshots,
  idKey,
  listSnapshots,
  planFromDiff,
  planFromHistory,
  recordHistory,
} from '../../lambdas/core/insight/index.ts';
import { parseRestoreInput } from '../../lambdas/core/restore/input.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { dumpRows } from '../backup/e2e-support.ts';
import { restore } from '../restore/e2e-support.ts';
import { buildScenario, descriptionRevert, type Scenario } from './scenario.ts';

let s: Scenario;
let store: LocalDirectoryStore;
beforeAll(async () => {
  s = await buildScenario();
  store = new LocalDirectoryStore(s.dir);
}, 120_000);
afterAll(async () => {
  await s?.emu.stop();
});

describe('listSnapshots', () => {
  it('lists every finished snapshot newest first and marks the one latest means', async () => {
    const list = await listSnapshots(store, 'sample');
    expect(list.snapshots.map((x) => [x.snapshotId, x.mode, x.status, x.latest])).toEqual([
      [s.s3, 'incremental', 'complete', true],
      [s.s2, 'full', 'complete', false],
      [s.s1, 'full', 'complete', false],
    ]);
    expect(list.latest).toBe(s.s3);
    expect(list.snapshots[0]!.baseSnapshotId).toBe(s.s2);
    expect(list.snapshots[2]!.objects).toBeGreaterThan(0);
    expect(list.snapshots[2]!.metadataComponents).toBeGreaterThan(0);
  });

  it('names the org and the store when the org has no snapshot', async () => {
    await expect(listSnapshots(store, 'other')).rejects.toThrow(
      `no snapshot of org other in ${store.location}: run sfbackup backup first`,
    );
  });
});

describe('diffSnapshots', () => {
  it('finds the change, the delete to the bin, the hard delete and the insert between two full snapshots', async () => {
    const rows: unknown[] = [];
    const diff = await diffSnapshots(store, 'sample', s.s1, s.s2, {
      object: 'Property__c',
      onRow: (r) => {
        rows.push(r);
      },
    });
    expect(diff.a.snapshotId).toBe(s.s1);
    expect(diff.b.snapshotId).toBe(s.s2);
    const [p] = diff.objects;
    expect(diff.objects).toHaveLength(1);
    expect(p!.changed.sample).toEqual([s.changed]);
    expect(p!.changed.fields).toEqual([{ field: 'Description__c', rows: 1 }]);
    expect(p!.deletedToBin).toEqual({ count: 1, sample: [s.binned], truncated: false });
    expect(p!.gone).toEqual({ count: 1, sample: [s.hardDeleted], truncated: false });
    expect(p!.inserted).toEqual({ count: 1, sample: [s.inserted], truncated: false });
    expect(p!.undeleted.count).toBe(0);
    expect(rows).toContainEqual({
      object: 'Property__c',
      kind: 'changed',
      id: s.changed,
      changes: [{ field: 'Description__c', before: s.descriptions[0], after: s.descriptions[1] }],
    });
  });

  it('finds the undelete and the second change across an incremental', async () => {
    const diff = await diffSnapshots(store, 'sample', s.s2, 'latest', { object: 'property__c' });
    const [p] = diff.objects;
    expect(diff.b.snapshotId).toBe(s.s3);
    expect(p!.undeleted.sample).toEqual([s.binned]);
    expect(p!.changed.sample).toEqual([s.changed]);
    expect(p!.gone.count + p!.inserted.count + p!.deletedToBin.count).toBe(0);
  });

  it('keeps a sample per kind, says when it is truncated, and reads candidates in small batches', async () => {
    const diff = await diffSnapshots(store, 'sample', s.s1, s.s2, {
      object: 'Property__c',
      sampleLimit: 0,
      detailBatch: 1,
    });
    const [p] = diff.objects;
    expect(p!.changed).toMatchObject({ count: 1, sample: [], truncated: true });
    expect(p!.changed.fields).toEqual([{ field: 'Description__c', rows: 1 }]);
  });

  it('compares every object, and the metadata component by component by content, when no object is named', async () => {
    const diff = await diffSnapshots(store, 'sample', s.s1, s.s2);
    const names = diff.objects.map((o) => o.object);
    expect(names).toContain('Broker__c');
    const broker = diff.objects.find((o) => o.object === 'Broker__c')!;
    expect(broker.changed.count + broker.inserted.count + broker.gone.count).toBe(0);
    expect(diff.metadata).toMatchObject({
      compared: true,
      added: [s.metadata.added],
      removed: [s.metadata.removed],
      changed: [s.metadata.changed],
    });
    expect(diff.metadata.unchanged).toBeGreaterThan(0);
    const same = await diffSnapshots(store, 'sample', s.s2, s.s3);
    expect(same.metadata).toMatchObject({ compared: true, added: [], removed: [], changed: [] });
  });

  it('names the valid snapshots and the nearest object when one is mistyped', async () => {
    await expect(diffSnapshots(store, 'sample', `${s.s1}x`, s.s2)).rejects.toThrow(
      `has no snapshot ${s.s1}x (did you mean ${s.s1}?)`,
    );
    await expect(diffSnapshots(store, 'sample', s.s1, s.s2, { object: 'Propert__c' })).rejects.toThrow(
      'holds no object Propert__c (did you mean Property__c?)',
    );
  });

  it('writes RFC 4180 CSV files per object and kind', async () => {
    const files = new Map<string, string>();
    const csv = new DiffCsvWriter({ append: (f, t) => void files.set(f, (files.get(f) ?? '') + t) });
    await diffSnapshots(store, 'sample', s.s1, s.s2, { object: 'Property__c', onRow: (r) => csv.add(r) });
    expect(files.get('Property__c.changed.csv')).toBe(
      `Id,Field,Before,After\r\n${s.changed},Description__c,${csvQuote(s.descriptions[0])},"Roof, ""new"", and\nwindows"\r\n`,
    );
    expect(files.get('Property__c.gone.csv')).toBe(`Id\r\n${s.hardDeleted}\r\n`);
    expect([...files.keys()].sort()).toEqual([
      'Property__c.changed.csv',
      'Property__c.deletedToBin.csv',
      'Property__c.gone.csv',
      'Property__c.inserted.csv',
    ]);
  });
});

function csvQuote(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

describe('recordHistory', () => {
  it('follows a record through each snapshot, found by its 15-character id', async () => {
    const history = await recordHistory(store, 'sample', 'Property__c', s.changed.slice(0, 15));
    expect(history.id).toBe(s.changed);
    expect(history.versions.map((v) => [v.snapshotId, v.event])).toEqual([
      [s.s1, 'created'],
      [s.s2, 'changed'],
      [s.s3, 'changed'],
    ]);
    expect(history.versions[1]!.changes).toEqual([
      { field: 'Description__c', before: s.descriptions[0], after: s.descriptions[1] },
    ]);
    expect(history.versions[2]!.readFrom).toBe(s.s3);
    expect(history.journal).toBeNull();
  });

  it('says when a record went to the recycle bin, came back, and when one was hard deleted', async () => {
    const binned = await recordHistory(store, 'sample', 'Property__c', s.binned);
    expect(binned.versions.map((v) => [v.event, v.inRecycleBin])).toEqual([
      ['created', false],
      ['deleted', true],
      ['undeleted', false],
    ]);
    const gone = await recordHistory(store, 'sample', 'Property__c', s.hardDeleted.toLowerCase());
    expect(gone.versions.map((v) => [v.snapshotId, v.event])).toEqual([
      [s.s1, 'created'],
      [s.s2, 'gone'],
    ]);
  });

  it('names what is wrong with an unknown object or id', async () => {
    await expect(recordHistory(store, 'sample', 'Propery__c', s.changed)).rejects.toThrow(
      'did you mean Property__c?',
    );
    await expect(recordHistory(store, 'sample', 'Property__c', 'a0X000000000000AAA')).rejects.toThrow(
      'holds Property__c a0X000000000000AAA (3 complete data snapshots read)',
    );
    await expect(recordHistory(store, 'sample', 'Property__c', 'nope')).rejects.toThrow('is not a record id');
  });
});

describe('plans', () => {
  it('builds a dry-run input from a diff that the restore accepts: the changed fields, from A', async () => {
    const diff = await diffSnapshots(store, 'sample', s.s1, s.s2, { object: 'Property__c' });
    const plan = planFromDiff(diff, { kind: 'changed' });
    expect(plan).toEqual(descriptionRevert(s));
    expect(parseRestoreInput(plan).fields).toEqual(['Property__c.Description__c']);
    const deleted = planFromDiff(diff, { kind: 'deleted' });
    expect(deleted).toEqual({
      snapshot: s.s1,
      objects: ['Property__c'],
      records: [s.binned, s.hardDeleted],
      mode: 'dry-run',
    });
    expect(() => planFromDiff(diff)).toThrow('found both deleted and changed rows');
  });

  it('asks for the org id before a writing mode, and refuses more ids than an input takes', async () => {
    const diff = await diffSnapshots(store, 'sample', s.s1, s.s2, { object: 'Property__c' });
    expect(() => planFromDiff(diff, { kind: 'changed', mode: 'revert-changes' })).toThrow(
      'needs the target org',
    );
    const plan = planFromDiff(diff, {
      kind: 'changed',
      mode: 'revert-changes',
      confirmOrgId: '00D000000000001AAA',
    });
    expect(parseRestoreInput(plan).mode).toBe('revert-changes');
    const big = structuredClone(diff) as typeof diff;
    const p = big.objects[0]! as { changed: { count: number; sample: string[]; truncated: boolean } };
    p.changed = { ...p.changed, count: 20_000, truncated: true };
    expect(() => planFromDiff(big, { kind: 'changed' })).toThrow(
      'the diff kept 1 of 20000 changed ids of Property__c (its sample limit is 1000 ids per kind and object)',
    );
    expect(() => planFromDiff(big, { kind: 'changed' })).toThrow(
      'more than the 10000 record ids a restore input takes',
    );
  });

  it('builds a dry-run input from a history that puts the fields of one version back', async () => {
    const history = await recordHistory(store, 'sample', 'Property__c', s.changed);
    const plan = planFromHistory(history, { to: s.s1 });
    expect(plan).toEqual(descriptionRevert(s));
    expect(parseRestoreInput(plan).recordIds).toEqual([s.changed]);
    expect(() => planFromHistory(history, { to: 'nope' })).toThrow('has no version in snapshot nope');
  });

  it('keeps the case-safe suffix rule of Salesforce', () => {
    expect(idKey('001000000000001')).toBe('001000000000001aaa');
    expect(idKey('a0XAb0000000001')).toBe(`a0XAb0000000001${'M'}AA`.toLowerCase());
  });
});

describe('a plan through the local restore', () => {
  it('runs a plan built from a diff as a dry run, then as revert-changes, and the field is back', async () => {
    const diff = await diffSnapshots(store, 'sample', s.s1, 'latest', { object: 'Property__c' });
    const dry = planFromDiff(diff, { kind: 'changed' });
    expect(dry.records).toEqual([s.changed]);
    const planned = await restore(s.emu, s.dir, dry);
    expect(planned.summary.status).toBe('SUCCEEDED');
    expect(await descriptionOf(s)).toBe(s.descriptions[2]);
    const orgId = (await new SnapshotReader(store).manifest('sample', s.s1)).orgId;
    const write = planFromDiff(diff, { kind: 'changed', mode: 'revert-changes', confirmOrgId: orgId });
    const done = await restore(s.emu, s.dir, write);
    expect(done.summary.status, done.summary.message).toBe('SUCCEEDED');
    expect(await descriptionOf(s)).toBe(s.descriptions[0]);
  }, 120_000);
});

async function descriptionOf(x: Scenario): Promise<string> {
  const row = (await dumpRows(x.emu)).get('Property__c')?.get(x.changed);
  return (row?.Description__c as string | null | undefined) ?? '';
}
