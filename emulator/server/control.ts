import type { IncomingMessage, ServerResponse } from 'node:http';
import { isObject, parseJson, readBody } from './body.ts';
import type { EmulatorContext, Reply } from './context.ts';
import { handleCdcControl } from './cdc-control.ts';
import { ApiError } from './errors.ts';
import { InvalidFaultSpecError, parseFaultSpec } from './faults.ts';

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function invalid(message: string): ApiError {
  return new ApiError(400, 'INVALID_CONTROL_REQUEST', message);
}

async function dump(ctx: EmulatorContext, res: ServerResponse): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
  let chunk = '[';
  let first = true;
  for (const row of ctx.org.dumpRows()) {
    chunk += (first ? '\n' : ',\n') + JSON.stringify(row);
    first = false;
    if (chunk.length >= 64 * 1024) {
      const ok = res.write(chunk);
      chunk = '';
      if (!ok) await new Promise((resolve) => res.once('drain', resolve));
      if (res.destroyed) return;
    }
  }
  res.end(`${chunk}\n]\n`);
}

function counts(ctx: EmulatorContext): Record<string, unknown> {
  return {
    apiRequests: {
      used: ctx.usage.apiRequestsUsed,
      allowance: ctx.usage.dailyAllowance,
      remaining: ctx.usage.remaining,
    },
    byEndpoint: ctx.usage.counts(),
    rowsWritten: { ...ctx.org.counters },
    rows: ctx.org.rowCounts(),
    bulk: {
      queryJobs: ctx.bulk.query.size,
      ingestJobs: ctx.bulk.ingest.size,
      // Query results: the CSV (what Salesforce's results limit counts) and the bytes sent for it.
      resultMegabytes: ctx.usage.bulkQueryMegabytesUsed,
      resultBytesSent: ctx.usage.bulkResultBytesSentTotal,
    },
    // The emulator's own CPU time (every thread of its process), for benchmarks that share its machine.
    process: {
      cpuSeconds: cpuSeconds(),
      // Time its one event loop was busy: every answer is rendered there, one at a time.
      eventLoopBusySeconds: performance.eventLoopUtilization().active / 1000,
    },
  };
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function applySettings(ctx: EmulatorContext, body: Record<string, unknown>): void {
  const known = [
    'setAuditFieldsOnCreate',
    'dailyApiRequests',
    'bulkPageSize',
    'holdBulkJobs',
    'clock',
    'clockOffsetMs',
  ];
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw invalid(`Unknown settings: ${unknown.join(', ')}. Known: ${known.join(', ')}.`);
  if (body.setAuditFieldsOnCreate !== undefined) {
    if (typeof body.setAuditFieldsOnCreate !== 'boolean')
      throw invalid('setAuditFieldsOnCreate must be true or false.');
    ctx.org.settings.setAuditFieldsOnCreate = body.setAuditFieldsOnCreate;
  }
  if (body.dailyApiRequests !== undefined) {
    const n = body.dailyApiRequests;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw invalid('dailyApiRequests must be a non-negative integer.');
    ctx.usage.dailyAllowance = n;
  }
  if (body.bulkPageSize !== undefined) {
    const n = body.bulkPageSize;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
      throw invalid('bulkPageSize must be a positive integer.');
    ctx.bulk.defaultPageSize = n;
  }
  if (body.holdBulkJobs !== undefined) {
    if (typeof body.holdBulkJobs !== 'boolean') throw invalid('holdBulkJobs must be true or false.');
    ctx.bulk.setHold(body.holdBulkJobs);
  }
  if (body.clock !== undefined) {
    if (body.clock === null) ctx.clock.setFixed(undefined);
    else {
      const at = new Date(String(body.clock));
      if (Number.isNaN(at.getTime()))
        throw invalid(`clock must be an ISO-8601 instant or null, got: ${String(body.clock)}`);
      ctx.clock.setFixed(at);
    }
  }
  if (body.clockOffsetMs !== undefined) {
    if (typeof body.clockOffsetMs !== 'number')
      throw invalid('clockOffsetMs must be a number of milliseconds.');
    ctx.clock.setOffset(body.clockOffsetMs);
  }
}

function settingsView(ctx: EmulatorContext): Record<string, unknown> {
  return {
    setAuditFieldsOnCreate: ctx.org.settings.setAuditFieldsOnCreate,
    dailyApiRequests: ctx.usage.dailyAllowance,
    bulkPageSize: ctx.bulk.defaultPageSize,
    holdBulkJobs: ctx.bulk.hold,
    clock: ctx.clock.describe(),
  };
}

/** The control surface under /__emulator/: not part of Salesforce, no token needed. */
export async function handleControl(
  ctx: EmulatorContext,
  method: string,
  path: string,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Reply | undefined> {
  const route = `${method} ${path.slice('/__emulator'.length)}`;
  const jsonBody = async (): Promise<Record<string, unknown>> => {
    const buffer = await readBody(req);
    if (buffer.length === 0) return {};
    const body = parseJson(buffer);
    if (!isObject(body)) throw invalid('The request body must be a JSON object.');
    return body;
  };
  if (route.split(' ')[1]!.startsWith('/cdc')) return handleCdcControl(ctx.org, route, query, jsonBody);
  switch (route) {
    case 'GET /counts':
      return ok(counts(ctx));
    case 'GET /dump':
      await dump(ctx, res);
      return undefined;
    case 'GET /faults':
      return ok({ rules: ctx.faults.list() });
    case 'POST /faults': {
      const body = await jsonBody();
      const spec = body.spec ?? '';
      if (typeof spec !== 'string')
        throw invalid('spec must be a fault spec string, for example "query:503@0.5".');
      try {
        ctx.faults.set(parseFaultSpec(spec));
      } catch (error) {
        if (error instanceof InvalidFaultSpecError) throw invalid(error.message);
        throw error;
      }
      return ok({ rules: ctx.faults.list() });
    }
    case 'POST /reset-counters':
      ctx.usage.reset();
      return ok(counts(ctx));
    case 'GET /settings':
      return ok(settingsView(ctx));
    case 'POST /settings':
      applySettings(ctx, await jsonBody());
      return ok(settingsView(ctx));
    default:
      throw new ApiError(
        404,
        'NOT_FOUND',
        `Unknown control endpoint ${route}. Known: GET counts, GET dump, GET|POST faults, POST reset-counters, GET|POST settings, and the cdc endpoints (GET /__emulator/cdc).`,
      );
  }
}
