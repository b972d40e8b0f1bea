import { DEFAULT_API_VERSION, ErrorName } from '../../../contract/workflow-contract.ts';
import {
  type BulkJobStatus,
  type BulkResultPage,
  type BulkResultPages,
  type DeletedAnswer,
  type EventRelayReport,
  type DeletedWindow,
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
  SalesforceRequestError,
  type SalesforceSource,
} from '../../core/salesforce.ts';
import type { SalesforceCredentials } from './auth.ts';
import { SalesforceConnection } from './connection.ts';
import { translateHttpError, translateNetworkError } from './errors.ts';
import * as soap from './metadata-soap.ts';

const COMPOSITE_SIZE = 25;

interface CompositeAnswer {
  compositeResponse: { body: unknown; httpStatusCode: number; referenceId: string }[];
}

/** The Salesforce source over plain HTTP: REST, Composite, Bulk API 2.0 and the Metadata API. */
export class HttpSalesforceSource implements SalesforceSource {
  readonly connection: SalesforceConnection;

  private readonly retrieveAnswerLimitBytes: number;

  constructor(
    credentials: SalesforceCredentials,
    readonly apiVersion = DEFAULT_API_VERSION,
    options: {
      /**
       * Most bytes of a checkRetrieveStatus answer read before the call fails as too large.
       * @default - the base64 of a 64 MiB zip and its envelope (see `retrieveAnswerLimit`)
       */
      readonly retrieveAnswerLimitBytes?: number;
    } = {},
  ) {
    this.connection = new SalesforceConnection(credentials, apiVersion);
    this.retrieveAnswerLimitBytes = options.retrieveAnswerLimitBytes ?? soap.RETRIEVE_ANSWER_LIMIT_BYTES;
  }

  apiCalls(): number {
    return this.connection.apiCalls();
  }

  async identity(): Promise<OrgIdentity> {
    const info = await this.connection.json<{ organization_id: string; user_id: string }>(
      '/services/oauth2/userinfo',
      'userinfo',
      { idempotent: true },
    );
    return { orgId: info.organization_id, userId: info.user_id };
  }

  async limits(): Promise<OrgLimits> {
    const raw = await this.connection.json<Record<string, { Max: number; Remaining: number }>>(
      this.connection.dataPath('/limits'),
      'limits',
      { idempotent: true },
    );
    const pick = (name: string) =>
      raw[name] ? { max: raw[name].Max, remaining: raw[name].Remaining } : undefined;
    const daily = pick('DailyApiRequests');
    if (!daily) throw new SalesforceRequestError('The /limits answer has no DailyApiRequests.');
    const bulk = pick('DailyBulkV2QueryJobs');
    return bulk ? { dailyApiRequests: daily, dailyBulkV2QueryJobs: bulk } : { dailyApiRequests: daily };
  }

  async describeGlobal(): Promise<GlobalObject[]> {
    const answer = await this.connection.json<{ sobjects: GlobalObject[] }>(
      this.connection.dataPath('/sobjects'),
      'describeGlobal',
      { idempotent: true },
    );
    return answer.sobjects.map((o) => ({
      name: o.name,
      queryable: o.queryable,
      retrieveable: o.retrieveable,
      custom: o.custom,
      deprecatedAndHidden: o.deprecatedAndHidden ?? false,
      replicateable: o.replicateable ?? false,
    }));
  }

  async describeObjects(names: readonly string[]): Promise<ObjectDescribe[]> {
    const answers = await this.composite(
      names.map((name) => ({ key: name, url: this.connection.dataPath(`/sobjects/${name}/describe`) })),
      'describe',
    );
    return names.map((name) => {
      const answer = answers.get(name)!;
      if (answer.status >= 400)
        throw translateHttpError(answer.status, JSON.stringify(answer.body), `describe ${name}`);
      const body = answer.body as { name: string; queryable: boolean; fields: Record<string, unknown>[] };
      return {
        name: body.name,
        queryable: body.queryable,
        fields: body.fields.map((f) => ({
          name: String(f.name),
          type: String(f.type),
          referenceTo: Array.isArray(f.referenceTo) ? f.referenceTo.map(String) : [],
          relationshipName: typeof f.relationshipName === 'string' ? f.relationshipName : null,
          nillable: f.nillable === true,
          createable: f.createable === true,
          updateable: f.updateable === true,
          externalId: f.externalId === true,
          calculated: f.calculated === true,
          compoundFieldName: typeof f.compoundFieldName === 'string' ? f.compoundFieldName : null,
        })),
      };
    });
  }

