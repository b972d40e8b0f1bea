import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../contract/workflow-contract.ts';
import {
  RetentionCatalogUnreadableError,
  type SweepCursor,
  type SweepOutput,
  sweepOrg,
} from '../../lambdas/core/retention/sweep.ts';
import { FILE_LISTS_AT_ONCE } from '../../lambdas/core/snapshot/file-lists.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { orgWithFiles } from '../backup/fake-source.ts';
import { ListPerBodyStore } from '../backup/memory-store.ts';
import { runCore } from '../backup/run-core.ts';
import { filesOf } from '../support/snapshot-files.ts';

const FIRST = Date.parse('2026-11-01T02:00:00.000Z');
const at = (day: number) => new Date(FIRST + day * 86_400_000);
const POLICY: RetentionPolicy = { daily: 2, weekly: 0, monthly: 0, yearly: 0 };
const FILES = FILE_LISTS_AT_ONCE * 2 + 5;

/**
 * Three daily full backups of an org whose files 1-3 are deleted before the second and 4-7 before
 * the third, each backup naming its reused bodies in one list per body. Kept under POLICY: the
 * last two; the first expires, and with it only the bodies of files 1-3: those of 4-7 are named
 * by the older kept snapshot alone.
 */
async function vault() {
  const store = new ListPerBodyStore();
  const source = orgWithFiles(at(-1), FILES);
  const rows = source.object('ContentVersion').rows;
  const ids: string[] = [];
  for (const [day, drop] of [0, 3, 4].entries()) {
    rows.splice(0, drop);
    ids.push(
      (await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(day))).finish.snapshotId,
    );
  }
  const reader = new SnapshotReader(store);
  const bodyOf = new Map(
    (await filesOf(store, await reader.manifest('acme', ids[0]!))).map((f) => [f.recordId, f.key]),
  );
  const bodiesOf = (from: number, to: number) =>
    Array.from(
      { length: to - from + 1 },
      (_, i) => bodyOf.get(`068${String(from + i).padStart(12, '0')}AAA`)!,
    );
  return { store, ids, reader, bodiesOf };
}

/** Keys under a prefix. */
async function keysUnder(store: ListPerBodyStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys;
}

/** One invocation of the sweep of exec-1, given no time at all (every invocation moves it on once). */
const invoke = (store: ListPerBodyStore, cursor: SweepCursor | null, clock = () => at(2)) =>
  sweepOrg(
    { store, remover: store, clock, deadline: clock() },
    { org: 'acme', policy: POLICY, execution: 'exec-1', ...(cursor ? { cursor } : {}) },
  );

/** Invocations handing each cursor to the next until `stop` holds or the sweep is done. */
async function invokeUntil(
  store: ListPerBodyStore,
  stop: (out: SweepOutput) => boolean = () => false,
  from: SweepCursor | null = null,
): Promise<SweepOutput[]> {
  const outs: SweepOutput[] = [];
  let cursor = from;
  do {
    const out = await invoke(store, cursor);
    outs.push(out);
    cursor = out.cursor;
    if (stop(out)) break;
  } while (cursor && outs.length < 1_000);
  return outs;
}

