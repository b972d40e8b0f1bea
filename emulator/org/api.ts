/**
 * Public contract of the in-memory org: schema types, values, query cursors, write results and
 * the `OrgApi` interface that the HTTP server codes against. The implementation is `Org` in
 * `./org.ts` (`new Org(options)` or `createOrg(options)`).
 *
 * Value conventions (what `records()` / `rows()` / `retrieve()` hand out, ready for JSON):
 * - id, reference, string-like and picklist fields: `string`; multipicklist: `'a;b'`.
 * - boolean: `boolean`; int, double, currency, percent: `number`.
 * - date: `'2024-01-31'`; datetime: `'2024-01-31T10:20:30.000+0000'`; time: `'10:20:30.000Z'`.
 * - base64 fields: in query records the REST blob path
 *   (`/services/data/v62.0/sobjects/Attachment/00P.../Body`); bytes via `getBlob`.
 * - address: `{ street, city, state, postalCode, country, ... }`; location: `{ latitude, longitude }`.
 * - unset: `null`.
 *
 * Write conventions (`insert`, `update`, `upsert`): values may be JSON-typed or strings (Bulk CSV
 * text); strings are parsed by field type; datetimes may also be a `Date` or epoch milliseconds. `null` clears a field. Blob fields take base64 text or a
 * `Uint8Array`. The caller maps transport quirks (e.g. Bulk's `#N/A` meaning null) before calling.
 */

import type { ChangeDataCapture } from './cdc/cdc.ts';
import type { GetDeletedResult, GetUpdatedResult } from './replication.ts';

export type { GetDeletedResult, GetUpdatedResult } from './replication.ts';

/** Salesforce field data types, as `describe` reports them in `type`. */
export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'multipicklist'
  | 'combobox'
  | 'boolean'
  | 'int'
  | 'long'
  | 'double'
  | 'currency'
  | 'percent'
  | 'date'
  | 'datetime'
  | 'time'
  | 'reference'
  | 'base64'
  | 'address'
  | 'location'
  | 'encryptedstring'
  | 'anyType';

/** SOAP types, as `describe` reports them in `soapType`. */
export type SoapType =
  | 'tns:ID'
  | 'xsd:string'
  | 'xsd:boolean'
  | 'xsd:int'
  | 'xsd:long'
  | 'xsd:double'
  | 'xsd:date'
  | 'xsd:dateTime'
  | 'xsd:time'
  | 'xsd:base64Binary'
  | 'urn:address'
  | 'urn:location'
  | 'xsd:anyType';

/** One entry of a picklist's value set. */
export interface PicklistValue {
  readonly value: string;
  readonly label: string;
  readonly active: boolean;
  readonly defaultValue: boolean;
}

/** A field of an object, with the flags `describe` reports. */
export interface FieldDef {
  readonly name: string;
  readonly label: string;
  readonly type: FieldType;
  readonly soapType: SoapType;
  /** Maximum characters for text types; 0 otherwise. */
  readonly length: number;
  /** Total digits for number types; 0 otherwise. */
  readonly precision: number;
  /** Digits right of the decimal point for number types; 0 otherwise. */
  readonly scale: number;
  /** Digits for `int` fields; 0 otherwise. */
  readonly digits: number;
  /** Target objects of a reference field (more than one when polymorphic); empty otherwise. */
  readonly referenceTo: readonly string[];
  /** Name used in SOQL paths (`Account` for `AccountId`, `Parent__r` for `Parent__c`); null if none. */
  readonly relationshipName: string | null;
  /** Name of the relationship seen from the parent (`Contacts` for `Contact.AccountId`); null if none. */
  readonly childRelationshipName: string | null;
  /** 0 or 1 for master-detail fields (which master); null otherwise. */
  readonly relationshipOrder: number | null;
  /** True for master-detail fields: deleting the parent deletes this row. */
  readonly cascadeDelete: boolean;
  readonly custom: boolean;
  readonly nillable: boolean;
  readonly createable: boolean;
  readonly updateable: boolean;
  readonly filterable: boolean;
  readonly sortable: boolean;
  readonly groupable: boolean;
  readonly externalId: boolean;
  readonly unique: boolean;
  readonly caseSensitive: boolean;
  readonly idLookup: boolean;
  readonly nameField: boolean;
  /** Formula fields: computed, never writable. */
  readonly calculated: boolean;
  readonly calculatedFormula: string | null;
  readonly autoNumber: boolean;
  /** Auto-number display format such as `A-{0000}`; null otherwise. */
  readonly displayFormat: string | null;
  readonly defaultedOnCreate: boolean;
  /** Value applied on insert when the caller gives none (checkbox defaults, picklist default). */
  readonly defaultValue: string | number | boolean | null;
  readonly picklistValues: readonly PicklistValue[];
  /** True when a picklist rejects values outside `picklistValues`. */
  readonly restrictedPicklist: boolean;
  /** For components of a compound field (`BillingCity`): the compound's name (`BillingAddress`). */
  readonly compoundFieldName: string | null;
  /** Salesforce's "required on create": not nillable, createable, and not defaulted on create. */
  readonly required: boolean;
}

