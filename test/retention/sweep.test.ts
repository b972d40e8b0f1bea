import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../contract/workflow-contract.ts';
import type { RemovingStore } from '../../lambdas/core/removing-store.ts';
import {
  RetentionCatalogUnreadableError,
  type SweepCursor,
  type SweepOutput,
  sweepOrg,
} from '../../lambdas/core/retention/sweep.ts';
import { catalogKey, manifestKey, snapshotPrefix } from '../../lambdas/core/snapshot/keys.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { filesOf } from '../support/snapshot-files.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { acquireLease, releaseLease } from '../../lambdas/core/restore/lease.ts';
import {
  backupHeartbeat,
  endSweepTurn,
  SWEEP_TURN_CHECK_MS,
  vaultLeaseRoot,
} from '../../lambdas/core/vault-lease.ts';
import { baseFields, FakeSource } from '../backup/fake-source.ts';
import { MemoryStore } from '../backup/memory-store.ts';
import { runCore } from '../backup/run-core.ts';

const DAY_MS = 86_400_000;
const FIRST = Date.parse('2026-11-01T02:00:00.000Z'); // a Sunday
const at = (day: number, hour = 2) => new Date(FIRST + day * DAY_MS + (hour - 2) * 3_600_000);
const POLICY: RetentionPolicy = { daily: 2, weekly: 0, monthly: 0, yearly: 0 };
const SECRET = 'Confidential customer name';

/** Full backups on `days` days of an org whose one account holds a value that must never be logged. */
async function vaultOf(days: number): Promise<{ store: MemoryStore; ids: string[]; source: FakeSource }> {
  const store = new MemoryStore();
  const source = new FakeSource([
    {
      name: 'Account',
      fields: baseFields,
      rows: [
        { Id: '001000000000001AAA', Name: SECRET, IsDeleted: 'false', SystemModstamp: at(-1).toISOString() },
      ],
    },
  ]);
  const ids: string[] = [];
  for (let day = 0; day < days; day++) {
    const run = await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () =>
      at(day),
    );
    ids.push(run.finish.snapshotId);
  }
  return { store, ids, source };
}

/** A record a sweep keeps beside its log entry, in the folder named like it. */
const sweepRecord = (logKey: string, name: string) => `${logKey.replace(/\.json$/, '')}/${name}.json`;

async function keysUnder(store: MemoryStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys;
}

/** A remover that stops the process (throws) after `limit` removals, as a crash mid-sweep would. */
class CrashingRemover implements RemovingStore {
  readonly location = 'memory://';
  removals = 0;
  constructor(
    private readonly store: MemoryStore,
    private readonly limit: number,
  ) {}
  async remove(key: string): Promise<void> {
    if (this.removals++ >= this.limit) throw new Error('the function was stopped');
    await this.store.remove(key);
  }
}

