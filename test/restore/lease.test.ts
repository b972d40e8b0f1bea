import { describe, expect, it } from 'vitest';
import { InvalidOrgKeyError } from '../../lambdas/core/snapshot/keys.ts';
import {
  InvalidRestoreStateError,
  RestoreInProgressError,
  RestoreLeaseLostError,
} from '../../lambdas/core/restore/errors.ts';
import { restoreKeys, restoreRoot } from '../../lambdas/core/restore/keys.ts';
import {
  acquireLease,
  LEASE_TTL_MS,
  leaseWindows,
  liveClaims,
  releaseLease,
  renewLease,
} from '../../lambdas/core/restore/lease.ts';
import type { ListOptions, StoreEntry } from '../../lambdas/core/store.ts';
import { CLAIM_CLOCK_MARGIN_MS, vaultLeaseRoot } from '../../lambdas/core/vault-lease.ts';
import {
  levelStep,
  metadataStep,
  objectStep,
  planStep,
  releaseStep,
  validateStep,
} from '../../lambdas/core/restore/workflow.ts';
import { MemoryStore } from './fakes.ts';
import { ORG_NAME, propertyId, runRestore, world } from './scenario.ts';

const CONFIRM = { confirmOrgId: '00D000000000001AAA' };
const INPUT = { objects: ['Property__c'], mode: 'restore-deleted', ...CONFIRM };
const ORG = '00D000000000001AAA';
const ROOT = restoreRoot(ORG_NAME, ORG);

describe("the org's restore lease", () => {
  it('lets one of two restores started at once write, refuses the other naming it, and inserts each row once', async () => {
    // GIVEN six properties gone for good
    const { org, deps } = world();
    for (const n of [1, 2, 3, 4, 5, 6]) org.hardDelete('Property__c', propertyId(n));
    // WHEN two restores of the org start at the same moment
    const outcomes = await Promise.allSettled([
      runRestore(deps, INPUT, 'run-a'),
      runRestore(deps, INPUT, 'run-b'),
    ]);
    // THEN one restores the six rows, the other is refused before writing, naming the first
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(RestoreInProgressError);
    const winner = outcomes.find((o) => o.status === 'fulfilled');
    expect(winner?.status === 'fulfilled' && winner.value.verify?.matches).toBe(true);
    const holder = winner?.status === 'fulfilled' ? winner.value.run.runId : '';
    expect(refused[0]?.message).toContain(`execution ${holder}`);
    expect(refused[0]?.message).toMatch(/started \d{4}-\d\d-\d\dT.*until \d{4}-\d\d-\d\dT/);
    expect(refused[0]?.message).toContain('start this restore again');
    expect(org.live('Property__c')).toHaveLength(6);
  });

  it('refuses a second restore of another snapshot while the first holds the org', async () => {
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(1));
    const first = await validateStep(deps, INPUT, 'run-first');
    const error = await validateStep(
      deps,
      { ...INPUT, snapshot: '20260101T000000Z-abcdef' },
      'run-second',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestoreInProgressError);
    expect((error as Error).message).toContain(first.runId);
  });

  it('lets a dry run plan while a restore holds the org', async () => {
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(1));
    await validateStep(deps, INPUT, 'run-writing');
    const dry = await runRestore(deps, { objects: ['Property__c'], mode: 'dry-run' }, 'run-dry');
    expect(dry.plan.totals.insert).toBe(1);
  });

  it('frees the org when a restore ends, so the same restore can be run again', async () => {
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(1));
    const first = await runRestore(deps, INPUT, 'run-1');
    expect(first.verify?.matches).toBe(true);
    const again = await runRestore(deps, INPUT, 'run-2');
    expect(again.verify?.matches).toBe(true);
    expect(org.live('Property__c')).toHaveLength(6);
  });

  it('keeps the lease for a retried validation of the same run', async () => {
    const { deps } = world();
    await validateStep(deps, INPUT, 'run-retried');
    await expect(validateStep(deps, INPUT, 'run-retried')).resolves.toMatchObject({ runId: 'run-retried' });
  });

  it('frees the org of a restore that was stopped without ending once its lease expires', async () => {
    let clock = Date.parse('2026-03-01T00:00:00Z');
    const { deps } = world();
    const timed = { ...deps, now: () => clock };
    await validateStep(timed, INPUT, 'run-stopped');
    await expect(validateStep(timed, INPUT, 'run-later')).rejects.toThrow(/until 2026-03-01T01:00:00.000Z/);
    clock += LEASE_TTL_MS + 1;
    await expect(validateStep(timed, INPUT, 'run-later')).resolves.toMatchObject({ runId: 'run-later' });
  });

  it('stops a restore that lost its lease before it writes another row', async () => {
    let clock = Date.parse('2026-03-01T00:00:00Z');
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(1));
    const timed = { ...deps, now: () => clock };
    const slow = await validateStep(timed, INPUT, 'run-slow');
    await planStep(timed, slow);
    clock += LEASE_TTL_MS + 1;
    await validateStep(timed, INPUT, 'run-new');
    const creates = org.calls.filter((c) => c.startsWith('create')).length;
    await expect(objectStep(timed, slow, 'Property__c', 'main', 0)).rejects.toBeInstanceOf(
      RestoreLeaseLostError,
    );
    expect(org.calls.filter((c) => c.startsWith('create')).length).toBe(creates);
  });

  it('withdraws a claim whose write took longer than the settling time, so an older claim cannot appear late', async () => {
    const store = new MemoryStore();
    let clock = 1_000_000;
    const put = store.put.bind(store);
    store.put = async (key, body) => {
      if (key.includes('/lease/claims/')) clock += 5_000;
      return put(key, body);
    };
    const error = await acquireLease(store, ROOT, 'run-slow-write', {
      now: () => clock,
      settleMs: 1_000,
      sleep: async () => {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestoreInProgressError);
    expect(await liveClaims(store, ROOT, clock)).toEqual([]);
  });
});