describe('a sweep whose planning takes several invocations', () => {
  it('plans a step per invocation, holding only the bodies the newest kept snapshot does not name, and removes what one invocation would', async () => {
    // GIVEN two like vaults whose older kept snapshot names 34 lists (three windows of reads)
    const once = await vault();
    const sliced = await vault();
    const olderLists = (await sliced.reader.manifest('acme', sliced.ids[1]!)).fileLists!.map((l) => l.key);
    expect(olderLists).toHaveLength(FILES - 3);
    const reads = new Map<string, number>();
    const listings: string[] = [];
    const get = sliced.store.get.bind(sliced.store);
    sliced.store.get = async (key) => {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return get(key);
    };
    const list = sliced.store.list.bind(sliced.store);
    sliced.store.list = (prefix, options) => {
      listings.push(prefix);
      return list(prefix, options);
    };
    // WHEN one sweeps in one invocation and the other in invocations given no time at all
    const whole = await sweepOrg(
      { store: once.store, remover: once.store, clock: () => at(2) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    const outs = await invokeUntil(sliced.store);
    const listReads = olderLists.map((key) => reads.get(key));
    // THEN five invocations plan (classify; the newest snapshot and the listing; three windows of
    // the older one's lists), answering where they stopped, before the log is written
    expect(outs.slice(0, 4).map((o) => [o.logKey, o.cursor?.planned])).toEqual([
      [null, { source: 0, list: 0 }],
      [null, { source: 1, list: 0 }],
      [null, { source: 1, list: FILE_LISTS_AT_ONCE }],
      [null, { source: 1, list: FILE_LISTS_AT_ONCE * 2 }],
    ]);
    const logKey = outs[4]!.logKey!;
    expect(logKey).toBe(whole.logKey);
    expect(outs.slice(4).every((o) => o.logKey === logKey && o.cursor?.planned === undefined)).toBe(true);
    expect(outs.at(-1)).toMatchObject({ done: true, kept: 2, expired: 1 });
    // ...and removes the bodies of files 1-3 and nothing else, as the one invocation did
    const removed = sliced.bodiesOf(1, 3);
    expect(whole.removedFileBodies).toBe(3);
    expect(outs.reduce((n, o) => n + o.removedFileBodies, 0)).toBe(3);
    for (const body of removed) expect(await sliced.store.head(body)).toBeUndefined();
    for (const body of sliced.bodiesOf(4, FILES)) expect(await sliced.store.head(body)).toBeDefined();
    for (const id of sliced.ids.slice(1))
      expect(await verifySnapshot(sliced.store, await sliced.reader.manifest('acme', id))).toEqual([]);
    // ...each list of the older kept snapshot read once, the bodies listed once
    expect(listReads).toEqual(olderLists.map(() => 1));
    expect(listings.filter((p) => p === 'orgs/acme/files/sha256/')).toHaveLength(1);
    // ...and where each planning invocation stopped is written beside the log: after the newest
    // snapshot only the bodies of files 1-7, then fewer, never a body outside them
    const stem = logKey.replace(/\.json$/, '');
    const records = (await keysUnder(sliced.store, `${stem}/`)).filter((k) => k.includes('/planning-'));
    expect(records).toEqual(
      ['0-0', '1-0', `1-${FILE_LISTS_AT_ONCE}`, `1-${FILE_LISTS_AT_ONCE * 2}`].map(
        (at) => `${stem}/planning-${at}.json`,
      ),
    );
    const candidates = (at: string) =>
      (JSON.parse(sliced.store.text(`${stem}/planning-${at}.json`)) as { candidates: string[] | null })
        .candidates;
    expect(candidates('0-0')).toBeNull();
    expect(candidates('1-0')).toEqual(sliced.bodiesOf(1, 7).sort());
    expect(candidates(`1-${FILE_LISTS_AT_ONCE}`)).toEqual(removed.sort());
    expect(JSON.stringify(candidates('1-0'))).not.toContain('body of');
  });

  it('plans in steps again for a log written before sweeps kept their lists', async () => {
    // GIVEN a sweep stopped after its log, with no list of bodies beside it (an earlier version's)
    const { store, bodiesOf } = await vault();
    const [logged] = (await invokeUntil(store, (o) => o.logKey !== null)).slice(-1);
    store.objects.delete(logged!.logKey!.replace(/\.json$/, '/bodies.json'));
    // WHEN it goes on in invocations given no time at all
    const outs = await invokeUntil(store, undefined, { sweptAt: logged!.cursor!.sweptAt });
    // THEN the invocations plan from the log's kept snapshots in steps, then remove only files 1-3's bodies
    expect(outs.filter((o) => o.cursor?.planned !== undefined).length).toBeGreaterThanOrEqual(3);
    expect(outs.at(-1)).toMatchObject({ done: true });
    for (const body of bodiesOf(1, 3)) expect(await store.head(body)).toBeUndefined();
    for (const body of bodiesOf(4, FILES)) expect(await store.head(body)).toBeDefined();
  });

  it.each([
    ["another execution's", (r: Record<string, unknown>) => ({ ...r, execution: 'exec-0' })],
    ['stopping elsewhere', (r: Record<string, unknown>) => ({ ...r, next: { source: 1, list: 0 } })],
    [
      'naming a key outside the file bodies',
      (r: Record<string, unknown>) => ({
        ...r,
        candidates: [...(r.candidates as string[]), 'orgs/acme/catalog/20261101T020000000Z-aaaaaa.json'],
      }),
    ],
    ['without its decisions', (r: Record<string, unknown>) => ({ ...r, decisions: { kept: [] } })],
    ['holding no bodies past its first step', (r: Record<string, unknown>) => ({ ...r, candidates: null })],
  ])('fails, removing nothing, on a planning record %s', async (_what, tamper) => {
    // GIVEN a sweep stopped in its planning, at its third step
    const { store, bodiesOf } = await vault();
    const outs = await invokeUntil(store, (o) => o.cursor?.planned?.list === FILE_LISTS_AT_ONCE);
    const cursor = outs.at(-1)!.cursor!;
    const key = (await keysUnder(store, 'orgs/acme/retention/')).find((k) =>
      k.endsWith(`/planning-1-${FILE_LISTS_AT_ONCE}.json`),
    )!;
    store.objects.set(key, new TextEncoder().encode(JSON.stringify(tamper(JSON.parse(store.text(key))))));
    const before = [...store.objects.keys()].sort();
    // WHEN it goes on: it fails, naming the record, and removes nothing
    await expect(invoke(store, cursor)).rejects.toThrow(RetentionCatalogUnreadableError);
    await expect(invoke(store, cursor)).rejects.toThrow(`The sweep's planning record ${key}`);
    expect([...store.objects.keys()].filter((k) => !k.includes('/lease/')).sort()).toEqual(
      before.filter((k) => !k.includes('/lease/')),
    );
    for (const body of bodiesOf(1, 3)) expect(await store.head(body)).toBeDefined();
  });

  it('begins a new sweep when its cursor names a planning record that is not there', async () => {
    const { store, bodiesOf } = await vault();
    const outs = await invokeUntil(store, (o) => o.cursor?.planned?.source === 1);
    const cursor = outs.at(-1)!.cursor!;
    for (const key of await keysUnder(store, 'orgs/acme/retention/')) store.objects.delete(key);
    // WHEN it goes on a day later: it classifies anew, at its own time, and sweeps to its end
    const rest: SweepOutput[] = [];
    let next: SweepCursor | null = cursor;
    do {
      const out = await invoke(store, next, () => at(3));
      rest.push(out);
      next = out.cursor;
    } while (next && rest.length < 1_000);
    expect(rest[0]!.cursor).toEqual({ sweptAt: at(3).toISOString(), planned: { source: 0, list: 0 } });
    expect(rest.at(-1)).toMatchObject({ done: true, kept: 2, expired: 1 });
    for (const body of bodiesOf(1, 3)) expect(await store.head(body)).toBeUndefined();
    for (const body of bodiesOf(4, FILES)) expect(await store.head(body)).toBeDefined();
  });
});
