import { type QuerySnapshot, SalesforceError } from '../org/api.ts';
import { isObject } from './body.ts';
import { CsvChunkWriter, dialectOf, headerRow } from './bulk-csv.ts';
import { type QueryJob, jobTimestamp } from './bulk-jobs.ts';
import type { EmulatorContext, Handler, RouteRequest } from './context.ts';
import { startCsvBody } from './csv-body.ts';
import { ApiError } from './errors.ts';

const CHUNK_BYTES = 192 * 1024;

/** Job info as Salesforce answers it for a query job. */
export function queryJobInfo(job: QueryJob, full: boolean): Record<string, unknown> {
  const info: Record<string, unknown> = {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: job.createdDate,
    systemModstamp: job.systemModstamp,
    state: job.state,
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: Number(job.apiVersion),
    lineEnding: job.lineEnding,
    columnDelimiter: job.columnDelimiter,
  };
  if (job.errorMessage !== undefined) info.errorMessage = job.errorMessage;
  if (full) {
    info.jobType = 'V2Query';
    info.numberRecordsProcessed = job.numberRecordsProcessed;
    info.retries = 0;
    info.totalProcessingTime = job.totalProcessingTime;
    info.isPkChunkingSupported = true;
  }
  return info;
}

function finish(ctx: EmulatorContext, job: QueryJob, fail: boolean): void {
  ctx.bulk.schedule(() => {
    if (job.state !== 'UploadComplete') return;
    job.state = 'InProgress';
    const started = Date.now();
    if (fail) {
      job.state = 'Failed';
      job.errorMessage =
        'InternalServerError : An internal server error occurred while processing the query job.';
    } else {
      try {
        const snapshot = ctx.org
          .query(job.soql, { includeDeleted: job.operation === 'queryAll', apiVersion: job.apiVersion })
          .snapshot();
        job.numberRecordsProcessed = snapshot.size;
        job.snapshot = snapshot;
        job.state = 'JobComplete';
      } catch (error) {
        job.state = 'Failed';
        job.errorMessage = error instanceof Error ? error.message : String(error);
      }
    }
    job.totalProcessingTime = Date.now() - started;
    job.systemModstamp = jobTimestamp(ctx.org.now());
  });
}

/** POST /jobs/query */
export const createQueryJob: Handler = async (ctx, req) => {
  const body = await req.json();
  if (!isObject(body)) throw new ApiError(400, 'INVALIDJOB', 'The request body must be a JSON object.');
  const operation = body.operation ?? 'query';
  if (operation !== 'query' && operation !== 'queryAll') {
    throw new ApiError(400, 'INVALIDJOB', `Invalid operation: ${String(operation)}. Use query or queryAll.`);
  }
  if (typeof body.query !== 'string' || body.query.trim() === '') {
    throw new ApiError(400, 'INVALIDJOB', 'The query field is required: a SOQL query string.');
  }
  if (body.contentType !== undefined && body.contentType !== 'CSV') {
    throw new ApiError(
      400,
      'INVALIDJOB',
      `Invalid contentType: ${String(body.contentType)}. Only CSV is supported.`,
    );
  }
  const { names, dialect } = dialectOf(body.columnDelimiter, body.lineEnding);
  const cursor = ctx.org.query(body.query, {
    includeDeleted: operation === 'queryAll',
    apiVersion: req.version,
    bulk: true,
  });
  const def = ctx.org.findObject(cursor.info.objectName);
  if (cursor.info.bulkRefusal) {
    throw new ApiError(400, cursor.info.bulkRefusal.errorCode, cursor.info.bulkRefusal.message);
  }
  if (def && !def.bulkQueryable) {
    throw new ApiError(400, 'API_ERROR', `Entity '${def.name}' is not supported by the Bulk API.`);
  }
  const now = jobTimestamp(ctx.org.now());
  const job: QueryJob = {
    kind: 'query',
    id: ctx.bulk.nextId(),
    operation,
    object: cursor.info.objectName,
    soql: body.query,
    createdById: ctx.org.user.id,
    createdDate: now,
    systemModstamp: now,
    state: 'UploadComplete',
    apiVersion: req.version,
    columnDelimiter: names[0],
    lineEnding: names[1],
    dialect,
    numberRecordsProcessed: 0,
    totalProcessingTime: 0,
  };
  ctx.bulk.query.set(job.id, job);
  ctx.usage.addBulkQueryJob();
  const info = queryJobInfo(job, false);
  finish(ctx, job, ctx.faults.rollBulkFail('bulk-query'));
  return { status: 200, body: info };
};

/** GET /jobs/query */
export const listQueryJobs: Handler = async (ctx) => ({
  status: 200,
  body: {
    done: true,
    records: [...ctx.bulk.query.values()].map((j) => queryJobInfo(j, false)),
    nextRecordsUrl: null,
  },
});

/** GET (status) and PATCH (abort) /jobs/query/{id} */
export const abortOrGetQueryJob: Handler = async (ctx, req) => {
  const job = ctx.bulk.queryJob(req.params[0]!);
  if (req.method === 'GET') return { status: 200, body: queryJobInfo(job, true) };
  const body = await req.json();
  if (!isObject(body) || body.state !== 'Aborted') {
    throw new ApiError(400, 'INVALIDJOBSTATE', 'A query job can only be changed to the state Aborted.');
  }
  if (job.state === 'JobComplete' || job.state === 'Failed' || job.state === 'Aborted') {
    throw new ApiError(
      400,
      'INVALIDJOBSTATE',
      `Job ${job.id} is already ${job.state} and cannot be aborted.`,
    );
  }
  job.state = 'Aborted';
  job.systemModstamp = jobTimestamp(ctx.org.now());
  return { status: 200, body: queryJobInfo(job, false) };
};

