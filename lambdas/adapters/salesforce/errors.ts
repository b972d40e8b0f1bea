import {
  SalesforceAuthError,
  type SalesforceError,
  SalesforceQueryError,
  SalesforceRateLimitError,
  SalesforceRequestError,
  SalesforceSessionExpiredError,
  SalesforceTransientError,
} from '../../core/salesforce.ts';
import { TransportFailure } from './transport.ts';
import { describeUnreachable } from './unreachable.ts';

const QUERY_CODES = new Set([
  'MALFORMED_QUERY',
  'INVALID_FIELD',
  'INVALID_TYPE',
  'INVALID_QUERY_FILTER_OPERATOR',
  'INVALID_QUERY_LOCATOR',
  'QUERY_TIMEOUT',
]);
// Answers to a call Salesforce could not serve just then, as REST codes and as SOAP fault codes
// (`sf:SERVER_UNAVAILABLE`): the same call may succeed later.
const TRANSIENT_CODES = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'QUERY_TIMEOUT',
  'UNKNOWN_EXCEPTION',
  'REQUEST_RUNNING_TOO_LONG',
]);

/** The first `{errorCode, message}` of a Salesforce error body, if it has one. */
export function parseErrorBody(text: string): { errorCode?: string; message: string } {
  try {
    const json = JSON.parse(text) as unknown;
    const first = Array.isArray(json) ? json[0] : json;
    if (first && typeof first === 'object') {
      const { errorCode, message, error, error_description } = first as Record<string, unknown>;
      if (typeof errorCode === 'string') return { errorCode, message: String(message ?? '') };
      if (typeof error === 'string') return { errorCode: error, message: String(error_description ?? '') };
    }
  } catch {
    // Not JSON: a proxy's HTML page or a cut body; the status decides.
  }
  return { message: text.slice(0, 300) };
}

/** Translates an HTTP error answer into the named error the workflow acts on. The one place that does. */
export function translateHttpError(status: number, bodyText: string, what: string): SalesforceError {
  const { errorCode, message } = parseErrorBody(bodyText);
  return named(status, errorCode, message, what);
}

/**
 * Translates a failed jsforce call. jsforce names its error after Salesforce's `errorCode` (or
 * `ERROR_HTTP_<status>` with the raw body as message when the body had none), but does not keep the
 * HTTP status, so the transport's `status` comes alongside; without one the call failed below HTTP.
 */
export function translateJsforceError(
  error: unknown,
  status: number | undefined,
  what: string,
): SalesforceError {
  if (error instanceof Error && /^Salesforce/.test(error.name)) return error as SalesforceError;
  let { errorCode, message } = (error ?? {}) as { errorCode?: unknown; message?: unknown };
  // jsforce names an answer of more than one error MULTIPLE_API_ERRORS and keeps them in `data`;
  // the first says what failed, as with a single error.
  const { data } = (error ?? {}) as { data?: unknown };
  if (errorCode === 'MULTIPLE_API_ERRORS' && Array.isArray(data) && data[0] && typeof data[0] === 'object') {
    ({ errorCode, message } = data[0] as { errorCode?: unknown; message?: unknown });
  }
  const text = typeof message === 'string' ? message : '';
  // jsforce names a SOAP fault by its qualified fault code (`sf:INVALID_TYPE`, `soapenv:Server`).
  if (error instanceof Error && typeof errorCode === 'string' && /^[A-Za-z]+:[A-Za-z_]+$/.test(errorCode)) {
    return translateSoapFault(errorCode, text, what);
  }
  // Only the transport's own failure is below HTTP, whatever status a call before it on the same
  // transport left behind; any other error without a code (jsforce refusing a call, a TypeError) is
  // permanent, and repeating it would fail the same way.
  if (error instanceof TransportFailure) return translateNetworkError(error, what);
  if (typeof errorCode !== 'string') {
    const name = error instanceof Error ? error.name : 'Error';
    return new SalesforceRequestError(`${what}: ${name}: ${text.slice(0, 300) || 'the call failed'}`);
  }
  if (status === undefined || status < 400) return translateNetworkError(error, what);
  if (!errorCode.startsWith('ERROR_HTTP_')) {
    return named(status, errorCode, text, what);
  }
  return translateHttpError(status, text, what);
}

