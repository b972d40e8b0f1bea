/**
 * The restore's view of its two sides: the snapshot (what the org was) and the live org (what it
 * is, and how to write to it). The core codes against these interfaces only; adapters bind them
 * to the snapshot reader, the store and Salesforce.
 */

/** A row as the snapshot holds it: every value as text, `null` when empty. */
export type Row = Readonly<Record<string, string | null>>;

/** A field as the restore needs to know it (from `describe` or the snapshot manifest). */
export interface FieldInfo {
  readonly name: string;
  /** Salesforce's field type (`string`, `reference`, `boolean`, `datetime`, ...). */
  readonly type: string;
  /** Target objects of a reference field; more than one when polymorphic. */
  readonly referenceTo: readonly string[];
  readonly createable: boolean;
  readonly updateable: boolean;
  readonly nillable: boolean;
  readonly calculated: boolean;
  readonly autoNumber: boolean;
  /** For components of a compound field (`BillingCity`), the compound's name. */
  readonly compoundFieldName?: string | null;
}

/** An object of the live org as `describe` reports it. */
export interface ObjectInfo {
  readonly name: string;
  readonly keyPrefix: string | null;
  readonly createable: boolean;
  readonly updateable: boolean;
  readonly undeletable: boolean;
  readonly fields: readonly FieldInfo[];
}

/**
 * One error Salesforce gave for one row. Its `message` is the adapter's copy of Salesforce's
 * text, which can quote field values (a validation rule's message, a duplicate's name): the core
 * keeps only `statusCode` and `fields` (see `codeAndFields`), and a `message` of its own words.
 */
export interface RowError {
  readonly statusCode: string;
  readonly message?: string;
  readonly fields?: readonly string[];
}

/**
 * Salesforce's errors for a row as the restore keeps them: the error code and the field names,
 * never the message text, which can quote the row's values into reports, logs and alerts.
 */
export function codeAndFields(errors: readonly RowError[]): RowError[] {
  return errors.map((e) => ({
    statusCode: e.statusCode,
    ...(e.fields && e.fields.length > 0 ? { fields: [...e.fields] } : {}),
  }));
}

/** One row error as a report line: its code, the fields it names, and the restore's own words if any. */
export function describeRowError(e: RowError): string {
  const fields = e.fields && e.fields.length > 0 ? ` on ${e.fields.join(', ')}` : '';
  return `${e.statusCode}${fields}${e.message ? `: ${e.message}` : ''}`;
}

/** Salesforce's answer for one row of a write, in the order the rows were sent. */
export interface WriteResult {
  readonly id: string | null;
  readonly success: boolean;
  readonly errors: readonly RowError[];
}

/** A row to write: JSON-typed values (`null` clears a field); `Id` present for updates. */
export type WriteRow = Readonly<Record<string, string | number | boolean | null>>;

/** A file to insert as a new `ContentVersion`. */
export interface NewFile {
  readonly title: string;
  readonly pathOnClient: string;
  readonly data: Uint8Array;
  /** Record the new file is first shared with (a first version only; Salesforce links it). */
  readonly firstPublishLocationId?: string;
  /** The document the version is added to; absent, Salesforce creates a new document. */
  readonly contentDocumentId?: string;
  /** Why the version was made (`ContentVersion.ReasonForChange`). */
  readonly reasonForChange?: string;
  /** The version's owner (`ContentVersion.OwnerId`, createable); absent, the writing user. */
  readonly ownerId?: string;
}

/** The state of a metadata deploy. */
export interface DeployState {
  readonly id: string;
  readonly done: boolean;
  readonly success: boolean;
  /** Component failures with Salesforce's problem text. */
  readonly failures: readonly { readonly component: string; readonly problem: string }[];
  readonly status: string;
}

