import {
  type SalesforceError,
  SalesforceRateLimitError,
  SalesforceRequestError,
  SalesforceSessionExpiredError,
  SalesforceTransientError,
} from '../../core/salesforce.ts';

/** Where and as whom the restore writes. */
export interface WriterSession {
  readonly instanceUrl: string;
  readonly accessToken: string;
  /** API version such as `62.0`. */
  readonly apiVersion: string;
}

/** A small HTTP client for the org: JSON in and out, Salesforce's errors as named errors. */
export class SalesforceHttp {
  /** API calls made through this client. */
  calls = 0;

  constructor(readonly session: WriterSession) {}

  /** `/services/data/vXX.X` joined with a path. */
  dataPath(path: string): string {
    return `/services/data/v${this.session.apiVersion}${path}`;
  }

  /** Sends a request and returns the raw response, having translated any error status. */
  async send(
    method: string,
    path: string,
    body?: string,
    contentType = 'application/json',
  ): Promise<Response> {
    this.calls += 1;
    let response: Response;
    try {
      response = await fetch(`${this.session.instanceUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.session.accessToken}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': contentType } : {}),
        },
        ...(body !== undefined ? { body } : {}),
      });
    } catch (error) {
      throw new SalesforceTransientError(`${method} ${pathOnly(path)} failed: ${(error as Error).message}`);
    }
    if (response.status >= 400) throw await translate(method, path, response);
    return response;
  }

  /** Sends JSON, returns parsed JSON (undefined for 204). */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Sends a SOAP envelope and returns the response XML (a SOAP fault becomes a named error). */
  async soap(path: string, envelope: string): Promise<string> {
    this.calls += 1;
    let response: Response;
    try {
      response = await fetch(`${this.session.instanceUrl.replace(/\/$/, '')}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: '""' },
        body: envelope,
      });
    } catch (error) {
      throw new SalesforceTransientError(`SOAP ${pathOnly(path)} failed: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (response.status >= 400) {
      const code = /<faultcode>(?:[^:<]*:)?([^<]*)<\/faultcode>/.exec(text)?.[1] ?? `HTTP_${response.status}`;
      const message = /<faultstring>([^<]*)<\/faultstring>/.exec(text)?.[1] ?? text.slice(0, 200);
      throw errorFor(code, `SOAP ${pathOnly(path)}: ${code}: ${message}`, response.status);
    }
    return text;
  }
}

function pathOnly(path: string): string {
  return path.split('?')[0] ?? path;
}

async function translate(method: string, path: string, response: Response): Promise<SalesforceError> {
  const text = await response.text().catch(() => '');
  let code = `HTTP_${response.status}`;
  let message = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as
      | { errorCode?: string; message?: string }[]
      | { errorCode?: string; message?: string };
    const first = Array.isArray(body) ? body[0] : body;
    if (first?.errorCode) code = first.errorCode;
    if (first?.message) message = first.message;
  } catch {
    // Not JSON: keep the status and the start of the body.
  }
  return errorFor(code, `${method} ${pathOnly(path)}: ${code}: ${message}`, response.status);
}

function errorFor(code: string, message: string, status: number): SalesforceError {
  if (code === 'INVALID_SESSION_ID' || status === 401)
    return new SalesforceSessionExpiredError(message, code, status);
  if (code === 'REQUEST_LIMIT_EXCEEDED' || status === 429)
    return new SalesforceRateLimitError(message, code, status);
  if (status >= 500 || code === 'UNABLE_TO_LOCK_ROW' || code === 'SERVER_UNAVAILABLE') {
    return new SalesforceTransientError(message, code, status);
  }
  return new SalesforceRequestError(message, code, status);
}

/** Escapes text for XML. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
