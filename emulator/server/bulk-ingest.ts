import { parse } from 'csv-parse/sync';
import { SalesforceError } from '../org/api.ts';
import { isObject } from './body.ts';
import { dialectOf, quote } from './bulk-csv.ts';
import { type IngestJob, type IngestRowResult, jobTimestamp } from './bulk-jobs.ts';
import type { EmulatorContext, Handler } from './context.ts';
import { acceptsGzip, startCsvBody } from './csv-body.ts';
import { ApiError } from './errors.ts';

const OPERATIONS = ['insert', 'update', 'upsert', 'delete', 'hardDelete'] as const;
/** Rows processed between yields to the event loop, so a big job does not stall other requests. */
const ROWS_PER_TURN = 2000;
/** Rows per transaction: Bulk API runs DML in chunks of 200 records, each its own transaction (Bulk API Developer Guide, "Limits"). */
const ROWS_PER_TRANSACTION = 200;

function ingestJobInfo(job: IngestJob, full: boolean): Record<string, unknown> {
  const info: Record<string, unknown> = {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: job.createdDate,
    systemModstamp: job.systemModstamp,
    state: job.state,
  };
  if (job.externalIdFieldName !== undefined) info.externalIdFieldName = job.externalIdFieldName;
  Object.assign(info, {
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: Number(job.apiVersion),
    contentUrl: `services/data/v${job.apiVersion}/jobs/ingest/${job.id}/batches`,
    lineEnding: job.lineEnding,
    columnDelimiter: job.columnDelimiter,
  });
  if (job.errorMessage !== undefined) info.errorMessage = job.errorMessage;
  if (full) {
    Object.assign(info, {
      jobType: 'V2Ingest',
      retries: 0,
      numberRecordsProcessed: job.numberRecordsProcessed,
      numberRecordsFailed: job.numberRecordsFailed,
      totalProcessingTime: job.totalProcessingTime,
      apiActiveProcessingTime: job.totalProcessingTime,
      apexProcessingTime: 0,
    });
  }
  return info;
}

/** POST /jobs/ingest */
export const createIngestJob: Handler = async (ctx, req) => {
  const body = await req.json();
  if (!isObject(body)) throw new ApiError(400, 'INVALIDJOB', 'The request body must be a JSON object.');
  const operation = OPERATIONS.find((o) => o === body.operation);
  if (!operation) {
    throw new ApiError(
      400,
      'INVALIDJOB',
      `Invalid operation: ${String(body.operation)}. Use one of ${OPERATIONS.join(', ')}.`,
    );
  }
  const def = typeof body.object === 'string' ? ctx.org.findObject(body.object) : undefined;
  if (!def) throw new ApiError(400, 'INVALIDJOB', `Unable to find object: ${String(body.object)}`);
  let externalIdFieldName: string | undefined;
  if (operation === 'upsert') {
    const name = body.externalIdFieldName;
    const field =
      typeof name === 'string'
        ? def.fields.find((f) => f.name.toLowerCase() === name.toLowerCase())
        : undefined;
    if (!field || !(field.externalId || field.idLookup || field.name === 'Id')) {
      throw new ApiError(
        400,
        'INVALIDJOB',
        `InvalidJob : Field name provided, ${String(name)} is not an External ID or indexed field for ${def.name}`,
      );
    }
    externalIdFieldName = field.name;
  }
  if (body.contentType !== undefined && body.contentType !== 'CSV') {
    throw new ApiError(
      400,
      'INVALIDJOB',
      `Invalid contentType: ${String(body.contentType)}. Only CSV is supported.`,
    );
  }
  const { names, dialect } = dialectOf(body.columnDelimiter, body.lineEnding);
  const now = jobTimestamp(ctx.org.now());
  const job: IngestJob = {
    kind: 'ingest',
    id: ctx.bulk.nextId(),
    operation,
    object: def.name,
    externalIdFieldName,
    createdById: ctx.org.user.id,
    createdDate: now,
    systemModstamp: now,
    state: 'Open',
    apiVersion: req.version,
    columnDelimiter: names[0],
    lineEnding: names[1],
    dialect,
    uploads: [],
    header: [],
    rows: [],
    results: [],
    numberRecordsProcessed: 0,
    numberRecordsFailed: 0,
    totalProcessingTime: 0,
    failOnProcess: ctx.faults.rollBulkFail('bulk-ingest'),
  };
  ctx.bulk.ingest.set(job.id, job);
  return { status: 200, body: ingestJobInfo(job, false) };
};

