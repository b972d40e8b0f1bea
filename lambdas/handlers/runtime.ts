/**
 * The one runtime of every workflow function: the logger and metrics configured once, AWS SDK
 * clients at module scope, and the single way to read the vault, the org name and the org's
 * credentials from the environment.
 *
 * Lambda reuses a module across invocations, and the local runner runs several functions'
 * invocations at once in one process, each under its own environment (cli/local/env-scope.ts).
 * So nothing here reads the environment when the module loads, and what is built from the
 * project's variables (stores, credentials) is cached by the values it read. The AWS SDK clients
 * are the exception: one per process (per S3 endpoint), resolving region and AWS credentials on
 * first use, since every invocation of a process runs under the same AWS account and region.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DEFAULT_API_VERSION,
  EnvName,
  ErrorName,
  METRICS_NAMESPACE,
  ORG_NAME_RULE,
  orgNameProblem,
  type ServiceName,
} from '../../contract/workflow-contract.ts';
import { createRemovingStore, createStore, type StoreSpec } from '../adapters/create-store.ts';
import { LocalDirectoryStore } from '../adapters/local-store.ts';
import { createS3Client, S3Store } from '../adapters/s3-store.ts';
import { credentialsFromSecret, type SalesforceCredentials } from '../adapters/salesforce/auth.ts';
import { withoutSalesforceText } from '../core/backup/failure-cause.ts';
import type { RemovingStore } from '../core/removing-store.ts';
import type { BackupStore, VersionedStore } from '../core/store.ts';

export { MetricUnit };

/** The function's environment lacks a setting it needs (vault, org name, credentials) or holds an unusable one. */
export class FunctionConfigError extends Error {
  override readonly name = ErrorName.FunctionConfig;
}

/** The name of one of the environment variables the functions read. */
export type EnvVariable = (typeof EnvName)[keyof typeof EnvName];

/** A variable of the function's environment; an empty one counts as unset, as the local runner blanks some. */
export function readEnv(name: EnvVariable): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Values built from the environment, cached by the variables they were built from. A build that
 * fails is forgotten, so the next invocation tries again rather than repeating the failure.
 */
export class EnvCache<T> {
  private readonly entries = new Map<string, { readonly value: Promise<T>; readonly builtAt: number }>();

  /**
   * @param variables the environment variables the value is built from
   * @param maxAgeMs how long a built value is kept; @default - as long as the container lives
   * @param now the clock, for tests
   */
  constructor(
    private readonly variables: readonly EnvVariable[],
    private readonly maxAgeMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value for the current environment (and `extra`, such as a target), built once per `maxAgeMs`. */
  get(build: () => Promise<T>, ...extra: readonly string[]): Promise<T> {
    // Per function as well: on Lambda a container serves one function, so a value one function
    // built is never another's, even where their variables agree (two functions, one secret).
    const key = JSON.stringify([
      process.env.AWS_LAMBDA_FUNCTION_NAME,
      ...extra,
      ...this.variables.map(readEnv),
    ]);
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.builtAt < this.maxAgeMs) return entry.value;
    const value = build();
    value.catch(() => this.entries.delete(key));
    this.entries.set(key, { value, builtAt: this.now() });
    return value;
  }
}

/**
 * How long a container keeps the org's credentials read from Secrets Manager: long enough to spare
 * a call per invocation, short enough that a fixed or rotated secret is picked up within minutes
 * by warm containers that would otherwise keep failing to sign in.
 */
export const CREDENTIALS_MAX_AGE_MS = 5 * 60_000;

// Built once per container; the region and credentials are resolved on first use, under the
// environment of the invocation that uses them.
const secrets = new SecretsManagerClient({});
// One client per endpoint: AWS S3 when deployed, an S3-compatible server in some local runs.
const s3Clients = new Map<string, S3Client>();

function s3ClientFor(endpoint: string | undefined): S3Client {
  const key = endpoint ?? '';
  let client = s3Clients.get(key);
  if (!client) {
    client = createS3Client(endpoint === undefined ? {} : { endpoint });
    s3Clients.set(key, client);
  }
  return client;
}

/** The vault: a local directory (local runs) or the S3 bucket, over a client shared by every invocation. */
export function storeFromEnv(): BackupStore {
  return storeSpecFromEnv(createStore);
}

/** The vault, as the retention sweeper alone builds it: a store that can also remove (delete markers on S3). */
export function removingStoreFromEnv(): BackupStore & RemovingStore {
  return storeSpecFromEnv(createRemovingStore);
}

function storeSpecFromEnv<T>(create: (spec: Exclude<StoreSpec, string>) => T): T {
  const dir = readEnv(EnvName.LocalStoreDir);
  if (dir) return create({ dir });
  const bucket = readEnv(EnvName.VaultBucket);
  if (!bucket) {
    throw new FunctionConfigError(
      `No vault is configured: ${EnvName.VaultBucket} is not set. Deploy the function with the vault bucket's name in ${EnvName.VaultBucket}, or set ${EnvName.LocalStoreDir} to a directory for a local run.`,
    );
  }
  const kmsKeyId = readEnv(EnvName.VaultKeyArn);
  const endpoint = readEnv(EnvName.S3Endpoint);
  return create({
    s3: {
      bucket,
      client: s3ClientFor(endpoint),
      ...(kmsKeyId ? { kmsKeyId } : {}),
      ...(endpoint ? { endpoint } : {}),
    },
  });
}

/**
 * The vault with the power to replace objects and remove versions, for the erase function only:
 * the same bucket or directory as `storeFromEnv`, and, on a bucket in Object Lock GOVERNANCE mode,
 * removals that bypass the lock (which the erase role is allowed).
 */
