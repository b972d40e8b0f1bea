import { PutObjectLegalHoldCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { buildLocalEraseApp } from '../../cli/commands/local-app.ts';
import { runLocalWorkflow } from '../../cli/commands/local-run.ts';
import { eraseFromPlan, finishErasure, releaseErasure, startErasure } from './steps.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import type { VersionedStore } from '../../lambdas/core/store.ts';
import { radosgwOptedOut } from '../support/radosgw.ts';
import { erasureVaultOnRadosgw } from './s3-scenario.ts';
import { everyVersion, findPerson } from './vault-scan.ts';

// Skipped only when a developer opts out explicitly; a missing radosgw fails these tests.
describe.skipIf(radosgwOptedOut())('erasure from a versioned S3 vault (radosgw)', () => {
  const vault = erasureVaultOnRadosgw('erase');

  it('removes every version holding the person, after a stop between a part write and the removal of its earlier versions', async () => {
    const { sc, store } = vault();
    const deps = (versions: VersionedStore) => ({ store, versions, org: 'sample', clock: () => new Date() });
    // GIVEN a vault whose parts (each with its version id in the manifests) hold her
    expect((await findPerson(store, sc, 'orgs/sample/')).length).toBeGreaterThan(0);
    const orgId = (await new SnapshotReader(store).catalog('sample'))[0]!.orgId;
    const input = { ids: [sc.person], requestedBy: 'dpo@example.com', mode: 'erase', confirmOrgId: orgId };
    const started = await startErasure(deps(store), input, 'erase-s3');
    expect(started).toMatchObject({ snapshots: 4, parts: 4, rowsByObject: { Contact: 4 } });

    // WHEN the first run stops right after its first version removal was asked for
    let stopped = false;
    const crashing: VersionedStore = {
      location: store.location,
      listVersions: (prefix, options) => store.listVersions(prefix, options),
      getVersion: (key, id) => store.getVersion(key, id),
      versionLock: (key, id) => store.versionLock(key, id),
      replace: (key, body, options) => store.replace(key, body, options),
      deleteVersion: async (key, id) => {
        if (!stopped) {
          stopped = true;
          throw new Error('the invocation stopped here');
        }
        return store.deleteVersion(key, id);
      },
    };
    await expect(eraseFromPlan(deps(crashing), input, started.planKey)).rejects.toThrow('stopped here');
    // the part was rewritten, and its earlier version, which holds her, is still there
    const between = await findPerson(store, sc, 'orgs/sample/');
    expect(between.some((t) => /\/objects\/Contact\/part-.*@/.test(t))).toBe(true);

    // AND it runs again, then scans and logs
    const outcome = await eraseFromPlan(deps(store), input, started.planKey);
    expect(outcome.versionsRemoved).toBeGreaterThanOrEqual(4);
    const finished = await finishErasure(deps(store), input, started.planKey, outcome);

    // THEN no version under the org's prefix holds her: current or earlier, as ListObjectVersions lists them
    expect(finished.traces).toBe(0);
    expect(await findPerson(store, sc, 'orgs/sample/')).toEqual([]);
    const versions = await everyVersion(store, 'orgs/sample/snapshots/');
    const perKey = new Map<string, number>();
    for (const key of versions.keys()) {
      const name = key.slice(0, key.lastIndexOf('@'));
      perKey.set(name, (perKey.get(name) ?? 0) + 1);
    }
    // Each rewritten part, manifest and catalog entry is left with one version, the new one.
    expect([...perKey].filter(([key, n]) => /\/objects\/Contact\/part-/.test(key) && n !== 1)).toEqual([]);
    // AND every snapshot still verifies, and reads back without her at the version its manifest names
    const reader = new SnapshotReader(store);
    for (const id of sc.snapshots) {
      const manifest = await reader.manifest('sample', id);
      expect(await verifySnapshot(store, manifest), id).toEqual([]);
      const contact = manifest.objects.find((o) => o.name === 'Contact');
      for (const part of contact?.parts ?? []) expect(part.versionId, part.key).toMatch(/\S/);
      const ids: string[] = [];
      for await (const row of (await reader.pointInTime('sample', id)).rows('Contact', {
        includeDeleted: true,
      }))
        ids.push(row.id);
      expect(ids).not.toContain(sc.person);
      expect(ids).toContain(sc.other);
    }
  }, 300_000);

  it('runs as the synthesized workflow under enforced policies, removing versions in GOVERNANCE mode as only its role may', async () => {
    const { rgw, sc, bucket, store, s3 } = vault();
    // GIVEN the other contact, still in every snapshot, and a vault whose lock the role may bypass
    const orgId = (await new SnapshotReader(store).catalog('sample'))[0]!.orgId;
    const holder = { person: sc.other, values: ['bholmes@goodmail.com'] };
    expect((await findPerson(store, holder, 'orgs/sample/')).length).toBeGreaterThan(0);
    const run = (executionName: string) =>
      runLocalWorkflow({
        instanceUrl: sc.emu.instanceUrl,
        accessToken: sc.emu.accessToken,
        store: { s3: { bucket, endpoint: rgw.endpoint } },
        org: 'sample',
        app: (org) => buildLocalEraseApp(org, { objectLockMode: 'GOVERNANCE' }),
        appKey: 'erase-s3-governance',
        input: () =>
          ({ ids: [sc.other], requestedBy: 'dpo@example.com', mode: 'erase', confirmOrgId: orgId }) as never,
        executionName,
        retryIntervalScale: 0,
        enforcePolicies: true,
      });
    // WHEN one version of a part holding them is under a legal hold, put there by hand
    const hit = (await findPerson(store, holder, 'orgs/sample/snapshots/')).find((f) =>
      f.includes('/objects/Contact/part-'),
    )!;
    const [key, versionId] = hit.replace(/: (id|value)$/, '').split('@');
    const legalHold = (Status: 'ON' | 'OFF') =>
      s3.send(
        new PutObjectLegalHoldCommand({
          Bucket: bucket,
          Key: key,
          VersionId: versionId,
          LegalHold: { Status },
        }),
      );
    await legalHold('ON');
    const everything = await everyVersion(store, 'orgs/sample/snapshots/');
    // THEN the workflow, whose role reads each version's lock, refuses before it writes anything
    const held = await run('erase-s3-held');
    expect(held.result.status).toBe('FAILED');
    expect(held.result.errorMessage).toMatch(
      new RegExp(
        `1 version\\(s\\) the erasure would remove are locked \\(first: ${key} version ${versionId}: a legal hold is on\\)`,
      ),
    );
    expect(await everyVersion(store, 'orgs/sample/snapshots/')).toEqual(everything);
    await legalHold('OFF');
    // AND an erasure of theirs stopped earlier, whose plan (in two versions) and progress hold
    // digests of their values
    const input = { ids: [sc.other], requestedBy: 'dpo@example.com', mode: 'erase', confirmOrgId: orgId };
    const stepDeps = { store, versions: store, org: 'sample', clock: () => new Date() };
    const stopped = await startErasure(stepDeps, input, 'erase-s3-stopped');
    const stoppedPlan = new TextDecoder().decode(await store.get(stopped.planKey));
    await store.replace(stopped.planKey, stoppedPlan);
    const stoppedProgress = 'orgs/sample/erasures/erase-s3-stopped/progress/erase.json';
    await store.replace(stoppedProgress, JSON.stringify({ phase: 'rewrite', next: 0, counts: {} }));
    await releaseErasure(stepDeps, 'erase-s3-stopped');
    await store.replace(stoppedProgress, JSON.stringify({ phase: 'rewrite', next: 1, counts: {} }));
    expect((await everyVersion(store, stopped.planKey)).size).toBe(2);
    // WHEN the hold is lifted and the erase workflow erases them, every S3 call authorized as AWS would
    const { result } = await run('erase-s3-workflow');
    // THEN it succeeds, having removed the earlier version of every part it rewrote
    expect(result.status, result.errorMessage).toBe('SUCCEEDED');
    const output = result.output as { outcome: { keysRewritten: number; versionsRemoved: number } };
    expect(output.outcome.versionsRemoved).toBeGreaterThanOrEqual(output.outcome.keysRewritten);
    expect(await findPerson(store, holder, 'orgs/sample/')).toEqual([]);
    const reader = new SnapshotReader(store);
    for (const id of sc.snapshots)
      expect(await verifySnapshot(store, await reader.manifest('sample', id)), id).toEqual([]);
    // AND its plan, rewritten without the digests of her values, is left with that one version
    const plans = await everyVersion(store, 'orgs/sample/erasures/erase-s3-workflow/plan.json');
    expect(plans.size).toBe(1);
    expect(JSON.parse([...plans.values()][0]!)).not.toHaveProperty('values');
    // AND so is the stopped erasure's, whose progress is gone, every version of it
    const stoppedPlans = await everyVersion(store, stopped.planKey);
    expect(stoppedPlans.size).toBe(1);
    expect(JSON.parse([...stoppedPlans.values()][0]!)).not.toHaveProperty('values');
    expect((await everyVersion(store, 'orgs/sample/erasures/erase-s3-stopped/progress/')).size).toBe(0);
  }, 300_000);
});
