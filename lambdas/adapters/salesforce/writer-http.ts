import { SalesforceConnection } from './connection.ts';
import type { SalesforceCredentials } from './auth.ts';

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

  /** Sends JSON through jsforce, returns parsed JSON (undefined for an empty answer); only reads are repeated. */
  json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.connection.json<T>(path, `${method} ${path.split('?')[0]}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      idempotent: method === 'GET',
    });
  }
}
