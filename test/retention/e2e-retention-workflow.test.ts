import { liveClaims } from '../../lambdas/core/restore/lease.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildLocalRetentionApp } from '../../cli/commands/local-app.ts';
import { runLocalWorkflow } from '../../cli/commands/local-run.ts';
import type { RetentionPolicy } from '../../contract/workflow-contract.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { SWEEP_MARGIN_MS } from '../../lambdas/handlers/retention/handlers.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { backup, freshStoreDir, startSampleOrg } from '../backup/e2e-support.ts';

const POLICY: RetentionPolicy = { daily: 1, weekly: 0, monthly: 0, yearly: 0 };

async function keysUnder(store: LocalDirectoryStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys;
}

describe('the retention workflow, run as synthesized under its own policies after real backups', () => {
  let emu: RunningEmulator;
  const dir = freshStoreDir();
  const store = new LocalDirectoryStore(dir);
  const reader = new SnapshotReader(store);

  beforeAll(async () => {
    emu = await startSampleOrg('dreamhouse-lwc');
  }, 120_000);
  afterAll(async () => emu?.stop());

  const sweep = (executionName: string, more: Partial<Parameters<typeof runLocalWorkflow>[0]> = {}) =>
    runLocalWorkflow({
      instanceUrl: emu.instanceUrl,
      accessToken: emu.accessToken,
      store: dir,
      org: 'sample',
      app: (org) => buildLocalRetentionApp(org, POLICY),
      appKey: 'retention-daily-1',
      input: () => ({}),
      executionName,
      retryIntervalScale: 0,
      enforcePolicies: true,
      ...more,
    });

  const snapshotOf = async (mode: 'full' | 'incremental') => {
    const { summary } = await backup(emu, dir, mode);
    expect(summary.status).toBe('complete');
    return summary.snapshotId!;
  };

  it('expires what the policy no longer keeps, keeps the latest and its base, and a re-run after a crash mid-sweep finishes', async () => {
    // GIVEN two chains of the same day: a full, then a full and an incremental on it
    const a = await snapshotOf('full');
    const b = await snapshotOf('full');
    const c = await snapshotOf('incremental');
    expect((await reader.catalog('sample')).find((e) => e.snapshotId === c)?.baseSnapshotId).toBe(b);

    // WHEN the synthesized retention workflow runs under the app's policies
    const first = await sweep('sweep-1');
    expect(first.result.status, first.result.errorMessage).toBe('SUCCEEDED');
    // THEN the day's newest snapshot and the base it reads through stay, the older chain is gone
    expect(first.result.output).toMatchObject({ done: true, kept: 2, expired: 1 });
    expect((await reader.catalog('sample')).map((e) => e.snapshotId)).toEqual([b, c]);
    expect(await keysUnder(store, `orgs/sample/snapshots/${a}/`)).toEqual([]);
    const log = (first.result.output as { logKey: string }).logKey;
    expect(log).toMatch(/^orgs\/sample\/retention\/\d{8}T\d{9}Z-sweep-1\.json$/);
    for (const id of [b, c])
      expect(await verifySnapshot(store, await reader.manifest('sample', id))).toEqual([]);
    expect((await reader.pointInTime('sample', c)).chain.map((m) => m.snapshotId)).toEqual([b, c]);

    // GIVEN a newer chain, so that b and c expire
    const d = await snapshotOf('full');
    const e = await snapshotOf('incremental');
    // WHEN the sweeper's function dies after its third removal
    const original = LocalDirectoryStore.prototype.remove;
    let removals = 0;
    const spy = vi.spyOn(LocalDirectoryStore.prototype, 'remove').mockImplementation(async function (
      this: LocalDirectoryStore,
      key: string,
    ) {
      if (++removals > 3)
        throw Object.assign(new Error('the function stopped'), { name: 'Sandbox.Timedout' });
      return original.call(this, key);
    });
    const crashed = await sweep('sweep-2').finally(() => spy.mockRestore());
    // THEN the execution fails, and the snapshot it was removing is no longer listed nor restorable
    expect(crashed.result.status).toBe('FAILED');
    expect(crashed.result.error).toBe('Sandbox.Timedout');
    expect((await reader.catalog('sample')).map((x) => x.snapshotId)).toEqual([c, d, e]);
    await expect(reader.manifest('sample', b)).rejects.toThrow(/has no manifest/);
    expect((await keysUnder(store, `orgs/sample/snapshots/${b}/`)).length).toBeGreaterThan(0);

    // WHEN it runs again THEN it finishes the sweep it began, and the kept chain still reads whole
    const again = await sweep('sweep-3');
    expect(again.result.status, again.result.errorMessage).toBe('SUCCEEDED');
    expect(again.result.output).toMatchObject({ done: true, kept: 2, expired: 2 });
    expect((await reader.catalog('sample')).map((x) => x.snapshotId)).toEqual([d, e]);
    for (const id of [a, b, c]) expect(await keysUnder(store, `orgs/sample/snapshots/${id}/`)).toEqual([]);
    for (const id of [d, e])
      expect(await verifySnapshot(store, await reader.manifest('sample', id))).toEqual([]);
    expect((await reader.pointInTime('sample', 'latest')).chain.map((m) => m.snapshotId)).toEqual([d, e]);
  }, 600_000);

  it('sweeps in many invocations when each is given little time, each going on where the last stopped', async () => {
    // GIVEN a newer chain, so that the two snapshots left expire
    const [d, e] = (await reader.catalog('sample')).map((x) => x.snapshotId);
    const f = await snapshotOf('full');
    const g = await snapshotOf('incremental');
    // WHEN the workflow runs with no time for work in an invocation: each moves the sweep on once
    const answers: {
      done: boolean;
      removedObjects: number;
      cursor: { planned?: { source: number; list: number } } | null;
    }[] = [];
    const sliced = await sweep('sweep-sliced', {
      lambdaTimeoutMs: () => SWEEP_MARGIN_MS,
      onTask: (step) => {
        if (step.state === 'Sweep' && step.phase === 'after')
          answers.push(step.output as (typeof answers)[0]);
      },
    });
    // THEN it took several invocations, each handing its cursor to the next, and swept all
    expect(sliced.result.status, sliced.result.errorMessage).toBe('SUCCEEDED');
    expect(answers.length).toBeGreaterThan(2);
    expect(answers.slice(0, -1).every((a) => !a.done && a.cursor !== null)).toBe(true);
    expect(answers.at(-1)).toMatchObject({ done: true, cursor: null });
    expect(answers.reduce((sum, a) => sum + a.removedObjects, 0)).toBeGreaterThan(answers.length / 2);
    expect((await reader.catalog('sample')).map((x) => x.snapshotId)).toEqual([f, g]);
    for (const id of [d!, e!]) expect(await keysUnder(store, `orgs/sample/snapshots/${id}/`)).toEqual([]);
    for (const id of [f, g])
      expect(await verifySnapshot(store, await reader.manifest('sample', id))).toEqual([]);
    // ...planning first: the first classifies and its cursor names where it stopped; the second
    // reads the newest kept snapshot and lists the bodies (the org has no file, so no body is left
    // for the older one to name) and writes the log
    expect(answers.slice(0, 2).map((a) => a.cursor?.planned)).toEqual([{ source: 0, list: 0 }, undefined]);
    // ...under one retention log, with the list of bodies it wrote beside it; the record of where
    // its planning stopped (which the second invocation read) was removed, under the sweeper's
    // policies, once the sweep ended
    const logs = (await keysUnder(store, 'orgs/sample/retention/')).filter((k) => k.includes('sweep-sliced'));
    const stem = logs[0]!.replace(/\.json$/, '');
    expect(logs).toEqual([`${stem}.json`, `${stem}/bodies.json`]);
  }, 600_000);

  it('gives its turn back when its function dies between two invocations, so nothing waits an hour for the lease', async () => {
    // GIVEN a sweep with work to do whose every invocation runs out of time (it keeps the org's
    // turn between them)
    await snapshotOf('full');
    const heldBetween: string[] = [];
    const died = await sweep('sweep-died', {
      lambdaTimeoutMs: () => 1,
      // WHEN its function dies after an invocation that kept the turn
      onTask: async (step) => {
        if (step.state !== 'Sweep' || step.phase !== 'after') return;
        expect(step.output).toMatchObject({ done: false });
        heldBetween.push(...(await liveClaims(store, 'orgs/sample/', Date.now())).map((c) => c.runId));
        throw Object.assign(new Error('the function stopped'), { name: 'Sandbox.Timedout' });
      },
    });
    // THEN the execution fails with that error, and the turn it held is free again
    expect(died.result.status).toBe('FAILED');
    expect(died.result.error).toBe('Sandbox.Timedout');
    expect(new Set(heldBetween)).toEqual(new Set(['sweep-sweep-died']));
    expect(await liveClaims(store, 'orgs/sample/', Date.now())).toEqual([]);
    // ...and says that the execution ended, so that no late invocation of it claims again
    expect(await keysUnder(store, 'orgs/sample/lease/released/')).toContain(
      'orgs/sample/lease/released/sweep-sweep-died~ended.json',
    );
  }, 120_000);

  it('succeeds when Step Functions retries an invocation whose answer was lost after the sweep had ended', async () => {
    // GIVEN a sweep with a snapshot to expire
    await snapshotOf('full');
    const answers: { done: boolean; expired: number }[] = [];
    let lost = false;
    const retried = await sweep('sweep-lost-answer', {
      // WHEN the answer of the invocation that ended the sweep (and gave its turn back) is lost
      onTask: (step) => {
        if (step.state !== 'Sweep' || step.phase !== 'after') return;
        answers.push(step.output as (typeof answers)[0]);
        if (lost) return;
        lost = true;
        throw Object.assign(new Error('the answer was lost'), { name: 'Lambda.ServiceException' });
      },
    });
    // THEN the retry takes the turn again under the role's own lease records, finds nothing more
    // to remove, and gives the turn back
    expect(retried.result.status, retried.result.errorMessage).toBe('SUCCEEDED');
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatchObject({ done: true });
    expect(answers[0]!.expired).toBeGreaterThan(0);
    expect(answers[1]).toMatchObject({ done: true, expired: 0 });
    expect(await liveClaims(store, 'orgs/sample/', Date.now())).toEqual([]);
    const released = (await keysUnder(store, 'orgs/sample/lease/released/')).filter((k) =>
      k.includes('sweep-lost-answer'),
    );
    expect(released.map((k) => k.slice(k.lastIndexOf('/') + 1))).toEqual([
      'sweep-sweep-lost-answer.json',
      'sweep-sweep-lost-answer~1.json',
    ]);
  }, 120_000);

  it('refuses to sweep, removing nothing, when a catalog entry cannot be read', async () => {
    const catalog = await keysUnder(store, 'orgs/sample/catalog/');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${dir}/${catalog[0]}`, '{"truncated');
    // The sweep takes its turn (the org's vault lease) before it reads, and gives it back when it
    // fails: its lease records are all it leaves.
    const backups = async () =>
      (await keysUnder(store, 'orgs/sample/')).filter((k) => !k.startsWith('orgs/sample/lease/'));
    const before = await backups();
    const refused = await sweep('sweep-4');
    expect(refused.result.status).toBe('FAILED');
    expect(refused.result.error).toBe('RetentionCatalogUnreadableError');
    expect(await backups()).toEqual(before);
    expect(await liveClaims(store, 'orgs/sample/', Date.now())).toEqual([]);
  }, 120_000);
});
