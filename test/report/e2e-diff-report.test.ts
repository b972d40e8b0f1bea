import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLocalDiffReportApp } from '../../cli/commands/local-app.ts';
import { runLocalRestore } from '../../cli/commands/restore.ts';
import { runLocalWorkflow } from '../../cli/commands/local-run.ts';
import { AppPolicies } from '../../cli/local/policies.ts';
import { type SynthesizedWorkflow, synthesizeDefinition } from '../../cli/local/index.ts';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { diffSnapshots } from '../../lambdas/core/insight/diff.ts';
import {
  diffReportObject,
  finishDiffReport,
  startDiffReport,
} from '../../lambdas/core/report/diff-report.ts';
import { parseRestoreInput } from '../../lambdas/core/restore/input.ts';
import { acquireLease, releaseLease } from '../../lambdas/core/restore/lease.ts';
import { CLAIM_CLOCK_MARGIN_MS, vaultLeaseRoot } from '../../lambdas/core/vault-lease.ts';
import { appWithoutBundling, exampleConfigJson } from '../infra/fixtures/app-fixture.ts';
import { backup } from '../backup/e2e-support.ts';
import { buildScenario, changeBrokerLayoutAgain, type Scenario } from '../insight/scenario.ts';

const json = async (store: LocalDirectoryStore, key: string): Promise<unknown> =>
  JSON.parse(new TextDecoder().decode(await store.get(key)));

async function keysUnder(store: LocalDirectoryStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys;
}

