/**
 * The erase workflow's steps over the core: start (parse, refuse what cannot be done, plan, write
 * the plan), erase (carry the plan out) and finish (scan, log, fail on a trace). Each takes and
 * answers keys and counts only, as a state machine passes them.
 */
import { canonicalOrgId } from '../../../contract/org-id.ts';
import { SnapshotReader } from '../snapshot/reader.ts';
import { type BackupStore, ObjectExistsError, type VersionedStore } from '../store.ts';
import { ErasureTraceFoundError, InvalidEraseRequestError } from './errors.ts';
import { type ErasureOutcome, executeErasure, removeEarlierVersions } from './execute.ts';
import {
  existingEntry,
  type ScanResult,
  scanForTraces,
  writeErasureLog,
  writeErasureStarted,
} from './finish.ts';
import { Copies } from './copies.ts';
import { giveBack, holdRestoreLeases, releaseRestoreLeases, renewRestoreLeases } from './lease.ts';
import { ValueMatcher } from './values.ts';
import { erasuresPrefix } from './find.ts';
import { parseEraseInput, refuseLockedVault } from './input.ts';
import type { EraseRequest } from './input.ts';
import {
  type ErasurePlan,
  type ErasureSummary,
  planErasure,
  planKeyOf,
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
}

/** The start step's answer: where the plan is, and its counts. */
export interface EraseStarted extends ErasureSummary {
  readonly mode: 'dry-run' | 'erase';
  readonly planKey: string;
  readonly execution: string;
}

const EXECUTION = /^[A-Za-z0-9_-]{1,80}$/;

/** Parses the input, refuses a locked vault or a wrong org id, plans and writes the plan. */
export async function startErasure(
  deps: EraseDeps,
  input: unknown,
  execution: string,
): Promise<EraseStarted> {
  refuseLockedVault(deps.lockMode);
  const request = parseEraseInput(input);
  if (!EXECUTION.test(execution)) {
    throw new InvalidEraseRequestError([
      {
        field: '(execution)',
        problem: `the execution name "${execution.slice(0, 90)}" cannot name a vault folder.`,
        fix: 'start the execution with a name of letters, digits, "-" and "_" (at most 80), or let the console name it.',
      },
    ]);
  }
  if (request.confirmOrgId !== undefined) {
    const orgIds = new Set(
      (await new SnapshotReader(deps.store).catalog(deps.org)).map((e) => canonicalOrgId(e.orgId)),
    );
    if (!orgIds.has(request.confirmOrgId)) {
      throw new InvalidEraseRequestError([
        {
          field: 'confirmOrgId',
          problem: `${request.confirmOrgId} is not the id of the org whose backups this workflow erases from${orgIds.size > 0 ? ` (${[...orgIds].join(', ')})` : ''}.`,
          fix: "copy the org id from the org's Setup > Company Information, and run the erase workflow of that org.",
        },
      ]);
    }
  }
  // A real run holds the org's restore leases from before its plan to its end (lease.ts).
  if (request.mode === 'erase') await holdRestoreLeases(deps.store, deps.org, execution);
  try {
    return await planOnce(deps, request, execution);
  } catch (error) {
    if (request.mode === 'erase') await giveBack(deps.store, deps.org, execution);
    throw error;
  }
}

/** Plans and writes the plan; a retried step finds its plan and answers it, if made for this request. */
async function planOnce(deps: EraseDeps, request: EraseRequest, execution: string): Promise<EraseStarted> {
  const planKey = planKeyOf(deps.org, execution);
  if (await deps.store.head(planKey)) return storedStart(deps, planKey, request, execution);
  const plan = await planErasure(
    deps.versions,
    deps.org,
    request,
    { execution, now: deps.clock() },
    { bypassGovernance: deps.lockMode === 'GOVERNANCE' },
  );
  try {
    await deps.store.put(planKey, `${JSON.stringify(plan, null, 1)}\n`, { contentType: 'application/json' });
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
    return storedStart(deps, planKey, request, execution);
  }
  return { mode: request.mode, planKey, execution, ...plan.summary };
}

/** Gives the execution's restore leases back, when it ends otherwise than by its finish. */
export async function releaseErasure(deps: EraseDeps, execution: string): Promise<{ released: true }> {
  if (!EXECUTION.test(execution)) return { released: true };
  await releaseRestoreLeases(deps.store, deps.org, execution);
  return { released: true };
}

