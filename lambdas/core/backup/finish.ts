import {
  filesDeferredKey,
  filesFailureKey,
  filesPlanKey,
  filesPlanStepPrefix,
  filesResultKey,
  filesReusedKey,
  filesReusedListKey,
  metadataFailuresPrefix,
  metadataPlanKey,
  metadataResultKey,
  objectResultKey,
  objectSpecKey,
  planDetailKey,
  remedyKey,
} from '../snapshot/keys.ts';
import type {
  SkippedObject,
  SnapshotError,
  SnapshotFileList,
  SnapshotManifest,
  SnapshotObject,
} from '../snapshot/manifest.ts';
import { MANIFEST_FORMAT_VERSION } from '../snapshot/manifest.ts';
import { FILE_LISTS_AT_ONCE, fileListOf } from '../snapshot/file-lists.ts';
import { inTurns } from '../in-turns.ts';
import { SnapshotReader } from '../snapshot/reader.ts';
import { verifySnapshot } from '../snapshot/verifier.ts';
import { recordSnapshotOutcome, writeManifest } from '../snapshot/writer.ts';
import { ObjectNotFoundError } from '../store.ts';
import { type Anomaly, anomalyMessage, type ChangeHistory, findAnomalies } from './anomalies.ts';
import { changeAlertPolicy } from './change-alert-settings.ts';
import { anomalyKey, remedyFiles } from './remedy.ts';
import type { ObjectChanges } from './change-kinds.ts';
import { changesKey, type ObjectComparison } from './changes.ts';
import { readJson } from './export-object.ts';
import { describeAttempts, type StepFailure } from './failure-cause.ts';
import { retrieveStep } from './metadata.ts';
import type {
  BackupDeps,
  FilesResult,
  FinishOutput,
  MetadataResult,
  ObjectResult,
  ObjectSpec,
  PlanDetail,
} from './types.ts';

