import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { runLocalBackup } from '../../cli/commands/backup.ts';
import { buildLocalEraseApp } from '../../cli/commands/local-app.ts';
import { runLocalWorkflow } from '../../cli/commands/local-run.ts';
import type { S3Store } from '../../lambdas/adapters/s3-store.ts';
import { cleanReplica } from '../../lambdas/core/erase/replica.ts';
import { sweepOrg } from '../../lambdas/core/retention/sweep.ts';
import { runningBackups } from '../../lambdas/core/vault-lease.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { TEST_SETTINGS } from '../backup/e2e-support.ts';
import { radosgwOptedOut } from '../support/radosgw.ts';
import { erasureVaultOnRadosgw } from './s3-scenario.ts';
import { findPerson, versionsHolding } from './vault-scan.ts';

/** `key versionId` of every version under a prefix, delete markers left out. */
async function versionsUnder(store: S3Store, prefix: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const v of store.listVersions(prefix)) if (!v.deleteMarker) out.add(`${v.key} ${v.versionId}`);
  return out;
}

// Skipped only when a developer opts out explicitly; a missing radosgw fails these tests.
describe.skipIf(radosgwOptedOut())(
  'erasure of a person in snapshots a retention sweep removed (radosgw)',
  () => {
    const vault = erasureVaultOnRadosgw('erase-swept');

    it('removes the versions a sweep left noncurrent, lists them for the replica, and brings no swept snapshot back', async () => {
      const { rgw, sc, bucket, store, s3 } = vault();
      // GIVEN a full backup after the scenario's five (she was hard deleted before it), and the org
      // swept under a policy that keeps one snapshot a day: the five are delete markers, their
      // versions (hers among them) noncurrent until the lifecycle expires them
      const { summary } = await runLocalBackup({
        instanceUrl: sc.emu.instanceUrl,
        accessToken: sc.emu.accessToken,
        store: { s3: { bucket, endpoint: rgw.endpoint } },
        mode: 'full',
        org: 'sample',
        settings: TEST_SETTINGS,
        retryIntervalScale: 0,
      });
      expect(summary.status).toBe('complete');
      const reader = new SnapshotReader(store);
      // (the sweep begins ten minutes after the backups' last steps: past the five-minute slots
      // their heartbeats are counted in)
      const swept = await sweepOrg(
        { store, remover: store, clock: () => new Date(Date.now() + 10 * 60_000), sleep: async () => {} },
        { org: 'sample', policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0 }, execution: 'daily-1' },
      );
      expect(swept).toMatchObject({ done: true, heldBy: null });
      const kept = (await reader.catalog('sample')).map((e) => e.snapshotId);
      expect(kept).toEqual([summary.snapshotId]);
      const gone = sc.snapshots;
      expect(swept.expired).toBe(gone.length);
      const inGone = (trace: string) => gone.some((id) => trace.includes(`/snapshots/${id}/`));
      const before = await findPerson(store, sc, 'orgs/sample/');
      const heldInGone = before.filter(inGone).map((t) => t.replace(/: (id|value)$/, ''));
      expect(heldInGone.length).toBeGreaterThan(0);
      // (a replica with delete markers replicated holds the same versions, the swept ones noncurrent)
      const replicated = await versionsUnder(store, 'orgs/sample/');
      const replica = versionsHolding(new Set(replicated));
      // The swept backups' heartbeats are live still, their catalog entries gone: only the retention
      // log says they ended, and no backup counts as running.
      const live = new Set<string>();
      for await (const { key } of store.list('orgs/sample/lease/backups/')) {
        const [, id, expiry] = /\/([^/]+)-(\d{15})\.json$/.exec(key) ?? [];
        if (Number(expiry) > Date.now() && gone.includes(id!)) live.add(id!);
      }
      expect(live).toEqual(new Set(gone));
      for (const id of gone) expect(await store.head(`orgs/sample/catalog/${id}.json`), id).toBeUndefined();
      expect(await runningBackups(store, 'sample', Date.now())).toEqual([]);

      // WHEN the synthesized erase workflow erases her, every S3 call authorized as AWS would (the
      // swept backups' heartbeats still live: only the retention log says they ended)
      const orgId = (await reader.catalog('sample'))[0]!.orgId;
      const { result } = await runLocalWorkflow({
        instanceUrl: sc.emu.instanceUrl,
        accessToken: sc.emu.accessToken,
        store: { s3: { bucket, endpoint: rgw.endpoint } },
        org: 'sample',
        app: (org) => buildLocalEraseApp(org),
        appKey: 'erase-s3-swept',
        input: () =>
          ({ ids: [sc.person], requestedBy: 'dpo@example.com', mode: 'erase', confirmOrgId: orgId }) as never,
        executionName: 'erase-swept',
        retryIntervalScale: 0,
        enforcePolicies: true,
      });
      expect(result.status, result.errorMessage).toBe('SUCCEEDED');
      const finished = (result.output as { log: { traces: number } }).log;

      // THEN no version under the org's prefix holds her, noncurrent ones of swept snapshots included
      expect(finished.traces).toBe(0);
      expect(await findPerson(store, sc, 'orgs/sample/')).toEqual([]);
      // AND the swept snapshots stay swept: nothing of them is current again, their catalog entries gone
      for (const id of gone) {
        const listed = await s3.send(
          new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `orgs/sample/snapshots/${id}/` }),
        );
        expect(
          (listed.Versions ?? []).filter((v) => v.IsLatest),
          id,
        ).toEqual([]);
        expect(await store.head(`orgs/sample/catalog/${id}.json`), id).toBeUndefined();
      }
      expect((await reader.catalog('sample')).map((e) => e.snapshotId)).toEqual(kept);
      for (const id of kept)
        expect(await verifySnapshot(store, await reader.manifest('sample', id)), id).toEqual([]);
      // AND the lists of removed versions name every swept version that held her
      const listed = new Set<string>();
      for await (const entry of store.list(`orgs/sample/erasures/erase-swept/removed/`)) {
        const record = JSON.parse(new TextDecoder().decode(await store.get(entry.key))) as {
          key: string;
          versionIds: string[];
        };
        for (const id of record.versionIds) listed.add(`${record.key}@${id}`);
      }
      expect(heldInGone.filter((v) => !listed.has(v))).toEqual([]);

      // WHEN erase-replica runs over the replica
      const cleaned = await cleanReplica({
        vault: store,
        vaultVersions: store,
        replica,
        org: 'sample',
        confirm: true,
      });
      // THEN the replica no longer holds them either (the versions the erasure itself wrote and then
      // removed, its plan's among them, came after the replica's view here: not in it)
      expect(cleaned).toMatchObject({ leftCount: 0 });
      const replicaLeft = new Set([...replica.held].map((v) => v.replace(' ', '@')));
      expect(heldInGone.filter((v) => replicaLeft.has(v))).toEqual([]);
      // AND it keeps every version the vault still holds, and only those
      const vaultNow = await versionsUnder(store, 'orgs/sample/');
      expect([...replicated].filter((v) => vaultNow.has(v) && !replica.held.has(v))).toEqual([]);
      expect([...replica.held].filter((v) => !vaultNow.has(v))).toEqual([]);
    }, 300_000);
  },
);
