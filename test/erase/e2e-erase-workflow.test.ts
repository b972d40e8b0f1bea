import { removedVersionsPrefix } from '../../lambdas/core/erase/removals.ts';
import { describe, expect, it, vi } from 'vitest';
import { aws_iam as iam } from 'aws-cdk-lib';
import { Stack } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLocalDiffReportApp, buildLocalEraseApp } from '../../cli/commands/local-app.ts';
import { runLocalWorkflow } from '../../cli/commands/local-run.ts';
import { runLocalRestore } from '../../cli/commands/restore.ts';
import { liveIds } from '../../cli/commands/demo-org.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { holdRestoreLeases } from '../../lambdas/core/erase/lease.ts';
import { restoreRoot } from '../../lambdas/core/restore/keys.ts';
import { liveClaims } from '../../lambdas/core/restore/lease.ts';
import {
  backupEnded,
  backupHeartbeat,
  startBackupRun,
  vaultLeaseRoot,
} from '../../lambdas/core/vault-lease.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { startEmulator } from '../../emulator/index.ts';
import { FIXTURES } from '../backup/e2e-support.ts';
import { OrgWriter } from '../support/org-writer.ts';
import { copyOfVault, eraseHerById, erasureScenario } from './scenario.ts';
import { everyVersion, findPerson } from './vault-scan.ts';
import { releaseErasure, startErasure } from './steps.ts';
import { ERASE_STEP_MARGIN_MS } from '../../lambdas/handlers/erase/handlers.ts';

/**
 * The keys an execution added to the vault but the list of versions it removed, having checked
 * that list names only its own progress records.
 */
function ownRecords(after: Map<string, string>, before: Map<string, string>, execution: string): string[] {
  const removed = removedVersionsPrefix('sample', execution);
  const added = [...after.keys()].filter((k) => !before.has(k));
  for (const key of added.filter((k) => k.startsWith(removed)))
    expect(JSON.parse(after.get(key)!).key, key).toMatch(
      new RegExp(`^orgs/sample/erasures/${execution}/progress/(plan|erase|scan)\\.json$`),
    );
  return added.filter((k) => !k.startsWith(removed));
}

