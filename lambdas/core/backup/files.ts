import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  fileBodyKey,
  fileIndexKey,
  filesBatchKey,
  filesBatchProgressKey,
  filesDeferredKey,
  filesFailureKey,
  filesPlanKey,
  filesPlanStepKey,
  filesResultKey,
  filesReusedListKey,
  objectResultKey,
  planDetailKey,
} from '../snapshot/keys.ts';
import { type SnapshotFile, type SnapshotPart, SnapshotCorruptError } from '../snapshot/manifest.ts';
import { hashStored } from '../snapshot/verifier.ts';
import { readPartRows } from '../snapshot/reader.ts';
import { SalesforceRequestError, SalesforceTransientError } from '../salesforce.ts';
import { ObjectExistsError } from '../store.ts';
import { inTurns } from '../in-turns.ts';
import { putIfAbsent, readJson as readJsonIfAny, writeJsonOnce } from '../restore/store-json.ts';
import { readJson } from './export-object.ts';
import type { BackupDeps, FilesResult, FileTask, ObjectResult, PlanDetail } from './types.ts';
import { taskFailureCause } from './failure-cause.ts';

const FILE_OBJECTS = [
  { object: 'ContentVersion', field: 'VersionData' },
  { object: 'Attachment', field: 'Body' },
  { object: 'Document', field: 'Body' },
] as const;

/** File index entries read at once while planning. */
const INDEX_LOOKUPS_AT_ONCE = 32;
/** Entries in one list of reused file bodies (some 300 bytes each). */
export const REUSED_PER_LIST = 5_000;
/**
 * File rows planned together (deleted rows and links among them): their reused bodies make at most
 * one list. Windows are cut by row count alone, never by time, so a step run again after a crash
 * writes exactly what it wrote before.
 */
const ROWS_PER_WINDOW = REUSED_PER_LIST;

interface IndexEntry {
  readonly sha256: string;
  readonly bytes: number;
  readonly key: string;
}

/** A place in the file rows: the file object (in FILE_OBJECTS order), its part, the rows read of it. */
interface RowPosition {
  readonly object: number;
  readonly part: number;
  readonly row: number;
}

/** Where planning stands after a step, written once at the step's end. */
interface FilesPlanState {
  /** Where the next step starts reading rows; null once every row is planned. */
  readonly next: RowPosition | null;
  readonly batches: number;
  readonly lists: number;
  readonly toDownload: number;
  readonly reused: number;
  readonly deferred: number;
  /** Downloads the run's API share still allows; counted when the first body needs fetching. */
  readonly callsLeft?: number;
  /** Bodies to fetch that do not fill a batch yet. */
  readonly carried: FileTask[];
}

/** What a files plan step answers: run it again with `step` until `done`. */
export interface FilesPlanOutcome {
  readonly org: string;
  readonly snapshotId: string;
  /** The steps run so far; the next step is given this. */
  readonly step: number;
  readonly done: boolean;
  /** True for the one invocation that recorded the plan's end: the counts are then reported once. */
  readonly finished: boolean;
  /** The Distributed Map's items (`{batch}`), written by the last step. */
  readonly filesPlanKey: string;
  readonly batches: number;
  readonly toDownload: number;
  readonly reused: number;
}

/**
 * Lists the file bodies this snapshot needs. A body the vault already holds (same ContentVersion
 * checksum, or same record version for attachments and documents) is reused without a download;
 * the rest are split into batches for the files Distributed Map. It reads the file rows a window
 * at a time and stops after the window during which the invocation's time ran out, recording where
 * it stands; a million files are planned over several invocations, holding one window at a time.
 */
