import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetadataService } from '../metadata/index.ts';
import type { OrgApi } from '../org/api.ts';
import type { EndpointName, FaultInjector } from './faults.ts';
import type { Sessions } from './sessions.ts';
import type { ApiUsage } from './usage.ts';
import type { BulkJobs } from './bulk-jobs.ts';
import type { QueryLocators } from './query-locators.ts';
import type { EmulatorClock } from './clock.ts';

/** A handler for Metadata API SOAP envelopes (`/services/Soap/m/XX.X`). */
export type MetadataSoapHandler = Pick<MetadataService, 'handle'>;

/** Everything a route needs: the org plus the server's own state. */
export interface EmulatorContext {
  readonly org: OrgApi;
  /** Base URL the server answers on (`http://127.0.0.1:PORT`). */
  instanceUrl: string;
  readonly versions: readonly string[];
  readonly sessions: Sessions;
  readonly usage: ApiUsage;
  readonly faults: FaultInjector;
  readonly bulk: BulkJobs;
  readonly locators: QueryLocators;
  readonly metadata: MetadataSoapHandler | undefined;
  readonly oauth: OAuthSettings;
  readonly clock: EmulatorClock;
}

/** Connected-app settings the token endpoint checks. */
export interface OAuthSettings {
  /** JWT bearer flow: consumer key (`iss`) and the PEM certificate or SPKI key; refused when unset. */
  readonly jwt: { readonly clientId: string; readonly certificate: string } | undefined;
  /** Client credentials flow: consumer key and secret; refused when unset. */
  readonly clientCredentials: { readonly clientId: string; readonly clientSecret: string } | undefined;
  /** Audiences accepted in JWT assertions. */
  readonly audiences: readonly string[];
  /** Password (with any security token appended) the SOAP `login` call accepts; refused when unset. */
  readonly password?: string;
}

/** One request, as routes see it. */
export interface RouteRequest {
  readonly method: string;
  /** Normalised path (no double slashes, no query string). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Captures of the route pattern. */
  readonly params: readonly string[];
  /** API version from the path (`62.0`), or the newest supported one. */
  readonly version: string;
  readonly raw: IncomingMessage;
  body(): Promise<Buffer>;
  json(): Promise<unknown>;
}

/** A JSON answer; routes that stream write to the response themselves and return undefined. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Raw text instead of JSON (`content-type` must be in headers). */
  readonly text?: string;
}

/** A route handler. */
export type Handler = (
  ctx: EmulatorContext,
  req: RouteRequest,
  res: ServerResponse,
) => Promise<Reply | undefined>;

/** A route: a method and a path pattern mapped to a handler, with how it is guarded and counted. */
export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** `data` routes match the part after `/services/data/vXX.X`; `root` routes the whole path. */
  readonly scope: 'data' | 'root';
  /** The first API version that has the resource (`data` routes); older versions find no route. */
  readonly since?: number;
  readonly endpoint: EndpointName | null;
  /** `bearer`: an Authorization header; `none`: the handler authenticates (SOAP, OAuth). */
  readonly auth: 'bearer' | 'none';
  /** Whether the request counts against the daily API allowance. */
  readonly counted: boolean;
  /** How errors are rendered. */
  readonly format: 'json' | 'soap' | 'oauth';
  readonly handler: Handler;
}

/** A matched route, or the methods allowed on a path that exists. */
export type RouteMatch = { route: Route; params: string[]; version: string } | { notAllowed: string[] };

/** Finds the route for a normalised path; undefined when no route has that path. */
export type RouteMatcher = (ctx: EmulatorContext, method: string, path: string) => RouteMatch | undefined;
