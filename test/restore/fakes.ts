/** In-memory stand-ins for the restore's interfaces, for unit tests of the core. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  BodyRef,
  FileSelection,
  FieldInfo,
  NewFile,
  ObjectInfo,
  RestoreOrg,
  RetrieveState,
  DeployState,
  Row,
  SnapshotComponent,
  SnapshotField,
  SnapshotFile,
  SnapshotSelector,
  SnapshotSource,
  SnapshotView,
  WriteResult,
  WriteRow,
} from '../../lambdas/core/restore/model.ts';
import { UnknownSnapshotError } from '../../lambdas/core/restore/errors.ts';
import { idKey } from '../../lambdas/core/restore/values.ts';
import {
  type BackupStore,
  ObjectExistsError,
  ObjectNotFoundError,
  type ListOptions,
  type StoreEntry,
  type StoredObject,
} from '../../lambdas/core/store.ts';
import { foldersListed, keysListed } from '../support/memory-listing.ts';

/** A store in memory with the vault's write-once rule. */
export class MemoryStore implements BackupStore {
  readonly location = 'memory://';
  readonly objects = new Map<string, Uint8Array>();
  /** When set, a put whose key matches throws once (a crash between two writes). */
  failOnce?: RegExp;

  async put(key: string, body: Uint8Array | string): Promise<StoredObject> {
    if (this.failOnce?.test(key)) {
      this.failOnce = undefined;
      throw new Error(`simulated crash before writing ${key}`);
    }
    if (this.objects.has(key)) throw new ObjectExistsError(key);
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    this.objects.set(key, bytes);
    return { key, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<StoredObject> {
    const chunks: Uint8Array[] = [];
    for await (const c of body) chunks.push(c);
    return this.put(key, Buffer.concat(chunks));
  }
  async putPointer(key: string, body: string): Promise<StoredObject> {
    this.objects.set(key, new TextEncoder().encode(body));
    return { key, bytes: body.length, sha256: '' };
  }
  async get(key: string): Promise<Uint8Array> {
    const v = this.objects.get(key);
    if (!v) throw new ObjectNotFoundError(key);
    return v;
  }
  async getStream(key: string): Promise<Readable> {
    return Readable.from([await this.get(key)]);
  }
  async head(key: string): Promise<StoreEntry | undefined> {
    const v = this.objects.get(key);
    return v ? { key, bytes: v.length } : undefined;
  }
  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<StoreEntry> {
    for (const key of keysListed(this.objects.keys(), prefix, options))
      yield { key, bytes: this.objects.get(key)!.length };
  }

  async *listFolders(prefix: string): AsyncIterable<string> {
    yield* foldersListed(this.objects.keys(), prefix);
  }
}

/** A field with the usual flags of a writable field. */
export function field(name: string, type = 'string', extra: Partial<FieldInfo> = {}): FieldInfo {
  return {
    name,
    type,
    referenceTo: [],
    createable: true,
    updateable: true,
    nillable: true,
    calculated: false,
    autoNumber: false,
    ...extra,
  };
}

/** System fields every object has, read-only unless the org lets the restore set audit fields. */
export function systemFields(auditOnCreate = false): FieldInfo[] {
  const ro = { createable: false, updateable: false };
  return [
    field('Id', 'id', ro),
    field('IsDeleted', 'boolean', ro),
    field('CreatedDate', 'datetime', { ...ro, createable: auditOnCreate }),
    field('CreatedById', 'reference', { ...ro, createable: auditOnCreate, referenceTo: ['User'] }),
    field('LastModifiedDate', 'datetime', { ...ro, createable: auditOnCreate }),
    field('SystemModstamp', 'datetime', ro),
  ];
}

interface StoredRow {
  values: Record<string, string | null>;
  deleted: boolean;
  createdBy: string;
  createdAt: number;
}

/** An org in memory: describe, a recycle bin, and writes that answer like Salesforce. */
export class FakeOrg implements RestoreOrg {
  readonly rows = new Map<string, Map<string, StoredRow>>();
  readonly calls: string[] = [];
  private seq = 0;
  /** Rows whose insert Salesforce refuses, by a field value (a validation rule). */
  rejectInsert?: (object: string, row: WriteRow) => string | undefined;
  /** Throws after the create call has written (a crash before the caller hears back). */
  crashAfterCreate = false;
  /** Throws after this many more file uploads have been made (a crash before the caller hears back). */
  crashAfterFiles?: number;
  readonly files: NewFile[] = [];

  constructor(
    readonly objects: ObjectInfo[],
    readonly orgId = '00D000000000001AAA',
    readonly userId = '005000000000001AAA',
    private readonly clock: () => number = Date.now,
  ) {}

  /** Adds a live row. */
  seed(object: string, values: Record<string, string | null>): void {
    this.table(object).set(values.Id!.slice(0, 15), {
      values: { ...values },
      deleted: false,
      createdBy: this.userId,
      createdAt: 0,
    });
  }
  /** Moves a row to the recycle bin, clearing lookups to it as Salesforce does. */
  softDelete(object: string, id: string): void {
    const row = this.table(object).get(id.slice(0, 15));
    if (row) row.deleted = true;
    this.clearLookupsTo(id);
  }
  /** Removes a row for good. */
  hardDelete(object: string, id: string): void {
    this.table(object).delete(id.slice(0, 15));
    this.clearLookupsTo(id);
  }
  /** Live rows of an object. */
  live(object: string): Record<string, string | null>[] {
    return [...this.table(object).values()].filter((r) => !r.deleted).map((r) => r.values);
  }
  private clearLookupsTo(id: string): void {
    for (const [object, table] of this.rows) {
      const info = this.objects.find((o) => o.name === object);
      for (const r of table.values()) {
        for (const f of info?.fields ?? []) {
          if (f.type === 'reference' && r.values[f.name]?.slice(0, 15) === id.slice(0, 15))
            r.values[f.name] = null;
        }
      }
    }
  }
  /**
   * A field as a query reads it, as Salesforce gives it: a body as the path it is read from, its
   * length as `<field>Length`.
   */
  private read(object: string, r: StoredRow, field: string): string | null {
    const info = this.objects.find((o) => o.name === object);
    const isBody = (name: string) => info?.fields.some((f) => f.name === name && f.type === 'base64');
    if (isBody(field))
      return r.values[field] ? `/services/data/v62.0/sobjects/${object}/${r.values.Id}/${field}` : null;
    const body = field.endsWith('Length') ? field.slice(0, -'Length'.length) : undefined;
    if (body && isBody(body)) {
      const value = r.values[body];
      return value ? String(Buffer.from(value, 'base64').length) : '0';
    }
    return r.values[field] ?? null;
  }
  private table(object: string): Map<string, StoredRow> {
    let t = this.rows.get(object);
    if (!t) {
      t = new Map();
      this.rows.set(object, t);
    }
    return t;
  }
  private prefix(object: string): string {
    return this.objects.find((o) => o.name === object)?.keyPrefix ?? 'a00';
  }

  async identity() {
    return { orgId: this.orgId, userId: this.userId };
  }
  async describe(object: string) {
    return this.objects.find((o) => o.name === object);
  }
  async fetchByIds(object: string, ids: readonly string[], fields: readonly string[]): Promise<Row[]> {
    this.calls.push(`fetch ${object} ${ids.length}`);
    const t = this.table(object);
    return ids.flatMap((id) => {
      const r = t.get(id.slice(0, 15));
      if (!r) return [];
      const out: Record<string, string | null> = { Id: r.values.Id ?? null, IsDeleted: String(r.deleted) };
      for (const f of fields) out[f] = this.read(object, r, f);
      return [out];
    });
  }
  async fetchCreatedSince(
    object: string,
    since: string,
    userId: string,
    fields: readonly string[],
  ): Promise<Row[]> {
    return [...this.table(object).values()]
      .filter((r) => !r.deleted && r.createdBy === userId && r.createdAt >= Date.parse(since))
      .map((r) => {
        const out: Record<string, string | null> = { Id: r.values.Id ?? null };
        for (const f of fields) out[f] = this.read(object, r, f);
        return out;
      });
  }
  async bodySha256(object: string, id: string, field: string): Promise<string> {
    this.calls.push(`body ${object} ${id}`);
    const value = this.table(object).get(id.slice(0, 15))?.values[field];
    return createHash('sha256')
      .update(Buffer.from(value ?? '', 'base64'))
      .digest('hex');
  }
  async undelete(ids: readonly string[]): Promise<WriteResult[]> {
    this.calls.push(`undelete ${ids.length}`);
    return ids.map((id) => {
      for (const t of this.rows.values()) {
        const r = t.get(id.slice(0, 15));
        if (r?.deleted) {
          r.deleted = false;
          return { id, success: true, errors: [] };
        }
      }
      return {
        id,
        success: false,
        errors: [{ statusCode: 'UNDELETE_FAILED', message: 'not in the recycle bin' }],
      };
    });
  }
  async create(object: string, rows: readonly WriteRow[]): Promise<WriteResult[]> {
    this.calls.push(`create ${object} ${rows.length}`);
    const results = rows.map((row) => {
      const problem = this.rejectInsert?.(object, row);
      if (problem)
        return {
          id: null,
          success: false,
          errors: [{ statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: problem }],
        };
      this.seq += 1;
      const id = `${this.prefix(object)}R${String(this.seq).padStart(11, '0')}AAA`;
      const values: Record<string, string | null> = { Id: id };
      for (const [k, v] of Object.entries(row)) values[k] = v === null ? null : String(v);
      this.table(object).set(id.slice(0, 15), {
        values,
        deleted: false,
        createdBy: this.userId,
        createdAt: this.clock(),
      });
      return { id, success: true, errors: [] };
    });
    if (this.crashAfterCreate) {
      this.crashAfterCreate = false;
      throw new Error('simulated crash: the connection dropped after the insert');
    }
    return results;
  }
  async update(object: string, rows: readonly WriteRow[]): Promise<WriteResult[]> {
    this.calls.push(`update ${object} ${rows.length}`);
    return rows.map((row) => {
      const r = this.table(object).get(String(row.Id).slice(0, 15));
      if (!r || r.deleted)
        return {
          id: String(row.Id),
          success: false,
          errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted' }],
        };
      for (const [k, v] of Object.entries(row)) if (k !== 'Id') r.values[k] = v === null ? null : String(v);
      return { id: String(row.Id), success: true, errors: [] };
    });
  }
  async fetchWhereIn(
    object: string,
    field: string,
    values: readonly string[],
    fields: readonly string[],
  ): Promise<Row[]> {
    this.calls.push(`fetch ${object} by ${field} ${values.length}`);
    const wanted = new Set(values.map((v) => v.slice(0, 15)));
    return [...this.table(object).values()]
      .filter((r) => wanted.has((r.values[field] ?? '').slice(0, 15)))
      .map((r) => {
        const out: Record<string, string | null> = { Id: r.values.Id ?? null, IsDeleted: String(r.deleted) };
        for (const f of fields) out[f] = r.values[f] ?? null;
        return out;
      });
  }
  /**
   * Keeps a file as Salesforce does: a first version makes a document owned by the user, linked
   * to the user (ShareType I) and to its first publish location (V); a later one is numbered next.
   */
  /** The restoring user, and every seeded User row not marked inactive. */
  async activeUsers(ids: readonly string[]): Promise<Set<string>> {
    const users = this.table('User');
    return new Set(
      ids
        .filter(
          (id) =>
            id.slice(0, 15) === this.userId.slice(0, 15) ||
            users.get(id.slice(0, 15))?.values.IsActive === 'true',
        )
        .map((id) => id.slice(0, 15)),
    );
  }
  async createFile(file: NewFile): Promise<WriteResult> {
    this.calls.push(`file ${file.contentDocumentId ? 'version' : 'new'}`);
    this.files.push(file);
    const next = () => {
      this.seq += 1;
      return String(this.seq).padStart(11, '0');
    };
    const stamp = { deleted: false, createdBy: this.userId, createdAt: this.clock() };
    let doc = file.contentDocumentId;
    if (!doc) {
      doc = `069R${next()}AAA`;
      this.table('ContentDocument').set(doc.slice(0, 15), {
        values: { Id: doc, OwnerId: file.ownerId ?? this.userId },
        ...stamp,
      });
      const link = (entity: string, shareType: string) => {
        const id = `06AR${next()}AAA`;
        this.table('ContentDocumentLink').set(id.slice(0, 15), {
          values: {
            Id: id,
            ContentDocumentId: doc!,
            LinkedEntityId: entity,
            ShareType: shareType,
            Visibility: 'AllUsers',
          },
          ...stamp,
        });
      };
      link(file.ownerId ?? this.userId, 'I');
      if (file.firstPublishLocationId) link(file.firstPublishLocationId, 'V');
    }
    const number = [...this.table('ContentVersion').values()].filter(
      (r) => r.values.ContentDocumentId === doc,
    ).length;
    const id = `068R${next()}AAA`;
    this.table('ContentVersion').set(id.slice(0, 15), {
      values: {
        Id: id,
        ContentDocumentId: doc,
        VersionNumber: String(number + 1),
        Title: file.title,
        PathOnClient: file.pathOnClient,
        ReasonForChange: file.reasonForChange ?? null,
        FirstPublishLocationId: file.firstPublishLocationId ?? null,
        OwnerId: file.ownerId ?? this.userId,
        Checksum: createHash('md5').update(file.data).digest('hex'),
      },
      ...stamp,
    });
    if (this.crashAfterFiles !== undefined && --this.crashAfterFiles < 0) {
      this.crashAfterFiles = undefined;
      throw new Error('simulated crash: the connection dropped after the upload');
    }
    return { id, success: true, errors: [] };
  }
  async deploy(): Promise<string> {
    return '0Af000000000001';
  }
  async deployStatus(id: string): Promise<DeployState> {
    return { id, done: true, success: true, failures: [], status: 'Succeeded' };
  }
  async retrieve(): Promise<string> {
    return '09S000000000001';
  }
  async retrieveStatus(id: string): Promise<RetrieveState> {
    return { id, done: true, success: false, errorMessage: 'the fake org holds no metadata' };
  }
}

/** A snapshot held in memory. */
export class FakeSnapshot implements SnapshotView {
  /** Where the vault keeps the body of an attachment or document, by `<object>:<15-char id>`. */
  readonly bodyRefs = new Map<string, BodyRef>();
  constructor(
    readonly id: string,
    readonly orgId: string,
    readonly takenAt: string,
    private readonly data: Record<string, { fields: SnapshotField[]; rows: Row[] }>,
    private readonly snapshotFiles: SnapshotFile[] = [],
    private readonly snapshotComponents: SnapshotComponent[] = [],
  ) {}
  objects() {
    return Object.keys(this.data);
  }
  fields(object: string) {
    return this.data[object]?.fields;
  }
  async *rows(object: string): AsyncIterable<Row> {
    for (const r of this.data[object]?.rows ?? []) yield r;
  }
  /** Every selection `files` was asked with (undefined: every file). */
  readonly fileSelections: (FileSelection | undefined)[] = [];
  async files(select?: FileSelection) {
    this.fileSelections.push(select);
    if (!select) return this.snapshotFiles;
    const documents = new Set([...(select.documents ?? [])].map(idKey));
    const records = new Set([...(select.linkedTo ?? [])].map(idKey));
    return this.snapshotFiles.filter(
      (f) =>
        (f.contentDocumentId !== null && documents.has(idKey(f.contentDocumentId))) ||
        f.linkedEntityIds.some((id) => records.has(idKey(id))),
    );
  }
  async components() {
    return this.snapshotComponents;
  }
  async bodyRef(object: string, recordId: string): Promise<BodyRef | undefined> {
    return this.bodyRefs.get(`${object}:${recordId.slice(0, 15)}`);
  }
  async componentZip(): Promise<Uint8Array> {
    return new Uint8Array([1, 2, 3]);
  }
}

/** Snapshots by id, the newest as latest. */
export class FakeSnapshots implements SnapshotSource {
  constructor(private readonly snapshots: FakeSnapshot[]) {}
  async resolve(_orgId: string, selector: SnapshotSelector): Promise<SnapshotView> {
    if (selector.kind === 'latest') {
      const last = this.snapshots.at(-1);
      if (last) return last;
    } else if (selector.kind === 'id') {
      const s = this.snapshots.find((x) => x.id === selector.id);
      if (s) return s;
    } else {
      const s = this.snapshots.filter((x) => Date.parse(x.takenAt) <= Date.parse(selector.at)).at(-1);
      if (s) return s;
    }
    throw new UnknownSnapshotError(JSON.stringify(selector), 'no such snapshot in the fake vault');
  }
}

/** Snapshot fields from live fields. */
export function snapshotFields(info: ObjectInfo): SnapshotField[] {
  return info.fields.map((f) => ({ name: f.name, type: f.type, referenceTo: f.referenceTo }));
}
