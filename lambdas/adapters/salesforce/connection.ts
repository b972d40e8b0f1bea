// jsforce's APIs register themselves on Connection (`conn.bulk2`, `conn.metadata`, `conn.soap`) when loaded.
import 'jsforce/lib/api/bulk2.js';
import 'jsforce/lib/api/metadata.js';
import 'jsforce/lib/api/soap.js';
import { Connection } from 'jsforce/lib/connection.js';
import type { HttpMethods } from 'jsforce/lib/types/common.js';
import {
  type SalesforceError,
  SalesforceSessionExpiredError,
  SalesforceTransientError,
} from '../../core/salesforce.ts';
import { authenticate, type SalesforceCredentials, type SalesforceSession } from './auth.ts';
import { translateHttpError, translateJsforceError, translateNetworkError } from './errors.ts';
import { rawGet } from './raw-get.ts';
import { FetchTransport, withAnswerLimit } from './transport.ts';

/** Options of one request. */
export interface RequestOptions {
  readonly method?: string;
  readonly body?: string;
  readonly contentType?: string;
  readonly accept?: string;
  /** Extra headers (e.g. SOAPAction). */
  readonly headers?: Record<string, string>;
  /** Safe to send again after a transient failure (reads, and writes that change nothing). */
  readonly idempotent?: boolean;
  /**
   * A GET whose successful body is handed over as sent, not decoded: with `Accept-Encoding: gzip`,
   * a compressed answer stays compressed (its `Content-Encoding` says so).
   */
  readonly raw?: boolean;
}

const RETRY_DELAYS_MS = [250, 1000];

/** Salesforce refused the session: 401 over REST, a 500 INVALID_SESSION_ID fault over SOAP. */
function sessionRefused(status: number, body: string): boolean {
  return status === 401 || (status === 500 && /<faultcode>[^<]*INVALID_SESSION_ID<\/faultcode>/.test(body));
}

/**
 * One signed-in connection to an org, over a jsforce `Connection`: counts every API call, renews the
 * session through jsforce's refresh mechanism when Salesforce says it expired, and repeats
 * idempotent requests briefly after a transient failure. Longer outages are left to the workflow's
 * Retry with backoff.
 */
export class SalesforceConnection {
  private opening: Promise<Connection> | undefined;
  private calls = 0;
  // Set by a refresh, cleared by any answer that is not 401: a second refresh with no success
  // between means the renewed session is refused too, which jsforce alone would retry forever.
  private refreshedWithoutSuccess = false;
  private refreshFailure: SalesforceError | undefined;
  // The transport of jsforce's own APIs (SOAP, Metadata), whose last status names their errors.
  private shared: FetchTransport | undefined;