  async countRows(queries: readonly { key: string; soql: string }[]): Promise<Map<string, number>> {
    const answers = await this.composite(
      queries.map((q) => ({
        key: q.key,
        url: this.connection.dataPath(`/queryAll?q=${encodeURIComponent(q.soql)}`),
      })),
      'COUNT()',
    );
    const counts = new Map<string, number>();
    for (const [key, answer] of answers) {
      if (answer.status < 400) {
        counts.set(key, (answer.body as { totalSize: number }).totalSize);
        continue;
      }
      const error = translateHttpError(answer.status, JSON.stringify(answer.body), `COUNT() of ${key}`);
      // A refused count (object without SystemModstamp, ...) leaves the object to be exported in full;
      // a transient one fails the step so the workflow retries it.
      if (error.name !== ErrorName.SalesforceQuery && error.name !== ErrorName.SalesforceRequest) throw error;
    }
    return counts;
  }

  async getDeleted(windows: readonly DeletedWindow[]): Promise<DeletedAnswer[]> {
    const answers = await this.composite(
      windows.map((w, index) => ({
        key: String(index),
        url: this.connection.dataPath(
          `/sobjects/${w.object}/deleted/?start=${encodeURIComponent(w.start)}&end=${encodeURIComponent(w.end)}`,
        ),
      })),
      'getDeleted',
    );
    return windows.map((w, index): DeletedAnswer => {
      const answer = answers.get(String(index));
      if (!answer) throw new SalesforceRequestError(`Composite getDeleted gave no answer for ${w.object}`);
      if (answer.status < 400) {
        const body = answer.body as {
          deletedRecords?: { id: string; deletedDate: string }[];
          earliestDateAvailable: string;
          latestDateCovered: string;
        };
        return {
          object: w.object,
          kind: 'deleted',
          records: body.deletedRecords ?? [],
          earliestDateAvailable: body.earliestDateAvailable,
          latestDateCovered: body.latestDateCovered,
        };
      }
      const error = translateHttpError(
        answer.status,
        JSON.stringify(answer.body),
        `getDeleted of ${w.object}`,
      );
      // A refusal of this object's log (the window, too many ids, the object or the user's access)
      // says what to do next: read the object in full, or a shorter window. Anything transient (a
      // session, a limit, an outage) fails the step so the workflow retries it.
      if (error.name === ErrorName.SalesforceQuery || error.name === ErrorName.SalesforceRequest) {
        return { object: w.object, kind: 'refused', errorCode: error.errorCode ?? `HTTP ${answer.status}` };
      }
      throw error;
    });
  }

  async createBulkQuery(soql: string): Promise<string> {
    try {
      const job = await this.connection.json<{ id: string }>(
        this.connection.dataPath('/jobs/query'),
        'Bulk query job',
        {
          method: 'POST',
          body: JSON.stringify({ operation: 'queryAll', query: soql }),
        },
      );
      return job.id;
    } catch (error) {
      if (
        error instanceof SalesforceRequestError &&
        /not supported|INVALIDENTITY|ENTITY_NOT_SUPPORTED/i.test(error.message)
      ) {
        throw new SalesforceBulkUnsupportedError(error.message, error.errorCode, error.status);
      }
      throw error;
    }
  }

