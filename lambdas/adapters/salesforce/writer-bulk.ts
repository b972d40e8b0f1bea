import { ErrorName } from '../../../contract/workflow-contract.ts';
import type { RowError, WriteResult, WriteRow } from '../../core/restore/model.ts';
import { SalesforceRequestError } from '../../core/salesforce.ts';
import { translateNetworkError } from './errors.ts';
import { parseCsv, readWhole } from './reader-bulk.ts';
import type { SalesforceHttp } from './writer-http.ts';

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
 * Inserts or updates rows with one Bulk API 2.0 ingest job (jsforce's `bulk2`) and returns one
 * result per row in the order given. Salesforce returns results grouped by outcome, each echoing the
 * row's columns, so rows are matched back by `Id` (update) or by their exact column values (insert).
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
  const api = http.connection;
  // Each step is sent once: a lost answer to a write is settled by the restore's reconcile.
  const job = await api.api(`Bulk ${operation} job on ${object}`, async (conn) => {
    const created = conn.bulk2.createJob({ object, operation, lineEnding: 'LF', columnDelimiter: 'COMMA' });
    await created.open();
    return created;
  });
  const id = job.id ?? '';
  // The upload and the result lists are sent by hand, as the restore's Bulk reads are: in the
  // restore benchmark (a 5,000-row insert job, on a loaded 2-core machine) jsforce 3.10.26's
  // bulk2 `uploadData` took 1.7 s and its three result reads 2.9 s, by hand 0.85 s and 2.3 s.
  const jobPath = http.dataPath(`/jobs/ingest/${id}`);
  const uploaded = await api.request(`${jobPath}/batches`, `Bulk ${operation} job ${id} upload`, {
    method: 'PUT',
    body: csv,
    contentType: 'text/csv',
  });
  try {
    await uploaded.text();
  } catch (error) {
    throw translateNetworkError(error, `Bulk ${operation} job ${id} upload`);
  }
  await api.api(`Bulk ${operation} job ${id} close`, () => job.close());
  let wait = 100;
  let processed = 0;
  let failedCount = 0;
  for (;;) {
    const status = await api.api(`Bulk ${operation} job ${id} status`, () => job.check(), {
      idempotent: true,
    });
    if (status.state === 'JobComplete') {
      processed = Number(status.numberRecordsProcessed ?? 0);
      failedCount = Number(status.numberRecordsFailed ?? 0);
      break;
    }
    if (status.state === 'Failed' || status.state === 'Aborted') {
      throw new BulkIngestFailedError(
        `Bulk ${operation} job ${id} on ${object} ended ${status.state}: ${status.errorMessage ?? 'no message'}`,
        status.state,
      );
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 2000);
  }
  const read = async (kind: string): Promise<Record<string, string | number | boolean | null>[]> => {
    const what = `Bulk ${operation} job ${id} ${kind}`;
    // A body that is not CSV (cut short inside a quoted cell) is never read as no rows.
    return parseCsv((await readWhole(api, `${jobPath}/${kind}`, what)).text, what);
  };
  // The job's counts say which result sets hold rows: only those are read. An update that
  // processed every row without a failure needs none (each row's id is the one it was sent with).
  const allDone = processed === rows.length && failedCount === 0;
  if (operation === 'update' && allDone)
    return rows.map((r) => ({ id: text(r.Id) || null, success: true, errors: [] }));
  const succeeded = processed - failedCount > 0 ? await read('successfulResults') : [];
  const failed = failedCount > 0 ? await read('failedResults') : [];
  const unprocessed = processed < rows.length ? await read('unprocessedrecords') : [];
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
  for (const r of succeeded) add(keyOf(r, true), { id: text(r.sf__Id) || null, success: true, errors: [] });
  for (const r of failed)
    add(keyOf(r, true), {
      id: text(r.sf__Id) || null,
      success: false,
      errors: parseBulkError(text(r.sf__Error)),
    });
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
        errors: [{ statusCode: 'NO_RESULT', message: `Bulk job ${id} returned no result for this row.` }],
      }
    );
  });
}

function text(value: string | number | boolean | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
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
