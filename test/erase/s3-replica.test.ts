import {
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { erasureLogPrefix } from '../../lambdas/core/erase/finish.ts';
import { RemovalLog } from '../../lambdas/core/erase/removals.ts';
import type { ReplicaCleaning } from '../../lambdas/core/erase/replica.ts';
import { type Radosgw, radosgwOptedOut, startRadosgw, useRadosgwEnv } from '../support/radosgw.ts';
import { runCli } from '../support/run-cli.ts';

const ORG_ID = '00D000000000001AAA';
const KEYS = {
  part: 'orgs/acme/snapshots/20261201T020000000Z-aaaaaa/objects/Contact/part-00001.csv.gz',
  catalog: 'orgs/acme/catalog/20261201T020000000Z-aaaaaa.json',
  idMap: `restores/acme/${ORG_ID}/id-map/Contact/0001.json`,
  index: 'orgs/acme/files/index/md5-0123.json',
  journal: 'orgs/acme/journal/2026/12/01/events-0001.ndjson.gz',
  untouched: 'orgs/acme/snapshots/20261202T020000000Z-bbbbbb/objects/Contact/part-00001.csv.gz',
};

// Skipped only when a developer opts out explicitly; a missing radosgw fails these tests.
describe.skipIf(radosgwOptedOut())("erasures carried to the vault's replica (radosgw)", () => {
  let rgw: Radosgw;
  let s3: S3Client;
  let replica: string;
  let vaultBucket: string;
  let vault: S3Store;
  let restoreEnv = () => {};
  /** Version ids the replica was given, by key, oldest first. */
  const ids: Record<string, string[]> = {};

  const put = async (key: string, body: string) => {
    const written = await s3.send(new PutObjectCommand({ Bucket: replica, Key: key, Body: body }));
    ids[key] = [...(ids[key] ?? []), written.VersionId!];
  };
  /** Every version and delete marker of the replica, as `key@version`. */
  const replicaVersions = async () => {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: replica }));
    return [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])]
      .map((v) => `${v.Key}@${v.VersionId}`)
      .sort();
  };
  /** `sfbackup erase-replica` for an org, over the vault and replica buckets of the server. */
  const cliFor = (org: string, ...more: string[]) =>
    runCli(
      'erase-replica',
      '--bucket',
      vaultBucket,
      '--s3-endpoint',
      rgw.endpoint,
      '--org',
      org,
      '--replica-bucket',
      replica,
      '--replica-endpoint',
      rgw.endpoint,
      ...more,
    );
  const cli = (...more: string[]) => cliFor('acme', ...more);
  const legalHold = (Status: 'ON' | 'OFF') =>
    s3.send(
      new PutObjectLegalHoldCommand({
        Bucket: replica,
        Key: KEYS.journal,
        VersionId: ids[KEYS.journal]![0],
        LegalHold: { Status },
      }),
    );

  beforeAll(async () => {
    rgw = await startRadosgw();
    // The command reaches the replica through the SDK's default credential chain, as on AWS.
    restoreEnv = useRadosgwEnv(rgw);
    s3 = rgw.client();
    replica = await rgw.createBucket('replica', { objectLock: true });
    vaultBucket = await rgw.createBucket('vault', { objectLock: true });
    vault = new S3Store(rgw.storeOptions(vaultBucket));
    // GIVEN a replica holding what replication carried: the versions that held the person, and
    // the rewritten versions that replaced them (current), for the keys two erasures touched
    await put(KEYS.part, 'part with her');
    await put(KEYS.part, 'part without her');
    await put(KEYS.catalog, 'entry describing the part with her');
    await put(KEYS.catalog, 'entry describing the part without her');
    await put(KEYS.idMap, 'her old and new id');
    await put(KEYS.index, 'index entry naming her');
    await put(KEYS.journal, 'event about her');
    await put(KEYS.untouched, 'another snapshot');
    // ...one under GOVERNANCE retention and one under a legal hold, put by hand
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket: replica,
        Key: KEYS.index,
        VersionId: ids[KEYS.index]![0],
        Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) },
      }),
    );
    await legalHold('ON');
    // ...and a vault whose erasures listed, as they removed them, the versions (replication keeps
    // version ids; the vault holds none of them any more), one the replica never received among
    // them; one execution failed midway
    const done = RemovalLog.of(vault, 'acme', 'erase-2');
    await done.note(KEYS.part, [ids[KEYS.part]![0]!, 'never-received']);
    await done.note(KEYS.catalog, [ids[KEYS.catalog]![0]!]);
    await done.note(KEYS.idMap, [ids[KEYS.idMap]![0]!]);
    const failed = RemovalLog.of(vault, 'acme', 'erase-1');
    await failed.note(KEYS.index, [ids[KEYS.index]![0]!]);
    await failed.note(KEYS.journal, [ids[KEYS.journal]![0]!]);
    const entry = (execution: string, status: string, at: string) =>
      vault.put(
        `${erasureLogPrefix('acme')}${at.replace(/[-:.]/g, '')}-${execution}.json`,
        JSON.stringify({
          formatVersion: 1,
          org: 'acme',
          execution,
          status,
          startedAt: at,
          ...(status === 'complete' ? { erasedAt: at } : {}),
          requestedBy: 'dpo@example.com',
          ids: ['003000000000001AAA'],
        }),
      );
    await entry('erase-1', 'failed', '2026-12-01T10:00:00.000Z');
    await entry('erase-2', 'complete', '2026-12-02T10:00:00.000Z');
    // ...and one listed version the vault still holds (its removal was refused by a lock)
    const kept = await vault.put(KEYS.untouched, 'a version the vault still holds');
    await failed.note(KEYS.untouched, [kept.versionId!]);
  }, 300_000);

  afterAll(async () => {
    s3?.destroy();
    await rgw?.stop();
    restoreEnv();
  });

  it('reports first, then removes every listed version a lock allows, then the rest once the locks allow, and nothing else', async () => {
    const before = await replicaVersions();
    // WHEN it runs without --confirm
    const dry = await cli('--json');
    // THEN it removes nothing, and says what the replica holds of the lists and what locks keep
    expect(dry.code, dry.err).toBe(0);
    expect(await replicaVersions()).toEqual(before);
    const dryReport = JSON.parse(dry.out) as ReplicaCleaning;
    expect(dryReport).toMatchObject({
      org: 'acme',
      confirmed: false,
      executions: [
        { execution: 'erase-1', status: 'failed', requestedBy: 'dpo@example.com', keys: 3, versions: 3 },
        { execution: 'erase-2', status: 'complete', requestedBy: 'dpo@example.com', keys: 3, versions: 4 },
      ],
      keys: 6,
      listedVersions: 7,
      stillInVault: 1,
      namedStillInVault: [{ key: KEYS.untouched }],
      inReplica: 5,
      notInReplica: 1,
      removed: 0,
      leftCount: 2,
    });
    expect(dryReport.left.map((v) => [v.key, v.why.split(':')[0]])).toEqual([
      [KEYS.index, expect.stringMatching(/^GOVERNANCE retention until/)],
      [KEYS.journal, 'a legal hold is on it'],
    ]);
    const text = await cli();
    expect(text.out).toContain('nothing was removed');
    expect(text.out).toContain('3 would be removed. Run again with --confirm to remove them.');
    expect(text.out).toMatch(/erase-1\s+failed\s+dpo@example\.com/);
    expect(text.out).toContain('1 listed version(s) are still in the vault, so they stay in the replica too');

    // WHEN it runs with --confirm
    const first = await cli('--confirm', '--json');
    // THEN the three versions no lock holds go, and the other two are named with why
    expect(first.code).toBe(1);
    const firstReport = JSON.parse(first.out) as ReplicaCleaning;
    expect(firstReport).toMatchObject({ confirmed: true, inReplica: 5, removed: 3, leftCount: 2 });
    expect(firstReport.left.map((v) => v.key)).toEqual([KEYS.index, KEYS.journal]);
    expect(firstReport.left[0]!.why).toMatch(/--bypass-governance/);
    expect(firstReport.left[1]!.why).toMatch(/legal hold/);
    const gone = [
      `${KEYS.part}@${ids[KEYS.part]![0]}`,
      `${KEYS.catalog}@${ids[KEYS.catalog]![0]}`,
      `${KEYS.idMap}@${ids[KEYS.idMap]![0]}`,
    ];
    expect(await replicaVersions()).toEqual(before.filter((v) => !gone.includes(v)));

    // WHEN it runs again, bypassing GOVERNANCE retention
    const second = await cli('--confirm', '--bypass-governance', '--json');
    // THEN the version under retention goes; the one under a legal hold, which nothing bypasses, stays
    expect(second.code).toBe(1);
    expect(JSON.parse(second.out)).toMatchObject({ inReplica: 2, removed: 1, leftCount: 1 });
    gone.push(`${KEYS.index}@${ids[KEYS.index]![0]}`);
    expect(await replicaVersions()).toEqual(before.filter((v) => !gone.includes(v)));

    // WHEN the hold is taken off and it runs again
    await legalHold('OFF');
    const third = await cli('--confirm');
    // THEN nothing listed is left: only the current versions without her and the untouched
    // snapshot remain, and a later run finds nothing to remove
    expect(third.code, third.out).toBe(0);
    expect(third.out).toContain('Removed 1.');
    expect(third.out).toContain('Nothing the vault no longer holds is left in the replica.');
    expect(await replicaVersions()).toEqual(
      [
        `${KEYS.part}@${ids[KEYS.part]![1]}`,
        `${KEYS.catalog}@${ids[KEYS.catalog]![1]}`,
        `${KEYS.untouched}@${ids[KEYS.untouched]![0]}`,
      ].sort(),
    );
    const again = await cli('--confirm', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({
      listedVersions: 7,
      stillInVault: 1,
      inReplica: 0,
      notInReplica: 6,
      removed: 0,
    });
  }, 120_000);

  it('refuses, removing nothing, a list naming a key no erasure of the org removes, and bad options', async () => {
    // GIVEN a list record naming a version of another org's part, beside the real ones
    const other = 'orgs/other/snapshots/20261201T020000000Z-cccccc/objects/Contact/part-00001.csv.gz';
    await put(other, 'another org');
    await RemovalLog.of(vault, 'acme', 'erase-3').note(other, [ids[other]![0]!]);
    const before = await replicaVersions();
    // WHEN it runs with --confirm THEN it refuses, naming the record, and the replica is as it was
    const refused = await cli('--confirm', '--json');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(
      /The list of removed versions orgs\/acme\/erasures\/erase-3\/removed\/[0-9a-f]+\.json names "orgs\/other\/snapshots\/.*", which no erasure of org acme removes versions of, so nothing was removed from the replica/,
    );
    expect(JSON.parse(refused.out)).toMatchObject({ error: 'ReplicaListUnusableError' });
    expect(await replicaVersions()).toEqual(before);
    // ...as it does one naming the org's own erasure log, which no erasure removes versions of
    for await (const { key } of vault.list('orgs/acme/erasures/erase-3/')) await vault.remove(key);
    await RemovalLog.of(vault, 'acme', 'erase-3').note(
      'orgs/acme/erasures/log/20261201T100000000Z-erase-1.json',
      ['v1'],
    );
    expect((await cli('--confirm')).err).toMatch(/names "orgs\/acme\/erasures\/log\/.*", which no erasure/);
    // ...and so does a record that is not a list of removed versions
    for await (const { key } of vault.list('orgs/acme/erasures/erase-3/')) await vault.remove(key);
    await vault.put('orgs/acme/erasures/erase-3/removed/0.json', JSON.stringify({ key: KEYS.part }));
    const malformed = await cli('--confirm');
    expect(malformed.code).toBe(1);
    expect(malformed.err).toContain('is not a record of removed versions');
    expect(await replicaVersions()).toEqual(before);
    // ...and an org the vault holds nothing of is named, not taken for one with nothing to remove
    const mistyped = await cliFor('acmee');
    expect(mistyped.code).toBe(1);
    expect(mistyped.err).toContain(
      `vault bucket ${vaultBucket} holds nothing of org acmee: check --org and --bucket.`,
    );
    // ...and a command line without the vault bucket, the replica or the org gets every problem at once
    const bad = await runCli('erase-replica', '--store', '/tmp', '--s3-endpoint', 'nowhere');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--store is not an option of sfbackup erase-replica');
    expect(bad.err).toContain('--bucket NAME is required');
    expect(bad.err).toContain('--s3-endpoint is "nowhere", which is not an http(s) URL');
    expect(bad.err).toContain('--org NAME is required');
    expect(bad.err).toContain('--replica-bucket NAME is required');
    expect(bad.err).toContain('--replica-region REGION is required');
  }, 120_000);
});