export async function planFiles(
  deps: BackupDeps,
  input: { org: string; snapshotId: string; step?: number },
): Promise<FilesPlanOutcome> {
  const { org, snapshotId } = input;
  const step = (input.step ?? 0) + 1;
  const outcome = (state: FilesPlanState, finished = false): FilesPlanOutcome => ({
    org,
    snapshotId,
    step,
    done: state.next === null,
    finished,
    filesPlanKey: filesPlanKey(org, snapshotId),
    batches: state.batches,
    toDownload: state.toDownload,
    reused: state.reused,
  });
  const stepKey = filesPlanStepKey(org, snapshotId, step);
  // A step run again after it recorded its end (its answer was lost) answers the same.
  const recorded = await readJsonIfAny<FilesPlanState>(deps.store, stepKey);
  if (recorded) return outcome(recorded);
  const detail = await readJson<PlanDetail>(deps, planDetailKey(org, snapshotId));
  let state: FilesPlanState =
    step === 1
      ? { next: START, batches: 0, lists: 0, toDownload: 0, reused: 0, deferred: 0, carried: [] }
      : await readJson<FilesPlanState>(deps, filesPlanStepKey(org, snapshotId, step - 1));
  if (state.next === null) return outcome(state);
  const deadline = deps.clock().getTime() + detail.settings.invocationBudgetMs;
  let window: FileTask[] = [];
  let rows = 0;
  let stopped = false;
  for await (const row of fileRows(deps, detail, state.next)) {
    if (row.task) window.push(row.task);
    if (++rows < ROWS_PER_WINDOW) continue;
    state = await planWindow(deps, detail, state, window, row.after);
    window = [];
    rows = 0;
    if (deps.clock().getTime() > deadline) {
      stopped = true;
      break;
    }
  }
  if (!stopped) state = await finishPlan(deps, detail, await planWindow(deps, detail, state, window, null));
  // Where a step stops depends on its time: of two attempts that overlapped (a retried invocation
  // whose first attempt still ran), the first to record its end is the one that counts. Both cut
  // the same windows, so the steps after it write again only what is already there.
  try {
    await deps.store.put(stepKey, JSON.stringify(state), { contentType: 'application/json' });
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
    return outcome(await readJson<FilesPlanState>(deps, stepKey));
  }
  return outcome(state, state.next === null);
}

const START: RowPosition = { object: 0, part: 0, row: 0 };

/** The file rows of the snapshot from `from` on, each with the task it makes (if any). */
async function* fileRows(
  deps: BackupDeps,
  detail: PlanDetail,
  from: RowPosition,
): AsyncIterable<{ task?: FileTask; after: RowPosition }> {
  if (!detail.settings.files) return;
  for (const [o, { object, field }] of FILE_OBJECTS.entries()) {
    if (o < from.object) continue;
    if (!detail.exported.some((e) => e.name === object)) continue;
    const result = await readJsonIfAny<ObjectResult>(
      deps.store,
      objectResultKey(detail.org, detail.snapshotId, object),
    );
    if (result?.status !== 'exported') continue;
    for (const [p, part] of result.parts.entries()) {
      if (o === from.object && p < from.part) continue;
      const skip = o === from.object && p === from.part ? from.row : 0;
      for await (const { row, r } of resumedRows(deps, part, skip)) {
        const after = { object: o, part: p, row: r };
        if (row.IsDeleted === 'true' || !row.Id || (object === 'Document' && row.Url)) {
          yield { after };
          continue;
        }
        const stamp = (row.SystemModstamp ?? '').replace(/[^0-9]/g, '');
        const md5 = object === 'ContentVersion' && row.Checksum ? row.Checksum.toLowerCase() : undefined;
        const indexId = md5 ? `md5-${md5}` : `${object}-${row.Id}-${stamp}`;
        const task: FileTask = md5
          ? { object, recordId: row.Id, field, indexId, md5 }
          : { object, recordId: row.Id, field, indexId };
        yield { task, after };
      }
    }
  }
}

/** Times a part's stream is opened again after it broke, before the step fails. */
const PART_REOPENS = 3;

/**
 * A part's rows after its first `skip`, each with its number (from 1). The stream waits while a
 * window is planned; if it breaks meanwhile (the store closed an idle connection), the part is
 * opened again and read on from the row reached, so no row is read twice or missed.
 */
