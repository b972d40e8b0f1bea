import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  type JournalManifest,
  JournalCorruptError,
  journalPrefix,
  readJournal,
  rereadsSince,
  sortOf,
  UnreadableChangeEventError,
  writeJournalBatch,
} from '../../lambdas/core/continuous/journal.ts';
import { MemoryStore } from '../backup/memory-store.ts';

const ORG = 'acme';
const T = Date.parse('2026-12-03T10:05:00.000Z');

/** An event as Event Relay puts it on EventBridge (see docs/continuous.md). */
function relayed(options: {
  replayId: number;
  at: number;
  tx?: string;
  seq?: number;
  type?: string;
  ids?: string[];
  commitNumber?: number;
  fields?: Record<string, unknown>;
  /** The event's UUID in `detail.id`. */
  uuid?: string;
  /** Relayed without `detail.replayId`. */
  noReplayId?: boolean;
}) {
  return {
    version: '0',
    id: `evt-${options.replayId}`,
    'detail-type': 'AccountChangeEvent',
    source: 'aws.partner/salesforce.com/00D000000000001AAA/0YLxx0000000001',
    account: '123456789012',
    time: new Date(options.at).toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: {
      ...(options.noReplayId ? {} : { replayId: String(options.replayId) }),
      ...(options.uuid ? { id: options.uuid } : {}),
      payload: {
        ChangeEventHeader: {
          entityName: 'Account',
          recordIds: options.ids ?? ['001000000000001AAA'],
          changeType: options.type ?? 'UPDATE',
          changeOrigin: 'com/salesforce/api/rest/62.0',
          transactionKey: options.tx ?? `tx-${options.replayId}`,
          sequenceNumber: options.seq ?? 1,
          commitTimestamp: options.at,
          commitNumber: options.commitNumber ?? options.at,
          commitUser: '005000000000001AAA',
          changedFields: ['Name'],
        },
        ...(options.fields ?? { Name: 'Acme' }),
      },
    },
  };
}

const clock = () => new Date('2026-12-03T10:06:00.000Z');
const msg = (n: number, event: unknown) => ({ messageId: `m-${n}`, event });

