import { csvHeader, csvLine } from '../snapshot/csv.ts';
import {
  newAttemptId,
  objectResultKey,
  objectSpecKey,
  partKey,
  planDetailKey,
  segmentKey,
} from '../snapshot/keys.ts';
import type { SnapshotPart } from '../snapshot/manifest.ts';
import { SalesforceBulkJobFailedError, SalesforceBulkUnsupportedError } from '../salesforce.ts';
import { ObjectExistsError } from '../store.ts';
import { bulkPagePart, type PartSource, plainPart, storePart } from './page-part.ts';
import { storeObjectResult } from './object-result.ts';
import { collectWorkers, listResultPages, wantsWorkers } from './parallel-export.ts';
import type { BackupSettings } from './settings.ts';
import type {
  BackupDeps,
  ExportCheckpoint,
  ExportInput,
  ExportOutput,
  ExportSegment,
  ObjectResult,
  ObjectSpec,
  PlanDetail,
} from './types.ts';
import { taskFailureCause } from './failure-cause.ts';
import { readParentIds, filterFiles } from './parent-filters.ts';
import { classifyRefusal, encodedLength, refusalKind } from './special-objects.ts';

/** Reads JSON written by an earlier step. */
export async function readJson<T>(deps: BackupDeps, key: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await deps.store.get(key))) as T;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Exports one object, or as much of it as fits in one invocation: pages are streamed through
 * gzip into the store, counted and checked against what Salesforce said they hold. Returns a
 * checkpoint when it stopped early; the workflow calls it again with that checkpoint.
 */
export async function exportObject(deps: BackupDeps, input: ExportInput): Promise<ExportOutput> {
  const { org, snapshotId, object } = input;
  const detail = await readJson<PlanDetail>(deps, planDetailKey(org, snapshotId));
  const spec = await readJson<ObjectSpec>(deps, objectSpecKey(org, snapshotId, object));
  const settings = detail.settings;
  const callsBefore = deps.source.apiCalls();
  const deadline = deps.clock().getTime() + settings.invocationBudgetMs;
  const attempt = newAttemptId(deps.random);
  let checkpoint: ExportCheckpoint = input.checkpoint ?? {
    api: spec.api,
    jobId: null,
    locator: null,
    nextPart: 1,
    segment: 1,
    segments: [],
    apiCalls: 0,
  };
  const segment: { -readonly [K in keyof ExportSegment]: ExportSegment[K] } = {
    segment: checkpoint.segment,
    parts: [],
    deletedRows: 0,
    deletedIds: [],
  };
  const strategy = spec.strategy ?? { kind: 'all' };
  let clauses = 1;
  let clauseAt: (index: number) => Promise<string | null> = async () => null;
  if (strategy.kind === 'per-status') {
    clauses = strategy.values.length;
    clauseAt = async (index) => `${strategy.field} = '${strategy.values[index]!}'`;
  } else if (strategy.kind === 'per-parent') {
    // The parent ids are read first, across as many invocations as that takes; the export of the
    // batches they make starts once every id is read.
    let reading = checkpoint.parents ?? { files: 0, after: null, done: false };
    if (!reading.done) {
      try {
        reading = await readParentIds(
          deps,
          input,
          { object: strategy.parent, field: strategy.field },
          encodedLength(soqlOf(spec, '')),
          reading,
          deadline,
        );
      } catch (error) {
        return refused(deps, input, spec, checkpoint, segment, callsBefore, error);
      }
      checkpoint = { ...checkpoint, parents: reading };
      if (!reading.done) {
        const apiCalls = checkpoint.apiCalls + (deps.source.apiCalls() - callsBefore);
        return { org, snapshotId, object, done: false, checkpoint: { ...checkpoint, apiCalls } };
      }
    }
    clauses = reading.files;
    clauseAt = filterFiles(deps, input);
  }
  // A filtered object with nothing to filter by (no ContentDocument, no ContentDocumentLink) has no rows.
  if (clauses === 0) {
    const apiCalls = checkpoint.apiCalls + (deps.source.apiCalls() - callsBefore);
    const result = await collectResult(
      deps,
      input,
      checkpoint.segments,
      { ...segment, parts: [] },
      'rest',
      apiCalls,
    );
    await storeObjectResult(deps, org, snapshotId, result);
    return { org, snapshotId, object, done: true, checkpoint: null, ...written(segment) };
  }
  const soql = async (clause: number) => soqlOf(spec, await clauseAt(clause));
  try {
    return await exportPages(deps, input, settings, soql, clauses, checkpoint, segment, {
      callsBefore,
      deadline,
      attempt,
    });
  } catch (error) {
    return refused(deps, input, spec, checkpoint, segment, callsBefore, error);
  }
}

