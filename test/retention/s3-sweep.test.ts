import { GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../contract/workflow-contract.ts';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { type SweepCursor, type SweepOutput, sweepOrg } from '../../lambdas/core/retention/sweep.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { filesOf } from '../support/snapshot-files.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { baseFields, FakeSource, orgWithFiles } from '../backup/fake-source.ts';
import { runCore } from '../backup/run-core.ts';
import { radosgwOptedOut } from '../support/radosgw.ts';
import { radosgwBucket } from '../support/radosgw-bucket.ts';

const DAY_MS = 86_400_000;
const FIRST = Date.parse('2026-11-01T02:00:00.000Z');
const at = (day: number, hour = 2) => new Date(FIRST + day * DAY_MS + (hour - 2) * 3_600_000);
const POLICY: RetentionPolicy = { daily: 1, weekly: 0, monthly: 0, yearly: 0 };

// Skipped only when a developer opts out explicitly; a missing radosgw fails these tests.
describe.skipIf(radosgwOptedOut())('the retention sweep over a versioned radosgw bucket', () => {
  const vault = radosgwBucket('retention');

  it('removes expired snapshots and file bodies with delete markers, their versions still listed as noncurrent', async () => {
    const { rgw, s3, bucket } = vault();
    // GIVEN three daily full backups of an org whose file changes every day
    const store = new S3Store(rgw.storeOptions(bucket));
    const source = new FakeSource([
      {
        name: 'ContentVersion',
        fields: [
          ...baseFields,
          { name: 'Checksum', type: 'string' },
          { name: 'VersionData', type: 'base64' },
        ],
        rows: [
          {
            Id: '068000000000001AAA',
            Name: 'a.pdf',
            IsDeleted: 'false',
            SystemModstamp: at(-1).toISOString(),
            Checksum: null,
          },
        ],
      },
    ]);
    const ids: string[] = [];
    for (let day = 0; day < 3; day++) {
      source.setBlob('ContentVersion', '068000000000001AAA', `version of day ${day}`);
      const file = source.object('ContentVersion').rows[0]!;
      file.SystemModstamp = at(day, 1).toISOString();
      const run = await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () =>
        at(day),
      );
      expect(run.finish.status).toBe('complete');
      ids.push(run.finish.snapshotId);
    }
    const reader = new SnapshotReader(store);
    const bodyOf = async (id: string) => (await filesOf(store, await reader.manifest('acme', id)))[0]!.key;
    const oldBodies = [await bodyOf(ids[0]!), await bodyOf(ids[1]!)];
    const keptBody = await bodyOf(ids[2]!);

    // WHEN the org is swept under a policy that keeps one daily snapshot
    const out = await sweepOrg(
      { store, remover: store, clock: () => at(2, 3) },
      { org: 'acme', policy: POLICY, execution: 'radosgw-1' },
    );

    // THEN two snapshots and their two bodies are gone from the listings, the kept one verifies
    expect(out).toMatchObject({ done: true, kept: 1, expired: 2, removedFileBodies: 2 });
    expect((await reader.catalog('acme')).map((e) => e.snapshotId)).toEqual([ids[2]]);
    expect(await verifySnapshot(store, await reader.manifest('acme', ids[2]!))).toEqual([]);
    expect(await store.head(keptBody)).toBeDefined();
    // AND every removed key holds a delete marker as its current version, its data as a noncurrent one
    const removedKeys = [
      `orgs/acme/catalog/${ids[0]}.json`,
      `orgs/acme/snapshots/${ids[0]}/manifest.json`,
      ...oldBodies,
    ];
    for (const key of removedKeys) {
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
      const markers = (listed.DeleteMarkers ?? []).filter((m) => m.Key === key);
      const versions = (listed.Versions ?? []).filter((v) => v.Key === key);
      expect(markers, key).toHaveLength(1);
      expect(markers[0]?.IsLatest, key).toBe(true);
      expect(versions.length, key).toBeGreaterThanOrEqual(1);
      expect(
        versions.every((v) => v.IsLatest === false),
        key,
      ).toBe(true);
      expect(await store.head(key), key).toBeUndefined();
    }
    // Every object of the expired snapshots has its marker: nothing of them is current.
    for (const id of ids.slice(0, 2)) {
      const listed = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `orgs/acme/snapshots/${id}/` }),
      );
      const current = (listed.Versions ?? []).filter((v) => v.IsLatest);
      expect(current, id).toEqual([]);
      expect((listed.DeleteMarkers ?? []).length).toBe(
        new Set((listed.Versions ?? []).map((v) => v.Key)).size,
      );
    }

    // WHEN it runs again THEN it finds nothing more to do and adds no marker
    const again = await sweepOrg(
      { store, remover: store, clock: () => at(2, 4) },
      { org: 'acme', policy: POLICY, execution: 'radosgw-2' },
    );
    expect(again).toMatchObject({ done: true, expired: 0, logKey: null });
    const markers = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `orgs/acme/catalog/${ids[0]}.json` }),
    );
    expect(markers.DeleteMarkers).toHaveLength(1);
  }, 180_000);
  it('stores the filter of what the newest backup names as the sweep stops, and reads it back to go on', async () => {
    const { rgw, s3, bucket } = vault();
    // GIVEN two daily full backups of an org of six files, two of them deleted before the second
    const store = new S3Store(rgw.storeOptions(bucket));
    const source = orgWithFiles(at(-1), 6);
    const ids: string[] = [];
    for (const day of [0, 1]) {
      if (day === 1) source.object('ContentVersion').rows.splice(0, 2);
      const run = await runCore(source, { org: 'filtered', mode: 'full' }, {}, store, () => at(day));
      ids.push(run.finish.snapshotId);
    }
    const reader = new SnapshotReader(store);
    const bodies = (await filesOf(store, await reader.manifest('filtered', ids[0]!)))
      .map((f) => f.key)
      .sort();
    const kept = (await filesOf(store, await reader.manifest('filtered', ids[1]!))).map((f) => f.key).sort();
    // WHEN it is swept holding a single name as a key (so the newest backup's four go into a
    // filter), by invocations given no time until two hash folders are listed, then by one to the end
    const invoke = (cursor: SweepCursor | null, deadline?: Date) =>
      sweepOrg(
        {
          store,
          remover: store,
          clock: () => at(1, 3),
          namesHeldAsKeys: 1,
          ...(deadline ? { deadline } : {}),
        },
        { org: 'filtered', policy: POLICY, execution: 'radosgw-filter', ...(cursor ? { cursor } : {}) },
      );
    const outs: SweepOutput[] = [];
    let cursor: SweepCursor | null = null;
    do {
      outs.push(await invoke(cursor, at(1, 3)));
      cursor = outs.at(-1)!.cursor;
    } while (cursor && (cursor.planned?.folder ?? 0) < 2 && outs.length < 20);
    expect(cursor?.planned).toEqual({ source: 0, list: 1, folder: 2 });
    const last = await invoke(cursor);
    // THEN the filter was stored beside the planning records that name it, and once the sweep
    // ended each of them is a delete marker over its version (kept noncurrent)
    const stem = `orgs/filtered/retention/${at(1, 3).toISOString().replace(/[-:.]/g, '')}-radosgw-filter`;
    const filterKey = `${stem}/planning-0-1-0.filter`;
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${stem}/` }));
    const planning = (listed.Versions ?? []).filter((v) => v.Key?.includes('/planning-'));
    expect(planning.map((v) => v.Key)).toContain(filterKey);
    expect(planning.every((v) => v.IsLatest === false)).toBe(true);
    expect((listed.DeleteMarkers ?? []).filter((m) => m.IsLatest).map((m) => m.Key)).toEqual(
      planning.map((v) => v.Key),
    );
    expect((listed.Versions ?? []).filter((v) => v.IsLatest).map((v) => v.Key)).toEqual([
      `${stem}/bodies.json`,
    ]);
    const versionOf = async (key: string) => {
      const version = planning.find((v) => v.Key === key)!;
      const got = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: version.VersionId }),
      );
      return got.Body!.transformToByteArray();
    };
    const record = JSON.parse(new TextDecoder().decode(await versionOf(`${stem}/planning-0-1-2.json`))) as {
      filter: { key: string; bytes: number };
    };
    expect(record.filter).toMatchObject({ key: filterKey, bytes: 1024 });
    expect((await versionOf(filterKey)).length).toBe(1024);
    // ...and the sweep removed the bodies of the two deleted files alone
    expect(last).toMatchObject({ done: true, expired: 1, removedFileBodies: 2 });
    for (const body of bodies)
      expect(await store.head(body), body).toEqual(kept.includes(body) ? expect.anything() : undefined);
    expect(await verifySnapshot(store, await reader.manifest('filtered', ids[1]!))).toEqual([]);
  }, 180_000);
});