  async bulkQueryStatus(jobId: string): Promise<BulkJobStatus> {
    const job = await this.connection.json<{
      id: string;
      state: BulkJobStatus['state'];
      numberRecordsProcessed?: number;
      errorMessage?: string;
    }>(this.connection.dataPath(`/jobs/query/${jobId}`), 'Bulk query job status', { idempotent: true });
    return {
      id: job.id,
      state: job.state,
      numberRecordsProcessed: job.numberRecordsProcessed ?? 0,
      ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
    };
  }

  // Sent by hand and streamed: jsforce 3.10.26 reads every answer whole, and its bulk2.query fails
  // past the first result page (jsforce #1546; test/backup/jsforce-shortfalls.test.ts). Asked
  // compressed, and kept as sent: Salesforce gzips results on request ("Use Compression for Bulk
  // API 2.0 Query Responses"), and the vault stores gzip.
  bulkQueryResults(jobId: string, locator: string | null, maxRecords: number): Promise<BulkResultPage> {
    const params = new URLSearchParams({ maxRecords: String(maxRecords) });
    if (locator) params.set('locator', locator);
    return this.resultPage(
      this.connection.dataPath(`/jobs/query/${jobId}/results?${params}`),
      `Bulk query results of ${jobId}`,
    );
  }

  async bulkQueryResultPages(jobId: string, next: string | null): Promise<BulkResultPages> {
    const path = next ?? this.connection.dataPath(`/jobs/query/${jobId}/resultPages`);
    if (!path.startsWith('/services/data/')) {
      throw new SalesforceRequestError(`Bulk result pages of ${jobId}: unexpected next URL ${path}`);
    }
    const answer = await this.connection.json<{
      resultPages?: { resultUrl?: unknown }[];
      nextRecordsUrl?: string | null;
      done?: boolean;
    }>(path, `Bulk result pages of ${jobId}`, { idempotent: true });
    const urls = (answer.resultPages ?? []).map((page) => page.resultUrl);
    if (!urls.every((url): url is string => typeof url === 'string' && url.startsWith('/services/data/'))) {
      throw new SalesforceRequestError(
        `Bulk result pages of ${jobId}: the answer holds a result URL that is not a /services/data/ path.`,
      );
    }
    const following = answer.done === false ? (answer.nextRecordsUrl ?? null) : null;
    if (answer.done === false && following === null) {
      throw new SalesforceRequestError(`Bulk result pages of ${jobId}: not done, but no nextRecordsUrl.`);
    }
    return { urls, next: following };
  }

  bulkQueryResultUrl(url: string): Promise<BulkResultPage> {
    if (!url.startsWith('/services/data/')) {
      throw new SalesforceRequestError(`Bulk query results: ${url} is not a /services/data/ path.`);
    }
    return this.resultPage(url, `Bulk query results ${url}`);
  }