/** A body in the vault, named by the plan and read only by the batch that sends it. */
export interface BodyRef {
  /** Store key of the bytes: orgs/<org>/files/sha256/<aa>/<sha256>. */
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** The live org: read what is there, write it back. */
export interface RestoreOrg {
  /** The org's id (18 characters) and the id of the user the restore writes as. */
  identity(): Promise<{ readonly orgId: string; readonly userId: string }>;
  /** The object's describe, or undefined when the org has no such object. */
  describe(object: string): Promise<ObjectInfo | undefined>;
  /**
   * Rows of the object with these ids, deleted ones still in the recycle bin included, with
   * `Id`, `IsDeleted` and the given fields, values as text (`null` when empty).
   */
  fetchByIds(object: string, ids: readonly string[], fields: readonly string[]): Promise<Row[]>;
  /**
   * Rows of the object whose `field` holds one of `values` (`ContentDocumentLink` by
   * `ContentDocumentId`), deleted ones still in the recycle bin included, with `Id`, `IsDeleted` and
   * the given fields.
   */
  fetchWhereIn(
    object: string,
    field: string,
    values: readonly string[],
    fields: readonly string[],
  ): Promise<Row[]>;
  /** Live rows the given user created at or after `since` (ISO), with the given fields. */
  fetchCreatedSince(object: string, since: string, userId: string, fields: readonly string[]): Promise<Row[]>;
  /** The SHA-256 (hex) of a row's body field (`Attachment.Body`), read from the org as a stream. */
  bodySha256(object: string, id: string, field: string): Promise<string>;
  /** Undeletes rows from the recycle bin; they keep their ids. */
  undelete(ids: readonly string[]): Promise<WriteResult[]>;
  /** Inserts rows; results in the order sent. The adapter picks Collections or Bulk by size. */
  create(object: string, rows: readonly WriteRow[]): Promise<WriteResult[]>;
  /** Updates rows by `Id`; results in the order sent. */
  update(object: string, rows: readonly WriteRow[]): Promise<WriteResult[]>;
  /** Of these user ids, those of active users in the org (as 15-character keys). */
  activeUsers(ids: readonly string[]): Promise<Set<string>>;
  /** Inserts a new ContentVersion with its bytes; the result id is the ContentVersion id. */
  createFile(file: NewFile): Promise<WriteResult>;
  /** Starts a metadata deploy of a zip (Metadata API format); returns its id. */
  deploy(zip: Uint8Array, checkOnly: boolean): Promise<string>;
  /** Reads a deploy's state. */
  deployStatus(id: string): Promise<DeployState>;
  /** Starts a retrieve of these components (one package); returns its id. */
  retrieve(components: readonly SnapshotComponent[]): Promise<string>;
  /** Reads a retrieve's state, with its zip once done. */
  retrieveStatus(id: string): Promise<RetrieveState>;
}

/** The state of a metadata retrieve. */
export interface RetrieveState {
  readonly id: string;
  readonly done: boolean;
  readonly success: boolean;
  readonly zip?: Uint8Array;
  readonly errorMessage?: string;
}

/** A field as the snapshot recorded it. */
export interface SnapshotField {
  readonly name: string;
  readonly type: string;
  readonly referenceTo: readonly string[];
}

/** One version of a file as the snapshot holds it. */
export interface SnapshotFileVersion {
  /** The ContentVersion id at backup time. */
  readonly versionId: string;
  /** `ContentVersion.VersionNumber`: 1 for the first. */
  readonly versionNumber: number;
  readonly title: string;
  readonly pathOnClient: string;
  readonly reasonForChange: string | null;
  /** `ContentVersion.Checksum` at backup time: the MD5 of the body, as Salesforce computed it. */
  readonly checksum?: string | null;
  /** Size of the body as the backup stored it, known before it is read. */
  readonly bytes?: number;
  /** Reads the version's bytes from the vault (checked against their SHA-256); absent when the vault holds no body. */
  readonly read?: () => Promise<Uint8Array>;
  /** Where the vault keeps the body, when it holds one. */
  readonly body?: BodyRef;
}

/** One share of a file (a `ContentDocumentLink`) as the snapshot holds it. */
export interface SnapshotFileLink {
  /** The link's id at backup time. */
  readonly id: string;
  readonly linkedEntityId: string;
  readonly shareType: string;
  readonly visibility: string;
}

/** A file (a ContentDocument) the snapshot holds: every version, oldest first, and every share. */
export interface SnapshotFile {
  readonly contentDocumentId: string | null;
  /** The latest version's id at backup time. */
  readonly versionId: string;
  readonly title: string;
  /** The record the first version was published to, if any. */
  readonly firstPublishLocationId: string | null;
  /**
   * The document's owner at backup time (`ContentDocument.OwnerId`, or the first version's when the
   * snapshot holds no document row): Salesforce makes the owner's link itself.
   */
  readonly ownerId: string | null;
  /** Records the file was shared with: the first publish location, then every link's. */
  readonly linkedEntityIds: readonly string[];
  readonly versions: readonly SnapshotFileVersion[];
  /** The document's links, the owner's among them. */
  readonly links: readonly SnapshotFileLink[];
}

/** A metadata component the snapshot holds (`CustomField:Broker__c.Email__c`). */
export interface SnapshotComponent {
  readonly type: string;
  readonly fullName: string;
}

/**
 * Which files a reader needs, so that a restore of a few records holds only their files: the
 * documents with these ids, and those first published to or linked to these records (ids of 15
 * or 18 characters). The view may answer more; never fewer.
 */
export interface FileSelection {
  readonly documents?: Iterable<string>;
  readonly linkedTo?: Iterable<string>;
}

/** One point in time of one org, as the backup reader resolves it. */
export interface SnapshotView {
  readonly id: string;
  readonly orgId: string;
  /** When the rows were read (ISO). */
  readonly takenAt: string;
  /** Objects with rows in the snapshot. */
  objects(): readonly string[];
  /** Fields the snapshot holds for an object, or undefined if it holds no such object. */
  fields(object: string): readonly SnapshotField[] | undefined;
  /** Every row of the object at that point in time (deleted rows excluded). */
  rows(object: string): AsyncIterable<Row>;
  /** Files in the snapshot: every one, or those a selection names. */
  files(select?: FileSelection): Promise<readonly SnapshotFile[]>;
  /**
   * Where the backup kept the body of a row of an object with a body field (Attachment, Document),
   * without reading it: the plan names it, and the batch that inserts the row reads it.
   */
  bodyRef(object: string, recordId: string): Promise<BodyRef | undefined>;
  /** Metadata components in the snapshot. */
  components(): Promise<readonly SnapshotComponent[]>;
  /** A deployable zip (with package.xml) holding exactly these components. */
  componentZip(components: readonly SnapshotComponent[]): Promise<Uint8Array>;
  /**
   * For a view of any instant (a `pointInTime` restore): how the object's rows at that instant are
   * known. Undefined (or absent) on a view of a snapshot.
   */
  coverage?(object: string): Promise<ObjectCoverage | undefined>;
}

/** How a point-in-time view knows an object's rows at its instant. */
export interface ObjectCoverage {
  /** The instant (ISO). */
  readonly instant: string;
  /** The base snapshot, and its watermark: its rows are as of then. */
  readonly snapshotId: string;
  readonly snapshotWatermark: string;
  /** Change events of the journal replayed over the snapshot; 0 when snapshot only. */
  readonly events: number;
  /** Set when the journal was not applied (the rows are the snapshot's): why, in words. */
  readonly snapshotOnly?: string;
  /** Record ids the journal could not settle (gap events, mostly) -> commit time of the first such event. */
  readonly uncertain: ReadonlyMap<string, string>;
}

/** Resolves `latest`, a snapshot id or a point in time to a snapshot of an org. */
export interface SnapshotSource {
  /** Fails with `UnknownSnapshotError` when nothing matches. */
  resolve(orgId: string, selector: SnapshotSelector): Promise<SnapshotView>;
}

/** What the input's `snapshot` names. */
export type SnapshotSelector =
  | { readonly kind: 'latest' }
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'pointInTime'; readonly at: string }
  /** Any instant: the newest snapshot finished by then and the change-event journal up to it. */
  | { readonly kind: 'instant'; readonly at: string };
