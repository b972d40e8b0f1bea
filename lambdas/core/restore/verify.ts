import type { BackupStore } from '../store.ts';
import type { BatchOutcome } from './execute.ts';
import type { IdMap } from './id-map.ts';
import { restoreKeys } from './keys.ts';
import type { BodyRef, RestoreOrg, RowError } from './model.ts';
import type { ObjectPlan, RestorePlan, Values } from './plan.ts';
import type { UnrestorableField } from './restorability.ts';
import { listKeys, readJson, writeJsonOnce } from './store-json.ts';
import { idKey, sameValue } from './values.ts';

/** A row that did not come back as the snapshot had it. */
export interface RowProblem {
  readonly object: string;
  /** The row's id in the snapshot. */
  readonly oldId: string;
  /** Its id in the org now, when it has one. */
  readonly id: string | null;
  /** Salesforce's errors for the write, when the write failed. */
  readonly errors: readonly RowError[];
  /** Fields whose live value differs from the snapshot (names only: values stay out of reports). */
  readonly mismatchedFields: readonly string[];
}

/** A row in the org that the restore's scope says should not be there. */
export interface ExtraRow {
  readonly object: string;
  readonly id: string;
  /** The snapshot row it duplicates, when it is a second insert of one. */
  readonly duplicateOf: string | null;
  readonly reason: string;
}

/** The restore report: what was done, what failed and why, what could not be restored. */
export interface RestoreReport {
  readonly runId: string;
  readonly orgId: string;
  readonly snapshotId: string;
  readonly mode: string;
  readonly matches: boolean;
  readonly objects: {
    readonly object: string;
    readonly verifiedRows: number;
    readonly succeededWrites: number;
    readonly failedWrites: number;
    readonly mismatchedRows: number;
    readonly extraRows: number;
    readonly unrestorable: readonly UnrestorableField[];
  }[];
  readonly problems: readonly RowProblem[];
  /** Rows the org holds that the restore's scope says should not be there; any fails the verification. */
  readonly extraRows: readonly ExtraRow[];
}

/** What verification reads the org and the restore's records with. */
export interface VerifyContext {
  readonly org: RestoreOrg;
  readonly store: BackupStore;
  readonly idMap: IdMap;
  readonly plan: RestorePlan;
  /** The user the restore writes as, and when the run started: rows it created beyond the plan are extra. */
  readonly userId: string;
  readonly startedAt: string;
}

/**
 * What verification found of one object: its line of the report, every row that failed (with
 * Salesforce's error) or differs, and the rows that should not be there. Kept per object, so that
 * a restore of many objects is verified over as many invocations as it takes.
 */
export interface ObjectRowCheck {
  readonly formatVersion: 1;
  readonly object: string;
  readonly summary: RestoreReport['objects'][number];
  readonly problems: readonly RowProblem[];
  readonly extraRows: readonly ExtraRow[];
}

/**
 * Compares one object's restored rows with the snapshot, field by field. Nothing is dropped: a
 * row whose write failed is reported even when it also differs.
 */
