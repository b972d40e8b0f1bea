import { inTurns } from '../in-turns.ts';
import type { BackupStore } from '../store.ts';
import { type IdMap, reconcileIntents } from './id-map.ts';
import { restoresDeleted, revertsChanges, type RestoreMode } from './input.ts';
import { restoreKeys } from './keys.ts';
import type { BodyRef, ObjectCoverage, ObjectInfo, RestoreOrg, Row } from './model.ts';
import { type ReferenceEdge, restoreOrder } from './order.ts';
import { splitFields, type UnrestorableField } from './restorability.ts';
import type { Scope } from './scope.ts';
import { writeJsonOnce } from './store-json.ts';
import { idKey, sameValue } from './values.ts';
import type { ValidatedRestore } from './validate.ts';

/** Uncertain record ids the plan's summary names one by one; the object's plan in the vault holds them all. */
export const NAMED_UNCERTAIN = 10;

/** Objects whose body the backup keeps as a file and a re-inserted row needs back. */
const BODY_OBJECTS = new Set(['Attachment', 'Document']);

/** Text values by field name. */
export type Values = Record<string, string | null>;

/** Everything the restore will do to one object, as the execution steps read it. */
export interface ObjectPlan {
  readonly object: string;
  readonly level: number;
  /** Field name -> Salesforce type, for every field written or compared. */
  readonly types: Record<string, string>;
  /** Reference field -> objects it may point to. */
  readonly references: Record<string, string[]>;
  readonly insertFields: string[];
  readonly updateFields: string[];
  /** Reference fields set in the second pass (they point inside the object's own cycle). */
  readonly deferredFields: string[];
  /** Rows still in the recycle bin: undeleted (same id), then the fields that differ are set. */
  readonly undelete: { readonly id: string; readonly changes: Values }[];
  /** Rows gone for good: inserted under new ids. */
  readonly insert: InsertRow[];
  /** Live rows whose fields differ from the snapshot. */
  readonly update: { readonly id: string; readonly oldId: string; readonly changes: Values }[];
  /** Rows left alone, and why. */
  readonly skipped: { readonly oldId: string; readonly reason: string }[];
  readonly unrestorable: readonly UnrestorableField[];
  /**
   * A point-in-time restore: every record id of the object the journal could not settle (gap
   * events), the gap's commit time, and whether this plan writes the row (undelete, insert, update).
   */
  readonly uncertain?: readonly UncertainRow[];
}

/** A row to insert: its field values and, for an attachment or a document, where its body is kept. */
export interface InsertRow {
  readonly oldId: string;
  readonly values: Values;
  /**
   * Body field -> the vault's copy, read by the batch that sends the row. (A plan written before
   * bodies were kept by reference holds the base64 in `values` instead.)
   */
  readonly bodies?: Readonly<Record<string, BodyRef>>;
}

/** A record whose state at the instant the journal could not settle. */
export interface UncertainRow {
  readonly id: string;
  /** Commit time of the first event the journal could not settle it by (a gap event, most often). */
  readonly gapAt: string;
  /** True when the plan writes it: with its last known state before the gap. */
  readonly written: boolean;
}

/** How a point-in-time restore knows one object's rows at its instant (counts and the first ids only). */
export interface ObjectPointInTime {
  readonly instant: string;
  /** True when the journal was replayed over the snapshot up to the instant. */
  readonly continuous: boolean;
  readonly snapshotId: string;
  readonly snapshotWatermark: string;
  /** Change events replayed; 0 when snapshot only. */
  readonly events: number;
  /** Why the rows are the snapshot's only; absent when continuous. */
  readonly snapshotOnlyReason?: string;
  /** Records the journal could not settle, and the first of them. */
  readonly uncertain: number;
  readonly firstUncertain: readonly UncertainRow[];
  /** Of those, the records this plan writes, and the first of them. */
  readonly uncertainWritten: number;
  readonly firstUncertainWritten: readonly UncertainRow[];
}

/** The readable summary of one object's plan. */
export interface ObjectSummary {
  readonly object: string;
  readonly level: number;
  readonly rowsInScope: number;
  readonly undelete: number;
  readonly insert: number;
  readonly update: number;
  /** Field -> number of rows where it changes. */
  readonly changedFields: Record<string, number>;
  /** References to rows that come back under new ids, rewritten on the way. */
  readonly remappedReferences: Record<string, number>;
  readonly secondPassFields: string[];
  readonly skipped: Record<string, number>;
  readonly unrestorable: readonly UnrestorableField[];
  /** Set for a point-in-time restore. */
  readonly pointInTime?: ObjectPointInTime;
}

