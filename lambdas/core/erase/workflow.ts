/**
 * The erase workflow's steps over the core: start (parse, refuse what cannot be done, plan, write
 * the plan), erase (carry the plan out) and finish (scan, log, fail on a trace). Each takes and
 * answers keys and counts only, as a state machine passes them.
 */
import { RemovalLog, removedVersionsPrefix, versionsOf } from './removals.ts';
import {
  type BackupStore,
  ObjectExistsError,
  ObjectNotFoundError,
  type ObjectVersion,
  type VersionedStore,
} from '../store.ts';
import { liveClaims } from '../restore/lease.ts';
import { vaultLeaseRoot } from '../vault-lease.ts';
import {
  ErasureImpossibleError,
  ErasureMustWaitError,
  ErasureTraceFoundError,
  InvalidEraseRequestError,
} from './errors.ts';
import {
  type EraseProgress,
  type ErasureOutcome,
  earlierVersions,
  executeStep,
  removeEarlierVersions,
} from './execute.ts';
import { ERASURE_PROGRESS_FOLDER } from '../../../contract/workflow-contract.ts';
import {
  endErasureEntry,
  existingEntry,
  startedEntries,
  type ScanProgress,
  type ScanResult,
  scanStep,
  writeErasureLog,
  writeErasureStarted,
} from './finish.ts';
import { Copies } from './copies.ts';
import {
  catalogOrgIds,
  erasureLeaseRun,
  giveBack,
  holdRestoreLeases,
  releaseRestoreLeases,
  renewRestoreLeases,
} from './lease.ts';
import { ValueMatcher } from './values.ts';
import { erasuresPrefix, pastDeadline } from './find.ts';
import { parseEraseInput, refuseLockedVault } from './input.ts';
import type { EraseRequest } from './input.ts';
import {
  type ErasurePlan,
  type ErasureSummary,
  type PlanProgress,
  planKeyOf,
  planStep,
  requestFingerprint,
  sameRequest,
} from './plan.ts';

/** What the erase steps are given. */
export interface EraseDeps {
  readonly store: BackupStore;
  readonly versions: VersionedStore;
  readonly org: string;
  /** The vault's Object Lock mode, or undefined when it has none. */
  readonly lockMode?: string;
  readonly clock: () => Date;
  /**
   * When a step stops and answers `done: false`, keeping its progress in the vault for the next
   * invocation: a vault too large to plan, erase or scan in one Lambda invocation takes several.
   * @default - each step runs to its end
   */
  readonly deadline?: Date;
}

/** Where a step keeps its progress between invocations: `orgs/<org>/erasures/<execution>/progress/<step>.json`. */
export const progressKeyOf = (org: string, execution: string, step: 'plan' | 'erase' | 'scan'): string =>
  `${erasuresPrefix(org)}${execution}/${ERASURE_PROGRESS_FOLDER}${step}.json`;

