/**
 * The Salesforce org emulator: an in-memory org served over Salesforce's REST, Bulk API 2.0,
 * SOAP partner and Metadata APIs. `startEmulator` is the one entry point.
 */
import { loadPlan } from './fixtures/plan.ts';
import { loadProject } from './fixtures/project.ts';
import { generateInto } from './generate/generate.ts';
import { createMetadataService } from './metadata/index.ts';
import type { OrgApi, OrgCatalog } from './org/api.ts';
import type { ChangeDataCapture } from './org/cdc/cdc.ts';
import type { EventRelay } from './org/cdc/relay.ts';
import { createOrg } from './org/org.ts';
import { EmulatorClock } from './server/clock.ts';
import type { EmulatorContext } from './server/context.ts';
import { DEFAULT_GZIP_LEVEL, isGzipLevel } from './server/csv-body.ts';
import { type FaultSpec, parseFaultSpec } from './server/faults.ts';
import { versionRange } from './server/info.ts';
import { listenEmulator } from './server/server.ts';
import { createTlsMaterial } from './server/tls.ts';
import { DEFAULT_DAILY_API_REQUESTS } from './server/usage.ts';

export { InvalidFaultSpecError, parseFaultSpec } from './server/faults.ts';

/** The connected app the token endpoint accepts for the JWT bearer flow. */
export interface JwtBearerSettings {
  /** Consumer key: the assertion's `iss`. */
  readonly clientId: string;
  /** PEM X.509 certificate (or SPKI public key) whose private key signs the assertions. */
  readonly certificate: string;
}

/** The connected app the token endpoint accepts for the client credentials flow. */
export interface ClientCredentialsSettings {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Options of `startEmulator`. All optional: with none, an empty org on a free port. */
export interface StartEmulatorOptions {
  /** sfdx project folders: custom objects and fields for the org, all metadata for the Metadata API. @default - none */
  readonly projectDirs?: readonly string[];
  /** `sf data tree` plan files loaded in order after the projects. @default - none */
  readonly planFiles?: readonly string[];
  /** A generated org for benchmarks (see docs/emulator.md). @default - none */
  readonly generate?: string;
  /** Fault spec, e.g. `bulk-results:cut@0.3,*:latency=50ms` (see docs/emulator.md). @default - no faults */
  readonly faults?: string;
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Serve https with a fresh CA (exposed as `caCertificate`). @default false */
  readonly tls?: boolean;
  /** Start the org's clock frozen at this instant. @default - the real clock */
  readonly clock?: Date;
  /** API versions served, oldest and newest. @default { min: 31, max: 62 } */
  readonly apiVersions?: { readonly min: number; readonly max: number };
  /** Daily API request allowance. @default 100000 */
  readonly dailyApiRequests?: number;
  /** Rows per Bulk query results page when the client sends no maxRecords. @default 50000 */
  readonly bulkPageSize?: number;
  /** zlib level (0..9) of Bulk results sent gzip-compressed (to clients that accept gzip). @default 1 */
  readonly gzipLevel?: number;
  /** Enables the JWT bearer flow. @default - the flow is refused */
  readonly jwt?: JwtBearerSettings;
  /** Enables the client credentials flow. @default - the flow is refused */
  readonly clientCredentials?: ClientCredentialsSettings;
  /** Password (with security token appended) that SOAP `login` accepts. @default - login refused */
  readonly password?: string;
  /** The org user's username. @default 'admin@emulated.org' */
  readonly username?: string;
  /** "Set Audit Fields upon Record Creation". @default false */
  readonly setAuditFieldsOnCreate?: boolean;
  /**
   * `'production'` adds the long tail of a production org's standard objects (history, share and
   * feed objects, setup objects, events, filter-required, big, external and Knowledge objects) with
   * the answers Salesforce gives for them; see docs/emulator-org.md. @default 'core'
   */
  readonly catalog?: OrgCatalog;
  /** Most ids getDeleted and getUpdated answer before `EXCEEDED_ID_LIMIT`. @default 600000 */
  readonly replicationIdLimit?: number;
  /** The org's id, 15 or 18 characters starting with 00D. @default - a fixed id, the same for every emulator */
  readonly orgId?: string;
}

/** A running emulator. */
export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly instanceUrl: string;
  /** A valid access token (`00D...!...`). */
  readonly accessToken: string;
  /** A refresh token the token endpoint accepts (grant_type=refresh_token). */
  readonly refreshToken: string;
  readonly orgId: string;
  readonly username: string;
  /** The org itself, for direct inspection in tests. */
  readonly org: OrgApi;
  /** Change Data Capture: entity selection, event bus, gap and overflow faults (docs/emulator-cdc.md). */
  readonly cdc: ChangeDataCapture;
  /** The Event Relay to EventBridge: state, `subscribe(handler)`, relayed events, delivery faults. */
  readonly relay: EventRelay;
  /** PEM of the CA that signed the server certificate (with `tls`). */
  readonly caCertificate: string | undefined;
  /** Server state (counters, faults, jobs), for tests. */
  readonly server: EmulatorContext;
  /** Stops the server and closes every connection. */
  stop(): Promise<void>;
}

