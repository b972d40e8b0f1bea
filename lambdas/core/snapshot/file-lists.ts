/**
 * The file bodies a snapshot holds. A format 1 manifest lists them itself. A format 2 manifest
 * names the snapshot's own records that list them (the list of bodies reused from the vault and
 * each files batch's result), each with its SHA-256, size and entry count: the manifest stays
 * small with millions of files, and a reader holds one record's entries at a time.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { inTurns } from '../in-turns.ts';
import { type BackupStore, ObjectNotFoundError } from '../store.ts';
import {
  type SnapshotFile,
  type SnapshotFileList,
  type SnapshotManifest,
  SnapshotCorruptError,
  snapshotFileSchema,
} from './manifest.ts';

const listRecordSchema = z.union([
  z.array(snapshotFileSchema),
  z.object({ files: z.array(snapshotFileSchema) }).passthrough(),
]);

/**
 * The entries of a stored list record and the record as parsed (a files batch's result says more
 * than its entries), or a SnapshotCorruptError naming the key and what is wrong.
 */
function entriesOf(bytes: Uint8Array, key: string): { entries: SnapshotFile[]; record: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new SnapshotCorruptError(`File list ${key} is not JSON (${(error as Error).message}).`);
  }
  const parsed = listRecordSchema.safeParse(json);
  if (!parsed.success)
    throw new SnapshotCorruptError(
      `File list ${key} is neither a list of file entries nor an object holding one in "files".`,
    );
  return { entries: Array.isArray(parsed.data) ? parsed.data : parsed.data.files, record: json };
}

/**
 * What a manifest says of a list record's bytes (checksum, size and entry count), its entries, and
 * the record as parsed.
 */
export function fileListOf(
  bytes: Uint8Array,
  key: string,
): { list: SnapshotFileList; entries: SnapshotFile[]; record: unknown } {
  const { entries, record } = entriesOf(bytes, key);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { list: { key, sha256, bytes: bytes.length, count: entries.length }, entries, record };
}

/** What a manifest says of a stored list record, and its entries; undefined when the key holds nothing. */
export async function describeFileList(
  store: BackupStore,
  key: string,
): Promise<{ list: SnapshotFileList; entries: SnapshotFile[] } | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
  return fileListOf(bytes, key);
}

/** A list record's entries, checked against what the manifest says of it. */
export async function readFileList(store: BackupStore, list: SnapshotFileList): Promise<SnapshotFile[]> {
  const found = await describeFileList(store, list.key);
  if (!found) throw new SnapshotCorruptError(`File list ${list.key} is missing from the store.`);
  if (found.list.sha256 !== list.sha256)
    throw new SnapshotCorruptError(`File list ${list.key} does not match its SHA-256.`);
  if (found.list.count !== list.count)
    throw new SnapshotCorruptError(
      `File list ${list.key} holds ${found.list.count} entries, not ${list.count}.`,
    );
  return found.entries;
}

/** List records read at once: a first full backup of a million files names 20,000. */
export const FILE_LISTS_AT_ONCE = 16;

/**
 * Every file entry of a snapshot, in the manifest's order: its own list (format 1), then each
 * list record it names (format 2), each checked before any of its entries is given. Lists are
 * read FILE_LISTS_AT_ONCE at a time, and only those are held.
 */
export async function* snapshotFiles(
  store: BackupStore,
  manifest: Pick<SnapshotManifest, 'files' | 'fileLists'>,
): AsyncGenerator<SnapshotFile> {
  yield* manifest.files;
  const lists = manifest.fileLists ?? [];
  for (let i = 0; i < lists.length; i += FILE_LISTS_AT_ONCE) {
    const window = lists.slice(i, i + FILE_LISTS_AT_ONCE);
    for (const entries of await inTurns(window, FILE_LISTS_AT_ONCE, (list) => readFileList(store, list)))
      yield* entries;
  }
}

/** How many file entries a snapshot holds, from its manifest alone. */
export const fileCount = (manifest: Pick<SnapshotManifest, 'files' | 'fileLists'>): number =>
  manifest.files.length + (manifest.fileLists ?? []).reduce((n, l) => n + l.count, 0);
