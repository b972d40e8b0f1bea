import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import type { BackupStore } from '../store.ts';
import { CsvRecordCounter } from './csv.ts';
import { inTurns } from '../in-turns.ts';
import { readFileList } from './file-lists.ts';
import { type SnapshotFile, type SnapshotManifest, SnapshotCorruptError } from './manifest.ts';

/** File bodies looked up at once. */
const BODY_HEADS_AT_ONCE = 16;

/** Reads every part back from the store and checks it against the manifest. Returns the problems found. */
export async function verifySnapshot(
  store: BackupStore,
  manifest: SnapshotManifest,
  options: {
    /** Also read and hash every file body (an audit; the backup's own check is a HEAD each). */
    readonly hashBodies?: boolean;
  } = {},
): Promise<string[]> {
  const problems: string[] = [];
  for (const object of manifest.objects) {
    if (object.status !== 'exported') continue;
    let rows = 0;
    for (const part of object.parts) {
      const found = await verifyPart(store, part.key);
      if (!found) {
        problems.push(`${object.name}: part ${part.key} is missing from the store`);
        continue;
      }
      if (found.sha256 !== part.sha256)
        problems.push(`${object.name}: part ${part.key} does not match its SHA-256`);
      if (found.bytes !== part.bytes)
        problems.push(`${object.name}: part ${part.key} holds ${found.bytes} bytes, not ${part.bytes}`);
      if (found.rows !== part.rows)
        problems.push(`${object.name}: part ${part.key} holds ${found.rows} rows, not ${part.rows}`);
      rows += found.rows;
    }
    if (rows !== object.rows)
      problems.push(`${object.name}: parts hold ${rows} rows, the manifest says ${object.rows}`);
  }
  for (const object of manifest.objects) {
    for (const [what, part] of [
      ['tombstones', object.tombstones],
      ['links', object.links],
    ] as const) {
      if (!part) continue;
      const found = await verifyPart(store, part.key);
      if (!found) problems.push(`${object.name}: ${what} ${part.key} is missing from the store`);
      else if (found.sha256 !== part.sha256 || found.bytes !== part.bytes || found.rows !== part.rows)
        problems.push(`${object.name}: ${what} ${part.key} does not match its SHA-256, size or row count`);
    }
  }
  // Each body was hashed as it was stored (the files step reads back what it wrote), so here a
  // HEAD says it is still there, at its size: a snapshot of a terabyte of files is not read again.
  const checkFiles = async (files: readonly SnapshotFile[]): Promise<void> => {
    const found = await inTurns(files, BODY_HEADS_AT_ONCE, async (file) => {
      const head = await store.head(file.key);
      if (!head) return `file ${file.object}/${file.recordId}: body ${file.key} is missing`;
      if (head.bytes !== file.bytes) return `file ${file.object}/${file.recordId}: body size differs`;
      if (options.hashBodies && (await hashStored(store, file.key)).sha256 !== file.sha256)
        return `file ${file.object}/${file.recordId}: body does not match its SHA-256`;
      return undefined;
    });
    for (const problem of found) if (problem) problems.push(problem);
  };
  await checkFiles(manifest.files);
  // One list record's entries held at a time.
  for (const list of manifest.fileLists ?? []) {
    let entries: SnapshotFile[];
    try {
      entries = await readFileList(store, list);
    } catch (error) {
      if (!(error instanceof SnapshotCorruptError)) throw error;
      problems.push(error.message);
      continue;
    }
    await checkFiles(entries);
  }
  for (const part of manifest.metadata.parts) {
    const head = await store.head(part.key);
    if (!head) {
      problems.push(`metadata part ${part.key} is missing`);
      continue;
    }
    const sha = createHash('sha256')
      .update(await store.get(part.key))
      .digest('hex');
    if (sha !== part.sha256) problems.push(`metadata part ${part.key} does not match its SHA-256`);
  }
  return problems;
}

/** SHA-256 and size of a stored object, read as a stream. */
export async function hashStored(
  store: BackupStore,
  key: string,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of await store.getStream(key)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Hash, size and data-row count of a stored gzip CSV part, or undefined when it is missing. */
export async function verifyPart(
  store: BackupStore,
  key: string,
): Promise<{ sha256: string; bytes: number; rows: number } | undefined> {
  if (!(await store.head(key))) return undefined;
  const hash = createHash('sha256');
  const counter = new CsvRecordCounter();
  let bytes = 0;
  const source = await store.getStream(key);
  const gunzip = createGunzip();
  source.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  for await (const chunk of gunzip) counter.push(chunk as Buffer);
  return { sha256: hash.digest('hex'), bytes, rows: counter.dataRows() };
}