async function* resumedRows(
  deps: BackupDeps,
  part: SnapshotPart,
  skip: number,
): AsyncIterable<{ row: Record<string, string>; r: number }> {
  let reached = skip;
  for (let reopened = 0; ; reopened++) {
    try {
      let r = 0;
      // The version the export wrote, checked against its SHA-256 and count once read to the end.
      for await (const row of readPartRows(deps.store, part)) {
        if (++r <= reached) continue;
        reached = r;
        yield { row, r };
      }
      return;
    } catch (error) {
      if (reopened >= PART_REOPENS || !brokenStream(error)) throw error;
    }
  }
}

/** A read cut off by the connection, as Node reports it: not a damaged part, which never heals. */
function brokenStream(error: unknown): boolean {
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  return (
    ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'].includes(
      String(code),
    ) ||
    name === 'AbortError' ||
    name === 'TimeoutError' ||
    /^(aborted|socket hang up|premature close)$/i.test(String(message))
  );
}

/** Looks a window's bodies up in the index; writes its reused list and every batch it fills. */
async function planWindow(
  deps: BackupDeps,
  detail: PlanDetail,
  state: FilesPlanState,
  tasks: readonly FileTask[],
  next: RowPosition | null,
): Promise<FilesPlanState> {
  const { org, snapshotId } = detail;
  // One read per file, many at once: an org with a million files would wait hours on them in turn.
  const known = await inTurns(tasks, INDEX_LOOKUPS_AT_ONCE, (task) => lookup(deps, org, task.indexId));
  const reused: SnapshotFile[] = [];
  const pending: FileTask[] = [];
  for (const [i, task] of tasks.entries()) {
    const entry = known[i];
    if (entry) reused.push(fileEntry(task, entry, false));
    else pending.push(task);
  }
  let lists = state.lists;
  if (reused.length > 0) {
    lists++;
    await writePlanRecord(deps, filesReusedListKey(org, snapshotId, lists), reused);
  }
  // Equal checksums side by side, so a duplicate body within a window is fetched once and reused
  // within its batch. Duplicates in different windows may land in batches that run at once: each
  // then downloads it (one more API call), and it is stored once.
  pending.sort((a, b) => a.indexId.localeCompare(b.indexId));
  // One download is one API call: what the run's share has left decides how many it may fetch.
  let callsLeft = state.callsLeft;
  if (pending.length > 0 && callsLeft === undefined)
    callsLeft = Math.max(0, detail.apiBudget - (await callsSpent(deps, detail)));
  const admitted = pending.slice(0, callsLeft ?? 0);
  const carried = [...state.carried, ...admitted];
  let batches = state.batches;
  const size = detail.settings.filesPerBatch;
  let from = 0;
  for (; carried.length - from >= size; from += size) {
    batches++;
    await writePlanRecord(deps, filesBatchKey(org, snapshotId, batches), carried.slice(from, from + size));
  }
  const base = { next, batches, lists, carried: carried.slice(from) };
  return {
    ...base,
    toDownload: state.toDownload + admitted.length,
    reused: state.reused + reused.length,
    deferred: state.deferred + pending.length - admitted.length,
    ...(callsLeft === undefined ? {} : { callsLeft: callsLeft - admitted.length }),
  };
}

/** The last step's records: the batch of what is carried, the Map's items, what was deferred. */
async function finishPlan(
  deps: BackupDeps,
  detail: PlanDetail,
  state: FilesPlanState,
): Promise<FilesPlanState> {
  const { org, snapshotId } = detail;
  let { batches, lists } = state;
  if (state.carried.length > 0) {
    batches++;
    await writePlanRecord(deps, filesBatchKey(org, snapshotId, batches), state.carried);
  }
  // A snapshot always names one list at least, even an empty one.
  if (lists === 0) {
    lists++;
    await writePlanRecord(deps, filesReusedListKey(org, snapshotId, lists), []);
  }
  await writePlanRecord(deps, filesDeferredKey(org, snapshotId), {
    count: state.deferred,
    budget: detail.apiBudget,
  });
  await writePlanRecord(
    deps,
    filesPlanKey(org, snapshotId),
    Array.from({ length: batches }, (_, i) => ({ batch: i + 1 })),
  );
  return { ...state, batches, lists, carried: [] };
}

