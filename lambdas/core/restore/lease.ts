/**
 * The org's restore lease: one restore writes to an org at a time.
 *
 * The vault cannot give a compare-and-swap (radosgw ignores If-None-Match on a versioned bucket)
 * and the restore role may not delete, so the lease is built from immutable records whose keys
 * carry everything a reader needs, and is decided by listing only:
 *
 * - a claim, `lease/claims/<claimed at, ms>-<run id>.json`, written by a restore that wants to write;
 * - a renewal, `lease/renewed/<expires at, ms>-<claimed at, ms>-<run id>.json`, written by every
 *   writing step;
 * - a release, `lease/released/<run id>.json`, written when the restore ends, well or not.
 *
 * Claims and renewals are named by time first, so a decision lists only the records that can still
 * be live (claims of the last TTL, renewals not yet expired) and looks up the releases of those
 * runs alone: it costs the same after years of runs as after the first. The records themselves
 * stay (a few hundred bytes each, never read again).
 *
 * They live under the restore's root (`restores/<configured org name>/<org id>/`, see
 * `restoreRoot`), which only that configured org's restore functions may read or write: the lease
 * orders the restores one configured org's workflow runs into one Salesforce org.
 *
 * A claim is live until it is released or its newest expiry passes (so a restore that was stopped
 * without running its failure path frees the org by itself). Of the live claims the oldest wins.
 * Claim times come from the claimants' clocks, so the claimant waits `settleMs` after its claim
 * before reading the claims back, and gives its claim up when its own write took longer than that:
 * any older claim is then either visible to the read-back or withdrawn, and two restores can
 * never both win (at worst both are refused).
 */
import { ERASURE_LEASE_PREFIX } from '../../../contract/workflow-contract.ts';
import type { BackupStore } from '../store.ts';
import { RestoreInProgressError, RestoreLeaseLostError } from './errors.ts';
import { describeRoot } from './keys.ts';
import { putIfAbsent, readJson } from './store-json.ts';

/** How long a claim or renewal holds the org: longer than any step's run plus its retries. */
export const LEASE_TTL_MS = 60 * 60_000;
/** How long a claimant waits before reading the claims back; also the most its claim's write may take. */
export const LEASE_SETTLE_MS = 1_000;

