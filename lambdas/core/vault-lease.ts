/**
 * The org's vault lease: who may remove or rewrite an org's backups, and which backups are running.
 *
 * A retention sweep removes snapshots and an erasure rewrites them: each would undo the other
 * (an erasure writing a new version over a swept catalog entry brings back a half-removed
 * snapshot), so they take turns under one lease, the restore lease's records (restore/lease.ts)
 * kept under the org's own prefix: `orgs/<org>/lease/{claims,renewed,released}/`.
 *
 * A backup only adds new keys, so it runs beside a sweep; but a backup running during an erasure
 * writes the person back into a snapshot the erasure never planned. Every backup step therefore
 * leaves a heartbeat, `orgs/<org>/lease/backups/<hour of expiry>/<snapshot id>-<expiry, ms>.json`,
 * and the plan step, after its first heartbeat, refuses the run when an erasure holds the lease; an
 * erasure, after taking the lease, waits (holding it) while a heartbeat is live for a snapshot that
 * has no catalog entry yet. Each writes before it reads the other's records and the vault reads its own
 * writes, so at least one of the two sees the other (at worst both stop). A backup that stopped
 * without a catalog entry (a stopped execution, a timeout) holds off erasures until its last
 * heartbeat expires, an hour after it was written.
 */
import type { Readable } from 'node:stream';
import {
  BACKUP_ENDED_FOLDER,
  BACKUP_HEARTBEATS_FOLDER,
  ERASURE_LEASE_PREFIX,
  ErrorName,
  SWEEP_LEASE_PREFIX,
  VAULT_LEASE_FOLDER,
} from '../../contract/workflow-contract.ts';
import { RestoreInProgressError } from './restore/errors.ts';
import {
  acquireLease,
  claimsMadeSince,
  hasReleased,
  LEASE_TTL_MS,
  type LeaseHolder,
  type LeaseOptions,
  liveClaims,
  releaseLease,
  renewLease,
} from './restore/lease.ts';
import { putIfAbsent } from './restore/store-json.ts';
import { expiredInLogs } from './retention/log.ts';
import { catalogKey, orgPrefix } from './snapshot/keys.ts';
import type { RemovingStore } from './removing-store.ts';
import type {
  BackupStore,
  ListOptions,
  PointerCondition,
  PutOptions,
  ReadOptions,
  StoredObject,
  StoreEntry,
} from './store.ts';

/** A backup that found an erasure holding its org's vault lease: it wrote nothing. */
export class BackupHeldByErasureError extends Error {
  override readonly name = ErrorName.BackupHeldByErasure;
}

/** A step that read the backups found that an erasure began meanwhile: it wrote nothing more. */
export class ErasureDuringStepError extends Error {
  override readonly name = ErrorName.ErasureDuringStep;
}

/**
 * A sweep could not take its org's vault lease, though no other run holds it, or its execution has
 * ended: this invocation removed nothing.
 */
export class VaultLeaseUnavailableError extends Error {
  override readonly name = ErrorName.VaultLeaseUnavailable;
}

/**
 * A sweep that was removing found its turn no longer its own (its execution's release step gave
 * it back, or it lapsed): it stopped before the next removal. The sweep answers
 * `done: false`; its next invocation takes the turn again or finds who holds it.
 */
export class SweepTurnLostError extends Error {
  override readonly name = ErrorName.SweepTurnLost;
}

/** The root the org's vault lease lives under (see restore/lease.ts for its records). */
export const vaultLeaseRoot = (org: string): string => orgPrefix(org);

/**
 * The run id a sweep first claims the vault lease under. A run id claims once: its release is for
 * good. An invocation that finds its execution's claims released (Step Functions retried an
 * invocation whose answer was lost after it had given the lease back) claims again as
 * `<run id>~<n>`; `~` is a character no execution name holds.
 */
export const sweepLeaseRun = (execution: string): string => `${SWEEP_LEASE_PREFIX}${execution}`;
const RECLAIM = '~';

/** Which claim of the sweep `runId` is (0 for its first), or undefined when it is another run's. */
function sweepClaimNumber(execution: string, runId: string): number | undefined {
  const first = sweepLeaseRun(execution);
  if (runId === first) return 0;
  if (!runId.startsWith(`${first}${RECLAIM}`)) return undefined;
  const n = runId.slice(first.length + RECLAIM.length);
  return /^[1-9]\d{0,5}$/.test(n) ? Number(n) : undefined;
}