/** A store that counts the keys its listings hand out. */
class CountingStore extends MemoryStore {
  listed = 0;
  override async *list(prefix: string, options?: ListOptions): AsyncIterable<StoreEntry> {
    for await (const entry of super.list(prefix, options)) {
      this.listed++;
      yield entry;
    }
  }
}

describe("the lease's records over time", () => {
  const HOUR = 60 * 60_000;
  const T0 = Date.parse('2026-01-01T00:00:00Z');

  const RUNS = 500;

  /** Runs one every two hours, as the API writes them: each claims, renews twice and releases. */
  async function runsBefore(store: MemoryStore): Promise<number> {
    let clock = T0;
    const options = { now: () => clock, sleep: async () => {} };
    for (let n = 0; n < RUNS; n++) {
      const run = `run-${n}`;
      await acquireLease(store, ROOT, run, options);
      clock += 20 * 60_000;
      await renewLease(store, ROOT, run, options);
      clock += 20 * 60_000;
      await renewLease(store, ROOT, run, options);
      await releaseLease(store, ROOT, run, () => clock);
      clock = T0 + (n + 1) * 2 * HOUR;
    }
    return clock;
  }

  it('decides who holds the lease from the records that can still be live, however many runs came before', async () => {
    // GIVEN 500 ended runs: 2,000 lease records
    const store = new CountingStore();
    const now = await runsBefore(store);
    expect([...store.objects.keys()].filter((k) => k.includes('/lease/'))).toHaveLength(4 * RUNS);
    // WHEN a new run takes the lease, renews it and another is refused
    store.listed = 0;
    const options = { now: () => now, sleep: async () => {} };
    await acquireLease(store, ROOT, 'run-new', options);
    await renewLease(store, ROOT, 'run-new', options);
    const refused = await acquireLease(store, ROOT, 'run-other', options).catch((e: unknown) => e);
    // THEN it was decided right, and the listings handed out only this hour's records
    expect(refused).toBeInstanceOf(RestoreInProgressError);
    expect((refused as Error).message).toContain('execution run-new');
    expect(store.listed).toBeLessThan(20);
  });

  it('keeps a run that claimed long ago and renewed since as the holder, and frees the org an hour after its last renewal', async () => {
    // GIVEN a run that claimed ten hours ago and renewed every half hour since
    const store = new MemoryStore();
    let clock = T0;
    const options = { now: () => clock, sleep: async () => {} };
    await acquireLease(store, ROOT, 'run-long', options);
    for (let i = 0; i < 20; i++) {
      clock += 30 * 60_000;
      await renewLease(store, ROOT, 'run-long', options);
    }
    // WHEN another run asks THEN it is refused, naming the long run and its claim time
    const refused = await acquireLease(store, ROOT, 'run-next', options).catch((e: unknown) => e);
    expect((refused as Error).message).toContain(`execution run-long, started ${new Date(T0).toISOString()}`);
    expect(await liveClaims(store, ROOT, clock)).toEqual([
      { runId: 'run-long', claimedAt: T0, expiresAt: clock + LEASE_TTL_MS },
    ]);
    // AND an hour after its last renewal the org is free
    clock += LEASE_TTL_MS;
    expect(await liveClaims(store, ROOT, clock)).toEqual([]);
    await expect(acquireLease(store, ROOT, 'run-next', options)).resolves.toMatchObject({
      runId: 'run-next',
    });
  });

  it("gives the windows of the runs that may have written since a time, and none of the runs before, reading only those runs' records", async () => {
    // GIVEN 500 ended runs, then a long run, renewing every half hour, still holding the lease
    const store = new CountingStore();
    let clock = await runsBefore(store);
    const since = clock - 3 * HOUR;
    const options = { now: () => clock, sleep: async () => {} };
    await acquireLease(store, ROOT, 'run-long', options);
    for (let i = 0; i < 10; i++) {
      clock += 30 * 60_000;
      await renewLease(store, ROOT, 'run-long', options);
    }
    // WHEN the windows since three hours before the long run are read
    store.listed = 0;
    const windows = await leaseWindows(store, ROOT, since);
    // THEN they are the last ended run (released 40 minutes after its claim) and the long run
    expect(windows).toEqual([
      { runId: 'run-499', from: T0 + 499 * 2 * HOUR, to: T0 + 499 * 2 * HOUR + 40 * 60_000 },
      { runId: 'run-long', from: since + 3 * HOUR, to: clock + LEASE_TTL_MS },
    ]);
    expect(store.listed).toBeLessThan(20);
  });
});

