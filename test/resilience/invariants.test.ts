import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { SnapshotManifest } from '../../lambdas/core/snapshot/manifest.ts';
import { PointInTime } from '../../lambdas/core/snapshot/reader.ts';
import { MemoryStore } from '../backup/memory-store.ts';
import {
  duplicatedKeys,
  type OrgDump,
  readLatestPointer,
  restoredScopeDiffers,
  snapshotDiffers,
} from './invariants.ts';

const OBJECT = 'Gen_Object_0001__c';
const COLUMNS = ['Id', 'IsDeleted', 'Name', 'External_Id__c', 'Text__c', 'Parent__c'];

interface Row {
  Id: string;
  IsDeleted: string;
  Name: string;
  External_Id__c: string;
  Text__c: string;
  Parent__c: string;
}

/** A one-object point in time over rows written as the backup writes a part: gzip CSV. */
async function pointInTime(rows: Row[], mode: 'full' | 'incremental' = 'full'): Promise<PointInTime> {
  const store = new MemoryStore();
  const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
  const csv = [COLUMNS, ...rows.map((r) => COLUMNS.map((c) => r[c as keyof Row]))]
    .map((line) => line.map(quote).join(','))
    .join('\n');
  const part = await store.put('part.csv.gz', gzipSync(`${csv}\n`));
  const field = (name: string, type: string) => ({
    name,
    type,
    inCsv: true,
    createable: !['Id', 'IsDeleted'].includes(name),
    updateable: !['Id', 'IsDeleted'].includes(name),
    ...(type === 'reference' ? { referenceTo: [OBJECT] } : {}),
  });
  const manifest = {
    snapshotId: '20260101T000000000Z-aaaaaa',
    mode,
    objects: [
      {
        name: OBJECT,
        status: 'exported',
        fields: [
          field('Id', 'id'),
          field('IsDeleted', 'boolean'),
          field('Name', 'string'),
          field('External_Id__c', 'string'),
          field('Text__c', 'string'),
          field('Parent__c', 'reference'),
        ],
        parts: [{ key: part.key, sha256: part.sha256, bytes: part.bytes, rows: rows.length }],
      },
    ],
  } as unknown as SnapshotManifest;
  return new PointInTime(store, 'campaign', [manifest]);
}

const row = (id: string, key: string, text: string, extra: Partial<Row> = {}): Row => ({
  Id: id,
  IsDeleted: 'false',
  Name: `Row ${key}`,
  External_Id__c: key,
  Text__c: text,
  Parent__c: '',
  ...extra,
});

function dump(rows: Row[]): OrgDump {
  return new Map([
    [
      OBJECT,
      new Map(
        rows.map((r) => [
          r.Id,
          {
            Name: r.Name,
            External_Id__c: r.External_Id__c,
            Text__c: r.Text__c === '' ? null : r.Text__c,
            Parent__c: r.Parent__c === '' ? null : r.Parent__c,
            IsDeleted: r.IsDeleted === 'true',
          },
        ]),
      ),
    ],
  ]);
}

const A = 'a00000000000001AAA';
const B = 'a00000000000002AAA';
const C = 'a00000000000003AAA';

describe('the campaign invariants', () => {
  it('finds a complete snapshot equal to the org right, and names a row missing, a row the org lacks and a changed value', async () => {
    const rows = [row(A, 'EXT-1', 'one'), row(B, 'EXT-2', 'two', { IsDeleted: 'true' })];
    const pit = await pointInTime(rows);
    expect(await snapshotDiffers(pit, dump(rows), new Set())).toEqual([]);

    const org = dump([row(A, 'EXT-1', 'changed'), row(C, 'EXT-3', 'three')]);
    expect(await snapshotDiffers(pit, org, new Set())).toEqual([
      `${OBJECT} ${A}: Text__c differs`,
      `${OBJECT} ${B}: not in the org`,
      `${OBJECT} ${C}: missing from the snapshot`,
    ]);
  });

  it('lets an incremental snapshot keep a row purged from the recycle bin, and no full one', async () => {
    const rows = [row(A, 'EXT-1', 'one'), row(B, 'EXT-2', 'two')];
    const org = dump([row(A, 'EXT-1', 'one')]);
    expect(await snapshotDiffers(await pointInTime(rows, 'incremental'), org, new Set([B]))).toEqual([]);
    expect(await snapshotDiffers(await pointInTime(rows, 'full'), org, new Set([B]))).toEqual([
      `${OBJECT} ${B}: not in the org`,
    ]);
  });

  it('counts live rows that share a natural key as duplicated, and not a deleted one', () => {
    const once = dump([row(A, 'EXT-1', 'one'), row(B, 'EXT-1', 'one', { IsDeleted: 'true' })]);
    expect(duplicatedKeys(once, [OBJECT])).toEqual(new Map());
    const twice = dump([row(A, 'EXT-1', 'one'), row(C, 'EXT-1', 'one')]);
    expect(duplicatedKeys(twice, [OBJECT])).toEqual(new Map([[`${OBJECT} EXT-1`, 2]]));
  });

  it('accepts a restored scope whose rows came back under new ids with their references re-linked', async () => {
    const pit = await pointInTime([row(A, 'EXT-1', 'one'), row(B, 'EXT-2', 'two', { Parent__c: A })]);
    // The parent was inserted again as C; the child points at C.
    const org = dump([row(C, 'EXT-1', 'one'), row(B, 'EXT-2', 'two', { Parent__c: C })]);
    expect(await restoredScopeDiffers(pit, org, [OBJECT])).toEqual([]);
  });

  it('names a restored scope with a row not brought back, an extra live row, a wrong value a wrong reference or a row twice', async () => {
    const pit = await pointInTime([
      row(A, 'EXT-1', 'one'),
      row(B, 'EXT-2', 'two', { Parent__c: A }),
      row(C, 'EXT-3', 'three'),
    ]);
    const org = dump([
      row(A, 'EXT-1', 'wrong'),
      row(B, 'EXT-2', 'two', { Parent__c: B }),
      row('a00000000000009AAA', 'EXT-9', 'extra'),
    ]);
    expect(await restoredScopeDiffers(pit, org, [OBJECT])).toEqual([
      `${OBJECT} EXT-3: not brought back`,
      `${OBJECT} EXT-9: live, not in the snapshot`,
      `${OBJECT} EXT-1: Text__c differs`,
      `${OBJECT} EXT-2: Parent__c differs`,
    ]);
    // A second insert of a restored row, equal to the first, is still a wrong org.
    const twice = dump([row(A, 'EXT-1', 'one'), row(C, 'EXT-1', 'one')]);
    const once = await pointInTime([row(A, 'EXT-1', 'one')]);
    expect(await restoredScopeDiffers(once, twice, [OBJECT])).toEqual([`${OBJECT} EXT-1: 2 live rows`]);
  });

  it('reads the snapshot the latest pointer names, and nothing before the first one', async () => {
    const store = new MemoryStore();
    expect(await readLatestPointer(store, 'campaign')).toBeUndefined();
    await store.putPointer(
      'orgs/campaign/latest-complete.json',
      JSON.stringify({ snapshotId: '20260101T000000000Z-aaaaaa' }),
    );
    expect(await readLatestPointer(store, 'campaign')).toBe('20260101T000000000Z-aaaaaa');
  });
});
