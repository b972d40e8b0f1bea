import { describe, expect, it } from 'vitest';
import { writeJournalBatch } from '../../lambdas/core/continuous/journal.ts';
import { rowsAtInstant } from '../../lambdas/core/continuous/view.ts';
import { parseRestoreInput } from '../../lambdas/core/restore/input.ts';
import { VaultSnapshotSource } from '../../lambdas/core/restore/snapshot-view.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { baseFields, FakeSource } from '../backup/fake-source.ts';
import { MemoryStore } from '../backup/memory-store.ts';
import { runCore } from '../backup/run-core.ts';
import { amendManifest, newestSnapshotId } from './manifest-fields.ts';

const A = '001000000000001AAA';
const B = '001000000000002AAA';
const C = '001000000000003AAA';

let replay = 100;
function event(changeType: string, id: string | string[], at: string, fields: Record<string, unknown> = {}) {
  replay++;
  return {
    messageId: `m-${replay}`,
    event: {
      source: 'aws.partner/salesforce.com/00D000000000001AAA/0YL000000000001AAA',
      detail: {
        replayId: replay,
        payload: {
          ChangeEventHeader: {
            entityName: 'Account',
            recordIds: Array.isArray(id) ? id : [id],
            changeType,
            transactionKey: `tx-${replay}`,
            sequenceNumber: 1,
            commitTimestamp: Date.parse(at),
            commitNumber: replay,
            // Salesforce names an UPDATE's changed fields; its other events carry an empty list.
            changedFields: changeType === 'UPDATE' ? Object.keys(fields) : [],
          },
          ...fields,
        },
      },
    },
  };
}

describe('an object as of any instant', () => {
  it('is the newest snapshot by then, with the journal replayed up to the instant', async () => {
    const source = new FakeSource([
      {
        name: 'Account',
        fields: baseFields,
        rows: [
          { Id: A, Name: 'Alpha', IsDeleted: 'false', SystemModstamp: '2026-01-01T00:00:00.000Z' },
          { Id: B, Name: 'Beta', IsDeleted: 'false', SystemModstamp: '2026-01-01T00:00:00.000Z' },
        ],
      },
    ]);
    const store = new MemoryStore();
    // A full snapshot started 10:00 and finished at once; overlap 300 s: the journal is read from 09:55.
    await runCore(
      source,
      { org: 'acme', mode: 'full' },
      {},
      store,
      () => new Date('2026-01-02T10:00:00.000Z'),
    );
    amendManifest(store, 'acme', await newestSnapshotId(store, 'acme'), { continuous: ['Account'] });
    const clock = () => new Date('2026-01-02T12:00:00.000Z');
    await writeJournalBatch(
      store,
      'acme',
      [
        // Before the journal's start: never replayed.
        event('UPDATE', A, '2026-01-02T09:00:00.000Z', { Name: 'Too early' }),
        // In the overlap: the snapshot already shows it; replaying it ends the same.
        event('UPDATE', B, '2026-01-02T09:58:00.000Z', { Name: 'Beta' }),
        event('UPDATE', A, '2026-01-02T10:10:00.000Z', { Name: 'Alpha 2' }),
        event('CREATE', C, '2026-01-02T10:20:00.000Z', { Name: 'Gamma' }),
        event('DELETE', B, '2026-01-02T10:30:00.000Z'),
        event('UPDATE', A, '2026-01-02T10:40:00.000Z', { Name: 'Alpha 3' }),
      ],
      clock,
    );
    const at = async (iso: string) => {
      const view = await rowsAtInstant(store, 'acme', 'Account', new Date(iso));
      return Object.fromEntries(
        [...view.rows].map(([id, r]) => [id, `${r.Name}${r.IsDeleted === 'true' ? ' (bin)' : ''}`]),
      );
    };
    expect(await at('2026-01-02T10:05:00.000Z')).toEqual({ [A]: 'Alpha', [B]: 'Beta' });
    expect(await at('2026-01-02T10:25:00.000Z')).toEqual({ [A]: 'Alpha 2', [B]: 'Beta', [C]: 'Gamma' });
    expect(await at('2026-01-02T10:35:00.000Z')).toEqual({ [A]: 'Alpha 2', [B]: 'Beta (bin)', [C]: 'Gamma' });
    expect(await at('2026-01-02T11:00:00.000Z')).toEqual({ [A]: 'Alpha 3', [B]: 'Beta (bin)', [C]: 'Gamma' });
    const view = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T11:00:00.000Z'));
    expect(view.journalFrom).toBe('2026-01-02T09:55:00.000Z');
    expect(view.events).toBe(5);
  });
});

