import { type PointInTime, SnapshotNotFoundError, SnapshotReader } from '../snapshot/reader.ts';
import type { BackupStore } from '../store.ts';
import { UnknownSnapshotError } from './errors.ts';
import type {
  BodyRef,
  FileSelection,
  ObjectCoverage,
  Row,
  SnapshotComponent,
  SnapshotField,
  SnapshotFile,
  SnapshotFileLink,
  SnapshotFileVersion,
  SnapshotSelector,
  SnapshotSource,
  SnapshotView,
} from './model.ts';
import { componentsInZips, zipOfComponents } from './metadata-zip.ts';
import { type InstantView, rowsAtInstant, type SnapshotOnlyCause } from '../continuous/view.ts';
import type { SnapshotFile as SnapshotBody } from '../snapshot/manifest.ts';
import { idKey } from './values.ts';

/**
 * The restore's snapshot source over the backup's point-in-time reader, so that the code that
 * reads a point in time is the same for backup verification and for restore.
 */
export class VaultSnapshotSource implements SnapshotSource {
  private readonly reader: SnapshotReader;

  constructor(
    private readonly store: BackupStore,
    /** The vault's key for the org whose backups are read (the config's org name). */
    private readonly orgKey: string,
  ) {
    this.reader = new SnapshotReader(store);
  }

  async resolve(_orgId: string, selector: SnapshotSelector): Promise<SnapshotView> {
    const at =
      selector.kind === 'latest' ? 'latest' : selector.kind === 'id' ? selector.id : new Date(selector.at);
    try {
      const pit = await this.reader.pointInTime(this.orgKey, at);
      if (selector.kind === 'instant') {
        return new PointInTimeView(pit, {
          store: this.store,
          orgKey: this.orgKey,
          until: new Date(selector.at),
        });
      }
      return new PointInTimeView(pit);
    } catch (error) {
      if (error instanceof SnapshotNotFoundError) {
        const text =
          selector.kind === 'latest' ? 'latest' : selector.kind === 'id' ? selector.id : selector.at;
        throw new UnknownSnapshotError(text, error.message);
      }
      throw error;
    }
  }
}

/** One point in time, shaped as the restore reads it. */
export class PointInTimeView implements SnapshotView {
  readonly id: string;
  readonly orgId: string;
  readonly takenAt: string;

  private bodies: Map<string, SnapshotBody> | undefined;
  /** What the journal settled for each object read at the instant (rows left out). */
  private readonly covered = new Map<string, ObjectCoverage>();

  constructor(
    private readonly pit: PointInTime,
    /** Replays the change-event journal over the snapshot up to this instant. */
    private readonly journal?: { store: BackupStore; orgKey: string; until: Date },
  ) {
    this.id = pit.target.snapshotId;
    this.orgId = pit.target.orgId;
    this.takenAt = journal ? journal.until.toISOString() : pit.target.watermark;
  }

  objects(): readonly string[] {
    return this.pit.objectNames();
  }

  fields(object: string): readonly SnapshotField[] | undefined {
    if (!this.pit.objectNames().includes(object)) return undefined;
    return this.pit
      .fields(object)
      .filter((f) => f.inCsv)
      .map((f) => ({ name: f.name, type: f.type, referenceTo: f.referenceTo ?? [] }));
  }