/** The whole plan: written to the vault, summarised in the execution output. */
export interface RestorePlan {
  readonly runId: string;
  readonly orgId: string;
  /** Where the run's records live: `restores/<configured org name>/<org id>/` (see `restoreRoot`). */
  readonly root: string;
  readonly snapshotId: string;
  readonly snapshotTakenAt: string;
  /** A point-in-time restore: the instant (each object's `pointInTime` says how it is known). */
  readonly pointInTime?: string;
  readonly mode: RestoreMode;
  readonly levels: string[][];
  readonly objects: ObjectSummary[];
  /** Referenced rows that are neither in the org nor in the restore: those references are cleared. */
  readonly danglingReferences: string[];
  readonly totals: { readonly undelete: number; readonly insert: number; readonly update: number };
}

/** Objects whose live rows the plan reads from the org at once. */
const OBJECTS_READ_AT_ONCE = 4;

/**
 * Plans the restore against the live org: for each object, which rows are undeleted, inserted or
 * updated (and which fields), which references need new ids, and what cannot be restored and why.
 * It first settles any batch a crashed run left in doubt, so a re-run never plans a row twice.
 */
export async function planRestore(args: {
  readonly validated: ValidatedRestore;
  readonly scope: Scope;
  readonly org: RestoreOrg;
  readonly store: BackupStore;
  readonly idMap: IdMap;
  /** The run's restore root (see `restoreRoot`). */
  readonly root: string;
  readonly runId: string;
}): Promise<{ plan: RestorePlan; objectPlans: ObjectPlan[] }> {
  const { validated, scope, org, store, idMap, root, runId } = args;
  const { request, snapshot, orgId } = validated;
  const mode = request.mode;
  const live = new Map(validated.live);
  for (const object of scope.keys()) {
    if (live.has(object)) continue;
    const info = await org.describe(object);
    if (info?.createable) live.set(object, info);
    else scope.delete(object);
  }
  for (const object of scope.keys()) await reconcileIntents(store, org, root, object, idMap);

  const objects = [...scope.keys()];
  const edges: ReferenceEdge[] = [];
  const splits = new Map<string, ReturnType<typeof splitFields>>();
  for (const object of objects) {
    const info = live.get(object) as ObjectInfo;
    const split = splitFields(snapshot.fields(object) ?? [], info);
    splits.set(object, split);
    for (const f of split.insert.length > 0 ? split.insert : split.update) {
      if (f.type === 'reference') edges.push({ object, field: f.name, targets: f.referenceTo });
    }
  }
  const order = restoreOrder(objects, edges);
  const levelOf = new Map<string, number>();
  order.levels.forEach((l, i) => {
    for (const o of l) levelOf.set(o, i);
  });

  // Which in-scope rows exist live, which are in the recycle bin, which are gone.
  // Read for every object at once (bounded): each read is one or a few Bulk jobs to wait for.
  const liveRows = new Map<string, Map<string, Row>>();
  await inTurns(objects, OBJECTS_READ_AT_ONCE, async (object) => {
    const split = splits.get(object)!;
    const names = unique([...split.insert, ...split.update].map((f) => f.name));
    const ids = [...(scope.get(object)?.values() ?? [])].map(
      (r) => idMap.get(r.Id as string) ?? (r.Id as string),
    );
    const rows = await org.fetchByIds(object, ids, names);
    liveRows.set(object, new Map(rows.filter((r) => r.Id).map((r) => [idKey(r.Id as string), r])));
  });
  const restoredIds = new Set<string>();
  const newIdRows = new Set<string>();
  for (const [object, rows] of scope) {
    const found = liveRows.get(object)!;
    for (const key of rows.keys()) {
      const liveRow = found.get(idKey(idMap.get(key) ?? key));
      if (!liveRow || liveRow.IsDeleted === 'true') restoredIds.add(key);
      if (!liveRow) newIdRows.add(key);
    }
  }
  const dangling = await findDangling(org, scope, splits, live, restoredIds);

  const objectPlans: ObjectPlan[] = [];
  const summaries: ObjectSummary[] = [];
  for (const object of objects) {
    const split = splits.get(object)!;
    const deferred = [...(order.deferred[object] ?? [])];
    const fieldFilter = fieldsFor(request.fields, object);
    const updateFields = split.update.filter((f) => !fieldFilter || fieldFilter.has(f.name));
    const types: Record<string, string> = {};
    const references: Record<string, string[]> = {};
    for (const f of [...split.insert, ...split.update]) {
      types[f.name] = f.type;
      if (f.type === 'reference') references[f.name] = [...f.referenceTo];
    }
    const plan: ObjectPlan = {
      object,
      level: levelOf.get(object) ?? 0,
      types,
      references,
      insertFields: split.insert.map((f) => f.name),
      updateFields: updateFields.map((f) => f.name),
      deferredFields: deferred,
      undelete: [],
      insert: [],
      update: [],
      skipped: [],
      unrestorable: split.unrestorable,
    };
    const changed: Record<string, number> = {};
    const remapped: Record<string, number> = {};
    const skipped: Record<string, number> = {};
    const skip = (oldId: string, reason: string): void => {
      plan.skipped.push({ oldId, reason });
      skipped[reason] = (skipped[reason] ?? 0) + 1;
    };
    const countRemaps = (values: Values): void => {
      for (const [f, v] of Object.entries(values)) {
        if (references[f] && v && (newIdRows.has(idKey(v)) || idMap.get(v)))
          remapped[f] = (remapped[f] ?? 0) + 1;
      }
    };
    const diff = (snap: Row, current: Row, onlyRelinks: boolean): Values => {
      const changes: Values = {};
      for (const f of updateFields) {
        if (
          onlyRelinks &&
          !(f.type === 'reference' && snap[f.name] && restoredIds.has(idKey(snap[f.name] as string)))
        ) {
          continue;
        }
        const wanted = snap[f.name] ?? null;
        const target = f.type === 'reference' && wanted ? (idMap.get(wanted) ?? wanted) : wanted;
        if (f.type === 'reference' && wanted && dangling.has(idKey(wanted))) continue;
        if (!sameValue(f.type, current[f.name], target)) {
          changes[f.name] = wanted;
          changed[f.name] = (changed[f.name] ?? 0) + 1;
        }
      }
      return changes;
    };
    const bodyField = BODY_OBJECTS.has(object)
      ? live.get(object)?.fields.find((f) => f.type === 'base64' && f.name === 'Body' && f.createable)?.name
      : undefined;
    if (bodyField) types[bodyField] = 'base64';
    const found = liveRows.get(object)!;
    for (const [key, snap] of scope.get(object) ?? new Map<string, Row>()) {
      const mappedId = idMap.get(key);
      const current = found.get(idKey(mappedId ?? key));
      if (!current || current.IsDeleted === 'true') {
        if (!restoresDeleted(mode) || request.fields) {
          skip(
            key,
            request.fields
              ? 'missing from the org; a field list only reverts live rows'
              : 'missing from the org; mode revert-changes only reverts live rows',
          );
          continue;
        }
        if (current && current.IsDeleted === 'true') {
          if (!live.get(object)?.undeletable) {
            skip(key, 'in the recycle bin, but the object cannot be undeleted');
            continue;
          }
          const changes = diff(snap, current, false);
          plan.undelete.push({ id: current.Id as string, changes });
          countRemaps(changes);
        } else {
          const values: Values = {};
          for (const f of split.insert) values[f.name] = snap[f.name] ?? null;
          // The CSV leaves bodies out; the backup kept them as files, named here and read by
          // the batch that sends them, so a plan stays small however many bodies it restores.
          const body = bodyField ? await snapshot.bodyRef(object, snap.Id as string) : undefined;
          plan.insert.push({
            oldId: snap.Id as string,
            values,
            ...(body && bodyField ? { bodies: { [bodyField]: body } } : {}),
          });
          countRemaps(values);
        }
        continue;
      }
      const relinkOnly = !revertsChanges(mode);
      const changes = diff(snap, current, relinkOnly);
      if (Object.keys(changes).length > 0) {
        plan.update.push({ id: current.Id as string, oldId: snap.Id as string, changes });
        countRemaps(changes);
      }
    }
    const coverage = request.snapshot.kind === 'instant' ? await snapshot.coverage?.(object) : undefined;
    const pointInTime = coverage ? pointInTimeOf(coverage, plan) : undefined;
    objectPlans.push(pointInTime ? { ...plan, uncertain: pointInTime.rows } : plan);
    summaries.push({
      object,
      level: plan.level,
      rowsInScope: scope.get(object)?.size ?? 0,
      undelete: plan.undelete.length,
      insert: plan.insert.length,
      update: plan.update.length,
      changedFields: changed,
      remappedReferences: remapped,
      secondPassFields: deferred,
      skipped,
      unrestorable: split.unrestorable,
      ...(pointInTime ? { pointInTime: pointInTime.summary } : {}),
    });
  }
  const plan: RestorePlan = {
    runId,
    orgId,
    root,
    snapshotId: snapshot.id,
    snapshotTakenAt: snapshot.takenAt,
    ...(request.snapshot.kind === 'instant' ? { pointInTime: request.snapshot.at } : {}),
    mode,
    levels: order.levels.map((l) => [...l]),
    objects: summaries,
    danglingReferences: [...dangling],
    totals: {
      undelete: sum(objectPlans, (p) => p.undelete.length),
      insert: sum(objectPlans, (p) => p.insert.length),
      update: sum(objectPlans, (p) => p.update.length),
    },
  };
  for (const p of objectPlans) await writeJsonOnce(store, restoreKeys.objectPlan(root, runId, p.object), p);
  await writeJsonOnce(store, restoreKeys.plan(root, runId), plan);
  return { plan, objectPlans };
}

