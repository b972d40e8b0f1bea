import { describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { canonical18 } from '../../lambdas/core/erase/find.ts';
import { ErasureTraceFoundError } from '../../lambdas/core/erase/errors.ts';
import { eraseFromPlan, finishErasure, releaseErasure, startErasure } from './steps.ts';
import { RemovalLog } from '../../lambdas/core/erase/removals.ts';
import { cleanReplica } from '../../lambdas/core/erase/replica.ts';
import { manifestKey } from '../../lambdas/core/snapshot/keys.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { fileListOf } from '../../lambdas/core/snapshot/file-lists.ts';
import { parseManifest } from '../../lambdas/core/snapshot/manifest.ts';
import { filesOf } from '../support/snapshot-files.ts';
import type { VersionedStore, VersionLock } from '../../lambdas/core/store.ts';
import {
  BLANKED_DESCRIPTION,
  copyOfVault,
  eraseHerById,
  eraseHerByEmail,
  erasureScenario,
} from './scenario.ts';
import type { PointInTime } from '../../lambdas/core/snapshot/reader.ts';

import { acquireLease, releaseLease } from '../../lambdas/core/restore/lease.ts';
import { releaseRestoreLeases } from '../../lambdas/core/erase/lease.ts';
import { restoreRoot } from '../../lambdas/core/restore/keys.ts';
import { backupEnded, backupHeartbeat, endSweepTurn, takeSweepTurn } from '../../lambdas/core/vault-lease.ts';
import { runLocalBackup } from '../../cli/commands/backup.ts';
import { TEST_SETTINGS } from '../backup/e2e-support.ts';

/** A listing without the restore lease's records (claims, renewals, releases). */
/** The store's versioned side as a plain object, whose methods a test may replace. */
const versionsOf = (store: LocalDirectoryStore): VersionedStore => ({
  location: store.location,
  listVersions: (prefix, options) => store.listVersions(prefix, options),
  getVersion: (key, id) => store.getVersion(key, id),
  replace: (key, body, options) => store.replace(key, body, options),
  deleteVersion: (key, id) => store.deleteVersion(key, id),
  versionLock: (key, id) => store.versionLock(key, id),
});

const withoutLeases = (versions: Map<string, string>) =>
  new Map([...versions].filter(([key]) => !key.includes('/lease/')));

/** A row as of a point in time, by id. */
async function rowOf(pit: PointInTime, object: string, id: string) {
  for await (const row of pit.rows(object, { includeDeleted: true })) if (row.id === id) return row;
  return undefined;
}

import { everyVersion, findPerson, keepingVersions, versionsHolding } from './vault-scan.ts';
import * as steps from '../../lambdas/core/erase/workflow.ts';

const deps = (dir: string, versions?: VersionedStore) => {
  const store = new LocalDirectoryStore(dir);
  return { store, versions: versions ?? store, org: 'sample', clock: () => new Date() };
};

describe('erasure over a local vault, step by step', () => {
  const sc = erasureScenario();

  const copy = (): string => copyOfVault(sc, 'sfbackup-erase-');

  /** A copy of the vault that keeps earlier versions, its steps' deps, and a real erasure of her by id. */
  const keptVersionsAndRequest = async () => {
    const dir = copy();
    const versions = keepingVersions(new LocalDirectoryStore(dir));
    const d = deps(dir, versions);
    const input = eraseHerById(sc);
    return { dir, versions, d, input };
  };

  it('finds the person in every snapshot that holds her, by id and by e-mail in any case', async () => {
    const dir = copy();
    const before = await everyVersion(new LocalDirectoryStore(dir), 'orgs/');
    const byId = await startErasure(
      deps(dir),
      { ids: [sc.person.toLowerCase()], requestedBy: 'dpo@example.com' },
      'dry-1',
    );
    expect(byId.mode).toBe('dry-run');
    expect(byId.ids).toBe(1);
    // She is in the full snapshot and the three incrementals before she was hard deleted.
    expect(byId.snapshots).toBe(4);
    expect(byId.parts).toBe(4);
    expect(byId.rowsByObject).toEqual({ Contact: 4 });
    const byEmail = await startErasure(
      deps(dir),
      { object: 'Contact', where: { Email: sc.email.toUpperCase() }, requestedBy: 'dpo@example.com' },
      'dry-2',
    );
    expect(byEmail).toMatchObject({ ids: 1, snapshots: 4, parts: 4, rowsByObject: { Contact: 4 } });
    // The dry runs wrote their plans and nothing else; the plans hold no value of hers.
    const after = await everyVersion(new LocalDirectoryStore(dir), 'orgs/');
    expect([...after.keys()].filter((k) => !before.has(k)).sort()).toEqual([
      'orgs/sample/erasures/dry-1/plan.json',
      'orgs/sample/erasures/dry-2/plan.json',
    ]);
    for (const key of ['dry-1', 'dry-2']) {
      const text = after.get(`orgs/sample/erasures/${key}/plan.json`)!;
      for (const value of sc.values) expect(text.toLowerCase()).not.toContain(value.toLowerCase());
      expect(text).toContain(sc.person);
    }
  }, 120_000);

  it('erases her from every snapshot, which all still verify, and logs it without a value', async () => {
    const dir = copy();
    const d = deps(dir);
    const input = {
      object: 'Contact',
      where: { Email: sc.email },
      requestedBy: 'dpo@example.com',
      reason: 'Article 17 request',
      mode: 'erase',
      confirmOrgId: sc.orgId,
    };
    expect((await findPerson(d.store, sc, 'orgs/sample/')).length).toBeGreaterThan(0);
    const started = await startErasure(d, input, 'erase-1');
    const outcome = await eraseFromPlan(d, input, started.planKey);
    expect(outcome.rowsRemoved).toBe(4);
    const finished = await finishErasure(d, input, started.planKey, outcome);
    expect(finished.traces).toBe(0);
    expect(await findPerson(d.store, sc, 'orgs/sample/')).toEqual([]);
    const reader = new SnapshotReader(d.store);
    for (const id of sc.snapshots) {
      expect(await verifySnapshot(d.store, await reader.manifest('sample', id)), id).toEqual([]);
      const pit = await reader.pointInTime('sample', id);
      const ids: string[] = [];
      for await (const row of pit.rows('Contact', { includeDeleted: true })) ids.push(row.id);
      expect(ids).not.toContain(sc.person);
      expect(ids).toContain(sc.other);
      // The records that copied her values are kept, without the copies.
      const property = await rowOf(pit, 'Property__c', sc.property);
      expect(property?.values.Description__c).toBe(BLANKED_DESCRIPTION);
      expect(property?.values.Name).toBe('Stunning Victorian');
      expect((await rowOf(pit, 'Broker__c', sc.broker))?.values).toMatchObject({
        Name: 'Caroline Kingsley',
        Mobile_Phone__c: '',
        Phone__c: '617-244-3672',
      });
    }
    expect(started).toMatchObject({
      values: 5,
      copiesByField: { 'Property__c.Description__c': 1, 'Broker__c.Mobile_Phone__c': 1 },
      keptCopiesByField: {},
    });
    expect(outcome.copiesBlanked).toBe(2);
    const log = JSON.parse(new TextDecoder().decode(await d.store.get(finished.logKey)));
    expect(log).toMatchObject({ requestedBy: 'dpo@example.com', ids: [sc.person], filterFields: ['Email'] });
    expect(log.scan.traceCount).toBe(0);
    const text = JSON.stringify(log).toLowerCase();
    for (const value of sc.values) expect(text).not.toContain(value.toLowerCase());
  }, 120_000);

  it('lists every version it removed, by key and version id, for the same removals in a replica of the vault', async () => {
    const { versions, d: kept, input } = await keptVersionsAndRequest();
    // Every removal the steps make, as S3 would receive it.
    const deleted = new Set<string>();
    const d = {
      ...kept,
      versions: {
        ...versions,
        deleteVersion: async (key: string, versionId: string) => {
          deleted.add(`${key} ${versionId}`);
          return versions.deleteVersion(key, versionId);
        },
      },
    };
    const started = await startErasure(d, input, 'erase-listed');
    const outcome = await eraseFromPlan(d, input, started.planKey);
    const finished = await finishErasure(d, input, started.planKey, outcome);
    const prefix = 'orgs/sample/erasures/erase-listed/removed/';
    expect(finished.removedVersionsListedIn).toBe(prefix);
    const listed = new Set<string>();
    for await (const { key } of d.store.list(prefix)) {
      const text = new TextDecoder().decode(await d.store.get(key));
      const record = JSON.parse(text) as { key: string; versionIds: string[] };
      expect(Object.keys(record).sort()).toEqual(['key', 'versionIds']);
      for (const id of record.versionIds) listed.add(`${record.key} ${id}`);
      // Keys and version ids only: none of her values.
      for (const value of sc.values) expect(text.toLowerCase()).not.toContain(value.toLowerCase());
    }
    // The rewritten records' earlier versions, the plan's with her digests and the steps' progress.
    expect(outcome.versionsRemoved).toBeGreaterThan(0);
    expect(deleted.size).toBeGreaterThan(outcome.versionsRemoved);
    expect(listed).toEqual(deleted);
    // AND a replica that received every version the vault held (replication keeps version ids)
    // ends, once erase-replica has run over the lists, with exactly what the vault holds
    const vaultNow = new Set<string>();
    for (const scope of ['orgs/sample/', 'restores/sample/', 'reports/sample/'])
      for await (const v of d.versions.listVersions(scope))
        if (!v.deleteMarker) vaultNow.add(`${v.key} ${v.versionId}`);
    // (one listed version the vault still holds, as a removal a lock refused would leave, stays)
    const held = [...vaultNow].find((v) => v.includes('/snapshots/'))!;
    await RemovalLog.of(d.store, 'sample', 'erase-refused').note(held.split(' ')[0]!, [held.split(' ')[1]!]);
    const replica = versionsHolding(new Set([...vaultNow, ...deleted]));
    const cleaned = await cleanReplica({
      vault: d.store,
      vaultVersions: d.versions,
      replica,
      org: 'sample',
      confirm: true,
    });
    expect(cleaned).toMatchObject({ removed: deleted.size, leftCount: 0, notInReplica: 0, stillInVault: 1 });
    expect(replica.held).toEqual(vaultNow);
  }, 120_000);

  it('blanks the copies of an id-only request but in the fields it keeps, which the scan counts apart, and forgets her digests at the end', async () => {
    const dir = copy();
    const versions = keepingVersions(new LocalDirectoryStore(dir));
    const d = deps(dir, versions);
    const input = {
      ids: [sc.person],
      keepCopiesIn: ['Broker__c.Mobile_Phone__c'],
      requestedBy: 'dpo@example.com',
      mode: 'erase',
      confirmOrgId: sc.orgId,
    };
    const started = await startErasure(d, input, 'erase-keep');
    expect(started).toMatchObject({
      copiesByField: { 'Property__c.Description__c': 1 },
      keptCopiesByField: { 'Broker__c.Mobile_Phone__c': 1 },
    });
    const planned = JSON.parse(new TextDecoder().decode(await d.store.get(started.planKey))) as {
      values?: { digests: string[] };
      copyRecords: Record<string, string[]>;
    };
    expect(planned.values?.digests).toHaveLength(5);
    expect(planned.copyRecords).toEqual({ 'Property__c.Description__c': [sc.property] });
    const outcome = await eraseFromPlan(d, input, started.planKey);
    const finished = await finishErasure(d, input, started.planKey, outcome);
    expect(finished.traces).toBe(0);
    const log = JSON.parse(new TextDecoder().decode(await d.store.get(finished.logKey)));
    expect(log.scan.keptCopies).toEqual({ 'Broker__c.Mobile_Phone__c': 1 });
    const pit = await new SnapshotReader(d.store).pointInTime('sample', sc.snapshots[0]!);
    expect((await rowOf(pit, 'Property__c', sc.property))?.values.Description__c).toBe(BLANKED_DESCRIPTION);
    expect((await rowOf(pit, 'Broker__c', sc.broker))?.values.Mobile_Phone__c).toBe('617-555-0112');
    // The plan no longer holds the digests, in any version of it.
    const plans = [...(await everyVersion(versions, started.planKey)).values()];
    expect(plans).toHaveLength(1);
    expect(JSON.parse(plans[0]!)).not.toHaveProperty('values');
    // A finish run again answers what its log says (having given the org back, it looked at no
    // other execution's records).
    expect(await finishErasure(d, input, started.planKey, outcome)).toEqual({
      ...finished,
      digestsNotChecked: true,
    });
  }, 120_000);

  it('forgets her digests when a finish that stopped after writing its log is run again', async () => {
    const { dir, versions, d, input } = await keptVersionsAndRequest();
    const started = await startErasure(d, input, 'erase-forget');
    const outcome = await eraseFromPlan(d, input, started.planKey);
    // The finish stops once its log is complete, as it rewrites the plan.
    const stopping: VersionedStore = {
      ...versions,
      replace: async (key, body, options) => {
        if (key === started.planKey) throw new Error('the invocation stopped here');
        return versions.replace(key, body, options);
      },
    };
    await expect(finishErasure(deps(dir, stopping), input, started.planKey, outcome)).rejects.toThrow(
      /stopped/,
    );
    expect(JSON.parse(new TextDecoder().decode(await d.store.get(started.planKey)))).toHaveProperty('values');
    const finished = await finishErasure(d, input, started.planKey, outcome);
    expect(finished.traces).toBe(0);
    const plans = [...(await everyVersion(versions, started.planKey)).values()];
    expect(plans.map((p) => Object.keys(JSON.parse(p)).includes('values'))).toEqual([false]);
  }, 120_000);

  /** Every erasure record of the org (any version) that holds digests of someone's values. */
  const holdsDigests = (text: string) => /"digests":\s*\[\s*"/.test(text);
  const withDigests = async (versions: VersionedStore) =>
    [...(await everyVersion(versions, 'orgs/sample/erasures/'))]
      .filter(([, text]) => holdsDigests(text))
      .map(([key]) => key.replace(/@.*/, ''))
      .sort();
  /** Moves the clock on, as the hours in which a stopped execution's leases lapse. */
  const hoursLater = (hours: number) => vi.setSystemTime(Date.now() + hours * 3_600_000);

  it('forgets, at its finish, the digests of her values that failed and stopped erasures of the org left', async () => {
    const { versions, d, input } = await keptVersionsAndRequest();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      // GIVEN an erasure that failed after its plan (its failure path gave its leases back)
      const failed = await startErasure(d, input, 'erase-failed');
      await releaseErasure(d, 'erase-failed');
      // AND one stopped from the console once its plan was written, whose leases then lapsed
      const late = await startErasure(d, input, 'erase-stopped-late');
      hoursLater(2);
      // AND one stopped part way through its plan, once its progress held digests, lapsed too
      const progressKey = 'orgs/sample/erasures/erase-stopped/progress/plan.json';
      for (let i = 0; ; i++) {
        expect(i).toBeLessThan(5000);
        const step = await steps.startErasure({ ...d, deadline: new Date(0) }, input, 'erase-stopped');
        expect(step.done).toBe(false);
        if (holdsDigests(new TextDecoder().decode(await d.store.get(progressKey)))) break;
      }
      hoursLater(2);
      expect(await withDigests(versions)).toEqual([failed.planKey, late.planKey, progressKey].sort());
      // WHEN the erasure is started again and runs to its end
      const again = await startErasure(d, input, 'erase-again');
      const outcome = await eraseFromPlan(d, input, again.planKey);
      const finished = await finishErasure(d, input, again.planKey, outcome);
      expect(finished).toMatchObject({ traces: 0 });
      expect(finished).not.toHaveProperty('digestsLeftIn');
      expect(finished).not.toHaveProperty('digestsNotChecked');
      // THEN no version of any erasure record holds a digest of her values, and no progress is left
      expect(await withDigests(versions)).toEqual([]);
      const left = [...(await everyVersion(versions, 'orgs/sample/erasures/')).keys()];
      expect(left.filter((k) => k.includes('/progress/'))).toEqual([]);
      // AND the failed plan still names what it was for: her id and its counts
      const plan = JSON.parse(new TextDecoder().decode(await d.store.get(failed.planKey)));
      expect(plan).toMatchObject({ execution: 'erase-failed', ids: [canonical18(sc.person)] });
      expect(plan).not.toHaveProperty('values');
      // AND none of them, redriven at any step, can carry out its plan without them
      const refused = /no longer holds the digests of her values.*Start a new erase execution/;
      await expect(steps.startErasure(d, input, 'erase-stopped-late')).rejects.toThrow(refused);
      await expect(steps.eraseFromPlan(d, input, failed.planKey)).rejects.toThrow(refused);
      await expect(steps.finishErasure(d, input, late.planKey, outcome)).rejects.toThrow(refused);
    } finally {
      vi.useRealTimers();
    }
  }, 180_000);

  it("leaves a running erasure's digests, and says what it could not forget or did not look at", async () => {
    const { dir, d: plain, input } = await keptVersionsAndRequest();
    // A vault where one old plan version is under a hold the erase role cannot lift.
    const kept = keepingVersions(new LocalDirectoryStore(dir));
    const versions: VersionedStore = {
      ...kept,
      deleteVersion: async (key, id) => {
        if (key.includes('/erase-held/plan.json'))
          throw Object.assign(new Error('held'), { name: 'AccessDenied' });
        return kept.deleteVersion(key, id);
      },
    };
    const d = { ...plain, versions };
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      // GIVEN two stopped erasures whose leases lapsed: one whose plan has an earlier version
      // under that hold, and one more, each with digests in its plan and progress
      const held = await startErasure(d, input, 'erase-held');
      await versions.replace(held.planKey, await d.store.get(held.planKey));
      const heldProgress = 'orgs/sample/erasures/erase-held/progress/erase.json';
      await versions.replace(heldProgress, JSON.stringify({ phase: 'rewrite', next: 0 }));
      hoursLater(2);
      const other = await startErasure(d, input, 'erase-other');
      hoursLater(2);
      // WHEN an erasure runs, and a run of its org claims the org meanwhile (a live claim it lost)
      const again = await startErasure(d, input, 'erase-again');
      const outcome = await eraseFromPlan(d, input, again.planKey);
      const planted = 'orgs/sample/erasures/erase-planted/plan.json';
      await d.store.put(planted, await d.store.get(other.planKey));
      await d.store.put(
        `orgs/sample/lease/claims/${String(Date.now() + 1).padStart(15, '0')}-erasure-erase-planted.json`,
        '{}',
      );
      // AND its finish stops right after its log, and is run again with no time left: each
      // invocation forgets one execution
      const stopping: VersionedStore = {
        ...versions,
        replace: async (key, body, options) => {
          if (key === again.planKey) throw new Error('the invocation stopped here');
          return versions.replace(key, body, options);
        },
      };
      await expect(
        steps.finishErasure({ ...d, versions: stopping }, input, again.planKey, outcome),
      ).rejects.toThrow(/stopped/);
      const answers: { done: boolean }[] = [];
      for (let i = 0; i < 10 && !answers.at(-1)?.done; i++)
        answers.push(
          await steps.finishErasure({ ...d, deadline: new Date(0) }, input, again.planKey, outcome),
        );
      expect(answers.map((a) => a.done)).toEqual([false, true]);
      // THEN it ends, naming the plan it could not forget; the live claimant's plan is left whole
      expect(answers.at(-1)).toMatchObject({ done: true, traces: 0, digestsLeftIn: ['erase-held'] });
      expect(await withDigests(versions)).toEqual([held.planKey, held.planKey, planted]);
      // (the held plan's current version is forgotten; only its two held earlier versions keep them)
      expect(JSON.parse(new TextDecoder().decode(await d.store.get(held.planKey)))).not.toHaveProperty(
        'values',
      );
      expect((await everyVersion(versions, 'orgs/sample/erasures/erase-held/progress/')).size).toBe(0);
      // WHEN that finish is run again once its leases have lapsed (a redrive)
      await versions.replace(other.planKey, await d.store.get(planted));
      hoursLater(2);
      // THEN it forgets nothing of the others, and says so
      const redriven = await steps.finishErasure(d, input, again.planKey, outcome);
      expect(redriven).toMatchObject({ done: true, digestsNotChecked: true });
      expect(await withDigests(versions)).toEqual([held.planKey, held.planKey, other.planKey, planted]);
    } finally {
      vi.useRealTimers();
    }
  }, 180_000);

  it('has checked the lock of every key whose versions its erase step then removes', async () => {
    // GIVEN a vault that records which keys' locks the plan read and whose versions were removed
    const dir = copy();
    const inner = keepingVersions(new LocalDirectoryStore(dir));
    const checked = new Set<string>();
    const removed = new Set<string>();
    const versions: VersionedStore = {
      ...inner,
      versionLock: async (key, id) => {
        checked.add(key);
        return inner.versionLock(key, id);
      },
      deleteVersion: async (key, id) => {
        removed.add(key);
        return inner.deleteVersion(key, id);
      },
    };
    const d = deps(dir, versions);
    const input = eraseHerByEmail(sc);
    // WHEN her erasure runs to its end
    const started = await startErasure(d, input, 'erase-checked');
    const outcome = await eraseFromPlan(d, input, started.planKey);
    expect((await finishErasure(d, input, started.planKey, outcome)).traces).toBe(0);
    // THEN the erase step removed versions only of keys the plan's lock check read (parts, the
    // records beside them, manifests, catalog entries); the erasure's own records aside
    const data = [...removed].filter((k) => !k.startsWith('orgs/sample/erasures/'));
    expect(data.filter((k) => k.includes('/objects/')).length).toBeGreaterThan(0);
    expect(data.filter((k) => k.endsWith('/manifest.json')).length).toBeGreaterThan(0);
    expect(data.filter((k) => !checked.has(k))).toEqual([]);
  }, 180_000);

  it("refuses to erase while a file's bytes hold her e-mail, which it cannot rewrite, and writes nothing", async () => {
    const dir = copy();
    const d = deps(dir);
    const body = 'orgs/sample/files/sha256/ee/eeeeeeee';
    await d.store.put(body, Buffer.from(`Curriculum vitae\nContact: ${sc.email.toUpperCase()}\n`));
    const before = await everyVersion(d.store, '');
    const input = eraseHerByEmail(sc);
    await expect(startErasure(d, input, 'erase-file')).rejects.toThrow(
      new RegExp(`1 stored file.*${body}.*cannot rewrite a file's bytes.*Nothing was written`),
    );
    // Nothing but the restore lease it took and gave back.
    expect(withoutLeases(await everyVersion(d.store, ''))).toEqual(withoutLeases(before));
    expect(await startErasure(d, { ...input, mode: 'dry-run' }, 'dry-file')).toMatchObject({
      unrewritableFiles: 1,
    });
  }, 120_000);

  it('refuses to erase while a version it would remove is under a legal hold or a retention it cannot bypass, and writes nothing', async () => {
    const dir = copy();
    const d = deps(dir);
    const input = eraseHerById(sc);
    const dry = await startErasure(d, { ...input, mode: 'dry-run' }, 'dry-unlocked');
    expect(dry.lockedVersions).toBe(0);
    const plan = JSON.parse(Buffer.from(await d.store.get(dry.planKey)).toString('utf8')) as {
      keys: { key: string; kind: string; snapshotId?: string }[];
    };
    const [held, retained] = plan.keys.filter((k) => k.kind === 'part').map((k) => k.key);
    // Locks put on single versions, as S3 reports them to the erase role.
    const until = new Date(Date.now() + 86_400_000);
    const locks = new Map<string, VersionLock>([
      [held!, { legalHold: true }],
      [retained!, { mode: 'GOVERNANCE', retainUntil: until, legalHold: false }],
    ]);
    const locked = (lockMode?: string) => ({
      ...d,
      ...(lockMode ? { lockMode } : {}),
      versions: {
        ...versionsOf(d.store),
        versionLock: async (key: string) => locks.get(key) ?? { legalHold: false },
      },
    });
    const before = await everyVersion(d.store, '');
    await expect(startErasure(locked(), input, 'erase-locked')).rejects.toThrow(
      new RegExp(
        `2 version\\(s\\) the erasure would remove are locked \\(first: ${held} version null: a legal hold is on; ${retained} version null: GOVERNANCE retention until ${until.toISOString()}, which the erase role may bypass only on a vault configured GOVERNANCE\\)\\. Nothing was written`,
      ),
    );
    expect(withoutLeases(await everyVersion(d.store, ''))).toEqual(withoutLeases(before));
    // A GOVERNANCE vault's erase role bypasses the retention, never the hold; a dry run counts them.
    await expect(startErasure(locked('GOVERNANCE'), input, 'erase-governance')).rejects.toThrow(
      /1 version\(s\) the erasure would remove are locked \(first: .*a legal hold is on\)/,
    );
    expect(await startErasure(locked(), { ...input, mode: 'dry-run' }, 'dry-locked')).toMatchObject({
      lockedVersions: 2,
    });
    // The records it rewrites beside the parts count too: the manifest of a snapshot holding her;
    // the current manifest of a snapshot without her, which it keeps, does not.
    const parts = plan.keys.filter((k) => k.kind === 'part') as { key: string; snapshotId?: string }[];
    const withHer = new Set(parts.map((k) => k.snapshotId));
    const hers = manifestKey('sample', parts[0]!.snapshotId!);
    locks.clear();
    locks.set(hers, { legalHold: true });
    await expect(startErasure(locked(), input, 'erase-manifest-held')).rejects.toThrow(
      new RegExp(
        `1 version\\(s\\) the erasure would remove are locked \\(first: ${hers} version null: a legal hold is on`,
      ),
    );
    const without = (await new SnapshotReader(d.store).catalog('sample')).find(
      (e) => !withHer.has(e.snapshotId),
    );
    expect(without).toBeDefined();
    locks.clear();
    locks.set(manifestKey('sample', without!.snapshotId), { legalHold: true });
    expect(await startErasure(locked(), { ...input, mode: 'dry-run' }, 'dry-other-held')).toMatchObject({
      lockedVersions: 0,
    });
    // A retention that has ended is no lock.
    locks.delete(held!);
    locks.set(retained!, { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() - 1000), legalHold: false });
    await expect(startErasure(locked(), input, 'erase-expired')).resolves.toMatchObject({
      lockedVersions: 0,
    });
  }, 120_000);

  it("holds the org's restore lease from its plan to its finish: a running restore refuses it, and it refuses a restore", async () => {
    const dir = copy();
    const d = deps(dir);
    const root = restoreRoot('sample', sc.orgId);
    const input = eraseHerById(sc);
    // A restore holds the lease: the erasure is refused before it writes anything, a dry run is not.
    await acquireLease(d.store, root, 'restore-1', { sleep: async () => {} });
    const before = await everyVersion(d.store, '');
    await expect(startErasure(d, input, 'erase-leased')).rejects.toMatchObject({
      name: 'ErasureMustWaitError',
      message: expect.stringMatching(
        /A restore holds the lease of org .*execution restore-1.*nothing was erased/,
      ),
    });
    expect(await everyVersion(d.store, '')).toEqual(before);
    await startErasure(d, { ...input, mode: 'dry-run' }, 'dry-leased');
    await releaseLease(d.store, root, 'restore-1');
    // The erasure holds it from its start: a restore started meanwhile is refused, naming it.
    const started = await startErasure(d, input, 'erase-holds');
    await expect(acquireLease(d.store, root, 'restore-2', { sleep: async () => {} })).rejects.toThrow(
      /An erasure is rewriting the records of .*execution erase-holds of the org's erase workflow/,
    );
    const outcome = await eraseFromPlan(d, input, started.planKey);
    await expect(acquireLease(d.store, root, 'restore-2', { sleep: async () => {} })).rejects.toThrow(
      /An erasure is rewriting the records of .*execution erase-holds of the org's erase workflow/,
    );
    expect((await finishErasure(d, input, started.planKey, outcome)).traces).toBe(0);
    // Its finish gave it back.
    await expect(acquireLease(d.store, root, 'restore-2', { sleep: async () => {} })).resolves.toMatchObject({
      runId: 'restore-2',
    });
  }, 120_000);

  it("takes turns with the org's retention sweeps and backups: refused while one runs, and refusing them while it holds the org", async () => {
    const dir = copy();
    const d = deps(dir);
    const input = eraseHerById(sc);
    const noWait = { sleep: async () => {} };
    // A sweep holds the org's vault lease: refused before it writes anything.
    await takeSweepTurn(d.store, 'sample', 'daily-1', noWait);
    let before = await everyVersion(d.store, '');
    await expect(startErasure(d, input, 'erase-swept')).rejects.toMatchObject({
      name: 'ErasureMustWaitError',
      message: expect.stringMatching(
        /A retention sweep holds the lease of the backups of configured org sample: execution daily-1.*nothing was erased.*tries again every 5 minutes for 12 hours/,
      ),
    });
    expect(await everyVersion(d.store, '')).toEqual(before);
    await endSweepTurn(d.store, 'sample', 'daily-1');
    // A backup is running (a live heartbeat, no catalog entry): refused too, naming it.
    await backupHeartbeat(d.store, 'sample', '20261204T050000000Z-abcdef', Date.now());
    before = await everyVersion(d.store, '');
    await expect(startErasure(d, input, 'erase-backup')).rejects.toMatchObject({
      name: 'ErasureMustWaitError',
      message: expect.stringMatching(
        /A backup of org sample is running: snapshot 20261204T050000000Z-abcdef .*nothing was erased.*tries again/,
      ),
    });
    expect(await everyVersion(d.store, '')).toEqual(before);
    await backupEnded(d.store, 'sample', '20261204T050000000Z-abcdef', Date.now());

    // The erasure holds the org: a sweep removes nothing, and the backup workflow, run as
    // synthesized, is refused at its plan with an alert naming the erasure, writing no snapshot.
    const started = await startErasure(d, input, 'erase-turns');
    expect(await takeSweepTurn(d.store, 'sample', 'daily-2', noWait)).toMatchObject({
      held: false,
      heldBy: { runId: 'erasure-erase-turns' },
    });
    const snapshots = async () => (await new SnapshotReader(d.store).catalog('sample')).length;
    const folders = async () => {
      let n = 0;
      for await (const _ of d.store.list('orgs/sample/snapshots/')) n++;
      return n;
    };
    const [catalogBefore, foldersBefore] = [await snapshots(), await folders()];
    const incremental = () =>
      runLocalBackup({
        instanceUrl: sc.emu.instanceUrl,
        accessToken: sc.emu.accessToken,
        store: dir,
        mode: 'incremental',
        org: 'sample',
        settings: TEST_SETTINGS,
        retryIntervalScale: 0,
      });
    const refused = await incremental();
    expect(refused.summary.status).toBe('failed');
    expect(refused.summary.problems).toEqual([
      expect.stringMatching(/^BackupHeldByErasureError: An erasure is rewriting the backups of org sample/),
    ]);
    expect(refused.result.snsMessages.map((m) => m.message).join('\n')).toMatch(
      /BackupHeldByErasureError.*execution erase-turns of its erase workflow holds the org's vault lease/,
    );
    expect([await snapshots(), await folders()]).toEqual([catalogBefore, foldersBefore]);

    const outcome = await eraseFromPlan(d, input, started.planKey);
    expect((await finishErasure(d, input, started.planKey, outcome)).traces).toBe(0);
    // Its finish gave the org back: the next backup and sweep go.
    const after = await incremental();
    expect(after.summary.status).toBe('complete');
    expect(await takeSweepTurn(d.store, 'sample', 'daily-3', noWait)).toMatchObject({
      held: true,
      runId: 'sweep-daily-3',
    });
  }, 180_000);

  it('gives back the leases a retried start took when it finds another held meanwhile', async () => {
    const dir = copy();
    const d = deps(dir);
    const input = eraseHerById(sc);
    await startErasure(d, input, 'erase-retried');
    // A drill into a sandbox starts meanwhile, then the start step is retried.
    const sandbox = restoreRoot('sample', '00D000000000002EAA');
    await acquireLease(d.store, sandbox, 'drill-1', { sleep: async () => {} });
    // ...and ends the execution rather than wait: a run that gave its leases back cannot take them again.
    await expect(startErasure(d, input, 'erase-retried')).rejects.toMatchObject({
      name: 'ErasureImpossibleError',
      message: expect.stringMatching(/A restore holds the lease of .*drill-1.*Start the erasure again once/),
    });
    // The org's own lease was given back: a restore of the org may go.
    await expect(
      acquireLease(d.store, restoreRoot('sample', sc.orgId), 'restore-3', { sleep: async () => {} }),
    ).resolves.toMatchObject({ runId: 'restore-3' });
  }, 120_000);

  it('ends, giving its leases back, when a restore into an org none of its restores wrote into claimed it as the erasure claimed', async () => {
    const dir = copy();
    const d = deps(dir);
    const input = eraseHerById(sc);
    // GIVEN a restore into a freshly refreshed sandbox that claims its lease as the erasure
    // claims the org's vault lease (after the erasure listed the orgs its restores wrote into)
    const sandbox = restoreRoot('sample', '00D000000000009EAA');
    const put = d.store.put.bind(d.store);
    let claimed = false;
    d.store.put = async (key, body, options) => {
      const stored = await put(key, body, options);
      if (!claimed && key.startsWith('orgs/sample/lease/claims/')) {
        claimed = true;
        await acquireLease(d.store, sandbox, 'restore-sandbox', { sleep: async () => {} });
      }
      return stored;
    };
    // WHEN the erasure starts THEN it ends naming the restore, and holds nothing
    await expect(startErasure(d, input, 'erase-raced')).rejects.toMatchObject({
      name: 'ErasureImpossibleError',
      message: expect.stringMatching(/A restore holds the lease of .*00D000000000009EAA.*restore-sandbox/),
    });
    expect(claimed).toBe(true);
    await expect(
      acquireLease(d.store, restoreRoot('sample', sc.orgId), 'restore-4', { sleep: async () => {} }),
    ).resolves.toMatchObject({ runId: 'restore-4' });
    expect(await takeSweepTurn(d.store, 'sample', 'daily-9', { sleep: async () => {} })).toMatchObject({
      held: true,
      runId: 'sweep-daily-9',
    });
  }, 120_000);

  it('goes on past a restore into a new org that its vault lease refused, and ends if a run holds that org', async () => {
    const dir = copy();
    const d = deps(dir);
    const input = eraseHerById(sc);
    const started = await startErasure(d, input, 'erase-past');
    // GIVEN a restore into a freshly refreshed sandbox, refused by the erasure's vault lease after
    // its claim: it left its claim and release under a root the erasure did not take
    const sandbox = restoreRoot('sample', '00D000000000008EAA');
    await acquireLease(d.store, sandbox, 'restore-refused', { sleep: async () => {} });
    await releaseLease(d.store, sandbox, 'restore-refused');
    // WHEN the erasure goes on THEN it renews what it holds, rewrites and finishes
    const outcome = await eraseFromPlan(d, input, started.planKey);
    expect((await finishErasure(d, input, started.planKey, outcome)).traces).toBe(0);

    // ...but a run holding a lease of an org the erasure does not hold ends it, naming the run
    const other = copy();
    const o = deps(other);
    const next = await startErasure(o, input, 'erase-beside');
    await acquireLease(o.store, sandbox, 'restore-beside', { sleep: async () => {} });
    await expect(eraseFromPlan(o, input, next.planKey)).rejects.toMatchObject({
      name: 'ErasureImpossibleError',
      message: expect.stringMatching(/A restore holds the lease of .*00D000000000008EAA.*restore-beside/),
    });
  }, 180_000);

  it('refuses to erase while a stopped restore has an open batch that holds her, and writes nothing', async () => {
    const dir = copy();
    const d = deps(dir);
    // A restore wrote the intent of a batch holding her, and stopped before its id map.
    const intent = `restores/sample/${sc.orgId}/intents/Contact/0001.json`;
    await d.store.put(
      intent,
      JSON.stringify({ batch: '0001', rows: [{ oldId: sc.person, values: { LastName: 'Martin' } }] }),
    );
    const before = await everyVersion(d.store, '');
    const input = eraseHerById(sc);
    await expect(startErasure(d, input, 'erase-open')).rejects.toThrow(
      new RegExp(`stopped part way.*${intent}.*Run that restore again`),
    );
    expect(withoutLeases(await everyVersion(d.store, ''))).toEqual(withoutLeases(before));
    // A dry run says so; once the batch's id map is written, the erasure may go ahead.
    expect(await startErasure(d, { ...input, mode: 'dry-run' }, 'dry-open')).toMatchObject({
      openRestoreBatches: 1,
    });
    await d.store.put(intent.replace('/intents/', '/id-map/'), JSON.stringify({ entries: [] }));
    expect(await startErasure(d, input, 'erase-after')).toMatchObject({ openRestoreBatches: 0 });
  }, 120_000);

  it('fails its scan when a copy of her values appears after the plan was made, and names where', async () => {
    const dir = copy();
    const d = deps(dir);
    const input = eraseHerById(sc);
    const started = await startErasure(d, input, 'erase-late');
    const outcome = await eraseFromPlan(d, input, started.planKey);
    // A record written after the plan (a backup that ran meanwhile) copies her e-mail.
    const late = `orgs/sample/snapshots/${sc.snapshots[4]}/objects/Case/part-00009-latecopy.csv.gz`;
    await d.store.put(late, gzipSync('"Id","SuppliedEmail"\n"500000000000009AAA","LESLIE@pentagon.com"\n'));
    const error = await finishErasure(d, input, started.planKey, outcome).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErasureTraceFoundError);
    const message = (error as Error).message;
    expect(message).toMatch(/^After the erasure, 1 stored version\(s\) of org sample's records still hold /);
    expect(message).toMatch(new RegExp(`\\(first: ${late} version \\S+ \\([^)]*copy of her values`));
    expect(message).toMatch(/The erasure log orgs\/sample\/erasures\/log\/\S+-erase-late\.json lists them\./);
    expect(message).toContain(
      'Run the erasure again; if they remain, remove them by hand with the break-glass role.',
    );
    expect(message).toContain(
      'listed under orgs/sample/erasures/erase-late/removed/ (and those of earlier executions under orgs/sample/erasures/*/removed/)',
    );
    // AND its failure path leaves its log entry complete, with the trace it found
    await releaseErasure(d, 'erase-late', 'ErasureTraceFoundError');
    const entries = [];
    for await (const { key } of d.store.list('orgs/sample/erasures/log/'))
      entries.push(JSON.parse(new TextDecoder().decode(await d.store.get(key))));
    expect(entries).toEqual([expect.objectContaining({ status: 'complete', execution: 'erase-late' })]);
    expect(entries[0].scan.traceCount).toBe(1);
  }, 120_000);

  it.each([
    ['a part is rewritten, before anything else', (key: string) => key.includes('/objects/Contact/part-')],
    ['every part is rewritten, before the manifests', (key: string) => key.endsWith('/manifest.json')],
    ['a manifest is rewritten, before its catalog entry', (key: string) => key.includes('/catalog/')],
  ])(
    'finishes when run again after stopping once %s',
    async (_when, stopAt) => {
      const dir = copy();
      const d = deps(dir);
      let stopped = false;
      const crashing: VersionedStore = {
        location: d.store.location,
        listVersions: (prefix, options) => d.store.listVersions(prefix, options),
        getVersion: (key, id) => d.store.getVersion(key, id),
        versionLock: (key, id) => d.store.versionLock(key, id),
        deleteVersion: (key, id) => d.store.deleteVersion(key, id),
        replace: async (key, body, options) => {
          // The first matching write lands, then the process stops, as a timed-out invocation does.
          const written = await d.store.replace(key, body, options);
          if (!stopped && stopAt(key)) {
            stopped = true;
            throw new Error('the invocation stopped here');
          }
          return written;
        },
      };
      const input = eraseHerById(sc, 'request 42');
      const started = await startErasure(deps(dir, crashing), input, 'crash-1');
      await expect(eraseFromPlan(deps(dir, crashing), input, started.planKey)).rejects.toThrow(
        'stopped here',
      );
      expect(stopped).toBe(true);
      const outcome = await eraseFromPlan(d, input, started.planKey);
      const finished = await finishErasure(d, input, started.planKey, outcome);
      expect(finished.traces).toBe(0);
      expect(await findPerson(d.store, sc, 'orgs/sample/')).toEqual([]);
      const reader = new SnapshotReader(d.store);
      for (const id of sc.snapshots) {
        expect(await verifySnapshot(d.store, await reader.manifest('sample', id)), id).toEqual([]);
        const entry = (await reader.catalog('sample')).find((e) => e.snapshotId === id)!;
        const manifest = await d.store.get(entry.manifestKey!);
        expect(createHash('sha256').update(manifest).digest('hex')).toBe(entry.manifestSha256);
      }
    },
    120_000,
  );

  /** A store that lets the first write or removal `stopAt` picks land, then stops, as a timed-out invocation does. */
  const crashingStore = (
    d: ReturnType<typeof deps>,
    stopAt: { write?: (key: string) => boolean; removal?: boolean },
  ) => {
    const state = { stopped: false };
    const store: VersionedStore = {
      location: d.versions.location,
      listVersions: (prefix, options) => d.versions.listVersions(prefix, options),
      getVersion: (key, id) => d.versions.getVersion(key, id),
      versionLock: (key, id) => d.versions.versionLock(key, id),
      deleteVersion: async (key, id) => {
        if (!state.stopped && stopAt.removal) {
          state.stopped = true;
          throw new Error('the invocation stopped here');
        }
        return d.versions.deleteVersion(key, id);
      },
      replace: async (key, body, options) => {
        if (!state.stopped && stopAt.write?.(key)) {
          state.stopped = true;
          throw new Error('the invocation stopped here');
        }
        return d.versions.replace(key, body, options);
      },
    };
    return { store, state };
  };

  it.each([
    [
      'between writing the parts and the manifests',
      { write: (key: string) => key.endsWith('/manifest.json') },
    ],
    ['while removing the earlier versions', { removal: true }],
  ])(
    'finishes as a new execution after a run stopped %s',
    async (_when, stopAt) => {
      // GIVEN a vault that keeps earlier versions, and a run that stopped part way
      const dir = copy();
      const kept = keepingVersions(new LocalDirectoryStore(dir));
      const d = deps(dir, kept);
      const input = eraseHerById(sc, 'request 43');
      const crash = crashingStore(d, stopAt);
      const started = await startErasure(deps(dir, crash.store), input, 'stopped-1');
      await expect(eraseFromPlan(deps(dir, crash.store), input, started.planKey)).rejects.toThrow(
        'stopped here',
      );
      expect(crash.state.stopped).toBe(true);
      // Its lease holds the org's restores, and another erasure, until the state machine's
      // failure path gives it back.
      await expect(startErasure(d, input, 'stopped-2')).rejects.toMatchObject({
        name: 'ErasureMustWaitError',
        message: expect.stringMatching(/Another erasure holds the lease of.*execution stopped-1/),
      });
      await releaseErasure(d, 'stopped-1');
      // WHEN the erasure is started again as a new execution, with a new plan
      const again = await startErasure(d, input, 'stopped-2');
      const outcome = await eraseFromPlan(d, input, again.planKey);
      // THEN every snapshot verifies, the scan is clean and no version holds her
      expect((await finishErasure(d, input, again.planKey, outcome)).traces).toBe(0);
      const reader = new SnapshotReader(d.store);
      for (const id of sc.snapshots) {
        expect(await verifySnapshot(d.store, await reader.manifest('sample', id)), id).toEqual([]);
      }
      expect(await findPerson(kept, sc, 'orgs/sample/')).toEqual([]);
    },
    120_000,
  );

  it('checks only the earlier versions of a part a stopped erasure rewrote, whose current version it keeps', async () => {
    // GIVEN an erasure that rewrote every part holding her and stopped before the manifests
    const dir = copy();
    const kept = keepingVersions(new LocalDirectoryStore(dir));
    const d = deps(dir, kept);
    const input = eraseHerById(sc, 'request 44');
    const crash = crashingStore(d, { write: (key) => key.endsWith('/manifest.json') });
    const started = await startErasure(deps(dir, crash.store), input, 'rewrote-1');
    await expect(eraseFromPlan(deps(dir, crash.store), input, started.planKey)).rejects.toThrow(
      'stopped here',
    );
    await releaseErasure(d, 'rewrote-1');
    const plan = JSON.parse(Buffer.from(await d.store.get(started.planKey)).toString('utf8')) as {
      keys: { key: string; kind: string }[];
    };
    const part = plan.keys.find((k) => k.kind === 'part')!.key;
    const versions: { versionId: string; latest: boolean }[] = [];
    for await (const v of kept.listVersions(part)) if (v.key === part) versions.push(v);
    const current = versions.find((v) => v.latest)!.versionId;
    const earlier = versions.find((v) => !v.latest)!.versionId;
    // ...and a legal hold put on one version of that part
    const held = (versionId: string) => ({
      ...d,
      versions: {
        ...kept,
        versionLock: async (key: string, id: string) =>
          key === part && id === versionId ? { legalHold: true } : kept.versionLock(key, id),
      },
    });
    // WHEN the hold is on an earlier version, which holds her: the erasure is refused, as it must be
    await expect(startErasure(held(earlier), input, 'rewrote-2')).rejects.toThrow(
      new RegExp(
        `1 version\\(s\\) the erasure would remove are locked \\(first: ${part} version ${earlier}: a legal hold is on`,
      ),
    );
    // WHEN it is on the current version, which holds nothing of hers and which the erase step keeps
    const plainPlan = await startErasure(held(current), { ...input, mode: 'dry-run' }, 'rewrote-dry');
    expect(plainPlan.lockedVersions).toBe(0);
    const again = await startErasure(held(current), input, 'rewrote-3');
    const outcome = await eraseFromPlan(held(current), input, again.planKey);
    // THEN the erasure goes through, keeping that version, and leaves no trace
    expect((await finishErasure(d, input, again.planKey, outcome)).traces).toBe(0);
    const after: string[] = [];
    for await (const v of kept.listVersions(part)) if (v.key === part) after.push(v.versionId);
    expect(after).toEqual([current]);
    expect(await findPerson(kept, sc, 'orgs/sample/')).toEqual([]);
  }, 120_000);

  it('refuses a reused execution name with another request, and changes nothing', async () => {
    // GIVEN a dry run that planned her erasure under an execution name
    const dir = copy();
    const d = deps(dir);
    await startErasure(d, { ids: [sc.person], requestedBy: 'request 44' }, 'reused');
    const before = await everyVersion(d.store, 'orgs/');
    // WHEN a confirmed erasure of another contact is started under the same name
    const other = { ids: [sc.other], requestedBy: 'request 45', mode: 'erase', confirmOrgId: sc.orgId };
    // THEN it is refused at its start and at its erase step, and nothing changed
    await expect(startErasure(d, other, 'reused')).rejects.toThrow(/not made for this request/);
    await expect(eraseFromPlan(d, other, 'orgs/sample/erasures/reused/plan.json')).rejects.toThrow(
      /not made for this request/,
    );
    // (but the org's vault lease, which the refused start took and gave back)
    expect(withoutLeases(await everyVersion(d.store, 'orgs/'))).toEqual(withoutLeases(before));
  }, 120_000);

  it('refuses to carry out a planted plan that names more keys than its request', async () => {
    // GIVEN a confirmed plan to which keys were added, with no fingerprint of a request
    const dir = copy();
    const d = deps(dir);
    const input = eraseHerById(sc, 'request 46');
    const started = await startErasure(d, input, 'planted');
    const plan = JSON.parse(new TextDecoder().decode(await d.store.get(started.planKey)));
    const { request: _request, ...planted } = {
      ...plan,
      ids: [...plan.ids, sc.other],
      keys: [...plan.keys, { key: 'orgs/sample/catalog/x.json', kind: 'text', versions: 1, rows: 0 }],
    };
    await d.store.replace(started.planKey, JSON.stringify(planted));
    const before = await everyVersion(d.store, 'orgs/');
    // WHEN it is carried out, THEN it is refused and nothing changed
    await expect(eraseFromPlan(d, input, started.planKey)).rejects.toThrow(/not made for this request/);
    expect(await everyVersion(d.store, 'orgs/')).toEqual(before);
  }, 120_000);

  it('removes the whole files entry of an erased attachment from a manifest, which still parses and verifies', async () => {
    // GIVEN a snapshot that backed up an attachment of hers: its row, and its body's entry in the manifest
    const dir = copy();
    const d = deps(dir);
    const attachment = canonical18('00P5g000000000A');
    const snapshot = sc.snapshots[0]!;
    await d.store.put(
      `orgs/sample/snapshots/${snapshot}/objects/Attachment/part-00001-eeeeeeee.csv.gz`,
      gzipSync(`"Id","ParentId","Name"\n"${attachment}","${sc.person}","letter.pdf"\n`),
    );
    const key = `orgs/sample/snapshots/${snapshot}/manifest.json`;
    const { fileLists: _lists, ...manifest } = JSON.parse(new TextDecoder().decode(await d.store.get(key)));
    // A manifest as earlier versions wrote it: format 1, every file entry its own.
    const listed = await filesOf(
      d.store,
      parseManifest(new TextDecoder().decode(await d.store.get(key)), key),
    );
    const file = {
      object: 'Attachment',
      recordId: attachment,
      field: 'Body',
      key: `orgs/sample/files/sha256/ab/${'ab'.repeat(32)}`,
      sha256: 'ab'.repeat(32),
      bytes: 3,
      downloaded: true,
    };
    await d.store.replace(
      key,
      `${JSON.stringify({ ...manifest, formatVersion: 1, files: [...listed, file] }, null, 1)}\n`,
    );
    // WHEN she and her attachment are erased
    const input = {
      ids: [sc.person, attachment],
      requestedBy: 'request 49',
      mode: 'erase',
      confirmOrgId: sc.orgId,
    };
    const started = await startErasure(d, input, 'attachment');
    const outcome = await eraseFromPlan(d, input, started.planKey);
    // THEN the manifest parses without the entry, and every snapshot verifies
    const reader = new SnapshotReader(d.store);
    const after = await reader.manifest('sample', snapshot);
    expect(after.files.map((f) => f.recordId)).not.toContain(attachment);
    expect(after.formatVersion).toBe(1);
    expect(after.files).toHaveLength(listed.length);
    for (const id of sc.snapshots) {
      expect(await verifySnapshot(d.store, await reader.manifest('sample', id)), id).toEqual([]);
    }
    expect((await finishErasure(d, input, started.planKey, outcome)).traces).toBe(0);
  }, 120_000);

  it.each([
    ['in one run', false],
    ['as a new execution after a run stopped before the manifests', true],
  ] as const)(
    'removes an erased attachment from the file list that names it, and describes the list again in the manifest, %s',
    async (_how, stop) => {
      // GIVEN a snapshot whose file list names a body of hers and a body of someone else's
      const dir = copy();
      const d = deps(dir, keepingVersions(new LocalDirectoryStore(dir)));
      const attachment = canonical18('00P5g000000000B');
      const snapshot = sc.snapshots[0]!;
      await d.store.put(
        `orgs/sample/snapshots/${snapshot}/objects/Attachment/part-00001-ffffffff.csv.gz`,
        gzipSync(`"Id","ParentId","Name"\n"${attachment}","${sc.person}","letter.pdf"\n`),
      );
      const theirs = Buffer.from('minutes of the board');
      const theirSha = createHash('sha256').update(theirs).digest('hex');
      const theirKey = `orgs/sample/files/sha256/${theirSha.slice(0, 2)}/${theirSha}`;
      await d.store.put(theirKey, theirs);
      const entry = (recordId: string, key: string, sha256: string, bytes: number) => ({
        object: 'Attachment',
        recordId,
        field: 'Body',
        key,
        sha256,
        bytes,
        downloaded: true,
      });
      const listKey = `orgs/sample/snapshots/${snapshot}/files/batch-00900.json`;
      const record = JSON.stringify({
        batch: 900,
        files: [
          entry(attachment, `orgs/sample/files/sha256/ab/${'ab'.repeat(32)}`, 'ab'.repeat(32), 3),
          entry(canonical18('00P5g000000000C'), theirKey, theirSha, theirs.length),
        ],
        apiCalls: 2,
        errors: [],
      });
      await d.store.put(listKey, record);
      const key = `orgs/sample/snapshots/${snapshot}/manifest.json`;
      const manifest = parseManifest(new TextDecoder().decode(await d.store.get(key)), key);
      expect(manifest.formatVersion).toBe(2);
      const listed = fileListOf(Buffer.from(record), listKey).list;
      await d.store.replace(
        key,
        `${JSON.stringify({ ...manifest, fileLists: [...(manifest.fileLists ?? []), listed] }, null, 1)}\n`,
      );
      // WHEN she and her attachment are erased
      const input = {
        ids: [sc.person, attachment],
        requestedBy: 'request 50',
        mode: 'erase',
        confirmOrgId: sc.orgId,
      };
      if (stop) {
        // A run that rewrote the list, then stopped before describing it in the manifest.
        const crash = crashingStore(d, { write: (key) => key.endsWith('/manifest.json') });
        const first = await startErasure(deps(dir, crash.store), input, 'attachment-list-1');
        await expect(eraseFromPlan(deps(dir, crash.store), input, first.planKey)).rejects.toThrow(
          'stopped here',
        );
        expect(fileListOf(await d.store.get(listKey), listKey).list.count).toBe(1);
        await releaseErasure(d, 'attachment-list-1');
      }
      const started = await startErasure(d, input, 'attachment-list');
      const outcome = await eraseFromPlan(d, input, started.planKey);
      // THEN the list holds only the other body, the manifest names it as it is now, and every snapshot verifies
      const reader = new SnapshotReader(d.store);
      const after = await reader.manifest('sample', snapshot);
      const now = fileListOf(await d.store.get(listKey), listKey);
      expect(now.entries.map((f) => f.key)).toEqual([theirKey]);
      expect(after.fileLists?.find((l) => l.key === listKey)).toEqual(now.list);
      expect(now.list.count).toBe(1);
      expect(outcome.manifestsRewritten).toBeGreaterThanOrEqual(1);
      const catalogEntry = JSON.parse(
        new TextDecoder().decode(await d.store.get(`orgs/sample/catalog/${snapshot}.json`)),
      );
      expect(catalogEntry.manifestSha256).toBe(
        createHash('sha256')
          .update(await d.store.get(key))
          .digest('hex'),
      );
      for (const id of sc.snapshots) {
        expect(await verifySnapshot(d.store, await reader.manifest('sample', id)), id).toEqual([]);
      }
      expect((await finishErasure(d, input, started.planKey, outcome)).traces).toBe(0);
    },
    120_000,
  );

  it('logs an erasure as started before any version is removed, and as complete at its finish', async () => {
    // GIVEN an erase step that fails at its first version removal
    const dir = copy();
    const kept = keepingVersions(new LocalDirectoryStore(dir));
    const d = deps(dir, kept);
    const input = eraseHerById(sc, 'request 50');
    const crash = crashingStore(d, { removal: true });
    const started = await startErasure(d, input, 'logged');
    await expect(eraseFromPlan(deps(dir, crash.store), input, started.planKey)).rejects.toThrow(
      'stopped here',
    );
    // THEN the log holds a started entry naming her id, the requester and the execution, no value
    const logs = async () => [...(await everyVersion(d.store, 'orgs/sample/erasures/log/')).values()];
    const [entry] = (await logs()).map((t) => JSON.parse(t));
    expect(entry).toMatchObject({
      status: 'started',
      ids: [sc.person],
      requestedBy: 'request 50',
      execution: 'logged',
    });
    expect(typeof entry.startedAt).toBe('string');
    for (const value of sc.values)
      expect(JSON.stringify(entry).toLowerCase()).not.toContain(value.toLowerCase());
    // WHEN the erasure is run again and finishes, THEN the same entry is complete
    const outcome = await eraseFromPlan(d, input, started.planKey);
    const finished = await finishErasure(d, input, started.planKey, outcome);
    const after = (await logs()).map((t) => JSON.parse(t));
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ status: 'complete', startedAt: entry.startedAt, execution: 'logged' });
    expect(finished.logKey.endsWith('-logged.json')).toBe(true);
  }, 120_000);

  it('says in the log how an erasure that began ended: failed with its error by name, or unfinished as a later one finds it', async () => {
    const { dir, d, input } = await keptVersionsAndRequest();
    const entryOf = async (execution: string) => {
      for await (const { key } of d.store.list('orgs/sample/erasures/log/'))
        if (key.endsWith(`-${execution}.json`))
          return JSON.parse(new TextDecoder().decode(await d.store.get(key)));
      throw new Error(`no log entry of ${execution}`);
    };
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      // GIVEN an erasure whose erase step failed at its first removal, its failure path run
      const failed = await startErasure(d, input, 'erase-failed');
      await expect(
        eraseFromPlan(deps(dir, crashingStore(d, { removal: true }).store), input, failed.planKey),
      ).rejects.toThrow('stopped here');
      await releaseErasure(d, 'erase-failed', 'States.TaskFailed');
      // THEN its entry says it failed, with the error's name, and keeps who asked and when it began
      const failedEntry = await entryOf('erase-failed');
      expect(failedEntry).toMatchObject({
        status: 'failed',
        error: 'States.TaskFailed',
        execution: 'erase-failed',
        requestedBy: 'dpo@example.com',
        ids: [canonical18(sc.person)],
      });
      expect(Date.parse(failedEntry.failedAt)).toBeGreaterThanOrEqual(Date.parse(failedEntry.startedAt));
      // GIVEN one stopped from the console in its erase step (no failure path), its leases lapsed
      const stopped = await startErasure(d, input, 'erase-stopped');
      await expect(
        eraseFromPlan(deps(dir, crashingStore(d, { removal: true }).store), input, stopped.planKey),
      ).rejects.toThrow('stopped here');
      expect(await entryOf('erase-stopped')).toMatchObject({ status: 'started' });
      hoursLater(2);
      // WHEN a new execution erases her and finishes
      const again = await startErasure(d, input, 'erase-again');
      const finished = await finishErasure(
        d,
        input,
        again.planKey,
        await eraseFromPlan(d, input, again.planKey),
      );
      expect(finished).toMatchObject({ traces: 0 });
      // THEN the stopped one's entry is unfinished, naming who found it so; the failed one's stays
      const unfinished = await entryOf('erase-stopped');
      expect(unfinished).toMatchObject({
        status: 'unfinished',
        noticedBy: 'erase-again',
        execution: 'erase-stopped',
      });
      expect(Date.parse(unfinished.noticedAt)).toBeGreaterThan(Date.parse(unfinished.startedAt));
      expect(await entryOf('erase-failed')).toEqual(failedEntry);
      expect(await entryOf('erase-again')).toMatchObject({ status: 'complete' });
      // AND no entry holds a value of hers
      for (const text of (await everyVersion(d.store, 'orgs/sample/erasures/log/')).values())
        for (const value of sc.values) expect(text.toLowerCase()).not.toContain(value.toLowerCase());
    } finally {
      vi.useRealTimers();
    }
  }, 180_000);

  it('names only the error of a failed erasure, never a message passed in its place', async () => {
    const { dir, d, input } = await keptVersionsAndRequest();
    const started = await startErasure(d, input, 'erase-message');
    await expect(
      eraseFromPlan(deps(dir, crashingStore(d, { removal: true }).store), input, started.planKey),
    ).rejects.toThrow('stopped here');
    // Her e-mail address, alone: no name is shaped like it.
    const email = sc.values.find((v) => v.includes('@'))!;
    await releaseErasure(d, 'erase-message', email);
    const texts = [...(await everyVersion(d.store, 'orgs/sample/erasures/log/')).values()];
    const current = [];
    for await (const { key } of d.store.list('orgs/sample/erasures/log/'))
      current.push(JSON.parse(new TextDecoder().decode(await d.store.get(key))));
    expect(current).toEqual([expect.objectContaining({ status: 'failed', error: 'unknown' })]);
    for (const text of texts) expect(text.toLowerCase()).not.toContain(email.toLowerCase());
  }, 120_000);

  it('keeps true the manifest of a run that stopped before writing its catalog entry', async () => {
    // GIVEN a vault in which the second snapshot's run never wrote its catalog entry
    const dir = copy();
    const d = deps(dir);
    rmSync(join(dir, 'orgs', 'sample', 'catalog', `${sc.snapshots[1]}.json`));
    const input = eraseHerById(sc);
    // While its last heartbeat is live, the run may still be going: the erasure waits for it.
    await expect(startErasure(d, input, 'no-catalog-early')).rejects.toThrow(
      new RegExp(`A backup of org sample is running: snapshot ${sc.snapshots[1]} `),
    );
    // WHEN she is erased once its heartbeat has expired (two hours later)
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 2 * 3_600_000 });
    try {
      const started = await startErasure(d, input, 'no-catalog');
      expect(started.snapshots).toBe(4);
      const outcome = await eraseFromPlan(d, input, started.planKey);
      // THEN that snapshot's manifest describes its rewritten part too
      const manifest = await new SnapshotReader(d.store).manifest('sample', sc.snapshots[1]!);
      expect(await verifySnapshot(d.store, manifest)).toEqual([]);
      expect((await finishErasure(d, input, started.planKey, outcome)).traces).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  }, 120_000);

  it('plans, erases and scans one key at a time when each invocation is out of time, and ends where one long invocation ends', async () => {
    const [whole, sliced] = [copy(), copy()];
    const input = eraseHerByEmail(sc);
    // In one go.
    const a = deps(whole);
    const startedA = await startErasure(a, input, 'erase-whole');
    const outcomeA = await eraseFromPlan(a, input, startedA.planKey);
    const logA = await finishErasure(a, input, startedA.planKey, outcomeA);
    // With a deadline already past: every call does one key (or one record) and stops.
    // (its passes read versions through a store of their own: the reads of `store` are the steps' own)
    const b = { ...deps(sliced, new LocalDirectoryStore(sliced)), deadline: new Date(0) };
    const calls = { plan: 0, erase: 0, scan: 0 };
    const catalogReads = vi.spyOn(b.store, 'get');
    let started = await steps.startErasure(b, input, 'erase-sliced');
    for (calls.plan = 1; !started.done; calls.plan++)
      started = await steps.startErasure(b, input, 'erase-sliced');
    // The catalog (its org ids: the confirmation, the leases' roots, the answer) is read once an
    // invocation at most.
    const catalogGets = catalogReads.mock.calls.filter(([key]) => key.startsWith('orgs/sample/catalog/'));
    catalogReads.mockRestore();
    const entries = (await everyVersion(b.store, 'orgs/sample/catalog/')).size;
    expect(entries).toBeGreaterThan(0);
    expect(catalogGets).toHaveLength(calls.plan * entries);
    let erased = await steps.eraseFromPlan(b, input, started.planKey);
    for (calls.erase = 1; !erased.done; calls.erase++)
      erased = await steps.eraseFromPlan(b, input, started.planKey);
    const { done: _, ...outcomeB } = erased;
    let scanned = await steps.finishErasure(b, input, started.planKey, outcomeB);
    for (calls.scan = 1; !scanned.done; calls.scan++)
      scanned = await steps.finishErasure(b, input, started.planKey, outcomeB);

    const keys = (await everyVersion(b.store, 'orgs/sample/')).size;
    // Four passes over the vault to plan (ids, id maps, her values, keys), one to scan.
    expect(calls.plan).toBeGreaterThan(3 * (keys / 2));
    expect(calls.scan).toBeGreaterThan(keys / 2);
    expect(calls.erase).toBeGreaterThan(10);
    const { done: __, ...summaryB } = started;
    const { done: ___, ...summaryA } = startedA;
    expect({ ...summaryB, planKey: '', execution: '' }).toEqual({ ...summaryA, planKey: '', execution: '' });
    expect(outcomeB).toEqual(outcomeA);
    expect(outcomeB.rowsRemoved).toBe(4);
    expect(scanned).toMatchObject({ traces: 0, versionsScanned: logA.versionsScanned });
    const planOf = async (store: LocalDirectoryStore, key: string) => {
      const { createdAt, execution, request, ...plan } = JSON.parse(
        new TextDecoder().decode(await store.get(key)),
      );
      return plan;
    };
    expect(await planOf(b.store, started.planKey)).toEqual(await planOf(a.store, startedA.planKey));
    // The same records, byte for byte (erasure records and leases aside), and no progress left.
    const records = async (store: LocalDirectoryStore) =>
      new Map(
        [...(await everyVersion(store, ''))].filter(
          ([key]) => !key.startsWith('orgs/sample/erasures/') && !key.includes('/lease/'),
        ),
      );
    expect(await records(b.store)).toEqual(await records(a.store));
    expect(
      [...(await everyVersion(b.store, 'orgs/sample/erasures/')).keys()].filter((k) =>
        k.includes('/progress/'),
      ),
    ).toEqual([]);
  }, 180_000);

  it('goes on with a plan in the making only for its own request, and forgets its progress when the execution ends', async () => {
    const dir = copy();
    const d = { ...deps(dir), deadline: new Date(0) };
    const input = { object: 'Contact', where: { Email: sc.email }, requestedBy: 'dpo@example.com' };
    const progressKey = 'orgs/sample/erasures/dry-stopped/progress/plan.json';
    for (let i = 0; i < 5; i++)
      expect(await steps.startErasure(d, input, 'dry-stopped')).toMatchObject({ done: false });
    const progress = new TextDecoder().decode(await d.store.get(progressKey));
    // Ids, keys and digests only: never her e-mail address.
    expect(progress).not.toContain(sc.email);
    expect(progress.toLowerCase()).not.toContain(sc.email.toLowerCase());
    // Another request under the same execution name is refused, the progress left as it was.
    await expect(
      steps.startErasure(d, { ...input, where: { Email: 'someone.else@example.com' } }, 'dry-stopped'),
    ).rejects.toThrow(/was not made for this request/);
    expect(new TextDecoder().decode(await d.store.get(progressKey))).toBe(progress);
    // The execution stopped (the workflow's release state): its progress goes.
    await releaseErasure(d, 'dry-stopped');
    expect(await d.store.head(progressKey)).toBeUndefined();
    // Nothing left but the list of what went, naming the progress record.
    const left = await everyVersion(d.store, 'orgs/sample/erasures/');
    expect([...left.keys()].every((k) => k.startsWith('orgs/sample/erasures/dry-stopped/removed/'))).toBe(
      true,
    );
    expect([...left.values()].map((text) => JSON.parse(text).key)).toEqual([progressKey]);
  }, 120_000);

  it('checks the org id of a real run once, and again for progress made under another', async () => {
    const dir = copy();
    const d = { ...deps(dir), deadline: new Date(0) };
    const input = eraseHerById(sc);
    const progressKey = 'orgs/sample/erasures/erase-confirmed/progress/plan.json';
    for (let i = 0; i < 3; i++)
      expect(await steps.startErasure(d, input, 'erase-confirmed')).toMatchObject({ done: false });
    expect(JSON.parse(new TextDecoder().decode(await d.store.get(progressKey)))).toMatchObject({
      confirmedOrgId: sc.orgId,
    });
    // The same request naming another org, under the same execution name: checked, and refused.
    await expect(
      steps.startErasure(d, { ...input, confirmOrgId: '00D000000000001AAA' }, 'erase-confirmed'),
    ).rejects.toMatchObject({
      name: 'InvalidEraseRequestError',
      problems: [expect.objectContaining({ field: 'confirmOrgId' })],
    });
    await releaseErasure(d, 'erase-confirmed');
  }, 120_000);

  it("forgets a long plan's progress when the plan is refused, and refuses the erasure log's folder as an execution name", async () => {
    const dir = copy();
    const d = { ...deps(dir), deadline: new Date(0) };
    // A stopped restore's open batch holds her: the checks at the end of the plan refuse the erasure.
    await d.store.put(
      `restores/sample/${sc.orgId}/intents/Contact/0001.json`,
      JSON.stringify({ batch: '0001', rows: [{ oldId: sc.person, values: { LastName: 'Martin' } }] }),
    );
    const input = eraseHerById(sc);
    let calls = 0;
    const refused = async () => {
      for (;;) {
        calls++;
        if (!(await steps.startErasure(d, input, 'erase-refused')).done) continue;
        return 'planned';
      }
    };
    await expect(refused()).rejects.toThrow(/stopped part way/);
    expect(calls).toBeGreaterThan(10);
    // Its progress held the digests of her values: every version of it is gone, listed as removed.
    const left = await everyVersion(d.store, 'orgs/sample/erasures/');
    expect([...left.keys()].every((k) => k.startsWith('orgs/sample/erasures/erase-refused/removed/'))).toBe(
      true,
    );
    expect([...left.values()].map((text) => JSON.parse(text).key)).toEqual([
      'orgs/sample/erasures/erase-refused/progress/plan.json',
    ]);
    // A plan that lost its lease between two invocations is refused, and forgets its progress too.
    for (let i = 0; i < 3; i++)
      expect(await steps.startErasure(d, input, 'erase-lost')).toMatchObject({ done: false });
    expect(await d.store.head('orgs/sample/erasures/erase-lost/progress/plan.json')).toBeDefined();
    await releaseRestoreLeases(d.store, 'sample', 'erase-lost');
    await expect(steps.startErasure(d, input, 'erase-lost')).rejects.toThrow(/no longer holds a lease/);
    expect(
      [...(await everyVersion(d.store, 'orgs/sample/erasures/')).values()]
        .map((text) => JSON.parse(text).key)
        .sort(),
    ).toEqual([
      'orgs/sample/erasures/erase-lost/progress/plan.json',
      'orgs/sample/erasures/erase-refused/progress/plan.json',
    ]);
    await expect(steps.startErasure(d, { ...input, mode: 'dry-run' }, 'log')).rejects.toThrow(
      /cannot name a vault folder \(it is the erasure log's\)/,
    );
  }, 120_000);

  it('describes again a part rewritten by a stopped erasure of someone else, which its own plan does not name', async () => {
    const dir = copy();
    const d = deps(dir);
    // An erasure of another record stopped after rewriting an Account part, before its manifests.
    const reader = new SnapshotReader(d.store);
    const manifest = await reader.manifest('sample', sc.snapshots[0]!);
    const part = manifest.objects.find((o) => o.name === 'Account')!.parts[0]!;
    const { gunzipSync } = await import('node:zlib');
    const lines = gunzipSync(await d.store.get(part.key))
      .toString('utf8')
      .split('\n');
    await d.store.replace(part.key, gzipSync(`${[lines[0], ...lines.slice(2)].join('\n')}`));
    expect(await verifySnapshot(d.store, manifest)).not.toEqual([]);
    // WHEN she is erased, a request that never names that part
    const input = eraseHerById(sc);
    const started = await startErasure(d, input, 'erase-after-other');
    expect(JSON.stringify(started)).not.toContain(part.key);
    await finishErasure(d, input, started.planKey, await eraseFromPlan(d, input, started.planKey));
    // THEN that snapshot's manifest describes the part as stored, and it verifies
    expect(await verifySnapshot(d.store, await reader.manifest('sample', sc.snapshots[0]!))).toEqual([]);
  }, 120_000);
});
