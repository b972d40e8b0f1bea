/**
 * The chain of snapshots tells the truth over time: a seeded random sequence of changes over
 * emulated days (inserts, updates, soft deletes, undeletes, hard deletes, recycle-bin purges by
 * hand and by the 15-day clock), a backup after each day, and after every run the point in time of
 * that snapshot equals the org's own rows, column by column. At the end every earlier point in time
 * is read again and still equals the org as it was then.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeBackup } from '../../cli/commands/backup.ts';
import { Prng } from '../../emulator/generate/prng.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import type { ObjectChanges } from '../../lambdas/core/backup/change-kinds.ts';
import { changesKey, type ObjectComparison } from '../../lambdas/core/backup/changes.ts';
import type { SnapshotManifest } from '../../lambdas/core/snapshot/manifest.ts';
import {
  backup,
  freshStoreDir,
  type OrgDump,
  pointInTimeOf,
  startSampleOrg,
  viewDifferences,
} from './e2e-support.ts';
import { OrgWriter } from '../support/org-writer.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The first day of every sequence starts here, on a whole minute. */
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
/**
 * One step of the sequence: a day and ten minutes. Rows go to the recycle bin at the start of a
 * step; the 15-day purge of step j's rows then falls 150 minutes before step j + 15 starts, never
 * inside a run, so which run sees a purge is fixed.
 */
const STEP = DAY + 10 * MINUTE;
/**
 * Changes are made at the start of a step and the run starts two minutes later. Salesforce's delete
 * log answers by whole minutes up to the minute of the call (getDeleted cuts start and end to the
 * minute), so a row hard deleted in the minute a run starts is listed to the next run (its window
 * starts `overlapSeconds` earlier), not to this one. The pause keeps every change of a step before
 * the last whole minute its run's log covers.
 */
const PAUSE = 2 * MINUTE;
/** The default overlap: re-reads in the overlap are part of what is proven. */
const SETTINGS = { overlapSeconds: 300 };

/** One object the sequence changes, and how to make and edit its rows. */
interface Target {
  readonly object: string;
  /** Values of a new row; `pick` answers a live id of another object, or null. */
  insert(prng: Prng, pick: (object: string) => string | null): Record<string, unknown>;
  update(prng: Prng): Record<string, unknown>;
}

interface OrgCase {
  readonly label: string;
  readonly seed: number;
  start(): Promise<RunningEmulator>;
  readonly targets: readonly Target[];
  /** An object no other row of the targets looks up: a hard delete of its rows changes nothing else. */
  readonly leaf: string;
  /** A lookup that a delete of the parent clears and its undelete restores. */
  readonly lookup: { readonly parent: string; readonly child: string; readonly field: string };
}

/** Awkward text: commas, quotes, newlines and non-ASCII letters, as CSV must carry them. */
function text(prng: Prng, prefix: string): string {
  const pieces = [
    'plain',
    'with, comma',
    'with "quotes"',
    'two\nlines',
    'Zoë ünïcödé',
    "O'Brien",
    ' padded ',
  ];
  return `${prefix} ${prng.pick(pieces)} ${prng.int(1_000_000)}`;
}

const named = (object: string, extra: Target['insert'] = () => ({})): Target => ({
  object,
  insert: (prng, pick) => ({ Name: text(prng, object), ...extra(prng, pick) }),
  update: (prng) => ({ Name: text(prng, 'renamed') }),
});