  constructor(
    private readonly credentials: SalesforceCredentials,
    readonly apiVersion: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** API calls made so far (token requests excluded). */
  apiCalls(): number {
    return this.calls;
  }

  /** The current session, signing in if needed. */
  async current(): Promise<SalesforceSession> {
    const conn = await this.jsforce();
    return { instanceUrl: conn.instanceUrl, accessToken: conn.accessToken ?? '' };
  }

  /** The signed-in jsforce connection; its own API calls are counted and never repeated unseen. */
  jsforce(): Promise<Connection> {
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  /** `/services/data/vXX.X` + path. */
  dataPath(path: string): string {
    return `/services/data/v${this.apiVersion}${path}`;
  }

  /** Sends a request through jsforce and answers its parsed JSON (undefined for an empty answer). */
  async json<T>(path: string, what: string, options: RequestOptions = {}): Promise<T> {
    return this.repeatingBriefly(options.idempotent, async () => {
      const transport = this.transport();
      try {
        const conn = await this.jsforce();
        const headers: Record<string, string> = {
          accept: options.accept ?? 'application/json',
          ...options.headers,
        };
        if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
        const request = {
          method: (options.method ?? 'GET') as HttpMethods,
          url: path,
          headers,
          ...(options.body !== undefined ? { body: options.body } : {}),
        };
        const answer = await conn.request<T>(request, { transport });
        // jsforce hands back the raw text when the answer is not JSON (a proxy's page, a cut or
        // mislabelled body); that is never the object asked for.
        if (typeof answer === 'string') {
          if (answer === '') return undefined as T;
          throw new SalesforceTransientError(
            `${what}: the answer is not JSON (HTTP ${transport.status ?? 'unknown'}); the request can be repeated.`,
          );
        }
        return answer as T;
      } catch (error) {
        throw this.translate(error, transport.status, what);
      }
    });
  }

  /**
   * Runs calls of jsforce's own APIs (SOAP, Metadata) on the signed-in connection: each HTTP request
   * is counted, an expired session is renewed by jsforce, which builds a SOAP envelope afresh on
   * every attempt so a resent call carries the renewed session id, and errors arrive named.
   * Idempotent calls are repeated briefly after a transient failure.
   */
  async api<T>(
    what: string,
    run: (conn: Connection) => Promise<T>,
    options: { idempotent?: boolean; maxAnswerBytes?: number } = {},
  ): Promise<T> {
    return this.repeatingBriefly(options.idempotent, async () => {
      try {
        const conn = await this.jsforce();
        const { maxAnswerBytes } = options;
        return await (maxAnswerBytes === undefined
          ? run(conn)
          : withAnswerLimit(maxAnswerBytes, what, () => run(conn)));
      } catch (error) {
        throw this.translate(error, this.shared?.status, what);
      }
    });
  }

  /** Runs `attempt`, repeating it after a transient failure, a few times, when it is idempotent. */
  private async repeatingBriefly<T>(idempotent: boolean | undefined, attempt: () => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof SalesforceTransientError && idempotent && tries < RETRY_DELAYS_MS.length)) {
          throw error;
        }
        await this.sleep(RETRY_DELAYS_MS[tries]!);
      }
    }
  }

  /**
   * Sends a request by hand and returns the successful response, its body not yet read: for answers
   * that are streamed (jsforce reads every answer whole before handing it over). The session is the
   * jsforce connection's, renewed through its refresh mechanism and read afresh on every attempt.
   */
  async request(path: string, what: string, options: RequestOptions = {}): Promise<Response> {
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      const sentAt = Date.now();
      try {
        return await this.once(path, what, options);
      } catch (error) {
        if (error instanceof SalesforceSessionExpiredError && !renewed) {
          renewed = true;
          await this.refresh(sentAt, what);
          continue;
        }
        if (
          error instanceof SalesforceTransientError &&
          options.idempotent &&
          attempt < RETRY_DELAYS_MS.length
        ) {
          await this.sleep(RETRY_DELAYS_MS[attempt]!);
          continue;
        }
        throw error;
      }
    }
  }

  private async open(): Promise<Connection> {
    const session = await authenticate(this.credentials);
    const conn = new Connection({
      instanceUrl: session.instanceUrl,
      accessToken: session.accessToken,
      version: this.apiVersion,
      refreshFn: (_conn, callback) => {
        this.renew().then(
          (token) => callback(null, token),
          (error: unknown) => callback(error as Error),
        );
      },
    });
    // jsforce's own APIs (Bulk 2.0 ingest, Metadata, SOAP) send through the connection's transport.
    this.shared = this.transport();
    conn._transport = this.shared;
    return conn;
  }

  private transport(): FetchTransport {
    return new FetchTransport({
      onRequest: () => {
        this.calls++;
      },
      onAnswer: (status, body) => {
        if (!sessionRefused(status, body)) this.refreshedWithoutSuccess = false;
      },
    });
  }

  /** The refresh function jsforce calls: signs in again (a given token is tried once more as it is). */
  private async renew(): Promise<string> {
    this.refreshFailure = undefined;
    if (this.refreshedWithoutSuccess) {
      this.refreshFailure = new SalesforceSessionExpiredError(
        'Salesforce refused the renewed session too (INVALID_SESSION_ID).',
        'INVALID_SESSION_ID',
        401,
      );
      throw this.refreshFailure;
    }
    try {
      const { accessToken } = await authenticate(this.credentials);
      // Only a session actually renewed can be refused too; a sign-in that failed renewed nothing,
      // and the next 401 must sign in again.
      this.refreshedWithoutSuccess = true;
      return accessToken;
    } catch (error) {
      this.refreshFailure = error as SalesforceError;
      throw error;
    }
  }

  private async refresh(since: number, what: string): Promise<void> {
    const conn = await this.jsforce();
    try {
      await conn._refreshDelegate?.refresh(since);
    } catch (error) {
      throw this.translate(error, undefined, what);
    }
  }

  /** jsforce reports a failed refresh as a plain error; the named one the refresh threw is kept. */
  private translate(error: unknown, status: number | undefined, what: string): SalesforceError {
    if (this.refreshFailure && error instanceof Error && /refresh session/.test(error.message)) {
      return this.refreshFailure;
    }
    return translateJsforceError(error, status, what);
  }

  private async once(path: string, what: string, options: RequestOptions): Promise<Response> {
    const session = await this.current();
    this.calls++;
    let response: Response;
    const url = `${session.instanceUrl}${path}`;
    try {
      const headers = {
        authorization: `Bearer ${session.accessToken}`,
        accept: options.accept ?? 'application/json',
        ...(options.body !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}),
        ...options.headers,
      };
      response =
        options.raw && options.body === undefined && (options.method ?? 'GET') === 'GET'
          ? await rawGet(url, headers)
          : await fetch(url, {
              method: options.method ?? 'GET',
              headers,
              ...(options.body !== undefined ? { body: options.body } : {}),
            });
    } catch (error) {
      throw translateNetworkError(error, what, url);
    }
    if (response.status !== 401) this.refreshedWithoutSuccess = false;
    if (response.ok) return response;
    let text = '';
    try {
      text = await response.text();
    } catch {
      // The error body itself was cut; the status is enough.
    }
    throw translateHttpError(response.status, text, what);
  }
}