/** A child relationship, as `describe` reports it in `childRelationships`. */
export interface ChildRelationship {
  readonly childSObject: string;
  readonly field: string;
  readonly relationshipName: string | null;
  readonly cascadeDelete: boolean;
}

/** An object (sObject type) with its fields and flags. */
export interface ObjectDef {
  readonly name: string;
  readonly label: string;
  readonly labelPlural: string;
  /** Three-character id prefix (`001` for Account). */
  readonly keyPrefix: string;
  readonly custom: boolean;
  readonly queryable: boolean;
  readonly createable: boolean;
  readonly updateable: boolean;
  readonly deletable: boolean;
  readonly undeletable: boolean;
  readonly retrieveable: boolean;
  readonly searchable: boolean;
  readonly replicateable: boolean;
  readonly layoutable: boolean;
  readonly triggerable: boolean;
  /** False for objects Bulk API 2.0 query refuses (`ENTITY_NOT_SUPPORTED...`). */
  readonly bulkQueryable: boolean;
  /** Custom settings (describe `customSetting`). @default false */
  readonly customSetting?: boolean;
  /** Interface objects (describeGlobal `isInterface`, API 46.0+). @default false */
  readonly isInterface?: boolean;
  /** What a query of this object must satisfy beyond plain SOQL; none when absent. */
  readonly queryRestriction?: QueryRestriction;
  readonly fields: readonly FieldDef[];
  readonly childRelationships: readonly ChildRelationship[];
}

/**
 * A rule Salesforce applies to every query (REST, Bulk, counts) of an object:
 * - `filter`: the WHERE must name one of `anyOf` (or every field of `allOf`) with `=` or `IN` in
 *   its top-level AND (`=` only for the fields in `equalsOnly`), or the query fails with
 *   `MALFORMED_QUERY` and `message`;
 * - `index`: a big object; the WHERE must filter on a leading run of `indexFields`, in order,
 *   with `=`/`IN` (a range only on the last one), or `MALFORMED_QUERY` with `message`;
 * - `unavailable`: every query fails with `errorCode` and `message` (an external object whose
 *   external data source cannot be reached).
 */
export type QueryRestriction =
  | {
      readonly kind: 'filter';
      readonly anyOf?: readonly string[];
      readonly allOf?: readonly string[];
      /** Fields the filter must name with `=`: `IN` does not satisfy it. */
      readonly equalsOnly?: readonly string[];
      readonly message: string;
    }
  | { readonly kind: 'index'; readonly indexFields: readonly string[]; readonly message: string }
  | { readonly kind: 'unavailable'; readonly errorCode: string; readonly message: string };

/** Serialized error as Salesforce REST returns it in its error array. */
export interface SalesforceErrorJson {
  readonly errorCode: string;
  readonly message: string;
  readonly fields: readonly string[];
}