async function optionalJson<T>(deps: BackupDeps, key: string): Promise<T | undefined> {
  try {
    return await readJson<T>(deps, key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Assembles the manifest from what each step recorded, verifies every part against the store,
 * and only then marks the snapshot complete. Anything missing, unverified or unexplained by
 * concurrent edits makes the run fail, and the snapshot is never marked complete.
 */
export async function finishBackup(
  deps: BackupDeps,
  input: { org: string; snapshotId: string },
): Promise<FinishOutput> {
  const { org, snapshotId } = input;
  const detail = await readJson<PlanDetail>(deps, planDetailKey(org, snapshotId));
  const callsBefore = deps.source.apiCalls();
  const errors: SnapshotError[] = [];
  const objects: SnapshotObject[] = [];
  const skippedObjects: SkippedObject[] = [...detail.skipped];
  // What each exported object changed, from its comparison with the chain; objects whose
  // comparison never finished are named in the alert instead.
  const changes: ObjectChanges[] = [];
  const uncompared: string[] = [];
  const problemsOfAnalysis: string[] = [];

  for (const planned of detail.exported) {
    const spec = await readJson<ObjectSpec>(deps, objectSpecKey(org, snapshotId, planned.name));
    const result = await optionalJson<ObjectResult>(deps, objectResultKey(org, snapshotId, planned.name));
    if (result?.status === 'skipped' && result.skip) {
      // Salesforce refused the object for good and the settings did not name it: left out, with why.
      skippedObjects.push({
        name: planned.name,
        reason: result.skip.reason,
        reasonCode: result.skip.reasonCode,
      });
      continue;
    }
    const strategy = spec.strategy?.kind ?? 'all';
    if (result?.status === 'exported' && strategy !== 'all' && spec.since !== null && result.rows === 0) {
      // An object read by filtered queries cannot be counted at plan time, so an incremental run
      // queries it; finding no row changed since the base, it is listed as unchanged, as a counted
      // object would be.
      objects.push({
        ...unchangedEntry(spec.name, spec.fields, detail),
        watermarkField: spec.watermarkField ?? null,
        strategy,
        apiCalls: result.apiCalls,
      });
      continue;
    }
    if (result?.status !== 'exported') {
      const message = result?.error ?? 'the export never finished';
      errors.push({ scope: 'object', subject: planned.name, name: 'ObjectExportFailed', message });
    }
    const entry: SnapshotObject = {
      name: spec.name,
      status: result?.status === 'exported' ? 'exported' : 'failed',
      api: result?.api ?? spec.api,
      fields: spec.fields,
      rows: result?.rows ?? 0,
      deletedRows: result?.deletedRows ?? 0,
      bytes: result?.bytes ?? 0,
      parts: result?.status === 'exported' ? result.parts : [],
      since: spec.since,
      watermark: detail.watermark,
      watermarkField: spec.watermarkField === undefined ? watermarkFieldOfSpec(spec) : spec.watermarkField,
      strategy: spec.strategy?.kind ?? 'all',
      apiCalls: result?.apiCalls ?? 0,
    };
    if (planned.countAtStart !== undefined) entry.countAtStart = planned.countAtStart;
    if (spec.tombstones) entry.tombstones = spec.tombstones;
    if (spec.fullReason) entry.fullReason = spec.fullReason;
    if (spec.journalSettled) entry.journalSettled = spec.journalSettled;
    if (result?.status === 'exported') {
      const comparison = await optionalJson<ObjectComparison>(deps, changesKey(org, snapshotId, spec.name));
      if (comparison?.changes) {
        entry.changes = { ...comparison.changes.counts, restored: comparison.changes.restored };
        changes.push(comparison.changes);
      } else if (!comparison) uncompared.push(spec.name);
      if (comparison?.links) entry.links = comparison.links;
    }
    if (result?.error) entry.error = result.error;
    objects.push(entry);
  }
  for (const unchanged of detail.unchanged) {
    objects.push({
      ...unchangedEntry(unchanged.name, unchanged.fields, detail),
      ...(unchanged.watermarkField !== undefined ? { watermarkField: unchanged.watermarkField } : {}),
    });
  }
  if (detail.continuousObjects) {
    const continuous = new Set(detail.continuousObjects);
    for (const object of objects) object.continuous = continuous.has(object.name);
  }
  objects.sort((a, b) => a.name.localeCompare(b.name));
  skippedObjects.sort((a, b) => a.name.localeCompare(b.name));
  const newlySkipped =
    detail.mode === 'metadata' ? [] : await newlySkippedObjects(deps, org, detail, skippedObjects);
  for (const [index, entry] of skippedObjects.entries()) {
    if (newlySkipped.includes(entry)) skippedObjects[index] = { ...entry, firstTime: true };
  }

  // Full runs: rows exported against COUNT() before and after. Rows added or purged while the run
  // went on explain a difference inside that range; anything outside it is a gap.
  if (detail.mode === 'full') {
    // Objects read by filtered queries refuse a COUNT() of every row: they are not counted.
    const exported = objects.filter((o) => o.status === 'exported' && (o.strategy ?? 'all') === 'all');
    const counts = await deps.source.countRows(
      exported.map((o) => ({ key: o.name, soql: `SELECT COUNT() FROM ${o.name}` })),
    );
    for (const object of exported) {
      const end = counts.get(object.name);
      if (end === undefined) continue;
      object.countAtEnd = end;
      const start = object.countAtStart ?? end;
      if (object.rows < Math.min(start, end) || object.rows > Math.max(start, end)) {
        errors.push({
          scope: 'count',
          subject: object.name,
          name: 'RowCountGap',
          message: `exported ${object.rows} rows, but COUNT() was ${start} when the run started and ${end} at the end`,
        });
      }
    }
  }

  const files = await collectFiles(deps, org, snapshotId, errors);
  const metadata = await collectMetadata(deps, org, snapshotId, detail, errors);
  const finishCalls = deps.source.apiCalls() - callsBefore;
  const exportCalls = objects.reduce((n, o) => n + o.apiCalls, 0);
  const manifest: SnapshotManifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    snapshotId,
    runId: detail.runId,
    org,
    orgId: detail.orgId,
    apiVersion: detail.apiVersion,
    mode: detail.mode,
    requestedMode: detail.requestedMode,
    baseSnapshotId: detail.baseSnapshotId,
    startedAt: detail.startedAt,
    finishedAt: deps.clock().toISOString(),
    watermark: detail.watermark,
    overlapSeconds: detail.settings.overlapSeconds,
    ...(detail.fullReason ? { fullReason: detail.fullReason } : {}),
    ...(detail.journalBreak ? { journalBreak: { ...detail.journalBreak } } : {}),
    ...(detail.warnings && detail.warnings.length > 0 ? { warnings: [...detail.warnings] } : {}),
    objects,
    skippedObjects,
    files: [],
    fileLists: files.lists,
    metadata: { included: detail.metadata, components: metadata.components, parts: metadata.parts },
    apiCalls: {
      total: detail.apiCalls + exportCalls + files.apiCalls + metadata.apiCalls + finishCalls,
      plan: detail.apiCalls,
      export: exportCalls,
      files: files.apiCalls,
      metadata: metadata.apiCalls,
      finish: finishCalls,
    },
    errors,
  };
  const written = await writeManifest(deps.store, manifest);
  const problems = errors.map((e) => `${e.subject}: ${e.message}`);
  for (const problem of await verifySnapshot(deps.store, manifest)) problems.push(`verify: ${problem}`);
  const entry = await recordSnapshotOutcome(deps.store, manifest, {
    manifestKey: written.key,
    manifestSha256: written.sha256,
    problems,
  });

  // Unusual changes are judged on a complete snapshot only: a failed one alerts as failed.
  const anomalies =
    entry.status === 'complete' && detail.mode !== 'metadata'
      ? findAnomalies(
          changes,
          await changeHistory(deps, org, detail),
          changeAlertPolicy(detail.settings),
          detail.mode,
        )
      : [];
  const remedyKeys = await storeRemedies(deps, org, snapshotId, detail, anomalies);
  if (entry.status === 'complete' && uncompared.length > 0)
    problemsOfAnalysis.push(
      `The changes of ${uncompared.length} object${uncompared.length === 1 ? '' : 's'} could not be compared with the earlier backups, so no change alert covers them this run: ${uncompared.slice(0, 20).join(', ')}${uncompared.length > 20 ? ', ...' : ''}. The snapshot itself is complete. The CompareObject step of each, in the execution's history in the Step Functions console, shows why.`,
    );
  const shown = problems.slice(0, 20);
  if (problems.length > 20) shown.push(`...and ${problems.length - 20} more (see ${written.key})`);
  return {
    org,
    snapshotId,
    status: entry.status,
    mode: detail.mode,
    objects: objects.filter((o) => o.status !== 'failed').length,
    rows: objects.reduce((n, o) => n + o.rows, 0),
    files: files.count,
    filesDownloaded: files.downloaded,
    metadataComponents: metadata.components,
    apiCalls: manifest.apiCalls.total,
    problems: shown,
    failureMessage:
      entry.status === 'complete'
        ? ''
        : `Backup ${snapshotId} of org ${org} FAILED and was not marked complete. Missing or wrong:\n${shown.map((p) => `- ${p}`).join('\n')}`,
    // Objects newly left out reach the same alert as unusual changes, once: the next run compares
    // with this snapshot and finds them skipped already.
    anomalyMessage: [
      fullRunMessage(org, snapshotId, detail),
      journalBreakMessage(org, snapshotId, detail),
      relayDownMessage(org, snapshotId, detail),
      anomalyMessage(org, snapshotId, anomalies, remedyKeys),
      problemsOfAnalysis.join('\n'),
      skippedMessage(org, snapshotId, newlySkipped),
    ]
      .filter((text) => text !== '')
      .join('\n\n'),
    hasAnomalies:
      anomalies.length > 0 ||
      newlySkipped.length > 0 ||
      detail.fullReason !== undefined ||
      detail.journalBreak !== undefined ||
      detail.relayDown !== undefined ||
      problemsOfAnalysis.length > 0,
    fullReason: detail.fullReason ?? '',
    ...(detail.warnings && detail.warnings.length > 0 ? { warnings: [...detail.warnings] } : {}),
    objectsSkipped: skippedObjects.length,
    objectsNewlySkipped: newlySkipped.length,
  };
}

/** The alert text of a run that was asked to be incremental and ran in full, and why. */
function fullRunMessage(org: string, snapshotId: string, detail: PlanDetail): string {
  if (!detail.fullReason) return '';
  return `Backup ${snapshotId} of org ${org} ran as a full backup instead of an incremental: ${detail.fullReason}. It reads every row, so it takes longer and spends more API calls than an incremental; the next incremental builds on it.`;
}

/**
 * The alert text of a break in the change-event journal found by a run that was full anyway (an
 * incremental made full for it says so in its full-run text).
 */
function journalBreakMessage(org: string, snapshotId: string, detail: PlanDetail): string {
  if (!detail.journalBreak || detail.fullReason) return '';
  return `Backup ${snapshotId} of org ${org} found a break in the change-event journal from ${detail.journalBreak.from} to ${detail.journalBreak.to}: ${detail.journalBreak.reason} This full backup reads every row, so the vault is whole again from it on.`;
}

/** The alert text of a run that found the relay relaying nothing: sent by every such run. */
function relayDownMessage(org: string, snapshotId: string, detail: PlanDetail): string {
  if (!detail.relayDown) return '';
  return `Backup ${snapshotId} of org ${org} found the change-event journal's relay down: ${detail.relayDown}`;
}

/** The entry of an object an incremental run found unchanged since its base. */
function unchangedEntry(name: string, fields: SnapshotObject['fields'], detail: PlanDetail): SnapshotObject {
  return {
    name,
    status: 'unchanged',
    api: 'none',
    fields,
    rows: 0,
    deletedRows: 0,
    bytes: 0,
    parts: [],
    since: detail.since,
    watermark: detail.watermark,
    apiCalls: 0,
  };
}

/** Plans written before the watermark field was recorded read changes by SystemModstamp only. */
function watermarkFieldOfSpec(spec: ObjectSpec): 'SystemModstamp' | null {
  return spec.columns.includes('SystemModstamp') ? 'SystemModstamp' : null;
}

/**
 * Objects this snapshot leaves out that the previous complete data snapshot of the org did not
 * (every one on the org's first snapshot). Exclusions by the configuration are left aside: someone
 * chose them.
 */
async function newlySkippedObjects(
  deps: BackupDeps,
  org: string,
  detail: PlanDetail,
  skipped: readonly SkippedObject[],
): Promise<SkippedObject[]> {
  const reader = new SnapshotReader(deps.store);
  const previous = await reader.completeDataBefore(org, detail.snapshotId);
  const before = previous
    ? new Set(
        (await reader.manifest(org, previous.snapshotId)).skippedObjects
          // One left out by the configuration then and refused by Salesforce now is news.
          .filter((o) => o.reasonCode !== 'excluded')
          .map((o) => o.name),
      )
    : new Set<string>();
  return skipped.filter((o) => o.reasonCode !== 'excluded' && !before.has(o.name));
}

/** The alert text for objects newly left out: each with its reason, at most 20 lines. */
function skippedMessage(org: string, snapshotId: string, skipped: readonly SkippedObject[]): string {
  if (skipped.length === 0) return '';
  const lines = skipped.slice(0, 20).map((o) => `- ${o.name}: ${o.reasonCode ?? 'skipped'}: ${o.reason}`);
  const more =
    skipped.length > 20 ? `\n...and ${skipped.length - 20} more (see the manifest's skippedObjects).` : '';
  return `Backup ${snapshotId} of org ${org} leaves out ${skipped.length} object${skipped.length === 1 ? '' : 's'} it did not leave out before:\n${lines.join('\n')}${more}\nThis is said once; "sfbackup coverage" lists every object left out and why.`;
}

/**
 * The records listing the run's file bodies (the reused list, then each batch's result), as the
 * manifest names them, and the counts: one record is held at a time, whatever the number of files.
 */
async function collectFiles(
  deps: BackupDeps,
  org: string,
  snapshotId: string,
  errors: SnapshotError[],
): Promise<{ lists: SnapshotFileList[]; count: number; downloaded: number; apiCalls: number }> {
  const none = { lists: [], count: 0, downloaded: 0, apiCalls: 0 };
  const items = await optionalJson<unknown[]>(deps, filesPlanKey(org, snapshotId));
  if (!items) {
    let steps = 0;
    for await (const _ of deps.store.list(filesPlanStepPrefix(org, snapshotId))) steps++;
    errors.push({
      scope: 'files',
      subject: 'plan',
      name: 'FilesNotPlanned',
      message:
        steps === 0
          ? 'the files step never ran'
          : `the files plan stopped after ${steps} of its steps, before it had planned every file`,
    });
    return none;
  }
  const batches = items.length;
  const deferred = await optionalJson<{ count: number; budget: number }>(
    deps,
    filesDeferredKey(org, snapshotId),
  );
  if (deferred && deferred.count > 0) {
    errors.push({
      scope: 'files',
      subject: 'API share',
      name: 'FilesDeferred',
      message: `${deferred.count} file bodies were not downloaded: the run's API share (${deferred.budget} calls) ran out; the next run fetches them`,
    });
  }
  const lists: SnapshotFileList[] = [];
  let count = 0;
  let downloaded = 0;
  let apiCalls = 0;
  const take = (bytes: Uint8Array, key: string): unknown => {
    const { list, entries, record } = fileListOf(bytes, key);
    lists.push(list);
    count += list.count;
    downloaded += entries.filter((f) => f.downloaded).length;
    return record;
  };
  // A run planned by an earlier version listed them in one record.
  const legacy = await optionalBytes(deps, filesReusedKey(org, snapshotId));
  if (legacy) take(legacy, filesReusedKey(org, snapshotId));
  // Numbered from 1 without a gap, read some at once up to the first number not written.
  for (let from = 1, more = true; more; from += FILE_LISTS_AT_ONCE) {
    const keys = Array.from({ length: FILE_LISTS_AT_ONCE }, (_, i) =>
      filesReusedListKey(org, snapshotId, from + i),
    );
    const read = await inTurns(keys, FILE_LISTS_AT_ONCE, (key) => optionalBytes(deps, key));
    for (const [i, key] of keys.entries()) {
      const bytes = read[i];
      if (!bytes) {
        more = false;
        break;
      }
      take(bytes, key);
    }
  }
  // A first backup of a million files has 20,000 batches: their results are read some at once.
  for (let from = 1; from <= batches; from += FILE_LISTS_AT_ONCE) {
    const window = Array.from(
      { length: Math.min(FILE_LISTS_AT_ONCE, batches - from + 1) },
      (_, i) => from + i,
    );
    const read = await inTurns(window, FILE_LISTS_AT_ONCE, (batch) =>
      optionalBytes(deps, filesResultKey(org, snapshotId, batch)),
    );
    for (const [i, batch] of window.entries()) {
      const bytes = read[i];
      if (!bytes) {
        const failure = await optionalJson<{ message: string }>(
          deps,
          filesFailureKey(org, snapshotId, batch),
        );
        errors.push({
          scope: 'files',
          subject: `batch ${batch}`,
          name: 'FilesBatchFailed',
          message: failure?.message ?? 'the batch never finished',
        });
        continue;
      }
      apiCalls += (take(bytes, filesResultKey(org, snapshotId, batch)) as FilesResult).apiCalls;
    }
  }
  return { lists, count, downloaded, apiCalls };
}

async function optionalBytes(deps: BackupDeps, key: string): Promise<Uint8Array | undefined> {
  try {
    return await deps.store.get(key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

async function collectMetadata(
  deps: BackupDeps,
  org: string,
  snapshotId: string,
  detail: PlanDetail,
  errors: SnapshotError[],
): Promise<{ parts: MetadataResult['parts']; components: number; apiCalls: number }> {
  if (!detail.metadata) return { parts: [], components: 0, apiCalls: 0 };
  const plan = await optionalJson<{ chunks: unknown[]; components: number }>(
    deps,
    metadataPlanKey(org, snapshotId),
  );
  if (!plan) {
    errors.push({
      scope: 'metadata',
      subject: 'plan',
      name: 'MetadataNotListed',
      message: withCause('metadata was never listed', await stepFailures(deps, org, snapshotId, 'list')),
    });
    return { parts: [], components: 0, apiCalls: 0 };
  }
  const parts: MetadataResult['parts'] = [];
  let apiCalls = 0;
  for (let chunk = 0; chunk < plan.chunks.length; chunk++) {
    const result = await optionalJson<MetadataResult>(deps, metadataResultKey(org, snapshotId, chunk));
    if (!result) {
      errors.push({
        scope: 'metadata',
        subject: `retrieve ${chunk + 1}`,
        name: 'MetadataRetrieveMissing',
        message: withCause(
          'the retrieve never finished',
          await stepFailures(deps, org, snapshotId, retrieveStep(chunk)),
        ),
      });
      continue;
    }
    parts.push(...result.parts);
    apiCalls += result.apiCalls;
  }
  return { parts, components: parts.reduce((n, p) => n + p.components, 0), apiCalls };
}

async function stepFailures(
  deps: BackupDeps,
  org: string,
  snapshotId: string,
  step: string,
): Promise<StepFailure[]> {
  const failures: StepFailure[] = [];
  for await (const entry of deps.store.list(metadataFailuresPrefix(org, snapshotId, step))) {
    failures.push(await readJson<StepFailure>(deps, entry.key));
  }
  return failures;
}

function withCause(what: string, failures: readonly StepFailure[]): string {
  return failures.length > 0 ? `${what}: ${describeAttempts(failures)}` : what;
}

/**
 * The counts of the earlier complete runs of the same mode, per object and kind, oldest first: the
 * learned baseline reads them. At most the baseline's number of runs is read.
 */
async function changeHistory(deps: BackupDeps, org: string, detail: PlanDetail): Promise<ChangeHistory> {
  const reader = new SnapshotReader(deps.store);
  const runs = changeAlertPolicy(detail.settings).baseline.runs;
  const earlier = (await reader.catalog(org))
    .filter((e) => e.status === 'complete' && e.mode === detail.mode && e.snapshotId < detail.snapshotId)
    .slice(-runs);
  // A run the retention sweep removed since the catalog was read is left out of the baseline.
  const manifests = (
    await Promise.all(earlier.map((e) => reader.manifestUnlessSwept(org, e.snapshotId)))
  ).filter((m) => m !== undefined);
  return (object, kind) =>
    manifests.flatMap((m) => {
      const entry = m.objects.find((o) => o.name === object);
      // A run that found the object unchanged changed nothing in it: a quiet run counts as 0.
      if (entry?.status === 'unchanged') return [0];
      return entry?.changes ? [entry.changes[kind]] : [];
    });
}

/**
 * Writes each anomaly's remedy (dry-run restore inputs, or the ids no restore brings back) next to
 * the snapshot, under `remedies/`, and returns their keys for the message.
 */
async function storeRemedies(
  deps: BackupDeps,
  org: string,
  snapshotId: string,
  detail: PlanDetail,
  anomalies: readonly Anomaly[],
): Promise<Map<string, string[]>> {
  const keys = new Map<string, string[]>();
  if (anomalies.length === 0) return keys;
  const baseSnapshotId = await snapshotBefore(deps, org, detail);
  if (!baseSnapshotId) return keys;
  for (const anomaly of anomalies) {
    const stored: string[] = [];
    for (const file of remedyFiles(anomaly, { org, baseSnapshotId })) {
      const key = remedyKey(org, snapshotId, file.name);
      // A finish run again after a crash finds its remedies written: they are the same.
      if (!(await deps.store.head(key)))
        await deps.store.put(key, file.body, {
          contentType: file.name.endsWith('.json') ? 'application/json' : 'text/plain',
        });
      stored.push(key);
    }
    keys.set(anomalyKey(anomaly), stored);
  }
  return keys;
}

/** The complete data snapshot the org was in before this run: what a remedy restores from. */
async function snapshotBefore(
  deps: BackupDeps,
  org: string,
  detail: PlanDetail,
): Promise<string | undefined> {
  if (detail.baseSnapshotId) return detail.baseSnapshotId;
  return (await new SnapshotReader(deps.store).completeDataBefore(org, detail.snapshotId))?.snapshotId;
}
