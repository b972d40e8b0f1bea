/**
 * The Salesforce source as the backup core sees it. Adapters (HTTP, the emulator in tests) implement
 * it and translate every Salesforce failure into the named errors below, whose `name` is what the
 * state machine's Retry and Catch match on.
 */

import { ErrorName } from '../../contract/workflow-contract.ts';

/** The org and user the connection acts for. */
export interface OrgIdentity {
  readonly orgId: string;
  readonly userId: string;
}

/** One object as describeGlobal lists it. */
export interface GlobalObject {
  readonly name: string;
  readonly queryable: boolean;
  readonly retrieveable: boolean;
  readonly custom: boolean;
  readonly deprecatedAndHidden?: boolean;
  /** Salesforce keeps a delete log for it: getDeleted and getUpdated answer for it. Absent: false. */
  readonly replicateable?: boolean;
}

/** One field as describe reports it (the subset a backup needs). */
export interface FieldDescribe {
  readonly name: string;
  readonly type: string;
  readonly referenceTo: readonly string[];
  readonly relationshipName: string | null;
  readonly nillable: boolean;
  readonly createable: boolean;
  readonly updateable: boolean;
  readonly externalId: boolean;
  readonly calculated: boolean;
  /** Set on the components of a compound field (`BillingCity` -> `BillingAddress`). */
  readonly compoundFieldName: string | null;
}

/** One object's describe. */
export interface ObjectDescribe {
  readonly name: string;
  readonly queryable: boolean;
  readonly fields: readonly FieldDescribe[];
}

/** An API allowance from `/limits`. */
export interface ApiLimit {
  readonly max: number;
  readonly remaining: number;
}

/** The allowances a backup spends. */
export interface OrgLimits {
  readonly dailyApiRequests: ApiLimit;
  readonly dailyBulkV2QueryJobs?: ApiLimit;
}

/** A Bulk API 2.0 query job's state. */
export interface BulkJobStatus {
  readonly id: string;
  readonly state: 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';
  readonly numberRecordsProcessed: number;
  readonly errorMessage?: string;
}

/** One page of Bulk results: a CSV body (header row first) streamed as it arrives. */
export interface BulkResultPage {
  /** The bytes as sent: gzip-compressed CSV when `encoding` is `gzip`, plain CSV otherwise. */
  readonly body: AsyncIterable<Uint8Array>;
  /** `gzip` when Salesforce compressed the page (`Content-Encoding: gzip`); null for plain CSV. */
  readonly encoding: 'gzip' | null;
  /** Rows Salesforce says the page holds (`Sforce-NumberOfRecords`), null when it did not say. */
  readonly records: number | null;
  /** Locator of the next page, or null on the last page. */
  readonly nextLocator: string | null;
}

/** One answer of "Get Parallel Results for a Query Job" (`resultPages`, API 58.0 and later). */
export interface BulkResultPages {
  /** Up to five result URLs (`/services/data/...results?locator=...`), each one page, in order. */
  readonly urls: readonly string[];
  /** The URL of the next answer, or null when these were the last. */
  readonly next: string | null;
}

/** One page of a REST query. */
export interface RestQueryPage {
  readonly records: readonly Record<string, unknown>[];
  readonly totalSize: number;
  readonly done: boolean;
  readonly nextRecordsUrl: string | null;
}

/** One metadata type from describeMetadata. */
export interface MetadataTypeInfo {
  readonly xmlName: string;
  readonly inFolder: boolean;
  readonly directoryName: string;
  readonly childXmlNames: readonly string[];
}

/** One component from listMetadata. */
export interface MetadataComponentInfo {
  readonly type: string;
  readonly fullName: string;
}

/** One listMetadata query. */
export interface ListMetadataQuery {
  readonly type: string;
  readonly folder?: string;
}

/** State of an async retrieve. */
export interface RetrieveStatus {
  readonly id: string;
  readonly done: boolean;
  readonly success: boolean;
  readonly status: string;
  readonly errorMessage?: string;
  /** The zip as returned (decoded from base64) once done. */
  readonly zip?: Uint8Array;
}

/** One object's delete-log window to read (getDeleted): ISO instants, start before end. */
export interface DeletedWindow {
  readonly object: string;
  readonly start: string;
  readonly end: string;
}

/** What getDeleted answered for one object. */
export type DeletedAnswer =
  | {
      readonly object: string;
      readonly kind: 'deleted';
      /** Rows deleted in the window (soft deletes, hard deletes, purges), oldest first. */
      readonly records: readonly { readonly id: string; readonly deletedDate: string }[];
      /** The log may be incomplete before this instant: a start before it misses deletes. */
      readonly earliestDateAvailable: string;
      readonly latestDateCovered: string;
    }
  | {
      readonly object: string;
      /**
       * The log cannot answer this window: `INVALID_REPLICATION_DATE` (start too old, or purged) or
       * `EXCEEDED_ID_LIMIT` (more than 600,000 ids: ask for a shorter window).
       */
      readonly kind: 'refused';
      readonly errorCode: string;
    };

/**
 * An Event Relay of the org and its state: `EventRelayConfig` (Tooling API) with the newest
 * `EventRelayFeedback` of that relay (SOQL, API 56.0 and later). Times are ISO instants.
 */
