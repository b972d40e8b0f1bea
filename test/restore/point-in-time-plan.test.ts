import { describe, expect, it } from 'vitest';
import { restoreKeys, restoreRoot } from '../../lambdas/core/restore/keys.ts';
import type { ObjectCoverage, Row, SnapshotField } from '../../lambdas/core/restore/model.ts';
import type { ObjectPlan, RestorePlan } from '../../lambdas/core/restore/plan.ts';
import { readJson } from '../../lambdas/core/restore/store-json.ts';
import { FakeSnapshot, FakeSnapshots } from './fakes.ts';
import { brokerId, ORG_NAME, propertyId, runRestore, world } from './scenario.ts';

const CONFIRM = { confirmOrgId: '00D000000000001AAA' };
const T = '2026-01-01T10:30:00.000Z';
const BASE = '20260101T000000Z-abcdef';
const WATERMARK = '2026-01-01T00:00:00.000Z';

/** A view of an instant: the scenario's snapshot, with what the journal settled per object. */
class InstantSnapshot extends FakeSnapshot {
  constructor(
    data: Record<string, { fields: SnapshotField[]; rows: Row[] }>,
    private readonly covered: Record<string, Partial<ObjectCoverage>>,
  ) {
    super(BASE, '00D000000000001AAA', WATERMARK, data);
  }
  async coverage(object: string): Promise<ObjectCoverage> {
    return {
      instant: T,
      snapshotId: BASE,
      snapshotWatermark: WATERMARK,
      events: 0,
      uncertain: new Map(),
      ...this.covered[object],
    };
  }
}

/** The scenario's org and snapshot, with the snapshot read as of T through the given coverage. */
function instantWorld(covered: Record<string, Partial<ObjectCoverage>>) {
  const w = world();
  const fields = (object: string) => w.snapshot.fields(object) ?? [];
  const snapshot = new InstantSnapshot(
    {
      Broker__c: { fields: fields('Broker__c'), rows: w.data.Broker__c! },
      Property__c: { fields: fields('Property__c'), rows: w.data.Property__c! },
      Account: { fields: fields('Account'), rows: w.data.Account! },
    },
    covered,
  );
  return { ...w, deps: { ...w.deps, snapshots: new FakeSnapshots([snapshot]) } };
}