/** The start step's answer from a plan already written for this execution. */
async function storedStart(
  deps: EraseDeps,
  planKey: string,
  request: EraseRequest,
  execution: string,
): Promise<EraseStarted> {
  const plan = await readPlan(deps, planKey);
  refuseOtherRequest(plan, request, planKey);
  return { mode: plan.mode, planKey, execution, ...plan.summary };
}

/** Refuses a plan that was not made for this request (another request, or no fingerprint at all). */
function refuseOtherRequest(plan: ErasurePlan, request: EraseRequest, planKey: string): void {
  if (sameRequest(plan.request, requestFingerprint(request))) return;
  throw new InvalidEraseRequestError([
    {
      field: '(execution)',
      problem: `the plan ${planKey} was not made for this request (its mode, ids, object, filter or requester differ, or it names no request); nothing was erased.`,
      fix: 'start a new execution, with a name no earlier execution used, so that a fresh plan is made.',
    },
  ]);
}

/** Carries out the plan the start step wrote, once it is sure the plan was made for this request. */
export async function eraseFromPlan(
  deps: EraseDeps,
  input: unknown,
  planKey: string,
): Promise<ErasureOutcome> {
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
  await renewRestoreLeases(deps.store, deps.org, plan.execution);
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
  return executeErasure({ store: deps.store, versions: deps.versions }, plan);
}

/** The finish step's answer. */
export interface EraseFinished {
  readonly logKey: string;
  readonly versionsScanned: number;
  readonly traces: number;
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
): Promise<EraseFinished> {
  const request = parseEraseInput(input);
  const plan = await readPlan(deps, planKey);
  refuseOtherRequest(plan, request, planKey);
  // A finish run again after its log was written answers what that log says: the plan no longer
  // holds the digests a second scan would need.
  const logged = await existingEntry(deps.store, deps.org, plan.execution);
  if (logged?.entry.status === 'complete') {
    // A finish stopped after its log: the digests may still be there to forget.
    await forgetValues(deps, planKey, plan);
    await releaseRestoreLeases(deps.store, deps.org, plan.execution);
    return finished(deps.org, logged.key, logged.entry.scan);
  }
  const copies = new Copies(
    new ValueMatcher(plan.values ?? { key: '', digests: [], nameWords: [] }),
    new Set(plan.keepCopiesIn ?? []),
  );
  const scan = await scanForTraces(
    deps.versions,
    deps.org,
    plan.ids,
    Object.values(request.where ?? {}),
    copies,
  );
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
  await releaseRestoreLeases(deps.store, deps.org, plan.execution);
  return finished(deps.org, logKey, scan);
}

/**
 * The plan without her values' digests and their key, and no earlier version of it: once the
 * last scan has run, the plan lets no one test a guess of her phone numbers or name (a filter's
 * SHA-256, `request.filterSha256`, stays: it identifies the request). Run again, it removes the
 * earlier versions a stopped run left.
 */
async function forgetValues(deps: EraseDeps, planKey: string, plan: ErasurePlan): Promise<void> {
  if (plan.values !== undefined) {
    const { values: _, ...rest } = plan;
    await deps.versions.replace(planKey, `${JSON.stringify(rest, null, 1)}\n`, {
      contentType: 'application/json',
    });
  }
  await removeEarlierVersions(deps.versions, planKey);
}

/** The finish step's answer, failing with `ErasureTraceFoundError` when the scan found a trace. */
function finished(org: string, logKey: string, scan: ScanResult): EraseFinished {
  if (scan.traceCount > 0) {
    throw new ErasureTraceFoundError(
      `After the erasure, ${scan.traceCount} stored version(s) of org ${org}'s records still hold an erased id, the filter's value or a copy of her values (first: ${scan.traces
        .slice(0, 5)
        .map((t) => `${t.key} version ${t.versionId} (${t.what})`)
        .join(
          '; ',
        )}). The erasure log ${logKey} lists them. Run the erasure again; if they remain, remove them by hand with the break-glass role.`,
    );
  }
  return { logKey, versionsScanned: scan.versionsScanned, traces: 0 };
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