/** GET /jobs/ingest */
export const listIngestJobs: Handler = async (ctx) => ({
  status: 200,
  body: {
    done: true,
    records: [...ctx.bulk.ingest.values()].map((j) => ingestJobInfo(j, false)),
    nextRecordsUrl: null,
  },
});

/** GET /jobs/ingest/{id} */
export const getIngestJob: Handler = async (ctx, req) => ({
  status: 200,
  body: ingestJobInfo(ctx.bulk.ingestJob(req.params[0]!), true),
});

/** PUT /jobs/ingest/{id}/batches: the job's CSV data. */
export const uploadIngestData: Handler = async (ctx, req) => {
  const job = ctx.bulk.ingestJob(req.params[0]!);
  if (job.state !== 'Open') {
    throw new ApiError(
      400,
      'INVALIDJOBSTATE',
      `Job ${job.id} is ${job.state}; data can only be uploaded while it is Open.`,
    );
  }
  const data = await req.body();
  if (data.length === 0) throw new ApiError(400, 'INVALIDJOB', 'The uploaded CSV data is empty.');
  job.uploads.push(data);
  return { status: 201, text: '', headers: { 'content-type': 'text/plain' } };
};

/** DELETE /jobs/ingest/{id} */
export const deleteIngestJob: Handler = async (ctx, req) => {
  const job = ctx.bulk.ingestJob(req.params[0]!);
  if (job.state === 'UploadComplete' || job.state === 'InProgress') {
    throw new ApiError(400, 'INVALIDJOBSTATE', `Job ${job.id} is ${job.state}; abort it before deleting it.`);
  }
  ctx.bulk.ingest.delete(job.id);
  return { status: 204 };
};

function parseUploads(job: IngestJob): void {
  for (const upload of job.uploads) {
    let records: string[][];
    try {
      records = parse(upload, {
        delimiter: job.dialect.columnDelimiter,
        record_delimiter: job.dialect.lineEnding,
        relax_column_count: false,
        bom: true,
      }) as string[][];
    } catch (error) {
      throw new ApiError(
        400,
        'INVALIDJOB',
        `ClientInputError : the CSV data cannot be parsed: ${(error as Error).message}`,
      );
    }
    const [header, ...rows] = records;
    if (!header) continue;
    if (job.header.length === 0) job.header = header;
    else if (header.join('\u0000') !== job.header.join('\u0000')) {
      throw new ApiError(
        400,
        'INVALIDJOB',
        'ClientInputError : every upload of a job must have the same header row.',
      );
    }
    job.rows.push(...rows);
  }
  job.uploads = [];
}

function errorText(error: unknown): string {
  if (error instanceof SalesforceError)
    return `${error.errorCode}:${error.message}:${error.fields.join(',')} --`;
  if (error instanceof ApiError) return `${error.errorCode}:${error.message}: --`;
  return `UNKNOWN_EXCEPTION:${error instanceof Error ? error.message : String(error)}: --`;
}

function rowValues(
  header: readonly string[],
  row: readonly string[],
  skip: string | undefined,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) {
    const name = header[i]!;
    const cell = row[i] ?? '';
    if (name === skip || cell === '') continue;
    values[name] = cell === '#N/A' ? null : cell;
  }
  return values;
}