  private async resultPage(path: string, what: string): Promise<BulkResultPage> {
    const response = await this.connection.request(path, what, {
      accept: 'text/csv',
      headers: { 'accept-encoding': 'gzip' },
      idempotent: true,
      raw: true,
    });
    const next = response.headers.get('sforce-locator');
    const count = response.headers.get('sforce-numberofrecords');
    const encoding = (response.headers.get('content-encoding') ?? '').trim().toLowerCase();
    if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip') {
      await response.body?.cancel().catch(() => undefined);
      throw new SalesforceRequestError(`${what}: answered in an encoding not asked for (${encoding}).`);
    }
    return {
      body: translatedBody(response, what),
      encoding: encoding === 'gzip' ? 'gzip' : null,
      records: count === null || Number.isNaN(Number(count)) ? null : Number(count),
      nextLocator: next === null || next === '' || next === 'null' ? null : next,
    };
  }

  async queryAll(soqlOrNextUrl: string, isNextUrl: boolean): Promise<RestQueryPage> {
    const path = isNextUrl
      ? soqlOrNextUrl
      : this.connection.dataPath(`/queryAll?q=${encodeURIComponent(soqlOrNextUrl)}`);
    const page = await this.connection.json<{
      records: Record<string, unknown>[];
      totalSize: number;
      done: boolean;
      nextRecordsUrl?: string;
    }>(path, 'queryAll', { idempotent: true, headers: { 'Sforce-Query-Options': 'batchSize=2000' } });
    return {
      records: page.records.map(({ attributes: _attributes, ...fields }) => fields),
      totalSize: page.totalSize,
      done: page.done,
      nextRecordsUrl: page.nextRecordsUrl ?? null,
    };
  }

  async eventRelay(partnerEventSource: string): Promise<EventRelayReport | null> {
    const feedback = await this.allRecords(
      this.connection.dataPath(
        `/query?q=${encodeURIComponent(
          'SELECT EventRelayConfigId, Status, ErrorCode, ErrorMessage, ErrorTime, LastRelayedEventTime, RemoteResource FROM EventRelayFeedback ORDER BY LastModifiedDate DESC',
        )}`,
      ),
      'EventRelayFeedback',
    );
    const mine = feedback.find((f) => f.RemoteResource === partnerEventSource);
    if (!mine) return null;
    const configs = await this.allRecords(
      this.connection.dataPath(
        `/tooling/query?q=${encodeURIComponent(
          `SELECT Id, DeveloperName, State, EventChannel, RelayOption FROM EventRelayConfig WHERE Id = '${String(mine.EventRelayConfigId).replace(/[^A-Za-z0-9]/g, '')}'`,
        )}`,
      ),
      'EventRelayConfig',
    );
    const config = configs[0];
    if (!config) return null;
    return {
      id: String(config.Id),
      developerName: String(config.DeveloperName),
      state: String(config.State),
      eventChannel: String(config.EventChannel),
      replayRecovery: replayRecoveryOf(config.RelayOption),
      status: textOrNull(mine.Status),
      errorCode: textOrNull(mine.ErrorCode),
      errorMessage: textOrNull(mine.ErrorMessage),
      errorTime: instantOrNull(mine.ErrorTime),
      lastRelayedEventTime: instantOrNull(mine.LastRelayedEventTime),
      remoteResource: textOrNull(mine.RemoteResource),
    };
  }

  async changeEventEntities(channel: string): Promise<string[]> {
    const name = channel.replace(/^\/data\//, '');
    const names = new Set([name, channel]);
    // A custom channel's members report the channel's id (0YL...), not its name, as EventChannel
    // (Tooling API, PlatformEventChannelMember): find the id of the channel so named.
    if (name.endsWith('__chn')) {
      const channels = await this.allRecords(
        this.connection.dataPath(
          `/tooling/query?q=${encodeURIComponent('SELECT Id, DeveloperName, NamespacePrefix FROM PlatformEventChannel')}`,
        ),
        'PlatformEventChannel',
      );
      for (const c of channels) {
        if (!channelNames(c).includes(name)) continue;
        const id = String(c.Id);
        names.add(id).add(id.slice(0, 15));
      }
    }
    const members = await this.allRecords(
      this.connection.dataPath(
        `/tooling/query?q=${encodeURIComponent('SELECT EventChannel, SelectedEntity FROM PlatformEventChannelMember')}`,
      ),
      'PlatformEventChannelMember',
    );
    return members
      .filter((m) => names.has(String(m.EventChannel)))
      .map((m) => objectOfChangeEvent(String(m.SelectedEntity)));
  }

  /** Every record of a REST or Tooling query, following `nextRecordsUrl`. */
  private async allRecords(firstPath: string, what: string): Promise<Record<string, unknown>[]> {
    const records: Record<string, unknown>[] = [];
    let path: string | undefined = firstPath;
    while (path) {
      const page: { records: Record<string, unknown>[]; nextRecordsUrl?: string } =
        await this.connection.json(path, `query of ${what}`, { idempotent: true });
      records.push(...page.records);
      path = page.nextRecordsUrl;
    }
    return records;
  }

  // Sent by hand and streamed: a file body may be up to 2 GB, and jsforce 3.10.26 reads every answer
  // whole into one string, under its blob() stream too (test/backup/jsforce-shortfalls.test.ts).
  async downloadBlob(object: string, id: string, field: string): Promise<AsyncIterable<Uint8Array>> {
    const what = `${object}.${field} of ${id}`;
    const response = await this.connection.request(
      this.connection.dataPath(`/sobjects/${object}/${id}/${field}`),
      what,
      {
        accept: '*/*',
        idempotent: true,
      },
    );
    return translatedBody(response, what);
  }

  describeMetadata(): Promise<MetadataTypeInfo[]> {
    return soap.describeMetadata(this.connection);
  }

  listMetadata(queries: readonly ListMetadataQuery[]): Promise<MetadataComponentInfo[]> {
    return soap.listMetadata(this.connection, queries);
  }

  retrieve(members: ReadonlyMap<string, readonly string[]>): Promise<string> {
    return soap.retrieve(this.connection, members);
  }

  checkRetrieveStatus(id: string): Promise<RetrieveStatus> {
    return soap.checkRetrieveStatus(this.connection, id, this.retrieveAnswerLimitBytes);
  }

  /** Runs GET subrequests through Composite, 25 per API call. */
  private async composite(
    requests: readonly { key: string; url: string }[],
    what: string,
  ): Promise<Map<string, { status: number; body: unknown }>> {
    const out = new Map<string, { status: number; body: unknown }>();
    for (let i = 0; i < requests.length; i += COMPOSITE_SIZE) {
      const batch = requests.slice(i, i + COMPOSITE_SIZE);
      const answer = await this.connection.json<CompositeAnswer>(
        this.connection.dataPath('/composite'),
        `Composite ${what}`,
        {
          method: 'POST',
          idempotent: true,
          body: JSON.stringify({
            allOrNone: false,
            compositeRequest: batch.map((r, index) => ({
              method: 'GET',
              url: r.url,
              referenceId: `r${index}`,
            })),
          }),
        },
      );
      for (const sub of answer.compositeResponse) {
        const request = batch[Number(sub.referenceId.slice(1))];
        if (request) out.set(request.key, { status: sub.httpStatusCode, body: sub.body });
      }
    }
    return out;
  }
}

