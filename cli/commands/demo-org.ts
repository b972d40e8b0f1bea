/** What the demo does to the emulated org through its public APIs, and how it reads the org's state. */
import type { RunningEmulator } from '../../emulator/index.ts';

const AUDIT = new Set([
  'CreatedDate',
  'CreatedById',
  'LastModifiedDate',
  'LastModifiedById',
  'SystemModstamp',
]);

/** Calls the org's REST API. */
export async function api<T>(emu: RunningEmulator, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${emu.instanceUrl}/services/data/v62.0${path}`, {
    method,
    headers: { authorization: `Bearer ${emu.accessToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`${method} ${path.split('?')[0]} answered ${response.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Ids of an object's live rows matching a WHERE clause. */
export async function liveIds(emu: RunningEmulator, object: string, where = ''): Promise<string[]> {
  const soql = `SELECT Id FROM ${object}${where ? ` WHERE ${where}` : ''}`;
  const page = await api<{ records: { Id: string }[] }>(emu, 'GET', `/query?q=${encodeURIComponent(soql)}`);
  return page.records.map((r) => r.Id);
}

/** Deletes rows into the recycle bin. */
export async function deleteRows(emu: RunningEmulator, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 200) {
    const results = await api<{ success: boolean }[]>(
      emu,
      'DELETE',
      `/composite/sobjects?ids=${ids.slice(i, i + 200).join(',')}`,
    );
    if (!results.every((r) => r.success)) throw new Error(`The delete failed: ${JSON.stringify(results)}`);
  }
}

/** Deletes rows and empties them from the recycle bin, as a hard delete does. */
export async function hardDeleteRows(emu: RunningEmulator, ids: readonly string[]): Promise<void> {
  await deleteRows(emu, ids);
  const body = `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader><urn:sessionId>${emu.accessToken}</urn:sessionId></urn:SessionHeader></soapenv:Header><soapenv:Body><urn:emptyRecycleBin>${ids.map((id) => `<urn:ids>${id}</urn:ids>`).join('')}</urn:emptyRecycleBin></soapenv:Body></soapenv:Envelope>`;
  const response = await fetch(`${emu.instanceUrl}/services/Soap/u/62.0`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml', soapaction: '""' },
    body,
  });
  const text = await response.text();
  if (!response.ok || text.includes('<success>false</success>')) throw new Error('emptyRecycleBin failed.');
}

/** Updates rows the way an import tool does (sObject Collections). */
export async function importRows(
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
    if (!results.every((r) => r.success)) throw new Error(`The import failed: ${JSON.stringify(results)}`);
  }
}

/**
 * The org's data on every restorable field, independent of ids: each live row as its writable,
 * non-formula, non-audit values with references replaced by the referenced row's name, sorted.
 * Equal states mean the same data, however the ids differ after a restore.
 */
export async function orgState(
  emu: RunningEmulator,
  objects: readonly string[],
): Promise<Record<string, string[]>> {
  const dump = (await (await fetch(`${emu.instanceUrl}/__emulator/dump`)).json()) as {
    object: string;
    id: string;
    isDeleted: boolean;
    values: Record<string, unknown>;
  }[];
  const names = new Map(
    dump.map((r) => [
      r.id.slice(0, 15),
      `${String(r.values.Name ?? r.id)}${r.isDeleted ? ' (deleted)' : ''}`,
    ]),
  );
  const state: Record<string, string[]> = {};
  for (const object of objects) {
    const describe = await api<{
      fields: { name: string; type: string; createable: boolean; calculated: boolean }[];
    }>(emu, 'GET', `/sobjects/${object}/describe`);
    const fields = describe.fields.filter(
      (f) =>
        f.createable &&
        !f.calculated &&
        !AUDIT.has(f.name) &&
        !['address', 'location', 'base64'].includes(f.type),
    );
    state[object] = dump
      .filter((r) => r.object === object && !r.isDeleted)
      .map((r) =>
        JSON.stringify(
          fields.map((f) => {
            const v = r.values[f.name] ?? null;
            return f.type === 'reference' && typeof v === 'string'
              ? (names.get(v.slice(0, 15)) ?? `missing ${v}`)
              : v;
          }),
        ),
      )
      .sort();
  }
  return state;
}

/** Rows of `after` that differ from `before`, per object: how far the org is from its old state. */
export function stateDifference(
  before: Record<string, string[]>,
  after: Record<string, string[]>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const object of Object.keys(before)) {
    const a = [...(before[object] ?? [])];
    const b = [...(after[object] ?? [])];
    const remaining = new Map<string, number>();
    for (const row of b) remaining.set(row, (remaining.get(row) ?? 0) + 1);
    let missing = 0;
    for (const row of a) {
      const n = remaining.get(row) ?? 0;
      if (n > 0) remaining.set(row, n - 1);
      else missing += 1;
    }
    const extra = [...remaining.values()].reduce((x, y) => x + y, 0);
    if (missing + extra > 0) out[object] = Math.max(missing, extra);
  }
  return out;
}
