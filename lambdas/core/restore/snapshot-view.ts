import { type PointInTime, SnapshotNotFoundError, SnapshotReader } from '../snapshot/reader.ts';
import type { BackupStore } from '../store.ts';
import { UnknownSnapshotError } from './errors.ts';
import type {
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

  private bodies: Map<string, ReturnType<PointInTime['files']>[number]> | undefined;
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

  async files(): Promise<readonly SnapshotFile[]> {
    if (!this.pit.objectNames().includes('ContentVersion')) return [];
    const bodies = new Map(
      this.pit
        .files()
        .filter((f) => f.object === 'ContentVersion')
        .map((f) => [f.recordId.slice(0, 15), f]),
    );
    const documents = new Map<string, { versions: SnapshotFileVersion[]; first: Row; latest: Row }>();
    for await (const row of this.rows('ContentVersion')) {
      if (!row.Id || !row.ContentDocumentId || row.ContentUrl) continue;
      const body = bodies.get(row.Id.slice(0, 15));
      const version: SnapshotFileVersion = {
        versionId: row.Id,
        versionNumber: Number(row.VersionNumber ?? '1') || 1,
        title: row.Title ?? row.PathOnClient ?? 'file',
        pathOnClient: row.PathOnClient ?? row.Title ?? 'file',
        reasonForChange: row.ReasonForChange ?? null,
        checksum: row.Checksum ?? null,
        ...(body ? { bytes: body.bytes, read: () => this.pit.readFile(body) } : {}),
      };
      const key = row.ContentDocumentId.slice(0, 15);
      const doc = documents.get(key) ?? { versions: [], first: row, latest: row };
      doc.versions.push(version);
      if (version.versionNumber < Number(doc.first.VersionNumber ?? '1')) doc.first = row;
      if (row.IsLatest === 'true' || version.versionNumber > Number(doc.latest.VersionNumber ?? '1'))
        doc.latest = row;
      documents.set(key, doc);
    }
    const links = new Map<string, SnapshotFileLink[]>();
    if (this.pit.objectNames().includes('ContentDocumentLink')) {
      for await (const row of this.rows('ContentDocumentLink')) {
        if (!row.Id || !row.ContentDocumentId || !row.LinkedEntityId) continue;
        const key = row.ContentDocumentId.slice(0, 15);
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
        if (row.Id && row.OwnerId && documents.has(row.Id.slice(0, 15)))
          owners.set(row.Id.slice(0, 15), row.OwnerId);
    }
    const files: SnapshotFile[] = [];
    for (const [key, doc] of documents) {
      const versions = doc.versions.sort((a, b) => a.versionNumber - b.versionNumber);
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

  async body(object: string, recordId: string): Promise<Uint8Array | undefined> {
    // Indexed once: a plan asks for the body of every attachment it inserts.
    this.bodies ??= new Map(
      this.pit
        .files()
        .filter((f) => f.field === 'Body')
        .map((f) => [`${f.object}:${f.recordId.slice(0, 15)}`, f]),
    );
    const file = this.bodies.get(`${object}:${recordId.slice(0, 15)}`);
    return file ? this.pit.readFile(file) : undefined;
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