function named(
  status: number,
  errorCode: string | undefined,
  message: string,
  what: string,
): SalesforceError {
  const text = `${what}: ${errorCode ? `${errorCode}: ` : ''}${message || `HTTP ${status}`}`;
  if (errorCode === 'INVALID_SESSION_ID' || status === 401)
    return new SalesforceSessionExpiredError(text, errorCode, status);
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED' || status === 429)
    return new SalesforceRateLimitError(text, errorCode, status);
  if (errorCode && QUERY_CODES.has(errorCode) && errorCode !== 'QUERY_TIMEOUT') {
    return new SalesforceQueryError(text, errorCode, status);
  }
  // SOAP API Developer Guide, StatusCode: EXTERNAL_OBJECT_CONNECTION_EXCEPTION and its kin answer
  // when the external data source behind an external object cannot be reached or fails: it may
  // answer on a later try, so the workflow retries.
  if (
    status >= 500 ||
    (errorCode && (TRANSIENT_CODES.has(errorCode) || errorCode.startsWith('EXTERNAL_OBJECT_')))
  ) {
    return new SalesforceTransientError(text, errorCode, status);
  }
  return new SalesforceRequestError(text, errorCode, status);
}

/** Translates a SOAP fault (`sf:INVALID_SESSION_ID`, ...) into a named error. */
export function translateSoapFault(faultCode: string, faultString: string, what: string): SalesforceError {
  const code = faultCode.replace(/^.*:/, '');
  const text = `${what}: ${code}: ${faultString}`;
  if (code === 'INVALID_SESSION_ID') return new SalesforceSessionExpiredError(text, code, 500);
  if (code === 'REQUEST_LIMIT_EXCEEDED') return new SalesforceRateLimitError(text, code, 500);
  if (code === 'Server' || TRANSIENT_CODES.has(code)) return new SalesforceTransientError(text, code, 500);
  return new SalesforceRequestError(text, code, 500);
}

/**
 * Translates a failure below HTTP (reset, refused, cut body) into a transient error. With the
 * request's `url`, a failure to reach the org at all says why and what to check.
 */
export function translateNetworkError(error: unknown, what: string, url?: string): SalesforceError {
  if (error instanceof Error && /^Salesforce/.test(error.name)) return error as SalesforceError;
  const unreachable = url === undefined ? undefined : describeUnreachable(url, error);
  const cause =
    unreachable ??
    (error instanceof TransportFailure
      ? error.message
      : error instanceof Error
        ? ((error.cause as Error | undefined)?.message ?? error.message)
        : String(error));
  return new SalesforceTransientError(
    `${what}: the connection failed (${cause}); the request can be repeated.`,
  );
}

/** Translates an OAuth token endpoint refusal. */
export function translateAuthError(status: number, bodyText: string): SalesforceError {
  if (status >= 500) return translateHttpError(status, bodyText, 'OAuth token request');
  const { errorCode, message } = parseErrorBody(bodyText);
  return new SalesforceAuthError(
    `Salesforce refused the credentials (${errorCode ?? `HTTP ${status}`}: ${message}). Check the org's secret: client id, username, certificate or client secret, and the login URL.`,
    errorCode,
    status,
  );
}

/** Translates a refusal from jsforce's OAuth2 token request (its error is named after the OAuth `error`). */
export function translateJsforceAuthError(error: unknown, status: number | undefined): SalesforceError {
  if (status === undefined || status < 400) return translateNetworkError(error, 'OAuth token request');
  const { name, message } = error as { name?: unknown; message?: unknown };
  const code = typeof name === 'string' && !name.startsWith('ERROR_HTTP_') ? name : undefined;
  const body = code
    ? JSON.stringify({ error: code, error_description: String(message ?? '') })
    : String(message ?? '');
  return translateAuthError(status, body);
}
