/**
 * An erasure holds the org's leases while it rewrites:
 *
 * - its restore leases: a restore writes the records an erasure rewrites (its id map, its intents,
 *   its report), and may write the person into the org and so into them. The erasure waits while
 *   a restore holds a lease; a restore started during the erasure is refused by the lease the
 *   erasure holds (see restore/lease.ts), or by its vault lease (restore/workflow.ts);
 * - the org's vault lease (vault-lease.ts): a retention sweep removes the snapshots an erasure
 *   rewrites, so one waits for the other; and a backup running during an erasure would write the
 *   person into a snapshot the erasure never planned, so the erasure waits while one runs, and a
 *   backup started during it is refused at its plan.
 */
import { canonicalOrgId } from '../../../contract/org-id.ts';
import {
  ERASURE_LEASE_PREFIX,
  ERASURE_WAIT,
  restorePrefixOf,
  SWEEP_LEASE_PREFIX,
} from '../../../contract/workflow-contract.ts';
import {
  acquireLease,
  hasClaimed,
  hasReleased,
  holdsLiveClaim,
  type LeaseHolder,
  liveClaims,
  releaseLease,
  renewLease,
} from '../restore/lease.ts';
import { describeRoot, restoreRoot } from '../restore/keys.ts';
import { RestoreInProgressError, RestoreLeaseLostError } from '../restore/errors.ts';
import { SnapshotReader } from '../snapshot/reader.ts';
import { checkOrgKey } from '../snapshot/keys.ts';
import type { BackupStore } from '../store.ts';
import { executionOfRun, type RunningBackup, runningBackups, vaultLeaseRoot } from '../vault-lease.ts';
import { ErasureImpossibleError, ErasureMustWaitError } from './errors.ts';

/** The run id an erasure holds the restore leases under. */
export const erasureLeaseRun = (execution: string): string => `${ERASURE_LEASE_PREFIX}${execution}`;

const ORG_ID_FOLDER = /^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/;

/**
 * Every lease root an erasure of the configured org holds: the org's vault lease, and one restore
 * root per Salesforce org its restores wrote into (the org itself, a drill's sandbox) and the
 * org's own, whose id its snapshots name.
 */
async function leaseRoots(store: BackupStore, org: string, orgIds?: CatalogOrgIds): Promise<string[]> {
  return [vaultLeaseRoot(org), ...(await restoreRoots(store, org, orgIds))];
}

/** The catalog's org ids as a step already reads them (once an invocation), to share. */
export type CatalogOrgIds = () => Promise<string[]>;

/** The Salesforce org ids the org's catalog entries record, 18 characters, sorted. */
export async function catalogOrgIds(store: BackupStore, org: string): Promise<string[]> {
  const orgIds = new Set<string>();
  for (const entry of await new SnapshotReader(store).catalog(org)) {
    const id = canonicalOrgId(entry.orgId);
    if (id) orgIds.add(id);
  }
  return [...orgIds].sort();
}

async function restoreRoots(store: BackupStore, org: string, known?: CatalogOrgIds): Promise<string[]> {
  const orgIds = new Set(await (known ? known() : catalogOrgIds(store, org)));
  for (const root of await listedRestoreRoots(store, org)) orgIds.add(root.orgId);
  return [...orgIds].sort().map((id) => restoreRoot(org, id));
}

/** The restore roots under `restores/<org>/`: one per Salesforce org a restore of the org wrote into. */
async function listedRestoreRoots(
  store: BackupStore,
  org: string,
): Promise<{ orgId: string; root: string }[]> {
  const orgIds = new Set<string>();
  const prefix = restorePrefixOf(checkOrgKey(org));
  for await (const { key } of store.list(prefix)) {
    const folder = key.slice(prefix.length).split('/')[0] ?? '';
    if (ORG_ID_FOLDER.test(folder)) orgIds.add(folder);
  }
  return [...orgIds].sort().map((orgId) => ({ orgId, root: restoreRoot(org, orgId) }));
}

/**
 * Takes the org's vault lease and every restore lease of the org for the erasure, then checks that
 * no backup of the org is running. An erasure that finds the org busy before it claimed anything
 * waits its turn (`ErasureMustWaitError`: the workflow tries again). Once it has claimed, a backup
 * that began before the claim is waited for with the leases kept (no backup starts meanwhile, so
 * the erasure's turn comes when it ends), renewed at each try; any other run found in the way
 * then makes it give back what it took and refuse, naming that run. Taking them again (a retried
 * step) keeps them.
 */