const CASES: readonly OrgCase[] = [
  {
    label: 'dreamhouse-lwc',
    seed: 11,
    start: () => startSampleOrg('dreamhouse-lwc'),
    targets: [
      named('Broker__c'),
      named('Property__c', (prng, pick) => ({ Broker__c: pick('Broker__c'), Beds__c: prng.int(6) })),
      {
        object: 'Contact',
        insert: (prng) => ({ LastName: text(prng, 'Contact') }),
        update: (prng) => ({ Title: text(prng, 'title'), Phone: prng.chance(0.3) ? null : '555 0100' }),
      },
    ],
    leaf: 'Property__c',
    lookup: { parent: 'Broker__c', child: 'Property__c', field: 'Broker__c' },
  },
  {
    label: 'ebikes-lwc',
    seed: 22,
    start: () => startSampleOrg('ebikes-lwc'),
    targets: [
      named('Account', (prng) => ({ Description: text(prng, 'about') })),
      named('Product_Family__c'),
      named('Product__c', (prng, pick) => ({
        Product_Family__c: pick('Product_Family__c'),
        MSRP__c: prng.int(500_000) / 100,
      })),
    ],
    leaf: 'Product__c',
    lookup: { parent: 'Product_Family__c', child: 'Product__c', field: 'Product_Family__c' },
  },
  {
    label: 'a generated org',
    seed: 33,
    start: () =>
      startEmulator({ generate: 'objects=2,rows=25,files=0,seed=5,fields=12,accounts=20,activities=12' }),
    targets: [
      named('Account', (prng, pick) => ({ ParentId: prng.chance(0.5) ? pick('Account') : null })),
      named('Gen_Object_0001__c', (prng, pick) => ({
        Related__c: pick('Account'),
        Parent__c: prng.chance(0.5) ? pick('Gen_Object_0001__c') : null,
        Text__c: text(prng, 'text'),
      })),
      named('Gen_Object_0002__c', (prng, pick) => ({
        Related__c: pick('Gen_Object_0001__c'),
        Amount__c: prng.int(1_000_000) / 100,
      })),
      {
        object: 'Lead',
        insert: (prng) => ({ LastName: text(prng, 'Lead'), Company: text(prng, 'Company') }),
        update: (prng) => ({ Company: text(prng, 'Company') }),
      },
    ],
    leaf: 'Lead',
    lookup: { parent: 'Account', child: 'Gen_Object_0001__c', field: 'Related__c' },
  },
];

/** Live and recycle-bin ids of an object, as the org holds them now. */
function idsOf(emu: RunningEmulator, object: string): { live: string[]; binned: string[] } {
  const live: string[] = [];
  const binned: string[] = [];
  for (const [id, values] of emu.org.dumpObject(object))
    (values.IsDeleted === 'true' ? binned : live).push(id);
  return { live: live.sort(), binned: binned.sort() };
}

/** What the run's comparison found changed in an object: ids by kind. */
async function changesOf(dir: string, snapshotId: string, object: string): Promise<ObjectChanges> {
  const key = changesKey('sample', snapshotId, object);
  const comparison = JSON.parse(readFileSync(join(dir, key), 'utf8')) as ObjectComparison;
  expect(comparison.changes, key).toBeDefined();
  return comparison.changes!;
}

/** `count` distinct ids from a list, fewer when it is shorter. */
function some(prng: Prng, ids: readonly string[], count: number): string[] {
  const pool = [...ids];
  const out: string[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(prng.int(pool.length), 1)[0]!);
  return out;
}