function processRow(ctx: EmulatorContext, job: IngestJob, index: number): IngestRowResult {
  const row = job.rows[index]!;
  const idColumn = job.header.findIndex((h) => h.toLowerCase() === 'id');
  const idValue = idColumn >= 0 ? (row[idColumn] ?? '') : '';
  try {
    switch (job.operation) {
      case 'insert':
        return {
          row: index,
          id: ctx.org.insert(job.object, rowValues(job.header, row, undefined)),
          created: true,
        };
      case 'update':
        if (idValue === '')
          throw new SalesforceError('MISSING_ARGUMENT', 'Id not specified in an update call', {
            fields: ['Id'],
          });
        ctx.org.update(job.object, idValue, rowValues(job.header, row, job.header[idColumn]));
        return { row: index, id: idValue, created: false };
      case 'upsert': {
        const extName = job.externalIdFieldName!;
        const extColumn = job.header.findIndex((h) => h.toLowerCase() === extName.toLowerCase());
        const extValue = extColumn >= 0 ? (row[extColumn] ?? '') : '';
        if (extValue === '') {
          throw new SalesforceError('MISSING_ARGUMENT', `${extName} not specified`, { fields: [extName] });
        }
        const values = rowValues(
          job.header,
          row,
          extName.toLowerCase() === 'id' ? job.header[extColumn] : undefined,
        );
        const result = ctx.org.upsert(job.object, extName, extValue, values);
        return { row: index, id: result.id, created: result.created };
      }
      default: {
        if (idValue === '')
          throw new SalesforceError('MISSING_ARGUMENT', 'Id not specified in a delete call', {
            fields: ['Id'],
          });
        const [result] =
          job.operation === 'delete' ? ctx.org.delete([idValue]) : ctx.org.hardDelete([idValue]);
        if (result && !result.success) {
          const first = result.errors[0];
          return {
            row: index,
            id: idValue,
            created: false,
            error: `${first?.errorCode ?? 'UNKNOWN_EXCEPTION'}:${first?.message ?? ''}:${(first?.fields ?? []).join(',')} --`,
          };
        }
        return { row: index, id: idValue, created: false };
      }
    }
  } catch (error) {
    return {
      row: index,
      id: job.operation === 'insert' ? '' : idValue,
      created: false,
      error: errorText(error),
    };
  }
}

function process(ctx: EmulatorContext, job: IngestJob): void {
  const started = Date.now();
  const step = (from: number) => {
    if (from === 0 && job.state === 'UploadComplete') job.state = 'InProgress';
    if (job.state !== 'InProgress') return;
    if (job.failOnProcess) {
      job.state = 'Failed';
      job.errorMessage = 'InternalServerError : An internal server error occurred while processing the job.';
      job.systemModstamp = jobTimestamp(ctx.org.now());
      return;
    }
    const to = Math.min(job.rows.length, from + ROWS_PER_TURN);
    // Salesforce processes ingest data in chunks of 200 records, each chunk one transaction.
    for (let chunk = from; chunk < to; chunk += ROWS_PER_TRANSACTION) {
      const end = Math.min(to, chunk + ROWS_PER_TRANSACTION);
      ctx.org.cdc.capture.transaction(`com/salesforce/api/bulkapi/${job.apiVersion}`, () => {
        for (let i = chunk; i < end; i++) {
          const result = processRow(ctx, job, i);
          job.results.push(result);
          job.numberRecordsProcessed++;
          if (result.error !== undefined) job.numberRecordsFailed++;
        }
      });
    }
    job.totalProcessingTime = Date.now() - started;
    job.systemModstamp = jobTimestamp(ctx.org.now());
    // A `row-time` cost: the org spends that long per row before it goes on (or completes).
    const pause = (to - from) * ctx.faults.rowTimeMs('bulk-ingest');
    const next = () => {
      if (job.state !== 'InProgress') return;
      if (to < job.rows.length) step(to);
      else job.state = 'JobComplete';
    };
    if (pause > 0) setTimeout(next, pause);
    else if (to < job.rows.length) setImmediate(() => step(to));
    else job.state = 'JobComplete';
  };
  ctx.bulk.schedule(() => step(0));
}

