import { SalesforceSessionExpiredError, SalesforceTransientError } from '../../core/salesforce.ts';
import { authenticate, type SalesforceCredentials, type SalesforceSession } from './auth.ts';
import { translateHttpError, translateNetworkError } from './errors.ts';

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
  /** Answers that are not errors here (e.g. SOAP faults come back as 500 and are read by the caller). */
  readonly acceptStatus?: (status: number) => boolean;
}

const RETRY_DELAYS_MS = [250, 1000];

/**
 * One signed-in connection to an org: counts every API call, signs in again once when Salesforce
 * says the session expired, and repeats idempotent requests briefly after a transient failure.
 * Longer outages are left to the workflow's Retry with backoff.
 */
export class SalesforceConnection {
  private session: SalesforceSession | undefined;
  private calls = 0;

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
    this.session ??= await authenticate(this.credentials);
    return this.session;
  }

  /** `/services/data/vXX.X` + path. */
  dataPath(path: string): string {
    return `/services/data/v${this.apiVersion}${path}`;
  }

  /** Sends a request and returns the successful response (its body not yet read). */
  async request(path: string, what: string, options: RequestOptions = {}): Promise<Response> {
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(path, what, options);
      } catch (error) {
        if (error instanceof SalesforceSessionExpiredError && !renewed) {
          renewed = true;
          // A given token cannot be renewed; Salesforce sometimes answers one spurious expiry, so try it once more.
          this.session = this.credentials.kind === 'access-token' ? this.session : undefined;
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

  /** Sends a request and parses its JSON answer. */
  async json<T>(path: string, what: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(path, what, options);
    try {
      return (await response.json()) as T;
    } catch (error) {
      throw translateNetworkError(error, what);
    }
  }

  private async once(path: string, what: string, options: RequestOptions): Promise<Response> {
    const session = await this.current();
    this.calls++;
    let response: Response;
    try {
      response = await fetch(`${session.instanceUrl}${path}`, {
        method: options.method ?? 'GET',
        headers: {
          authorization: `Bearer ${session.accessToken}`,
          accept: options.accept ?? 'application/json',
          ...(options.body !== undefined
            ? { 'content-type': options.contentType ?? 'application/json' }
            : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { body: options.body } : {}),
      });
    } catch (error) {
      throw translateNetworkError(error, what);
    }
    if (response.ok || options.acceptStatus?.(response.status)) return response;
    let text = '';
    try {
      text = await response.text();
    } catch {
      // The error body itself was cut; the status is enough.
    }
    throw translateHttpError(response.status, text, what);
  }
}