/**
 * Written by a failed sweep execution's release step: no invocation of it claims again. A late
 * invocation (one still running when the workflow gave up on it) would otherwise sweep unwatched
 * and, out of time, keep the lease for an hour after its execution had failed.
 */
const sweepEndedRun = (execution: string): string => `${sweepLeaseRun(execution)}${RECLAIM}ended`;

/**
 * The run id a sweep claims under when it holds no live claim: the first not yet released. An
 * execution claims under `<run id>~<n>` only once `~<n-1>` was released, so its released run ids
 * are always the first few: one request each, and one more.
 */
async function nextSweepRun(
  store: BackupStore,
  root: string,
  execution: string,
): Promise<string | undefined> {
  if (await hasReleased(store, root, sweepEndedRun(execution))) return undefined;
  for (let n = 0; ; n++) {
    const run = n === 0 ? sweepLeaseRun(execution) : `${sweepLeaseRun(execution)}${RECLAIM}${n}`;
    if (!(await hasReleased(store, root, run))) return run;
  }
}

/** The execution a sweep's or an erasure's run id names, without a re-claim's suffix. */
export const executionOfRun = (runId: string): string => {
  const prefix = [ERASURE_LEASE_PREFIX, SWEEP_LEASE_PREFIX].find((p) => runId.startsWith(p)) ?? '';
  return runId.slice(prefix.length).replace(/~\d+$/, '');
};

/** Heartbeats are written at most once per this much time: their expiry is rounded up to it. */
const HEARTBEAT_STEP_MS = 5 * 60_000;
const HOUR_MS = 60 * 60_000;

const backupsPrefix = (org: string) => `${orgPrefix(org)}${VAULT_LEASE_FOLDER}${BACKUP_HEARTBEATS_FOLDER}`;
const hourFolder = (org: string, ms: number) =>
  `${backupsPrefix(org)}${new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13)}/`;
const endedKey = (org: string, snapshotId: string) =>
  `${orgPrefix(org)}${VAULT_LEASE_FOLDER}${BACKUP_ENDED_FOLDER}${snapshotId}.json`;
const HEARTBEAT = /^(.+)-(\d{15})\.json$/;

/** Says that a backup run is still running, until an hour from `now`. Every backup step calls it. */
export async function backupHeartbeat(
  store: BackupStore,
  org: string,
  snapshotId: string,
  now: number,
  ttlMs = LEASE_TTL_MS,
): Promise<void> {
  const expiresAt = Math.ceil((now + ttlMs) / HEARTBEAT_STEP_MS) * HEARTBEAT_STEP_MS;
  await putIfAbsent(
    store,
    `${hourFolder(org, expiresAt)}${snapshotId}-${String(expiresAt).padStart(15, '0')}.json`,
    '{}',
  );
}

/** Says that a backup run ended without a catalog entry (refused, deferred or failed in its plan). */
export async function backupEnded(
  store: BackupStore,
  org: string,
  snapshotId: string,
  now: number,
): Promise<void> {
  await putIfAbsent(
    store,
    endedKey(org, snapshotId),
    JSON.stringify({ snapshotId, endedAt: new Date(now).toISOString() }),
  );
}

/**
 * A backup run with a live heartbeat, no catalog entry and no record of its end (its own, or the
 * log of a sweep that expired it complete), and until when its heartbeat holds.
 */
export interface RunningBackup {
  readonly snapshotId: string;
  readonly until: number;
}