export function versionedStoreFromEnv(): BackupStore & VersionedStore {
  const bypassGovernanceRetention = readEnv(EnvName.ObjectLockMode) === 'GOVERNANCE';
  return storeSpecFromEnv((spec) =>
    'dir' in spec
      ? new LocalDirectoryStore(spec.dir)
      : new S3Store({ ...spec.s3, bypassGovernanceRetention }),
  );
}

/** The org name whose backups the function reads (its vault prefix), checked with the contract's rule. */
export function orgNameFromEnv(): string {
  const name = readEnv(EnvName.OrgName);
  if (name === undefined) {
    throw new FunctionConfigError(
      `${EnvName.OrgName} is not set: set it to the config name of the org whose backups are read, ${ORG_NAME_RULE}.`,
    );
  }
  const problem = orgNameProblem(name);
  if (problem !== undefined) throw new FunctionConfigError(`${EnvName.OrgName} is unusable: ${problem}.`);
  return name;
}

/** The Salesforce API version the functions call. */
export function apiVersionFromEnv(): string {
  return readEnv(EnvName.ApiVersion) ?? DEFAULT_API_VERSION;
}

/** Which org's credentials: the configured org, or the sandbox of its restore drill. */
export type OrgTarget = 'org' | 'drill';

const TARGET_VARIABLES = {
  org: {
    instanceUrl: EnvName.LocalInstanceUrl,
    accessToken: EnvName.LocalAccessToken,
    secretArn: EnvName.OrgSecretArn,
    loginUrl: EnvName.LoginUrl,
  },
  drill: {
    instanceUrl: EnvName.LocalDrillInstanceUrl,
    accessToken: EnvName.LocalDrillAccessToken,
    secretArn: EnvName.DrillSecretArn,
    loginUrl: EnvName.DrillLoginUrl,
  },
} as const satisfies Record<OrgTarget, Record<string, EnvVariable>>;

const credentialsCache = new EnvCache<SalesforceCredentials>(
  Object.values(TARGET_VARIABLES).flatMap((names) => Object.values(names)),
  CREDENTIALS_MAX_AGE_MS,
);

/**
 * The target's credentials: an instance URL and access token (local runs), or the Secrets Manager
 * secret the function was deployed with, read at most once per CREDENTIALS_MAX_AGE_MS. Tokens
 * never travel in workflow state.
 */
export function credentialsFromEnv(target: OrgTarget = 'org'): Promise<SalesforceCredentials> {
  return credentialsCache.get(() => readCredentials(target), target);
}

async function readCredentials(target: OrgTarget): Promise<SalesforceCredentials> {
  const names = TARGET_VARIABLES[target];
  const instanceUrl = readEnv(names.instanceUrl);
  const accessToken = readEnv(names.accessToken);
  if (instanceUrl && accessToken) return { kind: 'access-token', instanceUrl, accessToken };
  const secretId = readEnv(names.secretArn);
  if (!secretId) {
    throw new FunctionConfigError(
      target === 'drill'
        ? `This org has no restore drill configured (${names.secretArn} is not set): add restoreDrill to its config, or set ${names.instanceUrl} and ${names.accessToken} for a local run.`
        : `No Salesforce credentials are configured: ${names.secretArn} is not set. Deploy the function with the org's secret, or set ${names.instanceUrl} and ${names.accessToken} for a local run.`,
    );
  }
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!secret.SecretString) {
    throw new FunctionConfigError(
      `The secret ${secretId} (${names.secretArn}) holds no text: store the org's credentials in it as JSON.`,
    );
  }
  return credentialsFromSecret(secret.SecretString, readEnv(names.loginUrl));
}

/** What a step's body is given: its own metrics set and a logger that carries the step and org. */
export interface StepInstruments {
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** The instruments of one service's functions. */
export interface FunctionTelemetry {
  /** The service's logger; it logs ids, counts, keys and durations only, never field values or tokens. */
  readonly logger: Logger;
  /**
   * Runs a step's body with the org in its logs and metrics, and its duration published at the end.
   * Each invocation gets its own metrics set and child logger, since local runs invoke several
   * handlers at once in one process.
   */
  instrumented<T>(step: string, org: string, body: (instruments: StepInstruments) => Promise<T>): Promise<T>;
}

/** The name a service logs and publishes metrics under. */
export type ServiceNameValue = (typeof ServiceName)[keyof typeof ServiceName];

const telemetries = new Map<ServiceNameValue, FunctionTelemetry>();

/** The logger and metrics of one service, configured once per container. */
export function telemetry(service: ServiceNameValue): FunctionTelemetry {
  let found = telemetries.get(service);
  if (!found) {
    found = makeTelemetry(service);
    telemetries.set(service, found);
  }
  return found;
}

function makeTelemetry(service: ServiceNameValue): FunctionTelemetry {
  const logger = new Logger({ serviceName: service });
  return {
    logger,
    async instrumented(step, org, body) {
      const log = logger.createChild({ persistentKeys: { org, step } });
      const metrics = new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: service,
        defaultDimensions: { org },
      });
      const started = Date.now();
      try {
        return await body({ metrics, logger: log });
      } catch (error) {
        // The name only: a message may quote a record's values, and Step Functions keeps it as the cause.
        log.error('step failed', { errorName: error instanceof Error ? error.name : typeof error });
        throw withoutSalesforceText(error);
      } finally {
        metrics.addMetric(`${step}DurationMs`, MetricUnit.Milliseconds, Date.now() - started);
        metrics.publishStoredMetrics();
      }
    },
  };
}
