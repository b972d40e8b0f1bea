import { ERASURE_LEASE_PREFIX } from '../../../contract/workflow-contract.ts';
import type { BackupStore } from '../store.ts';
import { erasureHolding, WritesUnlessErased } from '../vault-lease.ts';
import { type ObjectStepResult, type RestorePhase, restoreObject } from './execute.ts';
import { IdMap } from './id-map.ts';
import { parseRestoreInput, type RestoreRequest, writesToOrg } from './input.ts';
import { describeRoot, restoreKeys, restoreRoot } from './keys.ts';
import { describeRowError, type RestoreOrg, type SnapshotSource, type SnapshotView } from './model.ts';
import { type ObjectPlan, planRestore, type RestorePlan } from './plan.ts';
import { selectScope } from './scope.ts';
import { putIfAbsent, readJson, writeJsonOnce } from './store-json.ts';
import { summarizePlan, summarizeUncertainWrites } from './summary.ts';
import { validateAgainstOrg } from './validate.ts';
import {
  checkObjectRows,
  OBJECTS_CHECKED_AT_ONCE,
  type ObjectRowCheck,
  type RestoreReport,
  type VerifyContext,
  writeReport,
} from './verify.ts';
import { inTurns } from '../in-turns.ts';
import {
  InvalidRestoreStateError,
  OrgMismatchError,
  RestoreInProgressError,
  RestoreLeaseLostError,
} from './errors.ts';
import { FILE_OBJECTS, type FilePlan, planFiles, restoreFiles, summarizeFilePlan } from './files.ts';
import { type FileProblem, verifyFiles } from './files-verify.ts';
import { advanceMetadataRestore, type MetadataProgress, toComponents } from './metadata.ts';
import { acquireLease, holdsLiveClaim, type LeaseOptions, releaseLease, renewLease } from './lease.ts';

/** Rows, extra rows and files a summary names one by one; the report in the vault holds them all. */
const REPORTED_ROWS = 20;

/** What every restore step is given: the configured org, the vault, the live org and the snapshots. */
export interface RestoreDeps {
  /**
   * The configured org (the config's name, its backups' vault prefix) whose restore this is: its
   * records live under `restores/<orgName>/`, the only restore records its functions may touch.
   */
  readonly orgName: string;
  readonly store: BackupStore;
  readonly org: RestoreOrg;
  readonly snapshots: SnapshotSource;
  /** Whose backups are read, when not the target org's own (a drill into a sandbox). */
  readonly sourceOrg?: string;
  readonly now?: () => number;
  /** How the org's restore lease is taken (its expiry, how long a claim settles). */
  readonly lease?: LeaseOptions;
  /** Rows per batch and batches of one kind written at once (defaults: `DEFAULT_BATCH_SIZE`, `BATCHES_AT_ONCE`). */
  readonly batching?: { readonly size?: number; readonly atOnce?: number };
}

/** The small state every step after validation carries: keys and ids, never rows. */
export interface RestoreRun {
  readonly orgId: string;
  /** Where the run's records live: `restores/<configured org name>/<org id>/` (see `restoreRoot`). */
  readonly root: string;
  readonly runId: string;
  readonly mode: RestoreRequest['mode'];
  readonly dryRun: boolean;
  readonly startedAt: string;
  /** Metadata components to deploy. */
  readonly metadata: number;
  /** True for a scheduled drill into the configured sandbox. */
  readonly drill?: boolean;
}