/** The backups of the org that are running now, as their heartbeats and the catalog tell. */
export async function runningBackups(
  store: BackupStore,
  org: string,
  now: number,
  ttlMs = LEASE_TTL_MS,
): Promise<RunningBackup[]> {
  const until = new Map<string, number>();
  // A live heartbeat expires within the next TTL (plus its rounding): only those hours are listed.
  for (
    let hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    hour <= now + ttlMs + 2 * HEARTBEAT_STEP_MS;
    hour += HOUR_MS
  ) {
    const folder = hourFolder(org, hour);
    for await (const { key } of store.list(folder)) {
      const match = HEARTBEAT.exec(key.slice(folder.length));
      if (!match) continue;
      const expiresAt = Number(match[2]);
      // No step writes a heartbeat lasting longer than the TTL and its rounding (a step more is
      // left for clocks that differ), nor files it in another hour than its expiry's: such a key
      // holds nothing off.
      if (expiresAt <= now || expiresAt > now + ttlMs + 2 * HEARTBEAT_STEP_MS) continue;
      if (hourFolder(org, expiresAt) !== folder) continue;
      until.set(match[1]!, Math.max(expiresAt, until.get(match[1]!) ?? 0));
    }
  }
  const running: RunningBackup[] = [];
  for (const [snapshotId, at] of until) {
    if (await store.head(catalogKey(org, snapshotId))) continue;
    if (await store.head(endedKey(org, snapshotId))) continue;
    running.push({ snapshotId, until: at });
  }
  // A complete snapshot a sweep expired within the hour has a live heartbeat and no catalog entry
  // any more: the sweep's log named it before it removed the entry. Such a run ended (it wrote its
  // catalog entry); it is left out unless a heartbeat may have been written after the sweep began.
  // A failed or unfinished run a sweep expired may be running still, redriven: it counts. So does
  // one whose log cannot be read (an erasure then waits for its heartbeat to expire).
  const { expired } = await expiredInLogs(
    store,
    org,
    running.map((r) => r.snapshotId),
  );
  const ended = new Set(
    expired
      .filter((e) => e.state === 'complete' && (until.get(e.snapshotId) ?? Infinity) - ttlMs <= e.sweptAt)
      .map((e) => e.snapshotId),
  );
  return running
    .filter((r) => !ended.has(r.snapshotId))
    .sort((a, b) => a.snapshotId.localeCompare(b.snapshotId));
}

/** The erasure holding (or claiming) the org's vault lease, if any. */
export async function erasureHolding(
  store: BackupStore,
  org: string,
  now: number,
): Promise<LeaseHolder | undefined> {
  return (await liveClaims(store, vaultLeaseRoot(org), now)).find((c) =>
    c.runId.startsWith(ERASURE_LEASE_PREFIX),
  );
}

/**
 * How far an erasure's clock, by which it names its claim, may be behind the clock a step started
 * by (Lambda's clocks keep to a few milliseconds): a claim made up to this long before the step
 * began is taken as made during it.
 */
export const CLAIM_CLOCK_MARGIN_MS = 5_000;

/** The erasures that claimed the org's vault lease at or after `since` (less the clocks' margin). */
async function erasureClaimsSince(
  store: BackupStore,
  org: string,
  since: number,
): Promise<{ runId: string; claimedAt: number }[]> {
  return (await claimsMadeSince(store, vaultLeaseRoot(org), since - CLAIM_CLOCK_MARGIN_MS)).filter((c) =>
    c.runId.startsWith(ERASURE_LEASE_PREFIX),
  );
}

/**
 * The first erasure that claimed the org's vault lease at or after `since`, ended or not, if any;
 * the run ids in `except` aside.
 */
export async function erasureClaimedSince(
  store: BackupStore,
  org: string,
  since: number,
  except: ReadonlySet<string> = new Set(),
): Promise<{ runId: string; claimedAt: number } | undefined> {
  return (await erasureClaimsSince(store, org, since)).find((c) => !except.has(c.runId));
}

/**
 * A step that reads the org's backups and writes what it derives from them (a restore's dry run, a
 * diff report) takes no turn: were an erasure to rewrite the backups after the step read them, a
 * write landing after the erasure's last scan would keep the erased person, unseen. So the step
 * begins only when no erasure holds the org's vault lease (`begin`; an erasure that ended before
 * then rewrote what it reads), and each of its writes goes through this store, which first checks
 * that no erasure claimed the lease since the step began, and otherwise refuses with
 * `ErasureDuringStepError`. Clocks differ, so a claim up to `CLAIM_CLOCK_MARGIN_MS` before the
 * step began counts too, unless that erasure's release was there when the step began: it ended
 * before the step read anything. A write that passed the check lands long before that erasure's last
 * scan (which follows its plan and its rewrite of every snapshot), and so is found by it if it
 * names the person.
 */
export class WritesUnlessErased implements BackupStore {
  readonly location: string;

  private constructor(
    private readonly store: BackupStore,
    private readonly org: string,
    private readonly since: number,
    /** What the step is, for the refusal: e.g. `this dry run`. */
    private readonly step: string,
    /**
     * Erasures that claimed within the clocks' margin before the step began and had ended by then:
     * their release was there before the step read anything, so it read what they left.
     */
    private readonly endedBefore: ReadonlySet<string>,
  ) {
    this.location = store.location;
  }

