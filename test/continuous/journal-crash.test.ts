/**
 * A journal writer that dies in the middle of a batch loses nothing and writes nothing twice. The
 * writer is stopped at every write it makes (before the write lands, and after it landed but before
 * the writer heard so), over the real directory store; the queue then delivers the batch again, as
 * SQS does when an invocation fails: the same messages, or mixed with newer ones. Each time the
 * journal must read back every event exactly once, in journal order, and no stored object may have
 * been written twice.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import {
  type JournalMessage,
  readJournal,
  writeJournalBatch,
} from '../../lambdas/core/continuous/journal.ts';
import type { BackupStore, PutOptions, StoredObject } from '../../lambdas/core/store.ts';

const ORG = 'acme';
const HOUR = 3_600_000;
const T = Date.parse('2026-12-03T09:58:00.000Z');

/** The writer's process ended: nothing after this point runs. */
class WriterDied extends Error {}

/** The directory store, with the writer dying at its `dieAt`-th write (1-based). */
class DyingStore {
  writes = 0;
  readonly written = new Map<string, number>();
  constructor(
    private readonly inner: BackupStore,
    private readonly dieAt: number,
    private readonly when: 'before' | 'after',
  ) {}

  /** The store as the writer sees it: every method passed through, writes counted. */
  asStore(): BackupStore {
    return new Proxy(this.inner, {
      get: (target, property, receiver) => {
        if (property === 'put')
          return (key: string, body: Uint8Array | string, options?: PutOptions) =>
            this.put(key, body, options);
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  private async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<StoredObject> {
    this.writes++;
    if (this.writes === this.dieAt && this.when === 'before')
      throw new WriterDied(`died before writing ${key}`);
    const stored = await this.inner.put(key, body, options);
    this.written.set(key, (this.written.get(key) ?? 0) + 1);
    if (this.writes === this.dieAt) throw new WriterDied(`died after writing ${key}`);
    return stored;
  }
}

/** A change event as Event Relay puts it on EventBridge. */
function relayed(
  replayId: number,
  at: number,
  changeType = 'UPDATE',
  ids = [`001000000000${String(replayId).padStart(3, '0')}AAA`],
) {
  return {
    version: '0',
    id: `evt-${replayId}`,
    'detail-type': 'AccountChangeEvent',
    source: 'aws.partner/salesforce.com/00D000000000001AAA/0YL000000000001',
    account: '123456789012',
    time: new Date(at).toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: {
      id: `uuid-${replayId}`,
      replayId,
      schemaId: 'schema',
      payload: {
        ChangeEventHeader: {
          entityName: 'Account',
          recordIds: ids,
          changeType,
          changeOrigin: 'com/salesforce/api/rest/62.0',
          transactionKey: `tx-${replayId}`,
          sequenceNumber: 1,
          commitTimestamp: at,
          commitNumber: at,
          commitUser: '005000000000001AAA',
          changedFields: [],
          nulledFields: [],
          diffFields: [],
        },
        ...(changeType.startsWith('GAP_') ? {} : { Name: `Acme ${replayId}` }),
      },
    },
  };
}

/** Twelve events over three commit hours, a gap event among them (which also writes a reread). */
const first: JournalMessage[] = Array.from({ length: 12 }, (_, i) => ({
  messageId: `m-${i + 1}`,
  event: relayed(i + 1, T + i * 7.5 * 60_000, i === 5 ? 'GAP_UPDATE' : 'UPDATE'),
}));
/** Newer messages the queue may deliver together with the ones it delivers again. */
const newer: JournalMessage[] = Array.from({ length: 4 }, (_, i) => ({
  messageId: `m-${i + 13}`,
  event: relayed(i + 13, T + 3 * HOUR + i * 60_000),
}));

const clock = () => new Date('2026-12-03T12:00:00.000Z');

async function journaled(store: BackupStore): Promise<number[]> {
  const lines = await readJournal(store, ORG, new Date(T - HOUR), new Date(T + 4 * HOUR));
  return lines.map((l) => Number(l.sort.replayId));
}

describe('a journal writer that dies mid-batch', () => {
  it('spans several commit hours and a reread, so a batch makes several writes', async () => {
    const store = new DyingStore(
      new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'journal-crash-'))),
      0,
      'before',
    );
    await writeJournalBatch(store.asStore(), ORG, first, clock);
    // Three hours, each an object and its manifest, and one reread.
    expect(store.writes).toBe(7);
    expect(await journaled(store.asStore())).toEqual(first.map((_, i) => i + 1));
  });

  for (const when of ['before', 'after'] as const) {
    for (const redelivery of ['the same batch', 'them split across batches with newer messages'] as const) {
      it(`loses nothing and writes nothing twice when it dies ${when} any write, and the queue delivers ${redelivery}`, async () => {
        for (let dieAt = 1; dieAt <= 7; dieAt++) {
          const dir = mkdtempSync(join(tmpdir(), 'journal-crash-'));
          const dying = new DyingStore(new LocalDirectoryStore(dir), dieAt, when);
          await expect(
            writeJournalBatch(dying.asStore(), ORG, first, clock),
            `write ${dieAt}`,
          ).rejects.toThrow(WriterDied);
          // Nothing half-written is ever read: the journal holds a prefix of whole objects.
          const partial = await journaled(new LocalDirectoryStore(dir));
          expect(partial, `write ${dieAt}`).toEqual([...partial].sort((a, b) => a - b));

          const again = new DyingStore(new LocalDirectoryStore(dir), 0, 'before');
          // SQS delivers the failed messages again, alone or split across batches with newer ones
          // (reordered): the commit hours then hold other mixes of events than the first attempt's.
          const batches =
            redelivery === 'the same batch'
              ? [first]
              : [
                  [...newer.slice(0, 2), ...first.slice(0, 7).reverse()],
                  [...first.slice(7), ...newer.slice(2)],
                ];
          for (const batch of batches) {
            const result = await writeJournalBatch(again.asStore(), ORG, batch, clock);
            expect(result.failedMessageIds).toEqual([]);
          }
          const expected = [...first, ...(redelivery === 'the same batch' ? [] : newer)].map((_, i) => i + 1);
          expect(await journaled(new LocalDirectoryStore(dir)), `write ${dieAt}`).toEqual(expected);
          for (const [key, times] of [...dying.written, ...again.written]) expect(times, key).toBe(1);
          for (const key of again.written.keys())
            expect(dying.written.has(key), `${key} written twice`).toBe(false);
        }
      });
    }
  }
});