async function exportPages(
  deps: BackupDeps,
  input: ExportInput,
  settings: BackupSettings,
  soqlFor: (clause: number) => Promise<string>,
  clauses: number,
  start: ExportCheckpoint,
  segment: { -readonly [K in keyof ExportSegment]: ExportSegment[K] },
  run: { callsBefore: number; deadline: number; attempt: string },
): Promise<ExportOutput> {
  const { org, snapshotId, object } = input;
  const { callsBefore, deadline, attempt } = run;
  let checkpoint = start;
  let finished = false;
  const soql = await soqlFor(checkpoint.clause ?? 0);
  if (checkpoint.pages) {
    // The workers are done: their parts become the object's result, if every page is there.
    await collectWorkers(deps, input, checkpoint, callsBefore);
    return { org, snapshotId, object, done: true, checkpoint: null };
  }
  if (checkpoint.api === 'bulk' && (checkpoint.jobId === null || checkpoint.jobPending)) {
    const job = await bulkJob(deps, soql, settings, deadline, checkpoint);
    if (job.kind === 'unsupported')
      checkpoint = { ...checkpoint, api: 'rest', jobId: null, jobPending: false };
    else if (job.kind === 'ready') {
      checkpoint = { ...checkpoint, jobId: job.jobId, jobPending: false };
      // A large object with nothing read yet is handed to workers, one result page each at a time.
      const untouched = checkpoint.nextPart === 1 && checkpoint.segments.length === 0 && clauses === 1;
      const list =
        untouched && wantsWorkers(deps, settings, job.rows)
          ? await listResultPages(deps, input, job.jobId, job.rows, settings.exportWorkers)
          : null;
      if (list !== null) {
        const apiCalls = checkpoint.apiCalls + (deps.source.apiCalls() - callsBefore);
        const workers = Array.from({ length: list.workers }, (_, index) => ({
          list: list.list,
          index,
          of: list.workers,
        }));
        return {
          org,
          snapshotId,
          object,
          done: false,
          checkpoint: { ...checkpoint, pages: list, apiCalls },
          parallel: { workers },
        };
      }
    } else {
      // A long job outlives the invocation: hand over its id, and the next invocation waits for it.
      const calls = checkpoint.apiCalls + (deps.source.apiCalls() - callsBefore);
      return { org, snapshotId, object, done: false, checkpoint: { ...job.checkpoint, apiCalls: calls } };
    }
  }
  let pages = 0;
  while (!finished) {
    const part =
      checkpoint.api === 'bulk'
        ? bulkPagePart(
            await deps.source.bulkQueryResults(checkpoint.jobId!, checkpoint.locator, settings.pageSize),
          )
        : await restPart(deps, checkpoint, await soqlFor(checkpoint.clause ?? 0), settings);
    const key = partKey(org, snapshotId, object, checkpoint.nextPart, attempt);
    const stored = await storePart(
      deps.store,
      key,
      part,
      settings.gzipLevel,
      `${object}: page ${checkpoint.nextPart}`,
    );
    segment.parts.push(stored.part);
    segment.deletedRows += stored.deletedRows;
    for (const id of stored.deletedIds) if (segment.deletedIds.length < 5) segment.deletedIds.push(id);
    const next = part.nextLocator();
    const clause = checkpoint.clause ?? 0;
    if (next === null && clause + 1 < clauses) {
      // This filter's rows are all read; the next filter's query starts afresh.
      checkpoint = { ...checkpoint, locator: null, nextPart: checkpoint.nextPart + 1, clause: clause + 1 };
    } else {
      checkpoint = { ...checkpoint, locator: next, nextPart: checkpoint.nextPart + 1 };
      finished = next === null;
    }
    pages++;
    const outOfPages = settings.maxPagesPerInvocation > 0 && pages >= settings.maxPagesPerInvocation;
    if (!finished && (outOfPages || deps.clock().getTime() > deadline)) break;
  }

  const apiCalls = checkpoint.apiCalls + (deps.source.apiCalls() - callsBefore);
  if (!finished) {
    // The next invocation's input names this segment; its parts count only once it is stored.
    await deps.store.put(
      segmentKey(org, snapshotId, object, segment.segment, attempt),
      JSON.stringify(segment),
      {
        contentType: 'application/json',
      },
    );
    const segments = [...checkpoint.segments, attempt];
    return {
      org,
      snapshotId,
      object,
      done: false,
      checkpoint: { ...checkpoint, segment: segment.segment + 1, segments, apiCalls },
      ...written(segment),
    };
  }
  const result = await collectResult(deps, input, checkpoint.segments, segment, checkpoint.api, apiCalls);
  await storeObjectResult(deps, org, snapshotId, result);
  return { org, snapshotId, object, done: true, checkpoint: null, ...written(segment) };
}

