import { ErrorName } from '../../../contract/workflow-contract.ts';
import { parse } from 'csv-parse/sync';
import type { RowError, WriteResult, WriteRow } from '../../core/restore/model.ts';
import { SalesforceRequestError } from '../../core/salesforce.ts';
import { readBody, type SalesforceHttp } from './writer-http.ts';

interface IngestJob {
  readonly id: string;
  readonly state: 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';
  readonly errorMessage?: string;
}

/** A Bulk API 2.0 ingest job ended Failed or Aborted. */
export class BulkIngestFailedError extends SalesforceRequestError {
  override readonly name: string = ErrorName.BulkIngestFailed;
}

function cell(value: string | number | boolean | null | undefined, nullText: string): string {
  if (value === undefined) return '';
  if (value === null) return nullText;
  return `"${String(value).replace(/"/g, '""')}"`;
}

/**
 * Job requests (create, close, status) go through jsforce's `request`; the CSV upload and the result
 * CSVs are sent by hand. jsforce's `bulk2` ingest job (3.10.26) pipes its upload into the transport's
 * request stream instead of giving it a body, and the counting transport, which exists because
 * jsforce's own one ends the process on a cut answer, sends only a given body: Salesforce would receive
 * an empty upload (test/backup/jsforce-shortfalls.test.ts).
 *
 * Inserts or updates rows with one Bulk API 2.0 ingest job and returns one result per row in the
 * order given. Salesforce returns results grouped by outcome, each echoing the row's columns, so
 * rows are matched back by `Id` (update) or by their exact column values (insert).
 */
export async function bulkIngest(
  http: SalesforceHttp,
  object: string,
  operation: 'insert' | 'update',
  rows: readonly WriteRow[],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<WriteResult[]> {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (operation === 'update' && !columns.includes('Id')) columns.unshift('Id');
  // Bulk CSV: an empty cell leaves a field as it is on update (a row without the key); #N/A sets it to null.
  const nullText = operation === 'update' ? '#N/A' : '';
  const lines = rows.map((r) => columns.map((c) => cell(r[c], nullText)).join(','));
  const csv = `${columns.join(',')}\n${lines.join('\n')}\n`;
  const job = await http.json<IngestJob>('POST', http.dataPath('/jobs/ingest'), {
    object,
    operation,
    contentType: 'CSV',
    lineEnding: 'LF',
    columnDelimiter: 'COMMA',
  });
  await http.send('PUT', http.dataPath(`/jobs/ingest/${job.id}/batches`), csv, 'text/csv');
  await http.json('PATCH', http.dataPath(`/jobs/ingest/${job.id}`), { state: 'UploadComplete' });
  let wait = 100;
  for (;;) {
    const status = await http.json<IngestJob>('GET', http.dataPath(`/jobs/ingest/${job.id}`));
    if (status.state === 'JobComplete') break;
    if (status.state === 'Failed' || status.state === 'Aborted') {
      throw new BulkIngestFailedError(
        `Bulk ${operation} job ${job.id} on ${object} ended ${status.state}: ${status.errorMessage ?? 'no message'}`,
        status.state,
      );
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 2000);
  }
  const read = async (kind: string): Promise<Record<string, string>[]> => {
    const res = await http.send('GET', http.dataPath(`/jobs/ingest/${job.id}/${kind}`));
    const text = await readBody(res, `GET ingest ${kind}`);
    if (text.trim() === '') return [];
    return parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<
      string,
      string
    >[];
  };
  const succeeded = await read('successfulResults');
  const failed = await read('failedResults');
  const unprocessed = await read('unprocessedrecords');
  const keyOf = (r: Record<string, string | number | boolean | null>, fromResult: boolean): string =>
    operation === 'update'
      ? String(r.Id ?? '').slice(0, 15)
      : columns
          .map((c) => {
            const v = r[c];
            if (v === null || v === undefined) return '';
            return fromResult && v === nullText ? '' : String(v);
          })
          .join('\u0001');
  const pool = new Map<string, WriteResult[]>();
  const add = (key: string, result: WriteResult): void => {
    pool.set(key, [...(pool.get(key) ?? []), result]);
  };
  for (const r of succeeded) add(keyOf(r, true), { id: r.sf__Id || null, success: true, errors: [] });
  for (const r of failed)
    add(keyOf(r, true), { id: r.sf__Id || null, success: false, errors: parseBulkError(r.sf__Error ?? '') });
  for (const r of unprocessed) {
    add(keyOf(r, true), {
      id: null,
      success: false,
      errors: [
        { statusCode: 'UNPROCESSED', message: 'Salesforce did not process this row before the job ended.' },
      ],
    });
  }
  return rows.map((row) => {
    const list = pool.get(keyOf(row, false));
    const result = list?.shift();
    return (
      result ?? {
        id: null,
        success: false,
        errors: [{ statusCode: 'NO_RESULT', message: `Bulk job ${job.id} returned no result for this row.` }],
      }
    );
  });
}

/** `sf__Error` reads `CODE:message--fields` or `CODE:message`. */
function parseBulkError(text: string): RowError[] {
  const match = /^([A-Z_]+):(.*?)(?:--(.*))?$/s.exec(text);
  if (!match) return [{ statusCode: 'UNKNOWN_EXCEPTION', message: text }];
  const fields = match[3]
    ? match[3]
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
    : [];
  return [
    {
      statusCode: match[1] ?? 'UNKNOWN_EXCEPTION',
      message: (match[2] ?? '').trim(),
      ...(fields.length ? { fields } : {}),
    },
  ];
}
