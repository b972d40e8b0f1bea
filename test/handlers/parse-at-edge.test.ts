import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EnvName, ErrorName } from '../../contract/workflow-contract.ts';
import * as backup from '../../lambdas/handlers/backup/handlers.ts';
import * as erase from '../../lambdas/handlers/erase/handlers.ts';
import * as restore from '../../lambdas/handlers/restore/handlers.ts';
import * as retention from '../../lambdas/handlers/retention/handlers.ts';

const run = {
  orgId: '00D000000000001AAA',
  root: 'restores/acme-prod/00D000000000001AAA/',
  runId: 'run-1',
  mode: 'dry-run',
  dryRun: true,
  startedAt: '2026-01-31T12:00:00.000Z',
  metadata: 0,
};

describe('backup handlers parse their event at the edge', () => {
  it('refuses an org name outside the contract rule with InvalidBackupRequestError, quoting it', async () => {
    await expect(backup.plan({ org: 'Acme_Prod', mode: 'full' })).rejects.toMatchObject({
      name: ErrorName.InvalidBackupRequest,
      message: expect.stringContaining('org: "Acme_Prod" is not a valid org name'),
    });
  });

  it('names every bad field of a step state at once', async () => {
    await expect(backup.finishHandler({ org: 'acme', snapshotId: 7 })).rejects.toMatchObject({
      name: ErrorName.InvalidBackupRequest,
      message: expect.stringMatching(/^The finish input is invalid: snapshotId: /),
    });
  });
});

describe('the retention sweeper parses its event at the edge', () => {
  it.each([
    ['a cursor with no start', { executionName: 'x', state: { cursor: { indexDone: true } } }, 'sweptAt'],
    [
      'a start that is not a time',
      { executionName: 'x', state: { cursor: { sweptAt: 'today' } } },
      'sweptAt',
    ],
    [
      'a count of removed bodies below zero',
      { executionName: 'x', state: { cursor: { sweptAt: '2026-12-04T04:30:00.000Z', bodiesRemoved: -1 } } },
      'bodiesRemoved',
    ],
    [
      'a planning position below zero',
      {
        executionName: 'x',
        state: { cursor: { sweptAt: '2026-12-04T04:30:00.000Z', planned: { source: 1, list: -16 } } },
      },
      'planned.list',
    ],
    [
      'a hash folder past the 256',
      {
        executionName: 'x',
        state: {
          cursor: { sweptAt: '2026-12-04T04:30:00.000Z', planned: { source: 0, list: 4, folder: 257 } },
        },
      },
      'planned.folder',
    ],
    [
      'a cursor with a field of its own',
      { executionName: 'x', state: { cursor: { sweptAt: '2026-12-04T04:30:00.000Z', from: 'a' } } },
      'from',
    ],
  ])('refuses %s with InvalidSweepStateError, naming the field', async (_what, event, field) => {
    await expect(retention.sweep(event)).rejects.toMatchObject({
      name: ErrorName.InvalidSweepState,
      message: expect.stringContaining(field),
    });
  });
});

describe('restore handlers parse their event at the edge', () => {
  it('rejects a validate event that is not an object as an invalid request, not a ZodError', async () => {
    await expect(restore.validate('not an event')).rejects.toMatchObject({
      name: ErrorName.InvalidRestoreRequest,
    });
  });

  it('rejects a drill whose objects are not a list of names as an invalid request', async () => {
    await expect(restore.validate({ input: { drill: true, objects: 'Account' } })).rejects.toMatchObject({
      name: ErrorName.InvalidRestoreRequest,
      message: expect.stringContaining('objects:'),
    });
  });

  it.each([
    ['plan', () => restore.plan({})],
    ['level', () => restore.level({ run, level: -1 })],
    ['restoreObject', () => restore.restoreObject({ run, object: 'Account', phase: 'third' })],
    ['restoreFiles', () => restore.restoreFiles({ run: { ...run, runId: '../x' } })],
    ['restoreMetadata', () => restore.restoreMetadata({ run, progress: { deployId: 'x' } })],
    ['verify', () => restore.verify({ run: { ...run, mode: 'everything' } })],
  ])('%s refuses a malformed state with InvalidRestoreStateError', async (_step, call) => {
    await expect(call()).rejects.toMatchObject({ name: ErrorName.InvalidRestoreState });
  });
});

describe("the lease release handler's restore root", () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Every file under `dir`, relative to it. */
  const files = (dir: string) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));

  function functionOf(orgName: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-release-'));
    dirs.push(dir);
    vi.stubEnv(EnvName.OrgName, orgName);
    vi.stubEnv(EnvName.LocalStoreDir, dir);
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    return dir;
  }

  it('releases the lease under restores/<its configured org>/<org id>/', async () => {
    const dir = functionOf('acme-prod');
    const writing = { ...run, mode: 'full', dryRun: false };
    await expect(restore.releaseRestoreLease({ state: { run: writing } })).resolves.toEqual({
      released: true,
    });
    expect(files(dir).filter((f) => f.includes('released'))).toEqual([
      expect.stringMatching(/^restores\/acme-prod\/00D000000000001AAA\/lease\/released\/run-1\.json/),
    ]);
  });

  it("refuses a state naming another configured org's root, and writes nothing", async () => {
    const dir = functionOf('acme-other');
    const writing = { ...run, mode: 'full', dryRun: false };
    await expect(restore.releaseRestoreLease({ state: { run: writing } })).rejects.toMatchObject({
      name: ErrorName.InvalidRestoreState,
      message: expect.stringContaining('restores/acme-other/00D000000000001AAA/'),
    });
    expect(files(dir)).toEqual([]);
  });
});

describe('the erase handler parses its event at the edge', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['no step', {}],
    ['an unknown step', { step: 'purge', planKey: 'x' }],
    [
      'a finish without its outcome',
      { step: 'finish', input: {}, planKey: 'orgs/acme/erasures/x/plan.json' },
    ],
  ])('refuses %s with InvalidEraseStateError', async (_what, event) => {
    await expect(erase.erase(event)).rejects.toMatchObject({ name: ErrorName.InvalidEraseState });
  });

  it('plans from the vault its environment names, and refuses an id that is in none of its snapshots', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-erase-handler-'));
    dirs.push(dir);
    vi.stubEnv(EnvName.OrgName, 'acme-prod');
    vi.stubEnv(EnvName.LocalStoreDir, dir);
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const input = { ids: ['0035g000000000PAAQ'], requestedBy: 'dpo@example.com' };
    await expect(erase.erase({ step: 'start', input, executionName: 'handler-1' })).rejects.toMatchObject({
      name: ErrorName.ErasureTargetNotFound,
      message: expect.stringContaining('0035g000000000PAAQ'),
    });
    vi.stubEnv(EnvName.ObjectLockMode, 'COMPLIANCE');
    await expect(erase.erase({ step: 'start', input, executionName: 'handler-2' })).rejects.toMatchObject({
      name: ErrorName.ErasureImpossible,
    });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('an erasure waiting for its org', () => {
  it('waits for 12 hours from the start of its execution, and not at all when invoked alone', () => {
    const start = Date.parse('2026-12-04T06:00:00.000Z');
    expect(erase.stillWaiting('2026-12-04T06:00:00.000Z', start + 11 * 3_600_000)).toBe(true);
    expect(erase.stillWaiting('2026-12-04T06:00:00.000Z', start + 12 * 3_600_000)).toBe(false);
    expect(erase.stillWaiting(undefined, start)).toBe(false);
  });
});
