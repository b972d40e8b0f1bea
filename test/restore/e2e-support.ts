/** Helpers for end-to-end restores: sample orgs in the emulator, disasters through the API, org states. */
import { api } from '../../cli/commands/demo-org.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import {
  type LocalRestoreOptions,
  type RestoreSummary,
  runLocalRestore,
} from '../../cli/commands/restore.ts';
import type { SnsMessage } from '../../cli/local/index.ts';
import { backup, dumpRows, freshStoreDir, startSampleOrg } from '../backup/e2e-support.ts';

export { backup, freshStoreDir, startSampleOrg };
// The disasters are caused the way the demo causes them: through the org's public APIs.
export {
  api,
  deleteRows as softDelete,
  hardDeleteRows as hardDelete,
  importRows as update,
  liveIds as ids,
} from '../../cli/commands/demo-org.ts';

const AUDIT = new Set([
  'CreatedDate',
  'CreatedById',
  'LastModifiedDate',
  'LastModifiedById',
  'SystemModstamp',
]);

interface DescribeField {
  name: string;
  type: string;
  createable: boolean;
  updateable: boolean;
  calculated: boolean;
  referenceTo: string[];
}

/**
 * The org's state on every restorable field of the given objects, independent of ids: each live
 * row as its createable, non-formula, non-audit values, with every reference replaced by the
 * referenced row's name, sorted. Two orgs with equal states hold the same data however their ids differ.
 */
export async function orgState(
  emu: RunningEmulator,
  objects: readonly string[],
): Promise<Record<string, string[]>> {
  const dump = await dumpRows(emu);
  const names = new Map<string, string>();
  for (const rows of dump.values()) {
    for (const [id, row] of rows) {
      const label = row.Name ?? row.Title ?? row.LastName ?? id;
      names.set(id.slice(0, 15), `${String(label)}${row.IsDeleted ? ' (deleted)' : ''}`);
    }
  }
  const state: Record<string, string[]> = {};
  for (const object of objects) {
    const describe = await api<{ fields: DescribeField[] }>(emu, 'GET', `/sobjects/${object}/describe`);
    const fields = describe.fields.filter(
      (f) =>
        f.createable &&
        !f.calculated &&
        !AUDIT.has(f.name) &&
        !['address', 'location', 'base64'].includes(f.type),
    );
    state[object] = [...(dump.get(object)?.values() ?? [])]
      .filter((row) => row.IsDeleted !== true)
      .map((row) =>
        JSON.stringify(
          Object.fromEntries(
            fields.map((f) => {
              const v = row[f.name] ?? null;
              if (f.type === 'reference' && typeof v === 'string')
                return [f.name, names.get(v.slice(0, 15)) ?? `missing ${v}`];
              return [f.name, v];
            }),
          ),
        ),
      )
      .sort();
  }
  return state;
}

/** Runs the synthesized restore workflow against the emulator with a console input. */
export async function restore(
  emu: RunningEmulator,
  dir: string,
  input: unknown,
  options: Partial<LocalRestoreOptions> = {},
): Promise<{ summary: RestoreSummary; sns: SnsMessage[] }> {
  const sns: SnsMessage[] = [];
  const { summary } = await runLocalRestore({
    instanceUrl: emu.instanceUrl,
    accessToken: emu.accessToken,
    store: dir,
    org: 'sample',
    input,
    retryIntervalScale: 0,
    onSns: (m) => {
      sns.push(m);
    },
    ...options,
  });
  return { summary, sns };
}

/** The parent and child objects of a sample org, and a text field a bad import could blank. */
export const SAMPLES = [
  {
    org: 'dreamhouse-lwc',
    parent: 'Broker__c',
    child: 'Property__c',
    lookup: 'Broker__c',
    blanked: ['Description__c', 'Address__c'],
  },
  {
    org: 'ebikes-lwc',
    parent: 'Product_Family__c',
    child: 'Product__c',
    lookup: 'Product_Family__c',
    blanked: ['Description__c', 'Level__c'],
  },
] as const;
