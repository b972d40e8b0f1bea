import { ErrorName, ORGS_PREFIX, VAULT_LEASE_FOLDER } from '../../../contract/workflow-contract.ts';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pipeline, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import type { BackupStore } from '../store.ts';
import { ObjectNotFoundError } from '../store.ts';
import { snapshotFiles } from './file-lists.ts';
import { catalogKey, catalogPrefix, latestPointerKey, manifestKey } from './keys.ts';
import {
  type CatalogEntry,
  parseCatalogEntry,
  parseManifest,
  SnapshotCorruptError,
  type SnapshotField,
  type SnapshotFile,
  type SnapshotManifest,
  type SnapshotMetadataPart,
  type SnapshotObject,
  type SnapshotPart,
} from './manifest.ts';

/** Which point in time to read: `latest`, a snapshot id, or an instant (the newest snapshot finished by then). */
export type SnapshotSelector = 'latest' | string | Date;

/** One row of an object as of a point in time. Values are the CSV strings; empty means null. */
export interface SnapshotRow {
  readonly id: string;
  /** True when the row was in the recycle bin (IsDeleted) at that point. */
  readonly deleted: boolean;
  readonly values: Readonly<Record<string, string>>;
  /** The snapshot this version of the row was read from. */
  readonly snapshotId: string;
}

/** The request named a snapshot that does not exist or cannot be used. */
export class SnapshotNotFoundError extends Error {
  override readonly name = ErrorName.SnapshotNotFound;
}

export { SnapshotCorruptError };

/** Reads snapshots from the vault: the catalog, manifests, and points in time. */
export class SnapshotReader {
  constructor(private readonly store: BackupStore) {}

  /**
   * Every org the vault holds anything of, by its key, sorted. Its lease records alone (a backup
   * refused at its plan, a failed sign-in) do not make an org.
   */
  async orgs(): Promise<string[]> {
    const orgs = new Set<string>();
    for await (const entry of this.store.list(ORGS_PREFIX)) {
      const [name, folder] = entry.key.slice(ORGS_PREFIX.length).split('/');
      if (name && `${folder}/` !== VAULT_LEASE_FOLDER) orgs.add(name);
    }
    return [...orgs].sort();
  }

  /** Where the vault is, for a message that found nothing in it: a directory's path, or the bucket's URL. */
  private place(): string {
    const { location } = this.store;
    return `the vault at ${location.startsWith('file:') ? fileURLToPath(location) : location}`;
  }

  /**
   * Every finished snapshot of an org (complete and failed), oldest first. An entry listed but gone
   * when read was removed in between by the retention sweep, and is left out.
   */
  async catalog(org: string): Promise<CatalogEntry[]> {
    const entries: CatalogEntry[] = [];
    for await (const entry of this.store.list(catalogPrefix(org))) {
      if (!entry.key.endsWith('.json')) continue;
      let text: string;
      try {
        text = await this.text(entry.key);
      } catch (error) {
        if (error instanceof ObjectNotFoundError) continue;
        throw error;
      }
      entries.push(parseCatalogEntry(text, entry.key));
    }
    return entries.sort((a, b) => a.snapshotId.localeCompare(b.snapshotId));
  }

  /**
   * The newest complete snapshot's catalog entry, or undefined when the org has none. With
   * `data`, the newest complete full or incremental one (metadata-only runs skipped).
   */
  async latestComplete(org: string, options: { data?: boolean } = {}): Promise<CatalogEntry | undefined> {
    if (options.data) {
      return (await this.catalog(org)).filter((e) => e.status === 'complete' && e.mode !== 'metadata').at(-1);
    }
    const pointer = await this.store.head(latestPointerKey(org));
    if (pointer) {
      const { snapshotId } = JSON.parse(await this.text(latestPointerKey(org))) as { snapshotId: string };
      const entry = await this.entry(org, snapshotId);
      if (entry.status === 'complete') return entry;
    }
    return (await this.catalog(org)).filter((e) => e.status === 'complete').at(-1);
  }

