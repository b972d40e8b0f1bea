import { describe, expect, it } from 'vitest';
import {
  type PassOptions,
  type PassScope,
  type VersionReader,
  visitVersions,
} from '../../lambdas/core/erase/find.ts';
import type { ObjectVersion, VersionedStore } from '../../lambdas/core/store.ts';

const SCOPE: PassScope = { prefixes: ['orgs/acme/a/', 'orgs/acme/b/'], skip: ['orgs/acme/a/skip/'] };

/**
 * A versioned store of `count` keys of two versions each under the scope's first prefix (and one
 * under its second), whose reads answer only when released: what a pass has in flight can be
 * seen, and let go one at a time.
 */
function slowStore(count: number, bytes = 10) {
  const versions: ObjectVersion[] = [];
  for (let i = 0; i < count; i++) {
    const key = `orgs/acme/a/k${String(i).padStart(4, '0')}`;
    versions.push({ key, versionId: 'v2', latest: true, bytes, deleteMarker: false });
    versions.push({ key, versionId: 'v1', latest: false, bytes, deleteMarker: false });
  }
  versions.push({ key: 'orgs/acme/a/skip/x', versionId: 'v1', latest: true, bytes, deleteMarker: false });
  versions.push({ key: 'orgs/acme/a/z', versionId: 'm1', latest: true, bytes: 0, deleteMarker: true });
  versions.push({ key: 'orgs/acme/b/k', versionId: 'v1', latest: true, bytes, deleteMarker: false });
  const pending: { id: string; release: () => void }[] = [];
  const failing = new Set<string>();
  let inFlight = 0;
  let most = 0;
  const reads: string[] = [];
  const store: VersionedStore = {
    location: 'slow',
    async *listVersions(prefix, options) {
      for (const v of versions) {
        if (!v.key.startsWith(prefix)) continue;
        if (options?.afterKey !== undefined && v.key <= options.afterKey) continue;
        yield v;
      }
    },
    getVersion: (key, versionId) => {
      const id = `${key}@${versionId}`;
      reads.push(id);
      inFlight++;
      most = Math.max(most, inFlight);
      return new Promise((resolve, reject) => {
        pending.push({
          id,
          release: () => {
            inFlight--;
            if (failing.has(id)) reject(new Error(`cannot read ${id}`));
            else resolve(Buffer.from(id));
          },
        });
      });
    },
    replace: () => Promise.reject(new Error('not here')),
    deleteVersion: () => Promise.reject(new Error('not here')),
    versionLock: () => Promise.resolve({ legalHold: false }),
  };
  // Releases reads in the order they were made, as they come, until `stop()`.
  let running = true;
  const pump = (async () => {
    while (running) {
      const next = pending.shift();
      if (next) next.release();
      await new Promise((r) => setTimeout(r, 0));
    }
  })();
  return {
    store,
    failing,
    reads,
    most: () => most,
    stop: async () => {
      running = false;
      await pump;
      for (const p of pending.splice(0)) p.release();
    },
  };
}

/** A pass over the whole scope whose visitor reads every version it visits. */
const readEvery = (store: VersionedStore, readAhead?: PassOptions['readAhead']) =>
  visitVersions(
    store,
    SCOPE,
    undefined,
    undefined,
    async (v, r) => void (await r.getVersion(v.key, v.versionId)),
    readAhead ? { readAhead } : {},
  );

