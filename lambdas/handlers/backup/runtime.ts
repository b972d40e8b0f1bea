import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { salesforceSourceFromEnv } from '../../adapters/salesforce/from-env.ts';
import { LocalDirectoryStore } from '../../adapters/local-store.ts';
import { S3Store } from '../../adapters/s3-store.ts';
import { parseBackupSettings } from '../../core/backup/settings.ts';
import type { BackupDeps } from '../../core/backup/types.ts';
import type { SalesforceSource } from '../../core/salesforce.ts';
import type { BackupStore } from '../../core/store.ts';

/** One logger for every backup handler; it logs ids, counts, keys and durations only. */
export const logger = new Logger({ serviceName: 'sfbackup-backup' });

export { MetricUnit };

/** The vault from the environment: a local directory (CLI) or the S3 bucket (deployed). */
export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): BackupStore {
  if (env.SFBACKUP_STORE_DIR) return new LocalDirectoryStore(env.SFBACKUP_STORE_DIR);
  if (!env.VAULT_BUCKET) {
    throw new Error('No vault configured: set VAULT_BUCKET (deployed) or SFBACKUP_STORE_DIR (local).');
  }
  return new S3Store({
    bucket: env.VAULT_BUCKET,
    ...(env.VAULT_KEY_ARN ? { kmsKeyId: env.VAULT_KEY_ARN } : {}),
    ...(env.SFBACKUP_S3_ENDPOINT ? { endpoint: env.SFBACKUP_S3_ENDPOINT } : {}),
  });
}

/** The backup settings configured for this org's functions. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env) {
  return parseBackupSettings(env.BACKUP_SETTINGS);
}

/** Dependencies of one invocation; the Salesforce source is created only for steps that call the org. */
export async function depsFromEnv(options: { salesforce: boolean }): Promise<BackupDeps> {
  const source: SalesforceSource = options.salesforce ? await salesforceSourceFromEnv() : offline;
  return { store: storeFromEnv(), source, clock: () => new Date() };
}

/**
 * Runs a handler body with the org in the log context and its metrics flushed at the end. Each
 * invocation gets its own metrics set, since local runs invoke several handlers at once in one process.
 */
export async function instrumented<T>(
  step: string,
  org: string,
  body: (metrics: Metrics) => Promise<T>,
): Promise<T> {
  logger.appendKeys({ org, step });
  const metrics = new Metrics({
    namespace: 'SfBackup',
    serviceName: 'sfbackup-backup',
    defaultDimensions: { org },
  });
  const started = Date.now();
  try {
    return await body(metrics);
  } catch (error) {
    logger.error('step failed', { errorName: (error as Error).name, errorMessage: (error as Error).message });
    throw error;
  } finally {
    metrics.addMetric(`${step}DurationMs`, MetricUnit.Milliseconds, Date.now() - started);
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}

/** A source for steps that must not call the org: any call is a programming error. */
const offline: SalesforceSource = new Proxy({} as SalesforceSource, {
  get(_target, property) {
    if (property === 'apiCalls') return () => 0;
    if (property === 'apiVersion') return '';
    return () => {
      throw new Error(`This step has no Salesforce connection; it must not call ${String(property)}.`);
    };
  },
});
