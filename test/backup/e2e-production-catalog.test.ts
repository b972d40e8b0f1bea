import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import {
  backup,
  dumpRows,
  expectLatestRowsEqualOrg,
  FIXTURES,
  freshStoreDir,
  latest,
  nextSecond,
} from './e2e-support.ts';

const REASONS = new Set(['not-stored', 'derived', 'needs-filter', 'not-queryable', 'excluded']);

/**
 * Every object the org lists is in the snapshot (exported, or unchanged since the last one) or
 * skipped with a reason code from the fixed list; the rows of every object the snapshot holds, at
 * the latest point, equal the org's.
 */
async function expectEveryObjectAccountedForAndExact(emu: RunningEmulator, dir: string): Promise<void> {
  const pit = await latest(dir);
  const manifest = pit.target;
  const held = new Set(manifest.objects.map((o) => o.name));
  const skipped = new Map(manifest.skippedObjects.map((o) => [o.name, o]));
  const listed = emu.org.describeGlobal().map((o) => o.name);
  expect(listed.length).toBeGreaterThan(300);
  expect(listed.filter((name) => !held.has(name) && !skipped.has(name))).toEqual([]);
  for (const entry of manifest.skippedObjects) {
    expect(REASONS.has(entry.reasonCode ?? ''), `${entry.name}: ${entry.reasonCode}`).toBe(true);
    expect(entry.reason.length, entry.name).toBeGreaterThan(0);
  }
  expect(manifest.objects.filter((o) => o.status === 'failed').map((o) => o.name)).toEqual([]);

  const dump = await expectLatestRowsEqualOrg(emu, dir);
  // Objects the org has rows of are never left out for a reason that would lose them.
  for (const [object, rows] of dump) {
    if (rows.size > 0 && !held.has(object)) {
      expect(skipped.get(object)?.reasonCode, `${object} has rows`).toMatch(
        /^(not-stored|derived|excluded)$/,
      );
    }
  }
}

// The emulator with a production org's long tail of standard objects and Salesforce's refusals
// (docs/emulator-org.md, "The production catalog"), backed up by the synthesized workflow.
describe('backing up an org with a production catalog', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    const dir = join(FIXTURES, 'ebikes-lwc');
    emu = await startEmulator({
      projectDirs: [dir],
      planFiles: [join(dir, 'data', 'sample-data-plan.json')],
      catalog: 'production',
    });
    // A file shared with a record: its ContentDocumentLink rows are read by ContentDocumentId.
    const account = emu.org.insert('Account', { Name: 'Files & Co' });
    emu.org.insert('ContentVersion', {
      Title: 'contract',
      PathOnClient: 'contract.txt',
      VersionData: Buffer.from('the signed contract').toString('base64'),
      FirstPublishLocationId: account,
    });
    // Rows loaded above must fall in an earlier second than the full run's watermark.
    await nextSecond();
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('completes, exporting each object the best way it can and skipping the rest with their reasons, said once', async () => {
    const dir = freshStoreDir();
    const first = await backup(emu, dir, 'full');
    expect(first.summary.problems).toEqual([]);
    expect(first.summary.status).toBe('complete');

    const reader = new SnapshotReader(new LocalDirectoryStore(dir));
    const manifest = await reader.manifest('sample', first.summary.snapshotId!);
    const skipped = new Map(manifest.skippedObjects.map((o) => [o.name, o.reasonCode]));
    expect(
      Object.fromEntries(
        ['Orders__x', 'Order_Event__e', 'AccountChangeEvent'].map((n) => [n, skipped.get(n)]),
      ),
    ).toEqual({
      Orders__x: 'not-stored',
      Order_Event__e: 'not-stored',
      AccountChangeEvent: 'not-stored',
    });
    expect(skipped.get('ActivityHistory')).toBe('not-queryable');
    expect(skipped.get('Vote')).toBe('needs-filter');
    expect(skipped.get('Customer_Interaction__b')).toBe('needs-filter');
    expect(skipped.get('AccountFeed')).toBe('derived');
    for (const entry of manifest.skippedObjects) expect(entry.reasonCode).toBeDefined();

    const objects = new Map(manifest.objects.map((o) => [o.name, o]));
    expect(objects.get('ContentDocumentLink')).toMatchObject({ status: 'exported', strategy: 'per-parent' });
    expect(objects.get('ContentDocumentLink')!.rows).toBeGreaterThan(0);
    expect(objects.get('KnowledgeArticleVersion')).toMatchObject({
      status: 'exported',
      strategy: 'per-status',
    });
    expect(objects.get('TaskPriority')).toMatchObject({ status: 'exported', api: 'rest' });
    expect(objects.get('Support_Tier__mdt')).toMatchObject({ status: 'exported', api: 'rest' });
    expect(objects.get('AccountHistory')).toMatchObject({
      status: 'exported',
      watermarkField: 'CreatedDate',
    });
    expect(objects.get('AccountShare')).toMatchObject({
      status: 'exported',
      watermarkField: 'LastModifiedDate',
    });
    expect(objects.get('Account')).toMatchObject({ status: 'exported', watermarkField: 'SystemModstamp' });

    const alert = first.sns.map((m) => m.message).join('\n');
    expect(alert).toMatch(/leaves out \d+ objects it did not leave out before/);
    const fresh = first.summary.newlySkipped;
    expect(fresh.map((o) => o.name)).toContain('Vote');
    expect(alert).toContain(`- ${fresh[0]!.name}: ${fresh[0]!.reasonCode}: ${fresh[0]!.reason}`);
    // At most 20 lines in the alert; the manifest and "sfbackup coverage" have every one.
    expect(alert).toContain(`...and ${fresh.length - 20} more`);

    await expectEveryObjectAccountedForAndExact(emu, dir);

    // Changes for the incremental: an edit, and a new row with its history and share rows. (A
    // deleted parent's history rows keep their CreatedDate, so only a full run sees them deleted;
    // see docs/backup-workflow.md.)
    const accounts = [...((await dumpRows(emu)).get('Account') ?? new Map()).keys()];
    emu.org.update('Account', accounts[0]!, { Name: 'Renamed in production' });
    emu.org.insert('Contact', { LastName: 'Newcomer' });
    const contact = emu.org.insert('Contact', { LastName: 'Short-lived' });
    emu.org.delete([contact]);
    await nextSecond();

    const second = await backup(emu, dir, 'incremental');
    expect(second.summary.status).toBe('complete');
    expect(second.summary.newlySkipped).toEqual([]);
    expect(second.sns.map((m) => m.message).join('\n')).not.toContain('leaves out');
    expect(second.summary.mode).toBe('incremental');
    await expectEveryObjectAccountedForAndExact(emu, dir);
  });

  it('fails the run naming an object the settings include by name when Salesforce refuses it', async () => {
    const { summary } = await backup(emu, freshStoreDir(), 'full', {
      includeObjects: ['Account', 'IdeaComment'],
      metadata: false,
    });
    expect(summary.status).toBe('failed');
    expect(summary.problems).toContainEqual(
      expect.stringMatching(
        /^IdeaComment: included by name in the settings, but Salesforce refuses it: needs-filter: /,
      ),
    );
  });
});
