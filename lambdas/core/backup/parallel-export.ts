/**
 * One large object exported by several workers at once. Salesforce lists a completed Bulk query
 * job's result pages as URLs ("Get Parallel Results for a Query Job", API 58.0 and later, five per
 * call); the list is written once to the vault, each worker exports every `of`-th page into parts
 * of its own, and the object is complete only when every page is in exactly one verified part and
 * the rows add up to what the job says it holds.
 */
import { ErrorName } from '../../../contract/workflow-contract.ts';
import {
  newAttemptId,
  partKey,
  planDetailKey,
  resultPagesKey,
  workerResultKey,
  workerSegmentKey,
} from '../snapshot/keys.ts';
import type { SnapshotPart } from '../snapshot/manifest.ts';
import { SalesforceRequestError } from '../salesforce.ts';
import { ObjectExistsError, ObjectNotFoundError } from '../store.ts';
import { storeObjectResult } from './object-result.ts';
import { bulkPagePart, storePart } from './page-part.ts';
import type { BackupSettings } from './settings.ts';
import type {
  BackupDeps,
  ExportCheckpoint,
  ExportInput,
  ObjectResult,
  PagesRef,
  ResultPagesList,
  WorkerInput,
  WorkerOutput,
  WorkerPage,
  WorkerProgress,
  WorkerResult,
} from './types.ts';

/** The first API version with `resultPages`. */
export const RESULT_PAGES_MIN_API = 58;

/** Whether a completed job of `rows` rows is worth exporting with workers under these settings. */
export function wantsWorkers(deps: BackupDeps, settings: BackupSettings, rows: number): boolean {
  return (
    settings.exportWorkers > 1 &&
    rows >= settings.parallelExportMinRows &&
    Number(deps.source.apiVersion) >= RESULT_PAGES_MIN_API
  );
}

/**
 * Lists the job's result pages and writes the list for the workers. Null when there is one page
 * only, or when the org does not offer the list (an older API version answers 404): the single
 * stream reads it then.
 */
export async function listResultPages(
  deps: BackupDeps,
  input: ExportInput,
  jobId: string,
  rows: number,
  workers: number,
): Promise<PagesRef | null> {
  const urls: string[] = [];
  let next: string | null = null;
  do {
    let answer: Awaited<ReturnType<typeof deps.source.bulkQueryResultPages>>;
    try {
      answer = await deps.source.bulkQueryResultPages(jobId, next);
    } catch (error) {
      // An org that does not offer the list answers as for any unknown resource.
      const missing =
        error instanceof SalesforceRequestError && error.status === 404 && error.errorCode === 'NOT_FOUND';
      if (missing && urls.length === 0) return null;
      throw error;
    }
    urls.push(...answer.urls);
    next = answer.next;
  } while (next !== null);
  if (urls.length < 2) return null;
  const used = Math.min(workers, urls.length);
  const list: ResultPagesList = { jobId, rows, urls, workers: used };
  const id = newAttemptId(deps.random);
  await deps.store.put(resultPagesKey(input.org, input.snapshotId, input.object, id), JSON.stringify(list), {
    contentType: 'application/json',
  });
  return { list: id, pages: urls.length, workers: used };
}

/** The pages worker `index` of `of` exports: every `of`-th page from its own. */
export function pagesOf(index: number, of: number, pages: number): number[] {
  const mine: number[] = [];
  for (let page = index; page < pages; page += of) mine.push(page);
  return mine;
}

/**
 * Exports one worker's share of the pages, as much as fits in one invocation: each page becomes one
 * verified part (rows counted against the page's own count). Returns its progress when it stopped
 * early; once its share is done it writes the worker's result, once.
 */
