import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { exportObject } from '../../lambdas/core/backup/export-object.ts';
import { createHash } from 'node:crypto';
import { backupFiles, type FilesPlanOutcome, planFiles } from '../../lambdas/core/backup/files.ts';
import { finishBackup } from '../../lambdas/core/backup/finish.ts';
import {
  fileIndexKey,
  filesBatchProgressKey,
  filesPlanStepKey,
  filesResultKey,
  filesReusedListKey,
  planDetailKey,
  snapshotPrefix,
} from '../../lambdas/core/snapshot/keys.ts';
import { planBackup } from '../../lambdas/core/backup/plan.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import type { BackupDeps, FilesResult, PlanDetail } from '../../lambdas/core/backup/types.ts';
import { baseFields, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import type { StoredObject } from '../../lambdas/core/store.ts';

/** A store whose reads of one key fail as a store outage would, not as a missing object. */
class FailingReadStore extends MemoryStore {
  failing: RegExp | undefined;
  override async get(key: string): Promise<Uint8Array> {
    if (this.failing?.test(key)) throw new Error('the store did not answer');
    return super.get(key);
  }
}

/**
 * A store whose streams of keys matching `breaking` stop, `breaks` times, after the first half of
 * their bytes with the error a reset connection gives (or `damage`, to stand for a damaged part).
 */
class BreakingStore extends MemoryStore {
  breaking: RegExp | undefined;
  breaks = 0;
  damage = false;
  readonly opened: string[] = [];
  override async getStream(key: string): Promise<Readable> {
    if (!this.breaking?.test(key)) return super.getStream(key);
    this.opened.push(key);
    const bytes = Buffer.from(await this.get(key));
    if (this.breaks === 0) return Readable.from([bytes]);
    this.breaks--;
    const half = bytes.subarray(0, Math.floor(bytes.length / 2));
    const damage = this.damage;
    return Readable.from(
      (async function* () {
        yield half;
        if (damage) {
          yield Buffer.from('not gzip at all, and never will be');
          return;
        }
        // Later, as a connection reset is: the rows of the first half are read by then.
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      })(),
    );
  }
}

/**
 * A store whose next write of a key matching `crashOn` fails once, as a function dying there would;
 * and before the next write of a key matching `pauseOn`, runs `meanwhile` (another attempt).
 */
class CrashingStore extends MemoryStore {
  crashOn: RegExp | undefined;
  pauseOn: RegExp | undefined;
  meanwhile: (() => Promise<unknown>) | undefined;
  override async put(key: string, body: Uint8Array | string): Promise<StoredObject> {
    if (this.crashOn?.test(key)) {
      this.crashOn = undefined;
      throw new Error('the function stopped here');
    }
    if (this.pauseOn?.test(key)) {
      this.pauseOn = undefined;
      await this.meanwhile?.();
    }
    return super.put(key, body);
  }
}

/** A ContentVersion table of `count` files, each with its own checksum, and their bodies. */
function filesOrg(count: number): FakeSource {
  const rows = Array.from({ length: count }, (_, i) => ({
    Id: `068${String(i).padStart(12, '0')}AAA`,
    Name: `file-${i}`,
    IsDeleted: 'false',
    SystemModstamp: '2026-01-01T00:00:00Z',
    Checksum: createHash('md5').update(`body ${i}`).digest('hex'),
  }));
  const source = new FakeSource([
    {
      name: 'ContentVersion',
      fields: [...baseFields, { name: 'Checksum', type: 'string' }, { name: 'VersionData', type: 'base64' }],
      rows,
    },
  ]);
  for (const [i, row] of rows.entries()) source.setBlob('ContentVersion', row.Id, `body ${i}`);
  return source;
}

/**
 * Deps over a clock that moves a second at each reading while `ticking` (with a budget of 1 ms,
 * every plan step and files batch invocation then stops after its first window or body), and stands
 * still otherwise (one invocation does it all).
 */
function steppingDeps(source: FakeSource, store: MemoryStore, ticking: boolean) {
  let now = Date.parse('2026-06-01T00:00:00Z');
  const clock = {
    ticking,
    read: () => {
      if (clock.ticking) now += 1_000;
      return new Date(now);
    },
  };
  const deps: BackupDeps = { store, source, clock: clock.read, sleep: async () => {} };
  return { deps, clock };
}

async function plannedRun(deps: BackupDeps, settings: Record<string, unknown> = {}): Promise<string> {
  const plan = await planBackup(
    deps,
    { org: 'acme', mode: 'full' },
    parseBackupSettings({ metadata: false, ...settings }),
  );
  for (const { name } of (deps.source as FakeSource).objects)
    await exportObject(deps, { org: 'acme', snapshotId: plan.snapshotId, object: name });
  return plan.snapshotId;
}

/**
 * 9,000 file versions (every seventh deleted), 1,500 attachments (every eleventh deleted) and
 * 1,200 documents (every fifth a link, with no body): with parts of 2,500 rows, the plan's windows
 * of 5,000 rows end on a part's last row, inside a part, and across objects.
 */
function mixedFilesOrg(): FakeSource {
  const row = (prefix: string, i: number, deleted: boolean) => ({
    Id: `${prefix}${String(i).padStart(12, '0')}AAA`,
    Name: `${prefix}-${i}`,
    IsDeleted: String(deleted),
    SystemModstamp: '2026-01-01T00:00:00Z',
  });
  const versions = Array.from({ length: 9_000 }, (_, i) => ({
    ...row('068', i, i % 7 === 3),
    Checksum: createHash('md5').update(`version ${i}`).digest('hex'),
  }));
  const attachments = Array.from({ length: 1_500 }, (_, i) => row('00P', i, i % 11 === 5));
  const documents = Array.from({ length: 1_200 }, (_, i) => ({
    ...row('015', i, false),
    Url: i % 5 === 0 ? `https://example.com/${i}` : null,
  }));
  const source = new FakeSource([
    {
      name: 'ContentVersion',
      fields: [...baseFields, { name: 'Checksum', type: 'string' }, { name: 'VersionData', type: 'base64' }],
      rows: versions,
    },
    { name: 'Attachment', fields: [...baseFields, { name: 'Body', type: 'base64' }], rows: attachments },
    {
      name: 'Document',
      fields: [...baseFields, { name: 'Url', type: 'url' }, { name: 'Body', type: 'base64' }],
      rows: documents,
    },
  ]);
  for (const [i, v] of versions.entries()) source.setBlob('ContentVersion', v.Id, `version ${i}`);
  for (const [i, a] of attachments.entries()) source.setBlob('Attachment', a.Id, `attachment ${i}`);
  for (const [i, d] of documents.entries()) if (!d.Url) source.setBlob('Document', d.Id, `document ${i}`);
  source.chunkBytes = 64 * 1024;
  return source;
}

describe('planning file downloads', () => {
  it('reuses every body the index knows, in the order of the rows, and fails when an index entry cannot be read', async () => {
    const source = filesOrg(100);
    const store = new FailingReadStore();
    const deps: BackupDeps = { store, source, clock: () => new Date(), sleep: async () => {} };
    // GIVEN the bodies of the 100 files stored by a first run
    const first = await plannedRun(deps);
    const planned = await planFiles(deps, { org: 'acme', snapshotId: first });
    expect(planned).toMatchObject({ toDownload: 100, reused: 0 });
    for (let batch = 1; batch <= planned.batches; batch++)
      await backupFiles(deps, { org: 'acme', snapshotId: first, batch });
    // WHEN a second run plans its files THEN it reuses them all, in the order of the rows
    const second = await plannedRun(deps);
    expect(await planFiles(deps, { org: 'acme', snapshotId: second })).toMatchObject({
      toDownload: 0,
      reused: 100,
    });
    const reused = JSON.parse(store.text(filesReusedListKey('acme', second, 1))) as { recordId: string }[];
    expect(reused.map((f) => f.recordId)).toEqual(source.object('ContentVersion').rows.map((r) => r.Id));
    // WHEN one index entry cannot be read THEN the plan fails with that error, not a download
    const third = await plannedRun(deps);
    store.failing = new RegExp(`files/index/md5-${source.object('ContentVersion').rows[57]!.Checksum}`);
    await expect(planFiles(deps, { org: 'acme', snapshotId: third })).rejects.toThrow(
      'the store did not answer',
    );
  });

  it('reads a part on from the row it reached when its stream breaks, and fails on a damaged one', async () => {
    const source = filesOrg(600);
    const store = new BreakingStore();
    const deps: BackupDeps = { store, source, clock: () => new Date(), sleep: async () => {} };
    const first = await plannedRun(deps);
    const planned = await planFiles(deps, { org: 'acme', snapshotId: first });
    for (let batch = 1; batch <= planned.batches; batch++)
      await backupFiles(deps, { org: 'acme', snapshotId: first, batch });
    // WHEN the part's stream breaks twice while the second run plans THEN every row is planned once
    const second = await plannedRun(deps);
    store.breaking = new RegExp(`${second}/objects/ContentVersion/part-`);
    store.breaks = 2;
    expect(await planFiles(deps, { org: 'acme', snapshotId: second })).toMatchObject({
      done: true,
      toDownload: 0,
      reused: 600,
    });
    expect(store.opened).toHaveLength(3);
    const reused = JSON.parse(store.text(filesReusedListKey('acme', second, 1))) as { recordId: string }[];
    expect(reused.map((f) => f.recordId)).toEqual(source.object('ContentVersion').rows.map((r) => r.Id));
    // WHEN it breaks more often than it is opened again THEN the step fails with the read's error
    const third = await plannedRun(deps);
    store.breaking = new RegExp(`${third}/objects/ContentVersion/part-`);
    store.breaks = 4;
    await expect(planFiles(deps, { org: 'acme', snapshotId: third })).rejects.toThrow('aborted');
    // WHEN the part is damaged THEN it is read once and the step fails, naming the damage
    const fourth = await plannedRun(deps);
    store.opened.length = 0;
    store.breaking = new RegExp(`${fourth}/objects/ContentVersion/part-`);
    store.breaks = 1;
    store.damage = true;
    await expect(planFiles(deps, { org: 'acme', snapshotId: fourth })).rejects.toThrow();
    expect(store.opened).toHaveLength(1);
  });

  it('fails, rather than counting no API calls, when an object result cannot be read for the API share', async () => {
    const source = new FakeSource([
      {
        name: 'ContentVersion',
        fields: [
          ...baseFields,
          { name: 'Checksum', type: 'string' },
          { name: 'VersionData', type: 'base64' },
        ],
        rows: [
          {
            Id: '068000000000001AAA',
            Name: 'a',
            IsDeleted: 'false',
            SystemModstamp: '2026-01-01T00:00:00Z',
            Checksum: null,
          },
        ],
      },
      { name: 'Account', fields: baseFields, rows: [] },
    ]);
    source.setBlob('ContentVersion', '068000000000001AAA', 'body');
    const store = new FailingReadStore();
    const deps: BackupDeps = { store, source, clock: () => new Date(), sleep: async () => {} };
    const plan = await planBackup(
      deps,
      { org: 'acme', mode: 'full' },
      parseBackupSettings({ metadata: false }),
    );
    for (const object of ['Account', 'ContentVersion']) {
      await exportObject(deps, { org: 'acme', snapshotId: plan.snapshotId, object });
    }
    store.failing = /objects\/Account\/result\.json$/;
    await expect(planFiles(deps, { org: 'acme', snapshotId: plan.snapshotId })).rejects.toThrow(
      'the store did not answer',
    );
  });

  it('plans many files in steps that each write what one step would, and a step run again after a crash writes the same', async () => {
    const source = mixedFilesOrg();
    const withBodies = (o: string) =>
      source.object(o).rows.filter((r) => r.IsDeleted === 'false' && !r.Url).length;
    const files = withBodies('ContentVersion') + withBodies('Attachment') + withBodies('Document');
    const store = new CrashingStore();
    const { deps, clock } = steppingDeps(source, store, false);
    const settings = { invocationBudgetMs: 1, pageSize: 2_500 };
    // GIVEN the bodies of every fourth batch of a first run already in the vault
    const first = await plannedRun(deps, settings);
    const planned = await planFiles(deps, { org: 'acme', snapshotId: first });
    expect(planned).toMatchObject({ done: true, step: 1, batches: Math.ceil(files / 50) });
    for (let batch = 1; batch <= planned.batches; batch += 4)
      await backupFiles(deps, { org: 'acme', snapshotId: first, batch });
    // ...and an API share that fetches only some of the rest
    source.limitsRemaining = 4_000;
    const budgetRun = async () => {
      const id = await plannedRun(deps, settings);
      return { id, budget: (JSON.parse(store.text(planDetailKey('acme', id))) as PlanDetail).apiBudget };
    };
    const one = await budgetRun();
    // WHEN one run plans its files in a single step
    const single = await planFiles(deps, { org: 'acme', snapshotId: one.id });
    expect(single).toMatchObject({ done: true, step: 1 });
    // ...and another in steps, one window each, stopping once after its records and before its step's end
    const stepped = await budgetRun();
    expect(stepped.budget).toBe(one.budget);
    clock.ticking = true;
    let out = await planFiles(deps, { org: 'acme', snapshotId: stepped.id });
    expect(out).toMatchObject({ done: false, step: 1 });
    store.crashOn = /plan\/files\/step-00002\.json$/;
    await expect(planFiles(deps, out)).rejects.toThrow('the function stopped here');
    const second = await planFiles(deps, out);
    expect(second).toMatchObject({ done: false, step: 2 });
    // (a step whose answer was lost answers the same again, writing nothing)
    const keysBefore = store.objects.size;
    expect(await planFiles(deps, out)).toEqual(second);
    expect(store.objects.size).toBe(keysBefore);
    out = second;
    while (!out.done) out = await planFiles(deps, out);
    clock.ticking = false;
    // THEN it took three steps, and wrote the same records as the single step
    expect(out.step).toBe(3);
    expect({ ...out, snapshotId: one.id, step: 1, filesPlanKey: single.filesPlanKey }).toEqual(single);
    const known = [...store.objects.keys()].filter((k) => k.includes('/files/index/')).length;
    expect(known).toBeGreaterThan(2_000);
    expect(single.reused).toBe(known);
    expect(single.toDownload).toBeGreaterThan(0);
    expect(single.toDownload).toBeLessThan(files - known);
    const records = (snapshotId: string) =>
      new Map(
        [...store.objects.keys()]
          .filter((k) => k.startsWith(snapshotPrefix('acme', snapshotId)))
          .map((k) => k.slice(snapshotPrefix('acme', snapshotId).length))
          .filter((k) => /^(files\/|plan\/files)/.test(k) && !k.startsWith('plan/files/step-'))
          .map((k) => [k, store.text(snapshotPrefix('acme', snapshotId) + k)]),
      );
    const fromSingle = records(one.id);
    expect(records(stepped.id)).toEqual(fromSingle);
    // ...in which every body is named once: reused, in a batch, or counted as deferred
    const deferred = JSON.parse(fromSingle.get('files/deferred.json')!) as { count: number };
    expect(deferred.count).toBe(files - known - single.toDownload);
    const named = [...fromSingle.entries()]
      .filter(([k]) => /^(files\/reused-|plan\/files\/batch-)/.test(k))
      .flatMap(([, text]) => (JSON.parse(text) as { recordId: string }[]).map((f) => f.recordId));
    expect(named.length).toBe(new Set(named).size);
    expect(named.length).toBe(files - deferred.count);
  }, 60_000);

  it('fails a step run again whose records no longer match what the vault knows, naming why', async () => {
    const source = filesOrg(6_000);
    source.chunkBytes = 64 * 1024;
    const store = new CrashingStore();
    const { deps } = steppingDeps(source, store, true);
    const snapshotId = await plannedRun(deps, { invocationBudgetMs: 1 });
    // GIVEN a step that stopped after writing its records, and a body indexed meanwhile
    const firstStep = await planFiles(deps, { org: 'acme', snapshotId });
    expect(firstStep.done).toBe(false);
    store.crashOn = /plan\/files\/step-00002\.json$/;
    await expect(planFiles(deps, firstStep)).rejects.toThrow('the function stopped here');
    const later = source.object('ContentVersion').rows[5_500]!;
    await store.put(
      fileIndexKey('acme', `md5-${later.Checksum}`),
      JSON.stringify({ sha256: 'a'.repeat(64), bytes: 4, key: 'orgs/acme/files/sha256/aa/x' }),
    );
    // WHEN the step runs again THEN it refuses to write other content where it wrote before
    await expect(planFiles(deps, firstStep)).rejects.toThrow(
      /already holds other content at orgs\/acme\/snapshots\/.*another backup of the org, or a retention sweep, ran meanwhile/,
    );
    expect(store.objects.has(filesPlanStepKey('acme', snapshotId, 2))).toBe(false);
  });

  it('fetches a batch over several invocations when time runs out, each body once, and one run again keeps what was recorded', async () => {
    const source = filesOrg(6);
    // One of the files was deleted in the org after its row was exported.
    const gone = source.object('ContentVersion').rows[3]!.Id;
    source.blobs.delete(`ContentVersion/${gone}`);
    const store = new MemoryStore();
    const { deps, clock } = steppingDeps(source, store, false);
    const snapshotId = await plannedRun(deps, { invocationBudgetMs: 1 });
    const planned = await planFiles(deps, { org: 'acme', snapshotId });
    expect(planned).toMatchObject({ done: true, batches: 1, toDownload: 6 });
    // WHEN each invocation's time runs out after its first body
    clock.ticking = true;
    const callsBefore = source.apiCalls();
    const first = await backupFiles(deps, { org: 'acme', snapshotId, batch: 1 });
    expect(first).toMatchObject({ done: false, from: 1, downloaded: 1 });
    expect(store.objects.has(filesResultKey('acme', snapshotId, 1))).toBe(false);
    const second = await backupFiles(deps, first);
    expect(second).toMatchObject({ done: false, from: 2, downloaded: 1 });
    // ...and the second is run again, as after a crash before its answer, finding its body stored
    const recorded = store.text(filesBatchProgressKey('acme', snapshotId, 1, 2));
    expect(await backupFiles(deps, first)).toMatchObject({ done: false, from: 2, downloaded: 0 });
    expect(store.text(filesBatchProgressKey('acme', snapshotId, 1, 2))).toBe(recorded);
    let out = second;
    const invocations = [first, second];
    while (!out.done) {
      out = await backupFiles(deps, out);
      invocations.push(out);
    }
    // THEN one invocation handled each file, and the result names each fetched body once
    expect(invocations.map((o) => o.from)).toEqual([1, 2, 3, 4, 5, 6]);
    const result = JSON.parse(store.text(filesResultKey('acme', snapshotId, 1))) as FilesResult;
    const ids = source.object('ContentVersion').rows.map((r) => r.Id);
    expect(result.files.map((f) => f.recordId)).toEqual(ids.filter((id) => id !== gone));
    expect(result.files.every((f) => f.downloaded)).toBe(true);
    expect(result.errors).toEqual([`ContentVersion ${gone}: NOT_FOUND (deleted since it was exported)`]);
    // ...and its API calls add up over the invocations (the one run again found its body indexed)
    expect(result.apiCalls).toBe(6);
    expect(source.apiCalls() - callsBefore).toBe(6);
    // ...which the snapshot counts with the run's other calls: every call the org answered
    clock.ticking = false;
    const finish = await finishBackup(deps, { org: 'acme', snapshotId });
    expect(finish.apiCalls).toBe(source.apiCalls());
  });

  it('takes, of two overlapping attempts of a step, the end the first recorded, and says where a stopped plan stood', async () => {
    const source = filesOrg(6_000);
    source.chunkBytes = 64 * 1024;
    const store = new CrashingStore();
    const { deps, clock } = steppingDeps(source, store, true);
    const snapshotId = await plannedRun(deps, { invocationBudgetMs: 1 });
    // GIVEN an attempt that stops after its first window and, before it records that, a second
    // attempt of the same step (retried while the first still ran) that plans every window
    let second: FilesPlanOutcome | undefined;
    store.pauseOn = /plan\/files\/step-00001\.json$/;
    store.meanwhile = async () => {
      clock.ticking = false;
      second = await planFiles(deps, { org: 'acme', snapshotId });
    };
    const first = await planFiles(deps, { org: 'acme', snapshotId });
    // THEN the second recorded its end first, and the first answers with it: the plan is done once
    expect(second).toMatchObject({ done: true, finished: true, step: 1, toDownload: 6_000 });
    expect(first).toEqual({ ...second, finished: false });
    expect(JSON.parse(store.text(filesPlanStepKey('acme', snapshotId, 1)))).toMatchObject({ next: null });

    // WHEN a run's plan stopped after a step, before it was done THEN its finish says so
    clock.ticking = true;
    const stopped = await plannedRun(deps, { invocationBudgetMs: 1 });
    expect(await planFiles(deps, { org: 'acme', snapshotId: stopped })).toMatchObject({
      done: false,
      step: 1,
    });
    clock.ticking = false;
    const finish = await finishBackup(deps, { org: 'acme', snapshotId: stopped });
    expect(finish.status).toBe('failed');
    expect(finish.problems).toContainEqual(
      expect.stringContaining(
        'the files plan stopped after 1 of its steps, before it had planned every file',
      ),
    );
  });
});