/** The query of one export: every column, the filter of the strategy, and the watermark bound. */
function soqlOf(spec: ObjectSpec, filter: string | null): string {
  const conditions: string[] = [];
  if (filter !== null) conditions.push(filter);
  // Plans written before the watermark field was recorded bound on SystemModstamp.
  if (spec.since) conditions.push(`${spec.watermarkField ?? 'SystemModstamp'} > ${spec.since}`);
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  return `SELECT ${spec.columns.join(', ')} FROM ${spec.name}${where}`;
}

/**
 * A failure of the object's export: a refusal Salesforce will repeat is recorded as the object
 * skipped with its reason, unless skipping would lose rows someone counts on: then the object is
 * recorded as failed, naming why. That is so when the settings name the object, when the previous
 * snapshot held it, when parts of it are already written (a later page or filter was refused), and
 * for filtered strategies, whose queries Salesforce accepts by design. Anything else is thrown on
 * for the workflow's retry and catch.
 */
async function refused(
  deps: BackupDeps,
  input: ExportInput,
  spec: ObjectSpec,
  checkpoint: ExportCheckpoint,
  segment: ExportSegment,
  callsBefore: number,
  error: unknown,
): Promise<ExportOutput> {
  const refusal = classifyRefusal(error, spec.name);
  if (!refusal) throw error;
  const { org, snapshotId, object } = input;
  const base = {
    object,
    api: checkpoint.api,
    rows: 0,
    deletedRows: 0,
    deletedIds: [],
    bytes: 0,
    parts: [],
    apiCalls: checkpoint.apiCalls + (deps.source.apiCalls() - callsBefore),
  };
  const why = `${refusal.reasonCode}: ${refusal.reason}`;
  const partsWritten = checkpoint.nextPart - 1 + segment.parts.length;
  const failure = spec.includedByName
    ? `included by name in the settings, but Salesforce refuses it: ${why}`
    : spec.heldBefore
      ? `the previous snapshot held it, but Salesforce now refuses it: ${why}. Give the integration user access to it again, or exclude it in the configuration.`
      : partsWritten > 0
        ? `Salesforce refuses it after ${partsWritten} ${partsWritten === 1 ? 'part was' : 'parts were'} written: ${why}`
        : (spec.strategy?.kind ?? 'all') !== 'all'
          ? `Salesforce refuses the filtered query the backup reads it by: ${why}`
          : undefined;
  const result: ObjectResult =
    failure === undefined
      ? { ...base, status: 'skipped', skip: refusal }
      : { ...base, status: 'failed', error: failure };
  await storeObjectResult(deps, org, snapshotId, result);
  return { org, snapshotId, object, done: true, checkpoint: null };
}

/** Records an object whose export failed for good, so the finish step names it as missing. */
export async function recordObjectFailure(
  deps: BackupDeps,
  input: { org: string; snapshotId: string; object: string; error?: { Error?: string; Cause?: string } },
): Promise<{ object: string; recorded: boolean }> {
  const cause = taskFailureCause(input.error);
  const result: ObjectResult = {
    object: input.object,
    status: 'failed',
    api: 'bulk',
    rows: 0,
    deletedRows: 0,
    deletedIds: [],
    bytes: 0,
    parts: [],
    apiCalls: 0,
    error: cause,
  };
  try {
    await deps.store.put(objectResultKey(input.org, input.snapshotId, input.object), JSON.stringify(result), {
      contentType: 'application/json',
    });
    return { object: input.object, recorded: true };
  } catch (error) {
    if (error instanceof ObjectExistsError) return { object: input.object, recorded: false };
    throw error;
  }
}

type BulkJobOutcome =
  | { readonly kind: 'ready'; readonly jobId: string; readonly rows: number }
  | { readonly kind: 'unsupported' }
  | { readonly kind: 'pending'; readonly checkpoint: ExportCheckpoint };

/**
 * Creates the Bulk queryAll job (or resumes waiting for the one in the checkpoint) and waits for it
 * within the invocation's budget. A job that fails is replaced by a fresh one, at most twice.
 */