/**
 * An error Salesforce would return. `errorCode` is Salesforce's (`REQUIRED_FIELD_MISSING`,
 * `INVALID_FIELD`, `MALFORMED_QUERY`, ...), `statusCode` the HTTP status REST would answer with.
 */
export class SalesforceError extends Error {
  override readonly name = 'SalesforceError';
  readonly errorCode: string;
  readonly fields: readonly string[];
  readonly statusCode: number;

  constructor(
    errorCode: string,
    message: string,
    options: { fields?: readonly string[]; statusCode?: number } = {},
  ) {
    super(message);
    this.errorCode = errorCode;
    this.fields = options.fields ?? [];
    this.statusCode = options.statusCode ?? 400;
  }

  /** The shape REST puts in its error array (and collections put in `errors`). */
  toJSON(): SalesforceErrorJson {
    return { errorCode: this.errorCode, message: this.message, fields: [...this.fields] };
  }
}

/** A value as the org hands it out (see module comment). */
export type SfValue = string | number | boolean | null | { readonly [key: string]: unknown };

/** A record in REST shape: `attributes`, then fields; parent paths nest as objects. */
export interface RestRecord {
  attributes: { type: string; url?: string };
  [field: string]: unknown;
}

/** Instance facts the Organization row and the identity endpoints report. */
export interface OrgInfo {
  readonly orgId: string;
  readonly name: string;
  readonly instanceName: string;
  readonly isSandbox: boolean;
  readonly organizationType: string;
  readonly namespacePrefix: string | null;
}

/** The org's single user, the one every token authenticates as. */
export interface OrgUser {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly email: string;
}

/** Org-wide settings that change write behaviour. */
export interface OrgSettings {
  /** "Set Audit Fields upon Record Creation": insert may set CreatedDate, CreatedById, ... */
  setAuditFieldsOnCreate: boolean;
}

/** Options for constructing an org. All optional. */
export interface OrgOptions {
  /** @default - `() => new Date()`. Tests inject a fixed clock. */
  readonly now?: () => Date;
  /** @default - a fixed 18-character id starting `00D`. */
  readonly orgId?: string;
  /** @default 'Emulated Org' */
  readonly name?: string;
  /** @default 'CS1' */
  readonly instanceName?: string;
  /** @default false */
  readonly isSandbox?: boolean;
  /** @default 'Developer Edition' */
  readonly organizationType?: string;
  /** @default 'admin@emulated.org' */
  readonly username?: string;
  /** @default false */
  readonly setAuditFieldsOnCreate?: boolean;
  /**
   * Which standard objects the org lists: `'core'`, the richly modelled objects alone, or
   * `'production'`, those plus the long tail of a production org (see `standard-catalog.ts`).
   * @default 'core'
   */
  readonly catalog?: OrgCatalog;
  /**
   * Most ids getDeleted and getUpdated answer before `EXCEEDED_ID_LIMIT` (tests lower it).
   * @default 600000
   */
  readonly replicationIdLimit?: number;
}

/** The standard object catalogs an org can start with. */
export type OrgCatalog = 'core' | 'production';

/** Options for `query`. */
export interface QueryOptions {
  /** queryAll: include rows in the recycle bin (IsDeleted = true). @default false */
  readonly includeDeleted?: boolean;
  /**
   * Check the query as Bulk API 2.0 does: throw its error (`bulkRefusal`) for what it refuses.
   * @default false
   */
  readonly bulk?: boolean;
  /** Version used in `attributes.url` and blob paths. @default '62.0' */
  readonly apiVersion?: string;
  /** Query the Tooling API's objects instead of the org's records. @default false */
  readonly tooling?: boolean;
}