/** An object's point-in-time coverage as the plan records it: every uncertain row, and a bounded summary. */
function pointInTimeOf(
  coverage: ObjectCoverage,
  plan: ObjectPlan,
): { rows: UncertainRow[]; summary: ObjectPointInTime } {
  const writes = new Set(
    [
      ...plan.undelete.map((u) => u.id),
      ...plan.insert.map((i) => i.oldId),
      ...plan.update.map((u) => u.oldId),
    ].map(idKey),
  );
  const rows = [...coverage.uncertain]
    .map(([id, gapAt]) => ({ id, gapAt, written: writes.has(idKey(id)) }))
    .sort((a, b) => a.gapAt.localeCompare(b.gapAt) || a.id.localeCompare(b.id));
  const written = rows.filter((r) => r.written);
  return {
    rows,
    summary: {
      instant: coverage.instant,
      continuous: coverage.snapshotOnly === undefined,
      snapshotId: coverage.snapshotId,
      snapshotWatermark: coverage.snapshotWatermark,
      events: coverage.events,
      ...(coverage.snapshotOnly !== undefined ? { snapshotOnlyReason: coverage.snapshotOnly } : {}),
      uncertain: rows.length,
      firstUncertain: rows.slice(0, NAMED_UNCERTAIN),
      uncertainWritten: written.length,
      firstUncertainWritten: written.slice(0, NAMED_UNCERTAIN),
    },
  };
}

