import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { filesBatchProgressKey, filesPlanStepKey, filesResultKey } from '../../lambdas/core/snapshot/keys.ts';
import { backup, freshStoreDir, latest } from './e2e-support.ts';

const VERSIONS = 5_500;
/** The generator adds an attachment with the same body for every tenth file. */
const ATTACHMENTS = VERSIONS / 10;

// More file rows than one window of the plan (5,000): with an invocation budget of 1 ms, the
// synthesized state machine has to call the plan again before it can fetch anything, and each files
// batch again after every body.
describe('the files of an org with more file rows than one plan window, one body per invocation', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ generate: `objects=0,rows=10,files=${VERSIONS},seed=11` });
  }, 120_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it('are planned and fetched by steps run again until done, a step that died too, and the snapshot holds every body once', async () => {
    const dir = freshStoreDir();
    // The function dies (as a Lambda that timed out) once as the plan's second step records its end,
    // and once as a batch records its tenth stop: Step Functions runs each again.
    const dies = [/plan\/files\/step-00002\.json$/, /plan\/files\/batch-00003-handled-00010\.json$/];
    const died: string[] = [];
    const put = LocalDirectoryStore.prototype.put;
    const spy = vi.spyOn(LocalDirectoryStore.prototype, 'put').mockImplementation(async function (
      this: LocalDirectoryStore,
      key,
      body,
      options,
    ) {
      const at = dies.findIndex((d) => d.test(key));
      if (at >= 0) {
        died.push(...dies.splice(at, 1).map(() => key));
        throw Object.assign(new Error('the function stopped'), { name: 'Sandbox.Timedout' });
      }
      return put.call(this, key, body, options);
    });
    const { summary } = await backup(emu, dir, 'full', {
      invocationBudgetMs: 1,
      metadata: false,
      includeObjects: ['ContentVersion', 'Attachment'],
    }).finally(() => spy.mockRestore());
    expect(died).toHaveLength(2);
    expect(summary.problems).toEqual([]);
    expect(summary.status).toBe('complete');
    expect(summary.files).toBe(VERSIONS + ATTACHMENTS);
    // The body the batch fetched before it died is found stored by the attempt after: reused.
    expect(summary.filesDownloaded).toBe(VERSIONS + ATTACHMENTS - 1);
    // Two plan steps ran: the first stopped after its window, the second planned the rest.
    const stepRecord = (step: number) => join(dir, filesPlanStepKey('sample', summary.snapshotId!, step));
    expect(existsSync(stepRecord(1))).toBe(true);
    expect(existsSync(stepRecord(2))).toBe(true);
    expect(existsSync(stepRecord(3))).toBe(false);
    // Each batch was fetched one body per invocation, each stop recorded.
    const batchRecord = (handled: number) =>
      join(dir, filesBatchProgressKey('sample', summary.snapshotId!, 1, handled));
    expect(existsSync(batchRecord(1))).toBe(true);
    expect(existsSync(batchRecord(49))).toBe(true);
    expect(existsSync(batchRecord(50))).toBe(false);
    expect(existsSync(join(dir, filesResultKey('sample', summary.snapshotId!, 1)))).toBe(true);
    // Every file row of the snapshot is named once, with a body of its size in the vault.
    const pit = await latest(dir);
    const files = await pit.files();
    expect(files.length).toBe(VERSIONS + ATTACHMENTS);
    expect(new Set(files.map((f) => `${f.object} ${f.recordId}`)).size).toBe(files.length);
    const rows = new Set<string>();
    for (const object of ['ContentVersion', 'Attachment'])
      for await (const row of pit.rows(object)) rows.add(`${object} ${row.id}`);
    expect(new Set(files.map((f) => `${f.object} ${f.recordId}`))).toEqual(rows);
  }, 300_000);
});