/** A full snapshot of Account (A, B) taken at 10:00 on 2 January, overlap 300 s; its id. */
async function accountSnapshot(store: MemoryStore, continuous: readonly string[]): Promise<string> {
  const source = new FakeSource([
    {
      name: 'Account',
      fields: baseFields,
      rows: [
        { Id: A, Name: 'Alpha', IsDeleted: 'false', SystemModstamp: '2026-01-01T00:00:00.000Z' },
        { Id: B, Name: 'Beta', IsDeleted: 'false', SystemModstamp: '2026-01-01T00:00:00.000Z' },
      ],
    },
  ]);
  await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => new Date('2026-01-02T10:00:00.000Z'));
  const id = await newestSnapshotId(store, 'acme');
  amendManifest(store, 'acme', id, { continuous });
  return id;
}

const names = (rows: ReadonlyMap<string, Readonly<Record<string, string>>>) =>
  Object.fromEntries([...rows].map(([id, r]) => [id, r.Name]));

describe('what the journal cannot settle', () => {
  it('leaves an object the base snapshot does not mark continuous at the snapshot, saying so', async () => {
    const store = new MemoryStore();
    const base = await accountSnapshot(store, []);
    await writeJournalBatch(
      store,
      'acme',
      [event('UPDATE', A, '2026-01-02T10:10:00.000Z', { Name: 'Alpha 2' })],
      () => new Date('2026-01-02T12:00:00.000Z'),
    );
    const view = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T11:00:00.000Z'));
    expect(view.snapshotOnly).toEqual({ kind: 'not-continuous' });
    expect(view.snapshotId).toBe(base);
    expect(view.watermark).toBe('2026-01-02T10:00:00.000Z');
    expect(view.events).toBe(0);
    expect(names(view.rows)).toEqual({ [A]: 'Alpha', [B]: 'Beta' });
    const restoreView = await new VaultSnapshotSource(store, 'acme').resolve('00D000000000001AAA', {
      kind: 'instant',
      at: '2026-01-02T11:00:00.000Z',
    });
    expect((await restoreView.coverage?.('Account'))?.snapshotOnly).toBe(
      `snapshot ${base} does not mark the object continuous (its change events were not relayed to the journal)`,
    );
  });

  it('applies no journal over a window that a recorded journal break overlaps', async () => {
    const store = new MemoryStore();
    const base = await accountSnapshot(store, ['Account']);
    await writeJournalBatch(
      store,
      'acme',
      [
        event('UPDATE', A, '2026-01-02T10:10:00.000Z', { Name: 'Alpha 2' }),
        event('UPDATE', B, '2026-01-02T12:30:00.000Z', { Name: 'Beta 2' }),
      ],
      () => new Date('2026-01-02T13:00:00.000Z'),
    );
    // The next run, at 14:00, finds the relay relayed nothing from 10:20 to 14:00 and records it.
    const source = new FakeSource([
      {
        name: 'Account',
        fields: baseFields,
        rows: [{ Id: A, Name: 'Alpha 2', IsDeleted: 'false', SystemModstamp: '2026-01-02T10:10:00.000Z' }],
      },
    ]);
    await runCore(
      source,
      { org: 'acme', mode: 'full' },
      {},
      store,
      () => new Date('2026-01-02T14:00:00.000Z'),
    );
    const next = await newestSnapshotId(store, 'acme');
    const journalBreak = {
      from: '2026-01-02T10:20:00.000Z',
      to: '2026-01-02T14:00:00.000Z',
      reason: 'the relay relayed nothing for 3.7 hours',
    };
    amendManifest(store, 'acme', next, { continuous: ['Account'], journalBreak });

    const inBreak = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T13:00:00.000Z'));
    expect(inBreak.snapshotId).toBe(base);
    expect(inBreak.snapshotOnly).toEqual({ kind: 'journal-break', snapshotId: next, ...journalBreak });
    expect(inBreak.events).toBe(0);
    expect(names(inBreak.rows)).toEqual({ [A]: 'Alpha', [B]: 'Beta' });

    // Before the break began, the journal is whole over the window and applies.
    const before = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T10:15:00.000Z'));
    expect(before.snapshotOnly).toBeUndefined();
    expect(names(before.rows)).toEqual({ [A]: 'Alpha 2', [B]: 'Beta' });

    // The run that recorded the break read every row after it: from its watermark on, the journal applies again.
    await writeJournalBatch(
      store,
      'acme',
      [event('UPDATE', A, '2026-01-02T14:10:00.000Z', { Name: 'Alpha 3' })],
      () => new Date('2026-01-02T15:00:00.000Z'),
    );
    const after = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T14:30:00.000Z'));
    expect(after.snapshotId).toBe(next);
    expect(after.snapshotOnly).toBeUndefined();
    expect(names(after.rows)).toEqual({ [A]: 'Alpha 3' });
  });

  it('leaves the object at the snapshot once an overflow event lies in the window', async () => {
    const store = new MemoryStore();
    await accountSnapshot(store, ['Account']);
    await writeJournalBatch(
      store,
      'acme',
      [
        event('UPDATE', A, '2026-01-02T10:10:00.000Z', { Name: 'Alpha 2' }),
        // More than 100,000 changes in one transaction: one overflow event for the object, no ids.
        event('GAP_OVERFLOW', [], '2026-01-02T10:20:00.000Z'),
        event('UPDATE', B, '2026-01-02T10:30:00.000Z', { Name: 'Beta 2' }),
      ],
      () => new Date('2026-01-02T12:00:00.000Z'),
    );
    const before = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T10:15:00.000Z'));
    expect(before.snapshotOnly).toBeUndefined();
    expect(before.events).toBe(1);
    expect(names(before.rows)).toEqual({ [A]: 'Alpha 2', [B]: 'Beta' });
    const after = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T10:35:00.000Z'));
    expect(after.snapshotOnly).toEqual({ kind: 'overflow', at: '2026-01-02T10:20:00.000Z' });
    expect(after.events).toBe(0);
    expect(names(after.rows)).toEqual({ [A]: 'Alpha', [B]: 'Beta' });
  });

  it('counts events the base could not serve: received after its watermark, committed before the window', async () => {
    const store = new MemoryStore();
    await accountSnapshot(store, ['Account']);
    // Committed before the window (09:55). A's gap reached the journal before the window, which the
    // base's run served; B's after the base's watermark (10:00); C's in the overlap, which the base
    // did not settle (it records no journalSettled): the next run serves both.
    await writeJournalBatch(
      store,
      'acme',
      [event('GAP_UPDATE', A, '2026-01-02T09:00:00.000Z')],
      () => new Date('2026-01-02T09:30:00.000Z'),
    );
    await writeJournalBatch(
      store,
      'acme',
      [event('GAP_UPDATE', C, '2026-01-02T09:05:00.000Z')],
      () => new Date('2026-01-02T09:58:00.000Z'),
    );
    await writeJournalBatch(
      store,
      'acme',
      [event('GAP_UPDATE', B, '2026-01-02T09:10:00.000Z')],
      () => new Date('2026-01-02T10:40:00.000Z'),
    );
    // Read even before it arrived: the base lacks B's change at any instant after its commit.
    const gap = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T10:20:00.000Z'));
    expect(gap.snapshotOnly).toBeUndefined();
    expect([...gap.uncertain]).toEqual([
      [C, '2026-01-02T09:05:00.000Z'],
      [B, '2026-01-02T09:10:00.000Z'],
    ]);
    // An overflow, or an event for every record, arriving late leaves the object at the snapshot.
    await writeJournalBatch(
      store,
      'acme',
      [event('UPDATE', ['001*'], '2026-01-02T09:20:00.000Z', { Name: 'All' })],
      () => new Date('2026-01-02T11:00:00.000Z'),
    );
    const wildcard = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T10:20:00.000Z'));
    expect(wildcard.snapshotOnly).toEqual({ kind: 'overflow', at: '2026-01-02T09:20:00.000Z' });
    expect(names(wildcard.rows)).toEqual({ [A]: 'Alpha', [B]: 'Beta' });
  });

  it('names the records a gap event left uncertain, with the gap commit time', async () => {
    const store = new MemoryStore();
    await accountSnapshot(store, ['Account']);
    await writeJournalBatch(
      store,
      'acme',
      [
        event('UPDATE', A, '2026-01-02T10:10:00.000Z', { Name: 'Alpha 2' }),
        event('GAP_UPDATE', B, '2026-01-02T10:20:00.000Z'),
        event('GAP_UPDATE', B, '2026-01-02T10:25:00.000Z'),
      ],
      () => new Date('2026-01-02T12:00:00.000Z'),
    );
    const view = await rowsAtInstant(store, 'acme', 'Account', new Date('2026-01-02T11:00:00.000Z'));
    expect(view.snapshotOnly).toBeUndefined();
    expect([...view.uncertain]).toEqual([[B, '2026-01-02T10:20:00.000Z']]);
    expect(names(view.rows)).toEqual({ [A]: 'Alpha 2', [B]: 'Beta' });
  });
});

