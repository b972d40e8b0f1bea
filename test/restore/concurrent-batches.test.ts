import { describe, expect, it } from 'vitest';
import type { WriteRow } from '../../lambdas/core/restore/model.ts';
import { levelStep, objectStep, planStep, validateStep } from '../../lambdas/core/restore/workflow.ts';
import { brokerId, propertyId, runRestore, world } from './scenario.ts';

const CONFIRM = { confirmOrgId: '00D000000000001AAA' };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wraps the fake org's create so each call takes a while and the calls in flight are counted. */
function slowCreates(org: ReturnType<typeof world>['org'], crashOnCall?: number) {
  const create = org.create.bind(org);
  const seen = { inFlight: 0, most: 0, calls: 0, settledAfterCrash: 0, crashed: false };
  org.create = async (object: string, rows: readonly WriteRow[]) => {
    seen.calls += 1;
    const call = seen.calls;
    seen.inFlight += 1;
    seen.most = Math.max(seen.most, seen.inFlight);
    try {
      await pause(call === crashOnCall ? 5 : 30);
      const results = await create(object, rows);
      if (seen.crashed) seen.settledAfterCrash += 1;
      if (call === crashOnCall) {
        seen.crashed = true;
        throw new Error('simulated crash: the process died after this insert was written');
      }
      return results;
    } finally {
      seen.inFlight -= 1;
    }
  };
  return seen;
}

describe('an object written in concurrent batches', () => {
  it('runs the insert batches of one object at once, never more than batchesAtOnce', async () => {
    const { org, deps } = world();
    for (const n of [1, 2, 3, 4, 5, 6]) org.hardDelete('Property__c', propertyId(n));
    const seen = slowCreates(org);
    const { plan, verify } = await runRestore(
      { ...deps, batching: { size: 1, atOnce: 3 } },
      { objects: ['Property__c'], mode: 'restore-deleted', ...CONFIRM },
    );
    expect(plan.totals.insert).toBe(6);
    expect(seen.calls).toBe(6);
    expect(seen.most).toBe(3);
    expect(verify?.matches).toBe(true);
    expect(org.live('Property__c')).toHaveLength(6);
  });

  it('starts no group of batches that one as long as the longest so far would carry past the deadline', async () => {
    const { org, deps } = world();
    for (const n of [1, 2, 3, 4, 5, 6]) org.hardDelete('Property__c', propertyId(n));
    // A clock that moves only as inserts take time: each insert 30 ms, two at once 60 ms a group.
    let clock = 1_000_000;
    const create = org.create.bind(org);
    org.create = async (object: string, rows: readonly WriteRow[]) => {
      const results = await create(object, rows);
      clock += 30;
      return results;
    };
    const batched = { ...deps, now: () => clock, batching: { size: 1, atOnce: 2 } };
    const run = await validateStep(
      batched,
      { objects: ['Property__c'], mode: 'restore-deleted', ...CONFIRM },
      'run-1',
    );
    await planStep(batched, run);
    const cursors: number[] = [];
    for (let level = 0; ; level++) {
      const l = await levelStep(batched, run, level);
      if (l.done) break;
      for (const object of l.objects) {
        let cursor = 0;
        for (;;) {
          // Each invocation may spend 70 ms: one 60 ms group fits, a second would end at 120 ms.
          const r = await objectStep(batched, run, object, 'main', cursor, clock + 70);
          if (r.done) break;
          cursor = r.cursor;
          cursors.push(cursor);
        }
      }
    }
    expect(cursors).toEqual([2, 4]);
    expect(org.live('Property__c')).toHaveLength(6);
  });

  it('writes one batch at a time when batchesAtOnce is 1', async () => {
    const { org, deps } = world();
    for (const n of [1, 2, 3]) org.hardDelete('Property__c', propertyId(n));
    const seen = slowCreates(org);
    await runRestore(
      { ...deps, batching: { size: 1, atOnce: 1 } },
      { objects: ['Property__c'], mode: 'restore-deleted', ...CONFIRM },
    );
    expect(seen.calls).toBe(3);
    expect(seen.most).toBe(1);
  });

  it('creates no duplicates when a run killed during concurrent inserts is run again', async () => {
    const { org, deps } = world();
    for (const n of [1, 2, 3, 4, 5, 6]) org.hardDelete('Property__c', propertyId(n));
    expect(org.live('Property__c')).toHaveLength(0);
    const seen = slowCreates(org, 2);
    const batching = { size: 1, atOnce: 3 };
    await expect(
      runRestore(
        { ...deps, batching },
        { objects: ['Property__c'], mode: 'restore-deleted', ...CONFIRM },
        'run-killed',
      ),
    ).rejects.toThrow(/simulated crash/);
    // The batches already in flight finished before the failure was reported, and none started after.
    expect(seen.settledAfterCrash).toBe(2);
    expect(seen.calls).toBe(3);
    const createdBeforeRerun = org.live('Property__c').length;
    expect(createdBeforeRerun).toBe(3);
    const again = await runRestore(
      { ...deps, batching },
      { objects: ['Property__c'], mode: 'restore-deleted', ...CONFIRM },
      'run-again',
    );
    expect(again.verify?.matches).toBe(true);
    const live = org.live('Property__c');
    expect(live).toHaveLength(6);
    expect(new Set(live.map((p) => p.Name)).size).toBe(6);
    // Only the three rows never written were inserted by the second run.
    expect(seen.calls).toBe(6);
  });

  it('refuses a batch size or concurrency that is not a whole number of at least 1', async () => {
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(1));
    await expect(
      runRestore(
        { ...deps, batching: { atOnce: 0 } },
        { objects: ['Property__c'], mode: 'restore-deleted', ...CONFIRM },
      ),
    ).rejects.toThrow(/batchesAtOnce is 0: set it to a whole number of 1 or more/);
  });

  it('reads the live rows of every object at once while planning and verifying', async () => {
    const { org, deps } = world();
    org.hardDelete('Broker__c', brokerId(1));
    org.hardDelete('Property__c', propertyId(1));
    const fetch = org.fetchByIds.bind(org);
    let inFlight = 0;
    let most = 0;
    org.fetchByIds = async (object, ids, fields) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        await pause(20);
        return await fetch(object, ids, fields);
      } finally {
        inFlight -= 1;
      }
    };
    const { verify } = await runRestore(deps, {
      objects: ['Broker__c', 'Property__c'],
      mode: 'restore-deleted',
      ...CONFIRM,
    });
    expect(verify?.matches).toBe(true);
    expect(most).toBe(2);
  });
});
