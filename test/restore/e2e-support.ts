/** Helpers for end-to-end restores: sample orgs in the emulator, disasters through the API, org states. */
import type { RunningEmulator } from '../../emulator/index.ts';
import {
  type LocalRestoreOptions,
  type RestoreSummary,
  runLocalRestore,
} from '../../cli/commands/restore.ts';
import type { SnsMessage } from '../../cli/local/index.ts';
import { backup, dumpRows, freshStoreDir, startSampleOrg } from '../backup/e2e-support.ts';

export { backup, freshStoreDir, startSampleOrg };

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

/** Calls the org's REST API as a user would. */
export async function api<T>(emu: RunningEmulator, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${emu.instanceUrl}/services/data/v62.0${path}`, {
    method,
    headers: { authorization: `Bearer ${emu.accessToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Ids of an object's live rows. */
export async function ids(emu: RunningEmulator, object: string, where = ''): Promise<string[]> {
  const page = await api<{ records: { Id: string }[] }>(
    emu,
    'GET',
    `/query?q=${encodeURIComponent(`SELECT Id FROM ${object}${where ? ` WHERE ${where}` : ''}`)}`,
  );
  return page.records.map((r) => r.Id);
}

/** Deletes rows (to the recycle bin), 200 per call. */
export async function softDelete(emu: RunningEmulator, rowIds: readonly string[]): Promise<void> {
  for (let i = 0; i < rowIds.length; i += 200) {
    const results = await api<{ success: boolean }[]>(
      emu,
      'DELETE',
      `/composite/sobjects?ids=${rowIds.slice(i, i + 200).join(',')}`,
    );
    if (!results.every((r) => r.success)) throw new Error(`delete failed: ${JSON.stringify(results)}`);
  }
}

/** Deletes rows and empties them from the recycle bin: they can only come back under new ids. */
export async function hardDelete(emu: RunningEmulator, rowIds: readonly string[]): Promise<void> {
  await softDelete(emu, rowIds);
  const envelope = `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader><urn:sessionId>${emu.accessToken}</urn:sessionId></urn:SessionHeader></soapenv:Header><soapenv:Body><urn:emptyRecycleBin>${rowIds.map((id) => `<urn:ids>${id}</urn:ids>`).join('')}</urn:emptyRecycleBin></soapenv:Body></soapenv:Envelope>`;
  const response = await fetch(`${emu.instanceUrl}/services/Soap/u/62.0`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml', soapaction: '""' },
    body: envelope,
  });
  const text = await response.text();
  if (!response.ok || text.includes('<success>false</success>'))
    throw new Error(`emptyRecycleBin failed: ${text}`);
}

/** Updates rows through sObject Collections. */
export async function update(
  emu: RunningEmulator,
  object: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    const records = rows.slice(i, i + 200).map((r) => ({ attributes: { type: object }, ...r }));
    const results = await api<{ success: boolean }[]>(emu, 'PATCH', '/composite/sobjects', {
      allOrNone: true,
      records,
    });
    if (!results.every((r) => r.success)) throw new Error(`update failed: ${JSON.stringify(results)}`);
  }
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
