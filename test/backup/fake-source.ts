import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { csvHeader, csvLine } from '../../lambdas/core/snapshot/csv.ts';
import {
  type BulkJobStatus,
  type BulkResultPage,
  type BulkResultPages,
  type DeletedAnswer,
  type EventRelayReport,
  type DeletedWindow,
  type FieldDescribe,
  type GlobalObject,
  type ListMetadataQuery,
  type MetadataComponentInfo,
  type MetadataTypeInfo,
  type ObjectDescribe,
  type OrgIdentity,
  type OrgLimits,
  type RestQueryPage,
  type RetrieveStatus,
  SalesforceBulkUnsupportedError,
  SalesforceQueryError,
  SalesforceRequestError,
  type SalesforceSource,
} from '../../lambdas/core/salesforce.ts';

type Row = Record<string, string | null>;

/** An object of the fake org. */
export interface FakeObject {
  name: string;
  fields: { name: string; type: string; referenceTo?: string[] }[];
  rows: Row[];
  bulk?: boolean;
  /** describeGlobal flags other than the defaults (queryable, retrieveable). */
  global?: Partial<
    Pick<GlobalObject, 'queryable' | 'retrieveable' | 'deprecatedAndHidden' | 'replicateable'>
  >;
  /** Queries must filter on one of these fields, else Salesforce's MALFORMED_QUERY "Implementation restriction". */
  requiresFilter?: string[];
  /** The error a query of the object meets, if any (a Salesforce refusal, or a transient failure). */
  refuse?: (soql: string) => Error | undefined;
  /** The error the creation of a Bulk query job of the object meets, if any; REST is not affected. */
  bulkRefusal?: () => Error;
}

/** An in-memory org behind the SalesforceSource port, counting calls like Salesforce would. */
export class FakeSource implements SalesforceSource {
  apiVersion = '62.0';
  calls = 0;
  readonly callLog: string[] = [];
  /** Every SOQL statement received, in order (COUNT() queries, Bulk jobs and REST first pages). */
  readonly soqlLog: string[] = [];
  readonly blobs = new Map<string, Uint8Array>();
  readonly jobs = new Map<string, { rows: Row[]; columns: string[] }>();
  metadata: MetadataComponentInfo[] = [];
  limitsRemaining = 1_000_000;
  /** Test hooks: make the next result page lie about its length, or fail the next N jobs. */
  cutNextPage = false;
  failNextJobs = 0;
  /** The errorMessage of a job failed by failNextJobs. */
  failedJobMessage = 'InternalServerError';
  /** Retrieves of more components than this fail as Salesforce fails a retrieve over its file limit. */
  maxRetrieveComponents = Number.POSITIVE_INFINITY;
  /** Status polls that answer InProgress before a job completes. */
  pendingPolls = 0;
  /** Bytes per chunk of an answer's body: a few by default, so that readers meet split lines and codes. */
  chunkBytes = 7;
  /** Answer result pages gzip-compressed, as Salesforce does when asked. */
  gzipResults = false;
  /** Rows per page of `resultPages` (the server's own page size). */
  serverPageSize = 3;
  /** Test hook: resultPages answers 404 NOT_FOUND, as a resource the org does not offer. */
  resultPagesMissing = false;
  /** Test hook: the next page fetched from a result URL is cut after its first row. */
  cutNextUrlPage = false;
  /** Records per REST query page (Salesforce's batch size: 200 to 2,000). */
  restPageSize = 2;
  /** The delete log getDeleted reads: every row deleted, with when. */
  readonly deleteLog: { object: string; id: string; deletedDate: string }[] = [];
  /** The instant before which the log may be incomplete, per object (absent: the log is complete). */
  readonly earliestDateAvailable = new Map<string, string>();
  /** Where the log's answer says it stopped, per object (absent: the window's end, to the minute). */
  readonly latestDateCovered = new Map<string, string>();
  /** getDeleted refusals to give, per object: the Salesforce error code. */
  readonly deletedRefusals = new Map<string, string>();
  /** The org's Event Relays, as eventRelay reads them. */
  readonly relays: EventRelayReport[] = [];
  /** Change-event channel members: channel -> object API names. */
  readonly channelMembers = new Map<string, string[]>();
  private jobCounter = 0;
  private retrieves = new Map<string, ReadonlyMap<string, readonly string[]>>();

  constructor(readonly objects: FakeObject[]) {}

  apiCalls(): number {
    return this.calls;
  }

  private call(name: string): void {
    this.calls++;
    this.callLog.push(name);
  }

  async identity(): Promise<OrgIdentity> {
    this.call('identity');
    return { orgId: '00D000000000001AAA', userId: '005000000000001AAA' };
  }

