/** What the restore functions build from their environment, over the shared runtime. */
import { z } from 'zod';
import { EnvName } from '../../../contract/workflow-contract.ts';
import { SalesforceWriter } from '../../adapters/salesforce/writer.ts';
import { VaultSnapshotSource } from '../../core/restore/snapshot-view.ts';
import type { RestoreDeps } from '../../core/restore/workflow.ts';
import {
  apiVersionFromEnv,
  credentialsFromEnv,
  EnvCache,
  FunctionConfigError,
  orgNameFromEnv,
  readEnv,
  storeFromEnv,
} from '../runtime.ts';

/** Rows from which a restore writes with Bulk API 2.0 ingest when the function names no threshold. */
const DEFAULT_BULK_THRESHOLD = 1000;

// Every variable the dependencies are built from: a local process runs several executions at
// once against different orgs and stores, each under its own environment.
const cache = new EnvCache<RestoreDeps>([
  EnvName.OrgName,
  EnvName.LocalStoreDir,
  EnvName.S3Endpoint,
  EnvName.VaultBucket,
  EnvName.VaultKeyArn,
  EnvName.LocalInstanceUrl,
  EnvName.LocalAccessToken,
  EnvName.LocalDrillInstanceUrl,
  EnvName.LocalDrillAccessToken,
  EnvName.OrgSecretArn,
  EnvName.DrillSecretArn,
  EnvName.LoginUrl,
  EnvName.DrillLoginUrl,
  EnvName.ApiVersion,
  EnvName.BulkThreshold,
]);

/**
 * The restore's dependencies for the environment, built once per container and target so the
 * writer's session and describes are reused by every step.
 */
export function restoreDeps(drill = false): Promise<RestoreDeps> {
  return cache.get(
    async () => {
      const orgName = orgNameFromEnv();
      const store = storeFromEnv();
      const org = new SalesforceWriter(
        await credentialsFromEnv(drill ? 'drill' : 'org'),
        apiVersionFromEnv(),
        // One threshold for both: from that many rows, writes go through Bulk ingest and reads by id
        // through Bulk queryAll jobs.
        { bulkThreshold: bulkThresholdFromEnv(), bulkReadThreshold: bulkThresholdFromEnv() },
      );
      return { orgName, store, org, snapshots: new VaultSnapshotSource(store, orgName) };
    },
    drill ? 'drill' : 'org',
  );
}

function bulkThresholdFromEnv(): number {
  const text = readEnv(EnvName.BulkThreshold);
  if (text === undefined) return DEFAULT_BULK_THRESHOLD;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new FunctionConfigError(
      `${EnvName.BulkThreshold} is "${text}": set it to a whole number of rows of at least 1, such as ${DEFAULT_BULK_THRESHOLD}.`,
    );
  }
  return value;
}

const drillObjectsSchema = z.array(z.string().min(1));

/** The objects the drill's config names, or undefined when it names none. */
export function drillObjectsFromEnv(): string[] | undefined {
  const text = readEnv(EnvName.DrillObjects);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  const parsed = drillObjectsSchema.safeParse(value);
  if (!parsed.success) {
    throw new FunctionConfigError(
      `${EnvName.DrillObjects} is ${JSON.stringify(text)}: set it to a JSON list of object API names, such as ["Account","Contact"].`,
    );
  }
  return parsed.data;
}
