/** The ui server's API over a small vault in memory, without a browser. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LruCache } from '../../cli/ui/lru.ts';
import { type RunningUi, startUiServer } from '../../cli/ui/server.ts';
import { MemoryStore } from '../backup/memory-store.ts';
import { account, accountId, fullSnapshot, ORG } from './vault.ts';

const S1 = '20260101T000000000Z-aaaaaa';
const S2 = '20260102T000000000Z-bbbbbb';
const S3 = '20260103T000000000Z-cccccc';
const ACCOUNTS = 1600;
const DELETED = 1500;

const store = new MemoryStore();
const logs: string[] = [];
let ui: RunningUi;

beforeAll(async () => {
  const all = Array.from({ length: ACCOUNTS }, (_, i) => account(i + 1));
  await fullSnapshot(store, S1, '2026-01-01T00:10:00.000Z', all);
  // By S2, 1,500 accounts were deleted to the recycle bin.
  await fullSnapshot(
    store,
    S2,
    '2026-01-02T00:10:00.000Z',
    all.map((row, i) => (i < DELETED ? { ...row, IsDeleted: 'true' } : row)),
  );
  ui = await startUiServer({ store, org: ORG, log: (line) => logs.push(line) });
});

afterAll(async () => {
  await ui?.stop();
});

/** The parts of the API's answers these tests read. */
interface Answer {
  readonly input: { snapshot: string; records: string[] };
  readonly b: { selector: string; snapshotId: string };
  readonly objects: { object: string; deletedToBin: { count: number } }[];
}

async function api(method: 'GET' | 'POST', path: string, body?: unknown) {
  const response = await fetch(`${ui.origin}${path}`, {
    method,
    headers: { 'x-sfbackup-token': ui.token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

describe('the ui server', () => {
  it('plans a restore of every row a diff found deleted, up to what a restore input takes', async () => {
    const planned = await api('POST', '/api/plan/diff', { a: S1, b: S2, kind: 'deleted' });
    expect(planned.status, JSON.stringify(planned.body)).toBe(200);
    expect(planned.body.input.snapshot).toBe(S1);
    expect(planned.body.input.records).toHaveLength(DELETED);
    expect(planned.body.input.records).toContain(accountId(DELETED));
  });

  it('compares with the snapshot "latest" names now, not the one it named at the first comparison', async () => {
    const before = await api('POST', '/api/diff', { a: S1, b: 'latest' });
    expect(before.body.b).toMatchObject({ selector: 'latest', snapshotId: S2 });
    // The same comparison, named by id, is the same diff.
    expect((await api('POST', '/api/diff', { a: S1, b: S2 })).body.b).toMatchObject({
      selector: S2,
      snapshotId: S2,
    });
    // A backup finishes while the page is open: one more account is deleted.
    const rows = Array.from({ length: ACCOUNTS }, (_, i) => account(i + 1, undefined, i <= DELETED));
    await fullSnapshot(store, S3, '2026-01-03T00:10:00.000Z', rows);
    const after = await api('POST', '/api/diff', { a: S1, b: 'latest' });
    expect(after.body.b).toMatchObject({ selector: 'latest', snapshotId: S3 });
    const accounts = after.body.objects.find((o) => o.object === 'Account');
    expect(accounts?.deletedToBin.count).toBe(DELETED + 1);
  });

  it('answers a mistyped snapshot id with the nearest one there is', async () => {
    const answer = await api('POST', '/api/diff', { a: `${S1.slice(0, -1)}x`, b: 'latest' });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain(`did you mean ${S1}?`);
  });

  it('logs a request by its path alone, without the query string that carried a value', async () => {
    const read = await api('GET', `/api/objects?snapshot=${S1}&note=searched-value`);
    expect(read.status).toBe(200);
    const line = logs.find((l) => l.startsWith('GET /api/objects'));
    expect(line).toMatch(/^GET \/api\/objects 200 \d+ms$/);
    expect(logs.join('\n')).not.toContain('searched-value');
    expect(logs.join('\n')).not.toContain(S1);
  });
});

describe('the cache of diffs', () => {
  it('keeps the most recently used entries up to its capacity', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.size]).toEqual([1, 3, 2]);
    cache.deleteIf('a', 9);
    expect(cache.get('a')).toBe(1);
    cache.deleteIf('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });
});
