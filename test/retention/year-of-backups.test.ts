import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../contract/workflow-contract.ts';
import { isoWeekOf } from '../../lambdas/core/retention/classify.ts';
import { sweepOrg } from '../../lambdas/core/retention/sweep.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { filesOf } from '../support/snapshot-files.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { baseFields, type FakeObject, FakeSource } from '../backup/fake-source.ts';
import { MemoryStore } from '../backup/memory-store.ts';
import { runCore } from '../backup/run-core.ts';

const POLICY: RetentionPolicy = { daily: 7, weekly: 5, monthly: 12, yearly: 7 };
const FIRST_DAY = Date.parse('2026-03-01T00:00:00.000Z'); // a Sunday
const DAYS = 365; // to 2027-02-28, across a year boundary
const DAY_MS = 86_400_000;

const dayOf = (i: number) => new Date(FIRST_DAY + i * DAY_MS).toISOString().slice(0, 10);
const at = (i: number, hour: number) => new Date(FIRST_DAY + i * DAY_MS + hour * 3_600_000);

/** An org of accounts, one renamed every day and one added every tenth day, and a file that changes every Wednesday. */
function org(): FakeSource {
  const accounts: FakeObject = {
    name: 'Account',
    fields: baseFields,
    rows: Array.from({ length: 5 }, (_, i) => ({
      Id: `001000000000${String(i).padStart(3, '0')}AAA`,
      Name: `Account ${i}`,
      IsDeleted: 'false',
      SystemModstamp: at(-1, 1).toISOString(),
    })),
  };
  const versions: FakeObject = {
    name: 'ContentVersion',
    fields: [...baseFields, { name: 'Checksum', type: 'string' }, { name: 'VersionData', type: 'base64' }],
    rows: [
      {
        Id: '068000000000001AAA',
        Name: 'contract.pdf',
        IsDeleted: 'false',
        SystemModstamp: at(-1, 1).toISOString(),
        Checksum: null,
      },
    ],
  };
  const source = new FakeSource([accounts, versions]);
  source.setBlob('ContentVersion', '068000000000001AAA', 'contract of 2026-02');
  source.metadata = [{ type: 'ApexClass', fullName: 'Hello' }];
  return source;
}

/** The day's changes, stamped at 01:00, an hour before the day's backup. */
function changeOrg(source: FakeSource, i: number): void {
  const stamp = at(i, 1).toISOString();
  const accounts = source.object('Account');
  const row = accounts.rows[i % accounts.rows.length]!;
  row.Name = `renamed on ${dayOf(i)}`;
  row.SystemModstamp = stamp;
  if (i % 10 === 0) {
    accounts.rows.push({
      Id: `001000000001${String(i).padStart(3, '0')}AAA`,
      Name: `added on ${dayOf(i)}`,
      IsDeleted: 'false',
      SystemModstamp: stamp,
    });
  }
  if (at(i, 0).getUTCDay() === 3) {
    const file = source.object('ContentVersion').rows[0]!;
    file.SystemModstamp = stamp;
    source.setBlob('ContentVersion', '068000000000001AAA', `contract as of ${dayOf(i)}`);
  }
}

/**
 * The days the policy names on the last day, worked out from the calendar alone: the last 7
 * days, the last day of the last 5 ISO weeks, 12 months and 7 years that hold a backup, and for
 * each kept incremental, every day back to its week's Sunday full.
 */
function expectedDays(): string[] {
  const days = Array.from({ length: DAYS }, (_, i) => dayOf(i));
  const newestOf = (period: (day: string) => string, n: number) => {
    const last = new Map<string, string>();
    for (const day of days) last.set(period(day), day);
    return [...last.values()].sort().slice(-n);
  };
  const slots = new Set([
    ...newestOf((d) => d, POLICY.daily),
    ...newestOf((d) => isoWeekOf(new Date(`${d}T12:00:00Z`)), POLICY.weekly),
    ...newestOf((d) => d.slice(0, 7), POLICY.monthly),
    ...newestOf((d) => d.slice(0, 4), POLICY.yearly),
  ]);
  const kept = new Set<string>();
  for (const day of slots) {
    for (let t = Date.parse(`${day}T00:00:00Z`); ; t -= DAY_MS) {
      const d = new Date(t);
      kept.add(d.toISOString().slice(0, 10));
      if (d.getUTCDay() === 0) break; // the Sunday full the chain starts from
    }
  }
  return [...kept].sort();
}