export interface EventRelayReport {
  /** `EventRelayConfig.Id` and `DeveloperName`. */
  readonly id: string;
  readonly developerName: string;
  /** `EventRelayConfig.State`: `RUN`, `PAUSE` or `STOP`. */
  readonly state: string;
  /** `EventRelayConfig.EventChannel`: the channel relayed, such as `/data/ChangeEvents`. */
  readonly eventChannel: string;
  /** `ReplayRecovery` of `EventRelayConfig.RelayOption` (`EARLIEST` or `LATEST`); null when unset. */
  readonly replayRecovery: string | null;
  /** `EventRelayFeedback.Status`, or null when the relay has no feedback record yet. */
  readonly status: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly errorTime: string | null;
  /** When the relay last delivered an event to EventBridge. */
  readonly lastRelayedEventTime: string | null;
  /** The partner event source: `aws.partner/salesforce.com/<org id>/<channel id>`. */
  readonly remoteResource: string | null;
}

/** Everything a backup asks of an org. */
export interface SalesforceSource {
  /** API version used, such as `62.0`. */
  readonly apiVersion: string;
  /** API calls made through this source so far. */
  apiCalls(): number;
  identity(): Promise<OrgIdentity>;
  limits(): Promise<OrgLimits>;
  describeGlobal(): Promise<GlobalObject[]>;
  /** Describes objects, 25 per Composite call. */
  describeObjects(names: readonly string[]): Promise<ObjectDescribe[]>;
  /** Runs `COUNT()` queries through queryAll (deleted rows counted), 25 per Composite call; result per key. */
  countRows(queries: readonly { key: string; soql: string }[]): Promise<Map<string, number>>;
  /**
   * Reads the delete log (REST `sobjects/{object}/deleted/`), 25 objects per Composite call. A
   * window Salesforce refuses for the log's sake is answered `refused`; any other failure throws.
   */
  getDeleted(windows: readonly DeletedWindow[]): Promise<DeletedAnswer[]>;
  /** Creates a Bulk API 2.0 queryAll job. */
  createBulkQuery(soql: string): Promise<string>;
  bulkQueryStatus(jobId: string): Promise<BulkJobStatus>;
  /** One page of a completed job's results; the same locator can be fetched again after a failure. */
  bulkQueryResults(jobId: string, locator: string | null, maxRecords: number): Promise<BulkResultPage>;
  /** The result URLs of a completed job, five at most per call (API 58.0 and later). */
  bulkQueryResultPages(jobId: string, next: string | null): Promise<BulkResultPages>;
  /** One page of results from a URL `bulkQueryResultPages` listed; it can be fetched again after a failure. */
  bulkQueryResultUrl(url: string): Promise<BulkResultPage>;
  /** REST queryAll: the first page of a query, or the next page from a `nextRecordsUrl`. */
  queryAll(soqlOrNextUrl: string, isNextUrl: boolean): Promise<RestQueryPage>;
  /** A blob field's bytes as a stream. */
  downloadBlob(object: string, id: string, field: string): Promise<AsyncIterable<Uint8Array>>;
  describeMetadata(): Promise<MetadataTypeInfo[]>;
  /** Lists components, at most 3 queries per call. */
  listMetadata(queries: readonly ListMetadataQuery[]): Promise<MetadataComponentInfo[]>;
  /** Starts a retrieve of the given members per type; returns the async id. */
  retrieve(members: ReadonlyMap<string, readonly string[]>): Promise<string>;
  checkRetrieveStatus(id: string): Promise<RetrieveStatus>;
  /**
   * The Event Relay whose partner event source is `partnerEventSource` (matched on the feedback's
   * `RemoteResource`), or null when the org has none.
   */
  eventRelay(partnerEventSource: string): Promise<EventRelayReport | null>;
  /**
   * Objects whose change events are members of `channel` (Tooling API
   * `PlatformEventChannelMember.SelectedEntity`), as object API names: `AccountChangeEvent` is
   * `Account`, `Employee__ChangeEvent` is `Employee__c`.
   */
  changeEventEntities(channel: string): Promise<string[]>;
}

/** Base of every translated Salesforce error; `errorCode` is Salesforce's when there was one. */
export class SalesforceError extends Error {
  override readonly name: string = ErrorName.SalesforceError;
  constructor(
    message: string,
    readonly errorCode?: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The org refused for its request limits (`REQUEST_LIMIT_EXCEEDED`, HTTP 429/403): retry later. */
export class SalesforceRateLimitError extends SalesforceError {
  override readonly name: string = ErrorName.SalesforceRateLimit;
}

/** The session expired and could not be renewed in place (`INVALID_SESSION_ID`): retry re-authenticates. */
export class SalesforceSessionExpiredError extends SalesforceError {
  override readonly name: string = ErrorName.SalesforceSessionExpired;
}

/** A 5xx, a reset connection, a cut body or a row lock: the same request may succeed later. */
export class SalesforceTransientError extends SalesforceError {
  override readonly name: string = ErrorName.SalesforceTransient;
}

/** The query was refused (`MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`, ...): retrying will not help. */
export class SalesforceQueryError extends SalesforceError {
  override readonly name: string = ErrorName.SalesforceQuery;
}

/** Bulk API 2.0 does not support this object: export it through REST instead. */
export class SalesforceBulkUnsupportedError extends SalesforceError {
  override readonly name: string = ErrorName.SalesforceBulkUnsupported;
}

/** A Bulk query job ended Failed or Aborted; a new job may succeed. */
export class SalesforceBulkJobFailedError extends SalesforceError {
  override readonly name: string = ErrorName.SalesforceBulkJobFailed;
}

/** Authentication failed (bad credentials, certificate, connected app): a person must fix the secret. */
export class SalesforceAuthError extends SalesforceError {
  override readonly name: string = ErrorName.SalesforceAuth;
}

/** Any other refusal from the org, with Salesforce's code. */
export class SalesforceRequestError extends SalesforceError {
  override readonly name: string = ErrorName.SalesforceRequest;
}
