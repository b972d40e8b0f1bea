import { createHash } from 'node:crypto';
import type {
  DeployState,
  RetrieveState,
  FieldInfo,
  NewFile,
  ObjectInfo,
  RestoreOrg,
  Row,
  RowError,
  SnapshotComponent,
  WriteResult,
  WriteRow,
} from '../../core/restore/model.ts';
import { inTurns } from '../../core/in-turns.ts';
import { toText } from '../../core/restore/values.ts';
import { SalesforceRequestError } from '../../core/salesforce.ts';
import { type BulkReadSettings, bulkQueryAll, DEFAULT_BULK_READ, idLists } from './reader-bulk.ts';
import { bulkIngest } from './writer-bulk.ts';
import type { SalesforceCredentials } from './auth.ts';
import { translateNetworkError } from './errors.ts';
import { SalesforceHttp } from './writer-http.ts';
import {
  checkDeployStatus,
  checkRetrieve,
  deployZip,
  retrieveComponents,
  undeleteIds,
} from './writer-soap.ts';

/** Rows per sObject Collections call (Salesforce's limit). */
const COLLECTION_SIZE = 200;
/**
 * Bytes of JSON per sObject Collections call: Salesforce takes at most 50 MB of text, or 37.5 MB of
 * base64-encoded data, in a request that is not multipart ("Insert or Update Blob Data"); counted
 * in decimal megabytes over the whole record, so either reading of the limit holds.
 */
export const BYTES_PER_REQUEST = 37_500_000;
/** Ids per `WHERE Id IN (...)` query, well within the URI length limit. */
const IDS_PER_QUERY = 200;

/** Options of the writer. */
export interface SalesforceWriterOptions {
  /**
   * From this many rows, inserts and updates go through one Bulk API 2.0 ingest job instead of
   * sObject Collections (200 rows per call).
   * @default 1000
   */
  readonly bulkThreshold?: number;
  /**
   * From this many ids, a read by id goes through Bulk API 2.0 `queryAll` jobs (about 5,000 ids
   * each: a job costs three calls or more, against one call per 200 ids through REST).
   * @default 1000
   */
  readonly bulkReadThreshold?: number;
  /** How Bulk read jobs are polled and paged. @default from 100 ms, doubling up to 2 s; 50,000 rows a page */
  readonly bulkRead?: Partial<BulkReadSettings>;
}

/** Bulk read jobs of one read run at once. */
const BULK_READS_AT_ONCE = 4;

interface ApiRowResult {
  readonly id?: string | null;
  readonly success: boolean;
  readonly errors?: readonly {
    statusCode?: string;
    errorCode?: string;
    message: string;
    fields?: string[];
  }[];
}

interface DescribeResult {
  readonly name: string;
  readonly keyPrefix: string | null;
  readonly createable: boolean;
  readonly updateable: boolean;
  readonly undeletable: boolean;
  readonly fields: readonly (FieldInfo & { compoundFieldName?: string | null })[];
}

/**
 * The write side of the org: the restore's `RestoreOrg` over Salesforce's REST, Bulk API 2.0
 * and SOAP APIs. Small sets go through sObject Collections, large ones through Bulk ingest;
 * undelete through the SOAP API; files as ContentVersion inserts; metadata by deploy.
 */
export class SalesforceWriter implements RestoreOrg {
  readonly http: SalesforceHttp;
  private readonly bulkThreshold: number;
  private readonly bulkReadThreshold: number;
  private readonly polling: BulkReadSettings;
  private readonly describes = new Map<string, Promise<ObjectInfo | undefined>>();

  constructor(credentials: SalesforceCredentials, apiVersion: string, options: SalesforceWriterOptions = {}) {
    this.http = new SalesforceHttp(credentials, apiVersion);
    this.bulkThreshold = options.bulkThreshold ?? 1000;
    this.bulkReadThreshold = options.bulkReadThreshold ?? 1000;
    this.polling = { ...DEFAULT_BULK_READ, ...options.bulkRead };
  }

