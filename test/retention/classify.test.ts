import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../contract/workflow-contract.ts';
import {
  classify,
  isoWeekOf,
  type RetentionDecision,
  type RetentionInput,
  RetentionPlanError,
} from '../../lambdas/core/retention/classify.ts';
import type { CatalogEntry } from '../../lambdas/core/snapshot/manifest.ts';

/** A snapshot id started at an ISO instant, with a suffix to tell runs apart. */
const idAt = (iso: string, suffix = 'aaaaaa') => `${iso.replace(/[-:.]/g, '')}-${suffix}`;

interface EntryOptions {
  mode?: CatalogEntry['mode'];
  status?: CatalogEntry['status'];
  base?: string | null;
  metadata?: boolean;
  suffix?: string;
}

function entry(iso: string, options: EntryOptions = {}): CatalogEntry {
  const id = idAt(iso, options.suffix);
  return {
    formatVersion: 1,
    snapshotId: id,
    org: 'acme',
    orgId: '00D000000000001',
    mode: options.mode ?? 'full',
    baseSnapshotId: options.base ?? null,
    metadata: options.metadata ?? true,
    status: options.status ?? 'complete',
    startedAt: iso,
    finishedAt: iso,
    watermark: iso,
    manifestKey: `orgs/acme/snapshots/${id}/manifest.json`,
    manifestSha256: null,
    problems: options.status === 'failed' ? ['an object failed'] : [],
  };
}

/** One full backup a day at 02:00 UTC from `first`, `days` days long. */
function dailyFulls(first: string, days: number): CatalogEntry[] {
  const start = Date.parse(`${first}T02:00:00.000Z`);
  return Array.from({ length: days }, (_, i) => entry(new Date(start + i * 86_400_000).toISOString()));
}

const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({
  daily: 0,
  weekly: 0,
  monthly: 0,
  yearly: 0,
  ...p,
});

function run(
  catalog: CatalogEntry[],
  p: Partial<RetentionPolicy>,
  now: string,
  more: Partial<RetentionInput> = {},
) {
  const plan = classify({
    catalog,
    unfinished: [],
    halfSwept: [],
    latest: undefined,
    policy: policy(p),
    now: new Date(now),
    ...more,
  });
  const kept = plan.decisions.filter((d) => d.action === 'keep');
  return {
    plan,
    keptDays: kept.map((d) => d.snapshotId.slice(0, 8)),
    reasonsOf: (id: string) => plan.decisions.find((d) => d.snapshotId === id)?.reasons ?? [],
    decisionOf: (id: string) => plan.decisions.find((d) => d.snapshotId === id) as RetentionDecision,
  };
}

