import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { restoreKeys, restoreRoot } from '../../lambdas/core/restore/keys.ts';
import type { ObjectInfo, SnapshotFile } from '../../lambdas/core/restore/model.ts';
import { readJson } from '../../lambdas/core/restore/store-json.ts';
import { fileCheckStep, type RestoreDeps } from '../../lambdas/core/restore/workflow.ts';
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
    const org = new FakeOrg([ACCOUNT, VERSION]);
    const files = Array.from({ length: 25 }, (_, i) => bodilessFile(i + 1));
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
    const deps: RestoreDeps = {
      orgName: ORG_NAME,
      store,
      org,
      snapshots: new FakeSnapshots([snapshot]),
      lease: { sleep: async () => {} },
    };
    const done = await runRestore(
      deps,
      { objects: ['ContentVersion'], mode: 'restore-deleted', confirmOrgId: org.orgId },
      'run-files',
    );
    const verify = done.verify!;
    expect(verify.matches).toBe(false);
    expect(verify.fileProblems).toBe(25);
    const key = restoreKeys.fileProblems(restoreRoot(ORG_NAME, org.orgId), 'run-files');
    expect(verify.summary).toContain(`... and 5 more file problem(s) in ${key}.`);
    const kept = await readJson<{ fileId: string; problem: string }[]>(store, key);
    expect(kept).toHaveLength(25);
    expect(new Set(kept?.map((p) => p.fileId))).toEqual(new Set(files.map((f) => f.contentDocumentId)));
  });

  it('checks the files a group at a time over several steps, four queries a group, and reports what every step found', async () => {
    const org = new FakeOrg([ACCOUNT, VERSION]);
    // Every other file has its body in the vault and comes back; the others cannot be made.
    const files = Array.from({ length: 250 }, (_, i) =>
      i % 2 === 0 ? fileWithBody(i + 1) : bodilessFile(i + 1),
    );
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
    const checks: FileCheckSteps = { deadline: () => clock, answers: [] };
    const queriesBefore = { at: 0 };
    const done = await runRestore(
      deps,
      { objects: ['ContentVersion'], mode: 'restore-deleted', confirmOrgId: org.orgId },
      'run-many',
      {
        ...checks,
        deadline: () => {
          queriesBefore.at = org.calls.length;
          return checks.deadline();
        },
      },
    );
    // One group of files a step, each answering where the next goes on.
    expect(checks.answers).toEqual([
      { done: false, cursor: 100, problems: 50 },
      { done: false, cursor: 200, problems: 50 },
      { done: true, cursor: 250, problems: 25 },
    ]);
    // The last group, 25 files made again, asked the org four queries: the documents of their first
    // versions, the documents, their links and their versions; not four a file.
    expect(org.calls.slice(queriesBefore.at).filter((c) => c.startsWith('fetch'))).toEqual([
      'fetch ContentVersion 25',
      'fetch ContentDocument 25',
      'fetch ContentDocumentLink by ContentDocumentId 25',
      'fetch ContentVersion by ContentDocumentId 25',
    ]);
    const verify = done.verify!;
    expect(verify.fileProblems).toBe(125);
    const kept = await readJson<{ fileId: string; problem: string }[]>(
      store,
      restoreKeys.fileProblems(restoreRoot(ORG_NAME, org.orgId), 'run-many'),
    );
    expect(kept?.map((p) => p.fileId)).toEqual(
      files.filter((_, i) => i % 2 === 1).map((f) => f.contentDocumentId),
    );
    expect(new Set(kept?.map((p) => p.problem))).toEqual(new Set(['the file was not restored']));
    // A step repeated from a cursor (its answer was lost) answers what the first found, asking nothing.
    const asked = org.calls.length;
    expect(await fileCheckStep(deps, done.run, 100, clock)).toEqual({
      done: false,
      cursor: 200,
      problems: 50,
    });
    expect(org.calls.length).toBe(asked);
  });
});