describe('a point-in-time plan says, per object, how its rows at the instant are known', () => {
  it('says continuous with the events replayed, or snapshot only with the snapshot, its age and why', async () => {
    const { deps, store, org } = instantWorld({
      Broker__c: { events: 7 },
      Property__c: {
        snapshotOnly: `snapshot ${BASE} does not mark the object continuous (its change events were not relayed to the journal)`,
      },
      Account: {
        snapshotOnly:
          'the journal is broken from 2026-01-01T02:00:00.000Z to 2026-01-01T09:00:00.000Z (relay stopped), as snapshot 20260101T090000000Z-bbbbbb records',
      },
    });
    const { plan, run } = await runRestore(deps, {
      objects: ['Broker__c', 'Property__c', 'Account'],
      pointInTime: T,
    });
    expect(run.dryRun).toBe(true);
    expect(plan.summary).toContain(`to ${T}, from snapshot ${BASE} and the change-event journal`);
    expect(plan.summary).toContain(
      `continuous to ${T}: 7 change event(s) replayed over snapshot ${BASE} (watermark ${WATERMARK})`,
    );
    expect(plan.summary).toContain(
      `snapshot only: ${BASE} taken ${WATERMARK}, 10.5 hour(s) before ${T}: snapshot ${BASE} does not mark the object continuous`,
    );
    expect(plan.summary).toContain(
      `snapshot only: ${BASE} taken ${WATERMARK}, 10.5 hour(s) before ${T}: the journal is broken from 2026-01-01T02:00:00.000Z`,
    );
    const stored = await readJson<RestorePlan>(store, plan.planKey);
    expect(stored?.pointInTime).toBe(T);
    const byObject = new Map(stored?.objects.map((o) => [o.object, o.pointInTime]));
    expect(byObject.get('Broker__c')).toMatchObject({ continuous: true, events: 7, uncertain: 0 });
    expect(byObject.get('Property__c')).toMatchObject({ continuous: false, events: 0 });
    expect(byObject.get('Property__c')?.snapshotOnlyReason).toMatch(/does not mark the object continuous/);
    expect(org.calls.filter((c) => /^(create|update|undelete)/.test(c))).toEqual([]);
  });

  it('names uncertain records with the gap time, and those a restore would write', async () => {
    const { deps, org, store } = instantWorld({
      Broker__c: {
        events: 3,
        uncertain: new Map([
          [brokerId(2), '2026-01-01T10:05:00.000Z'],
          [brokerId(3), '2026-01-01T10:07:00.000Z'],
        ]),
      },
    });
    // Broker 2 differs in the org: a restore would write its state before the gap.
    await org.update('Broker__c', [{ Id: brokerId(2), Email__c: 'changed@example.com' }]);
    const { plan } = await runRestore(deps, { objects: ['Broker__c'], pointInTime: T, mode: 'dry-run' });
    expect(plan.summary).toContain(
      `2 record(s) uncertain at ${T} (a gap event, or a change the journal could not apply: shown as last known before it; the next backup reads gap-named records again): ${brokerId(2)} (since 2026-01-01T10:05:00.000Z), ${brokerId(3)} (since 2026-01-01T10:07:00.000Z)`,
    );
    expect(plan.summary).toContain(
      `1 uncertain record(s) a restore would write with their last known state; check them against the next backup: ${brokerId(2)} (since 2026-01-01T10:05:00.000Z)`,
    );
    const root = restoreRoot(ORG_NAME, org.orgId);
    const objectPlan = await readJson<ObjectPlan>(store, restoreKeys.objectPlan(root, 'run-1', 'Broker__c'));
    expect(objectPlan?.uncertain).toEqual([
      { id: brokerId(2), gapAt: '2026-01-01T10:05:00.000Z', written: true },
      { id: brokerId(3), gapAt: '2026-01-01T10:07:00.000Z', written: false },
    ]);
  });

  it('writes uncertain records when asked to restore, and the summary at the end names them', async () => {
    const { deps, org } = instantWorld({
      Broker__c: { events: 1, uncertain: new Map([[brokerId(2), '2026-01-01T10:05:00.000Z']]) },
    });
    await org.update('Broker__c', [{ Id: brokerId(2), Email__c: 'changed@example.com' }]);
    const { plan, verify } = await runRestore(deps, {
      objects: ['Broker__c'],
      pointInTime: T,
      mode: 'revert-changes',
      ...CONFIRM,
    });
    expect(plan.totals.update).toBe(1);
    expect(verify?.matches).toBe(true);
    expect(org.live('Broker__c').find((b) => b.Id === brokerId(2))?.Email__c).toBe('b2@example.com');
    expect(verify?.summary).toContain(
      `Uncertain at ${T}: 1 record(s) the journal could not settle were written with their last known state; check them against the next backup, which reads them again: Broker__c ${brokerId(2)} (since 2026-01-01T10:05:00.000Z)`,
    );
  });

  it('keeps the summary bounded: the first ten uncertain records, then a count', async () => {
    const ids = [1, 2, 3, 4, 5, 6].map(propertyId);
    const many = new Map<string, string>();
    for (let n = 0; n < 14; n++)
      many.set(`a02000000009${String(n).padStart(3, '0')}AAA`, '2026-01-01T10:00:00.000Z');
    for (const id of ids) many.set(id, '2026-01-01T10:01:00.000Z');
    const { deps, store, org } = instantWorld({ Property__c: { events: 20, uncertain: many } });
    const { plan } = await runRestore(deps, { objects: ['Property__c'], pointInTime: T });
    expect(plan.summary).toContain('20 record(s) uncertain');
    expect(plan.summary).toContain("and 10 more in the object's plan");
    const stored = await readJson<RestorePlan>(store, plan.planKey);
    expect(stored?.objects[0]?.pointInTime?.firstUncertain).toHaveLength(10);
    const root = restoreRoot(ORG_NAME, org.orgId);
    const objectPlan = await readJson<ObjectPlan>(
      store,
      restoreKeys.objectPlan(root, 'run-1', 'Property__c'),
    );
    expect(objectPlan?.uncertain).toHaveLength(20);
  });

  it('says nothing of the journal for a restore from a snapshot', async () => {
    const { deps } = instantWorld({ Broker__c: { events: 7 } });
    const { plan } = await runRestore(deps, { objects: ['Broker__c'], snapshot: 'latest' });
    expect(plan.summary).not.toMatch(/continuous to|snapshot only|uncertain/);
  });

  it('refuses an instant in the future, or one the journal may not hold yet, saying when to start again', async () => {
    const at = (now: string) => {
      const { deps } = instantWorld({ Broker__c: { events: 1 } });
      return runRestore({ ...deps, now: () => Date.parse(now) }, { objects: ['Broker__c'], pointInTime: T });
    };
    await expect(at('2026-01-01T10:29:00.000Z')).rejects.toThrow(
      `${T} is in the future (it is 2026-01-01T10:29:00.000Z now)`,
    );
    // The queue gathers changes for five minutes; a minute more for the relay.
    const recent = at('2026-01-01T10:35:59.999Z');
    await expect(recent).rejects.toThrow(/may not yet hold every change up to 2026-01-01T10:30:00.000Z/);
    await expect(at('2026-01-01T10:35:59.999Z')).rejects.toThrow(/at or after 2026-01-01T10:36:00.000Z/);
    const { plan } = await at('2026-01-01T10:36:00.000Z');
    expect(plan.summary).toContain(`continuous to ${T}`);
  });
});