/**
 * References from restored rows to rows outside the restore: those that no longer exist in the
 * org cannot be kept (the write would fail), so they are listed and cleared. Polymorphic
 * references (WhoId, WhatId) are resolved per id by its key prefix.
 */
async function findDangling(
  org: RestoreOrg,
  scope: Scope,
  splits: Map<string, ReturnType<typeof splitFields>>,
  live: Map<string, ObjectInfo>,
  restoredIds: Set<string>,
): Promise<Set<string>> {
  const inScope = new Set<string>();
  for (const rows of scope.values()) for (const k of rows.keys()) inScope.add(k);
  const byObject = new Map<string, Set<string>>();
  const prefixes = new Map<string, string>();
  for (const [object, rows] of scope) {
    const refs = unique(
      [...splits.get(object)!.insert, ...splits.get(object)!.update]
        .filter((f) => f.type === 'reference')
        .map((f) => f.name),
    );
    const fields = new Map(live.get(object)!.fields.map((f) => [f.name, f]));
    for (const row of rows.values()) {
      for (const name of refs) {
        const value = row[name];
        if (!value || inScope.has(idKey(value))) continue;
        const targets = fields.get(name)?.referenceTo ?? [];
        const target = await targetOf(org, value, targets, prefixes);
        if (!target) continue;
        const set = byObject.get(target) ?? new Set<string>();
        set.add(value);
        byObject.set(target, set);
      }
    }
  }
  const dangling = new Set<string>();
  for (const [object, ids] of byObject) {
    let found: Row[];
    try {
      found = await org.fetchByIds(object, [...ids], []);
    } catch {
      continue; // an object the restore user cannot query: leave its references as they are
    }
    const alive = new Set(
      found.filter((r) => r.Id && r.IsDeleted !== 'true').map((r) => idKey(r.Id as string)),
    );
    for (const id of ids) if (!alive.has(idKey(id)) && !restoredIds.has(idKey(id))) dangling.add(idKey(id));
  }
  return dangling;
}

async function targetOf(
  org: RestoreOrg,
  id: string,
  targets: readonly string[],
  prefixes: Map<string, string>,
): Promise<string | undefined> {
  if (targets.length === 1) return targets[0];
  for (const t of targets) {
    if (!prefixes.has(t)) prefixes.set(t, (await org.describe(t))?.keyPrefix ?? '');
    if (prefixes.get(t) === id.slice(0, 3)) return t;
  }
  return undefined;
}

function fieldsFor(fields: readonly string[] | undefined, object: string): Set<string> | undefined {
  if (!fields) return undefined;
  return new Set(
    fields
      .filter((f) => !f.includes('.') || f.startsWith(`${object}.`))
      .map((f) => (f.includes('.') ? f.slice(f.indexOf('.') + 1) : f)),
  );
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((a, x) => a + f(x), 0);
}