describe('a restore input naming any second', () => {
  it('takes pointInTime as an instant with its time zone, and never with snapshot', () => {
    expect(
      parseRestoreInput({ objects: ['Account'], pointInTime: '2026-01-02T10:25:00+01:00' }).snapshot,
    ).toEqual({
      kind: 'instant',
      at: '2026-01-02T09:25:00.000Z',
    });
    expect(() => parseRestoreInput({ objects: ['Account'], pointInTime: '2026-01-02' })).toThrow(
      /pointInTime.*not an instant with a time zone/s,
    );
    // A day or time that does not exist is refused, not rolled over (JavaScript reads both as valid).
    for (const impossible of ['2026-02-30T12:00:05Z', '2026-01-02T24:00:00Z', '2026-04-31T10:00:00+01:00']) {
      expect(() => parseRestoreInput({ objects: ['Account'], pointInTime: impossible }), impossible).toThrow(
        /pointInTime.*does not exist/s,
      );
    }
    expect(
      parseRestoreInput({ objects: ['Account'], pointInTime: '2028-02-29T23:59:59.5-05:00' }).snapshot,
    ).toEqual({
      kind: 'instant',
      at: '2028-03-01T04:59:59.500Z',
    });
    expect(() =>
      parseRestoreInput({
        objects: ['Account'],
        pointInTime: '2026-01-02T10:25:00Z',
        snapshot: '20260101T000000000Z-aaaaaa',
      }),
    ).toThrow(/cannot be combined with snapshot/);
  });

  it('reads the rows a restore plans from the snapshot and the journal up to that second', async () => {
    const source = new FakeSource([
      {
        name: 'Account',
        fields: baseFields,
        rows: [{ Id: A, Name: 'Alpha', IsDeleted: 'false', SystemModstamp: '2026-01-01T00:00:00.000Z' }],
      },
    ]);
    const store = new MemoryStore();
    await runCore(
      source,
      { org: 'acme', mode: 'full' },
      {},
      store,
      () => new Date('2026-01-02T10:00:00.000Z'),
    );
    amendManifest(store, 'acme', await newestSnapshotId(store, 'acme'), { continuous: ['Account'] });
    await writeJournalBatch(
      store,
      'acme',
      [
        event('UPDATE', A, '2026-01-02T10:10:00.000Z', { Name: 'Alpha 2' }),
        event('CREATE', C, '2026-01-02T10:20:00.000Z', { Name: 'Gamma' }),
        event('DELETE', A, '2026-01-02T10:30:00.000Z'),
      ],
      () => new Date('2026-01-02T12:00:00.000Z'),
    );
    const vault = new VaultSnapshotSource(store, 'acme');
    const names = async (at: string) => {
      const view = await vault.resolve('00D000000000001AAA', { kind: 'instant', at });
      const out: string[] = [];
      for await (const row of view.rows('Account')) out.push(String(row.Name));
      return { takenAt: view.takenAt, names: out.sort() };
    };
    expect(await names('2026-01-02T10:25:00.000Z')).toEqual({
      takenAt: '2026-01-02T10:25:00.000Z',
      names: ['Alpha 2', 'Gamma'],
    });
    // Deleted at 10:30: a restore to 10:35 has only Gamma to bring back.
    expect((await names('2026-01-02T10:35:00.000Z')).names).toEqual(['Gamma']);
    // The plan reads how each object is known at the instant; a view of a snapshot has no such thing.
    const view = await vault.resolve('00D000000000001AAA', {
      kind: 'instant',
      at: '2026-01-02T10:25:00.000Z',
    });
    expect(await view.coverage?.('Account')).toEqual({
      instant: '2026-01-02T10:25:00.000Z',
      snapshotId: view.id,
      snapshotWatermark: '2026-01-02T10:00:00.000Z',
      events: 2,
      uncertain: new Map(),
    });
    const latest = await vault.resolve('00D000000000001AAA', { kind: 'latest' });
    expect(await latest.coverage?.('Account')).toBeUndefined();
  });
});