/** One selected column of a query, in select-list order. */
export interface QueryColumn {
  /** Path as written in the query, canonical case (`Account.Name`); the Bulk CSV header. */
  readonly path: string;
  /** Alias for aggregates (`expr0`) or the path. */
  readonly label: string;
  /** The field at the end of the path; null for aggregate columns such as `COUNT(Id)`. */
  readonly field: FieldDef | null;
  /** Object owning `field`. */
  readonly objectName: string;
  /** Relationship names walked to reach the field (`['Account']` for `Account.Name`). */
  readonly relationships: readonly string[];
  /** True for aggregate expressions. */
  readonly aggregate: boolean;
}

/** What Bulk API 2.0 query would refuse about a query, with Salesforce's code and message. */
export interface BulkRefusal {
  readonly errorCode: string;
  readonly message: string;
}

/** A parsed, schema-checked SOQL query. */
export interface ParsedQueryInfo {
  readonly objectName: string;
  /** `SELECT COUNT() FROM ...`: the answer is `totalSize` alone, with no records. */
  readonly countOnly: boolean;
  readonly hasAggregates: boolean;
  readonly limit: number | null;
  readonly offset: number | null;
  /** Null when Bulk 2.0 accepts the query; otherwise why it does not. */
  readonly bulkRefusal: BulkRefusal | null;
}

/**
 * A lazily evaluated query. Nothing is scanned until a method is called; `records()` and `rows()`
 * stream one row at a time, so a million-row object never becomes a million-element array
 * (unless ORDER BY forces a sort, which holds row references, not copies).
 */
export interface QueryCursor {
  readonly info: ParsedQueryInfo;
  readonly columns: readonly QueryColumn[];
  /** Number of rows the query returns (after LIMIT/OFFSET); for `COUNT()` the count. */
  totalSize(): number;
  /** Rows in REST shape (nested parents, `attributes`, blob paths). Empty for `COUNT()`. */
  records(): IterableIterator<RestRecord>;
  /** Rows as arrays aligned with `columns` (values as in the module comment); for Bulk CSV. */
  rows(): IterableIterator<SfValue[]>;
  /** Runs the query now and freezes its rows: later writes to the org change none of them. */
  snapshot(): QuerySnapshot;
}

/**
 * The rows of a query as they were when it ran (what a Bulk API 2.0 job serves its pages from).
 * Stored rows are replaced, never changed, on every write, so it holds one row reference per
 * result row plus the values read through relationships (`Owner.Name`); no values are copied.
 */
export interface QuerySnapshot {
  readonly columns: readonly QueryColumn[];
  /** Number of rows (for `COUNT()` the count, with no rows). */
  readonly size: number;
  /** Rows `from` (inclusive) to `to` (exclusive), aligned with `columns`, as `rows()` hands them out. */
  rows(from: number, to: number): IterableIterator<SfValue[]>;
}

/** Outcome of one row of a multi-row write. */
export interface WriteResult {
  readonly id: string | null;
  readonly success: boolean;
  /** Upsert only: true when the row was inserted. */
  readonly created?: boolean;
  readonly errors: readonly SalesforceErrorJson[];
}

/** Counters of rows written since the org was created. */
export interface WriteCounters {
  inserted: number;
  updated: number;
  deleted: number;
  hardDeleted: number;
  undeleted: number;
}

/** A row as the control surface dumps it: every field, deleted rows too. */
export interface DumpedRow {
  readonly object: string;
  readonly id: string;
  readonly isDeleted: boolean;
  readonly values: { readonly [field: string]: SfValue };
}

/** The in-memory org. Every method throws `SalesforceError` for what Salesforce would refuse. */
export interface OrgApi {
  /** Change Data Capture: entity selection, the event bus and the relay (docs/emulator-cdc.md). */
  readonly cdc: ChangeDataCapture;
  readonly info: OrgInfo;
  readonly user: OrgUser;
  readonly settings: OrgSettings;
  readonly counters: WriteCounters;
  /** The org's clock (injectable for tests). */
  now(): Date;

