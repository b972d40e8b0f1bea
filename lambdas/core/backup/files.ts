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
  filesDeferredKey,
  filesFailureKey,
  filesPlanKey,
  filesResultKey,
  filesReusedListKey,
  objectResultKey,
  planDetailKey,
} from '../snapshot/keys.ts';
import { type SnapshotFile, SnapshotCorruptError } from '../snapshot/manifest.ts';
import { hashStored } from '../snapshot/verifier.ts';
import { readPartRows } from '../snapshot/reader.ts';
import { SalesforceRequestError, SalesforceTransientError } from '../salesforce.ts';
import { ObjectExistsError, ObjectNotFoundError } from '../store.ts';
import { inTurns } from '../in-turns.ts';
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

interface IndexEntry {
  readonly sha256: string;
  readonly bytes: number;
  readonly key: string;
}

/**
 * Lists the file bodies this snapshot needs. A body the vault already holds (same ContentVersion
 * checksum, or same record version for attachments and documents) is reused without a download;
 * the rest are split into batches for the files Distributed Map.
 */
export async function planFiles(
  deps: BackupDeps,
  input: { org: string; snapshotId: string },
): Promise<{
  org: string;
  snapshotId: string;
  filesPlanKey: string;
  batches: number;
  toDownload: number;
  reused: number;
}> {
  const { org, snapshotId } = input;
  const detail = await readJson<PlanDetail>(deps, planDetailKey(org, snapshotId));
  const tasks: FileTask[] = [];
  if (detail.settings.files) {
    for (const { object, field } of FILE_OBJECTS) {
      if (!detail.exported.some((o) => o.name === object)) continue;
      const result = await readJson<ObjectResult>(deps, objectResultKey(org, snapshotId, object)).catch(
        (error) => {
          if (error instanceof ObjectNotFoundError) return undefined;
          throw error;
        },
      );
      if (result?.status !== 'exported') continue;
      for (const part of result.parts) {
        for await (const row of readPartRows(deps.store, part.key)) {
          if (row.IsDeleted === 'true' || !row.Id) continue;
          if (object === 'Document' && row.Url) continue;
          const stamp = (row.SystemModstamp ?? '').replace(/[^0-9]/g, '');
          const md5 = object === 'ContentVersion' && row.Checksum ? row.Checksum.toLowerCase() : undefined;
          const indexId = md5 ? `md5-${md5}` : `${object}-${row.Id}-${stamp}`;
          tasks.push(
            md5
              ? { object, recordId: row.Id, field, indexId, md5 }
              : { object, recordId: row.Id, field, indexId },
          );
        }
      }
    }
  }
  const reused: SnapshotFile[] = [];
  const pending: FileTask[] = [];
  // One read per file, many at once: an org with a million files would wait hours on them in turn.
  const known = await inTurns(tasks, INDEX_LOOKUPS_AT_ONCE, (task) => lookup(deps, org, task.indexId));
  for (const [i, task] of tasks.entries()) {
    const entry = known[i];
    if (entry) reused.push(fileEntry(task, entry, false));
    else pending.push(task);
  }
  // Equal checksums side by side, so a duplicate body is fetched once and reused within its batch.
  pending.sort((a, b) => a.indexId.localeCompare(b.indexId));
  // One download is one API call: what the run's share has left decides how many it may fetch.
  let deferred: FileTask[] = [];
  if (pending.length > 0) {
    const left = detail.apiBudget - (await callsSpent(deps, detail));
    if (pending.length > left) deferred = pending.splice(Math.max(0, left));
  }
  await deps.store.put(
    filesDeferredKey(org, snapshotId),
    JSON.stringify({ count: deferred.length, budget: detail.apiBudget }),
    {
      contentType: 'application/json',
    },
  );
  const size = detail.settings.filesPerBatch;
  const items: { batch: number }[] = [];
  for (let i = 0; i < pending.length; i += size) {
    const batch = items.length + 1;
    await deps.store.put(filesBatchKey(org, snapshotId, batch), JSON.stringify(pending.slice(i, i + size)));
    items.push({ batch });
  }
  // In lists of a bounded size, so that no step reads or writes them whole; always one at least.
  for (let i = 0, n = 1; i === 0 || i < reused.length; i += REUSED_PER_LIST, n++) {
    await deps.store.put(
      filesReusedListKey(org, snapshotId, n),
      JSON.stringify(reused.slice(i, i + REUSED_PER_LIST)),
      { contentType: 'application/json' },
    );
  }
  const key = filesPlanKey(org, snapshotId);
  await deps.store.put(key, JSON.stringify(items), { contentType: 'application/json' });
  return {
    org,
    snapshotId,
    filesPlanKey: key,
    batches: items.length,
    toDownload: pending.length,
    reused: reused.length,
  };
}

async function callsSpent(deps: BackupDeps, detail: PlanDetail): Promise<number> {
  let spent = detail.apiCalls;
  for (const { name } of detail.exported) {
    const result = await readJson<ObjectResult>(
      deps,
      objectResultKey(detail.org, detail.snapshotId, name),
    ).catch((error: unknown) => {
      // An export that never recorded a result spent nothing this can count; an unreadable store
      // must fail the step, not let it download past the run's share.
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    });
    spent += result?.apiCalls ?? 0;
  }
  return spent;
}

/** Downloads one batch of file bodies into the vault by content hash. */
export async function backupFiles(
  deps: BackupDeps,
  input: { org: string; snapshotId: string; batch: number },
): Promise<{ batch: number; files: number; downloaded: number }> {
  const { org, snapshotId, batch } = input;
  const tasks = await readJson<FileTask[]>(deps, filesBatchKey(org, snapshotId, batch));
  const callsBefore = deps.source.apiCalls();
  const files: SnapshotFile[] = [];
  const errors: string[] = [];
  const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'sfbackup-files-'));
  try {
    for (const task of tasks) {
      const known = await lookup(deps, org, task.indexId);
      if (known) {
        files.push(fileEntry(task, known, false));
        continue;
      }
      try {
        files.push(await download(deps, org, task, join(dir, 'body')));
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
  const result: FilesResult = { batch, files, apiCalls: deps.source.apiCalls() - callsBefore, errors };
  await deps.store.put(filesResultKey(org, snapshotId, batch), JSON.stringify(result), {
    contentType: 'application/json',
  });
  return { batch, files: files.length, downloaded: files.filter((f) => f.downloaded).length };
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

async function lookup(deps: BackupDeps, org: string, indexId: string): Promise<IndexEntry | undefined> {
  try {
    return await readJson<IndexEntry>(deps, fileIndexKey(org, indexId));
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
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
