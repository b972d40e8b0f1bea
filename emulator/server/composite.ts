import type { IncomingMessage } from 'node:http';
import { SalesforceError } from '../org/api.ts';
import { isObject } from './body.ts';
import type { EmulatorContext, Handler, RouteMatcher, RouteRequest } from './context.ts';
import { ApiError } from './errors.ts';
import { normalisePath } from './paths.ts';

const MAX_SUBREQUESTS = 25;

interface SubResult {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
}

const HALTED = {
  errorCode: 'PROCESSING_HALTED',
  message: 'The transaction was rolled back since another operation in the same transaction failed.',
};

/** Reads `ref.path[0].field` out of an earlier subrequest's body. */
function lookup(results: Map<string, SubResult>, expression: string): unknown {
  const [refId, ...rest] = expression.split('.');
  let value: unknown = results.get(refId!)?.body;
  for (const part of rest.join('.').split('.')) {
    if (part === '') continue;
    const m = /^([^[\]]+)((?:\[[0-9]+\])*)$/.exec(part);
    if (!m) return undefined;
    value = isObject(value) ? value[m[1]!] : undefined;
    for (const index of m[2]!.match(/[0-9]+/g) ?? [])
      value = Array.isArray(value) ? value[Number(index)] : undefined;
  }
  return value;
}

function resolve(text: string, results: Map<string, SubResult>): string {
  return text.replace(/@\{([^}]+)\}/g, (_, expression: string) => {
    const value = lookup(results, expression);
    if (value === undefined || value === null || typeof value === 'object') {
      throw new ApiError(
        400,
        'PROCESSING_HALTED',
        `Invalid reference specified. No value for ${expression} found in ${expression.split('.')[0]}. Provided referenceId ('${expression.split('.')[0]}') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_').`,
      );
    }
    return String(value);
  });
}

function resolveDeep(value: unknown, results: Map<string, SubResult>): unknown {
  if (typeof value === 'string') return resolve(value, results);
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, results));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v, results)]));
  return value;
}

function errorBody(error: unknown): { status: number; body: unknown } {
  if (error instanceof ApiError)
    return { status: error.status, body: [{ errorCode: error.errorCode, message: error.message }] };
  if (error instanceof SalesforceError) {
    return {
      status: error.statusCode,
      body: [{ errorCode: error.errorCode, message: error.message, fields: [...error.fields] }],
    };
  }
  return { status: 500, body: [{ errorCode: 'UNKNOWN_EXCEPTION', message: String(error) }] };
}

/** Undoes a successful subrequest when an allOrNone composite fails. */
type Undo = () => void;

async function runOne(
  matchRoute: RouteMatcher,
  ctx: EmulatorContext,
  raw: IncomingMessage,
  sub: Record<string, unknown>,
  results: Map<string, SubResult>,
  undos: Undo[],
): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
  const method = String(sub.method ?? 'GET').toUpperCase();
  const url = new URL(resolve(String(sub.url ?? ''), results), 'http://emulator.invalid');
  const path = normalisePath(url.pathname);
  const body = sub.body === undefined ? undefined : resolveDeep(sub.body, results);
  const match = matchRoute(ctx, method, path);
  if (!match || 'notAllowed' in match || match.route.scope !== 'data') {
    throw new ApiError(404, 'NOT_FOUND', `The requested resource does not exist: ${method} ${path}`);
  }
  const { route } = match;
  if (
    ['composite', 'tree', 'bulk-query', 'bulk-results', 'bulk-result-pages', 'bulk-ingest', 'blob'].includes(
      route.endpoint ?? '',
    )
  ) {
    throw new ApiError(400, 'INVALID_API_INPUT', `${path} is not supported in a composite request.`);
  }
  const buffer = Buffer.from(body === undefined ? '' : JSON.stringify(body));
  const request: RouteRequest = {
    method,
    path,
    query: url.searchParams,
    params: match.params,
    version: match.version,
    raw,
    body: async () => buffer,
    json: async () => body,
  };
  // Journal enough to undo the common writes if the whole request must roll back.
  const [objectName, id] = [match.params[0], match.params[1]];
  let before: Record<string, unknown> | undefined;
  if (
    method === 'PATCH' &&
    objectName &&
    id &&
    isObject(body) &&
    route.endpoint === 'sobject' &&
    /^[a-zA-Z0-9]{15,18}$/.test(id)
  ) {
    const keys = Object.keys(body).filter((k) => k !== 'attributes');
    const record = ctx.org.retrieve(objectName, id, keys);
    before = Object.fromEntries(keys.map((k) => [k, record[k] ?? null]));
  }
  const reply = await route.handler(ctx, request, undefined as never);
  if (!reply)
    throw new ApiError(400, 'INVALID_API_INPUT', `${path} is not supported in a composite request.`);
  const headers: Record<string, string> = {};
  if (
    route.endpoint === 'sobject' &&
    method === 'POST' &&
    isObject(reply.body) &&
    typeof reply.body.id === 'string'
  ) {
    const newId = reply.body.id;
    headers.Location = `/services/data/v${match.version}/sobjects/${objectName}/${newId}`;
    undos.push(() => ctx.org.discardInserted([newId]));
  } else if (before && objectName && id) {
    const saved = before;
    undos.push(() => ctx.org.update(objectName, id, saved));
  } else if (method === 'DELETE' && route.endpoint === 'sobject' && id) {
    undos.push(() => void ctx.org.undelete([id]));
  }
  return { status: reply.status, body: reply.body ?? null, headers };
}