describe('a pass over stored versions', () => {
  it('visits every version in listing order, one at a time, each with its own body, while up to 8 reads go ahead', async () => {
    const slow = slowStore(40);
    const visited: string[] = [];
    let visiting = 0;
    const cursor = await visitVersions(
      slow.store,
      SCOPE,
      undefined,
      undefined,
      async (v, reader: VersionReader) => {
        visiting++;
        expect(visiting).toBe(1);
        const body = Buffer.from(await reader.getVersion(v.key, v.versionId)).toString();
        visited.push(body);
        visiting--;
      },
    );
    await slow.stop();
    expect(cursor).toBeUndefined();
    const expected = [
      ...Array.from({ length: 40 }, (_, i) => {
        const key = `orgs/acme/a/k${String(i).padStart(4, '0')}`;
        return [`${key}@v2`, `${key}@v1`];
      }).flat(),
      'orgs/acme/b/k@v1',
    ];
    // (the skipped key and the delete marker are neither visited nor read)
    expect(visited).toEqual(expected);
    expect([...slow.reads].sort()).toEqual([...expected].sort());
    expect(slow.most()).toBeGreaterThan(1);
    expect(slow.most()).toBeLessThanOrEqual(8);
  });

  it('keeps the bytes it reads ahead within its budget, reading one version at a time when each is larger', async () => {
    const limits = { versions: 8, bytes: 2_500, listed: 1_000 };
    const small = slowStore(10, 1_000);
    await readEvery(small.store, limits);
    await small.stop();
    expect(small.most()).toBe(2);
    const big = slowStore(10, 10_000);
    await readEvery(big.store, limits);
    await big.stop();
    expect(big.most()).toBe(1);
  });

  it('reads ahead in listing order when versions fill the budget: each one waits for room, none is left to its visit', async () => {
    // GIVEN versions of 1,000 bytes and room for two
    const slow = slowStore(40, 1_000);
    const limits = { versions: 8, bytes: 2_500, listed: 1_000 };
    const atVisit: string[] = [];
    await visitVersions(
      slow.store,
      SCOPE,
      undefined,
      undefined,
      async (v, r) => {
        const before = slow.reads.length;
        await r.getVersion(v.key, v.versionId);
        if (slow.reads.length > before) atVisit.push(`${v.key}@${v.versionId}`);
      },
      { readAhead: limits },
    );
    await slow.stop();
    // THEN every read was made ahead of its visit, and never more than two at once
    expect(atVisit).toEqual([]);
    expect(slow.reads).toHaveLength(81);
    expect(slow.most()).toBe(2);
  });

  it('reads ahead only the versions the visitor reads', async () => {
    const slow = slowStore(20);
    const wanted = (v: ObjectVersion) => v.versionId === 'v1';
    await visitVersions(
      slow.store,
      SCOPE,
      undefined,
      undefined,
      async (v, r) => {
        if (wanted(v)) await r.getVersion(v.key, v.versionId);
      },
      { reads: wanted },
    );
    await slow.stop();
    expect(slow.reads.every((id) => id.endsWith('@v1'))).toBe(true);
    expect(slow.reads).toHaveLength(21);
  });

  it('stops past its deadline once the key it is on is finished, leaving the reads made ahead unused and their failures unseen', async () => {
    const slow = slowStore(40);
    // Every read after the first key's fails: none of them is visited, so none may surface.
    for (let i = 1; i < 40; i++) {
      const key = `orgs/acme/a/k${String(i).padStart(4, '0')}`;
      slow.failing.add(`${key}@v2`).add(`${key}@v1`);
    }
    const visited: string[] = [];
    let now = 0;
    const time = { clock: () => new Date(now), deadline: new Date(0) };
    const cursor = await visitVersions(slow.store, SCOPE, undefined, time, async (v, r) => {
      await r.getVersion(v.key, v.versionId);
      visited.push(`${v.key}@${v.versionId}`);
      now = 1;
    });
    await slow.stop();
    expect(visited).toEqual(['orgs/acme/a/k0000@v2', 'orgs/acme/a/k0000@v1']);
    expect(cursor).toEqual({ prefix: 0, afterKey: 'orgs/acme/a/k0000' });
    expect(slow.reads.length).toBeGreaterThan(2);
    // AND a pass from that cursor goes on with the next key
    const next = slowStore(40);
    const again: string[] = [];
    await visitVersions(next.store, SCOPE, cursor, undefined, async (v) => void again.push(v.key));
    await next.stop();
    expect(again[0]).toBe('orgs/acme/a/k0001');
  });

  it('fails with the read of the version it visits', async () => {
    const slow = slowStore(5);
    slow.failing.add('orgs/acme/a/k0003@v1');
    const visited: string[] = [];
    await expect(
      visitVersions(slow.store, SCOPE, undefined, undefined, async (v, r) => {
        await r.getVersion(v.key, v.versionId);
        visited.push(`${v.key}@${v.versionId}`);
      }),
    ).rejects.toThrow('cannot read orgs/acme/a/k0003@v1');
    await slow.stop();
    expect(visited.at(-1)).toBe('orgs/acme/a/k0003@v2');
  });

  it('fails with the error of its visit when the listing cannot be closed after it', async () => {
    const slow = slowStore(3);
    const listing = slow.store.listVersions.bind(slow.store);
    const store: VersionedStore = {
      ...slow.store,
      listVersions: (prefix, options) => {
        const inner = listing(prefix, options)[Symbol.asyncIterator]();
        return {
          [Symbol.asyncIterator]: () => ({
            next: () => inner.next(),
            return: () => Promise.reject(new Error('the listing could not be closed')),
          }),
        };
      },
    };
    await expect(
      visitVersions(store, SCOPE, undefined, undefined, async (v) => {
        if (v.key.endsWith('k0001')) throw new Error('the visit failed');
      }),
    ).rejects.toThrow('the visit failed');
    // AND a pass that ends well is not failed by closing its listing
    await expect(readEvery(store)).resolves.toBeUndefined();
    await slow.stop();
  });
});