describe('the retention sweep', () => {
  it('writes its log first, with ids, reasons and counts but no record value, then removes what expired', async () => {
    const { store, ids } = await vaultOf(5);
    const out = await sweepOrg(
      { store, remover: store, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(out).toMatchObject({ done: true, kept: 2, expired: 3, removedFileBodies: 0 });
    expect(out.logKey).toBe('orgs/acme/retention/20261105T030000000Z-exec-1.json');
    const log = store.text(out.logKey!);
    expect(log).not.toContain(SECRET);
    const entry = JSON.parse(log) as {
      expired: { snapshotId: string; reasons: string[] }[];
      counts: unknown;
    };
    expect(entry.expired.map((d) => d.snapshotId)).toEqual(ids.slice(0, 3));
    expect(entry.counts).toEqual({ kept: 2, expired: 3, fileBodiesToRemove: 0 });
    // The log went in before the first removal, and each snapshot lost its catalog entry and manifest first.
    const firstRemoved = store.removed.slice(0, 2);
    expect(firstRemoved).toEqual([catalogKey('acme', ids[0]!), manifestKey('acme', ids[0]!)]);
    for (const id of ids.slice(0, 3)) expect(await keysUnder(store, snapshotPrefix('acme', id))).toEqual([]);
    expect((await new SnapshotReader(store).catalog('acme')).map((e) => e.snapshotId)).toEqual(ids.slice(3));
  });

  it('writes no log and removes nothing when nothing expired', async () => {
    const { store } = await vaultOf(2);
    const out = await sweepOrg(
      { store, remover: store, clock: () => at(1, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(out).toMatchObject({ done: true, logKey: null, expired: 0 });
    expect(store.removed).toEqual([]);
  });

  it('finishes, when run again, a sweep that stopped mid-way, and no snapshot looks restorable in between', async () => {
    const { store, ids, source } = await vaultOf(4);
    // A second run on the last day, after the first: the policy keeps only the newer one, so the
    // earlier one expires though it is more recent than every cut-off for unfinished runs.
    const late = await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () =>
      at(3, 9),
    );
    const early = ids[3]!;
    let before = 0;
    for (const id of ids.slice(0, 2))
      before += 1 + (await keysUnder(store, snapshotPrefix('acme', id))).length;
    const crashing = new CrashingRemover(store, before + 3);
    await expect(
      sweepOrg(
        { store, remover: crashing, clock: () => at(3, 10) },
        { org: 'acme', policy: POLICY, execution: 'exec-1' },
      ),
    ).rejects.toThrow('the function was stopped');
    // The early run lost its catalog entry, manifest and one more object: not restorable, not listed.
    const catalog = (await new SnapshotReader(store).catalog('acme')).map((e) => e.snapshotId);
    expect(catalog).toEqual([ids[2], late.finish.snapshotId]);
    expect(await store.head(manifestKey('acme', early))).toBeUndefined();
    expect((await keysUnder(store, snapshotPrefix('acme', early))).length).toBeGreaterThan(0);

    // No catalog entry names it any more and it is hours old: the stopped sweep's log marks it expired.
    const again = await sweepOrg(
      { store, remover: store, clock: () => at(3, 11) },
      { org: 'acme', policy: POLICY, execution: 'exec-2' },
    );
    expect(again.done).toBe(true);
    expect(await keysUnder(store, snapshotPrefix('acme', early))).toEqual([]);
    const decisions = JSON.parse(store.text(again.logKey!)) as {
      expired: { snapshotId: string; reasons: string[] }[];
    };
    expect(decisions.expired).toEqual([
      {
        snapshotId: early,
        action: 'expire',
        state: 'unfinished',
        reasons: ['a sweep expired it and did not finish removing it'],
      },
    ]);
    expect((await new SnapshotReader(store).catalog('acme')).map((e) => e.snapshotId)).toEqual([
      ids[2],
      late.finish.snapshotId,
    ]);
  });

  it('refuses, removing nothing, a retention log entry it cannot read while a run without a catalog entry may be in it', async () => {
    const { store } = await vaultOf(3);
    await store.put(`${snapshotPrefix('acme', '20261101T050000000Z-zzzzzz')}plan.json`, '{}');
    await store.put('orgs/acme/retention/20261101T060000000Z-exec-0.json', 'not json');
    const refused = sweepOrg(
      { store, remover: store, clock: () => at(2, 3) },
      { org: 'acme', policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0 }, execution: 'exec-1' },
    );
    await expect(refused).rejects.toBeInstanceOf(RetentionCatalogUnreadableError);
    await expect(refused).rejects.toThrow(
      /retention log of org acme holds entries that are not log entries \(orgs\/acme\/retention\/20261101T060000000Z-exec-0\.json\).*nothing was expired/,
    );
    expect(store.removed).toEqual([]);
  });

  it('stops at its deadline and continues on the next run', async () => {
    const { store, ids } = await vaultOf(5);
    let ticks = 0;
    const clock = () => new Date(at(4, 3).getTime() + ticks++ * 1000);
    const first = await sweepOrg(
      { store, remover: store, clock, deadline: new Date(at(4, 3).getTime() + 4_000) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(first.done).toBe(false);
    const second = await sweepOrg(
      { store, remover: store, clock: () => at(4, 5) },
      { org: 'acme', policy: POLICY, execution: 'exec-2' },
    );
    expect(second.done).toBe(true);
    for (const id of ids.slice(0, 3)) expect(await keysUnder(store, snapshotPrefix('acme', id))).toEqual([]);
  });

  it('removes nothing while an erasure holds the org vault lease, and sweeps once the erasure gave it back', async () => {
    const { store, ids } = await vaultOf(5);
    const now = () => at(4, 3).getTime();
    await acquireLease(store, vaultLeaseRoot('acme'), 'erasure-dpo-1', { now, sleep: async () => {} });
    const held = await sweepOrg(
      { store, remover: store, clock: () => at(4, 3), sleep: async () => {} },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(held).toMatchObject({ done: true, heldBy: 'erasure-dpo-1', expired: 0, logKey: null });
    expect(store.removed).toEqual([]);
    expect(await keysUnder(store, 'orgs/acme/retention/')).toEqual([]);
    await releaseLease(store, vaultLeaseRoot('acme'), 'erasure-dpo-1', now);
    const swept = await sweepOrg(
      { store, remover: store, clock: () => at(4, 3), sleep: async () => {} },
      { org: 'acme', policy: POLICY, execution: 'exec-2' },
    );
    expect(swept).toMatchObject({ done: true, heldBy: null, expired: 3 });
    for (const id of ids.slice(0, 3)) expect(await keysUnder(store, snapshotPrefix('acme', id))).toEqual([]);
    // Its end gave the lease back: an erasure may take it.
    await expect(
      acquireLease(store, vaultLeaseRoot('acme'), 'erasure-dpo-2', { now, sleep: async () => {} }),
    ).resolves.toMatchObject({ runId: 'erasure-dpo-2' });
  });

  it('keeps the lease from one invocation of a sweep to the next, so that no erasure starts in between', async () => {
    const { store } = await vaultOf(5);
    let ticks = 0;
    const clock = () => new Date(at(4, 3).getTime() + ticks++ * 1000);
    const first = await sweepOrg(
      { store, remover: store, clock, deadline: new Date(at(4, 3).getTime() + 4_000), sleep: async () => {} },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(first.done).toBe(false);
    const now = () => clock().getTime();
    await expect(
      acquireLease(store, vaultLeaseRoot('acme'), 'erasure-dpo-1', { now, sleep: async () => {} }),
    ).rejects.toThrow(/sweep-exec-1/);
    // Another sweep (the daily one beside the one after a backup) leaves it to the first.
    const other = await sweepOrg(
      { store, remover: store, clock, sleep: async () => {} },
      { org: 'acme', policy: POLICY, execution: 'exec-2' },
    );
    expect(other).toMatchObject({ done: true, heldBy: 'sweep-exec-1', removedObjects: 0 });
    const rest = await sweepOrg(
      { store, remover: store, clock, sleep: async () => {} },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(rest).toMatchObject({ done: true, heldBy: null });
  });

  it('sweeps again, removing nothing more, when an invocation that ended the sweep is retried', async () => {
    const { store, ids } = await vaultOf(5);
    const deps = { store, remover: store, clock: () => at(4, 3), sleep: async () => {} };
    const input = { org: 'acme', policy: POLICY, execution: 'exec-1' };
    expect(await sweepOrg(deps, input)).toMatchObject({ done: true, heldBy: null, expired: 3 });
    const removed = store.removed.length;
    // The same invocation again, as Step Functions retries one whose answer was lost.
    const retried = await sweepOrg(deps, input);
    expect(retried).toMatchObject({ done: true, heldBy: null, expired: 0, removedObjects: 0 });
    expect(store.removed).toHaveLength(removed);
    expect((await new SnapshotReader(store).catalog('acme')).map((e) => e.snapshotId)).toEqual(ids.slice(3));
    // ...and gives its turn back: an erasure may take the lease.
    await expect(
      acquireLease(store, vaultLeaseRoot('acme'), 'erasure-dpo-1', {
        now: () => at(4, 3).getTime(),
        sleep: async () => {},
      }),
    ).resolves.toMatchObject({ runId: 'erasure-dpo-1' });
  });

  /** A remover on a clock that moves 4 s a removal, running `after(n)` after the n-th removal. */
  const slowRemover = (
    store: MemoryStore,
    clock: { now: number },
    after: (n: number) => Promise<void>,
    step = 4_000,
  ) => {
    let removals = 0;
    const remover: RemovingStore & { removals: () => number } = {
      location: 'memory://',
      removals: () => removals,
      async remove(key) {
        await store.remove(key);
        await after(++removals);
        clock.now += step;
      },
    };
    return remover;
  };

  it('stops removing, within seconds, once its execution has failed and its release step gave the turn back', async () => {
    const { store } = await vaultOf(5);
    const clock = { now: at(4, 3).getTime() };
    // An invocation still running when the workflow gave up on it: after its second removal, the
    // execution's release step runs, and time goes on.
    const remover = slowRemover(store, clock, async (n) => {
      if (n === 2) await endSweepTurn(store, 'acme', 'exec-late', () => clock.now, true);
    });
    const deps = { store, remover, clock: () => new Date(clock.now), sleep: async () => {} };
    const input = { org: 'acme', policy: POLICY, execution: 'exec-late' };
    // It stops as if out of time, with what it removed, at most one check's worth (10 s, a removal
    // every 4 s) after the turn was given back.
    const late = await sweepOrg(deps, input);
    expect(late).toMatchObject({ done: false, heldBy: null });
    expect(late.removedObjects).toBe(remover.removals());
    expect(remover.removals()).toBeGreaterThan(2);
    expect(remover.removals()).toBeLessThanOrEqual(2 + Math.ceil(SWEEP_TURN_CHECK_MS / 4_000));
    // An erasure may take the org meanwhile, and the invocation after it removes nothing more.
    await expect(
      acquireLease(store, vaultLeaseRoot('acme'), 'erasure-dpo-9', {
        now: () => clock.now,
        sleep: async () => {},
      }),
    ).resolves.toMatchObject({ runId: 'erasure-dpo-9' });
    const removed = remover.removals();
    expect(await sweepOrg(deps, { ...input, cursor: late.cursor! })).toMatchObject({
      done: true,
      heldBy: 'erasure-dpo-9',
    });
    // Once the erasure has ended, a further late invocation finds its execution ended.
    await releaseLease(store, vaultLeaseRoot('acme'), 'erasure-dpo-9', () => clock.now);
    await expect(sweepOrg(deps, { ...input, cursor: late.cursor! })).rejects.toThrow(
      /Execution exec-late of the retention sweep of org acme has failed/,
    );
    expect(remover.removals()).toBe(removed);
  });

  it('sweeps to its end on the same clock while its turn stays its own, reading the lease every ten seconds', async () => {
    const { store, ids } = await vaultOf(5);
    const clock = { now: at(4, 3).getTime() };
    const remover = slowRemover(store, clock, async () => {});
    const out = await sweepOrg(
      { store, remover, clock: () => new Date(clock.now), sleep: async () => {} },
      { org: 'acme', policy: POLICY, execution: 'exec-healthy' },
    );
    expect(out).toMatchObject({ done: true, heldBy: null, expired: 3 });
    expect(remover.removals() * 4_000).toBeGreaterThan(3 * SWEEP_TURN_CHECK_MS);
    for (const id of ids.slice(0, 3)) expect(await keysUnder(store, snapshotPrefix('acme', id))).toEqual([]);
  });

  it('stops removing once its turn has lapsed, which no invocation of a working sweep reaches', async () => {
    const { store } = await vaultOf(5);
    const clock = { now: at(4, 3).getTime() };
    // 25 minutes a removal: the turn, renewed for an hour when the invocation began, lapses.
    const remover = slowRemover(store, clock, async () => {}, 25 * 60_000);
    const out = await sweepOrg(
      { store, remover, clock: () => new Date(clock.now), sleep: async () => {} },
      { org: 'acme', policy: POLICY, execution: 'exec-slow' },
    );
    expect(out).toMatchObject({ done: false });
    expect(remover.removals()).toBe(3);
  });

  it("stops removing once an erasure's claim is the lease's holder, and leaves the work to a later sweep", async () => {
    const { store } = await vaultOf(5);
    const clock = { now: at(4, 3).getTime() };
    // The sweep's claim given back on its second removal (as a lapse would), an erasure then takes the org.
    const remover = slowRemover(store, clock, async (n) => {
      if (n !== 2) return;
      await releaseLease(store, vaultLeaseRoot('acme'), 'sweep-exec-3', () => clock.now);
      await acquireLease(store, vaultLeaseRoot('acme'), 'erasure-dpo-3', {
        now: () => clock.now,
        sleep: async () => {},
      });
    });
    const deps = { store, remover, clock: () => new Date(clock.now), sleep: async () => {} };
    const input = { org: 'acme', policy: POLICY, execution: 'exec-3' };
    const first = await sweepOrg(deps, input);
    expect(first).toMatchObject({ done: false });
    const removed = remover.removals();
    // The next invocation finds the erasure holding the org: done, nothing more removed.
    expect(await sweepOrg(deps, { ...input, cursor: first.cursor! })).toMatchObject({
      done: true,
      heldBy: 'erasure-dpo-3',
    });
    expect(remover.removals()).toBe(removed);
  });

  it('refuses to run, removing nothing, when a catalog entry cannot be read', async () => {
    const { store, ids } = await vaultOf(5);
    store.objects.set(catalogKey('acme', ids[1]!), new TextEncoder().encode('{"truncated'));
    const sweep = sweepOrg(
      { store, remover: store, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    await expect(sweep).rejects.toThrow(RetentionCatalogUnreadableError);
    await expect(sweep).rejects.toThrow(/1 of 5 catalog entries of org acme could not be read/);
    expect(store.removed).toEqual([]);
    expect(await keysUnder(store, 'orgs/acme/retention/')).toEqual([]);
  });

  it('never expires the snapshot the latest pointer names', async () => {
    const { store, ids } = await vaultOf(5);
    store.objects.set(
      'orgs/acme/latest-complete.json',
      new TextEncoder().encode(JSON.stringify({ snapshotId: ids[0] })),
    );
    const out = await sweepOrg(
      { store, remover: store, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(out.expired).toBe(2);
    expect((await new SnapshotReader(store).catalog('acme')).map((e) => e.snapshotId)).toEqual([
      ids[0],
      ids[3],
      ids[4],
    ]);
  });
});

/** A remover that runs `hook` once, right after the removal `when` picks, as a backup starting mid-sweep would. */
class HookedRemover implements RemovingStore {
  readonly location = 'memory://';
  private fired = false;
  constructor(
    private readonly store: MemoryStore,
    private readonly when: (key: string) => boolean,
    private readonly hook: () => Promise<void>,
  ) {}
  async remove(key: string): Promise<void> {
    await this.store.remove(key);
    if (!this.fired && this.when(key)) {
      this.fired = true;
      await this.hook();
    }
  }
}

describe('the retention sweep and a backup that starts while it runs', () => {
  const file = {
    Id: '068000000000001AAA',
    Name: 'contract.pdf',
    IsDeleted: 'false',
    SystemModstamp: at(-1).toISOString(),
    Checksum: null,
  };
  /** S0 holds the file's body, S1 does not hold the file: a sweep keeping one daily snapshot removes the body. */
  async function vaultWithBody(): Promise<{ store: MemoryStore; source: FakeSource; body: string }> {
    const store = new MemoryStore();
    const source = new FakeSource([
      {
        name: 'ContentVersion',
        fields: [
          ...baseFields,
          { name: 'Checksum', type: 'string' },
          { name: 'VersionData', type: 'base64' },
        ],
        rows: [{ ...file }],
      },
    ]);
    source.setBlob('ContentVersion', file.Id, 'the contract');
    const s0 = await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () =>
      at(0),
    );
    const body = (
      await filesOf(store, await new SnapshotReader(store).manifest('acme', s0.finish.snapshotId))
    )[0]!.key;
    source.object('ContentVersion').rows.length = 0;
    await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () => at(1));
    return { store, source, body };
  }

  for (const [moment, when] of [
    ['after its first removal', () => true],
    ['after it removed the index entry naming the body', (key: string) => key.includes('/files/index/')],
  ] as const) {
    it(`leaves the body to a later sweep when the backup reusing it starts ${moment}`, async () => {
      const { store, source, body } = await vaultWithBody();
      let s2 = '';
      const remover = new HookedRemover(store, when, async () => {
        source.object('ContentVersion').rows.push({ ...file });
        const run = await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () =>
          at(1, 4),
        );
        s2 = run.finish.snapshotId;
      });
      const out = await sweepOrg(
        { store, remover, clock: () => at(1, 3) },
        { org: 'acme', policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0 }, execution: 'exec-1' },
      );
      expect(s2).not.toBe('');
      expect(out).toMatchObject({ expired: 1, fileBodiesDeferred: true, removedFileBodies: 0 });
      const reader = new SnapshotReader(store);
      expect((await reader.catalog('acme')).find((e) => e.snapshotId === s2)?.status).toBe('complete');
      const manifest = await reader.manifest('acme', s2);
      expect((await filesOf(store, manifest)).map((f) => f.key)).toEqual([body]);
      expect(await verifySnapshot(store, manifest)).toEqual([]);
      const deferred = JSON.parse(store.text(sweepRecord(out.logKey!, 'deferred'))) as {
        runs: string[];
      };
      expect(deferred.runs).toEqual([s2]);
    });
  }

  it('removes the index entries naming a body before the body', async () => {
    const { store, body } = await vaultWithBody();
    const out = await sweepOrg(
      { store, remover: store, clock: () => at(1, 3) },
      { org: 'acme', policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0 }, execution: 'exec-1' },
    );
    expect(out).toMatchObject({ removedFileBodies: 1, removedFileIndexEntries: 1 });
    const index = store.removed.findIndex((k) => k.includes('/files/index/'));
    expect(index).toBeGreaterThanOrEqual(0);
    expect(store.removed.indexOf(body)).toBeGreaterThan(index);
  });
});

describe('the retention sweep and runs that stopped without a manifest', () => {
  const POLICY_7: RetentionPolicy = { daily: 7, weekly: 0, monthly: 0, yearly: 0 };
  /** Ten daily full backups whose file changes every day, so each day's body but the newest 7 are unreferenced. */
  async function vaultOfBodies(): Promise<{ store: MemoryStore; ids: string[]; bodies: string[] }> {
    const store = new MemoryStore();
    const row = {
      Id: '068000000000001AAA',
      Name: 'contract.pdf',
      IsDeleted: 'false',
      SystemModstamp: at(-1).toISOString(),
      Checksum: null,
    };
    const source = new FakeSource([
      {
        name: 'ContentVersion',
        fields: [
          ...baseFields,
          { name: 'Checksum', type: 'string' },
          { name: 'VersionData', type: 'base64' },
        ],
        rows: [row],
      },
    ]);
    const ids: string[] = [];
    const bodies: string[] = [];
    for (let day = 0; day < 10; day++) {
      row.SystemModstamp = at(day, 1).toISOString();
      source.setBlob('ContentVersion', row.Id, `the contract of day ${day}`);
      const run = await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () =>
        at(day),
      );
      ids.push(run.finish.snapshotId);
      const manifest = await new SnapshotReader(store).manifest('acme', run.finish.snapshotId);
      bodies.push((await filesOf(store, manifest))[0]!.key);
    }
    return { store, ids, bodies };
  }

  /** A run that stopped for good after its files step: objects, a reused list naming `body`, no manifest. */
  function crashedRun(store: MemoryStore, id: string, body: string, list = 'reused-00001.json'): void {
    store.objects.set(`${snapshotPrefix('acme', id)}plan.json`, new TextEncoder().encode('[]'));
    store.objects.set(
      `${snapshotPrefix('acme', id)}files/${list}`,
      new TextEncoder().encode(JSON.stringify([{ key: body }])),
    );
  }

  for (const list of ['reused-00001.json', 'reused.json']) {
    it(`removes unreferenced bodies past a run that stopped days ago, keeping the bodies its ${list} recorded`, async () => {
      const { store, bodies } = await vaultOfBodies();
      crashedRun(store, '20261105T020000000Z-crash1', bodies[0]!, list);
      const out = await sweepOrg(
        { store, remover: store, clock: () => at(9, 3) },
        { org: 'acme', policy: POLICY_7, execution: 'exec-1' },
      );
      expect(out.fileBodiesDeferred).toBe(false);
      expect(await store.head(bodies[0]!)).toBeDefined();
      expect(await store.head(bodies[1]!)).toBeUndefined();
      expect(await store.head(bodies[2]!)).toBeUndefined();
      for (const body of bodies.slice(3)) expect(await store.head(body)).toBeDefined();
    });
  }

  it('leaves the bodies for later while a run without a manifest started within the grace period', async () => {
    const { store, bodies } = await vaultOfBodies();
    crashedRun(store, '20261109T120000000Z-inprog', bodies[0]!);
    const out = await sweepOrg(
      { store, remover: store, clock: () => at(9, 3) },
      { org: 'acme', policy: POLICY_7, execution: 'exec-1' },
    );
    expect(out).toMatchObject({ fileBodiesDeferred: true, removedFileBodies: 0 });
    for (const body of bodies) expect(await store.head(body)).toBeDefined();
  });

  it('holds to the deferral its list recorded when the run in the grace period is gone before it goes on', async () => {
    const { store, bodies } = await vaultOfBodies();
    crashedRun(store, '20261109T120000000Z-inprog', bodies[0]!);
    // GIVEN a sweep that stopped after its log, deferring the bodies for that run
    const first = await sweepOrg(
      { store, remover: store, clock: () => at(9, 3), deadline: at(9, 3) },
      { org: 'acme', policy: POLICY_7, execution: 'exec-1' },
    );
    expect(first.done).toBe(false);
    expect(JSON.parse(store.text(sweepRecord(first.logKey!, 'bodies')))).toMatchObject({
      deferred: true,
      bodies: [],
    });
    // WHEN the run's folder is gone before it goes on
    for (const key of [...store.objects.keys()])
      if (key.startsWith(snapshotPrefix('acme', '20261109T120000000Z-inprog'))) store.objects.delete(key);
    const rest = await sweepOrg(
      { store, remover: store, clock: () => at(9, 4) },
      { org: 'acme', policy: POLICY_7, execution: 'exec-1', cursor: first.cursor! },
    );
    // THEN the bodies still wait for a later sweep, as the list it wrote when it planned says
    expect(rest).toMatchObject({ done: true, fileBodiesDeferred: true, removedFileBodies: 0 });
    for (const body of bodies) expect(await store.head(body)).toBeDefined();
  });

  it('ignores a folder under snapshots whose name is not a snapshot id and names it in the retention log', async () => {
    const { store, ids } = await vaultOf(5);
    store.objects.set('orgs/acme/snapshots/not-a-snapshot/notes.txt', new TextEncoder().encode('x'));
    const out = await sweepOrg(
      { store, remover: store, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(out).toMatchObject({ done: true, expired: 3, ignoredFolders: ['not-a-snapshot'] });
    expect((JSON.parse(store.text(out.logKey!)) as { ignoredFolders: string[] }).ignoredFolders).toEqual([
      'not-a-snapshot',
    ]);
    expect(await store.head('orgs/acme/snapshots/not-a-snapshot/notes.txt')).toBeDefined();
    expect((await new SnapshotReader(store).catalog('acme')).map((e) => e.snapshotId)).toEqual(ids.slice(3));
  });
});

describe('the retention sweep and its deadline', () => {
  it('answers done: false at its deadline while it only reads a large file index, and finishes on the next run', async () => {
    const { store, ids } = await vaultOf(5);
    // One body no snapshot references, and many index entries naming other bodies.
    store.objects.set('orgs/acme/files/sha256/ab/abandoned', new TextEncoder().encode('old'));
    for (let i = 0; i < 500; i++) {
      store.objects.set(
        `orgs/acme/files/index/entry-${i}.json`,
        new TextEncoder().encode(JSON.stringify({ key: `orgs/acme/files/sha256/cd/other-${i}` })),
      );
    }
    const first = await sweepOrg(
      { store, remover: store, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(first.done).toBe(true);
    store.objects.set('orgs/acme/files/sha256/ab/abandoned', new TextEncoder().encode('old'));
    store.removed.length = 0;
    let reads = 0;
    const get = store.get.bind(store);
    store.get = async (key: string) => {
      reads++;
      return get(key);
    };
    const start = at(4, 5).getTime();
    const clock = () => new Date(start + reads * 1000);
    const second = await sweepOrg(
      { store, remover: store, clock, deadline: new Date(start + 100_000) },
      { org: 'acme', policy: POLICY, execution: 'exec-2' },
    );
    expect(second).toMatchObject({ done: false, removedObjects: 0, removedFileBodies: 0 });
    expect(reads).toBeLessThan(110);
    expect(store.removed).toEqual([]);
    const third = await sweepOrg(
      { store, remover: store, clock: () => at(4, 6) },
      { org: 'acme', policy: POLICY, execution: 'exec-3' },
    );
    expect(third).toMatchObject({ done: true, removedFileBodies: 1 });
    expect((await new SnapshotReader(store).catalog('acme')).map((e) => e.snapshotId)).toEqual(ids.slice(3));
  });
});

describe('a sweep longer than one invocation', () => {
  /** Abandoned bodies, each named by one index entry, among many index entries naming other bodies. */
  function withLargeIndex(store: MemoryStore, abandoned: number, others: number): string[] {
    const bodies: string[] = [];
    for (let i = 0; i < abandoned; i++) {
      const body = `orgs/acme/files/sha256/ab/abandoned-${i}`;
      store.objects.set(body, new TextEncoder().encode(`old ${i}`));
      store.objects.set(
        `orgs/acme/files/index/gone-${i}.json`,
        new TextEncoder().encode(JSON.stringify({ key: body })),
      );
      bodies.push(body);
    }
    for (let i = 0; i < others; i++) {
      store.objects.set(
        `orgs/acme/files/index/entry-${String(i).padStart(4, '0')}.json`,
        new TextEncoder().encode(JSON.stringify({ key: `orgs/acme/files/sha256/cd/other-${i}` })),
      );
    }
    return bodies;
  }

  /** Reads per key of the keys `counted` picks (index entries unless told). */
  function countReads(
    store: MemoryStore,
    counted = (key: string) => key.includes('/files/index/'),
  ): Map<string, number> {
    const reads = new Map<string, number>();
    const get = store.get.bind(store);
    store.get = async (key: string) => {
      if (counted(key)) reads.set(key, (reads.get(key) ?? 0) + 1);
      return get(key);
    };
    return reads;
  }

  /** Runs one execution to its end, each invocation given no time at all, handing each cursor to the next. */
  async function sweepInSlices(store: MemoryStore, clock: () => Date, execution = 'exec-1') {
    const outs: SweepOutput[] = [];
    let cursor: SweepCursor | null = null;
    do {
      const out = await sweepOrg(
        { store, remover: store, clock, deadline: clock() },
        { org: 'acme', policy: POLICY, execution, ...(cursor ? { cursor } : {}) },
      );
      outs.push(out);
      cursor = out.cursor;
      expect(out.done).toBe(cursor === null);
    } while (cursor && outs.length < 5_000);
    return outs;
  }

  /** Invocations given no time at all until one wrote the sweep's log: that one's answer. */
  async function sweepUntilLogged(store: MemoryStore, remover: RemovingStore = store) {
    const clock = () => at(4, 3);
    let out: SweepOutput;
    let cursor: SweepCursor | null = null;
    do {
      out = await sweepOrg(
        { store, remover, clock, deadline: clock() },
        { org: 'acme', policy: POLICY, execution: 'exec-1', ...(cursor ? { cursor } : {}) },
      );
      cursor = out.cursor;
    } while (out.logKey === null && cursor);
    return out;
  }

  const total = (
    outs: SweepOutput[],
    field: 'removedObjects' | 'removedFileBodies' | 'removedFileIndexEntries',
  ) => outs.reduce((sum, out) => sum + out[field], 0);

  it('goes on from its cursor, reading each index entry once, and ends as one invocation would', async () => {
    // GIVEN two like vaults: three snapshots to expire, 5 abandoned bodies among 300 index entries
    const once = await vaultOf(5);
    withLargeIndex(once.store, 5, 300);
    const sliced = await vaultOf(5);
    const abandoned = withLargeIndex(sliced.store, 5, 300);
    const reads = countReads(sliced.store);
    const manifestReads = countReads(sliced.store, (key) => key.endsWith('/manifest.json'));
    const bodyRemovals: string[] = [];
    const remove = sliced.store.remove.bind(sliced.store);
    sliced.store.remove = async (key) => {
      if (key.includes('/files/sha256/')) bodyRemovals.push(key);
      await remove(key);
    };
    const listed: string[] = [];
    const list = sliced.store.list.bind(sliced.store);
    sliced.store.list = (prefix, options) => {
      listed.push(prefix);
      return list(prefix, options);
    };
    // WHEN one sweeps in one invocation and the other in invocations given no time at all
    const whole = await sweepOrg(
      { store: once.store, remover: once.store, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    const outs = await sweepInSlices(sliced.store, () => at(4, 3));
    // THEN each invocation moved it on, and together they did what the one did
    expect(outs.length).toBeGreaterThan(20);
    expect(whole).toMatchObject({ done: true, expired: 3, removedFileBodies: 5, removedFileIndexEntries: 5 });
    for (const field of ['removedObjects', 'removedFileBodies', 'removedFileIndexEntries'] as const)
      expect(total(outs, field)).toBe(whole[field]);
    // (the first two plan: one classifies, one reads the newest kept snapshot and lists the bodies)
    const logKey = outs[2]!.logKey!;
    expect(outs.map((out) => out.logKey)).toEqual([null, null, ...outs.slice(2).map(() => logKey)]);
    for (const body of abandoned) expect(await sliced.store.head(body)).toBeUndefined();
    expect((await keysUnder(sliced.store, 'orgs/acme/files/index/')).length).toBe(300);
    expect((await new SnapshotReader(sliced.store).catalog('acme')).map((e) => e.snapshotId)).toEqual(
      sliced.ids.slice(3),
    );
    // ...with one retention log and its list of the bodies to remove; where its planning stopped
    // was written too, and removed once it ended; every index entry read once however many
    // invocations it took
    expect(await keysUnder(sliced.store, 'orgs/acme/retention/')).toEqual([
      logKey,
      sweepRecord(logKey, 'bodies'),
    ]);
    expect(sliced.store.removed.filter((key) => key.includes('/retention/'))).toEqual([
      sweepRecord(logKey, 'planning-0-0'),
      sweepRecord(logKey, 'planning-1-0'),
    ]);
    expect(JSON.parse(sliced.store.text(sweepRecord(logKey, 'bodies'))).bodies).toEqual(abandoned);
    expect(reads.size).toBe(305);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
    // ...and the kept snapshots' manifests and the bodies listed once, by the invocations that planned
    expect([...manifestReads.keys()].sort()).toEqual(
      sliced.ids.slice(3).map((id) => `orgs/acme/snapshots/${id}/manifest.json`),
    );
    expect([...manifestReads.values()]).toEqual([1, 1]);
    expect(bodyRemovals).toEqual(abandoned);
    expect(listed.filter((prefix) => prefix === 'orgs/acme/files/sha256/')).toHaveLength(1);
    // ...and the snapshots found by their folders, each invocation, not by every object they hold
    expect(listed).not.toContain('orgs/acme/snapshots/');
  });

  it('holds to the decisions of its log when a backup finishes between two invocations', async () => {
    const { store, ids, source } = await vaultOf(5);
    const abandoned = withLargeIndex(store, 1, 100);
    // GIVEN a sweep that stopped after it wrote its log (days 3 and 4 kept, 0 to 2 expired)
    const first = await sweepUntilLogged(store, store);
    expect(first).toMatchObject({ done: false, kept: 2, expired: 3 });
    expect(first.cursor).toMatchObject({ sweptAt: at(4, 3).toISOString() });
    // WHEN a backup of day 4 finishes before it goes on: classified again, the day's earlier
    // snapshot (kept, its index entries read as kept) would now expire
    const late = await runCore(source, { org: 'acme', mode: 'full' }, { overlapSeconds: 0 }, store, () =>
      at(4, 4),
    );
    const rest = await sweepOrg(
      { store, remover: store, clock: () => at(4, 5) },
      { org: 'acme', policy: POLICY, execution: 'exec-1', cursor: first.cursor! },
    );
    // THEN it finishes what its log decided, keeps the rest, and leaves the bodies to a later sweep
    expect(rest).toMatchObject({ done: true, cursor: null, kept: 2, expired: 3, fileBodiesDeferred: true });
    const reader = new SnapshotReader(store);
    expect((await reader.catalog('acme')).map((e) => e.snapshotId)).toEqual([
      ids[3],
      ids[4],
      late.finish.snapshotId,
    ]);
    expect(await verifySnapshot(store, await reader.manifest('acme', ids[4]!))).toEqual([]);
    expect(await store.head(abandoned[0]!)).toBeDefined();
    const deferred = JSON.parse(store.text(sweepRecord(rest.logKey!, 'deferred'))) as {
      runs: string[];
    };
    expect(deferred.runs).toEqual([late.finish.snapshotId]);
  });

  it('lists the bodies again for a log written before sweeps kept their lists, and removes each body once', async () => {
    const { store } = await vaultOf(5);
    const abandoned = withLargeIndex(store, 4, 20);
    const removals: string[] = [];
    const remover: RemovingStore = {
      location: 'memory://',
      remove: async (key) => {
        removals.push(key);
        await store.remove(key);
      },
    };
    // GIVEN a sweep that stopped after its log, whose list of bodies is not there (it stopped in between)
    const first = await sweepUntilLogged(store, remover);
    expect(first.done).toBe(false);
    store.objects.delete(sweepRecord(first.logKey!, 'bodies'));
    // WHEN it goes on from a cursor that counts bodies removed (of no list it can read)
    const rest = await sweepOrg(
      { store, remover, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1', cursor: { ...first.cursor!, bodiesRemoved: 2 } },
    );
    // THEN it lists them from the log's kept snapshots, writes the list, and removes each body once
    expect(rest).toMatchObject({ done: true, removedFileBodies: 4, removedFileIndexEntries: 4 });
    expect(JSON.parse(store.text(sweepRecord(first.logKey!, 'bodies'))).bodies).toEqual(abandoned);
    expect(removals.filter((key) => key.includes('/files/sha256/'))).toEqual(abandoned);
    for (const body of abandoned) expect(await store.head(body)).toBeUndefined();
  });

  it.each([
    ['cannot be parsed', () => '{"bodies": '],
    ['names no bodies', (list: Record<string, unknown>) => JSON.stringify({ ...list, bodies: 3 })],
    [
      "is another sweep's",
      (list: Record<string, unknown>) => JSON.stringify({ ...list, execution: 'exec-0' }),
    ],
    [
      'names a key outside the file bodies',
      (list: Record<string, unknown>) =>
        JSON.stringify({ ...list, bodies: ['orgs/acme/catalog/20261105T020000000Z-aaaaaa.json'] }),
    ],
  ])('fails, removing no body, when the list of bodies beside its log %s', async (_what, tamper) => {
    const { store } = await vaultOf(5);
    const abandoned = withLargeIndex(store, 2, 0);
    const first = await sweepUntilLogged(store, store);
    const key = sweepRecord(first.logKey!, 'bodies');
    store.objects.set(key, new TextEncoder().encode(tamper(JSON.parse(store.text(key)))));
    const catalogBefore = (await keysUnder(store, 'orgs/acme/catalog/')).length;
    await expect(
      sweepOrg(
        { store, remover: store, clock: () => at(4, 3) },
        { org: 'acme', policy: POLICY, execution: 'exec-1', cursor: first.cursor! },
      ),
    ).rejects.toThrow(RetentionCatalogUnreadableError);
    for (const body of abandoned) expect(await store.head(body)).toBeDefined();
    expect((await keysUnder(store, 'orgs/acme/catalog/')).length).toBe(catalogBefore);
  });

  it('goes on with a list of an earlier version, which says nothing of deferral', async () => {
    const { store } = await vaultOf(5);
    const abandoned = withLargeIndex(store, 3, 0);
    const first = await sweepUntilLogged(store, store);
    const key = sweepRecord(first.logKey!, 'bodies');
    const { deferred: _, ...earlier } = JSON.parse(store.text(key)) as Record<string, unknown>;
    store.objects.set(key, new TextEncoder().encode(JSON.stringify(earlier)));
    const rest = await sweepOrg(
      { store, remover: store, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1', cursor: first.cursor! },
    );
    expect(rest).toMatchObject({ done: true, removedFileBodies: 3, fileBodiesDeferred: false });
    for (const body of abandoned) expect(await store.head(body)).toBeUndefined();
  });

  it('does not remove a body again when an invocation that removed it stopped before it answered', async () => {
    const { store } = await vaultOf(5);
    const abandoned = withLargeIndex(store, 6, 0);
    // GIVEN a sweep's cursor after its index pass, before any body went
    let cursor: SweepCursor | null = null;
    do {
      const out: SweepOutput = await sweepOrg(
        { store, remover: store, clock: () => at(4, 3), deadline: at(4, 3) },
        { org: 'acme', policy: POLICY, execution: 'exec-1', ...(cursor ? { cursor } : {}) },
      );
      cursor = out.cursor;
    } while (cursor && !cursor.indexDone);
    expect(cursor).toMatchObject({ indexDone: true });
    // WHEN an invocation from it removes three bodies and its function stops
    await expect(
      sweepOrg(
        { store, remover: new CrashingRemover(store, 3), clock: () => at(4, 3) },
        { org: 'acme', policy: POLICY, execution: 'exec-1', cursor: cursor! },
      ),
    ).rejects.toThrow('the function was stopped');
    // (a function stopped by its timeout gives no turn back: its retry holds the lease still)
    for (const key of [...store.objects.keys()])
      if (key.startsWith('orgs/acme/lease/released/')) store.objects.delete(key);
    // ...and the invocation is run again from the same cursor
    const removals: string[] = [];
    const rest = await sweepOrg(
      {
        store,
        remover: { location: 'memory://', remove: async (key) => void removals.push(key) },
        clock: () => at(4, 3),
      },
      { org: 'acme', policy: POLICY, execution: 'exec-1', cursor: cursor! },
    );
    // THEN it removes only the three left (and, ended, the records of where its planning stopped)
    expect(rest).toMatchObject({ done: true, removedFileBodies: 3 });
    const planning = removals.filter((key) => key.includes('/retention/'));
    expect(planning.length).toBeGreaterThan(0);
    expect(planning.every((key) => /\/retention\/[^/]+\/planning-[\d-]+\.json$/.test(key))).toBe(true);
    expect(removals).toEqual([...abandoned.slice(3), ...planning]);
  });

  it('says how many bodies are left when a run appears after some of its list was removed', async () => {
    const { store } = await vaultOf(5);
    withLargeIndex(store, 5, 0);
    // GIVEN a sweep that removed some of its bodies, invocation by invocation
    let cursor: SweepCursor | null = null;
    let removed = 0;
    do {
      const out: SweepOutput = await sweepOrg(
        { store, remover: store, clock: () => at(4, 3), deadline: at(4, 3) },
        { org: 'acme', policy: POLICY, execution: 'exec-1', ...(cursor ? { cursor } : {}) },
      );
      cursor = out.cursor;
      removed += out.removedFileBodies;
    } while (removed < 2 && cursor);
    expect(cursor?.bodiesRemoved).toBe(2);
    // WHEN a backup starts before it goes on
    const started = '20261105T040000000Z-late01';
    store.objects.set(`${snapshotPrefix('acme', started)}plan.json`, new TextEncoder().encode('[]'));
    const rest = await sweepOrg(
      { store, remover: store, clock: () => at(4, 4) },
      { org: 'acme', policy: POLICY, execution: 'exec-1', cursor: cursor! },
    );
    // THEN it leaves the other three to a later sweep, and says so
    expect(rest).toMatchObject({ done: true, fileBodiesDeferred: true, removedFileBodies: 0 });
    const deferred = JSON.parse(store.text(sweepRecord(rest.logKey!, 'deferred'))) as {
      runs: string[];
      fileBodiesLeft: number;
    };
    expect(deferred).toMatchObject({ runs: [started], fileBodiesLeft: 3 });
    // ...and, ended, it removed the records of where its planning stopped
    expect((await keysUnder(store, 'orgs/acme/retention/')).filter((k) => k.includes('/planning-'))).toEqual(
      [],
    );
    expect(store.removed.some((k) => k.includes('/planning-'))).toBe(true);
  });

  it('begins a new sweep, reading the whole index, when its cursor names a sweep that wrote no log', async () => {
    const { store, ids } = await vaultOf(5);
    const abandoned = withLargeIndex(store, 10, 0);
    // GIVEN a cursor, handed in with an execution's input, of no sweep that logged anything
    const cursor = { sweptAt: at(9, 3).toISOString(), indexAfter: 'orgs/acme/files/index/gone-5.json' };
    // WHEN the execution sweeps from it
    const out = await sweepOrg(
      { store, remover: store, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1', cursor },
    );
    // THEN it decides as of now, logs under now, and leaves no index entry naming a removed body
    expect(out).toMatchObject({ done: true, expired: 3, kept: 2, removedFileBodies: 10 });
    expect(out.removedFileIndexEntries).toBe(10);
    expect(out.logKey).toBe('orgs/acme/retention/20261105T030000000Z-exec-1.json');
    for (const body of abandoned) expect(await store.head(body)).toBeUndefined();
    expect(await keysUnder(store, 'orgs/acme/files/index/')).toEqual([]);
    expect((await new SnapshotReader(store).catalog('acme')).map((e) => e.snapshotId)).toEqual(ids.slice(3));
  });

  it('fails rather than pass over an index entry it could not read, and removes its body only once it did', async () => {
    const { store } = await vaultOf(5);
    const abandoned = withLargeIndex(store, 3, 40);
    // GIVEN a vault that refuses one read of an index entry (S3 slowing the caller down)
    const get = store.get.bind(store);
    let refusals = 1;
    store.get = async (key: string) => {
      if (key.endsWith('/gone-1.json') && refusals-- > 0)
        throw Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' });
      return get(key);
    };
    // WHEN it sweeps THEN the sweep fails with that error, and no body was removed
    await expect(
      sweepOrg(
        { store, remover: store, clock: () => at(4, 3) },
        { org: 'acme', policy: POLICY, execution: 'exec-1' },
      ),
    ).rejects.toMatchObject({ name: 'SlowDown' });
    for (const body of abandoned) expect(await store.head(body)).toBeDefined();
    // WHEN the next sweep runs THEN entries and bodies go together
    const next = await sweepOrg(
      { store, remover: store, clock: () => at(4, 4) },
      { org: 'acme', policy: POLICY, execution: 'exec-2' },
    );
    expect(next).toMatchObject({ done: true, removedFileBodies: 3, removedFileIndexEntries: 3 });
    for (const body of abandoned) expect(await store.head(body)).toBeUndefined();
  });

  it('leaves the bodies to a later sweep when a run it classified runs again between two invocations', async () => {
    const { store } = await vaultOf(5);
    const abandoned = withLargeIndex(store, 1, 100);
    // GIVEN a run of day 3 that stopped without a catalog entry, kept, and a sweep that stopped
    // after writing its log
    const stopped = '20261104T120000000Z-stop02';
    store.objects.set(`${snapshotPrefix('acme', stopped)}plan.json`, new TextEncoder().encode('[]'));
    const first = await sweepOrg(
      { store, remover: store, clock: () => at(6, 3), deadline: at(6, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(first.done).toBe(false);
    // WHEN that run is started again (its heartbeat says so) before the sweep goes on
    await backupHeartbeat(store, 'acme', stopped, at(6, 5).getTime());
    const rest = await sweepOrg(
      { store, remover: store, clock: () => at(6, 5) },
      { org: 'acme', policy: POLICY, execution: 'exec-1', cursor: first.cursor! },
    );
    // THEN no body goes, and the record of it names the run
    expect(rest).toMatchObject({ done: true, fileBodiesDeferred: true, removedFileBodies: 0 });
    expect(await store.head(abandoned[0]!)).toBeDefined();
    const deferred = JSON.parse(store.text(sweepRecord(rest.logKey!, 'deferred'))) as {
      runs: string[];
    };
    expect(deferred.runs).toEqual([stopped]);
  });
});

describe('the retention log a sweep reads', () => {
  it('reads only the logs written since the oldest run without a catalog entry started, and none when there is no such run', async () => {
    const { store } = await vaultOf(5);
    for (let i = 0; i < 30; i++) {
      const stamp = new Date(at(-40).getTime() + i * DAY_MS).toISOString().replace(/[-:.]/g, '');
      store.objects.set(
        `orgs/acme/retention/${stamp}-old-${i}.json`,
        new TextEncoder().encode(JSON.stringify({ expired: [] })),
      );
    }
    const logReads: string[] = [];
    let running = 'exec-1';
    const get = store.get.bind(store);
    store.get = async (key: string) => {
      // (A sweep reads back its own list of bodies, in the folder beside its entry: no log.)
      if (key.startsWith('orgs/acme/retention/') && !key.includes(`-${running}/`)) logReads.push(key);
      return get(key);
    };
    await sweepOrg(
      { store, remover: store, clock: () => at(4, 3) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    expect(logReads).toEqual([]);

    // A run that started on day 4 and has no catalog entry yet: only the logs since then can name it,
    // and a sweep's own records beside its entry are no log.
    store.objects.set(
      'orgs/acme/retention/20261105T030000000Z-exec-1/bodies.json',
      new TextEncoder().encode('not a log'),
    );
    // (as written by sweeps of earlier versions, beside the entry: it names no expired snapshot)
    store.objects.set(
      'orgs/acme/retention/20261105T030000000Z-exec-1-deferred.json',
      new TextEncoder().encode(JSON.stringify({ runs: ['x'], fileBodiesLeft: 1 })),
    );
    store.objects.set(
      `${snapshotPrefix('acme', '20261105T010000000Z-inprog')}plan.json`,
      new TextEncoder().encode('[]'),
    );
    running = 'exec-2';
    await sweepOrg(
      { store, remover: store, clock: () => at(4, 5) },
      { org: 'acme', policy: POLICY, execution: 'exec-2' },
    );
    expect(logReads).toEqual([
      'orgs/acme/retention/20261105T030000000Z-exec-1-deferred.json',
      'orgs/acme/retention/20261105T030000000Z-exec-1.json',
    ]);
  });
});