/**
 * Writes one of the plan's records. A step run again after a crash writes the same records with
 * the same content, which is no conflict; other content under a key it wrote means the vault's file
 * index changed between the two attempts, and the step fails.
 */
async function writePlanRecord(deps: BackupDeps, key: string, value: unknown): Promise<void> {
  try {
    await writeJsonOnce(deps.store, key, value);
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
    throw new Error(
      `The files plan already holds other content at ${key}: the vault's file index changed between two attempts of this plan step (another backup of the org, or a retention sweep, ran meanwhile). This run fails with its files unplanned; the next run plans them again.`,
    );
  }
}

async function callsSpent(deps: BackupDeps, detail: PlanDetail): Promise<number> {
  let spent = detail.apiCalls;
  for (const { name } of detail.exported) {
    // An export that never recorded a result spent nothing this can count; an unreadable store
    // fails the step (the read throws), not letting it download past the run's share.
    const result = await readJsonIfAny<ObjectResult>(
      deps.store,
      objectResultKey(detail.org, detail.snapshotId, name),
    );
    spent += result?.apiCalls ?? 0;
  }
  return spent;
}

/** What a files batch has fetched so far, written where an invocation stops before the batch's end. */
interface BatchProgress {
  readonly files: SnapshotFile[];
  readonly apiCalls: number;
  readonly errors: string[];
}

/** What a files batch invocation answers: run it again with `from` until `done`. */
export interface FilesBatchOutcome {
  readonly org: string;
  readonly snapshotId: string;
  readonly batch: number;
  /** The batch's files handled so far; the next invocation starts there. */
  readonly from: number;
  readonly done: boolean;
  /** Bodies this invocation downloaded. */
  readonly downloaded: number;
}

/**
 * Downloads one batch of file bodies into the vault by content hash. A batch of large bodies may
 * take longer than one invocation: after the body during which the invocation's time ran out, it
 * records what it fetched so far and answers where the next invocation starts.
 */
