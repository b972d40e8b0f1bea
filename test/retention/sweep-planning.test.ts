import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../contract/workflow-contract.ts';
import { type PlanningPosition, planningName } from '../../lambdas/core/retention/bodies-to-remove.ts';
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
const at = (day: number, hours = 0) => new Date(FIRST + day * 86_400_000 + hours * 3_600_000);
const POLICY: RetentionPolicy = { daily: 2, weekly: 0, monthly: 0, yearly: 0 };
const FILES = FILE_LISTS_AT_ONCE * 2 + 5;

/**
 * Three daily full backups of an org whose files 1-3 are deleted before the second, and 4-7 and
 * the last two before the third, each backup naming its reused bodies in one list per body; then
 * a backup of the metadata alone, which names no body. Kept under POLICY: the last two days. The
 * first backup expires, and with it only the bodies of files 1-3: those of 4-7 and of the last
 * two are named by the second backup alone, in the first and the last window of its lists.
 */
async function vault() {
  const store = new ListPerBodyStore();
  const source = orgWithFiles(at(-1), FILES);
  const rows = source.object('ContentVersion').rows;
  const ids: string[] = [];
  for (const [day, front, end] of [
    [0, 0, 0],
    [1, 3, 0],
    [2, 4, 2],
  ] as const) {
    rows.splice(0, front);
    rows.splice(rows.length - end, end);
    ids.push(
      (await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(day))).finish.snapshotId,
    );
  }
  const metadata = await runCore(source, { org: 'acme', mode: 'metadata' }, {}, store, () => at(2, 1));
  ids.push(metadata.finish.snapshotId);
  const reader = new SnapshotReader(store);
  const bodyOf = new Map(
    (await filesOf(store, await reader.manifest('acme', ids[0]!))).map((f) => [f.recordId, f.key]),
  );
  const bodiesOf = (...ranges: [number, number][]) =>
    ranges
      .flatMap(([from, to]) =>
        Array.from(
          { length: to - from + 1 },
          (_, i) => bodyOf.get(`068${String(from + i).padStart(12, '0')}AAA`)!,
        ),
      )
      .sort();
  return { store, ids, reader, bodiesOf };
}

/** Keys under a prefix. */
async function keysUnder(store: ListPerBodyStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys;
}

/** One invocation of the sweep of exec-1, given no time at all (every invocation moves it on once). */
const invoke = (
  store: ListPerBodyStore,
  cursor: SweepCursor | null,
  clock = () => at(2, 2),
  namesHeldAsKeys?: number,
) =>
  sweepOrg(
    { store, remover: store, clock, deadline: clock(), ...(namesHeldAsKeys ? { namesHeldAsKeys } : {}) },
    { org: 'acme', policy: POLICY, execution: 'exec-1', ...(cursor ? { cursor } : {}) },
  );

/** Invocations handing each cursor to the next until `stop` holds or the sweep is done. */
async function invokeUntil(
  store: ListPerBodyStore,
  stop: (out: SweepOutput) => boolean = () => false,
  from: SweepCursor | null = null,
  namesHeldAsKeys?: number,
): Promise<SweepOutput[]> {
  const outs: SweepOutput[] = [];
  let cursor = from;
  do {
    const out = await invoke(store, cursor, undefined, namesHeldAsKeys);
    outs.push(out);
    cursor = out.cursor;
    if (stop(out)) break;
  } while (cursor && outs.length < 1_000);
  return outs;
}