  async limits(): Promise<OrgLimits> {
    this.call('limits');
    return { dailyApiRequests: { max: 1_000_000, remaining: this.limitsRemaining } };
  }

  async describeGlobal(): Promise<GlobalObject[]> {
    this.call('describeGlobal');
    return this.objects.map((o) => ({
      name: o.name,
      queryable: true,
      retrieveable: true,
      custom: o.name.endsWith('__c'),
      ...o.global,
    }));
  }

  async describeObjects(names: readonly string[]): Promise<ObjectDescribe[]> {
    for (let i = 0; i < names.length; i += 25) this.call('composite-describe');
    return names.map((name) => {
      const object = this.object(name);
      return {
        name,
        queryable: true,
        fields: object.fields.map(
          (f): FieldDescribe => ({
            name: f.name,
            type: f.type,
            referenceTo: f.referenceTo ?? [],
            relationshipName: null,
            nillable: true,
            createable: f.name !== 'Id',
            updateable: f.name !== 'Id',
            externalId: false,
            calculated: false,
            compoundFieldName: null,
          }),
        ),
      };
    });
  }

  async countRows(queries: readonly { key: string; soql: string }[]): Promise<Map<string, number>> {
    for (let i = 0; i < queries.length; i += 25) this.call('composite-count');
    // As the adapter does: a refused count leaves its key out; any other failure fails the call.
    const counts = new Map<string, number>();
    for (const q of queries) {
      this.soqlLog.push(q.soql);
      try {
        counts.set(q.key, this.select(q.soql).rows.length);
      } catch (error) {
        if (!(error instanceof SalesforceQueryError || error instanceof SalesforceRequestError)) throw error;
      }
    }
    return counts;
  }

  async eventRelay(partnerEventSource: string): Promise<EventRelayReport | null> {
    this.calls++;
    this.callLog.push('eventRelay');
    return this.relays.find((r) => r.remoteResource === partnerEventSource) ?? null;
  }

  async changeEventEntities(channel: string): Promise<string[]> {
    this.calls++;
    this.callLog.push('changeEventEntities');
    return [...(this.channelMembers.get(channel) ?? [])];
  }

  async getDeleted(windows: readonly DeletedWindow[]): Promise<DeletedAnswer[]> {
    for (let i = 0; i < windows.length; i += 25) this.call('composite-deleted');
    return windows.map((w): DeletedAnswer => {
      const refusal = this.deletedRefusals.get(w.object);
      if (refusal) return { object: w.object, kind: 'refused', errorCode: refusal };
      // As Salesforce reads a window: seconds ignored, from its start up to (not including) its end.
      const minute = (iso: string) => Math.floor(new Date(iso).getTime() / 60_000) * 60_000;
      const [start, end] = [minute(w.start), minute(w.end)];
      return {
        object: w.object,
        kind: 'deleted',
        records: this.deleteLog
          .filter((d) => {
            const at = new Date(d.deletedDate).getTime();
            return d.object === w.object && at >= start && at < end;
          })
          .map(({ id, deletedDate }) => ({ id, deletedDate })),
        earliestDateAvailable: this.earliestDateAvailable.get(w.object) ?? '2000-01-01T00:00:00.000Z',
        latestDateCovered: this.latestDateCovered.get(w.object) ?? new Date(end).toISOString(),
      };
    });
  }

  async createBulkQuery(soql: string): Promise<string> {
    this.call('bulk-create');
    this.soqlLog.push(soql);
    const { object, rows, columns } = this.select(soql);
    const refusal = object.bulkRefusal?.();
    if (refusal) throw refusal;
    if (object.bulk === false)
      throw new SalesforceBulkUnsupportedError(`Entity '${object.name}' is not supported by the Bulk API.`);
    const id = `750${String(++this.jobCounter).padStart(15, '0')}`;
    this.jobs.set(id, { rows, columns });
    return id;
  }

  async bulkQueryStatus(jobId: string): Promise<BulkJobStatus> {
    this.call('bulk-status');
    if (this.pendingPolls > 0) {
      this.pendingPolls--;
      return { id: jobId, state: 'InProgress', numberRecordsProcessed: 0 };
    }
    if (this.failNextJobs > 0) {
      this.failNextJobs--;
      return { id: jobId, state: 'Failed', numberRecordsProcessed: 0, errorMessage: this.failedJobMessage };
    }
    return { id: jobId, state: 'JobComplete', numberRecordsProcessed: this.jobs.get(jobId)!.rows.length };
  }

  async bulkQueryResults(jobId: string, locator: string | null, maxRecords: number): Promise<BulkResultPage> {
    this.call('bulk-results');
    const start = locator ? Number(locator) : 0;
    return this.pageOf(jobId, start, maxRecords, this.cutNextPage ? 'cutNextPage' : null);
  }

