import type { BackupStore } from '../store.ts';
import { type ObjectStepResult, type RestorePhase, restoreObject } from './execute.ts';
import { IdMap } from './id-map.ts';
import { parseRestoreInput, type RestoreRequest, writesToOrg } from './input.ts';
import { restoreKeys } from './keys.ts';
import type { RestoreOrg, SnapshotSource } from './model.ts';
import { type ObjectPlan, planRestore, type RestorePlan } from './plan.ts';
import { selectScope } from './scope.ts';
import { readJson, writeJsonOnce } from './store-json.ts';
import { summarizePlan } from './summary.ts';
import { validateAgainstOrg } from './validate.ts';
import { type RestoreReport, verifyRestore } from './verify.ts';
import { OrgMismatchError } from './errors.ts';

/** What every restore step is given: the vault, the live org and the snapshots. */
export interface RestoreDeps {
  readonly store: BackupStore;
  readonly org: RestoreOrg;
  readonly snapshots: SnapshotSource;
  /** Whose backups are read, when not the target org's own (a drill into a sandbox). */
  readonly sourceOrg?: string;
  readonly now?: () => number;
}

/** The small state every step after validation carries: keys and ids, never rows. */
export interface RestoreRun {
  readonly orgId: string;
  readonly runId: string;
  readonly mode: RestoreRequest['mode'];
  readonly dryRun: boolean;
  readonly startedAt: string;
}

/** Checks the input (shape, org, snapshot, names) and records the accepted request. */
export async function validateStep(deps: RestoreDeps, input: unknown, runId: string): Promise<RestoreRun> {
  const request = parseRestoreInput(input);
  const validated = await validateAgainstOrg(request, deps.org, deps.snapshots, deps.sourceOrg);
  await writeJsonOnce(deps.store, restoreKeys.request(validated.orgId, runId), request);
  const now = deps.now ?? Date.now;
  return {
    orgId: validated.orgId,
    runId,
    mode: request.mode,
    dryRun: !writesToOrg(request.mode),
    startedAt: new Date(now()).toISOString(),
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
  const request = await loadRequest(deps.store, run);
  const validated = await validateAgainstOrg(request, deps.org, deps.snapshots, deps.sourceOrg);
  assertSameOrg(run, validated.orgId);
  const idMap = await IdMap.load(deps.store, run.orgId);
  const scope = await selectScope(request, validated.snapshot);
  const { plan, objectPlans } = await planRestore({
    validated,
    scope,
    org: deps.org,
    store: deps.store,
    idMap,
    runId: run.runId,
  });
  return {
    planKey: restoreKeys.plan(run.orgId, run.runId),
    levels: plan.levels.length,
    secondPass: objectPlans.filter((p) => p.deferredFields.length > 0).map((p) => p.object),
    totals: plan.totals,
    summary: summarizePlan(plan),
  };
}

/** The objects of one level of the restore order, for the Distributed Map that fans out over them. */
export async function levelStep(
  deps: RestoreDeps,
  run: RestoreRun,
  level: number,
): Promise<{ level: number; objects: string[]; done: boolean }> {
  const plan = await loadPlan(deps.store, run);
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
  const plan = await loadPlan(deps.store, run);
  const objectPlan = await readJson<ObjectPlan>(
    deps.store,
    restoreKeys.objectPlan(run.orgId, run.runId, object),
  );
  if (!objectPlan) throw new Error(`The plan of run ${run.runId} holds no object ${object}.`);
  const { orgId, userId } = await deps.org.identity();
  assertSameOrg(run, orgId);
  const idMap = await IdMap.load(deps.store, run.orgId);
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
  });
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
}> {
  const plan = await loadPlan(deps.store, run);
  const objectPlans: ObjectPlan[] = [];
  for (const level of plan.levels) {
    for (const object of level) {
      const p = await readJson<ObjectPlan>(deps.store, restoreKeys.objectPlan(run.orgId, run.runId, object));
      if (p) objectPlans.push(p);
    }
  }
  const idMap = await IdMap.load(deps.store, run.orgId);
  const { report, reportKey } = await verifyRestore({
    org: deps.org,
    store: deps.store,
    idMap,
    plan,
    objectPlans,
  });
  const unrestorable = report.objects.flatMap((o) => o.unrestorable.map((u) => `${o.object}.${u.field}`));
  const summary = [
    report.matches
      ? `Verified: the restored scope matches snapshot ${plan.snapshotId} on every restorable field.`
      : `${report.problems.length} row(s) failed or differ from snapshot ${plan.snapshotId}; report: ${reportKey}.`,
    ...report.problems
      .slice(0, 20)
      .map(
        (p) =>
          `  ${p.object} ${p.oldId}${p.id && p.id !== p.oldId ? ` (now ${p.id})` : ''}: ${[
            ...p.errors.map((e) => `${e.statusCode}: ${e.message}`),
            ...(p.mismatchedFields.length > 0 ? [`differs on ${p.mismatchedFields.join(', ')}`] : []),
          ].join('; ')}`,
      ),
    unrestorable.length > 0 ? `Not restorable (see the plan for why): ${unrestorable.join(', ')}` : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
  return { matches: report.matches, reportKey, failedRows: report.problems.length, summary, report };
}

async function loadRequest(store: BackupStore, run: RestoreRun): Promise<RestoreRequest> {
  const request = await readJson<RestoreRequest>(store, restoreKeys.request(run.orgId, run.runId));
  if (!request) throw new Error(`Run ${run.runId} has no recorded request; start the restore again.`);
  return request;
}

/** Reads the plan a run wrote. */
export async function loadPlan(store: BackupStore, run: RestoreRun): Promise<RestorePlan> {
  const plan = await readJson<RestorePlan>(store, restoreKeys.plan(run.orgId, run.runId));
  if (!plan) throw new Error(`Run ${run.runId} has no plan at ${restoreKeys.plan(run.orgId, run.runId)}.`);
  return plan;
}

function assertSameOrg(run: RestoreRun, orgId: string): void {
  if (run.orgId.slice(0, 15) !== orgId.slice(0, 15)) throw new OrgMismatchError(run.orgId, orgId);
}