/**
 * POST /composite: up to 25 subrequests in one call, with `@{ref.field}` references. The route
 * table hands in its own matcher, which routes each subrequest: importing it here would make the
 * table and this handler import each other.
 */
export function compositeHandler(matchRoute: RouteMatcher): Handler {
  return (ctx, req) => composite(matchRoute, ctx, req);
}

async function composite(
  matchRoute: RouteMatcher,
  ctx: EmulatorContext,
  req: RouteRequest,
): ReturnType<Handler> {
  const payload = await req.json();
  if (!isObject(payload) || !Array.isArray(payload.compositeRequest)) {
    throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must be {"compositeRequest": [...]}.');
  }
  const subs = payload.compositeRequest;
  if (subs.length > MAX_SUBREQUESTS) {
    throw new ApiError(
      400,
      'LIMIT_EXCEEDED',
      `Composite request may contain at most ${MAX_SUBREQUESTS} subrequests; got ${subs.length}.`,
    );
  }
  const allOrNone = payload.allOrNone === true;
  const results = new Map<string, SubResult>();
  const ordered: SubResult[] = [];
  const undos: Undo[] = [];
  let failed = false;
  for (const raw of subs) {
    const sub = isObject(raw) ? raw : {};
    const referenceId = String(sub.referenceId ?? '');
    if (!/^[A-Za-z0-9][A-Za-z0-9_]*$/.test(referenceId) || results.has(referenceId)) {
      throw new ApiError(
        400,
        'INVALID_INPUT',
        `Invalid or duplicate referenceId: '${referenceId}'. Each subrequest needs a unique referenceId of letters, numbers and underscores.`,
      );
    }
    let result: SubResult;
    if (failed && allOrNone) {
      result = { body: [HALTED], httpHeaders: {}, httpStatusCode: 400, referenceId };
    } else {
      try {
        const out = await runOne(matchRoute, ctx, req.raw, sub, results, undos);
        result = { body: out.body, httpHeaders: out.headers, httpStatusCode: out.status, referenceId };
        if (out.status >= 400) failed = true;
      } catch (error) {
        const { status, body } = errorBody(error);
        result = { body, httpHeaders: {}, httpStatusCode: status, referenceId };
        failed = true;
      }
    }
    results.set(referenceId, result);
    ordered.push(result);
  }
  if (failed && allOrNone) {
    for (const undo of undos.reverse()) undo();
    // Salesforce rolls the whole request back: nothing it did publishes a change event.
    ctx.org.cdc.capture.rollback();
    for (const result of ordered) {
      if (result.httpStatusCode < 400)
        Object.assign(result, { body: [HALTED], httpHeaders: {}, httpStatusCode: 400 });
    }
  }
  return { status: 200, body: { compositeResponse: ordered } };
}