/** Checks the input (shape, org, snapshot, names) and records the accepted request. */
export async function validateStep(deps: RestoreDeps, input: unknown, runId: string): Promise<RestoreRun> {
  const request = parseRestoreInput(input);
  const validated = await validateAgainstOrg(
    request,
    deps.org,
    deps.snapshots,
    deps.sourceOrg,
    new Date((deps.now ?? Date.now)()),
  );
  const root = restoreRoot(deps.orgName, validated.orgId);
  const now = deps.now ?? Date.now;
  // Refused while an erasure rewrites the org's backups: before it writes anything (the request
  // may name her), and again after its claim, which is written first so that an erasure claiming
  // meanwhile finds it (erase/lease.ts). A refused run gives back a claim it holds (a retried
  // step may hold one from its first attempt).
  const refuseIfErasing = async () => {
    try {
      await refuseDuringErasure(deps, root);
    } catch (error) {
      if (writesToOrg(request.mode) && (await holdsLiveClaim(deps.store, root, runId, now())))
        await releaseLease(deps.store, root, runId, now);
      throw error;
    }
  };
  await refuseIfErasing();
  await writeJsonOnce(deps.store, restoreKeys.request(root, runId), request);
  // A restore that writes holds the org's lease from here until it ends; a dry run writes nothing.
  if (writesToOrg(request.mode)) await acquireLease(deps.store, root, runId, leaseOptions(deps));
  await refuseIfErasing();
  return {
    orgId: validated.orgId,
    root,
    runId,
    mode: request.mode,
    dryRun: !writesToOrg(request.mode),
    startedAt: new Date(now()).toISOString(),
    metadata: request.metadata.length,
  };
}

/** The output of the plan step: the summary a person reads, and the order to restore in. */
export interface PlanStepResult {
  readonly planKey: string;
  readonly levels: number;
  readonly secondPass: string[];
  readonly totals: RestorePlan['totals'];
  readonly summary: string;
}

