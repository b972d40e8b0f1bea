/**
 * Retention by policy (grandfather-father-son): which snapshots of an org a policy keeps, which
 * it expires, and why. Pure: it reads nothing and knows only the catalog, the policy and the time.
 */
import {
  ErrorName,
  RETENTION_TIERS,
  type RetentionPolicy,
  type RetentionTier,
} from '../../../contract/workflow-contract.ts';
import type { CatalogEntry } from '../snapshot/manifest.ts';

/** How long a failed or unfinished snapshot is left alone whatever the policy: a run may still be writing it. */
export const UNFINISHED_GRACE_MS = 2 * 24 * 60 * 60 * 1000;

/** What classification needs to know of an org's vault. */
export interface RetentionInput {
  /** Every catalog entry of the org (complete and failed). */
  readonly catalog: readonly CatalogEntry[];
  /**
   * Snapshots with objects in the vault but no catalog entry: runs in progress, runs that stopped
   * before their finish step, and snapshots a sweep stopped removing.
   */
  readonly unfinished: readonly string[];
  /** Snapshots a sweep already expired and removed the catalog entry of (from its retention log). */
  readonly halfSwept: readonly string[];
  /** The snapshot the org's `latest` pointer names, if any. */
  readonly latest: string | undefined;
  readonly policy: RetentionPolicy;
  readonly now: Date;
}

/** What happens to one snapshot. */
export interface RetentionDecision {
  readonly snapshotId: string;
  readonly action: 'keep' | 'expire';
  /** complete / failed from the catalog; unfinished when it has none. */
  readonly state: 'complete' | 'failed' | 'unfinished';
  /** Every reason, such as "daily 2026-12-01", "weekly 2026-W48", "base of 20261203T020000000Z-abc123". */
  readonly reasons: readonly string[];
}

/** The decisions for an org, oldest snapshot first. */
export interface RetentionPlan {
  readonly decisions: readonly RetentionDecision[];
  /** Failed and unfinished snapshots started before this instant expire. */
  readonly unfinishedCutoff: string;
}

/** The instant a snapshot id was started at: ids begin with `YYYYMMDDTHHMMSSmmmZ`. */
export function startOfId(snapshotId: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(snapshotId);
  if (!m) return new Date(Number.NaN);
  const [, y, mo, d, h, mi, s, ms] = m;
  return new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, +ms!));
}

/** The ISO week of a UTC date, such as "2026-W48" (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeekOf(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** The calendar period of a tier a UTC instant falls in: "2026-12-01", "2026-W48", "2026-12", "2026". */
export function periodOf(tier: RetentionTier, date: Date): string {
  const iso = date.toISOString();
  switch (tier) {
    case 'daily':
      return iso.slice(0, 10);
    case 'weekly':
      return isoWeekOf(date);
    case 'monthly':
      return iso.slice(0, 7);
    case 'yearly':
      return iso.slice(0, 4);
  }
}

/**
 * Classifies every snapshot of an org under a policy. Kept:
 * - per tier, the newest complete snapshot of each of the N most recent days, ISO weeks, months
 *   and years (UTC) that hold one: a period with no snapshot takes no slot, so a backup outage
 *   never makes the policy expire more. Data snapshots (full, incremental) and metadata-only
 *   ones fill their slots apart, so a metadata run never displaces the day's data snapshot;
 * - the latest (the `latest` pointer's snapshot) and the newest complete data snapshot, which the
 *   next incremental builds on;
 * - everything a kept snapshot needs to be read as a point in time: an incremental's base,
 *   transitively; the newest metadata retrieve at or before it; for a metadata-only one, the
 *   newest data snapshot before it;
 * - failed and unfinished snapshots started after the cutoff: the start of the oldest kept daily
 *   slot's day, and never less than two days ago (a run may still be writing them).
 * Everything else expires, and so do snapshots a sweep already started removing.
 */