/** Options of the lease, for tests and tuning. */
export interface LeaseOptions {
  readonly ttlMs?: number;
  readonly settleMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A live claim on an org, as read from the keys. */
export interface LeaseHolder {
  readonly runId: string;
  readonly claimedAt: number;
  readonly expiresAt: number;
}

/** A time in ms as it is written in a key: 15 digits, so keys sort by time. */
const inKey = (ms: number) => String(Math.max(0, ms)).padStart(15, '0');

/** The lease's keys under a restore root (see `restoreRoot`): one lease per configured org and target org. */
const leaseKeys = {
  claims: (root: string) => `${root}lease/claims/`,
  claim: (root: string, at: number, runId: string) => `${root}lease/claims/${inKey(at)}-${runId}.json`,
  renewals: (root: string) => `${root}lease/renewed/`,
  renewal: (root: string, expiresAt: number, claimedAt: number, runId: string) =>
    `${root}lease/renewed/${inKey(expiresAt)}-${inKey(claimedAt)}-${runId}.json`,
  released: (root: string) => `${root}lease/released/`,
  release: (root: string, runId: string) => `${root}lease/released/${runId}.json`,
};
const CLAIM = /^(\d{15})-(.+)\.json$/;
const RENEWAL = /^(\d{15})-(\d{15})-(.+)\.json$/;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The runs whose claim may be live at `since` or later, when each claimed and until when its claim
 * and renewals hold: claimed within the TTL before `since`, or renewed until after it. Two lists
 * that start at `since`, however long the lease's history.
 */
async function claimsSince(
  store: BackupStore,
  root: string,
  since: number,
  ttlMs: number,
): Promise<Map<string, { claimedAt: number; expiresAt: number }>> {
  const runs = new Map<string, { claimedAt: number; expiresAt: number }>();
  const note = (runId: string, claimedAt: number, expiresAt: number) => {
    const seen = runs.get(runId);
    runs.set(runId, {
      claimedAt: Math.min(claimedAt, seen?.claimedAt ?? claimedAt),
      expiresAt: Math.max(expiresAt, seen?.expiresAt ?? expiresAt),
    });
  };
  const claims = leaseKeys.claims(root);
  for await (const { key } of store.list(claims, { afterKey: `${claims}${inKey(since - ttlMs)}` })) {
    const match = CLAIM.exec(key.slice(claims.length));
    if (match) note(match[2]!, Number(match[1]), Number(match[1]) + ttlMs);
  }
  const renewals = leaseKeys.renewals(root);
  for await (const { key } of store.list(renewals, { afterKey: `${renewals}${inKey(since)}` })) {
    const match = RENEWAL.exec(key.slice(renewals.length));
    if (match) note(match[3]!, Number(match[2]), Number(match[1]));
  }
  return runs;
}

/**
 * The claims made under `root` at or after `since` (by the claimants' clocks), live or not: one
 * listing that starts there, however long the lease's history.
 */
export async function claimsMadeSince(
  store: BackupStore,
  root: string,
  since: number,
): Promise<{ runId: string; claimedAt: number }[]> {
  const claims = leaseKeys.claims(root);
  const made: { runId: string; claimedAt: number }[] = [];
  for await (const { key } of store.list(claims, { afterKey: `${claims}${inKey(since - 1)}~` })) {
    const match = CLAIM.exec(key.slice(claims.length));
    if (match && Number(match[1]) >= since) made.push({ runId: match[2]!, claimedAt: Number(match[1]) });
  }
  return made;
}

/**
 * True when the run ever claimed the lease under `root` (live, expired or released). It reads every
 * claim the lease ever had: for the rare question of a claim that is neither live nor released.
 */
export async function hasClaimed(store: BackupStore, root: string, runId: string): Promise<boolean> {
  for await (const { key } of store.list(leaseKeys.claims(root)))
    if (CLAIM.exec(tail(key))?.[2] === runId) return true;
  return false;
}

/**
 * When each restore that may have written at `since` or later held the lease: from its claim to its
 * release (the `releasedAt` it recorded), or, never released, to the expiry of its last renewal;
 * those that ended before `since` are left out (a run writes nothing once its lease expired).
 * Claims that lost to an older one wrote nothing, but are listed too: a window may be wider than the
 * writes, never narrower.
 */
export async function leaseWindows(
  store: BackupStore,
  root: string,
  since: number,
  ttlMs = LEASE_TTL_MS,
): Promise<{ runId: string; from: number; to: number }[]> {
  const windows: { runId: string; from: number; to: number }[] = [];
  for (const [runId, { claimedAt, expiresAt }] of await claimsSince(store, root, since, ttlMs)) {
    const record = await readJson<{ releasedAt?: string }>(store, leaseKeys.release(root, runId));
    const releasedAt = record?.releasedAt ? Date.parse(record.releasedAt) : Number.NaN;
    const to = Number.isFinite(releasedAt) ? releasedAt : expiresAt;
    if (to >= since) windows.push({ runId, from: claimedAt, to });
  }
  return windows.sort((a, b) => a.from - b.from || a.runId.localeCompare(b.runId));
}

/** True when the run gave its lease (or claim) back under `root`: one request, whatever the lease's history. */
export async function hasReleased(store: BackupStore, root: string, runId: string): Promise<boolean> {
  return (await store.head(leaseKeys.release(root, runId))) !== undefined;
}

/** Every live claim on the org, oldest (the holder) first. */
export async function liveClaims(
  store: BackupStore,
  root: string,
  now: number,
  ttlMs = LEASE_TTL_MS,
): Promise<LeaseHolder[]> {
  const unexpired = [...(await claimsSince(store, root, now, ttlMs))]
    .filter(([, { expiresAt }]) => expiresAt > now)
    .map(([runId, { claimedAt, expiresAt }]) => ({ runId, claimedAt, expiresAt }));
  const released = await Promise.all(unexpired.map((c) => hasReleased(store, root, c.runId)));
  return unexpired
    .filter((_, i) => !released[i])
    .sort((a, b) => a.claimedAt - b.claimedAt || a.runId.localeCompare(b.runId));
}

/** True when `runId` holds a live claim under `root` (holding the lease or waiting for it). */
export async function holdsLiveClaim(
  store: BackupStore,
  root: string,
  runId: string,
  now: number,
): Promise<boolean> {
  return (await liveClaims(store, root, now)).some((c) => c.runId === runId);
}

/**
 * Takes the org's restore lease for a run, or fails with `RestoreInProgressError` naming the
 * restore that holds it. A run that already holds the lease (a retried validation) keeps it.
 */
export async function acquireLease(
  store: BackupStore,
  root: string,
  runId: string,
  options: LeaseOptions = {},
): Promise<LeaseHolder> {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
  const settleMs = options.settleMs ?? LEASE_SETTLE_MS;
  const sleep = options.sleep ?? sleepFor;
  const held = (await liveClaims(store, root, now(), ttlMs))[0];
  if (held?.runId === runId) return held;
  if (held) throw inProgress(root, held);
  const claimedAt = now();
  await store.put(
    leaseKeys.claim(root, claimedAt, runId),
    JSON.stringify({ runId, claimedAt: iso(claimedAt) }),
    {
      contentType: 'application/json',
    },
  );
  const written = now();
  if (written - claimedAt > settleMs) {
    await releaseLease(store, root, runId, now);
    throw new RestoreInProgressError(
      `The restore lease of ${describeRoot(root)} could not be ordered (the vault took ${written - claimedAt} ms to record the claim); nothing was written to the org. Start the restore again.`,
    );
  }
  await sleep(Math.max(0, claimedAt + settleMs - now()));
  const winner = (await liveClaims(store, root, now(), ttlMs))[0];
  if (winner?.runId === runId) return winner;
  await releaseLease(store, root, runId, now);
  if (!winner) {
    throw new RestoreInProgressError(
      `The restore lease of ${describeRoot(root)} was released while it was being taken; nothing was written to the org. Start the restore again.`,
    );
  }
  throw inProgress(root, winner);
}

/**
 * Extends a run's lease before it writes more to the org; fails with `RestoreLeaseLostError`
 * when the lease expired or another restore holds it now.
 */
export async function renewLease(
  store: BackupStore,
  root: string,
  runId: string,
  options: LeaseOptions = {},
): Promise<LeaseHolder> {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
  const holder = (await liveClaims(store, root, now(), ttlMs))[0];
  if (holder?.runId !== runId) {
    throw new RestoreLeaseLostError(
      holder
        ? `Restore ${runId} no longer holds the restore lease of ${describeRoot(root)}: restore ${holder.runId} holds it since ${iso(holder.claimedAt)}. It stopped before writing more; start it again once that restore has ended.`
        : `Restore ${runId} no longer holds the restore lease of ${describeRoot(root)} (it expired or was released). It stopped before writing more; start it again to continue where it stopped.`,
    );
  }
  const expiresAt = now() + ttlMs;
  await putIfAbsent(store, leaseKeys.renewal(root, expiresAt, holder.claimedAt, runId), '{}');
  return { ...holder, expiresAt };
}

/** Gives a run's lease (or its claim) up; releasing twice, or a lease never taken, is harmless. */
export async function releaseLease(
  store: BackupStore,
  root: string,
  runId: string,
  now: () => number = Date.now,
): Promise<void> {
  await putIfAbsent(store, leaseKeys.release(root, runId), JSON.stringify({ runId, releasedAt: iso(now()) }));
}

function inProgress(root: string, holder: LeaseHolder): RestoreInProgressError {
  if (holder.runId.startsWith(ERASURE_LEASE_PREFIX)) {
    return new RestoreInProgressError(
      `An erasure is rewriting the records of ${describeRoot(root)}: execution ${holder.runId.slice(ERASURE_LEASE_PREFIX.length)} of the org's erase workflow holds its restore lease since ${iso(holder.claimedAt)}, until ${iso(holder.expiresAt)} unless it ends sooner. Nothing was written to the org. Start this restore again once that execution has ended; if it was stopped, the lease frees itself at ${iso(holder.expiresAt)}. A dry run waits for it too.`,
    );
  }
  return new RestoreInProgressError(
    `Another restore is writing to ${describeRoot(root)}: execution ${holder.runId}, started ${iso(holder.claimedAt)}, holds the org's restore lease until ${iso(holder.expiresAt)} unless it ends sooner. Nothing was written to the org. Wait for that execution to end, then start this restore again; if it was stopped, the lease frees itself at ${iso(holder.expiresAt)}. A dry run needs no lease and can run now.`,
  );
}

function tail(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
