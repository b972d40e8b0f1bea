import type { ServerResponse } from 'node:http';

/** An error answered to the client as Salesforce's `[{"errorCode","message"}]` body. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }
}

/** Shorthands for the errors Salesforce answers most. */
export const errors = {
  notFound: (what = 'The requested resource does not exist') => new ApiError(404, 'NOT_FOUND', what),
  invalidSession: () => new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid'),
  malformedQuery: (message: string) => new ApiError(400, 'MALFORMED_QUERY', message),
  invalidField: (message: string) => new ApiError(400, 'INVALID_FIELD', message),
  invalidType: (name: string) =>
    new ApiError(
      404,
      'NOT_FOUND',
      `The requested resource does not exist: sObject type '${name}' is not supported.`,
    ),
  badJson: (message: string) => new ApiError(400, 'JSON_PARSER_ERROR', message),
  methodNotAllowed: (method: string, allowed: string[]) =>
    new ApiError(
      405,
      'METHOD_NOT_ALLOWED',
      `HTTP Method '${method}' not allowed. Allowed are ${allowed.join(',')}`,
    ),
  limitExceeded: () => new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'),
};

/** Writes a JSON body with the given status (no-op when the response was already started). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Writes an ApiError as Salesforce's error array. */
export function sendApiError(res: ServerResponse, error: ApiError): void {
  const item: Record<string, unknown> = { message: error.message, errorCode: error.errorCode };
  if (error.fields.length > 0) item.fields = error.fields;
  sendJson(res, error.status, [item]);
}