/** Plans against the live org and writes the plan to the vault. */
export async function planStep(deps: RestoreDeps, run: RestoreRun): Promise<PlanStepResult> {
  const root = runRoot(deps, run);
  const store = await stepStore(deps, root, run);
  const request = await loadRequest(deps.store, root, run);
  const validated = await validateAgainstOrg(
    request,
    deps.org,
    deps.snapshots,
    deps.sourceOrg,
    new Date((deps.now ?? Date.now)()),
  );
  assertSameOrg(run, validated.orgId);
  await holdLease(deps, root, run);
  const idMap = await IdMap.load(deps.store, root);
  const scope = await selectScope(request, validated.snapshot);
  const allFiles = request.objects.some((o) => FILE_OBJECTS.has(o));
  for (const o of FILE_OBJECTS) scope.delete(o);
  const filePlan: FilePlan = request.files
    ? await planFiles({
        org: deps.org,
        snapshot: validated.snapshot,
        scope,
        allFiles,
        idMap,
        // A real run keeps each planned file's detail, so its file steps never read the snapshot again.
        ...(run.dryRun
          ? {}
          : {
              details: {
                store: deps.store,
                keyOf: (record: number) => restoreKeys.fileDetails(root, run.runId, record),
              },
            }),
      })
    : { entries: [], present: 0 };
  await writeJsonOnce(store, restoreKeys.filePlan(root, run.runId), filePlan);
  const { plan, objectPlans } = await planRestore({
    validated,
    scope,
    org: deps.org,
    store,
    idMap,
    root,
    runId: run.runId,
  });
  return {
    planKey: restoreKeys.plan(root, run.runId),
    levels: plan.levels.length,
    secondPass: objectPlans.filter((p) => p.deferredFields.length > 0).map((p) => p.object),
    totals: plan.totals,
    summary: [
      summarizePlan(plan),
      ...summarizeFilePlan(filePlan, REPORTED_ROWS),
      request.metadata.length > 0
        ? `  Metadata: ${request.metadata.length} component(s) to deploy, validated first (checkOnly): ${request.metadata.join(', ')}`
        : '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  };
}

/**
 * Brings back the files of the scope from plan entry `cursor` on, starting no file after `deadline`;
 * call again from the answered `cursor` while `done` is false.
 */
export async function filesStep(
  deps: RestoreDeps,
  run: RestoreRun,
  cursor = 0,
  deadline?: number,
): Promise<{ restored: number; failed: number; done: boolean; cursor: number }> {
  const root = runRoot(deps, run);
  const request = await loadRequest(deps.store, root, run);
  const filePlan = await readJson<FilePlan>(deps.store, restoreKeys.filePlan(root, run.runId));
  if (!filePlan || filePlan.entries.length === 0) return { restored: 0, failed: 0, done: true, cursor: 0 };
  await holdLease(deps, root, run);
  const plan = await loadPlan(deps.store, root, run);
  const { userId } = await deps.org.identity();
  const outcome = await restoreFiles({
    org: deps.org,
    store: deps.store,
    snapshot: () => deps.snapshots.resolve(deps.sourceOrg ?? run.orgId, request.snapshot),
    root,
    runId: run.runId,
    userId,
    plan: filePlan,
    danglingReferences: plan.danglingReferences,
    ...(deps.now ? { now: deps.now } : {}),
    cursor,
    ...(deadline !== undefined ? { deadline } : {}),
  });
  return {
    restored: outcome.restored,
    failed: outcome.failures.length,
    done: outcome.done,
    cursor: outcome.next,
  };
}

/** Advances the metadata deploy (validation first, then the real one). */
export async function metadataStep(
  deps: RestoreDeps,
  run: RestoreRun,
  progress: MetadataProgress,
): Promise<MetadataProgress> {
  const root = runRoot(deps, run);
  const store = await stepStore(deps, root, run);
  const request = await loadRequest(deps.store, root, run);
  await holdLease(deps, root, run);
  const snapshot = await deps.snapshots.resolve(deps.sourceOrg ?? run.orgId, request.snapshot);
  const next = await advanceMetadataRestore({
    org: deps.org,
    snapshot,
    components: toComponents(request.metadata),
    progress,
    dryRun: run.dryRun,
  });
  // Kept next to the plan so a dry run's validation and a deploy's read-back are on record.
  if (next.done) await writeJsonOnce(store, restoreKeys.metadata(root, run.runId), next);
  return next;
}

/** The objects of one level of the restore order, for the Distributed Map that fans out over them. */
export async function levelStep(
  deps: RestoreDeps,
  run: RestoreRun,
  level: number,
): Promise<{ level: number; objects: string[]; done: boolean }> {
  const plan = await loadPlan(deps.store, runRoot(deps, run), run);
  const objects = plan.levels[level] ?? [];
  return { level, objects, done: level >= plan.levels.length };
}

/** Restores one object (one pass), continuing from `cursor`; call again while `done` is false. */
export async function objectStep(
  deps: RestoreDeps,
  run: RestoreRun,
  object: string,
  phase: RestorePhase,
  cursor: number,
  deadline?: number,
): Promise<ObjectStepResult> {
  const root = runRoot(deps, run);
  const plan = await loadPlan(deps.store, root, run);
  const objectPlan = await readJson<ObjectPlan>(deps.store, restoreKeys.objectPlan(root, run.runId, object));
  if (!objectPlan) throw new Error(`The plan of run ${run.runId} holds no object ${object}.`);
  const { orgId, userId } = await deps.org.identity();
  assertSameOrg(run, orgId);
  await holdLease(deps, root, run);
  const idMap = await IdMap.load(deps.store, root);
  return restoreObject({
    org: deps.org,
    store: deps.store,
    idMap,
    plan,
    objectPlan,
    phase,
    userId,
    cursor,
    ...(deadline !== undefined ? { deadline } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.batching?.size !== undefined ? { batchSize: deps.batching.size } : {}),
    ...(deps.batching?.atOnce !== undefined ? { batchesAtOnce: deps.batching.atOnce } : {}),
  });
}

/** What the check of the restored files found from one plan entry on: its record in the vault. */
interface FileCheckRecord {
  readonly from: number;
  readonly next: number;
  readonly problems: FileProblem[];
}

/** True when a file check record is the one a step from `cursor` writes: it moves on, within the plan. */
const continuesFrom = (record: FileCheckRecord, cursor: number, entries: number): boolean =>
  record.from === cursor && record.next > cursor && record.next <= entries;

/**
 * Checks the restored files from plan entry `cursor` on, starting no group of files after
 * `deadline`, and keeps what it found for the verify step; call again from the answered `cursor`
 * while `done` is false. A call repeated from the same cursor answers what the first one found.
 */
export async function fileCheckStep(
  deps: RestoreDeps,
  run: RestoreRun,
  cursor = 0,
  deadline?: number,
): Promise<{ done: boolean; cursor: number; problems: number }> {
  const root = runRoot(deps, run);
  const filePlan = await readJson<FilePlan>(deps.store, restoreKeys.filePlan(root, run.runId));
  const entries = filePlan?.entries.length ?? 0;
  if (!filePlan || cursor >= entries) return { done: true, cursor: entries, problems: 0 };
  // The check may take many invocations: the restore holds the org until its report is written.
  await holdLease(deps, root, run);
  const key = restoreKeys.fileCheck(root, run.runId, cursor);
  let record = await readJson<FileCheckRecord>(deps.store, key);
  if (!record) {
    const request = await loadRequest(deps.store, root, run);
    const check = await verifyFiles({
      org: deps.org,
      store: deps.store,
      snapshot: () => deps.snapshots.resolve(deps.sourceOrg ?? run.orgId, request.snapshot),
      root,
      runId: run.runId,
      plan: filePlan,
      cursor,
      ...(deadline !== undefined ? { deadline } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    });
    const found: FileCheckRecord = { from: cursor, next: check.next, problems: check.problems };
    await putIfAbsent(deps.store, key, JSON.stringify(found));
    // Two invocations from one cursor (a retry while the first still ran) answer what was kept.
    record = (await readJson<FileCheckRecord>(deps.store, key)) ?? found;
  }
  if (!continuesFrom(record, cursor, entries))
    throw new InvalidRestoreStateError(
      `The file check record ${key} does not go on from plan entry ${cursor} (it says from ${record.from} to ${record.next} of ${entries}): it was not written by this step. Nothing was changed in the org; start the restore again to verify it (a new run makes nothing twice).`,
    );
  return { done: record.next >= entries, cursor: record.next, problems: record.problems.length };
}

/**
 * Every difference in the restored files: what the file check steps kept, in plan order, and the
 * check of the entries they did not reach (all of them for a run whose workflow had no such step).
 */
async function fileProblemsOf(
  deps: RestoreDeps,
  run: RestoreRun,
  root: string,
  snapshotOf: () => Promise<SnapshotView>,
): Promise<FileProblem[]> {
  const filePlan = await readJson<FilePlan>(deps.store, restoreKeys.filePlan(root, run.runId));
  if (!filePlan || filePlan.entries.length === 0) return [];
  const problems: FileProblem[] = [];
  let cursor = 0;
  while (cursor < filePlan.entries.length) {
    const record = await readJson<FileCheckRecord>(
      deps.store,
      restoreKeys.fileCheck(root, run.runId, cursor),
    );
    if (!record || !continuesFrom(record, cursor, filePlan.entries.length)) break;
    problems.push(...record.problems);
    cursor = record.next;
  }
  if (cursor >= filePlan.entries.length) return problems;
  const rest = await verifyFiles({
    org: deps.org,
    store: deps.store,
    snapshot: snapshotOf,
    root,
    runId: run.runId,
    plan: filePlan,
    cursor,
  });
  return [...problems, ...rest.problems];
}

/**
 * Checks the restored rows an object at a time, in plan order and four at once, from object
 * `cursor` until done or past `deadline`, keeping what it found of each object
 * (`runs/<run>/row-checks/`) for the verify step's report. No object is started past the deadline,
 * or when the longest check so far would end past it (the first always is); the answer's cursor
 * is the first object not started. One object is checked whole in one invocation.
 */
export async function rowCheckStep(
  deps: RestoreDeps,
  run: RestoreRun,
  cursor = 0,
  deadline?: number,
): Promise<{ done: boolean; cursor: number; problems: number }> {
  const root = runRoot(deps, run);
  const plan = await loadPlan(deps.store, root, run);
  const objects = plan.levels.flat();
  if (cursor >= objects.length) return { done: true, cursor: objects.length, problems: 0 };
  // The check may take many invocations: the restore holds the org until its report is written.
  await holdLease(deps, root, run);
  const now = deps.now ?? Date.now;
  const context = verifyContext(deps, run, plan);
  let problems = 0;
  let longestMs = 0;
  // Objects start in plan order and time only moves on: those started are the first ones.
  let started = 0;
  await inTurns(objects.slice(cursor), OBJECTS_CHECKED_AT_ONCE, async (object, j) => {
    if (j > 0 && deadline !== undefined && (now() >= deadline || now() + longestMs >= deadline)) return;
    started++;
    const at = now();
    const check = await objectRowCheck(deps, run, plan, context, cursor + j, object);
    longestMs = Math.max(longestMs, now() - at);
    problems += (check?.problems.length ?? 0) + (check?.extraRows.length ?? 0);
  });
  const next = cursor + started;
  return { done: next >= objects.length, cursor: next, problems };
}

/**
 * What verification reads the org with, read once per invocation and only when an object is
 * checked (the id map of a large restore is most of what a check reads).
 */
function verifyContext(deps: RestoreDeps, run: RestoreRun, plan: RestorePlan): () => Promise<VerifyContext> {
  let context: Promise<VerifyContext> | undefined;
  return () => {
    context ??= (async () => ({
      org: deps.org,
      store: deps.store,
      idMap: await IdMap.load(deps.store, plan.root),
      plan,
      userId: (await deps.org.identity()).userId,
      startedAt: run.startedAt,
    }))();
    return context;
  };
}

/**
 * The check of the object at `index` of the plan's order: the one kept, else made now and kept
 * (two invocations checking it at once keep the first). Undefined for an object without a plan.
 */
async function objectRowCheck(
  deps: RestoreDeps,
  run: RestoreRun,
  plan: RestorePlan,
  context: () => Promise<VerifyContext>,
  index: number,
  object: string,
): Promise<ObjectRowCheck | undefined> {
  const key = restoreKeys.rowCheck(plan.root, run.runId, index, object);
  let check = await readJson<ObjectRowCheck>(deps.store, key);
  if (!check) {
    const op = await readJson<ObjectPlan>(deps.store, restoreKeys.objectPlan(plan.root, run.runId, object));
    if (!op) return undefined;
    const found = await checkObjectRows(await context(), op);
    await putIfAbsent(deps.store, key, JSON.stringify(found));
    check = (await readJson<ObjectRowCheck>(deps.store, key)) ?? found;
  }
  if (
    check.formatVersion !== 1 ||
    check.object !== object ||
    check.summary?.object !== object ||
    !Array.isArray(check.problems) ||
    !Array.isArray(check.extraRows)
  )
    throw new InvalidRestoreStateError(
      `The row check record ${key} is not the check of ${object}: it was not written by this restore's verification. Nothing was changed in the org; start the restore again to verify it (a new run makes nothing twice).`,
    );
  return check;
}

/** Compares the org with the snapshot and writes the report. */
export async function verifyStep(
  deps: RestoreDeps,
  run: RestoreRun,
): Promise<{
  matches: boolean;
  reportKey: string;
  failedRows: number;
  summary: string;
  report: RestoreReport;
  fileProblems: number;
  fileProblemsKey?: string;
  recoveryTimeSeconds: number;
}> {
  const root = runRoot(deps, run);
  // The restore holds the org until its report, the last thing verify writes, is written. A
  // verify run again after the lease went (released by a failed execution, or expired after a
  // stop) may find the run's records rewritten by an erasure since (a files plan shorter than its
  // file check records say): it is refused, and a new run plans again. Run again once its report
  // was written (its answer lost, the lease given back), it answers again.
  try {
    await holdLease(deps, root, run);
  } catch (error) {
    if (
      !(error instanceof RestoreLeaseLostError) ||
      !(await deps.store.head(restoreKeys.report(root, run.runId)))
    )
      throw error;
  }
  const plan = await loadPlan(deps.store, root, run);
  const request = await loadRequest(deps.store, root, run);
  // Each object's check as the row check steps kept it; an object they did not reach (an
  // execution begun before those steps were in the workflow) is checked now.
  const context = verifyContext(deps, run, plan);
  const checks = await inTurns(
    plan.levels.flat().map((object, index) => ({ object, index })),
    OBJECTS_CHECKED_AT_ONCE,
    ({ object, index }) => objectRowCheck(deps, run, plan, context, index, object),
  );
  const fileProblems = await fileProblemsOf(deps, run, root, () =>
    deps.snapshots.resolve(deps.sourceOrg ?? run.orgId, request.snapshot),
  );
  // Every file problem is kept, not only those the summary shows.
  const fileProblemsKey = restoreKeys.fileProblems(root, run.runId);
  if (fileProblems.length > 0) await writeJsonOnce(deps.store, fileProblemsKey, fileProblems);
  // The report last: once it is written, nothing is left to read or write but the release.
  const { report, reportKey } = await writeReport(
    deps.store,
    plan,
    checks.filter((c): c is ObjectRowCheck => c !== undefined),
  );
  const metadata = await readJson<MetadataProgress>(deps.store, restoreKeys.metadata(root, run.runId));
  const now = deps.now ?? Date.now;
  const recoveryTimeSeconds = Math.round((now() - Date.parse(run.startedAt)) / 100) / 10;
  const matches = report.matches && fileProblems.length === 0;
  const unrestorable = report.objects.flatMap((o) => o.unrestorable.map((u) => `${o.object}.${u.field}`));
  const extra = report.extraRows;
  const summary = [
    matches
      ? `Verified: the restored scope matches snapshot ${plan.snapshotId} on every restorable field, with no extra rows.`
      : `${report.problems.length} row(s) failed or differ from snapshot ${plan.snapshotId}, ${extra.length} extra row(s) in the org that the restore's scope says should not be there${fileProblems.length > 0 ? `, ${fileProblems.length} difference(s) in the restored files (all in ${fileProblemsKey})` : ''}; report: ${reportKey}.`,
    ...report.problems
      .slice(0, REPORTED_ROWS)
      .map(
        (p) =>
          `  ${p.object} ${p.oldId}${p.id && p.id !== p.oldId ? ` (now ${p.id})` : ''}: ${[
            ...p.errors.map(describeRowError),
            ...(p.mismatchedFields.length > 0 ? [`differs on ${p.mismatchedFields.join(', ')}`] : []),
          ].join('; ')}`,
      ),
    report.problems.length > REPORTED_ROWS
      ? `  ... and ${report.problems.length - REPORTED_ROWS} more row(s) in the report.`
      : '',
    ...extra.slice(0, REPORTED_ROWS).map((e) => `  extra ${e.object} ${e.id}: ${e.reason}`),
    extra.length > REPORTED_ROWS
      ? `  ... and ${extra.length - REPORTED_ROWS} more extra row(s) in the report.`
      : '',
    ...fileProblems.slice(0, REPORTED_ROWS).map((f) => `  file ${f.fileId}: ${f.problem}`),
    fileProblems.length > REPORTED_ROWS
      ? `  ... and ${fileProblems.length - REPORTED_ROWS} more file problem(s) in ${fileProblemsKey}.`
      : '',
    metadata?.report ?? '',
    summarizeUncertainWrites(plan),
    `Recovery time: ${recoveryTimeSeconds} s from validation to verification.`,
    unrestorable.length > 0 ? `Not restorable (see the plan for why): ${unrestorable.join(', ')}` : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
  // The report is written: the org is free for the next restore, whatever it found.
  await releaseStep(deps, run);
  return {
    matches,
    reportKey,
    failedRows: report.problems.length + extra.length + fileProblems.length,
    summary,
    report,
    fileProblems: fileProblems.length,
    ...(fileProblems.length > 0 ? { fileProblemsKey } : {}),
    recoveryTimeSeconds,
  };
}

/** Gives the run's lease on the org up: at the end of a restore, and on its failure path. */
export async function releaseStep(
  deps: Pick<RestoreDeps, 'orgName' | 'store' | 'now'>,
  run: RestoreRun,
): Promise<void> {
  if (!run.dryRun) await releaseLease(deps.store, runRoot(deps, run), run.runId, deps.now);
}

/**
 * The root of a run's records, checked against the configured org the step runs for: a state
 * that names another configured org's root is refused before anything is read or written.
 */
export function runRoot(
  deps: Pick<RestoreDeps, 'orgName'>,
  run: Pick<RestoreRun, 'orgId' | 'root' | 'runId'>,
): string {
  const root = restoreRoot(deps.orgName, run.orgId);
  if (run.root !== root) {
    throw new InvalidRestoreStateError(
      `The state of restore ${run.runId} keeps its records under ${run.root}, but the restore of configured org ${deps.orgName} into org ${run.orgId} keeps them under ${root}: the state belongs to another restore. Start the restore again.`,
    );
  }
  return root;
}

function leaseOptions(deps: RestoreDeps): LeaseOptions {
  return { ...(deps.now ? { now: deps.now } : {}), ...deps.lease };
}

/**
 * Refuses while an erasure holds the org's vault lease: it is rewriting the snapshots a restore
 * reads, and what a restore writes meanwhile (its plan, its id map, the org's records) would hold
 * the person the erasure removes.
 */
async function refuseDuringErasure(deps: RestoreDeps, root: string, now?: number): Promise<void> {
  const erasure = await erasureHolding(deps.store, deps.orgName, now ?? (deps.now ?? Date.now)());
  if (!erasure) return;
  const iso = (ms: number) => new Date(ms).toISOString();
  throw new RestoreInProgressError(
    `An erasure is rewriting the backups of configured org ${deps.orgName}: execution ${erasure.runId.slice(ERASURE_LEASE_PREFIX.length)} of its erase workflow holds the org's vault lease since ${iso(erasure.claimedAt)}. A restore now could read or write the person it removes, so nothing was written to ${describeRoot(root)}. Start the restore again once that execution has ended; if it was stopped, its lease frees itself at ${iso(erasure.expiresAt)}.`,
  );
}

/**
 * What a step of the run writes its records through. A dry run holds no lease: an erasure may have
 * begun since it was validated (the step is refused before it reads anything), or begin while it
 * reads, and then none of its writes may land after the erasure's last scan (WritesUnlessErased).
 */
async function stepStore(deps: RestoreDeps, root: string, run: RestoreRun): Promise<BackupStore> {
  if (!run.dryRun) return deps.store;
  const since = (deps.now ?? Date.now)();
  await refuseDuringErasure(deps, root, since);
  return WritesUnlessErased.open(deps.store, deps.orgName, since, 'this restore dry run');
}

/** Renews the run's lease before it writes; a dry run holds none and writes nothing. */
async function holdLease(deps: RestoreDeps, root: string, run: RestoreRun): Promise<void> {
  if (!run.dryRun) await renewLease(deps.store, root, run.runId, leaseOptions(deps));
}

async function loadRequest(store: BackupStore, root: string, run: RestoreRun): Promise<RestoreRequest> {
  const request = await readJson<RestoreRequest>(store, restoreKeys.request(root, run.runId));
  if (!request) throw new Error(`Run ${run.runId} has no recorded request; start the restore again.`);
  return request;
}

/** Reads the plan a run wrote. */
export async function loadPlan(store: BackupStore, root: string, run: RestoreRun): Promise<RestorePlan> {
  const plan = await readJson<RestorePlan>(store, restoreKeys.plan(root, run.runId));
  if (!plan) throw new Error(`Run ${run.runId} has no plan at ${restoreKeys.plan(root, run.runId)}.`);
  return plan;
}

function assertSameOrg(run: RestoreRun, orgId: string): void {
  if (run.orgId.slice(0, 15) !== orgId.slice(0, 15)) throw new OrgMismatchError(run.orgId, orgId);
}
