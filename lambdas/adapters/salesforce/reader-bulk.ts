import { parse } from 'csv-parse/sync';
import type { Row } from '../../core/restore/model.ts';
import {
  SalesforceError,
  SalesforceRateLimitError,
  SalesforceSessionExpiredError,
  SalesforceTransientError,
} from '../../core/salesforce.ts';
import type { SalesforceConnection } from './connection.ts';
import { translateNetworkError } from './errors.ts';
import type { SalesforceHttp } from './writer-http.ts';

/**
 * Salesforce's limit on a SOQL statement's length (100,000 characters, "SOQL and SOSL Limits for
 * Search Queries"), less room for the statement's own text.
 */
export const SOQL_MAX_CHARS = 99_000;

/** How a job is polled (from `firstPollMs`, doubling up to `maxPollMs`) and its results paged. */
export interface BulkReadSettings {
  readonly firstPollMs: number;
  readonly maxPollMs: number;
  /** How long a job may take to complete before it is aborted and the rows are read through REST. */
  readonly maxWaitMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Rows per result page asked for (`maxRecords`); Salesforce may send fewer. */
  readonly pageRows: number;
}

export const DEFAULT_BULK_READ: BulkReadSettings = {
  firstPollMs: 100,
  maxPollMs: 2000,
  maxWaitMs: 300_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  pageRows: 50_000,
};

/**
 * The `WHERE Id IN (...)` lists of a read by id, each as long as a SOQL statement may be:
 * 15-character ids (Salesforce takes either form), so about 5,000 ids per statement.
 */
export function idLists(ids: readonly string[], prefixChars: number): string[] {
  const lists: string[] = [];
  let current: string[] = [];
  let length = prefixChars;
  for (const raw of ids) {
    const id = raw.replace(/[^A-Za-z0-9]/g, '').slice(0, 15);
    const cost = id.length + 3;
    if (current.length > 0 && length + cost > SOQL_MAX_CHARS) {
      lists.push(current.join(','));
      current = [];
      length = prefixChars;
    }
    current.push(`'${id}'`);
    length += cost;
  }
  if (current.length > 0) lists.push(current.join(','));
  return lists;
}

/**
 * Runs one Bulk API 2.0 `queryAll` job (deleted rows included) and reads every result page.
 * Values come back as text, an empty cell as `null`, as the REST reads give them. Answers
 * `refused` when the org will not run the query through Bulk (refused at creation, or the job
 * ended Failed or Aborted): the caller reads through REST instead.
 */
export async function bulkQueryAll(
  http: SalesforceHttp,
  soql: string,
  polling: BulkReadSettings = DEFAULT_BULK_READ,
): Promise<Row[] | 'refused'> {
  const api = http.connection;
  let jobId: string;
  try {
    const job = await api.json<{ id: string }>(
      http.dataPath('/jobs/query'),
      'Bulk query job (restore read)',
      {
        method: 'POST',
        body: JSON.stringify({ operation: 'queryAll', query: soql }),
      },
    );
    jobId = job.id;
  } catch (error) {
    // A query Bulk will not run (an unsupported object, a statement too long or too complex:
    // any refusal but a limit or a session) is read through REST instead.
    const refusal =
      error instanceof SalesforceError &&
      !(error instanceof SalesforceRateLimitError || error instanceof SalesforceSessionExpiredError) &&
      error.status !== undefined &&
      error.status < 500;
    if (refusal) return 'refused';
    throw error;
  }
  let wait = polling.firstPollMs;
  let waited = 0;
  for (;;) {
    const status = await api.json<{ state: string }>(
      http.dataPath(`/jobs/query/${jobId}`),
      'Bulk query job status (restore read)',
      { idempotent: true },
    );
    if (status.state === 'JobComplete') break;
    if (status.state === 'Failed' || status.state === 'Aborted') return 'refused';
    if (waited >= polling.maxWaitMs) {
      // A job stuck in the org's queue must not hold the step until its Lambda times out.
      await abortQuietly(api, http.dataPath(`/jobs/query/${jobId}`));
      return 'refused';
    }
    await polling.sleep(wait);
    waited += wait;
    wait = Math.min(wait * 2, polling.maxPollMs);
  }
  const rows: Row[] = [];
  let locator: string | null = null;
  do {
    const params = new URLSearchParams({ maxRecords: String(polling.pageRows) });
    if (locator) params.set('locator', locator);
    const what = `Bulk query results of ${jobId} (restore read)`;
    const { text, headers } = await readWhole(
      api,
      http.dataPath(`/jobs/query/${jobId}/results?${params}`),
      what,
    );
    const records = parseCsv(text, what);
    const response = { headers };
    for (const record of records) {
      const row: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(record)) row[k] = v === '' ? null : v;
      rows.push(row);
    }
    const next = response.headers.get('sforce-locator');
    locator = next === null || next === '' || next === 'null' ? null : next;
  } while (locator !== null);
  return rows;
}

/** Brief repeats of an idempotent read whose body was cut: the same answer may come whole. */
const BODY_REPEATS = 2;

/**
 * An idempotent GET read whole. A body cut on the way fails as `SalesforceTransientError` (fetch
 * throws a bare `TypeError: terminated` then) and is asked for again, twice at most.
 */
export async function readWhole(
  api: SalesforceConnection,
  path: string,
  what: string,
): Promise<{ text: string; headers: Headers }> {
  for (let attempt = 0; ; attempt++) {
    const response = await api.request(path, what, { accept: 'text/csv', idempotent: true });
    try {
      return { text: await response.text(), headers: response.headers };
    } catch (error) {
      const failure = translateNetworkError(error, what);
      if (!(failure instanceof SalesforceTransientError) || attempt >= BODY_REPEATS) throw failure;
    }
  }
}

/**
 * A CSV answer's records. A body that is not CSV fails as transient (it was most likely cut), and
 * its error names the problem and the line, never the values (csv-parse's own message quotes them).
 */
export function parseCsv(text: string, what: string): Record<string, string>[] {
  try {
    return parse(text, { columns: true, skip_empty_lines: true, relax_quotes: false }) as Record<
      string,
      string
    >[];
  } catch (error) {
    const { code, lines } = error as { code?: string; lines?: number };
    throw new SalesforceTransientError(
      `${what}: the answer is not CSV (${code ?? 'unreadable'}${lines === undefined ? '' : ` at line ${lines}`}); it can be asked for again.`,
    );
  }
}

async function abortQuietly(api: SalesforceConnection, path: string): Promise<void> {
  try {
    await api.json(path, 'Bulk query job abort (restore read)', {
      method: 'PATCH',
      body: JSON.stringify({ state: 'Aborted' }),
    });
  } catch {
    // The job may have completed meanwhile; an open job expires with the org's job retention.
  }
}