  /** The newest complete data snapshot (full or incremental) started before `snapshotId`, if any. */
  async completeDataBefore(org: string, snapshotId: string): Promise<CatalogEntry | undefined> {
    return (await this.catalog(org))
      .filter((e) => e.status === 'complete' && e.mode !== 'metadata' && e.snapshotId < snapshotId)
      .at(-1);
  }

  /** The manifest of a snapshot, complete or not. */
  async manifest(org: string, snapshotId: string): Promise<SnapshotManifest> {
    const key = manifestKey(org, snapshotId);
    try {
      return parseManifest(await this.text(key), key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) {
        throw new SnapshotNotFoundError(`Snapshot ${snapshotId} of org ${org} has no manifest (${key}).`);
      }
      throw error;
    }
  }

  /**
   * The manifest of a snapshot read from the catalog, or undefined when it is gone: the retention
   * sweep removes a snapshot's catalog entry and manifest, and may do so after the catalog was read.
   */
  async manifestUnlessSwept(org: string, snapshotId: string): Promise<SnapshotManifest | undefined> {
    try {
      return await this.manifest(org, snapshotId);
    } catch (error) {
      if (error instanceof SnapshotNotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * Resolves a selector to the full snapshot and the incrementals after it, up to the one selected,
   * and to the newest metadata retrieve at or before it. Selecting a metadata-only snapshot gives
   * the data as of the newest data snapshot before it.
   */
  async pointInTime(org: string, at: SnapshotSelector): Promise<PointInTime> {
    const selected = await this.select(org, at);
    const complete = (await this.catalog(org)).filter(
      (e) => e.status === 'complete' && e.snapshotId <= selected.snapshotId,
    );
    const target = complete.filter((e) => e.mode !== 'metadata').at(-1);
    if (!target) {
      throw new SnapshotNotFoundError(
        `Org ${org} has no complete data snapshot at or before ${selected.snapshotId} in ${this.place()}: run a full backup first.`,
      );
    }
    const metadataEntry = complete.filter((e) => e.metadata).at(-1);
    const metadata = metadataEntry ? await this.manifest(org, metadataEntry.snapshotId) : undefined;
    const chain: SnapshotManifest[] = [];
    let entry: CatalogEntry | undefined = target;
    while (entry) {
      const manifest = await this.manifest(org, entry.snapshotId);
      chain.unshift(manifest);
      if (manifest.mode === 'full') break;
      if (!manifest.baseSnapshotId) {
        throw new SnapshotCorruptError(`Incremental snapshot ${manifest.snapshotId} names no base snapshot.`);
      }
      entry = await this.entry(org, manifest.baseSnapshotId);
      if (entry.status !== 'complete') {
        throw new SnapshotCorruptError(
          `Snapshot ${manifest.snapshotId} builds on ${entry.snapshotId}, which is not complete.`,
        );
      }
    }
    return new PointInTime(this.store, org, chain, metadata);
  }

  private async select(org: string, at: SnapshotSelector): Promise<CatalogEntry> {
    if (at === 'latest') {
      const latest = await this.latestComplete(org);
      if (!latest)
        throw new SnapshotNotFoundError(
          `Org ${org} has no complete snapshot in ${this.place()}: run a backup first, or check that this is the vault and the org key meant.`,
        );
      return latest;
    }
    if (at instanceof Date) {
      if (Number.isNaN(at.getTime()))
        throw new SnapshotNotFoundError('The point in time is not a valid date.');
      const before = (await this.catalog(org)).filter(
        (e) => e.status === 'complete' && new Date(e.finishedAt).getTime() <= at.getTime(),
      );
      const last = before.at(-1);
      if (!last) {
        throw new SnapshotNotFoundError(
          `Org ${org} has no complete snapshot finished by ${at.toISOString()} in ${this.place()}; list them with the catalog.`,
        );
      }
      return last;
    }
    const entry = await this.entry(org, at);
    if (entry.status !== 'complete') {
      throw new SnapshotNotFoundError(
        `Snapshot ${at} of org ${org} is not complete (${entry.problems.join('; ')}); choose a complete one.`,
      );
    }
    return entry;
  }

  private async entry(org: string, snapshotId: string): Promise<CatalogEntry> {
    const key = catalogKey(org, snapshotId);
    try {
      return parseCatalogEntry(await this.text(key), key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) {
        throw new SnapshotNotFoundError(
          `Org ${org} has no finished snapshot ${snapshotId} in ${this.place()}.`,
        );
      }
      throw error;
    }
  }

  private async text(key: string): Promise<string> {
    return new TextDecoder().decode(await this.store.get(key));
  }
}

/** An org as of one snapshot: its full base plus the incrementals after it (oldest first). */
export class PointInTime {
  constructor(
    private readonly store: BackupStore,
    readonly org: string,
    readonly chain: readonly SnapshotManifest[],
    /** The manifest of the newest snapshot with metadata at this point, if any. */
    readonly metadataSnapshot?: SnapshotManifest,
  ) {}

  /** The snapshot the point in time was resolved to. */
  get target(): SnapshotManifest {
    return this.chain.at(-1)!;
  }

  /** Objects backed up at this point. */
  objectNames(): string[] {
    return this.target.objects.filter((o) => o.status !== 'failed').map((o) => o.name);
  }

  /** The object's entry in the newest snapshot that exported it (fields as described then). */
  object(name: string): SnapshotObject {
    for (let i = this.chain.length - 1; i >= 0; i--) {
      const entry = this.chain[i]!.objects.find((o) => o.name === name && o.status === 'exported');
      if (entry) return entry;
    }
    const entry = this.target.objects.find((o) => o.name === name);
    if (!entry) {
      throw new SnapshotNotFoundError(`Snapshot ${this.target.snapshotId} holds no object named ${name}.`);
    }
    return entry;
  }

  /** Fields of an object as described when it was last exported. */
  fields(name: string): SnapshotField[] {
    return this.object(name).fields;
  }

  /**
   * Every row of an object as of this point: the newest version of each Id, deleted rows flagged.
   * Reads the newest snapshot first and remembers only ids, so memory grows with ids, not rows.
   * A snapshot's tombstones (ids the delete log listed) hide the older versions of rows that
   * snapshot does not hold itself: those rows were gone from the org by then. A snapshot that read
   * the object in full (a full run, or `since` null) ends the chain for it.
   */
  async *rows(name: string, options: { includeDeleted?: boolean } = {}): AsyncIterable<SnapshotRow> {
    this.object(name);
    const seen = new Set<string>();
    for (let i = this.chain.length - 1; i >= 0; i--) {
      const manifest = this.chain[i]!;
      const entry = manifest.objects.find((o) => o.name === name);
      if (entry?.status === 'exported') {
        for (const part of entry.parts) {
          for await (const values of readPartRows(this.store, part)) {
            const id = values.Id;
            if (!id || seen.has(id)) continue;
            seen.add(id);
            const deleted = values.IsDeleted === 'true';
            if (deleted && options.includeDeleted === false) continue;
            yield { id, deleted, values, snapshotId: manifest.snapshotId };
          }
        }
      }
      if (entry?.tombstones) {
        for await (const values of readPartRows(this.store, entry.tombstones))
          if (values.Id) seen.add(values.Id);
      }
      if (manifest.mode === 'full' || (entry?.status === 'exported' && entry.since === null)) break;
    }
  }

  /**
   * Rows a restore inserted again under new ids, as of this point: new id -> the id it replaces,
   * from the links each snapshot of the chain recorded.
   */
  async links(name: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const manifest of this.chain) {
      const part = manifest.objects.find((o) => o.name === name)?.links;
      if (!part) continue;
      for await (const values of readPartRows(this.store, part))
        if (values.Id && values.ReplacesId) out.set(values.Id, values.ReplacesId);
    }
    return out;
  }

  /**
   * File bodies as of this point: the newest entry per record and field, of the records `wanted`
   * keeps (every one without it). Only the kept entries are held, one list record read at a time.
   */
  async files(wanted?: (file: SnapshotFile) => boolean): Promise<SnapshotFile[]> {
    const byRecord = new Map<string, SnapshotFile>();
    for (let i = this.chain.length - 1; i >= 0; i--) {
      for await (const file of snapshotFiles(this.store, this.chain[i]!)) {
        if (wanted && !wanted(file)) continue;
        const id = `${file.object}/${file.recordId}/${file.field}`;
        if (!byRecord.has(id)) byRecord.set(id, file);
      }
    }
    return [...byRecord.values()];
  }

  /** A file body's bytes, checked against its SHA-256. */
  readFile(file: SnapshotFile): Promise<Uint8Array> {
    return readFileBody(this.store, file);
  }

  /** Metadata zips of the newest snapshot at this point that retrieved metadata. */
  metadataParts(): SnapshotMetadataPart[] {
    return this.metadataSnapshot?.metadata.parts ?? [];
  }

  /** A metadata zip's bytes, checked against its SHA-256. */
  async readMetadataPart(part: SnapshotMetadataPart): Promise<Uint8Array> {
    const bytes = await this.store.get(part.key, part.versionId ? { versionId: part.versionId } : {});
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== part.sha256)
      throw new SnapshotCorruptError(
        `Metadata part ${part.key} does not match the SHA-256 its manifest records: it was changed after the backup wrote it. Nothing was deployed from it; restore from another snapshot and find out who changed the vault.`,
      );
    return bytes;
  }
}

/**
 * Streams the rows of one gzip CSV part as records keyed by column name. Given the part's
 * manifest entry, it reads the store version the backup wrote and, once the part is read, checks
 * its SHA-256 and row count against the manifest, failing with `SnapshotCorruptError` naming the
 * part: a restore reads every part of its scope at the plan, before it writes anything.
 */
/** A file body's bytes from the vault, checked against the SHA-256 that names it. */
export async function readFileBody(
  store: BackupStore,
  body: { readonly key: string; readonly sha256: string },
): Promise<Uint8Array> {
  const bytes = await store.get(body.key);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== body.sha256) throw new SnapshotCorruptError(`File ${body.key} does not match its SHA-256.`);
  return bytes;
}

