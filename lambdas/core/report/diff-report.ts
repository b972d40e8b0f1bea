/**
 * The diff report as the report workflow builds it inside AWS: the start checks the request and
 * lists the objects both sides hold, each object is compared in its own Distributed Map item, and
 * the finish compares metadata, gathers the objects' results into one report (the same shape as
 * `sfbackup diff --json`) and writes the restore inputs it suggests. Everything goes under the
 * execution's folder in `reports/<org>/diffs/`; the states carry keys and counts only.
 */
import { z } from 'zod';
import { reportPrefixOf } from '../../../contract/workflow-contract.ts';
import { checkSnapshotId, InvalidInsightRequestError, parseSelector } from '../insight/common.ts';
import {
  diffMetadata,
  diffSnapshots,
  type ObjectDiff,
  rowDifferences,
  type SnapshotDiff,
  side,
} from '../insight/diff.ts';
import { changedGroups, planFromDiff } from '../insight/plan.ts';
import { MAX_RECORD_IDS } from '../restore/input.ts';
import { readJson, writeJsonOnce } from '../restore/store-json.ts';
import { type PointInTime, SnapshotReader } from '../snapshot/reader.ts';
import type { BackupStore } from '../store.ts';
import { WritesUnlessErased } from '../vault-lease.ts';

/** Ids kept per kind per object: as many as one restore input takes, so the suggested inputs hold them all. */
const SAMPLE_LIMIT = MAX_RECORD_IDS;

const SELECTOR = z.string().min(1).max(100);
const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

const requestSchema = z.strictObject({
  from: SELECTOR,
  to: SELECTOR.default('latest'),
  objects: z
    .array(z.string().regex(API_NAME, 'an object API name such as Account'))
    .min(1)
    .max(2000)
    .optional(),
});

/** What the report was asked for, once checked. */
export type DiffRequest = z.infer<typeof requestSchema>;

/** What the start records for the items and the finish. */
interface RunRecord {
  readonly request: DiffRequest;
  readonly org: string;
  /** The data snapshot each side resolved to. */
  readonly from: string;
  readonly to: string;
  /**
   * The snapshot each side selected: its data snapshot, or a newer metadata-only one whose
   * retrieve is the side's metadata. Read again by the finish, so both halves compare one thing.
   */
  readonly fromSelected: string;
  readonly toSelected: string;
  readonly objects: readonly string[];
  readonly objectsOnlyInA: readonly string[];
  readonly objectsOnlyInB: readonly string[];
}

/** The start's output: keys and counts only. */
export interface DiffStartOutput {
  readonly runKey: string;
  readonly objectsKey: string;
  readonly from: string;
  readonly to: string;
  readonly objects: number;
}

/** Row counts over every object compared. */
export interface DiffTotals {
  readonly objectsCompared: number;
  readonly objectsChanged: number;
  readonly inserted: number;
  readonly deletedToBin: number;
  readonly gone: number;
  readonly undeleted: number;
  readonly changed: number;
  readonly metadataAdded: number;
  readonly metadataRemoved: number;
  readonly metadataChanged: number;
}

/** Most inputs of changed fields listed in the execution's output (all are in the index file). */
const LISTED_GROUPS = 50;

/** A restore input the report suggests, or why it suggests none. */
export interface SuggestedInput {
  readonly kind: 'deleted' | 'changed';
  /** Where the input is, ready for the restore console; null when there is none. */
  readonly key: string | null;
  /** Why there is none: nothing of this kind, or too many rows for one input. */
  readonly none?: string;
  /** For a `changed` input: the object, the fields it puts back and on how many rows (each changed on every one). */
  readonly object?: string;
  readonly fields?: readonly string[];
  readonly rows?: number;
}

/** The finish's output, as the console shows it. */
export interface DiffFinishOutput {
  readonly reportKey: string;
  readonly from: string;
  readonly to: string;
  readonly summary: string;
  readonly totals: DiffTotals;
  readonly restoreInputs: readonly SuggestedInput[];
}

/**
 * Begins a step of the report, answering the store it writes through: the report holds record ids
 * and samples of values read from the backups, so no step begins while an erasure of the org holds
 * its vault lease, and no write lands once one has claimed it since the step began (vault-lease.ts).
 */
const guarded = (store: BackupStore, org: string): Promise<BackupStore> =>
  WritesUnlessErased.begin(store, org, 'this diff report');

/** The folder of one execution's report. */
export function diffRunKey(org: string, executionName: string): string {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(executionName)) {
    throw new InvalidInsightRequestError(
      `the execution name "${executionName}" cannot name a report folder: start the execution with a name of letters, digits, - and _ (at most 80).`,
    );
  }
  return `${reportPrefixOf(org)}diffs/${executionName}/`;
}