  /** API calls made so far. */
  apiCalls(): number {
    return this.http.calls;
  }

  async identity(): Promise<{ orgId: string; userId: string }> {
    const info = await this.http.json<{ organization_id: string; user_id: string }>(
      'GET',
      '/services/oauth2/userinfo',
    );
    return { orgId: info.organization_id, userId: info.user_id };
  }

  describe(object: string): Promise<ObjectInfo | undefined> {
    let cached = this.describes.get(object);
    if (!cached) {
      cached = this.http
        .json<DescribeResult>('GET', this.http.dataPath(`/sobjects/${object}/describe`))
        .then((d) => ({
          name: d.name,
          keyPrefix: d.keyPrefix,
          createable: d.createable,
          updateable: d.updateable,
          undeletable: d.undeletable,
          fields: d.fields.map((f) => ({
            name: f.name,
            type: f.type,
            referenceTo: f.referenceTo ?? [],
            createable: f.createable,
            updateable: f.updateable,
            nillable: f.nillable,
            calculated: f.calculated,
            autoNumber: f.autoNumber,
            compoundFieldName: f.compoundFieldName ?? null,
          })),
        }))
        .catch((error: unknown) => {
          const code = (error as SalesforceRequestError).errorCode;
          if (code === 'NOT_FOUND' || code === 'INVALID_TYPE') return undefined;
          this.describes.delete(object);
          throw error;
        });
      this.describes.set(object, cached);
    }
    return cached;
  }

