import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { credentialsFromSecret, type SalesforceCredentials } from '../../adapters/salesforce/auth.ts';
import { SalesforceWriter } from '../../adapters/salesforce/writer.ts';
import { LocalDirectoryStore } from '../../adapters/local-store.ts';
import { S3Store } from '../../adapters/s3-store.ts';
import { VaultSnapshotSource } from '../../core/restore/snapshot-view.ts';
import type { RestoreDeps } from '../../core/restore/workflow.ts';
import type { BackupStore } from '../../core/store.ts';

/**
 * The restore functions' environment:
 * - `ORG_KEY`: the vault key of the org whose backups are read (the config's org name);
 * - the vault: `VAULT_BUCKET` (+ `VAULT_KEY_ARN`, `SFBACKUP_S3_ENDPOINT`), or `SFBACKUP_STORE_DIR` locally;
 * - the org written to: `ORG_SECRET_ARN` + `SALESFORCE_LOGIN_URL` (a drill: `DRILL_SECRET_ARN` +
 *   `DRILL_LOGIN_URL`), or, locally, `SFBACKUP_INSTANCE_URL` + `SFBACKUP_ACCESS_TOKEN` (a drill:
 *   `SFBACKUP_DRILL_INSTANCE_URL` + `SFBACKUP_DRILL_ACCESS_TOKEN`);
 * - `SALESFORCE_API_VERSION` (default 62.0), `BULK_THRESHOLD` (rows from which Bulk ingest is used).
 */
export class RestoreConfigError extends Error {
  override readonly name = 'RestoreConfigError';
}

let secrets: SecretsManagerClient | undefined;
const cache = new Map<string, Promise<RestoreDeps>>();

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function storeFromEnv(): BackupStore {
  const dir = env('SFBACKUP_STORE_DIR');
  if (dir) return new LocalDirectoryStore(dir);
  const bucket = env('VAULT_BUCKET');
  if (!bucket) throw new RestoreConfigError('Set VAULT_BUCKET (or SFBACKUP_STORE_DIR for a local vault).');
  const key = env('VAULT_KEY_ARN');
  const endpoint = env('SFBACKUP_S3_ENDPOINT');
  return new S3Store({ bucket, ...(key ? { kmsKeyId: key } : {}), ...(endpoint ? { endpoint } : {}) });
}

async function credentialsFromEnv(drill: boolean): Promise<SalesforceCredentials> {
  const instanceUrl = env(drill ? 'SFBACKUP_DRILL_INSTANCE_URL' : 'SFBACKUP_INSTANCE_URL');
  const accessToken = env(drill ? 'SFBACKUP_DRILL_ACCESS_TOKEN' : 'SFBACKUP_ACCESS_TOKEN');
  if (instanceUrl && accessToken) return { kind: 'access-token', instanceUrl, accessToken };
  const secretVar = drill ? 'DRILL_SECRET_ARN' : 'ORG_SECRET_ARN';
  const secretId = env(secretVar);
  if (!secretId) {
    throw new RestoreConfigError(
      drill
        ? 'This org has no restore drill configured (DRILL_SECRET_ARN is not set); add restoreDrill to its config.'
        : 'Set ORG_SECRET_ARN (or SFBACKUP_INSTANCE_URL and SFBACKUP_ACCESS_TOKEN locally).',
    );
  }
  secrets ??= new SecretsManagerClient({});
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!secret.SecretString) throw new RestoreConfigError(`Secret ${secretVar} holds no text.`);
  return credentialsFromSecret(secret.SecretString, env(drill ? 'DRILL_LOGIN_URL' : 'SALESFORCE_LOGIN_URL'));
}

/** The restore's dependencies for the environment; built once per container and target. */
export function restoreDeps(drill = false): Promise<RestoreDeps> {
  // Keyed by the environment too: a local process runs several executions against different orgs.
  const key = JSON.stringify([
    drill,
    ...[
      'ORG_KEY',
      'SFBACKUP_STORE_DIR',
      'SFBACKUP_S3_ENDPOINT',
      'VAULT_BUCKET',
      'SFBACKUP_INSTANCE_URL',
      'SFBACKUP_ACCESS_TOKEN',
      'SFBACKUP_DRILL_INSTANCE_URL',
      'SFBACKUP_DRILL_ACCESS_TOKEN',
      'ORG_SECRET_ARN',
      'DRILL_SECRET_ARN',
      'BULK_THRESHOLD',
    ].map(env),
  ]);
  let deps = cache.get(key);
  if (!deps) {
    deps = (async () => {
      const orgKey = env('ORG_KEY');
      if (!orgKey)
        throw new RestoreConfigError('Set ORG_KEY to the config name of the org whose backups are read.');
      const store = storeFromEnv();
      const org = new SalesforceWriter(
        await credentialsFromEnv(drill),
        env('SALESFORCE_API_VERSION') ?? '62.0',
        {
          bulkThreshold: Number(env('BULK_THRESHOLD') ?? 1000),
        },
      );
      return { store, org, snapshots: new VaultSnapshotSource(store, orgKey) };
    })();
    deps.catch(() => cache.delete(key));
    cache.set(key, deps);
  }
  return deps;
}

/** Forgets built dependencies (a local run points the same process at another org or store). */
export function resetRestoreDeps(): void {
  cache.clear();
}