  /**
   * For a step that began at `since` and found no erasure holding the org's vault lease then
   * (`begin` checks both). Reads the releases of the erasures that claimed within the clocks'
   * margin before `since`: call it before the step reads anything.
   */
  static async open(
    store: BackupStore,
    org: string,
    since: number,
    step: string,
  ): Promise<WritesUnlessErased> {
    const ended = new Set<string>();
    for (const claim of await erasureClaimsSince(store, org, since)) {
      if (await hasReleased(store, vaultLeaseRoot(org), claim.runId)) ended.add(claim.runId);
    }
    return new WritesUnlessErased(store, org, since, step, ended);
  }

  /** Begins a step now: refused, before it reads anything, while an erasure holds the org's vault lease. */
  static async begin(
    store: BackupStore,
    org: string,
    step: string,
    now: () => number = Date.now,
  ): Promise<WritesUnlessErased> {
    const since = now();
    const erasure = await erasureHolding(store, org, since);
    if (erasure) {
      const iso = (ms: number) => new Date(ms).toISOString();
      throw new ErasureDuringStepError(
        `An erasure is rewriting the backups of org ${org}: execution ${executionOfRun(erasure.runId)} of its erase workflow holds the org's vault lease since ${iso(erasure.claimedAt)}. What ${step} would read may hold the person it removes, so it read and wrote nothing. Start it again once that execution has ended; if it was stopped, its lease frees itself at ${iso(erasure.expiresAt)}.`,
      );
    }
    return WritesUnlessErased.open(store, org, since, step);
  }

  private async check(key: string): Promise<void> {
    const erasure = await erasureClaimedSince(this.store, this.org, this.since, this.endedBefore);
    if (!erasure) return;
    const ended = await hasReleased(this.store, vaultLeaseRoot(this.org), erasure.runId);
    throw new ErasureDuringStepError(
      `An erasure of org ${this.org} (execution ${executionOfRun(erasure.runId)} of its erase workflow, claimed at ${new Date(erasure.claimedAt).toISOString()}) began while ${this.step} read its backups: what it read may hold the person the erasure removes, so it did not write ${key} or anything after it. ${ended ? 'That execution has ended: start it again.' : 'Start it again once that execution has ended.'}`,
    );
  }

  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<StoredObject> {
    await this.check(key);
    return this.store.put(key, body, options);
  }

  async putStream(
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    options?: PutOptions,
  ): Promise<StoredObject> {
    await this.check(key);
    return this.store.putStream(key, body, options);
  }

  async putPointer(key: string, body: string, condition?: PointerCondition): Promise<StoredObject> {
    await this.check(key);
    return this.store.putPointer(key, body, condition);
  }

  get(key: string, options?: ReadOptions): Promise<Uint8Array> {
    return this.store.get(key, options);
  }

  getStream(key: string, options?: ReadOptions): Promise<Readable> {
    return this.store.getStream(key, options);
  }

  head(key: string): Promise<StoreEntry | undefined> {
    return this.store.head(key);
  }

  list(prefix: string, options?: ListOptions): AsyncIterable<StoreEntry> {
    return this.store.list(prefix, options);
  }

  listFolders(prefix: string): AsyncIterable<string> {
    return this.store.listFolders(prefix);
  }
}

/**
 * A backup's first step: leaves its first heartbeat, then refuses the run when an erasure holds the
 * org's vault lease (and records that the run ended, so that no erasure waits for it).
 */
export async function startBackupRun(
  store: BackupStore,
  org: string,
  snapshotId: string,
  now: number,
): Promise<void> {
  await backupHeartbeat(store, org, snapshotId, now);
  const erasure = await erasureHolding(store, org, now);
  if (!erasure) return;
  await backupEnded(store, org, snapshotId, now);
  const iso = (ms: number) => new Date(ms).toISOString();
  throw new BackupHeldByErasureError(
    `An erasure is rewriting the backups of org ${org}: execution ${erasure.runId.slice(ERASURE_LEASE_PREFIX.length)} of its erase workflow holds the org's vault lease since ${iso(erasure.claimedAt)}. A backup taken meanwhile would write the erased person back, so this run stopped before writing any snapshot object. The next scheduled backup runs as usual; to back up sooner, start this backup again once that execution has ended (if it was stopped, its lease frees itself at ${iso(erasure.expiresAt)}).`,
  );
}