describe('retention classification', () => {
  it('names ISO weeks by their Thursday, across a year boundary', () => {
    expect(isoWeekOf(new Date('2026-12-01T00:00:00Z'))).toBe('2026-W49');
    expect(isoWeekOf(new Date('2026-11-29T23:59:59Z'))).toBe('2026-W48');
    // 2026-12-31 is a Thursday: week 53 of 2026; 2027-01-03 (Sunday) still belongs to it.
    expect(isoWeekOf(new Date('2026-12-31T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeekOf(new Date('2027-01-03T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeekOf(new Date('2027-01-04T00:00:00Z'))).toBe('2027-W01');
  });

  it('keeps the newest snapshot of each of the last N days and expires the rest, each with its reason', () => {
    const catalog = dailyFulls('2026-11-20', 14);
    const { keptDays, reasonsOf, plan } = run(catalog, { daily: 7 }, '2026-12-03T12:00:00Z');
    expect(keptDays).toEqual([
      '20261127',
      '20261128',
      '20261129',
      '20261130',
      '20261201',
      '20261202',
      '20261203',
    ]);
    const newest = catalog.at(-1)!.snapshotId;
    expect(reasonsOf(newest)).toEqual([
      'daily 2026-12-03',
      'latest',
      'newest data snapshot: the next incremental builds on it',
    ]);
    expect(reasonsOf(catalog[7]!.snapshotId)).toEqual(['daily 2026-11-27']);
    const expired = plan.decisions.filter((d) => d.action === 'expire');
    expect(expired).toHaveLength(7);
    expect(expired[0]!.reasons[0]).toMatch(/not the newest complete snapshot/);
  });

  it('keeps only the newer of two runs on one day', () => {
    const early = entry('2026-12-02T02:00:00.000Z', { suffix: 'early0' });
    const late = entry('2026-12-02T14:00:00.000Z', { suffix: 'late00' });
    const today = entry('2026-12-03T02:00:00.000Z');
    const { decisionOf } = run([early, late, today], { daily: 2 }, '2026-12-03T12:00:00Z');
    expect(decisionOf(early.snapshotId).action).toBe('expire');
    expect(decisionOf(late.snapshotId).reasons).toEqual(['daily 2026-12-02']);
  });

  it('counts only days that hold a snapshot, so a gap in backups does not expire more', () => {
    const catalog = [
      entry('2026-11-01T02:00:00.000Z'),
      entry('2026-11-02T02:00:00.000Z'),
      entry('2026-11-03T02:00:00.000Z'),
      // nothing for four weeks
      entry('2026-12-01T02:00:00.000Z'),
    ];
    const { keptDays } = run(catalog, { daily: 3 }, '2026-12-03T12:00:00Z');
    expect(keptDays).toEqual(['20261102', '20261103', '20261201']);
  });

  it('keeps the newest snapshot of each ISO week, month and year, across month and year boundaries', () => {
    const catalog = dailyFulls('2025-12-20', 30); // 2025-12-20 .. 2026-01-18
    const { keptDays, reasonsOf, decisionOf } = run(
      catalog,
      { daily: 2, weekly: 3, monthly: 2, yearly: 2 },
      '2026-01-18T12:00:00Z',
    );
    // Dailies: 01-17, 01-18. Weeks (Mon-Sun): W02 ends 01-11, W01 ends 01-04, W03 is current (01-18).
    // Months: 2026-01 (01-18), 2025-12 (12-31). Years: 2026 (01-18), 2025 (12-31).
    expect(keptDays).toEqual(['20251231', '20260104', '20260111', '20260117', '20260118']);
    const dec31 = catalog.find((e) => e.startedAt.startsWith('2025-12-31'))!.snapshotId;
    expect(reasonsOf(dec31)).toEqual(['monthly 2025-12', 'yearly 2025']);
    const jan4 = catalog.find((e) => e.startedAt.startsWith('2026-01-04'))!.snapshotId;
    expect(reasonsOf(jan4)).toEqual(['weekly 2026-W01']);
    expect(decisionOf(catalog[0]!.snapshotId).action).toBe('expire');
  });

  it('keeps the base of a kept incremental, transitively, even when its own slot expired', () => {
    const full = entry('2026-11-29T02:00:00.000Z'); // Sunday
    const mon = entry('2026-11-30T02:00:00.000Z', {
      mode: 'incremental',
      base: full.snapshotId,
      metadata: false,
    });
    const tue = entry('2026-12-01T02:00:00.000Z', {
      mode: 'incremental',
      base: mon.snapshotId,
      metadata: false,
    });
    const wed = entry('2026-12-02T02:00:00.000Z', {
      mode: 'incremental',
      base: tue.snapshotId,
      metadata: false,
    });
    const { keptDays, reasonsOf } = run([full, mon, tue, wed], { daily: 1 }, '2026-12-02T12:00:00Z');
    expect(keptDays).toEqual(['20261129', '20261130', '20261201', '20261202']);
    expect(reasonsOf(tue.snapshotId)).toEqual([`base of ${wed.snapshotId}`]);
    expect(reasonsOf(full.snapshotId)).toContain(`base of ${mon.snapshotId}`);
    // The full run holds the metadata the incrementals are read with.
    expect(reasonsOf(full.snapshotId)).toContain(`metadata of ${wed.snapshotId}`);
  });

  it('keeps the metadata retrieve a kept data snapshot is read with, and the data a metadata-only one is read with', () => {
    const full = entry('2026-11-01T02:00:00.000Z', { metadata: false });
    const meta = entry('2026-11-01T05:00:00.000Z', { mode: 'metadata', metadata: true });
    const later = entry('2026-12-01T02:00:00.000Z', { metadata: false });
    const metaLater = entry('2026-12-01T05:00:00.000Z', { mode: 'metadata', metadata: true });
    const { reasonsOf } = run([full, meta, later, metaLater], { monthly: 2 }, '2026-12-03T12:00:00Z');
    expect(reasonsOf(meta.snapshotId)).toEqual([
      'monthly 2026-11 (metadata)',
      `metadata of ${later.snapshotId}`,
    ]);
    expect(reasonsOf(full.snapshotId)).toEqual(['monthly 2026-11', `data of ${meta.snapshotId}`]);
    expect(reasonsOf(metaLater.snapshotId)).toContain('latest');
  });

  it('always keeps the snapshot the latest pointer names, even outside every slot', () => {
    const older = entry('2026-11-01T02:00:00.000Z');
    const newer = entry('2026-12-01T02:00:00.000Z');
    // A metadata run newer than the pointer's target does not move `latest` away from it here.
    const { decisionOf } = run([older, newer], { daily: 1 }, '2026-12-03T12:00:00Z', {
      latest: older.snapshotId,
    });
    expect(decisionOf(older.snapshotId)).toMatchObject({ action: 'keep', reasons: ['latest'] });
  });

  it('keeps failed and unfinished snapshots newer than the oldest daily slot, and expires older ones', () => {
    const catalog = dailyFulls('2026-11-20', 14);
    const oldFailed = entry('2026-11-21T09:00:00.000Z', { status: 'failed', suffix: 'fail01' });
    const newFailed = entry('2026-12-02T09:00:00.000Z', { status: 'failed', suffix: 'fail02' });
    const abandoned = idAt('2026-11-22T09:00:00.000Z', 'gone00');
    const running = idAt('2026-12-03T11:00:00.000Z', 'run000');
    const { decisionOf, plan } = run(
      [...catalog, oldFailed, newFailed],
      { daily: 7 },
      '2026-12-03T12:00:00Z',
      {
        unfinished: [abandoned, running],
      },
    );
    expect(plan.unfinishedCutoff).toBe('2026-11-27T00:00:00.000Z');
    expect(decisionOf(oldFailed.snapshotId)).toMatchObject({ action: 'expire', state: 'failed' });
    expect(decisionOf(newFailed.snapshotId)).toMatchObject({ action: 'keep', state: 'failed' });
    expect(decisionOf(abandoned)).toMatchObject({ action: 'expire', state: 'unfinished' });
    expect(decisionOf(running)).toMatchObject({ action: 'keep', state: 'unfinished' });
  });

  it('leaves an unfinished run alone for two days even when the policy keeps only one daily snapshot', () => {
    const catalog = dailyFulls('2026-11-30', 4);
    const yesterday = idAt('2026-12-02T03:00:00.000Z', 'slow00');
    const { decisionOf } = run(catalog, { daily: 1 }, '2026-12-03T12:00:00Z', { unfinished: [yesterday] });
    expect(decisionOf(yesterday).action).toBe('keep');
  });

  it('expires a snapshot a sweep already began removing, however recent', () => {
    const catalog = dailyFulls('2026-12-01', 3);
    const halfSwept = idAt('2026-12-02T14:00:00.000Z', 'half00');
    const { decisionOf } = run(catalog, { daily: 7 }, '2026-12-03T12:00:00Z', {
      unfinished: [halfSwept],
      halfSwept: [halfSwept],
    });
    expect(decisionOf(halfSwept)).toMatchObject({
      action: 'expire',
      reasons: ['a sweep expired it and did not finish removing it'],
    });
  });

  it('refuses a plan that would expire a base a kept snapshot builds on', () => {
    // A base that the catalog lists as failed can only come from a damaged vault; the sweep stops.
    const full = entry('2026-11-01T02:00:00.000Z', { status: 'failed' });
    const inc = entry('2026-12-02T02:00:00.000Z', { mode: 'incremental', base: full.snapshotId });
    expect(() => run([full, inc], { daily: 1 }, '2026-12-03T12:00:00Z')).toThrow(RetentionPlanError);
  });

  it('keeps every snapshot when each lies in its own kept slot', () => {
    const catalog = dailyFulls('2026-12-01', 3);
    const { plan } = run(catalog, { daily: 30 }, '2026-12-03T12:00:00Z');
    expect(plan.decisions.every((d) => d.action === 'keep')).toBe(true);
  });
});