export async function* readPartRows(
  store: BackupStore,
  part: string | SnapshotPart,
): AsyncIterable<Record<string, string>> {
  const key = typeof part === 'string' ? part : part.key;
  const versionId = typeof part === 'string' ? undefined : part.versionId;
  const parser = parse({ columns: true, relax_column_count: false, skip_empty_lines: true, bom: true });
  const sha = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sha.update(chunk);
      callback(null, chunk);
    },
  });
  // pipeline carries a read or gunzip error into the parser, so a damaged part fails loudly.
  pipeline(
    await store.getStream(key, versionId ? { versionId } : {}),
    hashing,
    createGunzip(),
    parser,
    (error) => {
      if (error) parser.destroy(error);
    },
  );
  let rows = 0;
  for await (const record of parser) {
    rows++;
    yield record as Record<string, string>;
  }
  if (typeof part === 'string') return;
  if (sha.digest('hex') !== part.sha256) {
    throw new SnapshotCorruptError(
      `Snapshot part ${key} does not match the SHA-256 its manifest records: it was changed after the backup wrote it. Nothing was written from it; restore from another snapshot and find out who changed the vault.`,
    );
  }
  if (rows !== part.rows) {
    throw new SnapshotCorruptError(
      `Snapshot part ${key} holds ${rows} rows, but its manifest records ${part.rows}. Nothing was written from it; restore from another snapshot.`,
    );
  }
}