  async fetchByIds(object: string, ids: readonly string[], fields: readonly string[]): Promise<Row[]> {
    const select = [...new Set(['Id', 'IsDeleted', ...fields])].join(', ');
    if (ids.length >= this.bulkReadThreshold) {
      const prefix = `SELECT ${select} FROM ${object} WHERE Id IN ()`;
      const statements = idLists(ids, prefix.length).map(
        (list) => `SELECT ${select} FROM ${object} WHERE Id IN (${list})`,
      );
      const parts = await inTurns(statements, BULK_READS_AT_ONCE, (soql) =>
        bulkQueryAll(this.http, soql, this.polling),
      );
      // The org would not run one through Bulk (an object or field Bulk does not take): REST reads all.
      if (!parts.includes('refused')) return (parts as Row[][]).flat();
    }
    const rows: Row[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + IDS_PER_QUERY).map((id) => `'${id.replace(/[^A-Za-z0-9]/g, '')}'`);
      rows.push(...(await this.queryAll(`SELECT ${select} FROM ${object} WHERE Id IN (${chunk.join(',')})`)));
    }
    return rows;
  }

  async fetchWhereIn(
    object: string,
    field: string,
    values: readonly string[],
    fields: readonly string[],
  ): Promise<Row[]> {
    const select = [...new Set(['Id', 'IsDeleted', ...fields])].join(', ');
    const rows: Row[] = [];
    for (let i = 0; i < values.length; i += IDS_PER_QUERY) {
      const chunk = values.slice(i, i + IDS_PER_QUERY).map((v) => `'${v.replace(/[^A-Za-z0-9]/g, '')}'`);
      rows.push(
        ...(await this.queryAll(`SELECT ${select} FROM ${object} WHERE ${field} IN (${chunk.join(',')})`)),
      );
    }
    return rows;
  }

  async fetchCreatedSince(
    object: string,
    since: string,
    userId: string,
    fields: readonly string[],
  ): Promise<Row[]> {
    const select = [...new Set(['Id', ...fields])].join(', ');
    const user = userId.replace(/[^A-Za-z0-9]/g, '');
    const at = new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const soql = `SELECT ${select} FROM ${object} WHERE CreatedDate >= ${at} AND CreatedById = '${user}' AND IsDeleted = false`;
    const first = await this.http.json<QueryPage>(
      'GET',
      this.http.dataPath(`/queryAll?q=${encodeURIComponent(soql)}`),
    );
    // Many pages to come: one Bulk job reads them all in fewer calls.
    if (!first.done && (first.totalSize ?? 0) >= this.bulkReadThreshold) {
      const rows = await bulkQueryAll(this.http, soql, this.polling);
      if (rows !== 'refused') return rows;
    }
    return this.queryPages(first);
  }

  async bodySha256(object: string, id: string, field: string): Promise<string> {
    // Streamed through the hash: a body may be larger than the restore would hold.
    const what = `${object}.${field} of ${id}`;
    const response = await this.http.connection.request(
      this.http.dataPath(`/sobjects/${object}/${id}/${field}`),
      what,
      { accept: '*/*', idempotent: true },
    );
    const hash = createHash('sha256');
    try {
      for await (const chunk of response.body ?? []) hash.update(chunk);
    } catch (error) {
      throw translateNetworkError(error, what);
    }
    return hash.digest('hex');
  }

  async undelete(ids: readonly string[]): Promise<WriteResult[]> {
    const results: WriteResult[] = [];
    for (let i = 0; i < ids.length; i += COLLECTION_SIZE) {
      results.push(...(await undeleteIds(this.http, ids.slice(i, i + COLLECTION_SIZE))));
    }
    return results;
  }

  async create(object: string, rows: readonly WriteRow[]): Promise<WriteResult[]> {
    // Bulk API 2.0 takes no base64 fields, so rows carrying a body always go through Collections.
    const carriesBody = rows.some(
      (r) => typeof r.Body === 'string' && (object === 'Attachment' || object === 'Document'),
    );
    if (rows.length >= this.bulkThreshold && !carriesBody)
      return bulkIngest(this.http, object, 'insert', rows);
    return this.collections('POST', object, rows);
  }

  async update(object: string, rows: readonly WriteRow[]): Promise<WriteResult[]> {
    if (rows.length >= this.bulkThreshold) return bulkIngest(this.http, object, 'update', rows);
    return this.collections('PATCH', object, rows);
  }

  async activeUsers(ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + IDS_PER_QUERY).map((v) => `'${v.replace(/[^A-Za-z0-9]/g, '')}'`);
      const rows = await this.queryAll(
        `SELECT Id FROM User WHERE IsActive = true AND Id IN (${chunk.join(',')})`,
      );
      for (const r of rows) if (r.Id) out.add(r.Id.slice(0, 15));
    }
    return out;
  }

  async createFile(file: NewFile): Promise<WriteResult> {
    const body: Record<string, string> = {
      Title: file.title,
      PathOnClient: file.pathOnClient,
      VersionData: Buffer.from(file.data).toString('base64'),
    };
    if (file.firstPublishLocationId) body.FirstPublishLocationId = file.firstPublishLocationId;
    if (file.contentDocumentId) body.ContentDocumentId = file.contentDocumentId;
    if (file.reasonForChange) body.ReasonForChange = file.reasonForChange;
    if (file.ownerId) body.OwnerId = file.ownerId;
    try {
      const res = await this.http.json<{ id: string; success: boolean; errors?: ApiRowResult['errors'] }>(
        'POST',
        this.http.dataPath('/sobjects/ContentVersion'),
        body,
      );
      return { id: res.id, success: res.success, errors: rowErrors(res.errors) };
    } catch (error) {
      if (error instanceof SalesforceRequestError && error.status === 400) {
        return {
          id: null,
          success: false,
          errors: [{ statusCode: error.errorCode ?? 'ERROR', message: error.message }],
        };
      }
      throw error;
    }
  }

  deploy(zip: Uint8Array, checkOnly: boolean): Promise<string> {
    return deployZip(this.http, zip, checkOnly);
  }

  deployStatus(id: string): Promise<DeployState> {
    return checkDeployStatus(this.http, id);
  }

  retrieve(components: readonly SnapshotComponent[]): Promise<string> {
    return retrieveComponents(this.http, components);
  }

  retrieveStatus(id: string): Promise<RetrieveState> {
    return checkRetrieve(this.http, id);
  }

  private async collections(
    method: 'POST' | 'PATCH',
    object: string,
    rows: readonly WriteRow[],
  ): Promise<WriteResult[]> {
    const results: WriteResult[] = [];
    for (const call of collectionCalls(object, rows)) {
      const [only] = call;
      const alone = call.length === 1 && only ? requestBytes(object, only) : 0;
      if (alone > BYTES_PER_REQUEST) {
        // Refused whole by Salesforce, it would fail every row beside it and every retry: this row
        // alone fails, as the report lists it.
        results.push({
          id: null,
          success: false,
          errors: [
            {
              statusCode: 'FILE_TOO_LARGE',
              message: `This row is ${alone} bytes of JSON; Salesforce takes at most ${BYTES_PER_REQUEST} in a request that is not multipart. Insert it by hand, its body from the vault.`,
            },
          ],
        });
        continue;
      }
      const records = call.map((r) => ({ attributes: { type: object }, ...r }));
      const answer = await this.http.json<ApiRowResult[]>(method, this.http.dataPath('/composite/sobjects'), {
        allOrNone: false,
        records,
      });
      results.push(
        ...answer.map((a) => ({ id: a.id ?? null, success: a.success, errors: rowErrors(a.errors) })),
      );
    }
    return results;
  }

  private async queryAll(soql: string): Promise<Row[]> {
    return this.queryPages(
      await this.http.json<QueryPage>('GET', this.http.dataPath(`/queryAll?q=${encodeURIComponent(soql)}`)),
    );
  }

  /** The rows of a REST query from its first page on. */
  private async queryPages(first: QueryPage): Promise<Row[]> {
    const rows: Row[] = [];
    let page = first;
    for (;;) {
      for (const record of page.records) {
        const row: Record<string, string | null> = {};
        for (const [k, v] of Object.entries(record)) if (k !== 'attributes') row[k] = toText(v);
        rows.push(row);
      }
      if (page.done || !page.nextRecordsUrl) break;
      page = await this.http.json<QueryPage>('GET', page.nextRecordsUrl);
    }
    return rows;
  }
}

