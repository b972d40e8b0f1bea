/** What the backup functions build from their environment, over the shared runtime. */
import { EnvName } from '../../../contract/workflow-contract.ts';
import { retrieveAnswerLimit } from '../../adapters/salesforce/metadata-soap.ts';
import { HttpSalesforceSource } from '../../adapters/salesforce/source.ts';
import { type BackupSettings, parseBackupSettings } from '../../core/backup/settings.ts';
import type { BackupDeps } from '../../core/backup/types.ts';
import type { SalesforceSource } from '../../core/salesforce.ts';
import { apiVersionFromEnv, credentialsFromEnv, readEnv, storeFromEnv } from '../runtime.ts';

/** The backup settings configured for this org's functions. */
export function settingsFromEnv(): BackupSettings {
  return parseBackupSettings(readEnv(EnvName.BackupSettings));
}

/** Dependencies of one invocation; the Salesforce source is created only for steps that call the org. */
export async function backupDeps(options: { salesforce: boolean }): Promise<BackupDeps> {
  // A source per invocation, since the core counts this invocation's API calls on it; the
  // credentials behind it are read once per container.
  const source: SalesforceSource = options.salesforce
    ? new HttpSalesforceSource(await credentialsFromEnv('org'), apiVersionFromEnv(), {
        // A retrieve answer is read no further than the configured zip bound allows.
        retrieveAnswerLimitBytes: retrieveAnswerLimit(settingsFromEnv().maxRetrieveZipBytes),
      })
    : offline;
  return { store: storeFromEnv(), source, clock: () => new Date() };
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