/** PATCH /jobs/ingest/{id}: UploadComplete (starts processing) or Aborted. */
export const patchIngestJob: Handler = async (ctx, req) => {
  const job = ctx.bulk.ingestJob(req.params[0]!);
  const body = await req.json();
  const state = isObject(body) ? body.state : undefined;
  if (state === 'UploadComplete') {
    if (job.state !== 'Open') {
      throw new ApiError(
        400,
        'INVALIDJOBSTATE',
        `Job ${job.id} is ${job.state}; only an Open job can be marked UploadComplete.`,
      );
    }
    parseUploads(job);
    job.state = 'UploadComplete';
    job.systemModstamp = jobTimestamp(ctx.org.now());
    const info = ingestJobInfo(job, false);
    process(ctx, job);
    return { status: 200, body: info };
  }
  if (state === 'Aborted') {
    if (job.state === 'JobComplete' || job.state === 'Failed' || job.state === 'Aborted') {
      throw new ApiError(
        400,
        'INVALIDJOBSTATE',
        `Job ${job.id} is already ${job.state} and cannot be aborted.`,
      );
    }
    if (job.state === 'Open') {
      // Uploaded rows that will never be processed are reported by unprocessedrecords.
      try {
        parseUploads(job);
      } catch {
        job.uploads = [];
      }
    }
    job.state = 'Aborted';
    job.systemModstamp = jobTimestamp(ctx.org.now());
    return { status: 200, body: ingestJobInfo(job, false) };
  }
  throw new ApiError(
    400,
    'INVALIDJOBSTATE',
    `Invalid state: ${String(state)}. Use UploadComplete or Aborted.`,
  );
};

/** GET successfulResults, failedResults and unprocessedrecords of an ingest job, as CSV. */
export const ingestResults: Handler = async (ctx, req, res) => {
  const job = ctx.bulk.ingestJob(req.params[0]!);
  const kind = req.params[1]!;
  const { columnDelimiter: d, lineEnding: nl } = job.dialect;
  const line = (cells: readonly string[]) => cells.map(quote).join(d) + nl;
  let text: string;
  if (kind === 'unprocessedrecords') {
    const processed = new Set(job.results.map((r) => r.row));
    const rows = job.rows.filter((_, i) => !processed.has(i));
    text = job.header.length > 0 ? line(job.header) + rows.map(line).join('') : '';
  } else {
    if (job.state !== 'JobComplete' && job.state !== 'Failed' && job.state !== 'Aborted') {
      throw new ApiError(
        400,
        'INVALIDJOBSTATE',
        `Job ${job.id} is ${job.state}; results are available once it has finished.`,
      );
    }
    const failed = kind === 'failedResults';
    const head = failed ? ['sf__Id', 'sf__Error', ...job.header] : ['sf__Id', 'sf__Created', ...job.header];
    text = line(head);
    for (const result of job.results) {
      if ((result.error !== undefined) !== failed) continue;
      const first = failed ? result.error! : String(result.created);
      text += line([result.id, first, ...job.rows[result.row]!]);
    }
  }
  if (!acceptsGzip(req.raw.headers['accept-encoding'])) {
    ctx.usage.addBulkResultBytesSent(Buffer.byteLength(text));
    return { status: 200, text, headers: { 'content-type': 'text/csv', vary: 'Accept-Encoding' } };
  }
  const body = startCsvBody(req.raw, res, {}, ctx.bulk.gzipLevel);
  await body.end(Buffer.from(text));
  ctx.usage.addBulkResultBytesSent(body.bytesSent);
  return undefined;
};