/**
 * What a sweep's turn came to: it holds the lease (under `runId`, renewed `until`), or an erasure
 * or another sweep does.
 */
export type SweepTurn =
  | { readonly held: true; readonly runId: string; readonly until: number }
  | { readonly held: false; readonly heldBy: LeaseHolder };

/** How often a sweep that removes checks that it still holds its turn. */
export const SWEEP_TURN_CHECK_MS = 10_000;

/**
 * The remover of a sweep holding its turn under `runId` until `until`: before a removal, at most
 * every `SWEEP_TURN_CHECK_MS`, it checks that the turn is still the sweep's and stops the sweep
 * (`SweepTurnLostError`) when it was given back (its execution failed and its release step ran
 * while this invocation still did) or has lapsed; another run can take the lease only then, and
 * may be an erasure rewriting what the sweep would remove. One request a check, however long the
 * lease's history.
 */
export function whileHoldingTurn(
  store: BackupStore,
  org: string,
  turn: { readonly runId: string; readonly until: number },
  remover: RemovingStore,
  now: () => number,
): RemovingStore {
  const root = vaultLeaseRoot(org);
  let checkedAt = now();
  return {
    location: remover.location,
    async remove(key) {
      if (now() - checkedAt >= SWEEP_TURN_CHECK_MS) {
        const lapsed = now() >= turn.until;
        if (lapsed || (await hasReleased(store, root, turn.runId)))
          throw new SweepTurnLostError(
            `The sweep of org ${org} (${turn.runId}) no longer holds the org's vault lease (${lapsed ? 'it lapsed' : 'it was given back'}): it stopped before removing ${key}.`,
          );
        checkedAt = now();
      }
      await remover.remove(key);
    },
  };
}

/**
 * Takes (or keeps, for the next invocation of the same sweep) the org's vault lease for a sweep,
 * extending it by an hour; answers who holds it when another run does.
 */
export async function takeSweepTurn(
  store: BackupStore,
  org: string,
  execution: string,
  options: LeaseOptions = {},
): Promise<SweepTurn> {
  const root = vaultLeaseRoot(org);
  const now = options.now ?? Date.now;
  const holder = (await liveClaims(store, root, now()))[0];
  if (holder && sweepClaimNumber(execution, holder.runId) === undefined)
    return { held: false, heldBy: holder };
  const run = holder?.runId ?? (await nextSweepRun(store, root, execution));
  if (!run) throw ended(org, execution);
  try {
    await acquireLease(store, root, run, options);
  } catch (error) {
    if (!(error instanceof RestoreInProgressError)) throw error;
    const other = (await liveClaims(store, root, now())).find((c) => c.runId !== run);
    if (other) return { held: false, heldBy: other };
    throw new VaultLeaseUnavailableError(
      `The sweep of org ${org} could not take the org's vault lease: its claim could not be ordered against others (the vault was slow to record it), or another invocation of execution ${execution} gave it back meanwhile. Nothing was removed; the next sweep (daily, and after each successful backup) tries again.`,
    );
  }
  // Read after the claim, as the release step reads the claims after its record: of an invocation
  // and a release step running together, at least one sees the other.
  if (await hasReleased(store, root, sweepEndedRun(execution))) {
    await releaseLease(store, root, run, now);
    throw ended(org, execution);
  }
  const renewed = await renewLease(store, root, run, options);
  return { held: true, runId: run, until: renewed.expiresAt };
}

function ended(org: string, execution: string): VaultLeaseUnavailableError {
  return new VaultLeaseUnavailableError(
    `Execution ${execution} of the retention sweep of org ${org} has failed and given its turn back: this late invocation of it removed nothing. The next sweep (daily, and after each successful backup) does the work.`,
  );
}

/**
 * Gives back every live claim of a sweep on the org's vault lease; harmless when it holds none.
 * `failed` (the workflow's release step): first records that the execution ended, so that no late
 * invocation of it claims again.
 */
export async function endSweepTurn(
  store: BackupStore,
  org: string,
  execution: string,
  now: () => number = Date.now,
  failed = false,
): Promise<void> {
  const root = vaultLeaseRoot(org);
  if (failed) await releaseLease(store, root, sweepEndedRun(execution), now);
  for (const claim of await liveClaims(store, root, now()))
    if (sweepClaimNumber(execution, claim.runId) !== undefined)
      await releaseLease(store, root, claim.runId, now);
}