/** Thrown for options `startEmulator` cannot use; the message names the option. */
export class InvalidEmulatorOptionsError extends Error {
  override name = 'InvalidEmulatorOptionsError';
}

function checkOptions(options: StartEmulatorOptions): FaultSpec {
  const problems: string[] = [];
  const { min, max } = options.apiVersions ?? { min: 31, max: 62 };
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 20 || max < min) {
    problems.push(`apiVersions must be whole versions with 20 <= min <= max, got ${min}..${max}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`port must be 0..65535, got ${port}`);
  const allowance = options.dailyApiRequests ?? DEFAULT_DAILY_API_REQUESTS;
  if (!Number.isInteger(allowance) || allowance < 0)
    problems.push(`dailyApiRequests must be >= 0, got ${allowance}`);
  const page = options.bulkPageSize ?? 1;
  if (!Number.isInteger(page) || page < 1)
    problems.push(`bulkPageSize must be a positive integer, got ${page}`);
  const level = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
  if (!isGzipLevel(level))
    problems.push(`gzipLevel must be a whole number from 0 to 9 (zlib's levels), got ${level}`);
  let faults: FaultSpec = { seed: 1, rules: [] };
  try {
    faults = parseFaultSpec(options.faults ?? '');
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (options.catalog !== undefined && options.catalog !== 'core' && options.catalog !== 'production') {
    problems.push(`catalog must be 'core' or 'production', got ${String(options.catalog)}`);
  }
  const idLimit = options.replicationIdLimit;
  if (idLimit !== undefined && (!Number.isInteger(idLimit) || idLimit < 1))
    problems.push(`replicationIdLimit must be a positive whole number of ids, got ${idLimit}`);
  if (problems.length > 0)
    throw new InvalidEmulatorOptionsError(`Invalid emulator options: ${problems.join('; ')}`);
  return faults;
}

/** Builds the org, loads projects and plans, and starts serving it. */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const faults = checkOptions(options);
  const clock = new EmulatorClock(options.clock);
  const org = createOrg({
    now: () => clock.now(),
    username: options.username,
    setAuditFieldsOnCreate: options.setAuditFieldsOnCreate,
    catalog: options.catalog,
    replicationIdLimit: options.replicationIdLimit,
    ...(options.orgId !== undefined ? { orgId: options.orgId } : {}),
  });
  const projectDirs = options.projectDirs ?? [];
  for (const dir of projectDirs) loadProject(org, dir);
  let refs = new Map<string, string>();
  for (const plan of options.planFiles ?? []) refs = new Map(loadPlan(org, plan, refs).refs);
  if (options.generate !== undefined) generateInto(org, options.generate);
  const metadata = createMetadataService({
    projectDirs,
    clock: () => clock.now(),
    user: { id: org.user.id, name: org.user.name },
    orgObjects: org.describeGlobal(),
  });
  const { min, max } = options.apiVersions ?? { min: 31, max: 62 };
  const tls = options.tls ? createTlsMaterial() : undefined;
  const server = await listenEmulator(
    {
      org,
      clock,
      versions: versionRange(min, max),
      dailyApiRequests: options.dailyApiRequests ?? DEFAULT_DAILY_API_REQUESTS,
      bulkPageSize: options.bulkPageSize ?? 50_000,
      gzipLevel: options.gzipLevel ?? DEFAULT_GZIP_LEVEL,
      faults,
      metadata,
      oauth: { jwt: options.jwt, clientCredentials: options.clientCredentials, password: options.password },
      tls,
    },
    options.port ?? 0,
  );
  const session = server.ctx.sessions.issue(clock.now().getTime());
  return {
    instanceUrl: server.instanceUrl,
    accessToken: session.token,
    refreshToken: server.ctx.sessions.issueRefresh(),
    orgId: org.info.orgId,
    username: org.user.username,
    org,
    cdc: org.cdc,
    relay: org.cdc.relay,
    caCertificate: tls?.caCertificate,
    server: server.ctx,
    stop: () => server.close(),
  };
}
