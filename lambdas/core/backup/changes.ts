import { writeSidePart } from '../snapshot/writer.ts';
import { createHash } from 'node:crypto';
import { restoreKeys, restoreRoot } from '../restore/keys.ts';
import { leaseWindows } from '../restore/lease.ts';
import { ERASURE_LEASE_PREFIX } from '../../../contract/workflow-contract.ts';
import { idKey } from '../restore/values.ts';
import { objectResultKey, objectSpecKey, planDetailKey, snapshotPrefix } from '../snapshot/keys.ts';
import type { SnapshotPart } from '../snapshot/manifest.ts';
import {
  ROW_STATE_FIELDS,
  SAVE_STAMP_FIELDS,
  SYSTEM_FIELDS as SNAPSHOT_SYSTEM_FIELDS,
} from '../snapshot/system-fields.ts';
import { type PointInTime, readPartRows, SnapshotReader } from '../snapshot/reader.ts';
import { ObjectNotFoundError } from '../store.ts';
import { type ChangeKind, type FieldShift, noChanges, type ObjectChanges } from './change-kinds.ts';
import { readJson } from './export-object.ts';
import type { BackupDeps, ObjectResult, ObjectSpec, PlanDetail } from './types.ts';

/** Where the comparison of one object is kept for the finish step. */
export const changesKey = (org: string, snapshotId: string, object: string): string =>
  `${snapshotPrefix(org, snapshotId)}changes/${object}.json`;

/** What the comparison of one object leaves for the finish step. */
export interface ObjectComparison {
  readonly object: string;
  /** False when there was nothing to compare with (no earlier snapshot held the object). */
  readonly compared: boolean;
  readonly changes?: ObjectChanges;
  /** Rows a restore inserted again under new ids, with the ids they replace (Id, ReplacesId). */
  readonly links?: SnapshotPart;
  /** Why the object was not compared, when it was too large to. */
  readonly skipped?: string;
}

/**
 * Fields a person does not set: they move with every write, or Salesforce computes them. A change
 * of one alone is not what a field-level alert is about.
 */
const SYSTEM_FIELDS: ReadonlySet<string> = new Set([
  ...ROW_STATE_FIELDS,
  ...SAVE_STAMP_FIELDS,
  ...SNAPSHOT_SYSTEM_FIELDS,
]);

/** What the run read of one row: its version stamp and whether it is in the recycle bin. */
interface Seen {
  /** Its version stamp, or its values where the object has no watermark field. */
  readonly version: string | Readonly<Record<string, string>>;
  readonly deleted: boolean;
  /** Last written by the user a restore of the org writes as, while a restore ran. */
  readonly byRestore: boolean;
  matched: boolean;
}

/**
 * Compares what this run read of an object with the version of each row the chain held before it,
 * and counts the changes by kind (see `change-kinds.ts`). A row read again with the same version
 * stamp (its watermark field, or all its values where it has none) is no change. Holds the ids
 * this run read and, for the rows it found updated, their previous values: memory grows with the
 * run's rows, not the object's.
 */
export async function compareObject(
  deps: BackupDeps,
  input: { org: string; snapshotId: string; object: string },
): Promise<ObjectComparison> {
  const { org, snapshotId, object } = input;
  const key = changesKey(org, snapshotId, object);
  const done = await existing(deps, key);
  if (done) return done;
  const detail = await readJson<PlanDetail>(deps, planDetailKey(org, snapshotId));
  const spec = await readJson<ObjectSpec>(deps, objectSpecKey(org, snapshotId, object));
  const result = await readJson<ObjectResult>(deps, objectResultKey(org, snapshotId, object));
  const before = await previousPointInTime(deps, org, detail, object);
  let comparison: ObjectComparison = { object, compared: false };
  if (before && result.status === 'exported') {
    comparison = await compare(deps, detail, spec, result, before);
  }
  await deps.store.put(key, JSON.stringify(comparison), { contentType: 'application/json' });
  return comparison;
}