/** A response body as chunks, with a broken connection reported as a transient error. */
async function* translatedBody(response: Response, what: string): AsyncIterable<Uint8Array> {
  if (!response.body) return;
  try {
    for await (const chunk of response.body) yield chunk;
  } catch (error) {
    throw translateNetworkError(error, what);
  }
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined || value === '' ? null : String(value);
}

/** A REST datetime (`2026-03-01T10:00:00.000+0000`) as an ISO instant (`...Z`); null when empty. */
function instantOrNull(value: unknown): string | null {
  const text = textOrNull(value);
  if (text === null) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

/** `{"ReplayRecovery":"EARLIEST"}` (RelayOption is JSON text) -> `EARLIEST`. */
function replayRecoveryOf(option: unknown): string | null {
  if (typeof option !== 'string' || option === '') return null;
  try {
    const parsed = JSON.parse(option) as { ReplayRecovery?: unknown };
    return typeof parsed.ReplayRecovery === 'string' ? parsed.ReplayRecovery : null;
  } catch {
    return null;
  }
}

/** The names a PlatformEventChannel record may be written as: `SfVault__chn`, with its namespace. */
function channelNames(record: Record<string, unknown>): string[] {
  const developerName = String(record.DeveloperName).replace(/__chn$/, '');
  const namespace = textOrNull(record.NamespacePrefix);
  const full = namespace ? `${namespace}__${developerName}` : developerName;
  return [`${full}__chn`, full];
}

/** `AccountChangeEvent` -> `Account`; `Employee__ChangeEvent` -> `Employee__c`. */
function objectOfChangeEvent(entity: string): string {
  if (entity.endsWith('__ChangeEvent')) return `${entity.slice(0, -'__ChangeEvent'.length)}__c`;
  return entity.endsWith('ChangeEvent') ? entity.slice(0, -'ChangeEvent'.length) : entity;
}
