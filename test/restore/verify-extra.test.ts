import { describe, expect, it } from 'vitest';
import { restoreKeys, restoreRoot } from '../../lambdas/core/restore/keys.ts';
import { writeJsonOnce } from '../../lambdas/core/restore/store-json.ts';
import {
  objectStep,
  planStep,
  rowCheckStep,
  validateStep,
  verifyStep,
} from '../../lambdas/core/restore/workflow.ts';
import { accountId, brokerId, ORG_NAME, propertyId, runRestore, world, writeSteps } from './scenario.ts';

const INPUT = { objects: ['Property__c'], mode: 'restore-deleted', confirmOrgId: '00D000000000001AAA' };

/** A restore of one hard-deleted property, written and not yet verified. */
async function propertyWritten(runId: string) {
  const w = world();
  w.org.hardDelete('Property__c', propertyId(3));
  const run = await validateStep(w.deps, INPUT, runId);
  await planStep(w.deps, run);
  await objectStep(w.deps, run, 'Property__c', 'main', 0);
  return { ...w, run };
}

describe('verification of extra rows', () => {
  it('fails a restore that finds duplicates of restored rows in the org, naming each by id', async () => {
    // GIVEN two properties restored under new ids, and a second insert of both that another run
    // recorded (as two restores writing at once did)
    const { org, deps, store } = world();
    for (const n of [1, 2]) org.hardDelete('Property__c', propertyId(n));
    const first = await runRestore(deps, INPUT, 'run-1');
    expect(first.verify?.matches).toBe(true);
    const copies = await org.create('Property__c', [
      { Name: 'House 1', Price__c: 100000 },
      { Name: 'House 2', Price__c: 200000 },
    ]);
    await writeJsonOnce(
      store,
      restoreKeys.idMap(restoreRoot(ORG_NAME, org.orgId), 'Property__c', 'run-0-main-00000-aaaaaaaa'),
      {
        object: 'Property__c',
        batch: 'run-0-main-00000-aaaaaaaa',
        entries: [
          [propertyId(1), copies[0]?.id],
          [propertyId(2), copies[1]?.id],
        ],
        failed: [],
        source: 'insert',
      },
    );
    expect(org.live('Property__c')).toHaveLength(8);

    // WHEN the same restore runs again
    const again = await runRestore(deps, INPUT, 'run-2');

    // THEN its verification fails and names the two extra rows
    expect(again.verify?.matches).toBe(false);
    const extra = again.verify?.report.extraRows ?? [];
    expect(extra).toHaveLength(2);
    expect(again.verify?.summary).toContain('2 extra row(s)');
    expect(again.verify?.summary).not.toContain('Verified');
    const live = new Set(org.live('Property__c').map((r) => r.Id));
    for (const row of extra) {
      expect(row.object).toBe('Property__c');
      expect(live.has(row.id)).toBe(true);
      expect(again.verify?.summary).toContain(row.id);
    }
  });

  it('fails a restore that created rows beyond its plan', async () => {
    const { org, deps, run } = await propertyWritten('run-extra');
    // A row the restore's user created during the run that no restore batch recorded.
    const [stray] = await org.create('Property__c', [{ Name: 'House 3', Price__c: 300000 }]);
    const verify = await verifyStep(deps, run);
    expect(verify.matches).toBe(false);
    expect(verify.report.extraRows.map((r) => r.id)).toEqual([stray?.id]);
    expect(verify.failedRows).toBe(1);
  });

  it('refuses a row check record that is not the check of its object, writing no report', async () => {
    const { org, deps, store, run } = await propertyWritten('run-planted');
    const root = restoreRoot(ORG_NAME, org.orgId);
    const key = restoreKeys.rowCheck(root, 'run-planted', 0, 'Property__c');
    // A check kept under the object's key that says it is another object's, with nothing wrong.
    await store.put(
      key,
      JSON.stringify({ formatVersion: 1, object: 'Broker__c', problems: [], extraRows: [] }),
    );
    await expect(rowCheckStep(deps, run, 0)).rejects.toThrow(
      `The row check record ${key} is not the check of Property__c`,
    );
    await expect(verifyStep(deps, run)).rejects.toThrow(/is not the check of Property__c/);
    await expect(store.get(restoreKeys.report(root, 'run-planted'))).rejects.toThrow();
  });

  it('checks each object once, keeping what it found for the report', async () => {
    const { org, deps, store, run } = await propertyWritten('run-kept');
    expect(await rowCheckStep(deps, run, 0)).toEqual({ done: true, cursor: 1, problems: 0 });
    const key = restoreKeys.rowCheck(restoreRoot(ORG_NAME, org.orgId), 'run-kept', 0, 'Property__c');
    const kept = JSON.parse(Buffer.from(await store.get(key)).toString()) as {
      summary: { verifiedRows: number };
    };
    expect(kept.summary.verifiedRows).toBe(1);
    // The org is not read again for an object already checked.
    const fetchByIds = org.fetchByIds.bind(org);
    let reads = 0;
    org.fetchByIds = async (...args) => {
      reads++;
      return fetchByIds(...args);
    };
    const verify = await verifyStep(deps, run);
    expect(reads).toBe(0);
    expect(verify.matches).toBe(true);
    expect(verify.report.objects).toEqual([kept.summary]);
  });
});