export async function backupFiles(
  deps: BackupDeps,
  input: { org: string; snapshotId: string; batch: number; from?: number },
): Promise<FilesBatchOutcome> {
  const { org, snapshotId, batch } = input;
  const from = input.from ?? 0;
  const tasks = await readJson<FileTask[]>(deps, filesBatchKey(org, snapshotId, batch));
  const detail = await readJson<PlanDetail>(deps, planDetailKey(org, snapshotId));
  const deadline = deps.clock().getTime() + detail.settings.invocationBudgetMs;
  const before: BatchProgress =
    from === 0
      ? { files: [], apiCalls: 0, errors: [] }
      : await readJson<BatchProgress>(deps, filesBatchProgressKey(org, snapshotId, batch, from));
  const callsBefore = deps.source.apiCalls();
  const files = [...before.files];
  const errors = [...before.errors];
  let downloaded = 0;
  let next = from;
  const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'sfbackup-files-'));
  try {
    for (; next < tasks.length; next++) {
      if (next > from && deps.clock().getTime() > deadline) break;
      const task = tasks[next] as FileTask;
      const known = await lookup(deps, org, task.indexId);
      if (known) {
        files.push(fileEntry(task, known, false));
        continue;
      }
      try {
        files.push(await download(deps, org, task, join(dir, 'body')));
        downloaded++;
      } catch (error) {
        // A record deleted since its row was exported has no body to fetch: a concurrent change, noted.
        if (
          error instanceof SalesforceRequestError &&
          ['NOT_FOUND', 'ENTITY_IS_DELETED'].includes(error.errorCode ?? '')
        ) {
          errors.push(`${task.object} ${task.recordId}: ${error.errorCode} (deleted since it was exported)`);
          continue;
        }
        throw error;
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const progress: BatchProgress = {
    files,
    apiCalls: before.apiCalls + deps.source.apiCalls() - callsBefore,
    errors,
  };
  const done = next >= tasks.length;
  // Written once: an invocation run again that stops where an earlier attempt recorded its stop
  // leaves that record, which names the same bodies.
  if (!done)
    await putIfAbsent(
      deps.store,
      filesBatchProgressKey(org, snapshotId, batch, next),
      JSON.stringify(progress),
    );
  else {
    const result: FilesResult = { batch, ...progress };
    await putIfAbsent(deps.store, filesResultKey(org, snapshotId, batch), JSON.stringify(result));
  }
  return { org, snapshotId, batch, from: next, done, downloaded };
}

/** Records a files batch that failed for good, so the finish step names it as missing. */
export async function recordFilesFailure(
  deps: BackupDeps,
  input: { org: string; snapshotId: string; batch: number; error?: { Error?: string; Cause?: string } },
): Promise<{ batch: number }> {
  const message = taskFailureCause(input.error);
  try {
    await deps.store.put(
      filesFailureKey(input.org, input.snapshotId, input.batch),
      JSON.stringify({ message }),
    );
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
  }
  return { batch: input.batch };
}

async function download(deps: BackupDeps, org: string, task: FileTask, path: string): Promise<SnapshotFile> {
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  const body = await deps.source.downloadBlob(task.object, task.recordId, task.field);
  const file = createWriteStream(path);
  await pipeline(
    body,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        sha.update(chunk);
        md5.update(chunk);
        bytes += chunk.length;
        file.write(chunk, callback);
      },
      final(callback) {
        file.end(callback);
      },
    }),
  );
  const sha256 = sha.digest('hex');
  const md5Hex = md5.digest('hex');
  if (task.md5 && task.md5 !== md5Hex) {
    throw new SalesforceTransientError(
      `${task.object} ${task.recordId}: the downloaded body does not match its checksum; it will be fetched again.`,
    );
  }
  const key = fileBodyKey(org, sha256);
  if (!(await deps.store.head(key))) {
    try {
      await deps.store.putStream(key, createReadStream(path), { contentType: 'application/octet-stream' });
    } catch (error) {
      if (!(error instanceof ObjectExistsError)) throw error;
    }
  }
  // The body at the key is read back and hashed here, where batches run side by side, before the
  // index names it: whoever wrote it (this batch, a concurrent one, or one that stopped before its
  // index entry), no body is named without having been hashed in the vault. The finish step then
  // only checks that each body is still there at its size.
  const stored = await hashStored(deps.store, key);
  if (stored.sha256 !== sha256 || stored.bytes !== bytes)
    throw new SnapshotCorruptError(
      `body sha256 ${sha256.slice(0, 16)} of ${task.object} ${task.recordId}: the vault holds other bytes at ${key} (SHA-256 ${stored.sha256}, ${stored.bytes} bytes; downloaded ${bytes} bytes). No snapshot can name that body while it is wrong: remove that object's version with the break-glass role, then back up again.`,
    );
  const entry: IndexEntry = { sha256, bytes, key };
  try {
    await deps.store.put(fileIndexKey(org, task.indexId), JSON.stringify(entry), {
      contentType: 'application/json',
    });
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
  }
  return fileEntry(task, entry, true);
}

function lookup(deps: BackupDeps, org: string, indexId: string): Promise<IndexEntry | undefined> {
  return readJsonIfAny<IndexEntry>(deps.store, fileIndexKey(org, indexId));
}

function fileEntry(task: FileTask, known: IndexEntry, downloaded: boolean): SnapshotFile {
  const entry: SnapshotFile = {
    object: task.object,
    recordId: task.recordId,
    field: task.field,
    key: known.key,
    sha256: known.sha256,
    bytes: known.bytes,
    downloaded,
  };
  if (task.md5) entry.md5 = task.md5;
  return entry;
}