  async bulkQueryResultPages(jobId: string, next: string | null): Promise<BulkResultPages> {
    this.call('bulk-result-pages');
    if (Number(this.apiVersion) < 58 || this.resultPagesMissing) {
      throw new SalesforceRequestError('NOT_FOUND: The requested resource does not exist', 'NOT_FOUND', 404);
    }
    const job = this.jobs.get(jobId)!;
    const first = next === null ? 0 : Number(next.split('#')[1]);
    const pages = Math.max(1, Math.ceil(job.rows.length / this.serverPageSize));
    const last = Math.min(pages, first + 5);
    const urls: string[] = [];
    for (let page = first; page < last; page++) {
      urls.push(
        `/services/data/v${this.apiVersion}/jobs/query/${jobId}/results?locator=${page * this.serverPageSize}`,
      );
    }
    return {
      urls,
      next:
        last < pages ? `/services/data/v${this.apiVersion}/jobs/query/${jobId}/resultPages#${last}` : null,
    };
  }

  async bulkQueryResultUrl(url: string): Promise<BulkResultPage> {
    this.call('bulk-results');
    const match = /\/jobs\/query\/([^/]+)\/results\?locator=(\d+)$/.exec(url);
    if (!match) throw new SalesforceRequestError(`no such result URL: ${url}`);
    return this.pageOf(
      match[1]!,
      Number(match[2]),
      this.serverPageSize,
      this.cutNextUrlPage ? 'cutNextUrlPage' : null,
    );
  }

  private pageOf(
    jobId: string,
    start: number,
    size: number,
    cut: 'cutNextPage' | 'cutNextUrlPage' | null,
  ): BulkResultPage {
    const job = this.jobs.get(jobId)!;
    const page = job.rows.slice(start, start + size);
    let text =
      page.length > 0 ? csvHeader(job.columns) + page.map((r) => csvLine(job.columns, r)).join('') : '';
    if (cut !== null && page.length > 1) {
      this[cut] = false;
      text = text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1);
    }
    const end = start + page.length;
    const bytes = new TextEncoder().encode(text);
    return {
      body: chunks(this.gzipResults ? gzipSync(bytes) : bytes, this.chunkBytes),
      encoding: this.gzipResults ? 'gzip' : null,
      records: page.length,
      nextLocator: end < job.rows.length ? String(end) : null,
    };
  }

  async queryAll(soqlOrNextUrl: string, isNextUrl: boolean): Promise<RestQueryPage> {
    this.call('query');
    const [soql, offsetText] = isNextUrl ? soqlOrNextUrl.split('#') : [soqlOrNextUrl, '0'];
    if (!isNextUrl) this.soqlLog.push(soql!);
    const { rows, columns } = this.select(soql!);
    const offset = Number(offsetText);
    const size = this.restPageSize;
    const page = rows.slice(offset, offset + size);
    const next = offset + size < rows.length ? `${soql}#${offset + size}` : null;
    return {
      records: page.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))),
      totalSize: rows.length,
      done: next === null,
      nextRecordsUrl: next,
    };
  }

  async downloadBlob(object: string, id: string, field: string): Promise<AsyncIterable<Uint8Array>> {
    this.call(`blob ${object}/${id}/${field}`);
    const bytes = this.blobs.get(`${object}/${id}`);
    // As the REST adapter reports the 404 of a record deleted since it was read.
    if (!bytes) throw new SalesforceRequestError(`no blob for ${object}/${id}`, 'NOT_FOUND', 404);
    return chunks(bytes, this.chunkBytes);
  }

  async describeMetadata(): Promise<MetadataTypeInfo[]> {
    this.call('describeMetadata');
    const types = [...new Set(this.metadata.map((c) => c.type))];
    return types.map((xmlName) => ({
      xmlName,
      inFolder: false,
      directoryName: xmlName.toLowerCase(),
      childXmlNames: [],
    }));
  }

  async listMetadata(queries: readonly ListMetadataQuery[]): Promise<MetadataComponentInfo[]> {
    if (queries.length > 3) throw new Error('listMetadata takes at most 3 queries');
    this.call('listMetadata');
    return this.metadata.filter((c) => queries.some((q) => q.type === c.type));
  }

  async retrieve(members: ReadonlyMap<string, readonly string[]>): Promise<string> {
    this.call('retrieve');
    const id = `09S${this.retrieves.size}`;
    this.retrieves.set(id, members);
    return id;
  }

  async checkRetrieveStatus(id: string): Promise<RetrieveStatus> {
    this.call('checkRetrieveStatus');
    const members = this.retrieves.get(id)!;
    const size = [...members.values()].reduce((n, names) => n + names.length, 0);
    if (size > this.maxRetrieveComponents) {
      return {
        id,
        done: true,
        success: false,
        status: 'Failed',
        errorMessage: 'LIMIT_EXCEEDED: Too many files to retrieve; the limit is 10,000',
      };
    }
    const listing = [...members.entries()].map(([type, names]) => `${type}:${names.join(',')}`).join('\n');
    return {
      id,
      done: true,
      success: true,
      status: 'Succeeded',
      zip: new TextEncoder().encode(`zip of\n${listing}`),
    };
  }

  /** Sets a file body and its checksum on the row. */
  setBlob(object: string, id: string, text: string): void {
    const bytes = new TextEncoder().encode(text);
    this.blobs.set(`${object}/${id}`, bytes);
    const row = this.object(object).rows.find((r) => r.Id === id)!;
    if (object === 'ContentVersion') row.Checksum = createHash('md5').update(bytes).digest('hex');
  }

  object(name: string): FakeObject {
    const object = this.objects.find((o) => o.name === name);
    if (!object)
      throw new SalesforceQueryError(`sObject type '${name}' is not supported.`, 'INVALID_TYPE', 400);
    return object;
  }

  private select(soql: string): { object: FakeObject; rows: Row[]; columns: string[] } {
    const match = /^SELECT (.+?) FROM (\w+)(?: WHERE (.+?))?(?: ORDER BY (\w+))?(?: LIMIT (\d+))?$/.exec(
      soql,
    );
    if (!match) throw new SalesforceQueryError(`cannot parse ${soql}`, 'MALFORMED_QUERY', 400);
    const object = this.object(match[2]!);
    const refusal = object.refuse?.(soql);
    if (refusal) throw refusal;
    const conditions = match[3] ? match[3].split(' AND ').map(condition) : [];
    if (object.requiresFilter && !conditions.some((c) => object.requiresFilter!.includes(c.field))) {
      throw new SalesforceQueryError(
        `queryAll: MALFORMED_QUERY: Implementation restriction: ${object.name} requires a filter by ${object.requiresFilter.join(', ')}`,
        'MALFORMED_QUERY',
        400,
      );
    }
    let rows = object.rows.filter((r) => conditions.every((c) => c.test(r)));
    if (match[4]) rows = [...rows].sort((a, b) => String(a[match[4]!]).localeCompare(String(b[match[4]!])));
    if (match[5]) rows = rows.slice(0, Number(match[5]));
    const columns = match[1] === 'COUNT()' ? [] : match[1]!.split(', ');
    return { object, rows, columns };
  }
}