describe('the diff report workflow, run as synthesized under its own policies', () => {
  let sc: Scenario;
  let store: LocalDirectoryStore;

  beforeAll(async () => {
    sc = await buildScenario();
    store = new LocalDirectoryStore(sc.dir);
  }, 300_000);
  afterAll(async () => sc?.emu.stop());

  const report = (input: unknown, executionName: string) =>
    runLocalWorkflow({
      instanceUrl: sc.emu.instanceUrl,
      accessToken: sc.emu.accessToken,
      store: sc.dir,
      org: 'sample',
      app: (org) => buildLocalDiffReportApp(org),
      appKey: 'diff-report',
      input: () => input as never,
      executionName,
      retryIntervalScale: 0,
      enforcePolicies: true,
    });

  it('writes the same report as sfbackup diff, one object per item, and the restore inputs it suggests', async () => {
    const { result } = await report({ from: sc.s1, to: sc.s2 }, 'report-s1-s2');
    expect(result.status, result.errorMessage).toBe('SUCCEEDED');
    const output = result.output as {
      reportKey: string;
      from: string;
      to: string;
      totals: Record<string, number>;
      summary: string;
      restoreInputs: {
        kind: string;
        key: string | null;
        none?: string;
        object?: string;
        fields?: string[];
        rows?: number;
      }[];
    };
    expect(output.reportKey).toBe('reports/sample/diffs/report-s1-s2/diff.json');
    expect([output.from, output.to]).toEqual([sc.s1, sc.s2]);
    expect(output.totals).toMatchObject({ inserted: 1, deletedToBin: 1, gone: 1 });
    expect(output.totals.changed).toBeGreaterThanOrEqual(1);
    expect(output.summary).toContain(`${sc.s1} -> ${sc.s2}`);

    // The same comparison as the CLI's, made by the core in one process.
    const direct = await diffSnapshots(store, 'sample', sc.s1, sc.s2, { sampleLimit: 10_000 });
    const written = (await json(store, output.reportKey)) as typeof direct;
    expect(written.objects).toEqual(direct.objects);
    expect(written.metadata).toEqual(direct.metadata);
    expect(written.objectsOnlyInA).toEqual(direct.objectsOnlyInA);
    const property = written.objects.find((o) => o.object === 'Property__c');
    expect(property?.changed.fields.map((f) => f.field)).toContain('Description__c');
    // One result per object compared, written by the Distributed Map's items.
    const perObject = await keysUnder(store, 'reports/sample/diffs/report-s1-s2/objects/');
    expect(perObject).toHaveLength(written.objects.length);

    const deleted = output.restoreInputs.find((i) => i.kind === 'deleted');
    const changed = output.restoreInputs.filter((i) => i.kind === 'changed');
    expect(deleted?.key).toBe('reports/sample/diffs/report-s1-s2/restore-input-deleted.json');
    const deletedInput = (await json(store, String(deleted?.key))) as { records: string[]; snapshot: string };
    expect(parseRestoreInput(deletedInput)).toMatchObject({ mode: 'dry-run' });
    expect(deletedInput.snapshot).toBe(sc.s1);
    expect(deletedInput.records.sort()).toEqual([sc.binned, sc.hardDeleted].sort());
    // One exact input per object and set of changed fields, numbered from 1.
    expect(changed.map((i) => i.key)).toEqual(
      changed.map((_, n) => `reports/sample/diffs/report-s1-s2/restore-input-changed-${n + 1}.json`),
    );
    const description = changed.find(
      (i) => i.object === 'Property__c' && i.fields?.includes('Description__c'),
    );
    expect(description).toMatchObject({ fields: ['Description__c'], rows: 1 });
    expect(await json(store, 'reports/sample/diffs/report-s1-s2/restore-inputs-changed.json')).toEqual(
      changed,
    );
    const changedInput = (await json(store, String(description?.key))) as {
      records: string[];
      fields: string[];
    };
    expect(changedInput.records).toEqual([sc.changed]);
    expect(changedInput.fields).toEqual(['Property__c.Description__c']);

    // The suggested input goes to the restore workflow as it is: a dry run that plans both rows.
    const { summary } = await runLocalRestore({
      instanceUrl: sc.emu.instanceUrl,
      accessToken: sc.emu.accessToken,
      store: sc.dir,
      org: 'sample',
      input: deletedInput,
      retryIntervalScale: 0,
    });
    expect(summary.status, summary.message).toBe('SUCCEEDED');
    expect(summary.mode).toBe('dry-run');
    expect(summary.planKey).toBeTruthy();
  }, 300_000);

  it('compares only the objects asked for', async () => {
    const { result } = await report(
      { from: sc.s2, to: 'latest', objects: ['Property__c'] },
      'report-property',
    );
    expect(result.status, result.errorMessage).toBe('SUCCEEDED');
    const output = result.output as { reportKey: string; totals: Record<string, number> };
    const written = (await json(store, output.reportKey)) as { objects: { object: string }[] };
    expect(written.objects.map((o) => o.object)).toEqual(['Property__c']);
    expect(output.totals).toMatchObject({ objectsCompared: 1, undeleted: 1 });
  }, 120_000);

  it.each([
    ['no "from"', {}, /from/],
    ['a field it does not know', { from: 'latest', form: 'x' }, /form/],
    ['a snapshot that does not exist', { from: '20990101T000000Z-nope' }, /20990101T000000Z-nope/],
    ['an object neither side holds', { from: 'latest', objects: ['Nope__c'] }, /Nope__c/],
  ])(
    'refuses %s at its first step, naming the problem, and writes nothing',
    async (_what, input, message) => {
      const name = `rejected-${Math.random().toString(36).slice(2, 8)}`;
      const { result } = await report(input, name);
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('InvalidInsightRequestError');
      expect(result.errorMessage).toMatch(message);
      expect(await keysUnder(store, `reports/sample/diffs/${name}/`)).toEqual([]);
    },
    120_000,
  );

  it('writes nothing while an erasure of the org holds its vault lease, and reports as before once it has ended', async () => {
    // GIVEN an erasure holding the org's vault lease (claimed ten seconds ago)
    const tenSecondsAgo = { now: () => Date.now() - 10_000, sleep: async () => {} };
    await acquireLease(store, vaultLeaseRoot('sample'), 'erasure-dpo-3', tenSecondsAgo);
    // WHEN a report runs THEN it fails at its first step, naming the erasure, and writes nothing
    const { result } = await report({ from: sc.s1, to: sc.s2 }, 'report-during-erasure');
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ErasureDuringStepError');
    expect(result.errorMessage).toMatch(
      /^An erasure is rewriting the backups of org sample: execution dpo-3 of its erase workflow holds the org's vault lease since \S+\. What this diff report would read may hold the person it removes, so it read and wrote nothing\./,
    );
    expect(await keysUnder(store, 'reports/sample/diffs/report-during-erasure/')).toEqual([]);
    // AND once the erasure has ended, a report goes
    await releaseLease(store, vaultLeaseRoot('sample'), 'erasure-dpo-3', tenSecondsAgo.now);
    const after = await report({ from: sc.s1, to: sc.s2, objects: ['Property__c'] }, 'report-after-erasure');
    expect(after.result.status, after.result.errorMessage).toBe('SUCCEEDED');
  }, 120_000);

  it("refuses a step's write once an erasure claimed the org while it read, and a step begun while one holds it", async () => {
    // GIVEN a report begun, whose object step reads while an erasure claims the org (and ends)
    const begun = await startDiffReport(
      store,
      'sample',
      { from: sc.s1, to: sc.s2, objects: ['Property__c'] },
      'report-raced',
    );
    const raced = Object.create(store) as LocalDirectoryStore;
    let claimed = 0;
    const claimOnce = async (key: string) => {
      if (claimed || !key.includes('/objects/Property__c/')) return;
      claimed = -1;
      const holder = await acquireLease(store, vaultLeaseRoot('sample'), 'erasure-dpo-5', {
        sleep: async () => {},
      });
      claimed = holder.claimedAt;
      await releaseLease(store, vaultLeaseRoot('sample'), 'erasure-dpo-5');
    };
    raced.get = async (key: string) => {
      await claimOnce(key);
      return store.get(key);
    };
    raced.getStream = async (key: string) => {
      await claimOnce(key);
      return store.getStream(key);
    };
    // WHEN the object step runs THEN it reads, then refuses to write what it read
    const error = await diffReportObject(raced, 'sample', begun.runKey, 'Property__c').catch(
      (e: unknown) => e,
    );
    expect(claimed).toBeGreaterThan(0);
    expect((error as Error).name).toBe('ErasureDuringStepError');
    expect((error as Error).message).toMatch(
      /^An erasure of org sample \(execution dpo-5 of its erase workflow, claimed at \S+\) began while this diff report read its backups: .* so it did not write reports\/sample\/diffs\/report-raced\/objects\/Property__c\.json or anything after it\. That execution has ended: start it again\.$/,
    );
    expect(await keysUnder(store, `${begun.runKey}objects/`)).toEqual([]);
    // AND a finish begun while an erasure holds the org (claimed a while ago) reads and writes nothing
    const aWhileAgo = { now: () => Date.now() - 60_000, sleep: async () => {} };
    await acquireLease(store, vaultLeaseRoot('sample'), 'erasure-dpo-6', aWhileAgo);
    try {
      await expect(finishDiffReport(store, 'sample', begun.runKey)).rejects.toThrow(
        /execution dpo-6 of its erase workflow holds the org's vault lease since .* it read and wrote nothing/,
      );
    } finally {
      await releaseLease(store, vaultLeaseRoot('sample'), 'erasure-dpo-6', aWhileAgo.now);
    }
    expect(await keysUnder(store, begun.runKey)).toEqual([
      `${begun.runKey}objects.json`,
      `${begun.runKey}run.json`,
    ]);
    // (the reports after this one begin past the clock margin of the erasure claimed during it)
    const margin = claimed + CLAIM_CLOCK_MARGIN_MS + 100 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, margin)));
  }, 120_000);

  it('lists the snapshots there are when the one asked for does not exist', async () => {
    // One character off, whatever the random suffix ends with.
    const near = `${sc.s1.slice(0, -1)}${sc.s1.endsWith('x') ? 'y' : 'x'}`;
    const { result } = await report({ from: near }, 'rejected-near');
    expect(result.status).toBe('FAILED');
    expect(result.errorMessage).toContain(sc.s1);
  }, 120_000);

  it('compares the metadata of a metadata-only snapshot that "latest" selects, as sfbackup diff does', async () => {
    // Runs last: it adds a metadata change and a metadata-only snapshot to the vault.
    const component = await changeBrokerLayoutAgain(sc.emu, sc.dir, sc.s2);
    const { summary } = await backup(sc.emu, sc.dir, 'metadata');
    expect(summary.status).toBe('complete');
    const { result } = await report(
      { from: sc.s2, to: 'latest', objects: ['Property__c'] },
      'report-metadata',
    );
    expect(result.status, result.errorMessage).toBe('SUCCEEDED');
    const output = result.output as { reportKey: string };
    const written = (await json(store, output.reportKey)) as { metadata: { changed: string[] } };
    const direct = await diffSnapshots(store, 'sample', sc.s2, 'latest', { sampleLimit: 10_000 });
    expect(direct.metadata.changed).toContain(component);
    expect(written.metadata).toEqual(direct.metadata);
  }, 180_000);
});