export function classify(input: RetentionInput): RetentionPlan {
  const { catalog, policy, now } = input;
  const reasons = new Map<string, string[]>();
  const keep = (id: string, reason: string) => {
    const list = reasons.get(id);
    if (list) {
      if (!list.includes(reason)) list.push(reason);
    } else reasons.set(id, [reason]);
  };
  const byId = new Map(catalog.map((e) => [e.snapshotId, e]));
  const complete = catalog
    .filter((e) => e.status === 'complete')
    .sort((a, b) => a.snapshotId.localeCompare(b.snapshotId));
  const data = complete.filter((e) => e.mode !== 'metadata');
  const metadataOnly = complete.filter((e) => e.mode === 'metadata');

  let oldestDailyDay: string | undefined;
  for (const [group, label] of [
    [data, ''],
    [metadataOnly, ' (metadata)'],
  ] as const) {
    for (const tier of RETENTION_TIERS) {
      const slots = newestPerPeriod(group, tier).slice(0, policy[tier]);
      for (const { period, entry } of slots) keep(entry.snapshotId, `${tier} ${period}${label}`);
      if (tier === 'daily' && label === '' && slots.length > 0) oldestDailyDay = slots.at(-1)!.period;
    }
  }
  const latest =
    input.latest && byId.get(input.latest)?.status === 'complete'
      ? input.latest
      : complete.at(-1)?.snapshotId;
  if (latest) keep(latest, 'latest');
  const newestData = data.at(-1);
  if (newestData) keep(newestData.snapshotId, 'newest data snapshot: the next incremental builds on it');

  // Dependencies, until nothing new is kept: bases (transitively), metadata, data of metadata-only.
  const pending = [...reasons.keys()];
  while (pending.length > 0) {
    const id = pending.pop()!;
    const entry = byId.get(id);
    if (entry?.status !== 'complete') continue;
    const needs: [string | undefined, string][] = [];
    if (entry.mode === 'incremental') needs.push([entry.baseSnapshotId ?? undefined, `base of ${id}`]);
    if (entry.mode === 'metadata') {
      needs.push([data.filter((e) => e.snapshotId < id).at(-1)?.snapshotId, `data of ${id}`]);
    } else if (!entry.metadata) {
      const metadata = complete.filter((e) => e.metadata && e.snapshotId <= id).at(-1);
      needs.push([metadata?.snapshotId, `metadata of ${id}`]);
    }
    for (const [need, reason] of needs) {
      if (!need) continue;
      const isNew = !reasons.has(need);
      keep(need, reason);
      if (isNew) pending.push(need);
    }
  }

  const graceStart = now.getTime() - UNFINISHED_GRACE_MS;
  const dailyStart = oldestDailyDay ? Date.parse(`${oldestDailyDay}T00:00:00.000Z`) : graceStart;
  const cutoff = new Date(Math.min(graceStart, dailyStart));
  const halfSwept = new Set(input.halfSwept);

  const decisions: RetentionDecision[] = [];
  for (const entry of catalog) {
    const id = entry.snapshotId;
    if (entry.status === 'complete') {
      const kept = reasons.get(id);
      decisions.push(
        kept
          ? { snapshotId: id, action: 'keep', state: 'complete', reasons: kept }
          : {
              snapshotId: id,
              action: 'expire',
              state: 'complete',
              reasons: [`not the newest complete snapshot of any day, week, month or year the policy keeps`],
            },
      );
    } else {
      decisions.push(unfinishedDecision(id, 'failed', cutoff));
    }
  }
  for (const id of input.unfinished) {
    if (byId.has(id)) continue;
    decisions.push(
      halfSwept.has(id)
        ? {
            snapshotId: id,
            action: 'expire',
            state: 'unfinished',
            reasons: ['a sweep expired it and did not finish removing it'],
          }
        : unfinishedDecision(id, 'unfinished', cutoff),
    );
  }
  decisions.sort((a, b) => a.snapshotId.localeCompare(b.snapshotId));
  checkPlan(decisions, byId, latest);
  return { decisions, unfinishedCutoff: cutoff.toISOString() };
}

function unfinishedDecision(id: string, state: 'failed' | 'unfinished', cutoff: Date): RetentionDecision {
  const started = startOfId(id);
  const what = state === 'failed' ? 'failed' : 'unfinished';
  if (!Number.isNaN(started.getTime()) && started < cutoff) {
    return {
      snapshotId: id,
      action: 'expire',
      state,
      reasons: [`${what}, started before ${cutoff.toISOString()}`],
    };
  }
  return {
    snapshotId: id,
    action: 'keep',
    state,
    reasons: [
      state === 'failed'
        ? `failed, kept until it is older than the oldest daily slot`
        : `in progress or recent: no catalog entry yet`,
    ],
  };
}

/** The newest snapshot of each period of a tier, newest period first. */
function newestPerPeriod(
  entries: readonly CatalogEntry[],
  tier: RetentionTier,
): { period: string; entry: CatalogEntry }[] {
  const newest = new Map<string, CatalogEntry>();
  for (const entry of entries) {
    const period = periodOf(tier, new Date(entry.startedAt));
    const held = newest.get(period);
    if (!held || held.snapshotId < entry.snapshotId) newest.set(period, entry);
  }
  return [...newest.entries()]
    .map(([period, entry]) => ({ period, entry }))
    .sort((a, b) => b.entry.snapshotId.localeCompare(a.entry.snapshotId));
}

/** A plan that would expire the latest snapshot or a kept snapshot's base. */
export class RetentionPlanError extends Error {
  override readonly name = ErrorName.RetentionPlan;
}

/** Refuses a plan that breaks what a sweep must never do, whatever led to it. */
function checkPlan(
  decisions: readonly RetentionDecision[],
  byId: ReadonlyMap<string, CatalogEntry>,
  latest: string | undefined,
): void {
  const expired = new Set(decisions.filter((d) => d.action === 'expire').map((d) => d.snapshotId));
  if (latest && expired.has(latest))
    throw new RetentionPlanError(`The plan would expire the latest snapshot ${latest}.`);
  for (const d of decisions) {
    if (d.action !== 'keep' || d.state !== 'complete') continue;
    for (let entry = byId.get(d.snapshotId); entry?.mode === 'incremental' && entry.baseSnapshotId; ) {
      if (expired.has(entry.baseSnapshotId)) {
        throw new RetentionPlanError(
          `The plan would expire ${entry.baseSnapshotId}, which kept snapshot ${d.snapshotId} builds on.`,
        );
      }
      entry = byId.get(entry.baseSnapshotId);
    }
  }
}