/** One WHERE condition of the few shapes the backup writes: `F > 'id'`, `F > datetime`, `F = 'v'`, `F IN ('a','b')`. */
function condition(text: string): { field: string; test: (row: Row) => boolean } {
  let m = /^(\w+) > '([^']*)'$/.exec(text);
  if (m) {
    const [, field, value] = m;
    return { field: field!, test: (r) => String(r[field!] ?? '') > value! };
  }
  m = /^(\w+) > (\S+)$/.exec(text);
  if (m) {
    const since = new Date(m[2]!).getTime();
    const field = m[1]!;
    return { field, test: (r) => new Date(r[field] ?? 0).getTime() > since };
  }
  m = /^(\w+) = '([^']*)'$/.exec(text);
  if (m) {
    const [, field, value] = m;
    return { field: field!, test: (r) => r[field!] === value };
  }
  m = /^(\w+) IN \((.*)\)$/.exec(text);
  if (m) {
    const field = m[1]!;
    const values = new Set(m[2]!.split(',').map((v) => v.replace(/^'|'$/g, '')));
    return { field, test: (r) => values.has(r[field] ?? '') };
  }
  throw new SalesforceQueryError(`cannot parse the condition ${text}`, 'MALFORMED_QUERY', 400);
}

async function* chunks(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Standard fields every fake object has. */
export const baseFields = [
  { name: 'Id', type: 'id' },
  { name: 'Name', type: 'string' },
  { name: 'IsDeleted', type: 'boolean' },
  { name: 'SystemModstamp', type: 'datetime' },
];

/** An org with `count` files, each one ContentVersion with its own body, last modified at `modstamp`. */
export function orgWithFiles(modstamp: Date, count: number): FakeSource {
  const source = new FakeSource([
    {
      name: 'ContentVersion',
      fields: [...baseFields, { name: 'Checksum', type: 'string' }, { name: 'VersionData', type: 'base64' }],
      rows: Array.from({ length: count }, (_, i) => ({
        Id: `068${String(i + 1).padStart(12, '0')}AAA`,
        Name: `file ${i + 1}`,
        IsDeleted: 'false',
        SystemModstamp: modstamp.toISOString(),
        Checksum: null,
      })),
    },
  ]);
  for (const row of source.object('ContentVersion').rows)
    source.setBlob('ContentVersion', row.Id!, `body of ${row.Id}`);
  return source;
}