describe("the diff report's functions, under the example app's policies", () => {
  let workflow: SynthesizedWorkflow;
  let policies: AppPolicies;
  let bucket: string;
  let role: string;

  beforeAll(() => {
    const built = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
    const prod = built.orgStacks.find((s) => s.org.name === 'dreamhouse-prod');
    if (!prod) throw new Error('The example config has no org dreamhouse-prod.');
    workflow = synthesizeDefinition(prod, prod.diffReport.stateMachine);
    policies = new AppPolicies(workflow.stacks, workflow.resolver, 'us-east-1');
    const fn = [...workflow.functions.values()].find((f) =>
      f.logicalId.startsWith('DreamhouseProdDiffReportDiffObject'),
    );
    if (!fn) throw new Error('No diff object function');
    bucket = String(fn.environment.VAULT_BUCKET);
    role = String(policies.roleOf(fn.stackName, fn.logicalId));
  }, 180_000);

  const object = (key: string) => `arn:aws:s3:::${bucket}/${key}`;
  const snapshotPart = (org: string) =>
    `orgs/${org}/snapshots/20260101T000000000Z-abcdef/objects/Account/part-00001.csv.gz`;

  it("reads its own org's backups and writes its own reports", async () => {
    expect(
      await policies.check({
        principal: role,
        action: 's3:GetObject',
        resource: object(snapshotPart('dreamhouse-prod')),
      }),
    ).toEqual({ allowed: true });
    expect(
      await policies.check({
        principal: role,
        action: 's3:PutObject',
        resource: object('reports/dreamhouse-prod/diffs/r1/diff.json'),
      }),
    ).toEqual({ allowed: true });
  });

  it("lets the state machine read its own org's reports only (the Distributed Map's objects list)", async () => {
    const machine = String(policies.roleOf(workflow.stackName, workflow.stateMachineLogicalId));
    expect(
      await policies.check({
        principal: machine,
        action: 's3:GetObject',
        resource: object('reports/dreamhouse-prod/diffs/r1/objects.json'),
      }),
    ).toEqual({ allowed: true });
    for (const key of [snapshotPart('dreamhouse-prod'), 'reports/dreamhouse-uat/diffs/r1/objects.json']) {
      expect(
        await policies.check({ principal: machine, action: 's3:GetObject', resource: object(key) }),
        key,
      ).toMatchObject({
        allowed: false,
      });
    }
  });

  it("can neither write, overwrite nor delete a backup, nor read another org's", async () => {
    for (const action of ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion']) {
      expect(
        await policies.check({ principal: role, action, resource: object(snapshotPart('dreamhouse-prod')) }),
        action,
      ).toMatchObject({ allowed: false });
    }
    expect(
      await policies.check({
        principal: role,
        action: 's3:DeleteObject',
        resource: object('reports/dreamhouse-prod/diffs/r1/diff.json'),
      }),
    ).toMatchObject({ allowed: false });
    expect(
      await policies.check({
        principal: role,
        action: 's3:GetObject',
        resource: object(snapshotPart('dreamhouse-uat')),
      }),
    ).toMatchObject({
      allowed: false,
    });
    expect(
      await policies.check({
        principal: role,
        action: 's3:PutObject',
        resource: object('reports/dreamhouse-uat/diffs/r1/diff.json'),
      }),
    ).toMatchObject({ allowed: false });
    expect(
      await policies.check({
        principal: role,
        action: 's3:PutObject',
        resource: object('restores/dreamhouse-prod/x.json'),
      }),
    ).toMatchObject({ allowed: false });
  });
});