describe('a restore while an erasure rewrites the backups it reads', () => {
  const noWait = { sleep: async () => {} };
  const DRY = { objects: ['Property__c'], mode: 'dry-run' };

  it('is refused, real or dry run, naming the erasure, and goes once the erasure has ended', async () => {
    // GIVEN an erasure of the configured org holding the org's vault lease
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(1));
    await acquireLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-7', noWait);
    // WHEN a restore and a dry run are started THEN each is refused naming it, nothing written to the org
    for (const [input, run] of [
      [INPUT, 'run-real'],
      [DRY, 'run-dry'],
    ] as const) {
      const error = await validateStep(deps, input, run).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RestoreInProgressError);
      expect((error as Error).message).toMatch(
        /An erasure is rewriting the backups of configured org .*: execution forget-7 of its erase workflow holds .*nothing was written/,
      );
      // ...before it wrote even its request (which may name her)
      expect(await deps.store.head(restoreKeys.request(ROOT, run))).toBeUndefined();
    }
    expect(org.live('Property__c')).toHaveLength(5);
    // ...and the real one gave its claim back: the org's restore lease is free
    expect(await liveClaims(deps.store, ROOT, Date.now())).toEqual([]);
    // WHEN the erasure has ended THEN a restore goes
    await releaseLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-7');
    const done = await runRestore(deps, INPUT, 'run-after');
    expect(done.verify?.matches).toBe(true);
    expect(org.live('Property__c')).toHaveLength(6);
  });

  it('is refused, giving its claim back, when an erasure claims the org just after the restore claimed it', async () => {
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(1));
    // GIVEN an erasure that claims the org's vault lease right after the restore's claim is written
    const put = deps.store.put.bind(deps.store);
    let erasureClaimed = false;
    deps.store.put = async (key, body, options) => {
      const stored = await put(key, body, options);
      if (!erasureClaimed && key.startsWith(`${ROOT}lease/claims/`)) {
        erasureClaimed = true;
        await acquireLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-9', noWait);
      }
      return stored;
    };
    // WHEN the restore is validated THEN it sees the erasure after its own claim, and gives it back
    await expect(validateStep(deps, INPUT, 'run-raced')).rejects.toThrow(/execution forget-9/);
    expect(erasureClaimed).toBe(true);
    expect(await liveClaims(deps.store, ROOT, Date.now())).toEqual([]);
    expect(org.live('Property__c')).toHaveLength(5);
  });

  it('gives back the claim a retried validation holds when an erasure began between its attempts', async () => {
    const { deps } = world();
    // GIVEN a validation whose first attempt claimed the org and stopped before it answered
    await acquireLease(deps.store, ROOT, 'run-retried', noWait);
    await acquireLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-10', noWait);
    // WHEN it is retried THEN it is refused and its claim is given back
    await expect(validateStep(deps, INPUT, 'run-retried')).rejects.toThrow(/execution forget-10/);
    expect(await liveClaims(deps.store, ROOT, Date.now())).toEqual([]);
  });

  it('stops a dry run validated before the erasure began at its plan, writing no plan', async () => {
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(1));
    const run = await validateStep(deps, DRY, 'run-dry-early');
    // (claimed a minute ago: only the check at the plan's start, not one at a write, can see it)
    const aMinuteAgo = { ...noWait, now: () => Date.now() - 60_000 };
    await acquireLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-8', aMinuteAgo);
    const resolve = deps.snapshots.resolve.bind(deps.snapshots);
    let read = false;
    deps.snapshots.resolve = (...args) => {
      read = true;
      return resolve(...args);
    };
    const refused = await planStep(deps, run).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RestoreInProgressError);
    expect((refused as Error).message).toMatch(/execution forget-8 of its erase workflow/);
    // ...before it read the snapshot
    expect(read).toBe(false);
    expect(await deps.store.head(restoreKeys.plan(ROOT, 'run-dry-early'))).toBeUndefined();
  });

  it("stops a dry run's metadata step while an erasure holds the org, and writes no validation record once one began meanwhile", async () => {
    const { deps } = world();
    const run = await validateStep(deps, DRY, 'run-dry-metadata');
    const resolve = deps.snapshots.resolve.bind(deps.snapshots);
    let reads = 0;
    let erasing: (() => Promise<void>) | undefined;
    deps.snapshots.resolve = async (...args) => {
      reads += 1;
      await erasing?.();
      return resolve(...args);
    };
    // GIVEN an erasure holding the org's vault lease (claimed a minute ago) THEN the step reads
    // nothing and writes no record
    const aMinuteAgo = { ...noWait, now: () => Date.now() - 60_000 };
    await acquireLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-12', aMinuteAgo);
    const refused = await metadataStep(deps, run, { done: false }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RestoreInProgressError);
    expect((refused as Error).message).toMatch(/execution forget-12 of its erase workflow/);
    expect(reads).toBe(0);
    await releaseLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-12');
    // GIVEN another erasure that claims the org and ends while the step reads the snapshot
    erasing = async () => {
      erasing = undefined;
      await acquireLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-13', noWait);
      await releaseLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-13');
    };
    const raced = await metadataStep(deps, run, { done: false }).catch((e: unknown) => e);
    // THEN it read, and did not write its validation record
    expect(reads).toBe(1);
    expect((raced as Error).name).toBe('ErasureDuringStepError');
    expect((raced as Error).message).toMatch(/execution forget-13 .* did not write \S+metadata/);
    expect(await deps.store.head(restoreKeys.metadata(ROOT, 'run-dry-metadata'))).toBeUndefined();
  });

  it('writes nothing more of a dry run once an erasure began and ended while it read the org', async () => {
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(1));
    const run = await validateStep(deps, DRY, 'run-dry-raced');
    // GIVEN an erasure that claims the org and ends while the dry run reads the live rows (after
    // it read the snapshot, before it writes its plan)
    const fetchByIds = org.fetchByIds.bind(org);
    let erased = false;
    org.fetchByIds = async (...args) => {
      if (!erased) {
        erased = true;
        await acquireLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-11', noWait);
        await releaseLease(deps.store, vaultLeaseRoot(ORG_NAME), 'erasure-forget-11');
      }
      return fetchByIds(...args);
    };
    // WHEN it plans THEN it is refused naming the erasure and the record it did not write
    const error = await planStep(deps, run).catch((e: unknown) => e);
    expect(erased).toBe(true);
    expect((error as Error).name).toBe('ErasureDuringStepError');
    expect((error as Error).message).toMatch(
      new RegExp(
        `^An erasure of org ${ORG_NAME} \\(execution forget-11 of its erase workflow, claimed at \\S+\\) began while this restore dry run read its backups: .* so it did not write ${ROOT}runs/run-dry-raced/plan/Property__c\\.json or anything after it\\.`,
      ),
    );
    // ...leaving neither its object plans nor its plan, which could hold what the erasure removed
    expect(
      await deps.store.head(restoreKeys.objectPlan(ROOT, 'run-dry-raced', 'Property__c')),
    ).toBeUndefined();
    expect(await deps.store.head(restoreKeys.plan(ROOT, 'run-dry-raced'))).toBeUndefined();
    expect((error as Error).message).toMatch(/That execution has ended: start it again\.$/);
    // AND a dry run started after the erasure (by more than a clock's margin) plans as before
    const later = { ...deps, now: () => Date.now() + CLAIM_CLOCK_MARGIN_MS + 1_000 };
    const again = await validateStep(later, DRY, 'run-dry-after');
    await expect(planStep(later, again)).resolves.toMatchObject({ totals: { insert: 1 } });
  });
});

