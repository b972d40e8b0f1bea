import { describe, expect, it } from 'vitest';
import { ErrorName } from '../../contract/workflow-contract.ts';
import * as backup from '../../lambdas/handlers/backup/handlers.ts';
import * as restore from '../../lambdas/handlers/restore/handlers.ts';

const run = {
  orgId: '00D000000000001AAA',
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