describe('the erase workflow, run as synthesized under its own policies and the vault bucket policy', () => {
  const sc = erasureScenario();

  const copy = (): string => copyOfVault(sc, 'sfbackup-erase-wf-');

  const run = (dir: string, input: unknown, executionName: string, lock?: 'GOVERNANCE' | 'COMPLIANCE') =>
    runLocalWorkflow({
      instanceUrl: sc.emu.instanceUrl,
      accessToken: sc.emu.accessToken,
      store: dir,
      org: 'sample',
      app: (org) => buildLocalEraseApp(org, lock ? { objectLockMode: lock } : {}),
      appKey: `erase-${lock ?? 'unlocked'}`,
      input: () => input as never,
      executionName,
      retryIntervalScale: 0,
      enforcePolicies: true,
    });

  it('reports, as a dry run, every snapshot, part and row that holds the person, and writes only its plan', async () => {
    const dir = copy();
    const before = await everyVersion(new LocalDirectoryStore(dir), 'orgs/');
    const { result } = await run(dir, { ids: [sc.person], requestedBy: 'dpo@example.com' }, 'dry-run-1');
    expect(result.status, result.errorMessage).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      mode: 'dry-run',
      planKey: 'orgs/sample/erasures/dry-run-1/plan.json',
      ids: 1,
      snapshots: 4,
      parts: 4,
      rowsByObject: { Contact: 4 },
    });
    const after = await everyVersion(new LocalDirectoryStore(dir), 'orgs/');
    expect(ownRecords(after, before, 'dry-run-1')).toEqual(['orgs/sample/erasures/dry-run-1/plan.json']);
    for (const [key, text] of before) expect(after.get(key), key).toBe(text);
    const plan = JSON.parse(after.get('orgs/sample/erasures/dry-run-1/plan.json')!) as {
      keys: { key: string; snapshotId?: string; rows: number }[];
    };
    expect(new Set(plan.keys.filter((k) => k.rows > 0).map((k) => k.snapshotId))).toEqual(
      new Set(sc.snapshots.slice(0, 4)),
    );
  }, 180_000);

  it('plans, erases and scans over many invocations when each has too little time, ending as one long invocation does', async () => {
    // One vault erased with the function's full time, another with 25 ms of work a call: a step
    // stops after the key it is on, keeps its progress in the vault and runs again from there.
    // (Steps stopped after every key: core-local-vault.test.ts.)
    const whole = copy();
    const sliced = copy();
    const invocations = new Map<string, number>();
    const counting = (step: { state: string; phase: string }) => {
      if (step.phase === 'before') invocations.set(step.state, (invocations.get(step.state) ?? 0) + 1);
    };
    const runSliced = (input: unknown, executionName: string) =>
      runLocalWorkflow({
        instanceUrl: sc.emu.instanceUrl,
        accessToken: sc.emu.accessToken,
        store: sliced,
        org: 'sample',
        app: (org) => buildLocalEraseApp(org, {}),
        appKey: 'erase-unlocked',
        input: () => input as never,
        executionName,
        retryIntervalScale: 0,
        enforcePolicies: true,
        lambdaTimeoutMs: () => ERASE_STEP_MARGIN_MS + 25,
        onTask: counting,
      });
    const dryInput = { object: 'Contact', where: { Email: sc.email }, requestedBy: 'dpo@example.com' };
    const before = await everyVersion(new LocalDirectoryStore(sliced), 'orgs/');
    const dry = await runSliced(dryInput, 'dry-sliced');
    expect(dry.result.status, dry.result.errorMessage).toBe('SUCCEEDED');
    expect(dry.result.output).toMatchObject({
      done: true,
      mode: 'dry-run',
      ids: 1,
      snapshots: 4,
      parts: 4,
      orgIds: [sc.orgId],
    });
    expect(invocations.get('PlanErasure')).toBeGreaterThan(1);
    // Its progress, which held the digests of her values, is gone with every version of it.
    const afterDry = await everyVersion(new LocalDirectoryStore(sliced), 'orgs/');
    expect(ownRecords(afterDry, before, 'dry-sliced')).toEqual(['orgs/sample/erasures/dry-sliced/plan.json']);

    invocations.clear();
    const input = { ...dryInput, mode: 'erase', confirmOrgId: sc.orgId };
    const one = await run(whole, input, 'erase-whole');
    const many = await runSliced(input, 'erase-sliced');
    expect(one.result.status, one.result.errorMessage).toBe('SUCCEEDED');
    expect(many.result.status, many.result.errorMessage).toBe('SUCCEEDED');
    for (const state of ['PlanErasure', 'ScanAndLog'])
      expect(invocations.get(state), state).toBeGreaterThan(1);
    type Output = { outcome: Record<string, unknown>; log: { versionsScanned: number; traces: number } };
    const [a, b] = [one.result.output as Output, many.result.output as Output];
    expect(b.outcome).toEqual(a.outcome);
    expect(b.outcome.rowsRemoved).toBe(4);
    expect(b.log.traces).toBe(0);
    expect(await findPerson(new LocalDirectoryStore(sliced), sc, 'orgs/')).toEqual([]);
    // Both vaults hold the same records, byte for byte, erasure records and leases aside...
    const records = async (dir: string) =>
      new Map(
        [...(await everyVersion(new LocalDirectoryStore(dir), 'orgs/'))].filter(
          ([key]) => !key.startsWith('orgs/sample/erasures/') && !key.startsWith('orgs/sample/lease/'),
        ),
      );
    expect(await records(sliced)).toEqual(await records(whole));
    // ...and each erasure left its plan and log, no progress, and the list of what it removed.
    const erasures = [
      ...(await everyVersion(new LocalDirectoryStore(sliced), 'orgs/sample/erasures/')).keys(),
    ];
    expect(erasures.filter((k) => k.includes('/progress/'))).toEqual([]);
    expect(
      erasures.filter(
        (k) => k.includes('erase-sliced') && !k.startsWith(removedVersionsPrefix('sample', 'erase-sliced')),
      ),
    ).toHaveLength(2);
    expect(
      erasures.filter((k) => k.startsWith(removedVersionsPrefix('sample', 'erase-sliced'))).length,
    ).toBeGreaterThan(0);
  }, 300_000);

  /**
   * Runs a real erasure of her while a backup of the org is running (a live heartbeat, no catalog
   * entry yet), ending the backup at the erasure's third try; `before` runs first. Answers the
   * run, the start step's answers, and the keys written while it waited.
   */
  const eraseWhileBackupRuns = async (
    executionName: string,
    before: (store: LocalDirectoryStore) => Promise<void> = async () => {},
    /** Before each try of the start step after the first (`tries` so far) instead of ending the backup at the third. */
    beforeTry?: (tries: number, store: LocalDirectoryStore, running: string) => Promise<void>,
  ) => {
    const dir = copy();
    const store = new LocalDirectoryStore(dir);
    const running = '20261204T050000000Z-runnin';
    await before(store);
    await backupHeartbeat(store, 'sample', running, Date.now());
    const atStart = await everyVersion(store, '');
    const phases: string[] = [];
    const answers: unknown[] = [];
    let writtenWhileWaiting: string[] = [];
    let backupMeanwhile: Promise<unknown> | undefined;
    const { result } = await runLocalWorkflow({
      instanceUrl: sc.emu.instanceUrl,
      accessToken: sc.emu.accessToken,
      store: dir,
      org: 'sample',
      app: (org) => buildLocalEraseApp(org, {}),
      appKey: 'erase-unlocked',
      input: () => eraseHerById(sc) as never,
      executionName,
      retryIntervalScale: 0,
      waitScale: 0,
      enforcePolicies: true,
      onTask: async (step) => {
        if (step.state !== 'PlanErasure') return;
        phases.push(step.phase);
        if (step.phase === 'after') answers.push(step.output);
        const tries = phases.filter((p) => p === 'before').length;
        if (beforeTry) {
          if (step.phase === 'before' && tries > 1) await beforeTry(tries, store, running);
        } else if (tries === 3 && step.phase === 'before') {
          const now = await everyVersion(store, '');
          writtenWhileWaiting = [...now.keys()].filter((k) => now.get(k) !== atStart.get(k));
          // Another backup starting now: refused while the erasure holds the org, else run and ended.
          const second = '20261204T051000000Z-second';
          backupMeanwhile = startBackupRun(store, 'sample', second, Date.now()).then(
            () => backupEnded(store, 'sample', second, Date.now()).then(() => 'started'),
            (error: Error) => error.name,
          );
          await backupMeanwhile;
          await backupEnded(store, 'sample', running, Date.now());
        }
      },
    });
    return { store, result, answers, writtenWhileWaiting, backupMeanwhile: await backupMeanwhile };
  };

  it('waits for a backup that is running, with nothing written, and erases once it has ended', async () => {
    // GIVEN a backup of the org running, WHEN a real erasure starts, and the backup ends after
    // the erasure's second attempt
    const { store, result, answers, writtenWhileWaiting, backupMeanwhile } =
      await eraseWhileBackupRuns('erase-waits');
    // THEN its first step was tried again, having written nothing, and the erasure went on
    expect(result.status, result.errorMessage).toBe('SUCCEEDED');
    // (each wait an answer, not a failed invocation)
    expect(answers.slice(0, 2)).toEqual([
      expect.objectContaining({
        done: false,
        waiting: true,
        reason: expect.stringMatching(
          /A backup of org sample is running: snapshot 20261204T050000000Z-runnin/,
        ),
      }),
      expect.objectContaining({ done: false, waiting: true }),
    ]);
    expect(answers[2]).not.toHaveProperty('waiting');
    expect(writtenWhileWaiting).toEqual([]);
    // (it held nothing meanwhile: a backup could start)
    expect(backupMeanwhile).toBe('started');
    expect((result.output as { outcome: { rowsRemoved: number } }).outcome.rowsRemoved).toBe(4);
    expect(await findPerson(store, sc, 'orgs/')).toEqual([]);
  }, 300_000);

  it('keeps the org while it waits for a backup that began before its claim, under its own policies, and erases once it has ended', async () => {
    // GIVEN an erasure whose first try took the org's leases and was lost (a retried step), and
    // a backup that began before that claim
    const { store, result, answers, writtenWhileWaiting, backupMeanwhile } = await eraseWhileBackupRuns(
      'erase-waits-holding',
      (s) => holdRestoreLeases(s, 'sample', 'erase-waits-holding'),
    );
    // THEN it waited, holding the org: a backup started meanwhile was refused
    expect(result.status, result.errorMessage).toBe('SUCCEEDED');
    expect(answers.slice(0, 2)).toEqual([
      expect.objectContaining({
        waiting: true,
        reason: expect.stringMatching(
          /snapshot 20261204T050000000Z-runnin .*It began before this erasure took the org, which the erasure keeps while it waits/,
        ),
      }),
      expect.objectContaining({ waiting: true }),
    ]);
    expect(backupMeanwhile).toBe('BackupHeldByErasureError');
    // (its renewals aside, nothing was written while it waited: not yet due, at this pace)
    expect(writtenWhileWaiting).toEqual([]);
    expect((result.output as { outcome: { rowsRemoved: number } }).outcome.rowsRemoved).toBe(4);
    expect(await findPerson(store, sc, 'orgs/')).toEqual([]);
    // AND its end gave the org back
    expect(await liveClaims(store, vaultLeaseRoot('sample'), Date.now())).toEqual([]);
  }, 300_000);

  it('gives the org back when it gives up waiting, holding it, for a backup that outlasts its 12 hours', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      // GIVEN an erasure that holds the org while a backup that began before its claim runs on:
      // each try comes 25 minutes after the last, and finds the backup's heartbeat renewed
      const { store, result, answers } = await eraseWhileBackupRuns(
        'erase-gives-up',
        (s) => holdRestoreLeases(s, 'sample', 'erase-gives-up'),
        async (_tries, s, running) => {
          vi.setSystemTime(Date.now() + 25 * 60_000);
          await backupHeartbeat(s, 'sample', running, Date.now());
        },
      );
      // THEN it waited, holding the org, until its time was up, and failed saying why
      expect(answers.length).toBeGreaterThan(12 * (60 / 25));
      expect(answers.every((a) => (a as { waiting?: boolean }).waiting === true)).toBe(true);
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('ErasureMustWaitError');
      expect(result.errorMessage).toMatch(/began before this erasure took the org/);
      // AND the release state gave every lease back: the org is free at once, not an hour later
      expect(await liveClaims(store, vaultLeaseRoot('sample'), Date.now())).toEqual([]);
      expect(await liveClaims(store, restoreRoot('sample', sc.orgId), Date.now())).toEqual([]);
      await expect(
        startBackupRun(store, 'sample', '20261204T090000000Z-after', Date.now()),
      ).resolves.toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  }, 300_000);

  it('erases her for good: no version holds her, every snapshot verifies and restores without her, and the log holds no value', async () => {
    const dir = copy();
    const store = new LocalDirectoryStore(dir);
    expect((await findPerson(store, sc, 'orgs/')).length).toBeGreaterThan(0);
    // A restore of the full snapshot's deleted contacts into the org, from a vault.
    const restoreDeleted = (from: string) =>
      runLocalRestore({
        instanceUrl: sc.emu.instanceUrl,
        accessToken: sc.emu.accessToken,
        store: from,
        org: 'sample',
        input: {
          snapshot: sc.snapshots[0],
          objects: ['Contact'],
          mode: 'restore-deleted',
          confirmOrgId: sc.orgId,
        },
        retryIntervalScale: 0,
      });
    // A diff report over her changes, and a restore of the deleted contacts of the full snapshot
    // (which brings her back under a new id, then she is hard deleted again): records of the org
    // outside its backups, which hold her too.
    const report = await runLocalWorkflow({
      instanceUrl: sc.emu.instanceUrl,
      accessToken: sc.emu.accessToken,
      store: dir,
      org: 'sample',
      app: (org) => buildLocalDiffReportApp(org),
      appKey: 'diff-report',
      input: () => ({ from: sc.snapshots[0], to: sc.snapshots[3] }) as never,
      executionName: 'report-before-erasure',
      retryIntervalScale: 0,
      enforcePolicies: true,
    });
    expect(report.result.status, report.result.errorMessage).toBe('SUCCEEDED');
    const restoreBefore = await restoreDeleted(dir);
    expect(restoreBefore.summary.status, restoreBefore.summary.message).toBe('SUCCEEDED');
    const restoredHer = await liveIds(sc.emu, 'Contact', "LastName = 'Martin'");
    expect(restoredHer).toHaveLength(1);
    await new OrgWriter(sc.emu).hardDelete('Contact', restoredHer);
    expect((await findPerson(store, sc, 'reports/')).length).toBeGreaterThan(0);
    expect((await findPerson(store, sc, 'restores/')).length).toBeGreaterThan(0);
    const input = {
      object: 'Contact',
      where: { Email: sc.email },
      requestedBy: 'dpo@example.com',
      reason: 'erasure request of the person',
      mode: 'erase',
      confirmOrgId: sc.orgId.toLowerCase(),
    };
    // An erasure of the same request that failed after its plan, which holds digests of her values.
    const stepDeps = { store, versions: store, org: 'sample', clock: () => new Date() };
    const failed = await startErasure(stepDeps, input, 'erase-0');
    await releaseErasure(stepDeps, 'erase-0');
    expect(JSON.parse(readFileSync(join(dir, failed.planKey), 'utf8'))).toHaveProperty('values');
    const { result } = await run(dir, input, 'erase-1');
    expect(result.status, result.errorMessage).toBe('SUCCEEDED');
    // Its finish forgot them, under its own role's permissions.
    expect(JSON.parse(readFileSync(join(dir, failed.planKey), 'utf8'))).not.toHaveProperty('values');
    const output = result.output as {
      outcome: { rowsRemoved: number; copiesBlanked: number };
      log: { logKey: string; traces: number };
    };
    expect(output.outcome.rowsRemoved).toBe(4);
    // The property's description and the broker's mobile phone copied her values (the report's
    // and the restore's records may too, outside entries that describe her, which go whole).
    expect(output.outcome.copiesBlanked).toBeGreaterThanOrEqual(2);
    expect(output.log.traces).toBe(0);
    // The test's own scan of every version, independent of the workflow's.
    expect(await findPerson(store, sc, 'orgs/')).toEqual([]);
    expect(await findPerson(store, sc, 'reports/')).toEqual([]);
    expect(await findPerson(store, sc, 'restores/')).toEqual([]);
    const reader = new SnapshotReader(store);
    for (const id of sc.snapshots) {
      expect(await verifySnapshot(store, await reader.manifest('sample', id)), id).toEqual([]);
      const { summary } = await runLocalRestore({
        instanceUrl: sc.emu.instanceUrl,
        accessToken: sc.emu.accessToken,
        store: dir,
        org: 'sample',
        input: { snapshot: id, objects: ['Contact'], mode: 'dry-run' },
        retryIntervalScale: 0,
      });
      expect(summary.status, `${id}: ${summary.message}`).toBe('SUCCEEDED');
    }
    // A real restore of the full snapshot's deleted contacts into the org, where she was hard
    // deleted: from the vault as it was, it brings her back (then she is hard deleted again)...
    const unerased = await restoreDeleted(copy());
    expect(unerased.summary.status, unerased.summary.message).toBe('SUCCEEDED');
    const back = await liveIds(sc.emu, 'Contact', "Email = 'leslie@pentagon.com'");
    expect(back).toHaveLength(1);
    await new OrgWriter(sc.emu).hardDelete('Contact', back);
    // ...and from the erased vault, it has nobody to bring back.
    const { summary } = await restoreDeleted(dir);
    expect(summary.status, summary.message).toBe('SUCCEEDED');
    expect(await liveIds(sc.emu, 'Contact', "Email = 'leslie@pentagon.com'")).toEqual([]);
    expect(await liveIds(sc.emu, 'Contact', "LastName = 'Martin'")).toEqual([]);
    expect(await liveIds(sc.emu, 'Contact')).toContain(sc.other);

    // A real restore of the full snapshot into a fresh org (the sample's schema, no rows): every
    // contact comes back but her.
    const fresh = await startEmulator({ projectDirs: [join(FIXTURES, 'dreamhouse-lwc')] });
    try {
      expect(await liveIds(fresh, 'Contact')).toEqual([]);
      const restored = await runLocalRestore({
        instanceUrl: fresh.instanceUrl,
        accessToken: fresh.accessToken,
        store: dir,
        org: 'sample',
        input: { snapshot: sc.snapshots[0], objects: ['Contact'], mode: 'full', confirmOrgId: fresh.orgId },
        retryIntervalScale: 0,
      });
      expect(restored.summary.status, restored.summary.message).toBe('SUCCEEDED');
      expect(await liveIds(fresh, 'Contact')).toHaveLength(4);
      expect(await liveIds(fresh, 'Contact', "Email = 'bholmes@goodmail.com'")).toHaveLength(1);
      expect(await liveIds(fresh, 'Contact', "LastName = 'Martin'")).toEqual([]);
    } finally {
      await fresh.stop();
    }
    const log = JSON.parse(new TextDecoder().decode(await store.get(output.log.logKey))) as Record<
      string,
      unknown
    >;
    expect(output.log.logKey).toMatch(/^orgs\/sample\/erasures\/log\/\d{8}T\d{9}Z-erase-1\.json$/);
    expect(log).toMatchObject({
      execution: 'erase-1',
      requestedBy: 'dpo@example.com',
      filterFields: ['Email'],
      scan: { traceCount: 0 },
    });
    expect(typeof log.erasedAt).toBe('string');
    // Her id, and the id the restore before the erasure gave her, paired in its id map.
    const ids = log.ids as string[];
    expect(ids).toHaveLength(2);
    expect(ids).toContain(sc.person);
    expect(Object.values(log.objects as Record<string, string>)).toEqual(['Contact', 'Contact']);
    const text = JSON.stringify(log).toLowerCase();
    for (const value of [...sc.values, 'leslie', 'martin']) expect(text).not.toContain(value.toLowerCase());
  }, 300_000);

  const listing = async (dir: string) => [
    ...(await everyVersion(new LocalDirectoryStore(dir), '')).entries(),
  ];

  it.each([
    [
      'an id found nowhere',
      { ids: ['003000000000999AAA'], requestedBy: 'dpo@example.com' },
      undefined,
      'ErasureTargetNotFoundError',
      /003000000000999AAA/,
    ],
    [
      'a filter that matches nothing',
      { object: 'Contact', where: { Email: 'nobody@example.com' }, requestedBy: 'dpo@example.com' },
      undefined,
      'ErasureTargetNotFoundError',
      /matched no row/,
    ],
    [
      'a vault locked in COMPLIANCE mode',
      { ids: ['PERSON'], requestedBy: 'dpo@example.com', mode: 'erase', confirmOrgId: 'ORG' },
      'COMPLIANCE' as const,
      'ErasureImpossibleError',
      /COMPLIANCE.*GOVERNANCE/,
    ],
    [
      'an input without requestedBy',
      { ids: ['PERSON'] },
      undefined,
      'InvalidEraseRequestError',
      /requestedBy is missing/,
    ],
    [
      'a wrong confirmOrgId',
      { ids: ['PERSON'], requestedBy: 'dpo@example.com', mode: 'erase', confirmOrgId: '00D000000000999' },
      undefined,
      'InvalidEraseRequestError',
      /confirmOrgId/,
    ],
    [
      'a misspelt field',
      { ids: ['PERSON'], requestedBy: 'dpo@example.com', reasn: 'x' },
      undefined,
      'InvalidEraseRequestError',
      /"reasn" \(did you mean "reason"\?\)/,
    ],
  ])(
    'refuses %s at its first step and changes nothing',
    async (_what, raw, lock, error, message) => {
      const dir = copy();
      const input = JSON.parse(
        JSON.stringify(raw).replaceAll('PERSON', sc.person).replaceAll('"ORG"', JSON.stringify(sc.orgId)),
      );
      const before = await listing(dir);
      const { result } = await run(dir, input, `refused-${Math.random().toString(36).slice(2, 8)}`, lock);
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe(error);
      expect(result.errorMessage).toMatch(message);
      expect(await listing(dir)).toEqual(before);
    },
    180_000,
  );

  it('says in the erasure log that an erasure failed, and with which error, when its erase step fails after it began', async () => {
    // GIVEN the erase role denied the rewriting of the backups' parts (its own records it may
    // still write), as a policy added after the deploy would leave it
    const dir = copy();
    const withoutPartWrites = (org: string) => {
      const local = buildLocalEraseApp(org, {});
      const policy = local.workflow.node.findChild('VaultAccess') as iam.Policy;
      policy.addStatements(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: ['s3:PutObject'],
          resources: [local.bucket.arnForObjects(`orgs/${org}/snapshots/*`)],
        }),
      );
      return local;
    };
    // WHEN a real erasure of her runs
    const { result } = await runLocalWorkflow({
      instanceUrl: sc.emu.instanceUrl,
      accessToken: sc.emu.accessToken,
      store: dir,
      org: 'sample',
      app: withoutPartWrites,
      appKey: 'erase-no-part-rewrite',
      input: () => eraseHerById(sc) as never,
      executionName: 'erase-cannot-rewrite',
      retryIntervalScale: 0,
      enforcePolicies: true,
    });
    // THEN it fails at its erase step, and its log entry says so, by the error's name alone
    expect(result.status).toBe('FAILED');
    expect(result.error, result.errorMessage).toBe('AccessDenied');
    expect(result.errorMessage).toMatch(/s3:PutObject on resource: \S+\/orgs\/sample\/snapshots\//);
    const store = new LocalDirectoryStore(dir);
    const entries = [];
    for await (const { key } of store.list('orgs/sample/erasures/log/'))
      entries.push(JSON.parse(new TextDecoder().decode(await store.get(key))));
    expect(entries).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: 'AccessDenied',
        execution: 'erase-cannot-rewrite',
        requestedBy: 'dpo@example.com',
      }),
    ]);
    expect(Object.keys(entries[0]).sort()).toEqual(
      [
        'error',
        'execution',
        'failedAt',
        'formatVersion',
        'ids',
        'org',
        'requestedBy',
        'startedAt',
        'status',
      ].sort(),
    );
  }, 180_000);

  it('ends, writing nothing, when a policy added since denies its role the reading of version locks', async () => {
    // GIVEN the erase role without s3:GetObjectRetention and s3:GetObjectLegalHold, as a policy
    // or permissions boundary added after the deploy would leave it
    const dir = copy();
    const withoutLockReads = (org: string) => {
      const local = buildLocalEraseApp(org, {});
      const policy = local.workflow.node.findChild('VaultAccess') as iam.Policy;
      const statement = Stack.of(policy).resolve(policy.document).Statement[0];
      expect(statement.Sid).toBe('ReadAndReplaceInOwnOrg');
      (policy.node.defaultChild as iam.CfnPolicy).addPropertyOverride(
        'PolicyDocument.Statement.0.Action',
        (statement.Action as string[]).filter((a) => !/Retention|LegalHold/.test(a)),
      );
      return local;
    };
    const data = async () =>
      (await listing(dir)).filter(
        ([key]) =>
          !key.includes('/lease/') &&
          !key.startsWith(removedVersionsPrefix('sample', 'erase-blind-to-locks')),
      );
    const before = await data();
    // WHEN a real erasure of her starts
    const { result } = await runLocalWorkflow({
      instanceUrl: sc.emu.instanceUrl,
      accessToken: sc.emu.accessToken,
      store: dir,
      org: 'sample',
      app: withoutLockReads,
      appKey: 'erase-no-lock-reads',
      input: () => eraseHerById(sc) as never,
      executionName: 'erase-blind-to-locks',
      retryIntervalScale: 0,
      enforcePolicies: true,
    });
    // THEN it ends at its plan, naming what the role lacks, with nothing of the vault changed
    // (a lock it cannot see would have passed for none)
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ErasureImpossibleError');
    expect(result.errorMessage).toMatch(
      /may not read the Object Lock of orgs\/sample\/.* \(AccessDenied\).*s3:GetObjectRetention and s3:GetObjectLegalHold/,
    );
    expect(await data()).toEqual(before);
    // ...but the list of what it removed: its own plan's progress, which held digests of her values
    const listed = [...(await everyVersion(new LocalDirectoryStore(dir), 'orgs/')).entries()]
      .filter(([key]) => key.startsWith(removedVersionsPrefix('sample', 'erase-blind-to-locks')))
      .map(([, text]) => JSON.parse(text).key);
    expect(listed).toEqual(['orgs/sample/erasures/erase-blind-to-locks/progress/plan.json']);
  }, 180_000);
});
