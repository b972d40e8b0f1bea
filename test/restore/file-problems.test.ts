import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { restoreKeys, restoreRoot } from '../../lambdas/core/restore/keys.ts';
import type { ObjectInfo, SnapshotFile } from '../../lambdas/core/restore/model.ts';
import { readJson } from '../../lambdas/core/restore/store-json.ts';
import { releaseLease } from '../../lambdas/core/restore/lease.ts';
import {
  fileCheckStep,
  type RestoreDeps,
  type RestoreRun,
  verifyStep,
} from '../../lambdas/core/restore/workflow.ts';
import { FakeOrg, FakeSnapshot, FakeSnapshots, MemoryStore, snapshotFields, systemFields } from './fakes.ts';
import { ACCOUNT, type FileCheckSteps, ORG_NAME, runRestore } from './scenario.ts';

const VERSION: ObjectInfo = { ...ACCOUNT, name: 'ContentVersion', keyPrefix: '068', fields: systemFields() };
const n15 = (prefix: string, n: number) => `${prefix}${String(n).padStart(12, '0')}AAA`;

/** A file of one version whose body the vault does not hold, deleted from the org for good. */
function bodilessFile(n: number): SnapshotFile {
  return {
    contentDocumentId: n15('069', n),
    versionId: n15('068', n),
    title: `File ${n}`,
    firstPublishLocationId: null,
    ownerId: null,
    linkedEntityIds: [],
    versions: [
      {
        versionId: n15('068', n),
        versionNumber: 1,
        title: `File ${n}`,
        pathOnClient: `file-${n}.txt`,
        reasonForChange: null,
      },
    ],
    links: [],
  };
}

/** A file of one version whose body the vault holds, deleted from the org for good. */
function fileWithBody(n: number): SnapshotFile {
  const file = bodilessFile(n);
  const bytes = new TextEncoder().encode(`body of file ${n}\n`);
  return {
    ...file,
    versions: file.versions.map((v) => ({
      ...v,
      bytes: bytes.length,
      checksum: createHash('md5').update(bytes).digest('hex'),
      read: async () => bytes,
    })),
  };
}