  async *rows(object: string): AsyncIterable<Row> {
    const toRow = (source: Readonly<Record<string, string>>) => {
      const values: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(source)) values[k] = v === '' ? null : v;
      return values;
    };
    if (this.journal) {
      const view = await this.atInstant(object, this.journal);
      for (const row of view.rows.values()) if (row.IsDeleted !== 'true') yield toRow(row);
      return;
    }
    for await (const row of this.pit.rows(object, { includeDeleted: false })) yield toRow(row.values);
  }

  async coverage(object: string): Promise<ObjectCoverage | undefined> {
    if (!this.journal) return undefined;
    return this.covered.get(object) ?? (await this.atInstant(object, this.journal)).coverage;
  }

  private async atInstant(
    object: string,
    journal: { store: BackupStore; orgKey: string; until: Date },
  ): Promise<InstantView & { coverage: ObjectCoverage }> {
    const view = await rowsAtInstant(journal.store, journal.orgKey, object, journal.until);
    const coverage: ObjectCoverage = {
      instant: view.instant,
      snapshotId: view.snapshotId,
      snapshotWatermark: view.watermark,
      events: view.events,
      ...(view.snapshotOnly
        ? { snapshotOnly: describeSnapshotOnly(view.snapshotOnly, view.snapshotId) }
        : {}),
      uncertain: view.uncertain,
    };
    this.covered.set(object, coverage);
    return { ...view, coverage };
  }

  async files(select?: FileSelection): Promise<readonly SnapshotFile[]> {
    if (!this.pit.objectNames().includes('ContentVersion')) return [];
    // Only the documents asked for are held: a snapshot may hold millions.
    const wanted = select ? await this.documentsSelected(select) : undefined;
    const kept = (documentId: string) => !wanted || wanted.has(idKey(documentId));
    const documents = new Map<string, { versions: Row[]; first: Row; latest: Row }>();
    for await (const row of this.rows('ContentVersion')) {
      if (!row.Id || !row.ContentDocumentId || row.ContentUrl || !kept(row.ContentDocumentId)) continue;
      const key = idKey(row.ContentDocumentId);
      const number = Number(row.VersionNumber ?? '1') || 1;
      const version = versionFields(row);
      const doc = documents.get(key) ?? { versions: [], first: version, latest: version };
      doc.versions.push(version);
      if (number < Number(doc.first.VersionNumber ?? '1')) doc.first = version;
      if (row.IsLatest === 'true' || number > Number(doc.latest.VersionNumber ?? '1')) doc.latest = version;
      documents.set(key, doc);
    }
    const versionIds = new Set([...documents.values()].flatMap((d) => d.versions.map((r) => idKey(r.Id!))));
    const bodies = new Map<string, SnapshotBody>();
    for (const f of await this.pit.files(
      (f) => f.object === 'ContentVersion' && versionIds.has(idKey(f.recordId)),
    ))
      bodies.set(idKey(f.recordId), f);
    const versionOf = (row: Row): SnapshotFileVersion => {
      const body = bodies.get(idKey(row.Id!));
      return {
        versionId: row.Id!,
        versionNumber: Number(row.VersionNumber ?? '1') || 1,
        title: row.Title ?? row.PathOnClient ?? 'file',
        pathOnClient: row.PathOnClient ?? row.Title ?? 'file',
        reasonForChange: row.ReasonForChange ?? null,
        checksum: row.Checksum ?? null,
        ...(body
          ? {
              bytes: body.bytes,
              read: () => this.pit.readFile(body),
              body: { key: body.key, sha256: body.sha256, bytes: body.bytes },
            }
          : {}),
      };
    };
    const links = new Map<string, SnapshotFileLink[]>();
    if (this.pit.objectNames().includes('ContentDocumentLink')) {
      for await (const row of this.rows('ContentDocumentLink')) {
        if (!row.Id || !row.ContentDocumentId || !row.LinkedEntityId) continue;
        const key = idKey(row.ContentDocumentId);
        if (!documents.has(key)) continue;
        const list = links.get(key) ?? [];
        list.push({
          id: row.Id,
          linkedEntityId: row.LinkedEntityId,
          shareType: row.ShareType ?? 'V',
          visibility: row.Visibility ?? 'AllUsers',
        });
        links.set(key, list);
      }
    }
    // The document's owner, when the snapshot holds its row; else its first version's.
    const owners = new Map<string, string>();
    if (this.pit.objectNames().includes('ContentDocument')) {
      for await (const row of this.rows('ContentDocument'))
        if (row.Id && row.OwnerId && documents.has(idKey(row.Id))) owners.set(idKey(row.Id), row.OwnerId);
    }
    const files: SnapshotFile[] = [];
    for (const [key, doc] of documents) {
      const versions = doc.versions.map(versionOf).sort((a, b) => a.versionNumber - b.versionNumber);
      const shares = links.get(key) ?? [];
      const first = doc.first.FirstPublishLocationId ?? null;
      files.push({
        contentDocumentId: doc.latest.ContentDocumentId ?? null,
        versionId: doc.latest.Id as string,
        title: doc.latest.Title ?? doc.latest.PathOnClient ?? 'file',
        firstPublishLocationId: first,
        ownerId: owners.get(key) ?? doc.first.OwnerId ?? null,
        linkedEntityIds: [...new Set([...(first ? [first] : []), ...shares.map((l) => l.linkedEntityId)])],
        versions,
        links: shares,
      });
    }
    return files;
  }

  /**
   * The documents a selection names (by their 15-character ids): those given, and those whose
   * version was first published to, or that are linked to, a record given. A later version's first
   * publish location may select a document its first version does not: the caller's own test of
   * its links decides.
   */
  private async documentsSelected(select: FileSelection): Promise<Set<string>> {
    const wanted = new Set([...(select.documents ?? [])].map(idKey));
    const records = new Set([...(select.linkedTo ?? [])].map(idKey));
    if (records.size === 0) return wanted;
    for await (const row of this.rows('ContentVersion'))
      if (
        row.ContentDocumentId &&
        row.FirstPublishLocationId &&
        records.has(idKey(row.FirstPublishLocationId))
      )
        wanted.add(idKey(row.ContentDocumentId));
    if (this.pit.objectNames().includes('ContentDocumentLink')) {
      for await (const row of this.rows('ContentDocumentLink'))
        if (row.ContentDocumentId && row.LinkedEntityId && records.has(idKey(row.LinkedEntityId)))
          wanted.add(idKey(row.ContentDocumentId));
    }
    return wanted;
  }

  async bodyRef(object: string, recordId: string): Promise<BodyRef | undefined> {
    // Indexed once: a plan asks for the body of every attachment it inserts.
    this.bodies ??= new Map(
      (await this.pit.files((f) => f.field === 'Body')).map((f) => [
        `${f.object}:${f.recordId.slice(0, 15)}`,
        f,
      ]),
    );
    const file = this.bodies.get(`${object}:${recordId.slice(0, 15)}`);
    return file ? { key: file.key, sha256: file.sha256, bytes: file.bytes } : undefined;
  }

  async components(): Promise<readonly SnapshotComponent[]> {
    return componentsInZips(await this.metadataZips());
  }

  async componentZip(components: readonly SnapshotComponent[]): Promise<Uint8Array> {
    return zipOfComponents(await this.metadataZips(), components);
  }

  private async metadataZips(): Promise<Uint8Array[]> {
    const zips: Uint8Array[] = [];
    for (const part of this.pit.metadataParts()) zips.push(await this.pit.readMetadataPart(part));
    return zips;
  }
}

/** The fields of a ContentVersion row a restore reads: a row holds many more. */
const VERSION_FIELDS = [
  'Id',
  'ContentDocumentId',
  'VersionNumber',
  'IsLatest',
  'Title',
  'PathOnClient',
  'ReasonForChange',
  'Checksum',
  'FirstPublishLocationId',
  'OwnerId',
] as const;

function versionFields(row: Row): Row {
  const kept: Record<string, string | null> = {};
  for (const field of VERSION_FIELDS) if (row[field] !== undefined) kept[field] = row[field];
  return kept;
}

/** Why an object's rows at an instant are its base snapshot's, for a person. */
export function describeSnapshotOnly(cause: SnapshotOnlyCause, snapshotId: string): string {
  switch (cause.kind) {
    case 'not-continuous':
      return `snapshot ${snapshotId} does not mark the object continuous (its change events were not relayed to the journal)`;
    case 'overflow':
      return `an overflow event at ${cause.at} means the journal lacks some of its changes until the next backup reads it in full`;
    case 'journal-break':
      return `the journal is broken from ${cause.from} to ${cause.to} (${cause.reason}), as snapshot ${cause.snapshotId} records`;
  }
}