describe.each(CASES)('the chain of snapshots of $label over emulated days', (orgCase) => {
  let emu: RunningEmulator;
  let writer: OrgWriter;
  const dir = freshStoreDir();
  const prng = new Prng(orgCase.seed);
  /** Each complete snapshot, with the org's rows dumped right after its run. */
  const history: { snapshotId: string; dump: OrgDump; expected?: unknown[] }[] = [];
  /** Rows sent to the recycle bin on day 1 and left there: the 15-day purge takes them. */
  let leftInBin: string[] = [];
  /** The parent and child of the lookup days. */
  let parentId = '';
  let childId: string | undefined;
  let step = 0;
  /** Days skipped without a run (the gap), added to every later step. */
  let skipped = 0;

  // The backup handlers read the process clock (`new Date()`) and the emulator, in real-time
  // mode, reads Date.now() too: faking Date alone, advancing with real time, moves both clocks
  // together, so the org and the backup always agree on "now" and days pass at a setSystemTime.
  // Timers stay real, so polls and the runner's waits behave as without the fake. The fake lasts
  // the whole sequence, so the org's clock never goes back between two tests.
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  });
  afterAll(async () => {
    await emu?.stop();
    vi.useRealTimers();
  });

  /** Moves both clocks to the start of a step. */
  function toStep(n: number, extraMs = 0): void {
    step = n;
    const at = T0 + n * STEP + skipped + extraMs;
    // The org orders its writes by its clock: once it runs, the clock must never be set back.
    if (emu) expect(at, `step ${n}: the clock would go back`).toBeGreaterThan(Date.now());
    vi.setSystemTime(at);
  }

  /**
   * Random changes of one step over the org's APIs: two to four operations, each on a random
   * object and touching one to three rows, chosen among those the object's rows allow. Answers
   * what was done, for messages.
   */
  async function randomChanges(): Promise<string[]> {
    const done: string[] = [];
    const pick = (object: string) => {
      const { live } = idsOf(emu, object);
      return live.length > 0 ? prng.pick(live) : null;
    };
    const operations = 2 + prng.int(3);
    for (let i = 0; i < operations; i++) {
      const target = prng.pick(orgCase.targets);
      const object = target.object;
      const { live } = idsOf(emu, object);
      // Day 1's rows stay in the recycle bin until the 15-day purge takes them.
      const binned = idsOf(emu, object).binned.filter((id) => !leftInBin.includes(id));
      const count = 1 + prng.int(3);
      const choices: ('insert' | 'update' | 'delete' | 'hardDelete' | 'undelete' | 'purge')[] = [
        'insert',
        'insert',
      ];
      if (live.length > 0) choices.push('update', 'update', 'delete', 'delete', 'hardDelete');
      if (binned.length > 0) choices.push('undelete', 'undelete', 'purge', 'hardDelete');
      const operation = prng.pick(choices);
      switch (operation) {
        case 'insert':
          await writer.insert(
            object,
            Array.from({ length: count }, () => target.insert(prng, pick)),
          );
          done.push(`insert ${count} ${object}`);
          continue;
        case 'update': {
          const ids = some(prng, live, count);
          await writer.update(
            object,
            ids.map((Id) => ({ Id, ...target.update(prng) })),
          );
          done.push(`update ${ids.join(' ')}`);
          continue;
        }
        case 'delete': {
          const ids = some(prng, live, count);
          await writer.softDelete(ids);
          done.push(`delete ${ids.join(' ')}`);
          continue;
        }
        case 'undelete': {
          const ids = some(prng, binned, count);
          await writer.undelete(ids);
          done.push(`undelete ${ids.join(' ')}`);
          continue;
        }
        case 'hardDelete': {
          const ids = some(prng, [...live, ...binned], count);
          await writer.hardDelete(object, ids);
          done.push(`hardDelete ${ids.join(' ')}`);
          continue;
        }
        case 'purge': {
          const ids = some(prng, binned, count);
          await writer.emptyRecycleBin(ids);
          done.push(`emptyRecycleBin ${ids.join(' ')}`);
        }
      }
    }
    return done;
  }

  /** Runs a backup two minutes into the current step and checks its point in time against the org. */
  async function run(mode: 'full' | 'incremental', why: string) {
    toStep(step, PAUSE);
    const { summary, sns } = await backup(emu, dir, mode, SETTINGS);
    expect(summary.status, `step ${step} (${why}): ${summary.problems.join('; ')}`).toBe('complete');
    const snapshotId = summary.snapshotId!;
    const pit = await pointInTimeOf(dir, snapshotId);
    const dump: OrgDump = new Map(pit.objectNames().map((o) => [o, emu.org.dumpObject(o)]));
    expect(await viewDifferences(pit, dump), `step ${step} (${why})`).toEqual([]);
    history.push({ snapshotId, dump });
    return { summary, sns, manifest: pit.target };
  }

  const entryOf = (manifest: SnapshotManifest, object: string) => {
    const entry = manifest.objects.find((o) => o.name === object);
    expect(entry, `${object} in ${manifest.snapshotId}`).toBeDefined();
    return entry!;
  };

  /** Every object a run compared found no change at all. */
  function expectNoChanges(manifest: SnapshotManifest): void {
    for (const object of manifest.objects)
      if (object.changes)
        expect(object.changes, object.name).toEqual({
          inserted: 0,
          updated: 0,
          deleted: 0,
          undeleted: 0,
          hardDeleted: 0,
          restored: 0,
        });
  }

  it('takes a full snapshot on day 0 that equals the org', async () => {
    toStep(0);
    emu = await orgCase.start();
    writer = new OrgWriter(emu);
    const { summary } = await run('full', 'first full');
    expect(summary.mode).toBe('full');

    // The comparison sees a value that differs, a row the view lacks and a row the org lacks.
    const pit = await pointInTimeOf(dir, summary.snapshotId!);
    const object = orgCase.targets[0]!.object;
    const org = new Map(history[0]!.dump.get(object)!);
    const [changed, dropped] = [...org.keys()];
    org.set(changed!, { ...org.get(changed!)!, Name: 'not what the org holds' });
    org.delete(dropped!);
    org.set('a00000000000000AAA', { ...org.get(changed!)!, Id: 'a00000000000000AAA' });
    const tampered: OrgDump = new Map([...history[0]!.dump, [object, org]]);
    const found = await viewDifferences(pit, tampered);
    expect(found).toHaveLength(3);
    expect(found.join('\n')).toContain(`${object} ${changed}.Name: view`);
    expect(found.join('\n')).toContain(`${object} ${dropped}: in the view`);
    expect(found.join('\n')).toContain(`${object} a00000000000000AAA: in the org, not in the view`);
  });

  it('keeps every incremental equal to the org through random days, a second full run, quiet days and the 15-day purge', async () => {
    // Day 1: rows go to the recycle bin and stay there; on day 16 the 15-day purge has taken them.
    toStep(1);
    const target = orgCase.targets[0]!.object;
    leftInBin = some(prng, idsOf(emu, target).live, 2);
    await writer.softDelete(leftInBin);
    await randomChanges();
    const first = await run('incremental', 'day 1');
    expect(entryOf(first.manifest, target).changes?.deleted).toBeGreaterThanOrEqual(leftInBin.length);

    for (let n = 2; n <= 17; n++) {
      toStep(n);
      if (n === 4 || n === 10) {
        // A quiet day: nothing changed since the last run, though the run reads its overlap again.
        const quiet = await run('incremental', 'quiet');
        expect(quiet.summary.mode).toBe('incremental');
        expectNoChanges(quiet.manifest);
        expect(quiet.sns).toEqual([]);
        // The day before's changes were read again in the overlap, and counted for nothing.
        expect(quiet.manifest.objects.some((o) => o.status === 'exported')).toBe(true);
        continue;
      }
      if (n === 6) {
        // A mass hard delete of one object, and nothing else that day.
        const ids = some(prng, idsOf(emu, orgCase.leaf).live, 5);
        expect(ids).toHaveLength(5);
        await writer.hardDelete(orgCase.leaf, ids);
        const mass = await run('incremental', 'mass hard delete');
        expect(entryOf(mass.manifest, orgCase.leaf).changes).toEqual({
          inserted: 0,
          updated: 0,
          deleted: 0,
          undeleted: 0,
          hardDeleted: ids.length,
          restored: 0,
        });
        continue;
      }
      if (n === 12 || n === 13) {
        // A parent goes to the recycle bin, which clears its children's lookups, and comes back the
        // day after, which restores them.
        const { parent, child, field } = orgCase.lookup;
        const deleting = n === 12;
        if (deleting) await writer.softDelete([parentId]);
        else await writer.undelete([parentId]);
        const { manifest } = await run(
          'incremental',
          `${deleting ? 'delete' : 'undelete'} ${parent} ${parentId}`,
        );
        expect(entryOf(manifest, parent).changes?.[deleting ? 'deleted' : 'undeleted']).toBe(1);
        const pit = await pointInTimeOf(dir, manifest.snapshotId);
        let childRow: Record<string, string> | undefined;
        for await (const row of pit.rows(child)) if (row.id === childId) childRow = { ...row.values };
        expect(childRow?.[field], `${child}.${field} of ${childId}`).toBe(deleting ? '' : parentId);
        continue;
      }
      const done = await randomChanges();
      if (n === 11) {
        // The child whose lookup the next two days clear and restore.
        const { parent, child, field } = orgCase.lookup;
        parentId = prng.pick(idsOf(emu, parent).live.filter((id) => !leftInBin.includes(id)));
        const template = orgCase.targets.find((t) => t.object === child)!;
        [childId] = await writer.insert(child, [{ ...template.insert(prng, () => null), [field]: parentId }]);
        done.push(`insert ${child} ${childId} under ${parentId}`);
      }
      const { summary, manifest } = await run(n === 8 ? 'full' : 'incremental', done.join(', '));
      expect(summary.mode).toBe(n === 8 ? 'full' : 'incremental');
      if (n === 16) {
        // The rows of day 1 fell due 150 minutes before this step: the log of their object now
        // starts after the window, so the object is read in full. Their delete was counted when
        // it happened: the purge is not counted again.
        const entry = entryOf(manifest, target);
        expect(entry.fullReason, target).toMatch(/recycle bin was emptied or purged/);
        expect(entry.since).toBeNull();
        for (const id of leftInBin) expect(emu.org.dumpObject(target).has(id)).toBe(false);
        const counted = await changesOf(dir, manifest.snapshotId, target);
        for (const id of leftInBin) expect(counted.ids.hardDeleted).not.toContain(id);
      }
    }
  });

  it('reads an object in full after its recycle bin is emptied, and stays exact', async () => {
    const object = orgCase.leaf;
    const template = orgCase.targets.find((t) => t.object === object)!;
    // Day 18 only adds rows, so no purge falls in the next run's window: day 4, fifteen days
    // before, was quiet.
    toStep(18);
    const ids = await writer.insert(
      object,
      [1, 2, 3].map(() => template.insert(prng, () => null)),
    );
    await run('incremental', `insert ${ids.join(' ')}`);

    toStep(19);
    await writer.softDelete(ids);
    const deleted = await run('incremental', 'soft delete before the purge');
    expect(entryOf(deleted.manifest, object).changes).toEqual({
      inserted: 0,
      updated: 0,
      deleted: ids.length,
      undeleted: 0,
      hardDeleted: 0,
      restored: 0,
    });
    expect(entryOf(deleted.manifest, object).fullReason).toBeUndefined();
    const before = history.at(-1)!.dump.get(object)!;

    toStep(20);
    await writer.emptyRecycleBin(ids);
    const purged = await run('incremental', 'recycle bin emptied');
    const entry = entryOf(purged.manifest, object);
    expect(entry.fullReason).toMatch(/recycle bin was emptied or purged/);
    expect(entry.since).toBeNull();
    // The rows emptied from the bin, and any deleted on day 5 that the 15-day purge took since:
    // all were in the recycle bin already, and their deletes were counted then.
    const now = history.at(-1)!.dump.get(object)!;
    const gone = [...before.keys()].filter((id) => !now.has(id));
    expect(gone).toEqual(expect.arrayContaining(ids));
    expect(entry.changes).toEqual({
      inserted: 0,
      updated: 0,
      deleted: 0,
      undeleted: 0,
      hardDeleted: 0,
      restored: 0,
    });
  });

  it('runs in full after a gap longer than the delete log, says why, and builds on it', async () => {
    // Sixteen days after step 20 without a run: the recycle bin is purged meanwhile too.
    skipped = 16 * DAY;
    toStep(21);
    const done = await randomChanges();
    const gap = await run('incremental', `after the gap: ${done.join(', ')}`);
    expect(gap.summary.mode).toBe('full');
    expect(gap.summary.fullReason).toMatch(/longer than the 15 days Salesforce keeps its delete log/);
    expect(gap.manifest.fullReason).toBe(gap.summary.fullReason);
    expect(gap.manifest.requestedMode).toBe('incremental');
    expect(describeBackup(gap.summary)).toContain(
      `(full)\n  ran in full instead of incremental: ${gap.summary.fullReason}\n`,
    );

    toStep(22);
    const next = await randomChanges();
    const after = await run('incremental', `the day after the gap: ${next.join(', ')}`);
    expect(after.summary.mode).toBe('incremental');
    expect(after.summary.fullReason).toBeUndefined();
    expect(describeBackup(after.summary)).not.toContain('ran in full');
    expect(after.manifest.baseSnapshotId).toBe(gap.summary.snapshotId);
  });

  it('lists a row hard deleted in the minute its run starts to the next run, which reads the overlap again', async () => {
    const object = orgCase.leaf;
    toStep(23);
    const [kept, gone] = await writer.insert(object, [
      orgCase.targets.find((t) => t.object === object)!.insert(prng, () => null),
      orgCase.targets.find((t) => t.object === object)!.insert(prng, () => null),
    ]);
    await run('incremental', 'two rows to delete');

    // Salesforce's delete log answers by whole minutes up to the minute of the call: a row hard
    // deleted in the minute the run starts is not listed to it, and the view still holds the row.
    toStep(24);
    await writer.hardDelete(object, [gone!]);
    const { summary } = await backup(emu, dir, 'incremental', SETTINGS);
    expect(summary.status).toBe('complete');
    const pit = await pointInTimeOf(dir, summary.snapshotId!);
    const started = Date.parse(pit.target.startedAt) - (T0 + 24 * STEP + skipped);
    expect(started, 'the run starts in the minute of the delete').toBeLessThan(MINUTE);
    const dump: OrgDump = new Map(pit.objectNames().map((o) => [o, emu.org.dumpObject(o)]));
    const expected = [
      expect.stringMatching(new RegExp(`^${object} ${gone}: in the view .*, not in the org$`)),
    ];
    expect(await viewDifferences(pit, dump)).toEqual(expected);
    history.push({ snapshotId: summary.snapshotId!, dump, expected });

    // The next run's window starts 300 seconds before that watermark: it lists the row, and the
    // view is the org again.
    toStep(25);
    const next = await run('incremental', 'the day after the hard delete');
    expect(entryOf(next.manifest, object).changes).toEqual({
      inserted: 0,
      updated: 0,
      deleted: 0,
      undeleted: 0,
      hardDeleted: 1,
      restored: 0,
    });
    expect(emu.org.dumpObject(object).has(kept!)).toBe(true);
  });

  it('still reads every earlier point in time as the org was then', async () => {
    expect(history.length).toBe(26);
    const modes = await Promise.all(
      history.map(async ({ snapshotId }) => (await pointInTimeOf(dir, snapshotId)).target.mode),
    );
    expect(modes.filter((m) => m === 'full').length).toBeGreaterThanOrEqual(3);
    expect(modes.filter((m) => m === 'incremental').length).toBeGreaterThanOrEqual(12);
    for (const { snapshotId, dump, expected } of history) {
      const pit = await pointInTimeOf(dir, snapshotId);
      expect(await viewDifferences(pit, dump), snapshotId).toEqual(expected ?? []);
    }
  });
});