export async function holdRestoreLeases(
  store: BackupStore,
  org: string,
  execution: string,
  orgIds?: CatalogOrgIds,
): Promise<void> {
  const run = erasureLeaseRun(execution);
  const roots = await leaseRoots(store, org, orgIds);
  try {
    // Checked before any claim of its own: another run holding a lease, or a backup running, is
    // waited for. A step tried again may hold some leases already (it waits for a backup that
    // began before its claim, or an earlier try's answer was lost): another run holding a lease
    // then makes it refuse (they are given back below, and a run that gave its leases back
    // cannot claim them again); a backup running, wait on.
    const live = await Promise.all(roots.map(async (root) => liveClaims(store, root, Date.now())));
    const claimedBefore = live.some((claims) => claims.some((c) => c.runId === run));
    for (const [i, root] of roots.entries()) {
      const holder = live[i]![0];
      if (holder && holder.runId !== run) throw held(root, holder, !claimedBefore);
    }
    // A step tried again while it waits for a backup holds the org already: it keeps it alive.
    if (claimedBefore)
      await renewRestoreLeases(store, org, execution, { lazily: true, catalogOrgIds: orgIds });
    await waitForRunningBackups(store, org, claimedBefore);
    for (const root of roots) await acquireLease(store, root, run);
    // Again once the lease is taken: a backup planned from now on sees it (vault-lease.ts), one
    // planned before has left its heartbeat. So with a restore into an org none of the org's
    // restores wrote into before: one validated from now on sees the vault lease
    // (restore/workflow.ts), one validated before has written its claim under a new root.
    // A restore found so ends the erasure: looked for before a backup is waited for.
    for (const { root } of await listedRestoreRoots(store, org)) {
      if (roots.includes(root)) continue;
      const holder = (await liveClaims(store, root, Date.now()))[0];
      if (holder && holder.runId !== run) throw held(root, holder, false);
    }
    await waitForRunningBackups(store, org, true);
  } catch (error) {
    if (error instanceof ErasureMustWaitError && error.holdsOrg) throw error;
    await giveBack(store, org, execution);
    if (!(error instanceof RestoreInProgressError)) throw error;
    // Another run claimed a lease between the check and the claim: name it when it still holds.
    for (const root of roots) {
      const holder = (await liveClaims(store, root, Date.now())).find((c) => c.runId !== run);
      if (holder) throw held(root, holder, false);
    }
    throw new ErasureImpossibleError(
      `The erasure could not take the leases of org ${org} (another run took one as it did, or this execution gave its leases back already); nothing was erased. Start a new erase execution once the org's restores have ended.`,
    );
  }
}

/**
 * Gives the leases back on the way to failing, keeping the failure's own error: a release that
 * fails too leaves the leases to expire by themselves, an hour after their last renewal.
 */
export async function giveBack(store: BackupStore, org: string, execution: string): Promise<void> {
  const run = erasureLeaseRun(execution);
  try {
    // Only where it holds a claim: a refusal before any claim writes nothing.
    for (const root of await leaseRoots(store, org)) {
      if (await holdsLiveClaim(store, root, run, Date.now())) await releaseLease(store, root, run);
    }
  } catch {
    // The original error is the one to report.
  }
}

/** What a waiting erasure's message adds: the workflow tries again (lib/erase-workflow.ts, handlers/erase). */
const WAITS = `The erase workflow tries again every ${ERASURE_WAIT.intervalSeconds / 60} minutes for ${ERASURE_WAIT.forSeconds / 3600} hours from its start, then fails with this message; stop the execution to give up.`;

/**
 * The refusal naming the run that holds a lease, and when the lease frees itself: a wait when the
 * erasure has claimed nothing yet, else the end of the execution.
 */