async function bulkJob(
  deps: BackupDeps,
  soql: string,
  settings: BackupSettings,
  deadline: number,
  checkpoint: ExportCheckpoint,
): Promise<BulkJobOutcome> {
  const sleep = deps.sleep ?? defaultSleep;
  let restarts = checkpoint.jobRestarts ?? 0;
  let jobId = checkpoint.jobPending ? checkpoint.jobId : null;
  for (;;) {
    if (jobId === null) {
      try {
        jobId = await deps.source.createBulkQuery(soql);
      } catch (error) {
        // Bulk refusing the object outright, or as a query it cannot run: REST's answer decides,
        // as for a job that fails with that refusal once it runs.
        if (error instanceof SalesforceBulkUnsupportedError || refusalKind(error) !== undefined)
          return { kind: 'unsupported' };
        throw error;
      }
    }
    let failed: string | undefined;
    for (let polls = 0; failed === undefined; polls++) {
      const status = await deps.source.bulkQueryStatus(jobId);
      if (status.state === 'JobComplete')
        return { kind: 'ready', jobId, rows: status.numberRecordsProcessed };
      if (status.state === 'Failed' || status.state === 'Aborted') {
        // Bulk refuses some objects only once the job runs ("not supported", or a filter it requires):
        // REST is asked instead, and its answer decides.
        if (/not supported|implementation restriction/i.test(status.errorMessage ?? ''))
          return { kind: 'unsupported' };
        failed = `Bulk query job ${jobId} ended ${status.state}: ${status.errorMessage ?? 'no reason given'}`;
        break;
      }
      if (deps.clock().getTime() > deadline) {
        return {
          kind: 'pending',
          checkpoint: { ...checkpoint, jobId, jobPending: true, jobRestarts: restarts },
        };
      }
      // Small jobs finish in moments: poll quickly first, then at the configured interval.
      await sleep(Math.min(settings.pollIntervalMs, 100 * 2 ** polls));
    }
    if (restarts >= 1) throw new SalesforceBulkJobFailedError(failed);
    restarts++;
    jobId = null;
  }
}

async function restPart(
  deps: BackupDeps,
  checkpoint: ExportCheckpoint,
  soql: string,
  settings: BackupSettings,
): Promise<PartSource> {
  // The first page is read before the part's upload starts, so a refusal of the query surfaces
  // here, as the error Salesforce answered, rather than as a failed upload.
  let page =
    checkpoint.locator === null
      ? await deps.source.queryAll(soql, false)
      : await deps.source.queryAll(checkpoint.locator, true);
  let next = page.nextRecordsUrl;
  let done = page.done || page.nextRecordsUrl === null;
  const columns = selectColumns(soql);
  async function* body() {
    yield Buffer.from(csvHeader(columns));
    let rows = 0;
    for (;;) {
      for (const record of page.records) {
        rows++;
        yield Buffer.from(csvLine(columns, record));
      }
      if (done || rows >= settings.pageSize) break;
      page = await deps.source.queryAll(next!, true);
      next = page.nextRecordsUrl;
      done = page.done || page.nextRecordsUrl === null;
    }
  }
  return plainPart(body(), null, () => (done ? null : next));
}

function selectColumns(soql: string): string[] {
  const match = /^SELECT (.+?) FROM /.exec(soql);
  return match ? match[1]!.split(', ') : [];
}

async function collectResult(
  deps: BackupDeps,
  input: ExportInput,
  attempts: readonly string[],
  last: ExportSegment,
  api: 'bulk' | 'rest',
  apiCalls: number,
): Promise<ObjectResult> {
  // Only the segments named by the checkpoints count: a retried invocation's abandoned writes never do.
  const segments: ExportSegment[] = [];
  for (const [index, attempt] of attempts.entries()) {
    segments.push(
      await readJson<ExportSegment>(
        deps,
        segmentKey(input.org, input.snapshotId, input.object, index + 1, attempt),
      ),
    );
  }
  segments.push(last);
  const parts: SnapshotPart[] = segments.flatMap((s) => s.parts);
  return {
    object: input.object,
    status: 'exported',
    api,
    rows: parts.reduce((n, p) => n + p.rows, 0),
    deletedRows: segments.reduce((n, s) => n + s.deletedRows, 0),
    deletedIds: segments.flatMap((s) => s.deletedIds).slice(0, 5),
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    parts,
    apiCalls,
  };
}

function written(segment: ExportSegment): { rowsWritten: number; bytesWritten: number } {
  return {
    rowsWritten: segment.parts.reduce((n, p) => n + p.rows, 0),
    bytesWritten: segment.parts.reduce((n, p) => n + p.bytes, 0),
  };
}