/** DELETE /jobs/query/{id} */
export const deleteQueryJob: Handler = async (ctx, req) => {
  const job = ctx.bulk.queryJob(req.params[0]!);
  if (job.state === 'UploadComplete' || job.state === 'InProgress') {
    throw new ApiError(400, 'INVALIDJOBSTATE', `Job ${job.id} is ${job.state}; abort it before deleting it.`);
  }
  ctx.bulk.query.delete(job.id);
  return { status: 204 };
};

/** A results locator: the row offset, base64-encoded as Salesforce's are. */
export function encodeLocator(offset: number): string {
  return Buffer.from(String(offset)).toString('base64').replace(/=+$/, '');
}

function decodeLocator(locator: string): number {
  const text = Buffer.from(locator, 'base64').toString('utf8');
  if (!/^[0-9]+$/.test(text)) throw new ApiError(400, 'INVALIDLOCATOR', `Invalid locator: ${locator}`);
  return Number(text);
}

/** The query job of the request, checked readable: the version it was created with, JobComplete. */
function completedJob(ctx: EmulatorContext, req: RouteRequest): { job: QueryJob; snapshot: QuerySnapshot } {
  const job = ctx.bulk.queryJob(req.params[0]!);
  if (req.version !== job.apiVersion) {
    // Salesforce documents the 409 status ("Get Results for a Query Job", "Get Parallel Results
    // for a Query Job") but not its error code; INVALIDJOB is the emulator's.
    throw new ApiError(
      409,
      'INVALIDJOB',
      `Job ${job.id} was created with API version ${job.apiVersion}; read its results with /services/data/v${job.apiVersion}/ instead of v${req.version}.`,
    );
  }
  const snapshot = job.snapshot;
  if (job.state !== 'JobComplete' || !snapshot) {
    throw new ApiError(
      400,
      'INVALIDJOBSTATE',
      `Job ${job.id} is ${job.state}; results are available once it is JobComplete.`,
    );
  }
  return { job, snapshot };
}

/** GET /jobs/query/{id}/results: one page of CSV, streamed from the job's snapshot. */
export const queryJobResults: Handler = async (ctx, req, res) => {
  const { job, snapshot } = completedJob(ctx, req);
  const maxText = req.query.get('maxRecords');
  let pageSize = ctx.bulk.defaultPageSize;
  if (maxText !== null) {
    pageSize = Number(maxText);
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new ApiError(400, 'INVALIDJOB', `maxRecords must be a positive integer, got: ${maxText}`);
    }
  }
  const locator = req.query.get('locator');
  const offset = locator && locator !== 'null' ? decodeLocator(locator) : 0;
  const total = job.numberRecordsProcessed;
  if (offset > total) throw new ApiError(400, 'INVALIDLOCATOR', `Invalid locator: ${locator}`);
  const end = Math.min(total, offset + pageSize);
  const body = startCsvBody(
    req.raw,
    res,
    {
      'sforce-locator': end < total ? encodeLocator(end) : 'null',
      'sforce-numberofrecords': String(end - offset),
    },
    ctx.bulk.gzipLevel,
  );
  const writer = new CsvChunkWriter(snapshot.columns, job.dialect);
  writer.text(headerRow(snapshot.columns, job.dialect));
  let bytes = 0;
  try {
    for (const values of snapshot.rows(offset, end)) {
      writer.row(values);
      if (writer.size >= CHUNK_BYTES) {
        const chunk = writer.take();
        bytes += chunk.length;
        if (!(await body.write(chunk))) break;
      }
    }
    const last = writer.take();
    bytes += last.length;
    await body.end(last);
  } catch (error) {
    if (error instanceof SalesforceError) job.errorMessage = error.message;
    res.destroy(error instanceof Error ? error : undefined);
  } finally {
    // Salesforce's results limit counts the CSV itself, however it travels.
    ctx.usage.addBulkQueryBytes(bytes);
    ctx.usage.addBulkResultBytesSent(body.bytesSent);
  }
  return undefined;
};

/** How many result URLs one resultPages answer lists at most ("Get Parallel Results for a Query Job"). */
export const RESULT_PAGES_PER_ANSWER = 5;

/**
 * GET /jobs/query/{id}/resultPages (API 58.0+): up to five results URLs, one per page of the
 * default page size, in order; each fetches exactly what the plain results call would at that
 * locator. The first page's URL has no locator, as the first plain results call has none.
 */
export const queryJobResultPages: Handler = async (ctx, req) => {
  const { job } = completedJob(ctx, req);
  const total = job.numberRecordsProcessed;
  const locator = req.query.get('locator');
  const start = locator === null ? 0 : decodeLocator(locator);
  if (start !== 0 && start >= total) {
    throw new ApiError(400, 'INVALIDLOCATOR', `Invalid locator: ${locator}`);
  }
  const pageSize = ctx.bulk.defaultPageSize;
  const base = `/services/data/v${req.version}/jobs/query/${job.id}`;
  const resultPages: { resultUrl: string }[] = [];
  let offset = start;
  do {
    const query = offset === 0 ? '' : `?locator=${encodeLocator(offset)}`;
    resultPages.push({ resultUrl: `${base}/results${query}` });
    offset += pageSize;
  } while (offset < total && resultPages.length < RESULT_PAGES_PER_ANSWER);
  const done = offset >= total;
  return {
    status: 200,
    body: {
      resultPages,
      nextRecordsUrl: done ? null : `${base}/resultPages?locator=${encodeLocator(offset)}`,
      done,
    },
  };
};