interface QueryPage {
  readonly records: readonly Record<string, unknown>[];
  readonly totalSize?: number;
  readonly done: boolean;
  readonly nextRecordsUrl?: string | null;
}

function rowErrors(errors: ApiRowResult['errors']): RowError[] {
  return (errors ?? []).map((e) => ({
    statusCode: e.statusCode ?? e.errorCode ?? 'UNKNOWN_EXCEPTION',
    message: e.message,
    ...(e.fields && e.fields.length > 0 ? { fields: e.fields } : {}),
  }));
}

/** Base64 text, which JSON carries as it is: one byte a character, nothing escaped. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A row's size in a Collections call: its JSON, in bytes. A body (long base64) is counted by its
 * length, not serialized: the request itself is the only copy of it made as JSON.
 */
export function requestBytes(object: string, row: WriteRow): number {
  let bodies = 0;
  const rest: Record<string, string | number | boolean | null> = {};
  for (const [field, value] of Object.entries(row)) {
    if (typeof value === 'string' && value.length > 4096 && BASE64.test(value)) {
      bodies += value.length;
      rest[field] = '';
    } else {
      rest[field] = value;
    }
  }
  return Buffer.byteLength(JSON.stringify({ attributes: { type: object }, ...rest })) + bodies;
}

/**
 * Rows in sObject Collections calls: at most 200 rows a call, and at most BYTES_PER_REQUEST of JSON
 * (an attachment's body is sent in it as base64). A row over it alone goes in a call of its own.
 */
export function collectionCalls(object: string, rows: readonly WriteRow[]): WriteRow[][] {
  const calls: WriteRow[][] = [];
  let call: WriteRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = requestBytes(object, row);
    if (call.length === COLLECTION_SIZE || (call.length > 0 && bytes + size > BYTES_PER_REQUEST)) {
      calls.push(call);
      call = [];
      bytes = 0;
    }
    call.push(row);
    bytes += size;
  }
  if (call.length > 0) calls.push(call);
  return calls;
}