describe('the problems verification finds in the files', () => {
  it('keeps every file problem in the vault and names where, when there are more than the summary shows', async () => {
    const files = Array.from({ length: 25 }, (_, i) => bodilessFile(i + 1));
    const { org, verify, kept } = await restored('run-files', files);
    expect(verify.matches).toBe(false);
    expect(verify.fileProblems).toBe(25);
    const key = restoreKeys.fileProblems(restoreRoot(ORG_NAME, org.orgId), 'run-files');
    expect(verify.summary).toContain(`... and 5 more file problem(s) in ${key}.`);
    expect(kept).toHaveLength(25);
    expect(new Set(kept?.map((p) => p.fileId))).toEqual(new Set(files.map((f) => f.contentDocumentId)));
  });

  /** 250 files deleted for good, every other one with its body in the vault, restored. */
  async function manyFiles(
    runId: string,
    steps: (deps: RestoreDeps, org: FakeOrg) => Partial<FileCheckSteps> = () => ({}),
  ) {
    const files = Array.from({ length: 250 }, (_, i) =>
      i % 2 === 0 ? fileWithBody(i + 1) : bodilessFile(i + 1),
    );
    const out = await restored(runId, files, steps);
    // The bodiless files, in plan order: they could not be made.
    const unmade = files.filter((_, i) => i % 2 === 1).map((f) => f.contentDocumentId);
    return { ...out, unmade };
  }

  /** The files deleted for good from the org, restored from a snapshot that holds them. */
  async function restored(
    runId: string,
    files: SnapshotFile[],
    steps: (deps: RestoreDeps, org: FakeOrg) => Partial<FileCheckSteps> = () => ({}),
  ) {
    const org = new FakeOrg([ACCOUNT, VERSION]);
    const snapshot = new FakeSnapshot(
      '20260101T000000Z-abcdef',
      org.orgId,
      '2026-01-01T00:00:00.000Z',
      {
        Account: { fields: snapshotFields(ACCOUNT), rows: [] },
        ContentVersion: { fields: snapshotFields(VERSION), rows: [] },
      },
      files,
    );
    const store = new MemoryStore();
    let clock = Date.parse('2026-02-01T00:00:00Z');
    const deps: RestoreDeps = {
      orgName: ORG_NAME,
      store,
      org,
      snapshots: new FakeSnapshots([snapshot]),
      lease: { sleep: async () => {} },
      now: () => ++clock,
    };
    // Each step has time for one group of files only.
    const checks: FileCheckSteps = { deadline: () => clock, answers: [], ...steps(deps, org) };
    const done = await runRestore(
      deps,
      { objects: ['ContentVersion'], mode: 'restore-deleted', confirmOrgId: org.orgId },
      runId,
      checks,
    );
    const kept = await readJson<{ fileId: string; problem: string }[]>(
      store,
      restoreKeys.fileProblems(restoreRoot(ORG_NAME, org.orgId), runId),
    );
    return { org, deps, run: done.run, checks, verify: done.verify!, kept };
  }

  it('checks the files a group at a time over several steps and reports what every step found, in plan order', async () => {
    const { checks, verify, kept, unmade } = await manyFiles('run-many');
    // One group of files a step, each answering where the next goes on.
    expect(checks.answers).toEqual([
      { done: false, cursor: 100, problems: 50 },
      { done: false, cursor: 200, problems: 50 },
      { done: true, cursor: 250, problems: 25 },
    ]);
    expect(verify.fileProblems).toBe(125);
    expect(kept?.map((p) => p.fileId)).toEqual(unmade);
    expect(new Set(kept?.map((p) => p.problem))).toEqual(new Set(['the file was not restored']));
  });

  it('asks the org four queries a group of files, not four a file', async () => {
    let from = -1;
    const { org } = await manyFiles('run-queries', (_, org) => ({
      before: async (_run, cursor) => {
        if (cursor === 200) from = org.calls.length;
      },
    }));
    // The last group, 25 files made again, asked the documents of their first versions, the
    // documents, their links and their versions; the verify step after it asked nothing of files.
    expect(from).toBeGreaterThan(0);
    expect(org.calls.slice(from).filter((c) => c.startsWith('fetch'))).toEqual([
      'fetch ContentVersion 25',
      'fetch ContentDocument 25',
      'fetch ContentDocumentLink by ContentDocumentId 25',
      'fetch ContentVersion by ContentDocumentId 25',
    ]);
  });

  it('answers a step repeated from a cursor (its answer was lost) with what the first found, asking the org nothing', async () => {
    const repeated: unknown[] = [];
    await manyFiles('run-repeated', (deps, org) => ({
      before: async (run, cursor) => {
        if (cursor !== 200) return;
        const asked = org.calls.length;
        repeated.push(await fileCheckStep(deps, run, 100, Date.now()));
        expect(org.calls.slice(asked).filter((c) => c.startsWith('fetch'))).toEqual([]);
      },
    }));
    expect(repeated).toEqual([{ done: false, cursor: 200, problems: 50 }]);
  });

  it('checks at the verify step what no file check step reached, for a run whose workflow checked none or some', async () => {
    for (const steps of [0, 1, 2]) {
      const { checks, verify, kept, unmade } = await manyFiles(`run-${steps}-steps`, () => ({ steps }));
      expect(checks.answers).toHaveLength(steps);
      expect(verify.fileProblems).toBe(125);
      expect(kept?.map((p) => p.fileId)).toEqual(unmade);
    }
  });

  it('refuses a file check record that does not go on from its cursor, rather than loop on it', async () => {
    const root = (deps: RestoreDeps) => restoreRoot(ORG_NAME, (deps.org as FakeOrg).orgId);
    await expect(
      manyFiles('run-bogus', (deps) => ({
        before: async (run, cursor) => {
          if (cursor === 100)
            await deps.store.put(
              restoreKeys.fileCheck(root(deps), run.runId, 100),
              JSON.stringify({ from: 100, next: 100, problems: [] }),
            );
        },
      })),
    ).rejects.toThrow(
      /file check record .* does not go on from plan entry 100 \(it says from 100 to 100 of 250\)/,
    );
  });

  it('answers two invocations checking from one cursor at once (a retry while the first still ran) with the record kept', async () => {
    const answers: unknown[] = [];
    await manyFiles('run-overlap', (deps) => ({
      before: async (run, cursor) => {
        if (cursor !== 0) return;
        // One has time for a group, the other for every file: both answer what the first to write kept.
        answers.push(
          ...(await Promise.all([fileCheckStep(deps, run, 0, 0), fileCheckStep(deps, run, 0, undefined)])),
        );
      },
    }));
    expect(answers).toHaveLength(2);
    expect(answers[1]).toEqual(answers[0]);
  });

  it('stops checking when the restore no longer holds the org', async () => {
    await expect(
      manyFiles('run-lost', (deps) => ({
        before: async (run, cursor) => {
          if (cursor === 100)
            await releaseLease(deps.store, restoreRoot(ORG_NAME, (deps.org as FakeOrg).orgId), run.runId);
        },
      })),
    ).rejects.toThrow(/no longer holds the restore lease/);
  });

  it('refuses a verify run again once the restore no longer holds the org, writing no report, and answers one run again after its report', async () => {
    let lost: { deps: RestoreDeps; run: RestoreRun } | undefined;
    await expect(
      manyFiles('run-verify-lost', (deps) => ({
        beforeVerify: async (run) => {
          // The execution failed or was stopped after its file checks (its lease released), then is
          // redriven at verify.
          lost = { deps, run };
          await releaseLease(deps.store, restoreRoot(ORG_NAME, (deps.org as FakeOrg).orgId), run.runId);
        },
      })),
    ).rejects.toThrow(/no longer holds the restore lease .*start it again/);
    const root = restoreRoot(ORG_NAME, (lost!.deps.org as FakeOrg).orgId);
    expect(await lost!.deps.store.head(restoreKeys.report(root, 'run-verify-lost'))).toBeUndefined();
    // A verify that failed before its report (writing its file problems) is refused too, run again
    // once its failure path gave the org back: the report is the last thing it writes.
    let failed: { deps: RestoreDeps; run: RestoreRun } | undefined;
    await expect(
      manyFiles('run-verify-unfinished', (deps) => ({
        beforeVerify: async (run) => {
          failed = { deps, run };
          const put = deps.store.put.bind(deps.store);
          deps.store.put = async (key, ...rest) => {
            if (key.endsWith('/file-problems.json')) throw new Error('the vault refused the write');
            return put(key, ...rest);
          };
        },
      })),
    ).rejects.toThrow('the vault refused the write');
    const failedRoot = restoreRoot(ORG_NAME, (failed!.deps.org as FakeOrg).orgId);
    expect(
      await failed!.deps.store.head(restoreKeys.report(failedRoot, 'run-verify-unfinished')),
    ).toBeUndefined();
    await expect(verifyStep(failed!.deps, failed!.run)).rejects.toThrow(/no longer holds the restore lease/);
    // A verify run again after it wrote its report and gave the org back (its answer lost) answers again.
    const { deps, run, verify } = await manyFiles('run-verify-again');
    await expect(verifyStep(deps, run)).resolves.toMatchObject({
      matches: verify.matches,
      fileProblems: verify.fileProblems,
      reportKey: verify.reportKey,
    });
  });

  it('checks itself, at the verify step, the entries a record that does not move on within the plan claims to cover', async () => {
    // One step ran (entries 0 to 99); a record at 100 claims entries past the plan's end.
    const { verify, kept, unmade } = await manyFiles('run-claims-too-much', (deps) => ({
      steps: 1,
      before: async (run) => {
        await deps.store.put(
          restoreKeys.fileCheck(restoreRoot(ORG_NAME, (deps.org as FakeOrg).orgId), run.runId, 100),
          JSON.stringify({ from: 100, next: 300, problems: [] }),
        );
      },
    }));
    expect(verify.fileProblems).toBe(125);
    expect(kept?.map((p) => p.fileId)).toEqual(unmade);
  });
});