describe('the change-event journal', () => {
  it('writes a batch once per commit hour, in journal order, with a manifest, and reads it back', async () => {
    const store = new MemoryStore();
    const events = [
      relayed({ replayId: 3, at: T + 2000, tx: 'b', seq: 1 }),
      relayed({ replayId: 1, at: T, tx: 'a', seq: 1 }),
      relayed({ replayId: 2, at: T, tx: 'a', seq: 2 }),
      relayed({ replayId: 9, at: T + 3_600_000, tx: 'c' }),
    ];
    const result = await writeJournalBatch(
      store,
      ORG,
      events.map((e, i) => msg(i, e)),
      clock,
    );
    expect(result.failedMessageIds).toEqual([]);
    expect(result.events).toBe(4);
    expect(result.keys).toHaveLength(2);
    expect(result.keys[0]).toMatch(
      /^orgs\/acme\/journal\/2026\/12\/03\/10\/20261203T100500000Z-1-3-[0-9a-f]{16}\.jsonl\.gz$/,
    );
    expect(result.keys[1]).toMatch(/\/2026\/12\/03\/11\/20261203T110500000Z-9-9-/);
    const manifest = JSON.parse(
      new TextDecoder().decode(await store.get(result.keys[0]!.replace('.jsonl.gz', '.manifest.json'))),
    ) as JournalManifest;
    expect(manifest).toMatchObject({ events: 3, entities: { Account: 3 }, gaps: 0, overflows: 0 });
    const lines = gunzipSync(await store.get(result.keys[0]!))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l).sort.replayId)).toEqual(['1', '2', '3']);
    // The event is kept exactly as received.
    expect(JSON.parse(lines[0]!).event).toEqual(events[1]);

    const read = await readJournal(store, ORG, new Date(T - 1), new Date(T + 3_600_000));
    expect(read.map((l) => l.sort.replayId)).toEqual(['1', '2', '3', '9']);
    const cut = await readJournal(store, ORG, new Date(T), new Date(T + 1000));
    expect(cut.map((l) => l.sort.replayId)).toEqual(['1', '2']);
  });

  it('keeps a duplicated event once, and a batch delivered again writes nothing new', async () => {
    const store = new MemoryStore();
    const a = relayed({ replayId: 1, at: T });
    const b = relayed({ replayId: 2, at: T + 10 });
    const first = await writeJournalBatch(store, ORG, [msg(1, a), msg(2, a), msg(3, b)], clock);
    expect(first.events).toBe(2);
    const keysBefore = [...store.objects.keys()].sort();
    const again = await writeJournalBatch(store, ORG, [msg(4, b), msg(5, a)], clock);
    expect(again.keys).toEqual(first.keys);
    expect([...store.objects.keys()].sort()).toEqual(keysBefore);
    // Delivered in another batch with other neighbours, the same event is still read once.
    await writeJournalBatch(store, ORG, [msg(6, a), msg(7, relayed({ replayId: 3, at: T + 20 }))], clock);
    const read = await readJournal(store, ORG, new Date(T), new Date(T + 60_000));
    expect(read.map((l) => l.sort.replayId)).toEqual(['1', '2', '3']);
  });

  it('orders events by commit time, commit number and sequence, whatever order they came in', async () => {
    const store = new MemoryStore();
    const events = [
      relayed({ replayId: 30, at: T, tx: 'x', seq: 2, commitNumber: 5 }),
      relayed({ replayId: 10, at: T, tx: 'y', seq: 1, commitNumber: 7 }),
      relayed({ replayId: 20, at: T, tx: 'x', seq: 1, commitNumber: 5 }),
    ];
    await writeJournalBatch(store, ORG, [msg(1, events[0]), msg(2, events[1])], clock);
    await writeJournalBatch(store, ORG, [msg(3, events[2])], clock);
    const read = await readJournal(store, ORG, new Date(T), new Date(T));
    expect(read.map((l) => l.sort.replayId)).toEqual(['20', '30', '10']);
    // Ties broken by replay id, as numbers: 9 before 10.
    const ties = new MemoryStore();
    await writeJournalBatch(
      ties,
      ORG,
      [10, 9].map((n) => msg(n, relayed({ replayId: n, at: T, tx: 't', seq: 1, commitNumber: 1 }))),
      clock,
    );
    expect((await readJournal(ties, ORG, new Date(T), new Date(T))).map((l) => l.sort.replayId)).toEqual([
      '9',
      '10',
    ]);
  });

  it('reports an event it cannot read by its message, and journals the rest', async () => {
    const store = new MemoryStore();
    const result = await writeJournalBatch(
      store,
      ORG,
      [msg(1, { detail: { payload: {} } }), msg(2, relayed({ replayId: 1, at: T })), msg(3, 'not an event')],
      clock,
    );
    expect(result.failedMessageIds).toEqual(['m-1', 'm-3']);
    expect(result.events).toBe(1);
    expect(() => sortOf({ detail: { payload: {} } })).toThrow(UnreadableChangeEventError);
    expect(() => sortOf({ detail: { payload: {} } })).toThrow(/ChangeEventHeader/);
    expect(() =>
      sortOf({ detail: { replayId: '1', payload: { ChangeEventHeader: { entityName: 'A' } } } }),
    ).toThrow(/commitTimestamp.*not a number/);
  });

  it('fails only the message of an event whose commitTimestamp is not a time, and journals the others', async () => {
    const store = new MemoryStore();
    const bad = (replayId: number, at: unknown) => {
      const event = relayed({ replayId, at: T });
      (event.detail.payload.ChangeEventHeader as Record<string, unknown>).commitTimestamp = at;
      return event;
    };
    const result = await writeJournalBatch(
      store,
      ORG,
      [
        msg(1, relayed({ replayId: 1, at: T })),
        msg(2, bad(2, 1e20)),
        msg(3, bad(3, -1)),
        msg(4, bad(4, T + 0.5)),
        msg(5, relayed({ replayId: 5, at: T + 10 })),
      ],
      clock,
    );
    expect(result.failedMessageIds).toEqual(['m-2', 'm-3', 'm-4']);
    expect(result.events).toBe(2);
    expect(() => sortOf(bad(2, 1e20))).toThrow(/"commitTimestamp" \(100000000000000000000\) is not a time/);
    const read = await readJournal(store, ORG, new Date(T), new Date(T + 60_000));
    expect(read.map((l) => l.sort.replayId)).toEqual(['1', '5']);
  });

  it('knows an event relayed without a replay id by its UUID, and orders it by commit, then UUID', async () => {
    const store = new MemoryStore();
    const a = relayed({
      replayId: 0,
      at: T,
      tx: 't',
      seq: 1,
      commitNumber: 1,
      uuid: 'bbbb',
      noReplayId: true,
    });
    const b = relayed({
      replayId: 0,
      at: T,
      tx: 't',
      seq: 1,
      commitNumber: 1,
      uuid: 'aaaa',
      noReplayId: true,
    });
    const c = relayed({ replayId: 0, at: T - 5, tx: 'u', uuid: 'cccc', noReplayId: true });
    // Every delivery of one event repeats its UUID, though the EventBridge envelope is new.
    const again = { ...a, id: 'another-delivery' };
    const result = await writeJournalBatch(
      store,
      ORG,
      [msg(1, a), msg(2, b), msg(3, again), msg(4, c)],
      clock,
    );
    expect(result.failedMessageIds).toEqual([]);
    expect(result.events).toBe(3);
    expect(result.keys[0]).toMatch(/\/20261203T100459995Z-cccc-bbbb-[0-9a-f]{16}\.jsonl\.gz$/);
    await writeJournalBatch(store, ORG, [msg(5, again)], clock);
    const read = await readJournal(store, ORG, new Date(T - 60_000), new Date(T));
    expect(read.map((l) => [l.sort.replayId, l.sort.eventId])).toEqual([
      ['', 'cccc'],
      ['', 'aaaa'],
      ['', 'bbbb'],
    ]);
    // Neither a replay id nor a UUID: the event cannot be told from its redeliveries.
    const neither = relayed({ replayId: 0, at: T, noReplayId: true });
    const refused = await writeJournalBatch(store, ORG, [msg(6, neither)], clock);
    expect(refused.failedMessageIds).toEqual(['m-6']);
    expect(() => sortOf(neither)).toThrow(/neither "detail.replayId" nor "detail.id"/);
  });

  it('finishes the manifest of an object an earlier attempt wrote without one, and reads no object without a manifest', async () => {
    const store = new MemoryStore();
    const event = relayed({ replayId: 1, at: T });
    const { keys } = await writeJournalBatch(store, ORG, [msg(1, event)], clock);
    const manifestKey = keys[0]!.replace('.jsonl.gz', '.manifest.json');
    store.objects.delete(manifestKey);
    expect(await readJournal(store, ORG, new Date(T), new Date(T))).toEqual([]);
    await writeJournalBatch(store, ORG, [msg(2, event)], clock);
    expect(store.objects.has(manifestKey)).toBe(true);
    expect(await readJournal(store, ORG, new Date(T), new Date(T))).toHaveLength(1);
  });

  it('refuses to read an object changed after it was written, naming it', async () => {
    const store = new MemoryStore();
    const { keys } = await writeJournalBatch(store, ORG, [msg(1, relayed({ replayId: 1, at: T }))], clock);
    store.objects.set(keys[0]!, new Uint8Array([1, 2, 3]));
    await expect(readJournal(store, ORG, new Date(T), new Date(T))).rejects.toThrow(JournalCorruptError);
    await expect(readJournal(store, ORG, new Date(T), new Date(T))).rejects.toThrow(keys[0]!);
  });

  it('records a gap, an overflow and a wildcard event for the next backup, by when it received them', async () => {
    const store = new MemoryStore();
    const at = (iso: string) => () => new Date(iso);
    // Committed at 10:05 but received two days later (the relay caught up): listed by arrival.
    await writeJournalBatch(
      store,
      ORG,
      [msg(1, relayed({ replayId: 1, at: T, type: 'GAP_UPDATE' }))],
      at('2026-12-05T09:00:00.000Z'),
    );
    await writeJournalBatch(
      store,
      ORG,
      [
        msg(2, relayed({ replayId: 2, at: T + 3_600_000, type: 'GAP_OVERFLOW', ids: [] })),
        // A change to every Account (a field's type changed): record ids are the key prefix and `*`.
        msg(3, relayed({ replayId: 3, at: T + 7_200_000, ids: ['001*'] })),
        msg(4, relayed({ replayId: 4, at: T + 7_200_000 })),
      ],
      at('2026-12-03T13:00:00.000Z'),
    );
    const all = await rereadsSince(store, ORG, new Date('2026-12-03T00:00:00.000Z'));
    expect(all.map((r) => [r.receivedAt, r.kind, r.changeType, r.commitTimestamp])).toEqual([
      ['2026-12-03T13:00:00.000Z', 'overflow', 'GAP_OVERFLOW', '2026-12-03T11:05:00.000Z'],
      ['2026-12-03T13:00:00.000Z', 'overflow', 'UPDATE', '2026-12-03T12:05:00.000Z'],
      ['2026-12-05T09:00:00.000Z', 'gap', 'GAP_UPDATE', '2026-12-03T10:05:00.000Z'],
    ]);
    expect(all[1]!.recordIds).toEqual(['001*']);
    // Selected by arrival, not by commit: the gap committed first is the one received since.
    const since = await rereadsSince(store, ORG, new Date('2026-12-04T00:00:00.000Z'));
    expect(since.map((r) => [r.changeType, r.commitTimestamp])).toEqual([
      ['GAP_UPDATE', '2026-12-03T10:05:00.000Z'],
    ]);
    const keys = [...store.objects.keys()].filter((k) => k.includes('/rereads/')).sort();
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(
      /^orgs\/acme\/journal\/rereads\/20261203T130000000Z-20261203T110500000Z-[0-9a-f]{16}\.json$/,
    );
  });

  it('keeps the journal under the org prefix', () => {
    expect(journalPrefix(ORG)).toBe('orgs/acme/journal/');
  });
});
