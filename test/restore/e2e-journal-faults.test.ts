import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { readJournal } from '../../lambdas/core/continuous/journal.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import {
  type ContinuousOrg,
  type ContinuousSample,
  startContinuousSample,
  instantDifferences,
  liveRows,
} from '../support/continuous.ts';
import type { OrgWriter } from '../support/org-writer.ts';
import { backup, freshStoreDir } from './e2e-support.ts';

const OBJECTS = ['Account', 'Product_Family__c', 'Product__c'] as const;
const T0 = Date.parse('2026-05-04T07:00:00.000Z');

describe('a journal fed duplicates, reordered events, gaps and an overflow', () => {
  let sample: ContinuousSample | undefined;
  let emu: RunningEmulator;
  let writer: OrgWriter;
  let continuous: ContinuousOrg;
  let settings: Record<string, unknown>;
  let later: (seconds: number) => void;
  let columns: ReadonlyMap<string, string[]>;
  const dir = freshStoreDir();
  const store = new LocalDirectoryStore(dir);

  beforeAll(async () => {
    sample = await startContinuousSample('ebikes-lwc', OBJECTS, dir, T0);
    ({ emu, writer, continuous, settings, columns, later } = sample);
  }, 60_000);
  afterAll(async () => {
    await sample?.stop();
  });

  const ids = (object: string) => [...liveRows(emu, object).keys()].sort();

  /** The view of every object at `at` against the org's rows `org`; answers the views. */
  async function compare(
    at: string,
    org: Map<string, Map<string, Record<string, string>>>,
    skip: (object: string, id: string) => boolean,
  ) {
    const views = new Map<string, Awaited<ReturnType<typeof instantDifferences>>['view']>();
    const differences: string[] = [];
    for (const object of OBJECTS) {
      const found = await instantDifferences(store, object, at, org.get(object)!, columns.get(object)!);
      views.set(object, found.view);
      differences.push(
        ...found.differences.filter((line) => !skip(object, (line.split(' ')[2] ?? '').split('.')[0] ?? '')),
      );
    }
    return { views, differences };
  }

  let gapId = '';
  let before: { at: string; rows: Map<string, Map<string, Record<string, string>>> };

  it('journals duplicated and reordered events once each, in commit order, and reports the gap and the overflow', async () => {
    expect((await backup(emu, dir, 'full', settings)).summary.status).toBe('complete');
    const accounts = ids('Account');
    const products = ids('Product__c');
    const families = ids('Product_Family__c');

    later(20);
    emu.relay.duplicateNext(3);
    await writer.update('Account', [{ Id: accounts[0]!, Phone: '555 0199' }]);
    await writer.insert('Product_Family__c', [{ Name: 'Gravel' }]);
    await writer.update('Product__c', [{ Id: products[0]!, Name: 'Renamed twice, first' }]);
    later(20);
    emu.relay.reorderNext(4);
    await writer.update('Product__c', [{ Id: products[0]!, Name: 'Renamed twice, second' }]);
    await writer.softDelete([products[1]!]);
    await writer.undelete([products[1]!]);
    await writer.update('Product__c', [{ Id: products[1]!, Description__c: null }]);
    later(20);
    gapId = accounts[1]!;
    emu.cdc.injectGap([gapId]);
    await writer.update('Account', [{ Id: gapId, Name: 'Changed where the journal cannot see' }]);
    await writer.update('Account', [{ Id: accounts[2]!, Name: 'Seen as usual' }]);
    later(20);
    emu.cdc.injectOverflow('Product_Family__c');
    await writer.update(
      'Product_Family__c',
      families.slice(0, 3).map((Id, i) => ({ Id, Name: `Family renamed in bulk ${i}` })),
    );
    later(10);
    before = {
      at: new Date().toISOString(),
      rows: new Map(OBJECTS.map((o) => [o, liveRows(emu, o)] as const)),
    };
    const delivered = await continuous.deliver();
    // Three events sent twice: the journal holds every event once, in commit order.
    const lines = await readJournal(store, 'sample', new Date(T0), new Date(before.at));
    expect(delivered).toBe(lines.length + 3);
    const order = lines.map((l) => [l.sort.commitTimestamp, l.sort.commitNumber] as const);
    expect(order).toEqual([...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    expect(lines.map((l) => l.sort.changeType)).toEqual(
      expect.arrayContaining(['GAP_UPDATE', 'GAP_OVERFLOW']),
    );
  }, 120_000);

  it('is exact before the next backup except where it says it cannot be: the gap’s record and the overflowed object', async () => {
    const { views, differences } = await compare(
      before.at,
      before.rows,
      (object, id) => (object === 'Account' && id === gapId) || object === 'Product_Family__c',
    );
    expect(differences).toEqual([]);
    expect([...views.get('Account')!.uncertain.keys()]).toEqual([gapId]);
    expect(views.get('Product_Family__c')!.snapshotOnly?.kind).toBe('overflow');
    expect(views.get('Product__c')!.snapshotOnly).toBeUndefined();
    expect(views.get('Product__c')!.uncertain.size).toBe(0);
  });

  it('ends exact after the next backup reads the gap’s record and the overflowed object again, the gap inside its overlap', async () => {
    // Two minutes after the gap: well inside the five-minute overlap the journal is replayed from.
    later(60);
    const run = await backup(emu, dir, 'incremental', settings);
    expect(run.summary.status).toBe('complete');
    // It read both objects in full, and its manifest says up to which journal event that settles.
    const manifest = (await new SnapshotReader(store).pointInTime('sample', run.summary.snapshotId!)).target;
    for (const object of ['Account', 'Product_Family__c']) {
      const entry = manifest.objects.find((o) => o.name === object)!;
      expect(entry.since, object).toBeNull();
      expect(entry.fullReason, object).toMatch(/change-event journal/);
      expect(Date.parse(entry.journalSettled!), object).toBeLessThan(Date.parse(manifest.watermark));
    }
    expect(manifest.objects.find((o) => o.name === 'Product__c')!.journalSettled).toBeUndefined();
    later(20);
    await writer.update('Product__c', [{ Id: ids('Product__c')[2]!, Name: 'After the run' }]);
    await writer.update('Account', [{ Id: gapId, Phone: '555 0111' }]);
    later(10);
    const after = {
      at: new Date().toISOString(),
      rows: new Map(OBJECTS.map((o) => [o, liveRows(emu, o)] as const)),
    };
    await continuous.deliver();
    const { views, differences } = await compare(after.at, after.rows, () => false);
    expect(differences).toEqual([]);
    for (const object of OBJECTS) {
      expect(views.get(object)!.snapshotOnly, object).toBeUndefined();
      expect(views.get(object)!.uncertain.size, object).toBe(0);
    }
  }, 120_000);
  it('finds a relay outage longer than the 72 hours Salesforce keeps events, runs in full and alerts, and restores the stretch from snapshots only', async () => {
    const HOUR = 3_600_000;
    later(60);
    const outageStart = new Date().toISOString();
    emu.relay.outage(73 * HOUR);
    later(60 * 60);
    const lost = ids('Product__c')[3]!;
    await writer.update('Product__c', [{ Id: lost, Name: 'Changed while the relay was down' }]);
    later(10);
    const during = {
      at: new Date().toISOString(),
      rows: new Map(OBJECTS.map((o) => [o, liveRows(emu, o)] as const)),
    };
    // The relay comes back after 74 hours: the change above is no longer retained, and is lost.
    later(73 * 60 * 60);
    await writer.update('Account', [{ Id: ids('Account')[0]!, Phone: '555 0123' }]);
    await continuous.deliver();
    const lines = await readJournal(store, 'sample', new Date(Date.parse(outageStart)), new Date());
    expect(lines.some((l) => l.sort.recordIds.includes(lost))).toBe(false);

    later(60);
    const run = await backup(emu, dir, 'incremental', settings);
    expect(run.summary.status).toBe('complete');
    expect(run.summary.mode).toBe('full');
    const manifest = (await new SnapshotReader(store).pointInTime('sample', run.summary.snapshotId!)).target;
    expect(manifest.journalBreak?.from).toBe(outageStart);
    expect(manifest.fullReason).toMatch(/break/);
    expect(run.sns.map((m) => m.message).join('\n')).toMatch(/72 hours/);

    // Inside the break the journal is not trusted: every object is the snapshot before it.
    for (const object of OBJECTS) {
      const view = await instantDifferences(
        store,
        object,
        during.at,
        during.rows.get(object)!,
        columns.get(object)!,
      );
      expect(view.view.snapshotOnly?.kind, object).toBe('journal-break');
    }
    // After the full run, the view is exact again.
    later(20);
    await writer.update('Product__c', [{ Id: lost, Description__c: 'After the break' }]);
    later(10);
    const after = {
      at: new Date().toISOString(),
      rows: new Map(OBJECTS.map((o) => [o, liveRows(emu, o)] as const)),
    };
    await continuous.deliver();
    const { views, differences } = await compare(after.at, after.rows, () => false);
    expect(differences).toEqual([]);
    for (const object of OBJECTS) expect(views.get(object)!.snapshotOnly, object).toBeUndefined();

    // The next incremental does not record the same break again.
    later(60);
    const next = await backup(emu, dir, 'incremental', settings);
    expect(next.summary.mode).toBe('incremental');
  }, 180_000);
});
