import { parse } from 'csv-parse/sync';
import type { Row } from '../../core/restore/model.ts';
import { SalesforceRequestError } from '../../core/salesforce.ts';
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
  readonly sleep: (ms: number) => Promise<void>;
  /** Rows per result page asked for (`maxRecords`); Salesforce may send fewer. */
  readonly pageRows: number;
}

export const DEFAULT_BULK_READ: BulkReadSettings = {
  firstPollMs: 100,
  maxPollMs: 2000,
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
    if (error instanceof SalesforceRequestError && error.status !== undefined && error.status < 500)
      return 'refused';
    throw error;
  }
  let wait = polling.firstPollMs;
  for (;;) {
    const status = await api.json<{ state: string }>(
      http.dataPath(`/jobs/query/${jobId}`),
      'Bulk query job status (restore read)',
      { idempotent: true },
    );
    if (status.state === 'JobComplete') break;
    if (status.state === 'Failed' || status.state === 'Aborted') return 'refused';
    await polling.sleep(wait);
    wait = Math.min(wait * 2, polling.maxPollMs);
  }
  const rows: Row[] = [];
  let locator: string | null = null;
  do {
    const params = new URLSearchParams({ maxRecords: String(polling.pageRows) });
    if (locator) params.set('locator', locator);
    const what = `Bulk query results of ${jobId} (restore read)`;
    const response = await api.request(http.dataPath(`/jobs/query/${jobId}/results?${params}`), what, {
      accept: 'text/csv',
      idempotent: true,
    });
    const text = await response.text();
    const records = parse(text, { columns: true, skip_empty_lines: true, relax_quotes: false }) as Record<
      string,
      string
    >[];
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
