import { RemovalLog } from '../../lambdas/core/erase/removals.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { executeErasure } from '../../lambdas/core/erase/execute.ts';
import { canonical18, IdSet, parseCsv, rowErased } from '../../lambdas/core/erase/find.ts';
import { parseEraseInput } from '../../lambdas/core/erase/input.ts';
import { scanForTraces } from '../../lambdas/core/erase/finish.ts';
import { type ErasurePlan, planErasure } from '../../lambdas/core/erase/plan.ts';
import { Copies } from '../../lambdas/core/erase/copies.ts';
import { ValueCollector, ValueMatcher } from '../../lambdas/core/erase/values.ts';

const PERSON = '0035g000000000PAAQ';
const csv = (rows: string[][]) => rows.map((r) => `${r.map((v) => `"${v}"`).join(',')}\n`).join('');
const at = (object: string) =>
  `orgs/sample/snapshots/20261101T000000000Z-abcdef/objects/${object}/part-00001-aaaaaaaa.csv.gz`;

describe('which rows go with an erased id', () => {
  const ids = new IdSet([PERSON]);

  it("takes the person's own rows, by a 15- or 18-character id, and the history rows that point at them", () => {
    const contact = parseCsv(
      csv([
        ['Id', 'Email'],
        [PERSON, 'a@b.c'],
        ['0035g000000000QAAQ', 'd@e.f'],
      ]),
    );
    expect(contact.rows.map((r) => rowErased(contact, r, ids, 'Contact', at('Contact')))).toEqual([
      PERSON,
      undefined,
    ]);
    const history = parseCsv(
      csv([
        ['Id', 'ContactId', 'Field', 'OldValue', 'NewValue'],
        ['017000000000001AAA', PERSON.slice(0, 15), 'Email', 'old@b.c', 'a@b.c'],
        ['017000000000002AAA', '0035g000000000QAAQ', 'Email', 'x', 'd@e.f'],
      ]),
    );
    expect(
      history.rows.map((r) => rowErased(history, r, ids, 'ContactHistory', at('ContactHistory'))),
    ).toEqual([PERSON, undefined]);
  });

  it('keeps another record whose lookup names the person, and a row whose id differs only in case', () => {
    const opportunity = parseCsv(
      csv([
        ['Id', 'ContactId', 'Name'],
        ['006000000000001AAA', PERSON, 'Deal'],
      ]),
    );
    expect(
      rowErased(opportunity, opportunity.rows[0]!, ids, 'Opportunity', at('Opportunity')),
    ).toBeUndefined();
    const other = parseCsv(csv([['Id'], [PERSON.slice(0, 15).toUpperCase()]]));
    expect(rowErased(other, other.rows[0]!, ids, 'Contact', at('Contact'))).toBeUndefined();
  });

  it('takes the rows of tombstones and links that name her, in any of their id columns', () => {
    const side = (kind: string) => at('Contact').replace('part-00001-aaaaaaaa', `${kind}-bbbbbbbb`);
    const tombstones = parseCsv(
      csv([
        ['Id', 'DeletedDate'],
        [PERSON, '2026-11-01T00:00:00Z'],
      ]),
    );
    expect(rowErased(tombstones, tombstones.rows[0]!, ids, 'Contact', side('tombstones'))).toBe(PERSON);
    const links = parseCsv(
      csv([
        ['Id', 'ReplacesId'],
        ['0035g000000000ZAAQ', PERSON],
      ]),
    );
    expect(rowErased(links, links.rows[0]!, ids, 'Contact', side('links'))).toBe(PERSON);
  });

  it('rewrites a history part without her rows, and the scan counts a kept lookup apart from a trace', async () => {
    const store = new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'sfbackup-erase-find-')));
    await store.put(
      at('ContactHistory'),
      gzipSync(
        csv([
          ['Id', 'ContactId', 'Field'],
          ['017000000000001AAA', PERSON, 'Email'],
          ['017000000000002AAA', '0035g000000000QAAQ', 'Phone'],
        ]),
      ),
    );
    await store.put(
      at('Opportunity'),
      gzipSync(
        csv([
          ['Id', 'ContactId'],
          ['006000000000001AAA', PERSON],
        ]),
      ),
    );
    const before = await scanForTraces(store, 'sample', [PERSON], []);
    expect(before).toMatchObject({ traceCount: 1, keptReferences: { Opportunity: 1 } });
    const plan: ErasurePlan = {
      formatVersion: 1,
      org: 'sample',
      execution: 'unit',
      createdAt: new Date().toISOString(),
      mode: 'erase',
      ids: [PERSON],
      objectOf: { [PERSON]: 'Contact' },
      request: { mode: 'erase', ids: [PERSON], requestedBy: 'request 47' },
      keys: [{ key: at('ContactHistory'), kind: 'part', object: 'ContactHistory', versions: 1, rows: 1 }],
      summary: {
        ids: 1,
        snapshots: 1,
        parts: 1,
        journalObjects: 0,
        otherKeys: 0,
        versions: 1,
        rowsByObject: {},
        journalEvents: 0,
        values: 0,
        copiesByField: {},
        keptCopiesByField: {},
        openRestoreBatches: 0,
        unrewritableFiles: 0,
        lockedVersions: 0,
      },
      copyRecords: {},
    };
    expect(
      await executeErasure({ store, versions: store, removals: RemovalLog.of(store, 'sample', 'e1') }, plan),
    ).toMatchObject({
      rowsRemoved: 1,
      keysRewritten: 1,
    });
    const after = await scanForTraces(store, 'sample', [PERSON], []);
    expect(after).toMatchObject({ traceCount: 0, keptReferences: { Opportunity: 1 } });
    const rest = parseCsv(new TextDecoder().decode(gunzipSync(await store.get(at('ContactHistory')))));
    expect(rest.rows.map((r) => r[0])).toEqual(['017000000000002AAA']);
  });

  it("widens her ids through a restore's id map, whatever the casing it wrote, and ends", async () => {
    const store = new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'sfbackup-erase-pairs-')));
    await store.put(
      at('Contact'),
      gzipSync(
        csv([
          ['Id', 'LastName'],
          [PERSON, 'Doe'],
        ]),
      ),
    );
    const map = (batch: string, entries: unknown[]) =>
      store.put(
        `restores/sample/00D5g0000012345EAA/id-map/Contact/${batch}.json`,
        JSON.stringify({ object: 'Contact', batch, entries, failed: [], source: 'insert' }),
      );
    // Restored once (new id written with a suffix that is not its own), then that one again.
    await map('b1', [[PERSON, '003000000000009zzz']]);
    await map('b2', [
      ['003000000000009', '0035g000000000XAAQ'],
      ['001000000000001AAA', '001000000000002AAA'],
    ]);
    const plan = await planErasure(store, 'sample', parseEraseInput({ ids: [PERSON], requestedBy: 'x' }), {
      execution: 'pairs',
      now: new Date(),
    });
    expect(plan.ids).toEqual([PERSON, canonical18('003000000000009'), canonical18('0035g000000000X')].sort());
    expect(new Set(Object.values(plan.objectOf))).toEqual(new Set(['Contact']));
  });

  it('looks for the filter value in a file body, whatever else the scan looks for field by field', async () => {
    const store = new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'sfbackup-erase-body-')));
    await store.put('orgs/sample/files/sha256/ab/abcdef', Buffer.from('CV of Jane, JANE@example.com, 2026'));
    const collector = new ValueCollector();
    collector.addRecord({ Email: 'jane@example.com' });
    const copies = new Copies(new ValueMatcher(collector.digests()), []);
    const scan = await scanForTraces(store, 'sample', [PERSON], ['jane@example.com'], copies);
    expect(scan.traces).toEqual([
      { key: 'orgs/sample/files/sha256/ab/abcdef', versionId: 'null', what: 'filter value' },
    ]);
  });

  it("counts as a kept reference, in the scan, another record's history row whose old or new value is her id", async () => {
    const store = new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'sfbackup-erase-history-')));
    await store.put(
      at('CaseHistory'),
      gzipSync(
        csv([
          ['Id', 'CaseId', 'Field', 'OldValue', 'NewValue'],
          ['017000000000003AAA', '500000000000001AAA', 'Contact', PERSON, '0035g000000000QAAQ'],
          ['017000000000004AAA', '500000000000002AAA', 'Contact', '', PERSON.slice(0, 15)],
        ]),
      ),
    );
    expect(await scanForTraces(store, 'sample', [PERSON], [])).toMatchObject({
      traceCount: 0,
      keptReferences: { CaseHistory: 2 },
    });
  });
});