describe('where a restore keeps its records', () => {
  it('writes every record of a restore, its lease included, under restores/<configured org>/<org id>/', async () => {
    // GIVEN a property gone for good, restored for configured org acme-prod
    const { org, deps, store } = world();
    org.hardDelete('Property__c', propertyId(1));
    // WHEN the restore runs to its end
    const { verify } = await runRestore(deps, INPUT, 'run-keys');
    expect(verify?.matches).toBe(true);
    // THEN every record it wrote lies under restores/acme-prod/<org id>/, and nothing elsewhere
    const keys = [...store.objects.keys()];
    expect(ROOT).toBe('restores/acme-prod/00D000000000001AAA/');
    expect(keys.filter((k) => !k.startsWith(ROOT))).toEqual([]);
    expect(verify?.reportKey).toBe(`${ROOT}runs/run-keys/report.json`);
    for (const record of [
      'runs/run-keys/request.json',
      'runs/run-keys/plan.json',
      'runs/run-keys/plan/Property__c.json',
      'runs/run-keys/files.json',
      'runs/run-keys/report.json',
      'lease/released/run-keys.json',
    ])
      expect(keys, record).toContain(`${ROOT}${record}`);
    for (const folder of [
      'id-map/Property__c/',
      'intents/Property__c/',
      'runs/run-keys/outcomes/',
      'lease/claims/',
    ])
      expect(
        keys.some((k) => k.startsWith(`${ROOT}${folder}`)),
        folder,
      ).toBe(true);
  });

  it("keeps one configured org's id map and lease apart from another's restoring into the same org", async () => {
    // GIVEN a restore of configured org acme-prod that holds its lease
    const { org, deps, store } = world();
    for (const n of [1, 2]) org.hardDelete('Property__c', propertyId(n));
    const held = await validateStep(deps, INPUT, 'run-held');
    // WHEN another configured org restores into the same Salesforce org
    const other = { ...deps, orgName: 'acme-other' };
    const run = await validateStep(other, INPUT, 'run-other');
    // THEN it reads and writes only under its own root
    expect(run.root).toBe('restores/acme-other/00D000000000001AAA/');
    await planStep(other, run);
    await releaseStep(other, run);
    await releaseStep(deps, held);
    expect([...store.objects.keys()].filter((k) => k.includes('run-other'))).not.toEqual([]);
    for (const key of store.objects.keys())
      if (key.includes('run-other')) expect(key.startsWith('restores/acme-other/')).toBe(true);
  });

  it("refuses a step whose state names another configured org's records, before reading or writing", async () => {
    const { org, deps, store } = world();
    org.hardDelete('Property__c', propertyId(1));
    const run = await validateStep(deps, INPUT, 'run-own');
    const written = store.objects.size;
    const forged = { ...run, root: restoreRoot('acme-other', ORG) };
    for (const step of [
      () => planStep(deps, forged),
      () => levelStep(deps, forged, 0),
      () => releaseStep(deps, forged),
    ])
      await expect(step()).rejects.toBeInstanceOf(InvalidRestoreStateError);
    expect(store.objects.size).toBe(written);
  });

  it('refuses a root whose org name or org id could not be a vault prefix', () => {
    expect(() => restoreRoot('../acme', ORG)).toThrow(InvalidOrgKeyError);
    expect(() => restoreRoot('Acme', ORG)).toThrow(InvalidOrgKeyError);
    expect(() => restoreRoot(ORG_NAME, '../00D000000000001AAA')).toThrow(InvalidRestoreStateError);
  });
});
