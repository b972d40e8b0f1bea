import { SalesforceConnection } from './connection.ts';
import type { SalesforceCredentials } from './auth.ts';
import { translateNetworkError, translateSoapFault } from './errors.ts';

/**
 * Reads a whole answer. A connection cut mid-body becomes a transient error: the request may
 * have been carried out, which the restore settles by reconciling, never by sending it again here.
 */
export async function readBody(response: Response, what: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw translateNetworkError(error, what);
  }
}

/**
 * The restore's HTTP face of an org, over the shared connection (sign-in, re-authentication on
 * an expired session, Salesforce's errors as named errors). Writes are never repeated here: a
 * write whose answer was lost is settled by the restore's reconcile, not by sending it twice.
 */
export class SalesforceHttp {
  readonly connection: SalesforceConnection;

  constructor(
    credentials: SalesforceCredentials,
    readonly apiVersion: string,
  ) {
    this.connection = new SalesforceConnection(credentials, apiVersion);
  }

  /** API calls made through this client. */
  get calls(): number {
    return this.connection.apiCalls();
  }

  /** `/services/data/vXX.X` joined with a path. */
  dataPath(path: string): string {
    return this.connection.dataPath(path);
  }

  /** Sends a request and returns the response; error statuses arrive as named errors. */
  send(method: string, path: string, body?: string, contentType = 'application/json'): Promise<Response> {
    return this.connection.request(path, `${method} ${path.split('?')[0]}`, {
      method,
      ...(body !== undefined ? { body, contentType } : {}),
      idempotent: method === 'GET',
    });
  }

  /** Sends JSON through jsforce, returns parsed JSON (undefined for an empty answer); only reads are repeated. */
  json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.connection.json<T>(path, `${method} ${path.split('?')[0]}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      idempotent: method === 'GET',
    });
  }

  /** The session id SOAP calls carry in their header. */
  async sessionId(): Promise<string> {
    return (await this.connection.current()).accessToken;
  }

  /** Posts a SOAP envelope built for the current session and returns the answer; a fault becomes a named error. */
  async soap(path: string, build: (sessionId: string) => string): Promise<string> {
    const response = await this.connection.request(path, `SOAP ${path}`, {
      method: 'POST',
      body: build(await this.sessionId()),
      contentType: 'text/xml; charset=UTF-8',
      accept: 'text/xml',
      headers: { soapaction: '""' },
      acceptStatus: (status) => status === 500,
    });
    const text = await readBody(response, `SOAP ${path}`);
    if (response.status === 500) {
      const code = /<faultcode>(?:[^:<]*:)?([^<]*)<\/faultcode>/.exec(text)?.[1] ?? 'UNKNOWN_EXCEPTION';
      const message = /<faultstring>([^<]*)<\/faultstring>/.exec(text)?.[1] ?? '';
      throw translateSoapFault(code, message, `SOAP ${path}`);
    }
    return text;
  }
}

/** Escapes text for XML. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