describe('a year of daily backups swept after each run', () => {
  it('leaves exactly the snapshots the policy names, each verified and readable as of its day', async () => {
    const started = performance.now();
    const store = new MemoryStore();
    const source = org();
    const idOfDay = new Map<string, string>();
    const accountsOfDay = new Map<string, Map<string, string>>();
    for (let i = 0; i < DAYS; i++) {
      changeOrg(source, i);
      const mode = at(i, 0).getUTCDay() === 0 ? 'full' : 'incremental';
      const run = await runCore(source, { org: 'acme', mode }, { overlapSeconds: 0 }, store, () => at(i, 2));
      expect(run.finish.status, `${dayOf(i)}: ${run.finish.problems?.join('; ')}`).toBe('complete');
      idOfDay.set(dayOf(i), run.finish.snapshotId);
      accountsOfDay.set(
        dayOf(i),
        new Map(source.object('Account').rows.map((r) => [String(r.Id), String(r.Name)])),
      );
      const swept = await sweepOrg(
        { store, remover: store, clock: () => at(i, 3), sleep: async () => {} },
        { org: 'acme', policy: POLICY, execution: `sweep-${dayOf(i)}` },
      );
      expect(swept.done).toBe(true);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`365 backups and sweeps took ${seconds.toFixed(1)} s`);

    // Exactly the days the calendar names: no more, no fewer.
    const days = expectedDays();
    // 7 days, 5 week-ends, 12 month-ends and 2 year-ends (some the same day), and the days from
    // each kept incremental back to its week's Sunday full.
    expect(days).toHaveLength(49);
    expect(days.filter((d) => d.startsWith('2027-02'))).toEqual([
      '2027-02-07',
      '2027-02-14',
      '2027-02-21',
      '2027-02-22',
      '2027-02-23',
      '2027-02-24',
      '2027-02-25',
      '2027-02-26',
      '2027-02-27',
      '2027-02-28',
    ]);
    const catalog = await new SnapshotReader(store).catalog('acme');
    expect(catalog.map((e) => e.snapshotId)).toEqual(days.map((d) => idOfDay.get(d)));
    const prefixes = new Set<string>();
    for await (const entry of store.list('orgs/acme/snapshots/')) prefixes.add(entry.key.split('/')[3]!);
    expect([...prefixes].sort()).toEqual(days.map((d) => idOfDay.get(d)));

    // Every file body a kept snapshot needs, and no other; the index names only stored bodies.
    const reader = new SnapshotReader(store);
    const needed = new Set<string>();
    for (const entry of catalog) {
      const manifest = await reader.manifest('acme', entry.snapshotId);
      for (const file of await filesOf(store, manifest)) needed.add(file.key);
      expect(await verifySnapshot(store, manifest), entry.snapshotId).toEqual([]);
    }
    const bodies: string[] = [];
    for await (const entry of store.list('orgs/acme/files/sha256/')) bodies.push(entry.key);
    expect(bodies.sort()).toEqual([...needed].sort());
    // A body for each kept week, those of the other 40 weeks of the year removed.
    expect(bodies.length).toBeGreaterThan(10);
    expect(store.removed.filter((k) => k.startsWith('orgs/acme/files/sha256/')).length).toBeGreaterThan(30);
    for await (const entry of store.list('orgs/acme/files/index/')) {
      const { key } = JSON.parse(store.text(entry.key)) as { key: string };
      expect(bodies).toContain(key);
    }

    // Each kept snapshot reads back the accounts the org held that day, incrementals included.
    for (const day of days) {
      const pit = await reader.pointInTime('acme', idOfDay.get(day)!);
      const rows = new Map<string, string>();
      for await (const row of pit.rows('Account')) rows.set(row.id, row.values.Name ?? '');
      expect(rows, day).toEqual(accountsOfDay.get(day));
    }
    // The month-end of March 2026 is a Tuesday: its incremental reads through Monday's to Sunday's full.
    const march = await reader.pointInTime('acme', idOfDay.get('2026-03-31')!);
    expect(march.chain.map((m) => m.snapshotId)).toEqual(
      ['2026-03-29', '2026-03-30', '2026-03-31'].map((d) => idOfDay.get(d)),
    );
    expect(seconds).toBeLessThan(90);
  }, 180_000);
});