describe('a sweep whose planning takes several invocations', () => {
  it('plans a step per invocation, holding only the bodies the newest data snapshot does not name, and removes what one invocation would', async () => {
    // GIVEN two like vaults whose older kept snapshot names 34 lists (three windows of reads), the
    // newest kept one a backup of the metadata alone
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
      { store: once.store, remover: once.store, clock: () => at(2, 2) },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    const outs = await invokeUntil(sliced.store);
    const listReads = olderLists.map((key) => reads.get(key));
    // THEN six invocations plan (classify; the newest data snapshot and the listing of the bodies;
    // the metadata snapshot; three windows of the older one's lists), answering where they
    // stopped and what they decided, before the log is written
    expect(outs.slice(0, 5).map((o) => [o.logKey, o.cursor?.planned, o.kept, o.expired])).toEqual([
      [null, { source: 0, list: 0 }, 3, 1],
      [null, { source: 1, list: 0 }, 3, 1],
      [null, { source: 2, list: 0 }, 3, 1],
      [null, { source: 2, list: FILE_LISTS_AT_ONCE }, 3, 1],
      [null, { source: 2, list: FILE_LISTS_AT_ONCE * 2 }, 3, 1],
    ]);
    const logKey = outs[5]!.logKey!;
    expect(logKey).toBe(whole.logKey);
    expect(outs.slice(5).every((o) => o.logKey === logKey && o.cursor?.planned === undefined)).toBe(true);
    expect(outs.at(-1)).toMatchObject({ done: true, kept: 3, expired: 1 });
    // ...and removes the bodies of files 1-3 and nothing else, as the one invocation did
    const removed = sliced.bodiesOf([1, 3]);
    expect(whole.removedFileBodies).toBe(3);
    expect(outs.reduce((n, o) => n + o.removedFileBodies, 0)).toBe(3);
    for (const body of removed) expect(await sliced.store.head(body)).toBeUndefined();
    for (const body of sliced.bodiesOf([4, FILES])) expect(await sliced.store.head(body)).toBeDefined();
    for (const id of sliced.ids.slice(1, 3))
      expect(await verifySnapshot(sliced.store, await sliced.reader.manifest('acme', id))).toEqual([]);
    // ...each list of the older kept snapshot read once, the bodies listed once
    expect(listReads).toEqual(olderLists.map(() => 1));
    expect(listings.filter((p) => p === 'orgs/acme/files/sha256/')).toHaveLength(1);
    // ...and where each planning invocation stopped was written beside the log, and removed once
    // the sweep ended (the list of bodies stays): the newest data snapshot read first, then the
    // metadata one, then the older one
    const stem = logKey.replace(/\.json$/, '');
    expect(sliced.store.removed.filter((k) => k.includes('/planning-'))).toEqual(
      ['0-0', '1-0', '2-0', `2-${FILE_LISTS_AT_ONCE}`, `2-${FILE_LISTS_AT_ONCE * 2}`].map(
        (at) => `${stem}/planning-${at}.json`,
      ),
    );
    expect(await keysUnder(sliced.store, `${stem}/`)).toEqual([`${stem}/bodies.json`]);
    const record = (at: string) =>
      JSON.parse(sliced.store.removedText(`${stem}/planning-${at}.json`)) as {
        candidates: string[] | null;
        sources: { snapshotId: string }[];
      };
    expect(record('0-0').sources.map((source) => source.snapshotId)).toEqual([
      sliced.ids[2],
      sliced.ids[3],
      sliced.ids[1],
    ]);
    // ...holding after the newest data snapshot only the bodies it does not name, then fewer as
    // each window of the older one's lists is read, never a body outside them
    expect(record('0-0').candidates).toBeNull();
    const churn = sliced.bodiesOf([1, 7], [FILES - 1, FILES]);
    expect(record('1-0').candidates).toEqual(churn);
    expect(record('2-0').candidates).toEqual(churn);
    const unnamed = sliced.bodiesOf([1, 3], [FILES - 1, FILES]);
    expect(record(`2-${FILE_LISTS_AT_ONCE}`).candidates).toEqual(unnamed);
    expect(record(`2-${FILE_LISTS_AT_ONCE * 2}`).candidates).toEqual(unnamed);
    expect(JSON.stringify(record('1-0'))).not.toContain('body of');
  });

  it('reads the newest data backup into a filter, each list once, then lists the bodies a hash folder a step, when it names more than a step holds as keys', async () => {
    // GIVEN two like vaults, and steps holding some 10 names as keys: the newest data backup names 28
    const once = await vault();
    const sliced = await vault();
    const newestLists = (await sliced.reader.manifest('acme', sliced.ids[2]!)).fileLists!.map((l) => l.key);
    expect(newestLists).toHaveLength(28);
    const reads = new Map<string, number>();
    const get = sliced.store.get.bind(sliced.store);
    sliced.store.get = async (key) => {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return get(key);
    };
    const listings: string[] = [];
    const list = sliced.store.list.bind(sliced.store);
    sliced.store.list = (prefix, options) => {
      listings.push(prefix);
      return list(prefix, options);
    };
    // ...and a key under the bodies' prefix outside the hash folders, which no backup writes
    const stray = 'orgs/acme/files/sha256/stray';
    await sliced.store.put(stray, 'not a body');
    // WHEN one sweeps in one invocation and the other in invocations given no time at all
    const whole = await sweepOrg(
      { store: once.store, remover: once.store, clock: () => at(2, 2), namesHeldAsKeys: 10 },
      { org: 'acme', policy: POLICY, execution: 'exec-1' },
    );
    const outs = await invokeUntil(sliced.store, undefined, null, 10);
    // THEN the newest data backup's lists go into the filter a window a step, then each of the 256
    // hash folders is listed in a step, then the other sources are read
    const folders = Array.from({ length: 256 }, (_, folder) => ({ source: 0, list: 28, folder }));
    expect(outs.filter((o) => o.cursor?.planned).map((o) => o.cursor!.planned)).toEqual([
      { source: 0, list: 0 },
      { source: 0, list: FILE_LISTS_AT_ONCE },
      ...folders,
      { source: 1, list: 0 },
      { source: 2, list: 0 },
      { source: 2, list: FILE_LISTS_AT_ONCE },
      { source: 2, list: FILE_LISTS_AT_ONCE * 2 },
    ]);
    // ...removing what the one invocation removed: the bodies of files 1-3 alone
    expect(whole).toMatchObject({ done: true, removedFileBodies: 3 });
    expect(outs.reduce((n, o) => n + o.removedFileBodies, 0)).toBe(3);
    for (const body of sliced.bodiesOf([1, 3])) expect(await sliced.store.head(body)).toBeUndefined();
    for (const body of sliced.bodiesOf([4, FILES])) expect(await sliced.store.head(body)).toBeDefined();
    expect(await sliced.store.head(stray)).toBeDefined();
    // ...each list of the newest data backup read once, each hash folder listed once, never the
    // bodies' whole prefix
    expect(newestLists.map((key) => reads.get(key))).toEqual(newestLists.map(() => 1));
    const listed = listings.filter((p) => p.startsWith('orgs/acme/files/sha256/'));
    expect(listed).not.toContain('orgs/acme/files/sha256/');
    expect(new Set(listed).size).toBe(256);
    expect(listed).toHaveLength(256);
    // ...the filter stored when it changed (after each window), the records of the listing steps
    // naming the last one, each holding the unnamed bodies of the folders listed so far; all of
    // them removed once the sweep ended
    const stem = outs.find((o) => o.logKey)!.logKey!.replace(/\.json$/, '');
    expect(sliced.store.removed.filter((k) => k.endsWith('.filter'))).toEqual([
      `${stem}/planning-0-${FILE_LISTS_AT_ONCE}.filter`,
      `${stem}/planning-0-28-0.filter`,
    ]);
    expect(sliced.store.removed.filter((k) => k.includes('/planning-'))).toHaveLength(2 + 2 + 256 + 4);
    expect(await keysUnder(sliced.store, `${stem}/`)).toEqual([`${stem}/bodies.json`]);
    const record = (at: string) =>
      JSON.parse(sliced.store.removedText(`${stem}/planning-${at}.json`)) as {
        candidates: string[] | null;
        filter: { key: string; bytes: number } | null;
      };
    expect(record('0-0').filter).toBeNull();
    expect((record('0-0') as { formatVersion?: number }).formatVersion).toBe(2);
    expect(record(`0-${FILE_LISTS_AT_ONCE}`)).toMatchObject({
      candidates: null,
      filter: { key: `${stem}/planning-0-${FILE_LISTS_AT_ONCE}.filter`, bytes: 1024 },
    });
    expect(record('0-28-200').filter?.key).toBe(`${stem}/planning-0-28-0.filter`);
    expect(record('1-0').filter).toBeNull();
    const churn = sliced.bodiesOf([1, 7], [FILES - 1, FILES]);
    const before = (folder: number) => churn.filter((b) => Number.parseInt(b.split('/')[4]!, 16) < folder);
    expect(record('0-28-0').candidates).toEqual([]);
    for (const folder of [64, 128, 255]) expect(record(`0-28-${folder}`).candidates).toEqual(before(folder));
    expect(record('1-0').candidates).toEqual(churn);
  });

  /** A sweep stopped at {0, 28, 5}, its record and filter: a case changes them, or stops elsewhere. */
  interface FilterCase {
    readonly store: ListPerBodyStore;
    readonly filter: string;
    readonly record: Record<string, unknown> & { filter: Record<string, unknown> | null };
  }
  it.each<[string, string, (c: FilterCase) => PlanningPosition | undefined]>([
    [
      'a filter changed',
      'names a filter (FILTER) whose size or SHA-256 is not the one the record gives',
      ({ store, filter }) => {
        store.objects.set(
          filter,
          store.objects.get(filter)!.map((b, i) => (i === 0 ? b ^ 1 : b)),
        );
        return undefined;
      },
    ],
    [
      'a filter gone',
      'names a filter (FILTER) that is missing',
      ({ store, filter }) => {
        store.objects.delete(filter);
        return undefined;
      },
    ],
    [
      'a filter salted for another sweep',
      'names a filter salted for another sweep',
      ({ record }) => {
        record.filter!.salt = 'exec-0@2026-11-02T04:00:00.000Z';
        return undefined;
      },
    ],
    [
      "no filter, though it goes on from the newest snapshot's lists",
      "goes on from the newest snapshot's lists without a filter of them",
      ({ record }) => {
        record.filter = null;
        return undefined;
      },
    ],
    [
      'a filter outside its folder',
      "names a filter that is not one of its sweep's planning filters",
      ({ record }) => {
        record.filter!.key = 'orgs/acme/retention/elsewhere/planning-0-28-0.filter';
        return undefined;
      },
    ],
    [
      'a filter of no bytes',
      'names a filter smaller than any sweep makes (1024 bytes)',
      ({ record }) => {
        record.filter!.bytes = 0;
        return undefined;
      },
    ],
    [
      'a hash folder past the 256',
      'lists hash folder 300, not one of the 256',
      ({ record }) => {
        record.next = { source: 0, list: 28, folder: 300 };
        return { source: 0, list: 28, folder: 300 };
      },
    ],
    [
      'hash folders past the first source',
      'lists hash folders past the first source',
      ({ record }) => {
        record.next = { source: 1, list: 0, folder: 3 };
        return { source: 1, list: 0, folder: 3 };
      },
    ],
  ])('fails, removing nothing, on a planning record with %s', async (_what, says, tamper) => {
    // GIVEN a sweep stopped while it lists the bodies against its filter
    const { store, bodiesOf } = await vault();
    const outs = await invokeUntil(store, (o) => o.cursor?.planned?.folder === 5, null, 10);
    const stopped = outs.at(-1)!.cursor!;
    const keys = await keysUnder(store, 'orgs/acme/retention/');
    const filter = keys.find((k) => k.endsWith('/planning-0-28-0.filter'))!;
    const stoppedAt = keys.find((k) => k.endsWith('/planning-0-28-5.json'))!;
    const record = JSON.parse(store.text(stoppedAt)) as FilterCase['record'];
    const at = tamper({ store, filter, record }) ?? stopped.planned!;
    const key = stoppedAt.replace(/planning-[\d-]+\.json$/, `${planningName(at)}.json`);
    store.objects.set(key, new TextEncoder().encode(JSON.stringify(record)));
    // WHEN it goes on: it fails, naming the record (and the filter), and removes nothing
    await expect(invoke(store, { ...stopped, planned: at }, undefined, 10)).rejects.toThrow(
      `The sweep's planning record ${key} ${says.replace('FILTER', filter)},`,
    );
    for (const body of bodiesOf([1, FILES])) expect(await store.head(body)).toBeDefined();
  });

  it.each([
    // (handed {0, 16}: it reads the filter stored there and adds the last window to it)
    ['reading the rest of the newest backup into its filter', { source: 0, list: 28, folder: 0 }],
    ['listing a hash folder against its filter', { source: 0, list: 28, folder: 3 }],
  ])(
    'goes on the same way when an invocation %s is retried from the cursor it was handed',
    async (_what, stop) => {
      // GIVEN a sweep whose last invocation stopped at `stop`, as Step Functions runs it again
      const { store, bodiesOf } = await vault();
      const outs = await invokeUntil(
        store,
        (o) => planningName(o.cursor?.planned ?? { source: -1, list: 0 }) === planningName(stop),
        null,
        10,
      );
      const again = await invoke(store, outs.at(-2)!.cursor!, undefined, 10);
      // THEN it answers what the first run answered, and the sweep goes on to remove what it would
      expect(again).toEqual(outs.at(-1));
      const rest = await invokeUntil(store, undefined, again.cursor, 10);
      expect(rest.at(-1)).toMatchObject({ done: true, expired: 1 });
      expect(rest.reduce((n, o) => n + o.removedFileBodies, 0)).toBe(3);
      for (const body of bodiesOf([1, 3])) expect(await store.head(body)).toBeUndefined();
      for (const body of bodiesOf([4, FILES])) expect(await store.head(body)).toBeDefined();
    },
  );

  it('refuses a number of names to hold as keys that is not a positive whole number', async () => {
    const { store } = await vault();
    for (const namesHeldAsKeys of [0, 1.5, -1])
      await expect(
        sweepOrg(
          { store, remover: store, clock: () => at(2, 2), namesHeldAsKeys },
          { org: 'acme', policy: POLICY, execution: 'exec-1' },
        ),
      ).rejects.toThrow(`namesHeldAsKeys is ${namesHeldAsKeys}: give a positive whole number of names.`);
  });

  it('reads a kept run that stopped without a manifest a window of its recorded lists a step', async () => {
    // GIVEN a run of the third day that stopped for good after its files step (no manifest): 36
    // lists naming one body each, two files batch results first and then reused lists, in key
    // order the bodies of files 4-19, 1-2 and 20-37, so that each window of 16 names bodies no
    // kept manifest names (4-7; 1-2; 36-37); swept two days later under a policy of one day,
    // which keeps that day's backups and the run (started within the oldest day kept, and past
    // the two days' grace) and expires the first two days' backups: of the bodies they alone
    // named, only file 3's is named by no kept snapshot
    const { store, ids, bodiesOf } = await vault();
    const crashed = '20261103T033000000Z-crash1';
    const folder = `orgs/acme/snapshots/${crashed}/`;
    store.objects.set(`${folder}plan.json`, new TextEncoder().encode('[]'));
    const named = bodiesOf([4, 19], [1, 2], [20, FILES]);
    const listKeys = named.map((_, i) =>
      i < 2
        ? `${folder}files/batch-${String(i + 1).padStart(5, '0')}.json`
        : `${folder}files/reused-${String(i - 1).padStart(5, '0')}.json`,
    );
    // (written last first: the sweep reads them in key order, not as they were stored)
    for (const i of [...named.keys()].reverse())
      store.objects.set(
        listKeys[i]!,
        new TextEncoder().encode(
          JSON.stringify(i < 2 ? { files: [{ key: named[i] }] } : [{ key: named[i] }]),
        ),
      );
    const reads = new Map<string, number>();
    const get = store.get.bind(store);
    store.get = async (key) => {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return get(key);
    };
    // WHEN it is swept in invocations given no time at all, and a list is added to the run (as a
    // redriven execution would) while the sweep is in its second window
    const outs: SweepOutput[] = [];
    let cursor: SweepCursor | null = null;
    do {
      const out = await sweepOrg(
        { store, remover: store, clock: () => at(4, 2), deadline: at(4, 2) },
        {
          org: 'acme',
          policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0 },
          execution: 'exec-1',
          ...(cursor ? { cursor } : {}),
        },
      );
      outs.push(out);
      cursor = out.cursor;
      if (cursor?.planned?.source === 1 && cursor.planned.list === FILE_LISTS_AT_ONCE)
        store.objects.set(
          `${folder}files/batch-00000.json`,
          new TextEncoder().encode(JSON.stringify({ files: [{ key: named[0] }] })),
        );
    } while (cursor && outs.length < 100);
    // THEN the stopped run is read 16 of its lists a step
    const planned = outs.filter((o) => o.cursor?.planned).map((o) => o.cursor!.planned);
    expect(planned).toEqual([
      { source: 0, list: 0 },
      { source: 1, list: 0 },
      { source: 1, list: FILE_LISTS_AT_ONCE },
      { source: 1, list: FILE_LISTS_AT_ONCE * 2 },
      { source: 2, list: 0 },
    ]);
    const stem = outs.find((o) => o.logKey)!.logKey!.replace(/\.json$/, '');
    const record = JSON.parse(store.removedText(`${stem}/planning-1-0.json`)) as {
      sources: { snapshotId: string; from: string }[];
    };
    expect(record.sources.map((source) => [source.snapshotId, source.from])).toEqual([
      [ids[2], 'manifest'],
      [crashed, 'records'],
      [ids[3], 'manifest'],
    ]);
    // ...every list it held read (the one added moved the others on: one of them is read twice),
    // and only file 3's body removed
    expect(listKeys.map((k) => reads.get(k) ?? 0).filter((n) => n < 1)).toEqual([]);
    expect(listKeys.map((k) => reads.get(k)).filter((n) => n === 2)).toHaveLength(1);
    expect(outs.at(-1)).toMatchObject({ done: true, kept: 3, expired: 2 });
    expect(outs.reduce((n, o) => n + o.removedFileBodies, 0)).toBe(1);
    expect(await store.head(bodiesOf([3, 3])[0]!)).toBeUndefined();
    for (const body of named) expect(await store.head(body)).toBeDefined();
  });

  it('holds to the decisions it recorded when a backup finishes between two planning invocations', async () => {
    // GIVEN a sweep stopped in its planning, which expires the first day and keeps the others
    const { store, ids, bodiesOf } = await vault();
    const outs = await invokeUntil(store, (o) => o.cursor?.planned?.source === 1);
    // WHEN a later full backup of the second day finishes before it goes on: classified again,
    // that day's earlier backup would expire too, and bodies the new one names might go
    const source = orgWithFiles(at(-1), FILES);
    const late = await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(1, 5));
    const rest = await invokeUntil(store, undefined, outs.at(-1)!.cursor);
    // THEN it expires only what it decided, and leaves the bodies to a later sweep
    expect(rest.at(-1)).toMatchObject({ done: true, kept: 3, expired: 1, fileBodiesDeferred: true });
    expect(rest.reduce((n, o) => n + o.removedFileBodies, 0)).toBe(0);
    const reader = new SnapshotReader(store);
    expect((await reader.catalog('acme')).map((e) => e.snapshotId)).toEqual(
      [ids[1], late.finish.snapshotId, ids[2], ids[3]].sort(),
    );
    for (const body of bodiesOf([1, FILES])) expect(await store.head(body)).toBeDefined();
  });

  it('goes on the same way when an invocation is retried from the cursor it was handed', async () => {
    const { store } = await vault();
    const outs = await invokeUntil(store, (o) => o.cursor?.planned?.source === 2);
    const cursor = outs.at(-2)!.cursor!;
    // The last invocation ran (and wrote its record); Step Functions runs it again from its input.
    const again = await invoke(store, cursor);
    expect(again).toEqual(outs.at(-1));
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
    for (const body of bodiesOf([1, 3])) expect(await store.head(body)).toBeUndefined();
    for (const body of bodiesOf([4, FILES])) expect(await store.head(body)).toBeDefined();
  });

  it('holds to the list of bodies an invocation wrote before its log failed, when it is run again', async () => {
    // GIVEN a sweep stopped after it classified
    const { store, bodiesOf } = await vault();
    const [classified] = await invokeUntil(store, () => true);
    const logWrites = { fail: true };
    const put = store.put.bind(store);
    store.put = async (key, body) => {
      if (logWrites.fail && /\/retention\/[^/]+\.json$/.test(key)) throw new Error('the log write was cut');
      return put(key, body);
    };
    // ...whose next invocation planned to its end, wrote its list of bodies and failed on its log
    const goOn = () =>
      sweepOrg(
        { store, remover: store, clock: () => at(2, 2) },
        { org: 'acme', policy: POLICY, execution: 'exec-1', cursor: classified!.cursor! },
      );
    await expect(goOn()).rejects.toThrow('the log write was cut');
    // WHEN a body no kept snapshot names is stored meanwhile, and the invocation is run again
    const late = 'orgs/acme/files/sha256/ff/late-body';
    await store.put(late, 'stored after the sweep listed the bodies');
    logWrites.fail = false;
    const out = await goOn();
    // THEN the list written first stands: the log counts it, and the late body stays
    expect(out).toMatchObject({ done: true, removedFileBodies: 3 });
    const log = JSON.parse(store.text(out.logKey!)) as { counts: { fileBodiesToRemove: number } };
    expect(log.counts.fileBodiesToRemove).toBe(3);
    expect(await store.head(late)).toBeDefined();
    for (const body of bodiesOf([1, 3])) expect(await store.head(body)).toBeUndefined();
  });

  it("reads the next data backup first when the newest one's catalog entry cannot be read as the sweep orders them", async () => {
    // GIVEN the newest data backup's catalog entry unreadable once the sweep has classified
    const { store, ids, bodiesOf } = await vault();
    const entry = `orgs/acme/catalog/${ids[2]}.json`;
    let reads = 0;
    const get = store.get.bind(store);
    store.get = async (key) => {
      if (key === entry && ++reads > 1) return new TextEncoder().encode('{ not a catalog entry');
      return get(key);
    };
    // WHEN it sweeps
    const outs = await invokeUntil(store);
    // THEN it reads the older data backup first, and removes what one that read them in any order would
    const stem = outs.find((o) => o.logKey)!.logKey!.replace(/\.json$/, '');
    const record = JSON.parse(store.removedText(`${stem}/planning-0-0.json`)) as {
      sources: { snapshotId: string }[];
    };
    expect(record.sources.map((source) => source.snapshotId)).toEqual([ids[1], ids[3], ids[2]]);
    expect(outs.at(-1)).toMatchObject({ done: true, expired: 1 });
    expect(outs.reduce((n, o) => n + o.removedFileBodies, 0)).toBe(3);
    for (const body of bodiesOf([4, FILES])) expect(await store.head(body)).toBeDefined();
  });

  /** What the sweep says of each planning record below. */
  const SAYS: Record<string, string> = {
    "another execution's": "is not this sweep's (org acme, execution exec-1, begun 2026-11-03T04:00:00.000Z)",
    "holding another sweep's decisions":
      "is not this sweep's (org acme, execution exec-1, begun 2026-11-03T04:00:00.000Z)",
    'naming a snapshot it does not keep': 'does not name the kept snapshots to read',
    'taking a complete snapshot for one that did not complete': 'does not name the kept snapshots to read',
    'stopping elsewhere': "does not stop where the sweep's cursor says (planning-2-16)",
    'naming a key outside the file bodies': 'names a key outside orgs/acme/files/sha256/',
    'without its decisions': 'names no kept and expired snapshots',
    'holding a filter where none is used': 'holds a filter where none is used',
    'leaving out a kept snapshot': 'does not name the kept snapshots to read',
    'holding no bodies once they were listed': 'holds no bodies once they were listed',
    'of a format this version does not read': 'is not a planning record this version reads',
  };
  it.each([
    ["another execution's", (r: Record<string, unknown>) => ({ ...r, execution: 'exec-0' })],
    [
      "holding another sweep's decisions",
      (r: Record<string, unknown>) => ({
        ...r,
        decisions: { ...(r.decisions as Record<string, unknown>), execution: 'exec-0' },
      }),
    ],
    [
      'naming a snapshot it does not keep',
      (r: Record<string, unknown>) => ({
        ...r,
        sources: [
          ...(r.sources as unknown[]),
          { snapshotId: '20261101T020000000Z-zzzzzz', from: 'manifest', complete: true },
        ],
      }),
    ],
    [
      'taking a complete snapshot for one that did not complete',
      (r: Record<string, unknown>) => ({
        ...r,
        sources: (r.sources as { complete: boolean }[]).map((source) => ({ ...source, complete: false })),
      }),
    ],
    ['stopping elsewhere', (r: Record<string, unknown>) => ({ ...r, next: { source: 2, list: 0 } })],
    [
      'naming a key outside the file bodies',
      (r: Record<string, unknown>) => ({
        ...r,
        candidates: [...(r.candidates as string[]), 'orgs/acme/catalog/20261101T020000000Z-aaaaaa.json'],
      }),
    ],
    [
      'without its decisions',
      (r: Record<string, unknown>) => ({
        ...r,
        decisions: { ...(r.decisions as Record<string, unknown>), kept: undefined },
      }),
    ],
    [
      'holding a filter where none is used',
      (r: Record<string, unknown>, key: string) => ({
        ...r,
        filter: {
          key: key.replace(/\.json$/, '.filter'),
          sha256: '0',
          bytes: 1024,
          salt: 'exec-1@2026-11-03T04:00:00.000Z',
        },
      }),
    ],
    [
      'leaving out a kept snapshot',
      (r: Record<string, unknown>) => ({ ...r, sources: (r.sources as unknown[]).slice(0, 2) }),
    ],
    ['holding no bodies once they were listed', (r: Record<string, unknown>) => ({ ...r, candidates: null })],
    ['of a format this version does not read', (r: Record<string, unknown>) => ({ ...r, formatVersion: 3 })],
  ])('fails, removing nothing, on a planning record %s', async (what, tamper) => {
    // GIVEN a sweep stopped in its planning, at its third step
    const { store, bodiesOf } = await vault();
    const outs = await invokeUntil(store, (o) => o.cursor?.planned?.list === FILE_LISTS_AT_ONCE);
    const cursor = outs.at(-1)!.cursor!;
    const key = (await keysUnder(store, 'orgs/acme/retention/')).find((k) =>
      k.endsWith(`/planning-2-${FILE_LISTS_AT_ONCE}.json`),
    )!;
    store.objects.set(
      key,
      new TextEncoder().encode(JSON.stringify(tamper(JSON.parse(store.text(key)), key))),
    );
    const before = [...store.objects.keys()].sort();
    // WHEN it goes on: it fails, naming the record, and removes nothing
    await expect(invoke(store, cursor)).rejects.toThrow(RetentionCatalogUnreadableError);
    await expect(invoke(store, cursor)).rejects.toThrow(`The sweep's planning record ${key} ${SAYS[what]},`);
    expect([...store.objects.keys()].filter((k) => !k.includes('/lease/')).sort()).toEqual(
      before.filter((k) => !k.includes('/lease/')),
    );
    for (const body of bodiesOf([1, 3])) expect(await store.head(body)).toBeDefined();
  });

  it("goes on from an earlier version's record past its shards of the bodies, and refuses one within them", async () => {
    // GIVEN a sweep stopped at its second source, and one stopped after its first, each record
    // saying (as the version that took the bodies in shards wrote) that they were taken in four
    const { store, bodiesOf } = await vault();
    const outs = await invokeUntil(store, (o) => o.cursor?.planned?.source === 1);
    const stopped = outs.at(-1)!.cursor!;
    const past = (await keysUnder(store, 'orgs/acme/retention/')).find((k) =>
      k.endsWith('/planning-1-0.json'),
    )!;
    const record = JSON.parse(store.text(past)) as Record<string, unknown>;
    store.objects.set(
      past,
      new TextEncoder().encode(JSON.stringify({ ...record, formatVersion: 1, shards: 4 })),
    );
    const within = past.replace('planning-1-0', 'planning-0-1');
    store.objects.set(
      within,
      new TextEncoder().encode(
        JSON.stringify({ ...record, formatVersion: 1, shards: 4, next: { source: 0, list: 1 } }),
      ),
    );
    // WHEN each goes on: the one within its shards fails, naming the record, and removes nothing
    await expect(invoke(store, { ...stopped, planned: { source: 0, list: 1 } })).rejects.toThrow(
      `The sweep's planning record ${within} stops within the shards an earlier version took the bodies in,`,
    );
    for (const body of bodiesOf([1, FILES])) expect(await store.head(body)).toBeDefined();
    // ...and the one past them sweeps to its end, removing the bodies of files 1-3 alone
    const rest = await invokeUntil(store, undefined, stopped);
    expect(rest.at(-1)).toMatchObject({ done: true, expired: 1 });
    for (const body of bodiesOf([1, 3])) expect(await store.head(body)).toBeUndefined();
    for (const body of bodiesOf([4, FILES])) expect(await store.head(body)).toBeDefined();
  });

  it('removes its planning records when it ends with nothing to expire, and an old cursor then plans afresh', async () => {
    // GIVEN a policy that keeps every backup of the vault
    const { store, bodiesOf } = await vault();
    const keepAll: RetentionPolicy = { daily: 10, weekly: 0, monthly: 0, yearly: 0 };
    const sweep = (cursor: SweepCursor | null, execution = 'exec-1') =>
      sweepOrg(
        { store, remover: store, clock: () => at(2, 2), deadline: at(2, 2) },
        { org: 'acme', policy: keepAll, execution, ...(cursor ? { cursor } : {}) },
      );
    // WHEN it is swept by invocations given no time at all
    const outs: SweepOutput[] = [];
    let cursor: SweepCursor | null = null;
    do {
      outs.push(await sweep(cursor));
      cursor = outs.at(-1)!.cursor;
    } while (cursor && outs.length < 100);
    // THEN its planning took several invocations and stopped in records beside where its log
    // would go, which it removed when it ended, writing no log
    const planned = outs.filter((o) => o.cursor?.planned);
    expect(planned.length).toBeGreaterThan(2);
    expect(outs.at(-1)).toMatchObject({ done: true, logKey: null, expired: 0, removedFileBodies: 0 });
    const records = store.removed.filter((k) => k.startsWith('orgs/acme/retention/'));
    expect(records).toHaveLength(planned.length);
    expect(records.every((k) => /\/retention\/[^/]+-exec-1\/planning-[\d-]+\.json$/.test(k))).toBe(true);
    expect(await keysUnder(store, 'orgs/acme/retention/')).toEqual([]);
    // ...and an invocation retried from a cursor of its planning begins a new sweep, which finds
    // nothing to expire either
    const again = await sweep(planned[1]!.cursor!);
    expect(again.cursor?.planned).toEqual({ source: 0, list: 0 });
    for (const body of bodiesOf([1, FILES])) expect(await store.head(body)).toBeDefined();
  });

  it('begins a new sweep, refusing nothing, when its sweep ended and removed the record it read and then its filter', async () => {
    // GIVEN a sweep stopped while it listed the bodies against its filter
    const { store } = await vault();
    const outs = await invokeUntil(store, (o) => o.cursor?.planned?.folder === 5, null, 10);
    const cursor = outs.at(-1)!.cursor!;
    // ...and its other invocation, ending meanwhile, removing the record once it was read, then the filter
    const get = store.get.bind(store);
    store.get = async (key) => {
      const bytes = await get(key);
      if (key.endsWith('/planning-0-28-5.json'))
        for (const k of [key, key.replace(/planning-0-28-5\.json$/, 'planning-0-28-0.filter')])
          await store.remove(k);
      return bytes;
    };
    // WHEN an invocation retried from the cursor goes on THEN it begins anew rather than failing the sweep
    const out = await invoke(store, cursor, undefined, 10);
    expect(out.cursor?.planned).toEqual({ source: 0, list: 0 });
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
    expect(rest.at(-1)).toMatchObject({ done: true, kept: 3, expired: 1 });
    for (const body of bodiesOf([1, 3])) expect(await store.head(body)).toBeUndefined();
    for (const body of bodiesOf([4, FILES])) expect(await store.head(body)).toBeDefined();
  });
});