async function existing(deps: BackupDeps, key: string): Promise<ObjectComparison | undefined> {
  try {
    return await readJson<ObjectComparison>(deps, key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

/** The org as the newest complete data snapshot before this run saw it, if it held the object. */
async function previousPointInTime(
  deps: BackupDeps,
  org: string,
  detail: PlanDetail,
  object: string,
): Promise<PointInTime | undefined> {
  const reader = new SnapshotReader(deps.store);
  const previous =
    detail.baseSnapshotId ?? (await reader.completeDataBefore(org, detail.snapshotId))?.snapshotId;
  if (!previous) return undefined;
  const pit = await reader.pointInTime(org, previous);
  return pit.objectNames().includes(object) ? pit : undefined;
}

/**
 * Most rows of one object a comparison reads from the chain: its ids and, for the rows it finds
 * updated, their previous values are held in memory. A larger object is not compared (no change
 * alert covers it) and the run says so in its log.
 */
export const MAX_COMPARED_ROWS = 5_000_000;

async function compare(
  deps: BackupDeps,
  detail: PlanDetail,
  spec: ObjectSpec,
  result: ObjectResult,
  before: PointInTime,
): Promise<ObjectComparison> {
  const held = before.chain.reduce(
    (n, m) => n + (m.objects.find((o) => o.name === spec.name && o.status === 'exported')?.rows ?? 0),
    0,
  );
  if (held + result.rows > MAX_COMPARED_ROWS) {
    return {
      object: spec.name,
      compared: false,
      skipped: `the chain holds ${held} rows of ${spec.name} and the run read ${result.rows}, more than the ${MAX_COMPARED_ROWS} a comparison reads`,
    };
  }
  const same = sameVersion(spec);
  // A restore writes as the same user the backup signs in as: rows that user last wrote while a
  // restore of the org held its lease (from its claim to its release), since the previous snapshot
  // started, are the restore's writes back (updated to the snapshot's values, undeleted), not news
  // for an alert.
  const windows = detail.userId
    ? await restoreWindows(deps, detail, Date.parse(before.target.startedAt))
    : [];
  const byRestore = (values: Readonly<Record<string, string>>): boolean => {
    if (windows.length === 0 || values.LastModifiedById !== detail.userId) return false;
    const at = Date.parse(values.LastModifiedDate ?? '');
    return Number.isFinite(at) && windows.some((w) => at >= w.from && at <= w.to);
  };
  // Rows this run read. A run that read the object in full (a full run, or `since` null) says of
  // every row it did not read that the row is gone; an incremental says so of its tombstones.
  const now = new Map<string, Seen>();
  for (const part of result.parts) {
    for await (const values of readPartRows(deps.store, part)) {
      if (values.Id)
        now.set(values.Id, {
          version: same.keep(values),
          deleted: values.IsDeleted === 'true',
          byRestore: byRestore(values),
          matched: false,
        });
    }
  }
  const readInFull = detail.mode === 'full' || spec.since === null;
  const tombstones = new Set<string>();
  if (spec.tombstones && !readInFull) {
    for await (const values of readPartRows(deps.store, spec.tombstones))
      if (values.Id) tombstones.add(values.Id);
  }

  const ids: Record<ChangeKind, string[]> = {
    inserted: [],
    updated: [],
    deleted: [],
    undeleted: [],
    hardDeleted: [],
  };
  let liveBefore = 0;
  let writtenBack = 0;
  const previousValues = new Map<string, Readonly<Record<string, string>>>();
  for await (const row of before.rows(spec.name)) {
    if (!row.deleted) liveBefore++;
    const seen = now.get(row.id);
    if (!seen) {
      // Gone from the org. A row that was in the recycle bin already was counted when it was
      // deleted: its purge is no news.
      if ((readInFull || tombstones.has(row.id)) && !row.deleted) ids.hardDeleted.push(row.id);
      continue;
    }
    seen.matched = true;
    // A delete or undelete changes the row's state whatever its version stamp says.
    if (seen.deleted !== row.deleted) {
      if (seen.deleted) ids.deleted.push(row.id);
      else if (seen.byRestore) writtenBack++;
      else ids.undeleted.push(row.id);
      continue;
    }
    if (seen.deleted || same.equal(seen.version, row.values)) continue;
    if (seen.byRestore) {
      writtenBack++;
      continue;
    }
    ids.updated.push(row.id);
    previousValues.set(row.id, row.values);
  }

  const replaced = await restoredIds(deps, detail, spec.name);
  const links: [string, string][] = [];
  for (const [id, seen] of now) {
    if (seen.matched || seen.deleted) continue;
    const oldId = replaced.get(idKey(id));
    if (oldId) links.push([id, oldId]);
    else ids.inserted.push(id);
  }
  // A row hard deleted and inserted again by a restore in the same window is back: no news.
  const replacedIds = new Set(links.map(([, oldId]) => idKey(oldId)));
  ids.hardDeleted = ids.hardDeleted.filter((id) => !replacedIds.has(idKey(id)));

  const fields = previousValues.size > 0 ? await fieldShifts(deps, spec, result, previousValues) : [];
  const counts = noChanges();
  for (const kind of Object.keys(counts) as ChangeKind[]) counts[kind] = ids[kind].length;
  const changes: ObjectChanges = {
    object: spec.name,
    liveBefore,
    counts,
    ids,
    restored: links.length + writtenBack,
    fields,
  };
  return {
    object: spec.name,
    compared: true,
    changes,
    ...(links.length > 0 ? { links: await writeLinks(deps, detail, spec.name, links) } : {}),
  };
}

/**
 * How two versions of a row are told apart: by the watermark field, or, for an object without
 * one, by the values a person sets (calculated and system fields left out) on the columns both
 * versions have, so that a field added to the object or a formula's drift is no change.
 */
function sameVersion(spec: ObjectSpec): {
  keep: (values: Readonly<Record<string, string>>) => string | Readonly<Record<string, string>>;
  equal: (
    kept: string | Readonly<Record<string, string>>,
    previous: Readonly<Record<string, string>>,
  ) => boolean;
} {
  const field = spec.watermarkField === undefined ? 'SystemModstamp' : spec.watermarkField;
  if (field) {
    return {
      keep: (values) => values[field] ?? '',
      equal: (kept, previous) => kept === (previous[field] ?? ''),
    };
  }
  const calculated = new Set(spec.fields.filter((f) => f.calculated).map((f) => f.name));
  const compared = (name: string) => !SYSTEM_FIELDS.has(name) && !calculated.has(name);
  return {
    keep: (values) => values,
    equal: (kept, previous) => {
      const now = kept as Readonly<Record<string, string>>;
      return Object.keys(now).every(
        (name) => !compared(name) || !(name in previous) || previous[name] === now[name],
      );
    },
  };
}

/**
 * Per field, for the rows found updated: which went from a value to null, and which all took one
 * same new value (the most common one; values are compared by hash and never kept).
 */
async function fieldShifts(
  deps: BackupDeps,
  spec: ObjectSpec,
  result: ObjectResult,
  previous: ReadonlyMap<string, Readonly<Record<string, string>>>,
): Promise<FieldShift[]> {
  const calculated = new Set(spec.fields.filter((f) => f.calculated).map((f) => f.name));
  const nulled = new Map<string, string[]>();
  const set = new Map<string, Map<string, string[]>>();
  for (const part of result.parts) {
    for await (const values of readPartRows(deps.store, part)) {
      const old = values.Id ? previous.get(values.Id) : undefined;
      if (!old) continue;
      for (const [field, value] of Object.entries(values)) {
        if (SYSTEM_FIELDS.has(field) || calculated.has(field)) continue;
        const was = old[field];
        if (was === undefined || was === value) continue;
        if (value === '') {
          if (was !== '') push(nulled, field, values.Id!);
          continue;
        }
        const byValue = set.get(field) ?? new Map<string, string[]>();
        push(byValue, createHash('sha256').update(value).digest('base64'), values.Id!);
        set.set(field, byValue);
      }
    }
  }
  const names = [...new Set([...nulled.keys(), ...set.keys()])].sort();
  return names.map((field) => {
    let top: string[] | undefined;
    for (const group of set.get(field)?.values() ?? []) if (!top || group.length > top.length) top = group;
    return {
      field,
      nulled: nulled.get(field)?.length ?? 0,
      nulledIds: nulled.get(field) ?? [],
      sameValue: top ? { count: top.length, ids: top } : null,
    };
  });
}

function push(map: Map<string, string[]>, key: string, id: string): void {
  const list = map.get(key);
  if (list) list.push(id);
  else map.set(key, [id]);
}

/** When this org's restores into itself held the lease, for those still holding it at or after `since`. */
async function restoreWindows(
  deps: BackupDeps,
  detail: PlanDetail,
  since: number,
): Promise<{ from: number; to: number }[]> {
  // An erasure holds the lease too, but writes nothing to the org: its windows explain no change.
  return (await leaseWindows(deps.store, restoreRoot(detail.org, detail.orgId), since)).filter(
    (w) => !w.runId.startsWith(ERASURE_LEASE_PREFIX),
  );
}

/**
 * New id (as `idKey` keys it) -> the id it replaces, for the rows this org's restores inserted again into this org
 * (the restores' id map, `restores/<org>/<org id>/id-map/<object>/`).
 */
async function restoredIds(
  deps: BackupDeps,
  detail: PlanDetail,
  object: string,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const prefix = restoreKeys.idMapPrefix(restoreRoot(detail.org, detail.orgId), object);
  for await (const entry of deps.store.list(prefix)) {
    if (!entry.key.endsWith('.json')) continue;
    const file = await readJson<{ entries?: [string, string][] }>(deps, entry.key);
    for (const [oldId, newId] of file.entries ?? []) out.set(idKey(newId), oldId);
  }
  return out;
}

function writeLinks(
  deps: BackupDeps,
  detail: PlanDetail,
  object: string,
  links: readonly [string, string][],
): Promise<SnapshotPart> {
  return writeSidePart(
    deps.store,
    { org: detail.org, snapshotId: detail.snapshotId, object, kind: 'links' },
    ['Id', 'ReplacesId'],
    links.map(([Id, ReplacesId]) => ({ Id, ReplacesId })),
    deps.random,
  );
}