/** A JSON record of the vault, or undefined where there is none (a dry run's progress may go any time). */
async function readIfAny<T>(deps: EraseDeps, key: string): Promise<T | undefined> {
  try {
    return JSON.parse(new TextDecoder().decode(await deps.store.get(key))) as T;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

async function writeProgress(deps: EraseDeps, key: string, progress: unknown): Promise<void> {
  await deps.versions.replace(key, JSON.stringify(progress), { contentType: 'application/json' });
}

/**
 * Removes every version of the execution's progress records: the plan's holds the digests of her
 * values (a dry run's too), which outlive neither the step nor the execution.
 */
async function forgetProgress(deps: EraseDeps, execution: string, by = execution): Promise<number> {
  const versions: ObjectVersion[] = [];
  for await (const version of progressVersions(deps, execution)) versions.push(version);
  const removals = RemovalLog.of(deps.store, deps.org, by);
  for (const key of new Set(versions.map((v) => v.key))) await removals.note(key, versionsOf(versions, key));
  for (const { key, versionId } of versions) await deps.versions.deleteVersion(key, versionId);
  return versions.length;
}

/** Every version of the execution's progress records. */
async function* progressVersions(deps: EraseDeps, execution: string): AsyncIterable<ObjectVersion> {
  for (const step of ['plan', 'erase', 'scan'] as const) {
    const key = progressKeyOf(deps.org, execution, step);
    for await (const version of deps.versions.listVersions(key)) if (version.key === key) yield version;
  }
}

const timeOf = (deps: EraseDeps) => ({
  clock: deps.clock,
  ...(deps.deadline ? { deadline: deps.deadline } : {}),
});

/** The start step's answer: where the plan is, and its counts. */
export interface EraseStarted extends ErasureSummary {
  readonly done: true;
  readonly mode: 'dry-run' | 'erase';
  readonly planKey: string;
  readonly execution: string;
  /** The org ids the org's snapshots record, 18 characters: a real run's `confirmOrgId` is one of them. */
  readonly orgIds: readonly string[];
}

/** The start step's answer when its time ran out before the plan was made: run it again. */
export interface EraseStillPlanning {
  readonly done: false;
  readonly mode: 'dry-run' | 'erase';
  readonly planKey: string;
  readonly execution: string;
}

const EXECUTION = /^[A-Za-z0-9_-]{1,80}$/;
/** The erasure log's folder beside the executions' folders: no execution may be named so. */
const LOG_FOLDER_NAME = 'log';

/** A plan's progress, and the org id the invocations that made it confirmed (a real run's). */
type ConfirmedProgress = PlanProgress & { readonly confirmedOrgId?: string };

/** Parses the input, refuses a locked vault or a wrong org id, plans and writes the plan. */
export async function startErasure(
  deps: EraseDeps,
  input: unknown,
  execution: string,
): Promise<EraseStarted | EraseStillPlanning> {
  refuseLockedVault(deps.lockMode);
  const request = parseEraseInput(input);
  if (!EXECUTION.test(execution) || execution === LOG_FOLDER_NAME) {
    throw new InvalidEraseRequestError([
      {
        field: '(execution)',
        problem: `the execution name "${execution.slice(0, 90)}" cannot name a vault folder${execution === LOG_FOLDER_NAME ? " (it is the erasure log's)" : ''}.`,
        fix: 'start the execution with a name of letters, digits, "-" and "_" (at most 80), other than "log", or let the console name it.',
      },
    ]);
  }
  // Read once an invocation, when needed: for the confirmation, the leases, and the answer once planned.
  let catalogIds: Promise<string[]> | undefined;
  const orgIds = () => {
    catalogIds ??= catalogOrgIds(deps.store, deps.org);
    return catalogIds;
  };
  const progressKey = progressKeyOf(deps.org, execution, 'plan');
  const progress = await readIfAny<ConfirmedProgress>(deps, progressKey);
  // Checked once: the invocation that wrote the progress confirmed the same org id.
  if (request.confirmOrgId !== undefined && progress?.confirmedOrgId !== request.confirmOrgId) {
    const known = new Set(await orgIds());
    if (!known.has(request.confirmOrgId)) {
      throw new InvalidEraseRequestError([
        {
          field: 'confirmOrgId',
          problem: `${request.confirmOrgId} is not the id of the org whose backups this workflow erases from${known.size > 0 ? ` (${[...known].join(', ')})` : ''}.`,
          fix: "copy the org id from the org's Setup > Company Information, and run the erase workflow of that org.",
        },
      ]);
    }
  }
  if (progress) refuseOtherRequest(progress, request, progressKey);
  try {
    // A real run holds the org's restore leases from before its plan to its end (lease.ts): its
    // first invocation takes them (a retried one finds its own), a later one of a long plan renews them.
    if (request.mode === 'erase') {
      if (progress)
        await renewRestoreLeases(deps.store, deps.org, execution, { lazily: true, catalogOrgIds: orgIds });
      else await holdRestoreLeases(deps.store, deps.org, execution, orgIds);
    }
    const planKey = planKeyOf(deps.org, execution);
    if (await deps.store.head(planKey)) return await storedStart(deps, planKey, request, execution, orgIds);
    return await planOnce(deps, request, execution, progress, orgIds);
  } catch (error) {
    // An erasure waiting for a backup that began before its claim keeps the org (lease.ts).
    const waitsHolding = error instanceof ErasureMustWaitError && error.holdsOrg;
    if (request.mode === 'erase' && !waitsHolding) await giveBack(deps.store, deps.org, execution);
    // A refusal (a lease lost between two invocations included) ends the execution without its
    // release state: the digests go here.
    await forgetProgress(deps, execution).catch(() => undefined);
    throw error;
  }
}

/**
 * Plans (from the progress of earlier invocations) and writes the plan, or the progress when its
 * time ran out; a retried step finds its plan and answers it, if made for this request.
 */
async function planOnce(
  deps: EraseDeps,
  request: EraseRequest,
  execution: string,
  progress: PlanProgress | undefined,
  orgIds: () => Promise<string[]>,
): Promise<EraseStarted | EraseStillPlanning> {
  const planKey = planKeyOf(deps.org, execution);
  const step = await planStep(
    deps.versions,
    deps.org,
    request,
    { execution, now: deps.clock() },
    { bypassGovernance: deps.lockMode === 'GOVERNANCE' },
    progress,
    timeOf(deps),
  );
  if (!step.done) {
    const confirmed: ConfirmedProgress = {
      ...step.progress,
      ...(request.confirmOrgId !== undefined ? { confirmedOrgId: request.confirmOrgId } : {}),
    };
    await writeProgress(deps, progressKeyOf(deps.org, execution, 'plan'), confirmed);
    return { done: false, mode: request.mode, planKey, execution };
  }
  const { plan } = step;
  // Read before the plan is written: a catalog that cannot be read fails the step leaving no plan.
  const ids = await orgIds();
  try {
    await deps.store.put(planKey, `${JSON.stringify(plan, null, 1)}\n`, { contentType: 'application/json' });
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
    return storedStart(deps, planKey, request, execution, orgIds);
  }
  await forgetProgress(deps, execution);
  return { done: true, mode: request.mode, planKey, execution, ...plan.summary, orgIds: ids };
}

/**
 * Gives the execution's restore leases back, when it ends otherwise than by its finish, then says
 * in the erasure log that it failed, and with which error (by name), when its erase step had begun.
 */
export async function releaseErasure(
  deps: EraseDeps,
  execution: string,
  error?: string,
): Promise<{ released: true }> {
  if (!EXECUTION.test(execution)) return { released: true };
  await releaseRestoreLeases(deps.store, deps.org, execution);
  await forgetProgress(deps, execution);
  const found = await existingEntry(deps.store, deps.org, execution);
  if (found) {
    await endErasureEntry(deps.versions, found, {
      status: 'failed',
      failedAt: deps.clock().toISOString(),
      error: error !== undefined && ERROR_NAME.test(error) ? error : 'unknown',
    });
  }
  return { released: true };
}

/** An error's name as Step Functions gives it (`ErasureImpossibleError`, `Sandbox.Timedout`): never a message. */
const ERROR_NAME = /^[A-Za-z][\w.-]{0,99}$/;

/** The start step's answer from a plan already written for this execution. */
async function storedStart(
  deps: EraseDeps,
  planKey: string,
  request: EraseRequest,
  execution: string,
  orgIds: () => Promise<string[]>,
): Promise<EraseStarted> {
  const plan = await readPlan(deps, planKey);
  refuseOtherRequest(plan, request, planKey);
  refuseForgottenPlan(plan, planKey);
  await forgetProgress(deps, execution);
  return { done: true, mode: plan.mode, planKey, execution, ...plan.summary, orgIds: await orgIds() };
}

/** Refuses a plan (or one in the making) not made for this request (another request, or no fingerprint at all). */
function refuseOtherRequest(
  plan: Pick<ErasurePlan, 'request'>,
  request: EraseRequest,
  planKey: string,
): void {
  if (sameRequest(plan.request, requestFingerprint(request))) return;
  throw new InvalidEraseRequestError([
    {
      field: '(execution)',
      problem: `the plan ${planKey} was not made for this request (its mode, ids, object, filter or requester differ, or it names no request); nothing was erased.`,
      fix: 'start a new execution, with a name no earlier execution used, so that a fresh plan is made.',
    },
  ]);
}

/**
 * Refuses a real run's plan that no longer holds the digests of her values: its execution's finish
 * forgot them, or a later erasure's finish did after this execution stopped. Carried out without
 * them, the erasure would blank no copy of her values and its scan would look for none.
 */
function refuseForgottenPlan(plan: ErasurePlan, planKey: string): void {
  if (plan.mode !== 'erase' || plan.values !== undefined) return;
  throw new ErasureImpossibleError(
    `The plan ${planKey} no longer holds the digests of her values (its execution was stopped or failed, and a later erasure of the org forgot them at its end). Nothing more was written. Start a new erase execution with the same request.`,
  );
}

/** Carries out the plan the start step wrote, once it is sure the plan was made for this request. */
export async function eraseFromPlan(
  deps: EraseDeps,
  input: unknown,
  planKey: string,
): Promise<ErasureOutcome & { readonly done: boolean }> {
  const plan = await readPlan(deps, planKey);
  const request = parseEraseInput(input);
  refuseOtherRequest(plan, request, planKey);
  if (plan.mode !== 'erase') {
    throw new InvalidEraseRequestError([
      {
        field: 'mode',
        problem: 'the plan is a dry run: nothing is erased.',
        fix: 'start an execution with mode "erase".',
      },
    ]);
  }
  refuseForgottenPlan(plan, planKey);
  await renewRestoreLeases(deps.store, deps.org, plan.execution, { lazily: true });
  // The log says an erasure began before any version is removed; the finish completes it.
  await writeErasureStarted(deps.store, {
    formatVersion: plan.formatVersion,
    org: deps.org,
    execution: plan.execution,
    status: 'started',
    startedAt: deps.clock().toISOString(),
    requestedBy: request.requestedBy,
    ids: plan.ids,
  });
  const progressKey = progressKeyOf(deps.org, plan.execution, 'erase');
  const progress = await readIfAny<EraseProgress | { done: true; outcome: ErasureOutcome }>(
    deps,
    progressKey,
  );
  // A step run again after its end answers what it did then (the finish logs it), not a re-run's zeros.
  if (progress && 'done' in progress) return { done: true, ...progress.outcome };
  const step = await executeStep(
    {
      store: deps.store,
      versions: deps.versions,
      removals: RemovalLog.of(deps.store, deps.org, plan.execution),
    },
    plan,
    progress,
    timeOf(deps),
  );
  await writeProgress(deps, progressKey, step.done ? { done: true, outcome: step.outcome } : step.progress);
  return step.done ? { done: true, ...step.outcome } : { done: false, ...step.progress.counts };
}

/** The finish step's answer. */
export interface EraseFinished {
  readonly done: true;
  readonly logKey: string;
  readonly versionsScanned: number;
  readonly traces: number;
  /**
   * Other executions of the org whose plan or progress may still hold digests of her values, which
   * this finish could not forget (the next erasure's finish tries again); the first 20. Absent
   * when there is none.
   */
  readonly digestsLeftIn?: readonly string[];
  /**
   * True when this finish looked at no other execution: it no longer held the org (run again
   * after its leases lapsed). The next erasure's finish forgets what they left.
   */
  readonly digestsNotChecked?: true;
  /**
   * Where the execution listed every version it removed, by key and version id: a replica of the
   * vault holds them under the same ids (replication never carries a removal), to be removed there
   * (`sfbackup erase-replica`, replica.ts).
   */
  readonly removedVersionsListedIn: string;
}

/** The finish step's answer when its time ran out before the scan's end: run it again. */
export interface EraseStillScanning {
  readonly done: false;
  readonly versionsScanned: number;
}

/**
 * Scans every version under the org's prefix for the erased ids and the filter's values, writes
 * the erasure log with the result, and fails with `ErasureTraceFoundError` when something remains.
 */
export async function finishErasure(
  deps: EraseDeps,
  input: unknown,
  planKey: string,
  outcome: ErasureOutcome,
): Promise<EraseFinished | EraseStillScanning> {
  const request = parseEraseInput(input);
  const plan = await readPlan(deps, planKey);
  refuseOtherRequest(plan, request, planKey);
  // A finish run again after its log was written answers what that log says: the plan no longer
  // holds the digests a second scan would need.
  const logged = await existingEntry(deps.store, deps.org, plan.execution);
  if (logged?.entry.status === 'complete') {
    // A finish stopped after its log: the digests may still be there to forget.
    await forgetValues(deps, planKey, plan);
    await forgetProgress(deps, plan.execution);
    // Still the org's holder (a retry, not a redrive after its leases lapsed): for a whole invocation.
    await renewRestoreLeases(deps.store, deps.org, plan.execution, { lazily: true }).catch(() => undefined);
    const others = await forgetStoppedExecutions(deps, plan.execution);
    if (others.outOfTime) return { done: false, versionsScanned: logged.entry.scan.versionsScanned };
    await releaseRestoreLeases(deps.store, deps.org, plan.execution);
    return finished(deps.org, plan.execution, logged.key, logged.entry.scan, others);
  }
  refuseForgottenPlan(plan, planKey);
  // A scan too long for one invocation renews the leases as it goes.
  await renewRestoreLeases(deps.store, deps.org, plan.execution, { lazily: true });
  const copies = new Copies(
    new ValueMatcher(plan.values ?? { key: '', digests: [], nameWords: [] }),
    new Set(plan.keepCopiesIn ?? []),
  );
  const progressKey = progressKeyOf(deps.org, plan.execution, 'scan');
  const step = await scanStep(
    deps.versions,
    deps.org,
    plan.ids,
    Object.values(request.where ?? {}),
    copies,
    await readIfAny<ScanProgress>(deps, progressKey),
    timeOf(deps),
  );
  if (!step.done) {
    await writeProgress(deps, progressKey, step.progress);
    return { done: false, versionsScanned: step.progress.versionsScanned };
  }
  const scan = step.result;
  const logKey = await writeErasureLog(deps.store, deps.versions, {
    formatVersion: plan.formatVersion,
    org: deps.org,
    execution: plan.execution,
    status: 'complete',
    erasedAt: deps.clock().toISOString(),
    requestedBy: request.requestedBy,
    ...(request.reason !== undefined ? { reason: request.reason } : {}),
    ids: plan.ids,
    objects: plan.objectOf,
    ...(plan.filterFields ? { filterFields: plan.filterFields } : {}),
    plan: plan.summary,
    outcome,
    scan,
  });
  await forgetValues(deps, planKey, plan);
  await forgetProgress(deps, plan.execution);
  // The other executions' digests, with the time left; the step run again does the rest.
  const others = pastDeadline(timeOf(deps))
    ? { left: [], notChecked: false, outOfTime: true }
    : await forgetStoppedExecutions(deps, plan.execution);
  if (others.outOfTime) return { done: false, versionsScanned: scan.versionsScanned };
  await releaseRestoreLeases(deps.store, deps.org, plan.execution);
  return finished(deps.org, plan.execution, logKey, scan, others);
}

/**
 * The plan without her values' digests and their key, and no earlier version of it: once the
 * last scan has run, the plan lets no one test a guess of her phone numbers or name (a filter's
 * SHA-256, `request.filterSha256`, stays: it identifies the request). Run again, it removes the
 * earlier versions a stopped run left.
 */
async function forgetValues(
  deps: EraseDeps,
  planKey: string,
  plan: ErasurePlan,
  by = plan.execution,
): Promise<boolean> {
  if (plan.values !== undefined) {
    const { values: _, ...rest } = plan;
    await deps.versions.replace(planKey, `${JSON.stringify(rest, null, 1)}\n`, {
      contentType: 'application/json',
    });
  }
  return (
    (await removeEarlierVersions(deps.versions, planKey, RemovalLog.of(deps.store, deps.org, by))) > 0 ||
    plan.values !== undefined
  );
}

/** What a finish did about the digests other executions left. */
interface OthersForgotten {
  /** Executions whose plan or progress it could not forget (a lock on an old version, a bad read). */
  readonly left: readonly string[];
  /** True when it looked at none: it no longer held the org (a finish redriven after its leases lapsed). */
  readonly notChecked: boolean;
  /** True when its time ran out first: the step is run again. */
  readonly outOfTime: boolean;
}

async function any<T>(items: AsyncIterable<T>): Promise<boolean> {
  for await (const _ of items) return true;
  return false;
}

/** How long this execution must still hold the org to forget others': longer than an invocation. */
const OTHERS_LEASE_MARGIN_MS = 20 * 60_000;

/**
 * The digests of her values that other executions of the org left behind: a real erasure that
 * failed keeps them in its plan, one stopped from the console in its plan and its progress. Done
 * only while this execution holds the org's vault lease for longer than an invocation lasts, and
 * never for an execution whose lease is live: the others cannot go on (a stopped one could claim
 * again only once this one gave the org back, and its plan, once forgotten, is refused). Their
 * plans keep their ids and counts; each plan's earlier versions go too. A log entry of theirs still
 * `started` is marked `unfinished`, naming this execution.
 */
async function forgetStoppedExecutions(deps: EraseDeps, execution: string): Promise<OthersForgotten> {
  const live = await liveClaims(deps.store, vaultLeaseRoot(deps.org), Date.now());
  const own = live.find((c) => c.runId === erasureLeaseRun(execution));
  if (!own || own.expiresAt - Date.now() < OTHERS_LEASE_MARGIN_MS)
    return { left: [], notChecked: true, outOfTime: false };
  const running = new Set(live.map((c) => c.runId));
  const left = new Set<string>();
  // Their log entries first, which say they ended before their finish. One that cannot be read or
  // written stays `started`, for the next finish to try again: it never fails this one.
  const started = await startedEntries(deps.store, deps.org, execution).catch(() => new Map());
  for (const [name, found] of started) {
    if (running.has(erasureLeaseRun(name))) continue;
    await endErasureEntry(deps.versions, found, {
      status: 'unfinished',
      noticedBy: execution,
      noticedAt: deps.clock().toISOString(),
    }).catch(() => undefined);
  }
  const names: string[] = [];
  for await (const name of deps.store.listFolders(erasuresPrefix(deps.org))) {
    if (name !== execution && name !== LOG_FOLDER_NAME && EXECUTION.test(name)) names.push(name);
  }
  // Time is checked only once something was forgotten: an invocation short of time still does one
  // execution's work, passing over the ones already forgotten, so that steps run again end.
  let forgotten = 0;
  for (const name of names) {
    if (running.has(erasureLeaseRun(name))) continue;
    const late = forgotten > 0 && pastDeadline(timeOf(deps));
    const planKey = planKeyOf(deps.org, name);
    // Each on its own: a lock on an old plan version leaves its progress to be forgotten still.
    try {
      const plan = await readIfAny<ErasurePlan>(deps, planKey);
      if (late && (plan?.values !== undefined || (await any(earlierVersions(deps.versions, planKey)))))
        return { left: [...left], notChecked: false, outOfTime: true };
      if (plan && (await forgetValues(deps, planKey, plan, execution))) forgotten++;
    } catch {
      left.add(name);
    }
    try {
      if (late && (await any(progressVersions(deps, name))))
        return { left: [...left], notChecked: false, outOfTime: true };
      if ((await forgetProgress(deps, name, execution)) > 0) forgotten++;
    } catch {
      left.add(name);
    }
  }
  return { left: [...left], notChecked: false, outOfTime: false };
}

/** The finish step's answer, failing with `ErasureTraceFoundError` when the scan found a trace. */
function finished(
  org: string,
  execution: string,
  logKey: string,
  scan: ScanResult,
  others: OthersForgotten,
): EraseFinished {
  if (scan.traceCount > 0) {
    throw new ErasureTraceFoundError(
      `After the erasure, ${scan.traceCount} stored version(s) of org ${org}'s records still hold an erased id, the filter's value or a copy of her values (first: ${scan.traces
        .slice(0, 5)
        .map((t) => `${t.key} version ${t.versionId} (${t.what})`)
        .join(
          '; ',
        )}). The erasure log ${logKey} lists them. Run the erasure again; if they remain, remove them by hand with the break-glass role. The versions removed so far are listed under ${removedVersionsPrefix(org, execution)} (and those of earlier executions under ${erasuresPrefix(org)}*/removed/), to be removed in a replica of the vault too (sfbackup erase-replica).`,
    );
  }
  return {
    done: true,
    logKey,
    versionsScanned: scan.versionsScanned,
    traces: 0,
    ...(others.left.length > 0 ? { digestsLeftIn: others.left.slice(0, 20) } : {}),
    ...(others.notChecked ? { digestsNotChecked: true } : {}),
    removedVersionsListedIn: removedVersionsPrefix(org, execution),
  };
}

async function readPlan(deps: EraseDeps, planKey: string): Promise<ErasurePlan> {
  if (!planKey.startsWith(erasuresPrefix(deps.org)) || !planKey.endsWith('/plan.json')) {
    throw new InvalidEraseRequestError([
      {
        field: 'planKey',
        problem: `${planKey} is not an erasure plan of org ${deps.org}.`,
        fix: "pass the start step's planKey.",
      },
    ]);
  }
  return JSON.parse(new TextDecoder().decode(await deps.store.get(planKey))) as ErasurePlan;
}
