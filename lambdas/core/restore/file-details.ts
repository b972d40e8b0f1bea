import { inTurns } from '../in-turns.ts';
import { SnapshotCorruptError } from '../snapshot/manifest.ts';
import { readFileBody } from '../snapshot/reader.ts';
import type { BackupStore } from '../store.ts';
import type { SnapshotFile, SnapshotView } from './model.ts';
import { readJson, writeJsonOnce } from './store-json.ts';
import { idKey } from './values.ts';

/** Files per details record: a few hundred KB of JSON. */
export const FILES_PER_DETAILS_RECORD = 200;
/** Details records written at once by the plan step. */
const RECORDS_WRITTEN_AT_ONCE = 8;

/** Where a plan's file details are kept: `records` records of `perRecord` files, in plan order. */
export interface FileDetails {
  readonly records: number;
  readonly perRecord: number;
}

/**
 * Writes, beside a plan, what the snapshot holds of each planned file (versions with where their
 * bodies are kept, links, owner), in the order of the plan's entries, so that the steps that
 * restore and check the files read only the records of the entries they reach, never the
 * snapshot again. Answers undefined, writing nothing, when a version's body cannot be named by
 * its key (a snapshot that can only read it): those steps then read the snapshot.
 */
export async function writeFileDetails(
  store: BackupStore,
  keyOf: (record: number) => string,
  files: readonly SnapshotFile[],
  perRecord = FILES_PER_DETAILS_RECORD,
): Promise<FileDetails | undefined> {
  if (files.some((f) => f.versions.some((v) => v.read && !v.body))) return undefined;
  const records = Math.ceil(files.length / perRecord);
  // A version's reader is a function, which JSON leaves out: its body's key stays.
  await inTurns(
    Array.from({ length: records }, (_, r) => r),
    RECORDS_WRITTEN_AT_ONCE,
    (r) => writeJsonOnce(store, keyOf(r), files.slice(r * perRecord, (r + 1) * perRecord)),
  );
  return { records, perRecord };
}

/** A planned file by its entry's place in the plan, and by the entry itself. */
export type PlannedFile = (
  index: number,
  entry: { readonly versionId: string },
) => Promise<SnapshotFile | undefined>;

/**
 * The planned files as the restore's steps read them: from the plan's details records when it has
 * them, one record at a time; from the snapshot, read whole once, for a plan written without them.
 */
export function plannedFiles(args: {
  readonly store: BackupStore;
  readonly details: FileDetails | undefined;
  readonly keyOf: (record: number) => string;
  readonly fromSnapshot: () => ReturnType<SnapshotView['files']>;
}): PlannedFile {
  const { store, details } = args;
  if (!details) {
    let files: Promise<Map<string, SnapshotFile>> | undefined;
    return async (_index, entry) => {
      files ??= args.fromSnapshot().then((all) => new Map(all.map((f) => [idKey(f.versionId), f])));
      return (await files).get(idKey(entry.versionId));
    };
  }
  // One record held, read once however many lookups of it run at once.
  let held: { record: number; files: Promise<SnapshotFile[]> } | undefined;
  return async (index, entry) => {
    const record = Math.floor(index / details.perRecord);
    if (held?.record !== record) held = { record, files: readRecord(store, args.keyOf(record)) };
    const file = (await held.files)[index % details.perRecord];
    if (!file || idKey(file.versionId) !== idKey(entry.versionId))
      throw new SnapshotCorruptError(
        `The restore's file details record ${args.keyOf(record)} does not hold plan entry ${index} (file ${entry.versionId}): it was changed after the plan wrote it. Start the restore again with the same input: it plans again and carries on, making nothing twice.`,
      );
    return file;
  };
}

async function readRecord(store: BackupStore, key: string): Promise<SnapshotFile[]> {
  const stored = await readJson<SnapshotFile[]>(store, key);
  if (!stored)
    throw new SnapshotCorruptError(
      `The restore's file details record ${key} is missing: start the restore again with the same input: it plans again and carries on, making nothing twice.`,
    );
  return stored.map((f) => withReaders(store, f));
}

/** A stored file whose versions read their bodies from the vault, checked against their SHA-256. */
function withReaders(store: BackupStore, file: SnapshotFile): SnapshotFile {
  return {
    ...file,
    versions: file.versions.map((v) => {
      const body = v.body;
      if (!body) return v;
      return { ...v, read: () => readFileBody(store, body) };
    }),
  };
}