function held(root: string, holder: LeaseHolder, canWait: boolean): Error {
  const iso = (ms: number) => new Date(ms).toISOString();
  const [who, why] = holder.runId.startsWith(ERASURE_LEASE_PREFIX)
    ? ['Another erasure', 'Erasures of one org run one at a time']
    : holder.runId.startsWith(SWEEP_LEASE_PREFIX)
      ? ['A retention sweep', 'A sweep removes the snapshots an erasure rewrites']
      : ['A restore', 'An erasure rewrites the records a restore writes'];
  const execution = executionOfRun(holder.runId);
  const what = `${who} holds the lease of ${describeRoot(root)}: execution ${execution}, since ${iso(holder.claimedAt)}. ${why}: nothing was erased.`;
  return canWait
    ? new ErasureMustWaitError(
        `${what} ${WAITS} If that execution was stopped, its lease frees itself at ${iso(holder.expiresAt)}.`,
      )
    : new ErasureImpossibleError(
        `${what} Start the erasure again once that execution has ended; if it was stopped, its lease frees itself at ${iso(holder.expiresAt)}.`,
      );
}

/** Waits, naming them, while backups of the org are running; `holding` once the erasure holds the org. */
async function waitForRunningBackups(store: BackupStore, org: string, holding: boolean): Promise<void> {
  const running = await runningBackups(store, org, Date.now());
  if (running.length > 0) throw backupsRunning(org, running, holding);
}

/** The wait naming the backups of the org that are running. */
function backupsRunning(
  org: string,
  running: readonly RunningBackup[],
  holding: boolean,
): ErasureMustWaitError {
  const iso = (ms: number) => new Date(ms).toISOString();
  const runs = running.map((r) => `${r.snapshotId} (until ${iso(r.until)} at the latest)`).join(', ');
  const which =
    running.length === 1
      ? `A backup of org ${org} is running: snapshot`
      : `${running.length} backups of org ${org} are running: snapshots`;
  const what = `${which} ${runs}. A backup writes the person into a snapshot this erasure cannot plan, so nothing was erased.`;
  const stopped = 'A backup that was stopped holds the org no longer than the time given.';
  const began = running.length === 1 ? 'It began' : 'They began';
  return holding
    ? new ErasureMustWaitError(
        `${what} ${began} before this erasure took the org, which the erasure keeps while it waits: backups, sweeps, restores (dry runs included) and diff reports of the org that start from now are refused until the erasure ends. ${WAITS} ${stopped} A stopped erasure keeps the org until its leases expire, an hour after their last renewal at the latest.`,
        true,
      )
    : new ErasureMustWaitError(`${what} ${WAITS} ${stopped}`);
}

/**
 * Extends the erasure's leases before it plans on, rewrites or scans; fails when one was lost.
 * `lazily`, only the leases with less than `RENEW_WITHIN_MS` left.
 */
export async function renewRestoreLeases(
  store: BackupStore,
  org: string,
  execution: string,
  options: { readonly lazily?: boolean; readonly catalogOrgIds?: CatalogOrgIds } = {},
): Promise<void> {
  const run = erasureLeaseRun(execution);
  for (const root of await leaseRoots(store, org, options.catalogOrgIds)) {
    const holder = (await liveClaims(store, root, Date.now()))[0];
    // A root that appeared since the erasure took its leases (a restore into a new org, refused
    // because the erasure holds the vault lease, still leaves its request there): nothing to
    // renew, unless a run holds it, which would be writing beside the erasure. A lease the erasure
    // held and lost (given back, or expired) is refused below, as the renewal finds it; only then
    // are all the root's claims read.
    if (
      holder?.runId !== run &&
      !(await hasReleased(store, root, run)) &&
      !(await hasClaimed(store, root, run))
    ) {
      if (holder) throw held(root, holder, false);
      continue;
    }
    if (options.lazily && holder?.runId === run && holder.expiresAt - Date.now() > RENEW_WITHIN_MS) continue;
    try {
      await renewLease(store, root, run);
    } catch (error) {
      if (!(error instanceof RestoreLeaseLostError)) throw error;
      throw new ErasureImpossibleError(
        `The erasure no longer holds a lease of its org (${error.message}). Nothing more was rewritten; start a new erase execution with the same request.`,
      );
    }
  }
}

/**
 * A lazy renewal renews a lease with less than this left: at most one renewal record every 15
 * minutes, however often a step runs again, and at least 30 minutes left after an invocation.
 */
const RENEW_WITHIN_MS = 45 * 60_000;

/** Gives the erasure's leases back; harmless when it holds none. */
export async function releaseRestoreLeases(
  store: BackupStore,
  org: string,
  execution: string,
): Promise<void> {
  const run = erasureLeaseRun(execution);
  for (const root of await leaseRoots(store, org)) await releaseLease(store, root, run);
}
