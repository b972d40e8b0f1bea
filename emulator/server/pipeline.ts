import { requestSizeRefusal } from './request-size.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SalesforceError } from '../org/api.ts';
import { parseApiJson, readBody } from './body.ts';
import type { EmulatorContext, Reply, Route, RouteRequest } from './context.ts';
import { ApiError, errors, sendApiError, sendJson } from './errors.ts';
import { handleControl } from './control.ts';
import { cutAfter } from './cut.ts';
import { matchRoute } from './routes.ts';
import { soapFault } from './soap-xml.ts';
import { normalisePath } from './paths.ts';

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim();
}

/**
 * The `changeOrigin` of the change events of a request: `com/salesforce/api/<api>/<version>`,
 * with `;client=<id>` when the request names a client in `Sforce-Call-Options`.
 */
export function changeOrigin(route: Route, req: RouteRequest): string {
  const api = route.format === 'soap' ? 'soap' : route.endpoint === 'bulk-ingest' ? 'bulkapi' : 'rest';
  const options = req.raw.headers['sforce-call-options'];
  const client = /(?:^|,)\s*client=([^,]+)/.exec(typeof options === 'string' ? options : '')?.[1]?.trim();
  return `com/salesforce/api/${api}/${req.version}${client ? `;client=${client}` : ''}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof SalesforceError) {
    return new ApiError(error.statusCode, error.errorCode, error.message, [...error.fields]);
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(
    `emulator: unexpected error: ${message}\n${error instanceof Error ? error.stack : ''}\n`,
  );
  return new ApiError(
    500,
    'UNKNOWN_EXCEPTION',
    'An unexpected error occurred. Please include this ErrorId if you contact support: 0000000000-0 (0)',
  );
}

function sendError(res: ServerResponse, route: Route | undefined, error: ApiError): void {
  if (route?.format === 'soap') {
    const xml = soapFault(error.errorCode, error.message);
    if (res.headersSent) return void res.end();
    res.writeHead(error.status === 401 ? 500 : Math.max(error.status, 500), {
      'content-type': 'text/xml;charset=UTF-8',
      'content-length': Buffer.byteLength(xml),
    });
    res.end(xml);
  } else if (route?.format === 'oauth') {
    sendJson(res, error.status, { error: error.errorCode, error_description: error.message });
  } else {
    sendApiError(res, error);
  }
}

function sendReply(res: ServerResponse, reply: Reply): void {
  if (reply.text !== undefined) {
    res.writeHead(reply.status, { 'content-length': Buffer.byteLength(reply.text), ...reply.headers });
    res.end(reply.text);
    return;
  }
  sendJson(res, reply.status, reply.body, reply.headers);
}

const FAULT_ERRORS: Record<string, () => ApiError> = {
  'rate-limit': errors.limitExceeded,
  '500': () =>
    new ApiError(
      500,
      'UNKNOWN_EXCEPTION',
      'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-1 (-1)',
    ),
  '503': () => new ApiError(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable; retry later.'),
  'expired-session': errors.invalidSession,
};

/** Handles one HTTP request end to end: routing, auth, allowance, faults, the handler, errors. */
export async function handleRequest(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const tooLarge = requestSizeRefusal(req);
  if (tooLarge) {
    res.writeHead(tooLarge.status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    res.end(tooLarge.text);
    return;
  }
  // Collapse slashes before parsing: `//services/...` would otherwise read as a host name.
  const url = new URL((req.url ?? '/').replace(/^\/{2,}/, '/'), 'http://emulator.invalid');
  const path = normalisePath(url.pathname);
  const method = (req.method ?? 'GET').toUpperCase();
  let route: Route | undefined;
  try {
    if (path.startsWith('/__emulator/') || path === '/__emulator') {
      const reply = await handleControl(ctx, method, path, url.searchParams, req, res);
      if (reply) sendReply(res, reply);
      return;
    }
    const match = matchRoute(ctx, method, path);
    if (!match) throw errors.notFound();
    if ('notAllowed' in match) throw errors.methodNotAllowed(method, match.notAllowed);
    route = match.route;
    const decision = route.endpoint ? ctx.faults.decide(route.endpoint) : { latencyMs: 0 };
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    let bodyPromise: Promise<Buffer> | undefined;
    const body = () => {
      bodyPromise ??= readBody(req);
      return bodyPromise;
    };
    const request: RouteRequest = {
      method,
      path,
      query: url.searchParams,
      params: match.params,
      version: match.version,
      raw: req,
      body,
      json: async () => parseApiJson(await body()),
    };
    if (route.auth === 'bearer') {
      const token = bearerToken(req);
      if (!token || !ctx.sessions.find(token)) throw errors.invalidSession();
    }
    if (route.counted && route.endpoint) {
      if (!ctx.usage.take(route.endpoint)) throw errors.limitExceeded();
      // Salesforce reports usage on every REST response; jsforce exposes it as limitInfo.
      res.setHeader(
        'sforce-limit-info',
        `api-usage=${ctx.usage.apiRequestsUsed}/${ctx.usage.dailyAllowance}`,
      );
    }
    if (decision.answer) throw FAULT_ERRORS[decision.answer]!();
    if (decision.cutAfter !== undefined) cutAfter(res, decision.cutAfter);
    const handler = route.handler;
    // A `row-time` cost is paid for the rows this call wrote, before it answers; Bulk ingest
    // jobs pay theirs while they are processed instead.
    const rowMs =
      route.endpoint && route.endpoint !== 'bulk-ingest' ? ctx.faults.rowTimeMs(route.endpoint) : 0;
    if (rowMs > 0 && method !== 'GET') await body();
    const writtenBefore = rowMs > 0 ? rowsWritten(ctx) : 0;
    // One API call is one transaction: its record changes are published together when it ends.
    const reply = await ctx.org.cdc.capture.transaction(changeOrigin(route, request), () =>
      handler(ctx, request, res),
    );
    if (rowMs > 0) await sleep((rowsWritten(ctx) - writtenBefore) * rowMs);
    if (reply) sendReply(res, reply);
  } catch (error) {
    const apiError = toApiError(error);
    sendError(res, route, apiError);
  }
}

/** Rows the org has written so far (inserted, updated, deleted, undeleted). */
function rowsWritten(ctx: EmulatorContext): number {
  const c = ctx.org.counters;
  return c.inserted + c.updated + c.deleted + c.hardDeleted + c.undeleted;
}