export async function checkObjectRows(args: VerifyContext, op: ObjectPlan): Promise<ObjectRowCheck> {
  const { org, store, idMap, plan } = args;
  const dangling = new Set(plan.danglingReferences);
  const outcomes: BatchOutcome[] = [];
  for (const key of await listKeys(
    store,
    `${restoreKeys.outcomePrefix(plan.root, plan.runId)}${op.object}/`,
  )) {
    const o = await readJson<BatchOutcome>(store, key);
    // (The files step keeps its outcome under ContentVersion/, as no batch of rows: left out.)
    if (o && o.object === op.object) outcomes.push(o);
  }
  const checks: {
    oldId: string;
    id: string | null;
    expected: Values;
    bodies?: Readonly<Record<string, BodyRef>>;
  }[] = [];
  for (const r of op.insert) {
    checks.push({
      oldId: r.oldId,
      id: idMap.get(r.oldId) ?? null,
      expected: r.values,
      ...(r.bodies ? { bodies: r.bodies } : {}),
    });
  }
  for (const r of op.undelete) checks.push({ oldId: r.id, id: r.id, expected: r.changes });
  for (const r of op.update) checks.push({ oldId: r.oldId, id: r.id, expected: r.changes });
  // A body reads back as a link, not its bytes: its length (BodyLength) is what is compared.
  const fields = [
    ...new Set(
      checks.flatMap((c) => [
        ...Object.keys(c.expected).map((f) => asRead(op, f)),
        ...Object.keys(c.bodies ?? {}).map((f) => `${f}Length`),
      ]),
    ),
  ];
  const ids = checks.flatMap((c) => (c.id ? [c.id] : []));
  const [extraRows, rows] = await Promise.all([
    findExtraRows(args, op),
    ids.length > 0 ? org.fetchByIds(op.object, ids, fields) : Promise.resolve([]),
  ]);
  const live = new Map(rows.map((r) => [idKey(r.Id as string), r]));
  const writeErrors = new Map<string, { id: string | null; errors: RowError[] }>();
  for (const o of outcomes) {
    for (const f of o.failures) {
      const entry = writeErrors.get(idKey(f.oldId)) ?? { id: f.id, errors: [] };
      entry.errors.push(...f.errors);
      writeErrors.set(idKey(f.oldId), entry);
    }
  }
  const problems: RowProblem[] = [];
  let mismatched = 0;
  for (const c of checks) {
    const row = c.id ? live.get(idKey(c.id)) : undefined;
    const writeError = writeErrors.get(idKey(c.oldId));
    const mismatchedFields: string[] = [];
    if (!row || row.IsDeleted === 'true') {
      mismatchedFields.push('(row missing)');
    } else {
      for (const [f, body] of Object.entries(c.bodies ?? {}))
        if (Number(row[`${f}Length`] ?? 0) !== body.bytes) mismatchedFields.push(f);
      for (const [f, wanted] of Object.entries(c.expected)) {
        const type = op.types[f] ?? 'string';
        if (type === 'base64') {
          const length = wanted ? Buffer.from(wanted, 'base64').length : 0;
          if (Number(row[asRead(op, f)] ?? 0) !== length) mismatchedFields.push(f);
          continue;
        }
        let expected = wanted;
        if (type === 'reference' && wanted)
          expected = idMap.get(wanted) ?? (dangling.has(idKey(wanted)) ? null : wanted);
        if (!sameValue(type, row[f], expected)) mismatchedFields.push(f);
      }
    }
    if (mismatchedFields.length > 0 || writeError) {
      mismatched += mismatchedFields.length > 0 ? 1 : 0;
      problems.push({
        object: op.object,
        oldId: c.oldId,
        id: c.id ?? writeError?.id ?? null,
        errors: writeError?.errors ?? [],
        mismatchedFields,
      });
    }
  }
  return {
    formatVersion: 1,
    object: op.object,
    summary: {
      object: op.object,
      verifiedRows: checks.length,
      succeededWrites: outcomes.reduce((a, o) => a + o.succeeded, 0),
      failedWrites: outcomes.reduce((a, o) => a + o.failures.length, 0),
      mismatchedRows: mismatched,
      extraRows: extraRows.length,
      unrestorable: op.unrestorable,
    },
    problems,
    extraRows,
  };
}

/** Writes the restore report from each object's check, in plan order. */
export async function writeReport(
  store: BackupStore,
  plan: RestorePlan,
  checks: readonly ObjectRowCheck[],
): Promise<{ report: RestoreReport; reportKey: string }> {
  const problems = checks.flatMap((c) => c.problems);
  const extraRows = checks.flatMap((c) => c.extraRows);
  const report: RestoreReport = {
    runId: plan.runId,
    orgId: plan.orgId,
    snapshotId: plan.snapshotId,
    mode: plan.mode,
    matches: problems.length === 0 && extraRows.length === 0,
    objects: checks.map((c) => c.summary),
    problems,
    extraRows,
  };
  const reportKey = restoreKeys.report(plan.root, plan.runId);
  await writeJsonOnce(store, reportKey, report);
  return { report, reportKey };
}

/** Objects whose rows verification reads from the org at once. */
export const OBJECTS_CHECKED_AT_ONCE = 4;

/** The field a value is read back from: a body's length (`BodyLength`), any other field itself. */
function asRead(op: ObjectPlan, field: string): string {
  return op.types[field] === 'base64' ? `${field}Length` : field;
}

/**
 * Rows of the object that should not be in the org: second inserts of a row the id map already
 * maps (two restores that inserted the same rows), and rows the restore's user created since the
 * run started that no restore batch recorded.
 */
async function findExtraRows(args: VerifyContext, op: ObjectPlan): Promise<ExtraRow[]> {
  const { org, idMap } = args;
  const extra: ExtraRow[] = [];
  const prefix = (await org.describe(op.object))?.keyPrefix ?? null;
  const duplicates = prefix ? idMap.duplicates().filter((d) => d.id.startsWith(prefix)) : [];
  if (duplicates.length > 0) {
    const alive = new Set(
      (
        await org.fetchByIds(
          op.object,
          duplicates.map((d) => d.id),
          [],
        )
      )
        .filter((r) => r.IsDeleted !== 'true')
        .map((r) => idKey(r.Id as string)),
    );
    for (const d of duplicates) {
      if (!alive.has(idKey(d.id))) continue;
      extra.push({
        object: op.object,
        id: d.id,
        duplicateOf: d.oldId,
        reason: `a second insert of snapshot row ${d.oldId}, which the org already holds as ${idMap.get(d.oldId)}`,
      });
    }
  }
  const seen = new Set(extra.map((e) => idKey(e.id)));
  for (const row of await org.fetchCreatedSince(op.object, args.startedAt, args.userId, [])) {
    const id = row.Id;
    if (!id || idMap.isNewId(id) || seen.has(idKey(id))) continue;
    extra.push({
      object: op.object,
      id,
      duplicateOf: null,
      reason: "created by the restore's user during the restore, but by no batch of a restore",
    });
  }
  return extra;
}