describe('verification an object at a time', () => {
  const ALL = {
    objects: ['Broker__c', 'Property__c', 'Account'],
    mode: 'restore-deleted',
    confirmOrgId: '00D000000000001AAA',
  };

  /** A restore of a row of each object, written; then two of the rows it brought back lost again. */
  async function writtenWithDifferences(runId: string) {
    const w = world();
    w.org.hardDelete('Broker__c', brokerId(1));
    w.org.hardDelete('Property__c', propertyId(1));
    w.org.hardDelete('Account', accountId(3));
    const run = await validateStep(w.deps, ALL, runId);
    const plan = await planStep(w.deps, run);
    await writeSteps(w.deps, run, plan);
    for (const [object, name] of [
      ['Broker__c', 'Broker 1'],
      ['Property__c', 'House 1'],
    ] as const)
      w.org.hardDelete(object, w.org.live(object).find((r) => r.Name === name)!.Id!);
    const stored = JSON.parse(
      Buffer.from(await w.store.get(restoreKeys.plan(restoreRoot(ORG_NAME, w.org.orgId), runId))).toString(),
    ) as { levels: string[][] };
    return { ...w, run, objects: stored.levels.flat() };
  }

  /** The report without what names the run. */
  const contentOf = (report: { objects: unknown; problems: unknown; extraRows: unknown }) => ({
    objects: report.objects,
    problems: report.problems,
    extraRows: report.extraRows,
  });

  it('reports the same, in plan order, whether the row checks or the verify step checked each object', async () => {
    // GIVEN two like restores, each with rows missing in two objects
    const whole = await writtenWithDifferences('run-whole');
    const stepped = await writtenWithDifferences('run-stepped');
    expect(stepped.objects).toHaveLength(3);
    // WHEN one is verified by the verify step alone, and the other's first object is checked by a
    // row check step past its deadline (which starts that one only), the rest by the verify step
    const first = await rowCheckStep(stepped.deps, stepped.run, 0, 0);
    expect(first).toEqual({ done: false, cursor: 1, problems: expect.any(Number) });
    const a = await verifyStep(whole.deps, whole.run);
    const b = await verifyStep(stepped.deps, stepped.run);
    // THEN both reports name the same rows, object by object in plan order
    expect(contentOf(b.report)).toEqual(contentOf(a.report));
    expect(a.report.objects.map((o) => o.object)).toEqual(whole.objects);
    const byObject = a.report.problems.map((p) => p.object);
    expect(new Set(byObject)).toEqual(new Set(['Broker__c', 'Property__c']));
    expect(byObject).toEqual(
      [...byObject].sort((x, y) => whole.objects.indexOf(x) - whole.objects.indexOf(y)),
    );
    expect(a.matches).toBe(false);
  });

  it('keeps one check of each object when two row check steps run at once', async () => {
    const twice = await writtenWithDifferences('run-twice');
    const once = await writtenWithDifferences('run-once');
    const [x, y] = await Promise.all([
      rowCheckStep(twice.deps, twice.run, 0),
      rowCheckStep(twice.deps, twice.run, 0),
    ]);
    expect(x).toMatchObject({ done: true, cursor: 3 });
    expect(y).toMatchObject({ done: true, cursor: 3 });
    const checks = [...twice.store.objects.keys()].filter((k) => k.includes('/row-checks/'));
    expect(checks).toHaveLength(3);
    const a = await verifyStep(once.deps, once.run);
    const b = await verifyStep(twice.deps, twice.run);
    expect(contentOf(b.report)).toEqual(contentOf(a.report));
  });
});