  /** Every object, in name order. */
  describeGlobal(): readonly ObjectDef[];
  /** One object (name case-insensitive); `NOT_FOUND` (404) if unknown. */
  describe(objectName: string): ObjectDef;
  /** Object for a name, or undefined. Case-insensitive. */
  findObject(objectName: string): ObjectDef | undefined;
  /** Object owning an id by its key prefix, or undefined. */
  objectForId(id: string): ObjectDef | undefined;

  /** Parses and checks SOQL; `MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE` on bad input. */
  query(soql: string, options?: QueryOptions): QueryCursor;

  /** Inserts one row and returns its 18-character id. */
  insert(objectName: string, values: Readonly<Record<string, unknown>>): string;
  /** Updates one live row; `ENTITY_IS_DELETED` if in the recycle bin. */
  update(objectName: string, id: string, values: Readonly<Record<string, unknown>>): void;
  /** Upserts by an external id field (or `Id`): updates the one match, inserts if none. */
  upsert(
    objectName: string,
    externalIdField: string,
    externalIdValue: string,
    values: Readonly<Record<string, unknown>>,
  ): { id: string; created: boolean };
  /**
   * Moves rows to the recycle bin; deletes the children Salesforce deletes with them (master-detail,
   * an account's contacts and opportunities, activities, notes, attachments, file links) and
   * clears every other lookup to them. One result per id, in order.
   */
  delete(ids: readonly string[]): WriteResult[];
  /** Removes rows for good (no recycle bin), with the same cascade as `delete`. */
  hardDelete(ids: readonly string[]): WriteResult[];
  /**
   * Removes rows inserted by a request that is rolled back (allOrNone), as if they had never
   * existed: like `hardDelete`, but with no delete-log entry for getDeleted to report.
   */
  discardInserted(ids: readonly string[]): void;
  /** Brings rows back from the recycle bin with their ids (and their cascaded children). */
  undelete(ids: readonly string[]): WriteResult[];
  /** Removes recycle-bin rows for good (all, or the given ids). */
  emptyRecycleBin(ids?: readonly string[]): WriteResult[];

  /**
   * getDeleted: the rows of a replicateable object deleted in `[start, end)`, cut to the minute,
   * from the org's delete log, with `earliestDateAvailable` (see `replication.ts` for the rules;
   * `INVALID_REPLICATION_DATE`, `EXCEEDED_ID_LIMIT`, `INVALID_TYPE`).
   */
  getDeleted(objectName: string, start: Date, end: Date): GetDeletedResult;
  /** getUpdated: the live rows of an object whose SystemModstamp is in `[start, end)`. */
  getUpdated(objectName: string, start: Date, end: Date): GetUpdatedResult;

  /** One row in REST shape (all fields, or the given ones); `NOT_FOUND` / `ENTITY_IS_DELETED`. */
  retrieve(objectName: string, id: string, fields?: readonly string[], apiVersion?: string): RestRecord;
  /** Bytes of a base64 field; `NOT_FOUND` without content, `ENTITY_IS_DELETED` for deleted rows. */
  getBlob(objectName: string, id: string, field: string): Uint8Array;

  /**
   * Adds an object, or replaces the definition of an existing one (keeping its key prefix and rows).
   * An empty `keyPrefix` gets the next custom prefix (a00, a01, ...). Used by fixtures and deploys.
   */
  defineObject(def: ObjectDef): void;
  /** Adds or replaces fields on an existing object (custom fields on standard objects). */
  defineFields(objectName: string, fields: readonly FieldDef[]): void;

  /** Number of rows per object (live and deleted), for the control surface and limits. */
  rowCounts(): Record<string, { live: number; deleted: number }>;
  /**
   * Every row of one object, recycle-bin rows (`IsDeleted` `'true'`) too, keyed by Id, each
   * field as a Bulk API 2.0 query result shows it (text; empty for null; datetimes in `Z` form).
   * For tests that compare a backup with the org. `INVALID_TYPE` for an unknown object.
   */
  dumpObject(objectName: string): Map<string, Record<string, string>>;
  /** Every row of every object, deleted ones too; streams. */
  dumpRows(): IterableIterator<DumpedRow>;
}