describe('changes the journal could not hold', () => {
  it('make the next incremental read the object again, saying why', async () => {
    const source = new FakeSource([
      {
        name: 'Account',
        fields: baseFields,
        rows: [{ Id: A, Name: 'Alpha', IsDeleted: 'false', SystemModstamp: '2026-01-01T00:00:00.000Z' }],
      },
      {
        name: 'Note__c',
        fields: baseFields,
        rows: [
          {
            Id: 'a00000000000001AAA',
            Name: 'n',
            IsDeleted: 'false',
            SystemModstamp: '2026-01-01T00:00:00.000Z',
          },
        ],
      },
    ]);
    const store = new MemoryStore();
    await runCore(
      source,
      { org: 'acme', mode: 'full' },
      {},
      store,
      () => new Date('2026-01-02T10:00:00.000Z'),
    );
    await writeJournalBatch(
      store,
      'acme',
      [event('GAP_UPDATE', A, '2026-01-02T11:00:00.000Z')],
      () => new Date(),
    );
    const inc = await runCore(
      source,
      { org: 'acme', mode: 'incremental' },
      {},
      store,
      () => new Date('2026-01-03T10:00:00.000Z'),
    );
    expect(inc.finish.status).toBe('complete');
    const manifest = (await new SnapshotReader(store).pointInTime('acme', 'latest')).target;
    const account = manifest.objects.find((o) => o.name === 'Account')!;
    expect(account.since).toBeNull();
    expect(account.fullReason).toMatch(
      /gap for 1 record\(s\) of Account at 2026-01-02T11:00:00.000Z \(GAP_UPDATE\)/,
    );
    expect(manifest.objects.find((o) => o.name === 'Note__c')?.status).toBe('unchanged');
  });
});
