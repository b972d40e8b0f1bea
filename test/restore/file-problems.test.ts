import { describe, expect, it } from 'vitest';
import { restoreKeys, restoreRoot } from '../../lambdas/core/restore/keys.ts';
import type { ObjectInfo, SnapshotFile } from '../../lambdas/core/restore/model.ts';
import { readJson } from '../../lambdas/core/restore/store-json.ts';
import type { RestoreDeps } from '../../lambdas/core/restore/workflow.ts';
import { FakeOrg, FakeSnapshot, FakeSnapshots, MemoryStore, snapshotFields, systemFields } from './fakes.ts';
import { ACCOUNT, ORG_NAME, runRestore } from './scenario.ts';

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
});