/** Checks the request, resolves both sides and lists the objects to compare. */
export async function startDiffReport(
  store: BackupStore,
  org: string,
  input: unknown,
  executionName: string,
): Promise<DiffStartOutput> {
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'the input'}: ${i.message}`);
    throw new InvalidInsightRequestError(
      `the diff request is not valid (${problems.join('; ')}). Write e.g. {"from": "20260131T020000Z-abc123", "to": "latest"}, optionally with "objects": ["Account"]; docs/restore.md shows more.`,
    );
  }
  const request = parsed.data;
  store = await guarded(store, org);
  const reader = new SnapshotReader(store);
  const catalog = await reader.catalog(org);
  if (catalog.length === 0) {
    throw new InvalidInsightRequestError(
      `no snapshot of org ${org} in ${store.location}: the org has not been backed up yet.`,
    );
  }
  checkSnapshotId(request.from, catalog, org, store.location);
  checkSnapshotId(request.to, catalog, org, store.location);
  const a = await reader.pointInTime(org, parseSelector(request.from));
  const b = await reader.pointInTime(org, parseSelector(request.to));
  const namesA = a.objectNames();
  const namesB = b.objectNames();
  const both = namesA.filter((n) => namesB.includes(n)).sort();
  let objects = both;
  if (request.objects) {
    const unknown = request.objects.filter((o) => !both.includes(o));
    if (unknown.length > 0) {
      throw new InvalidInsightRequestError(
        `objects: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not held by both ${a.target.snapshotId} and ${b.target.snapshotId}; both hold ${both.slice(0, 40).join(', ')}${both.length > 40 ? `, and ${both.length - 40} more` : ''}.`,
      );
    }
    objects = [...new Set(request.objects)].sort();
  }
  const runKey = diffRunKey(org, executionName);
  const record: RunRecord = {
    request,
    org,
    from: a.target.snapshotId,
    to: b.target.snapshotId,
    fromSelected: selectedOf(a),
    toSelected: selectedOf(b),
    objects,
    objectsOnlyInA: request.objects ? [] : namesA.filter((n) => !namesB.includes(n)).sort(),
    objectsOnlyInB: request.objects ? [] : namesB.filter((n) => !namesA.includes(n)).sort(),
  };
  // Written once: a retried start with the same request carries on, a different one under the
  // same execution name (impossible on AWS) is refused by writeJsonOnce.
  await writeJsonOnce(store, `${runKey}run.json`, record);
  await writeJsonOnce(store, `${runKey}objects.json`, objects);
  return {
    runKey,
    objectsKey: `${runKey}objects.json`,
    from: record.from,
    to: record.to,
    objects: objects.length,
  };
}

/** Compares one object of the two snapshots and writes its result. */
export async function diffReportObject(
  store: BackupStore,
  org: string,
  runKey: string,
  object: string,
): Promise<{ readonly object: string; readonly differences: number }> {
  store = await guarded(store, org);
  const run = await runOf(store, org, runKey);
  if (!run.objects.includes(object)) {
    throw new InvalidInsightRequestError(
      `${object} is not one of the objects this report compares (${runKey}objects.json).`,
    );
  }
  const diff = await diffSnapshots(store, org, run.from, run.to, {
    object,
    skipMetadata: true,
    sampleLimit: SAMPLE_LIMIT,
  });
  const result = diff.objects.find((o) => o.object === object);
  if (!result) throw new InvalidInsightRequestError(`the diff of ${object} returned no result.`);
  await writeJsonOnce(store, objectKey(runKey, object), result);
  return { object, differences: rowDifferences(result) };
}

/** Compares metadata, gathers every object's result into the report and writes the restore inputs it suggests. */
export async function finishDiffReport(
  store: BackupStore,
  org: string,
  runKey: string,
): Promise<DiffFinishOutput> {
  store = await guarded(store, org);
  const run = await runOf(store, org, runKey);
  const objects: ObjectDiff[] = [];
  for (const name of run.objects) {
    const result = await readJson<ObjectDiff>(store, objectKey(runKey, name));
    if (!result) {
      throw new InvalidInsightRequestError(
        `the result of ${name} is missing under ${runKey}objects/: the object was not compared; start the report again.`,
      );
    }
    objects.push(result);
  }
  const reader = new SnapshotReader(store);
  const a = await reader.pointInTime(org, run.fromSelected);
  const b = await reader.pointInTime(org, run.toSelected);
  const diff: SnapshotDiff = {
    org,
    a: { ...side(run.request.from, a) },
    b: { ...side(run.request.to, b) },
    objects,
    objectsOnlyInA: run.objectsOnlyInA,
    objectsOnlyInB: run.objectsOnlyInB,
    metadata: await diffMetadata(a, b),
    sampleLimit: SAMPLE_LIMIT,
  };
  const reportKey = `${runKey}diff.json`;
  await writeJsonOnce(store, reportKey, diff);
  const restoreInputs: SuggestedInput[] = [];
  const suggest = async (kind: 'deleted' | 'changed', write: () => Promise<void>): Promise<void> => {
    try {
      await write();
    } catch (error) {
      if (!(error instanceof InvalidInsightRequestError)) throw error;
      restoreInputs.push({ kind, key: null, none: error.message });
    }
  };
  await suggest('deleted', async () => {
    const input = planFromDiff(diff, { kind: 'deleted' });
    const key = `${runKey}restore-input-deleted.json`;
    await writeJsonOnce(store, key, input);
    restoreInputs.push({ kind: 'deleted', key });
  });
  // One exact input per object and set of changed fields: an input writes each field it lists on
  // each row it lists, so rows that changed in different fields cannot share one.
  await suggest('changed', async () => {
    const all: SuggestedInput[] = [];
    for (const [i, group] of changedGroups(diff).entries()) {
      const key = `${runKey}restore-input-changed-${i + 1}.json`;
      await writeJsonOnce(store, key, group.input);
      all.push({
        kind: 'changed',
        key,
        object: group.object,
        fields: group.fields,
        rows: group.records.length,
      });
    }
    // The execution's output has a size limit: past a few dozen groups it names the index instead.
    const indexKey = `${runKey}restore-inputs-changed.json`;
    await writeJsonOnce(store, indexKey, all);
    restoreInputs.push(...all.slice(0, LISTED_GROUPS));
    if (all.length > LISTED_GROUPS) {
      restoreInputs.push({
        kind: 'changed',
        key: null,
        none: `${all.length - LISTED_GROUPS} more inputs of changed fields (restore-input-changed-${LISTED_GROUPS + 1}.json to -${all.length}.json): ${indexKey} lists all ${all.length}.`,
      });
    }
  });
  const totals = totalsOf(diff);
  return { reportKey, from: run.from, to: run.to, summary: summaryOf(diff, totals), totals, restoreInputs };
}

/** The snapshot a point in time was selected at: the newer of its data and metadata snapshots (ids sort by time). */
function selectedOf(pit: PointInTime): string {
  const metadata = pit.metadataSnapshot?.snapshotId;
  return metadata !== undefined && metadata > pit.target.snapshotId ? metadata : pit.target.snapshotId;
}

async function runOf(store: BackupStore, org: string, runKey: string): Promise<RunRecord> {
  const prefix = `${reportPrefixOf(org)}diffs/`;
  if (!runKey.startsWith(prefix) || !/^[A-Za-z0-9_-]+\/$/.test(runKey.slice(prefix.length))) {
    throw new InvalidInsightRequestError(`the report folder ${runKey} is not one folder under ${prefix}.`);
  }
  const run = await readJson<RunRecord>(store, `${runKey}run.json`);
  if (!run) {
    throw new InvalidInsightRequestError(
      `no diff was started under ${runKey}: start the report from its first step.`,
    );
  }
  return run;
}

const objectKey = (runKey: string, object: string): string => `${runKey}objects/${object}.json`;

function totalsOf(diff: SnapshotDiff): DiffTotals {
  const sum = (pick: (o: ObjectDiff) => number) => diff.objects.reduce((n, o) => n + pick(o), 0);
  return {
    objectsCompared: diff.objects.length,
    objectsChanged: diff.objects.filter((o) => rowDifferences(o) > 0).length,
    inserted: sum((o) => o.inserted.count),
    deletedToBin: sum((o) => o.deletedToBin.count),
    gone: sum((o) => o.gone.count),
    undeleted: sum((o) => o.undeleted.count),
    changed: sum((o) => o.changed.count),
    metadataAdded: diff.metadata.added.length,
    metadataRemoved: diff.metadata.removed.length,
    metadataChanged: diff.metadata.changed.length,
  };
}

function summaryOf(diff: SnapshotDiff, t: DiffTotals): string {
  return (
    `${diff.a.snapshotId} -> ${diff.b.snapshotId}: ${t.objectsChanged} of ${t.objectsCompared} objects changed; ` +
    `rows: ${t.inserted} inserted, ${t.deletedToBin} deleted to the recycle bin, ${t.gone} gone, ${t.undeleted} undeleted, ${t.changed} changed; ` +
    `metadata: ${t.metadataAdded} added, ${t.metadataRemoved} removed, ${t.metadataChanged} changed.`
  );
}