export async function exportWorkerPages(deps: BackupDeps, input: WorkerInput): Promise<WorkerOutput> {
  const { org, snapshotId, object, worker } = input;
  const resultKey = workerResultKey(org, snapshotId, object, worker.list, worker.index);
  // An earlier invocation finished the share but its answer was lost: the result it wrote stands.
  if (await deps.store.head(resultKey)) return { ...base(input), done: true, progress: null };
  const list = await readJson<ResultPagesList>(deps, resultPagesKey(org, snapshotId, object, worker.list));
  if (worker.of !== list.workers || worker.index < 0 || worker.index >= list.workers) {
    throw new Error(
      `${object}: worker ${worker.index} of ${worker.of} does not match the page list, written for ${list.workers} workers.`,
    );
  }
  const settings = await readSettings(deps, input);
  const callsBefore = deps.source.apiCalls();
  const deadline = deps.clock().getTime() + settings.invocationBudgetMs;
  const attempt = newAttemptId(deps.random);
  const progress: WorkerProgress = input.progress ?? { position: 0, segment: 1, segments: [], apiCalls: 0 };
  const mine = pagesOf(worker.index, worker.of, list.urls.length);
  const segment: WorkerSegment = { pages: [], deletedRows: 0, deletedIds: [] };
  let position = progress.position;
  while (position < mine.length) {
    const page = mine[position]!;
    const part = bulkPagePart(await deps.source.bulkQueryResultUrl(list.urls[page]!));
    const key = partKey(org, snapshotId, object, page + 1, attempt);
    const what = `${object}: result page ${page + 1} of ${list.urls.length}`;
    const stored = await storePart(deps.store, key, part, settings.gzipLevel, what);
    segment.pages.push({ page, part: stored.part });
    segment.deletedRows += stored.deletedRows;
    for (const id of stored.deletedIds) if (segment.deletedIds.length < 5) segment.deletedIds.push(id);
    position++;
    const outOfPages =
      settings.maxPagesPerInvocation > 0 && segment.pages.length >= settings.maxPagesPerInvocation;
    if (position < mine.length && (outOfPages || deps.clock().getTime() > deadline)) break;
  }
  const apiCalls = progress.apiCalls + (deps.source.apiCalls() - callsBefore);
  const written = {
    rowsWritten: segment.pages.reduce((n, p) => n + p.part.rows, 0),
    bytesWritten: segment.pages.reduce((n, p) => n + p.part.bytes, 0),
  };
  if (position < mine.length) {
    // The next invocation's input names this segment; its parts count only once it is stored.
    await deps.store.put(
      workerSegmentKey(org, snapshotId, object, worker.list, worker.index, progress.segment, attempt),
      JSON.stringify(segment),
      { contentType: 'application/json' },
    );
    return {
      ...base(input),
      done: false,
      progress: {
        position,
        segment: progress.segment + 1,
        segments: [...progress.segments, attempt],
        apiCalls,
      },
      ...written,
    };
  }
  const segments: WorkerSegment[] = [];
  for (const [index, earlier] of progress.segments.entries()) {
    segments.push(
      await readJson<WorkerSegment>(
        deps,
        workerSegmentKey(org, snapshotId, object, worker.list, worker.index, index + 1, earlier),
      ),
    );
  }
  segments.push(segment);
  const result: WorkerResult = {
    worker: worker.index,
    of: worker.of,
    pages: segments.flatMap((s) => s.pages),
    deletedRows: segments.reduce((n, s) => n + s.deletedRows, 0),
    deletedIds: segments.flatMap((s) => s.deletedIds).slice(0, 5),
    apiCalls,
  };
  try {
    await deps.store.put(resultKey, JSON.stringify(result), { contentType: 'application/json' });
  } catch (error) {
    // Two invocations of one share at once (a retry racing its original): the first result stands.
    if (!(error instanceof ObjectExistsError)) throw error;
  }
  return { ...base(input), done: true, progress: null, ...written };
}

/** Pages one worker invocation wrote. */
interface WorkerSegment {
  readonly pages: WorkerPage[];
  deletedRows: number;
  readonly deletedIds: string[];
}

function base(input: WorkerInput) {
  return { org: input.org, snapshotId: input.snapshotId, object: input.object, worker: input.worker };
}

async function readSettings(deps: BackupDeps, input: WorkerInput): Promise<BackupSettings> {
  const detail = await readJson<{ settings: BackupSettings }>(
    deps,
    planDetailKey(input.org, input.snapshotId),
  );
  return detail.settings;
}

async function readJson<T>(deps: BackupDeps, key: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await deps.store.get(key))) as T;
}

/** A page list or worker results that do not add up: the object is not complete. */
export class IncompleteExportError extends Error {
  override readonly name = ErrorName.IncompleteExport;
}

/**
 * Gathers the workers' results into the object's result: every page in exactly one part, each part
 * counted, the rows adding up to the job's count. Anything else fails the object; it is never
 * recorded as exported.
 */
export async function collectWorkers(
  deps: BackupDeps,
  input: ExportInput,
  checkpoint: ExportCheckpoint,
  callsBefore: number,
): Promise<ObjectResult> {
  const { org, snapshotId, object } = input;
  const ref = checkpoint.pages!;
  const list = await readJson<ResultPagesList>(deps, resultPagesKey(org, snapshotId, object, ref.list));
  const byPage = new Map<number, SnapshotPart>();
  let deletedRows = 0;
  const deletedIds: string[] = [];
  let apiCalls = checkpoint.apiCalls + (deps.source.apiCalls() - callsBefore);
  for (let index = 0; index < list.workers; index++) {
    let result: WorkerResult;
    try {
      result = await readJson<WorkerResult>(deps, workerResultKey(org, snapshotId, object, ref.list, index));
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
      throw new IncompleteExportError(
        `${object}: worker ${index + 1} of ${list.workers} left no result; the object is not complete.`,
      );
    }
    for (const { page, part } of result.pages) {
      if (byPage.has(page)) {
        throw new IncompleteExportError(`${object}: result page ${page + 1} was exported twice.`);
      }
      byPage.set(page, part);
    }
    deletedRows += result.deletedRows;
    for (const id of result.deletedIds) if (deletedIds.length < 5) deletedIds.push(id);
    apiCalls += result.apiCalls;
  }
  const parts: SnapshotPart[] = [];
  for (let page = 0; page < list.urls.length; page++) {
    const part = byPage.get(page);
    if (!part) {
      throw new IncompleteExportError(
        `${object}: result page ${page + 1} of ${list.urls.length} is in no worker's result; the object is not complete.`,
      );
    }
    parts.push(part);
  }
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  if (rows !== list.rows) {
    throw new IncompleteExportError(
      `${object}: the result pages hold ${rows} rows, but Salesforce's job ${list.jobId} processed ${list.rows}; the object is not complete.`,
    );
  }
  const result: ObjectResult = {
    object,
    status: 'exported',
    api: 'bulk',
    rows,
    deletedRows,
    deletedIds,
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    parts,
    apiCalls,
  };
  await storeObjectResult(deps, org, snapshotId, result);
  return result;
}
