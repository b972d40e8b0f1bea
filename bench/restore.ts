/**
 * Benchmark "restore": rows with references (a parent object, a child object pointing at it, both
 * self-referencing) hard-deleted and brought back by the restore workflow, against inserting the
 * same rows with plain sObject Collections (parents first, then a second pass for self-references)
 * and against Salesforce's CLI, `sf data import bulk`, used as a user would: parents, a script
 * mapping their new ids into the children's CSV, children, then `sf data update bulk` per object
 * for the self-references.
 */
import {
  cpSync,
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { runLocalRestore } from '../cli/commands/restore.ts';
import { freshVault, ORG_KEY, timedBackup } from './backup-run.ts';
import type { BenchOptions } from './options.ts';
import { apiCallsUsed, type EmulatorProcess, startEmulatorProcess } from './proc.ts';
import type { Report } from './report.ts';
import { loginSf, type SfPeer } from './sf-peer.ts';

const PARENT = 'Gen_Object_0001__c';
const CHILD = 'Gen_Object_0002__c';
const BATCH = 200;
const NOT_COPIED = new Set([
  'Id',
  'CreatedDate',
  'CreatedById',
  'LastModifiedDate',
  'LastModifiedById',
  'SystemModstamp',
  'IsDeleted',
]);

type Row = Record<string, unknown>;

async function api<T>(emu: EmulatorProcess, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${emu.instanceUrl}/services/data/v62.0${path}`, {
    method,
    headers: { authorization: `Bearer ${emu.accessToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Live rows of the two objects, written one JSON line per row to a file per object. */
interface RowFiles {
  readonly ids: string[];
  readonly files: ReadonlyMap<string, string>;
}

/**
 * Reads the emulator's dump line by line (a large org's dump is longer than the longest string V8
 * can hold) and keeps the two objects' live rows on disk, not in this process's heap: the
 * measured restore runs in this process and must not pay for the benchmark's own copy.
 */
async function liveRows(emu: EmulatorProcess): Promise<RowFiles> {
  const response = await fetch(`${emu.instanceUrl}/__emulator/dump`);
  if (!response.ok || !response.body) throw new Error(`GET /__emulator/dump: HTTP ${response.status}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-rows-'));
  const files = new Map([PARENT, CHILD].map((o) => [o, join(dir, `${o}.jsonl`)]));
  const writers = new Map([...files].map(([o, file]) => [o, createWriteStream(file)]));
  const ids: string[] = [];
  const take = (line: string) => {
    const text = line.trim().replace(/^\[/, '').replace(/\]$/, '').replace(/,$/, '');
    if (!text.startsWith('{')) return;
    const row = JSON.parse(text) as { object: string; id: string; isDeleted: boolean; values: Row };
    const writer = writers.get(row.object);
    if (row.isDeleted || !writer) return;
    ids.push(row.id);
    writer.write(`${JSON.stringify({ ...row.values, Id: row.id })}\n`);
  };
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      take(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  }
  take(buffered + decoder.decode());
  await Promise.all([...writers.values()].map((w) => new Promise((resolve) => w.end(resolve))));
  return { ids, files };
}

/** Rows of one object's file, 200 at a time. */
async function* batchesOf(file: string): AsyncIterable<Row[]> {
  let batch: Row[] = [];
  for await (const line of createInterface({
    input: createReadStream(file),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    if (line.trim() === '') continue;
    batch.push(JSON.parse(line) as Row);
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Deletes rows and empties them from the recycle bin, 200 at a time: they can only come back under new ids. */
async function hardDelete(emu: EmulatorProcess, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    const results = await api<{ success: boolean }[]>(
      emu,
      'DELETE',
      `/composite/sobjects?ids=${batch.join(',')}&allOrNone=false`,
    );
    if (!results.every((r) => r.success)) throw new Error('A benchmark delete failed');
    const envelope = `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader><urn:sessionId>${emu.accessToken}</urn:sessionId></urn:SessionHeader></soapenv:Header><soapenv:Body><urn:emptyRecycleBin>${batch.map((id) => `<urn:ids>${id}</urn:ids>`).join('')}</urn:emptyRecycleBin></soapenv:Body></soapenv:Envelope>`;
    const response = await fetch(`${emu.instanceUrl}/services/Soap/u/62.0`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml', soapaction: '""' },
      body: envelope,
    });
    const text = await response.text();
    if (!response.ok || text.includes('<success>false</success>')) throw new Error('emptyRecycleBin failed');
  }
}

/** Createable, non-audit fields of an object, apart from the two lookups the loop maps itself. */
async function copiedFields(emu: EmulatorProcess, object: string): Promise<string[]> {
  const describe = await api<{ fields: { name: string; createable: boolean; type: string }[] }>(
    emu,
    'GET',
    `/sobjects/${object}/describe`,
  );
  return describe.fields
    .filter(
      (f) => f.createable && !NOT_COPIED.has(f.name) && f.name !== 'Parent__c' && f.name !== 'Related__c',
    )
    .map((f) => f.name);
}

/**
 * The plain way: sObject Collections of 200, the parent object first (its lookup to Account kept),
 * then the child (its lookup rewritten to the parents' new ids), then the self-references.
 */
async function collectionsLoop(emu: EmulatorProcess, rows: RowFiles): Promise<number> {
  const newIds = new Map<string, string>();
  const selfRefs: { object: string; oldId: string; parent: string }[] = [];
  for (const object of [PARENT, CHILD]) {
    const fields = await copiedFields(emu, object);
    for await (const batch of batchesOf(rows.files.get(object) ?? '')) {
      const records = batch.map((row) => {
        const record: Row = { attributes: { type: object } };
        for (const f of fields) if (row[f] !== undefined && row[f] !== null) record[f] = row[f];
        const related = row.Related__c as string | null;
        if (related) record.Related__c = object === PARENT ? related : newIds.get(related);
        if (row.Parent__c) selfRefs.push({ object, oldId: String(row.Id), parent: String(row.Parent__c) });
        return record;
      });
      const results = await api<{ id: string; success: boolean; errors: unknown[] }[]>(
        emu,
        'POST',
        '/composite/sobjects',
        {
          allOrNone: false,
          records,
        },
      );
      results.forEach((r, k) => {
        if (!r.success) throw new Error(`Insert refused: ${JSON.stringify(r.errors).slice(0, 300)}`);
        newIds.set(String(batch[k]?.Id), r.id);
      });
    }
  }
  for (let i = 0; i < selfRefs.length; i += BATCH) {
    const records = selfRefs.slice(i, i + BATCH).map((s) => ({
      attributes: { type: s.object },
      Id: newIds.get(s.oldId),
      Parent__c: newIds.get(s.parent),
    }));
    const results = await api<{ success: boolean }[]>(emu, 'PATCH', '/composite/sobjects', {
      allOrNone: false,
      records,
    });
    if (!results.every((r) => r.success)) throw new Error('A self-reference update was refused');
  }
  return newIds.size;
}

/** A CSV cell as `sf data import bulk` reads it: empty for no value, quoted otherwise. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  return `"${String(value).replace(/"/g, '""')}"`;
}

/**
 * The CLI way: each object's rows written to a CSV and imported with `sf data import bulk`, the
 * parents first; a mapping script reads the parents' new ids from `sf data bulk results` (rows
 * matched back by their values, since Salesforce returns them grouped by outcome) and writes them
 * into the children's CSV; then one `sf data update bulk` per object sets the self-references.
 */
async function sfImport(emu: EmulatorProcess, rows: RowFiles, peer: SfPeer): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sf-import-'));
  const newIds = new Map<string, string>();
  const selfRefs = new Map<string, { oldId: string; parent: string }[]>();
  for (const object of [PARENT, CHILD]) {
    const columns = [...(await copiedFields(emu, object)), 'Related__c'];
    const lines: string[] = [columns.join(',')];
    const oldIdsByKey = new Map<string, string[]>();
    for await (const batch of batchesOf(rows.files.get(object) ?? '')) {
      for (const row of batch) {
        const related = row.Related__c as string | null;
        const values = columns.map((c) =>
          c === 'Related__c' ? (related && object !== PARENT ? newIds.get(related) : related) : row[c],
        );
        lines.push(values.map(csvCell).join(','));
        const key = values.map((v) => (v === null || v === undefined ? '' : String(v))).join('\u0001');
        oldIdsByKey.set(key, [...(oldIdsByKey.get(key) ?? []), String(row.Id)]);
        if (row.Parent__c) {
          const list = selfRefs.get(object) ?? [];
          list.push({ oldId: String(row.Id), parent: String(row.Parent__c) });
          selfRefs.set(object, list);
        }
      }
    }
    const file = join(dir, `${object}.csv`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const results = await peer.bulkResults(await peer.importBulk(object, file));
    if (results.failed > 0) throw new Error(`sf data import bulk (${object}): ${results.failed} rows failed`);
    const succeeded = parse(readFileSync(results.successFile), { columns: true }) as Record<string, string>[];
    for (const r of succeeded) {
      const key = columns.map((c) => r[c] ?? '').join('\u0001');
      const oldId = oldIdsByKey.get(key)?.shift();
      if (!oldId || !r.sf__Id) throw new Error(`The mapping script could not match a ${object} result row`);
      newIds.set(oldId, r.sf__Id);
    }
  }
  for (const [object, refs] of selfRefs) {
    const file = join(dir, `${object}-self.csv`);
    const lines = refs.map((s) => `${newIds.get(s.oldId)},${newIds.get(s.parent) ?? ''}`);
    writeFileSync(file, `Id,Parent__c\n${lines.join('\n')}\n`);
    await peer.updateBulk(object, file);
  }
  return newIds.size;
}

/** One restore workflow run, timed from its first event (synthesis is a local step). */
async function timedRestore(
  emu: EmulatorProcess,
  vault: string,
): Promise<{ seconds: number; calls: number }> {
  const callsBefore = await apiCallsUsed(emu);
  let started: number | undefined;
  const { summary } = await runLocalRestore({
    instanceUrl: emu.instanceUrl,
    accessToken: emu.accessToken,
    store: vault,
    org: ORG_KEY,
    input: { snapshot: 'latest', objects: [PARENT, CHILD], mode: 'restore-deleted', confirmOrgId: emu.orgId },
    retryIntervalScale: 0.02,
    onEvent: () => {
      started ??= performance.now();
    },
  });
  const seconds = (performance.now() - (started ?? performance.now())) / 1000;
  if (summary.status !== 'SUCCEEDED')
    throw new Error(`The restore ended ${summary.status}: ${summary.message}`);
  return { seconds, calls: (await apiCallsUsed(emu)) - callsBefore };
}

/** The modelled server time: per API call, and per row written (see docs/performance.md). */
interface ServerModel {
  readonly callMs: number;
  readonly rowMs: number;
}

const NO_MODEL: ServerModel = { callMs: 0, rowMs: 0 };

async function setModel(emu: EmulatorProcess, model: ServerModel): Promise<void> {
  const rules = [
    ...(model.callMs > 0 ? [`*:latency=${model.callMs}ms`] : []),
    ...(model.rowMs > 0 ? [`*:row-time=${model.rowMs}ms`] : []),
  ];
  const response = await fetch(`${emu.instanceUrl}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ spec: rules.join(',') }),
  });
  if (!response.ok) throw new Error(`Setting the emulator's server time failed: HTTP ${response.status}`);
}

interface Timed {
  readonly seconds: number;
  readonly calls: number;
}

/** Times `work` with the model set, counting the API calls it makes. */
async function timedWith(
  emu: EmulatorProcess,
  model: ServerModel,
  work: () => Promise<number>,
): Promise<Timed & { rows: number }> {
  const callsBefore = await apiCallsUsed(emu);
  await setModel(emu, model);
  const started = performance.now();
  const rows = await work();
  const seconds = (performance.now() - started) / 1000;
  await setModel(emu, NO_MODEL);
  return { seconds, calls: (await apiCallsUsed(emu)) - callsBefore, rows };
}

/**
 * Hard-deletes every live row of both objects, then restores them with the workflow (from a
 * pristine copy of the vault, so no earlier run's id map is reused), hard-deletes them again and
 * inserts them with the collections loop (when asked: its API calls are the reference), then again
 * with `sf data import bulk`.
 */
async function round(
  emu: EmulatorProcess,
  vault: string,
  original: RowFiles,
  peer: SfPeer,
  model: ServerModel,
  withLoop: boolean,
): Promise<{ workflow: Timed; loop: Timed | undefined; sf: Timed }> {
  const total = original.ids.length;
  await hardDelete(emu, (await liveRows(emu)).ids);
  const copy = mkdtempSync(join(tmpdir(), 'bench-restore-vault-'));
  cpSync(vault, copy, { recursive: true });
  await setModel(emu, model);
  const workflow = await timedRestore(emu, copy);
  await setModel(emu, NO_MODEL);
  const restored = (await liveRows(emu)).ids;
  if (restored.length !== total)
    throw new Error(`The restore brought back ${restored.length} of ${total} rows`);
  await hardDelete(emu, restored);
  let loop: Timed | undefined;
  if (withLoop) {
    const inserted = await timedWith(emu, model, () => collectionsLoop(emu, original));
    if (inserted.rows !== total)
      throw new Error(`The collections loop inserted ${inserted.rows} of ${total} rows`);
    loop = inserted;
    await hardDelete(emu, (await liveRows(emu)).ids);
  }
  const sf = await timedWith(emu, model, () => sfImport(emu, original, peer));
  if (sf.rows !== total) throw new Error(`sf data import bulk inserted ${sf.rows} of ${total} rows`);
  const imported = (await liveRows(emu)).ids.length;
  if (imported !== total) throw new Error(`sf data import bulk left ${imported} of ${total} rows in the org`);
  return { workflow, loop, sf };
}

/**
 * The modelled round's server time (docs/performance.md gives the sources): per API call,
 * Salesforce spends this or more on a 200-row write; per row written, an assumption.
 */
const MODEL: ServerModel = { callMs: 200, rowMs: 1 };

/** Runs benchmark "restore". */
export async function benchRestore(report: Report, o: BenchOptions): Promise<void> {
  const perObject = Math.floor(o.restoreRows / 2);
  const section = `Restore: ${(perObject * 2).toLocaleString('en-US')} rows with references`;
  const emu = await startEmulatorProcess({
    generate: `objects=2,rows=${perObject},fields=12,seed=42,files=0,activities=0`,
  });
  try {
    const vault = freshVault();
    await timedBackup(emu, vault, 'full', {
      settings: { metadata: false, files: false, pollIntervalMs: 200 },
    });
    const original = await liveRows(emu);
    const rows = original.ids.length;
    const add = report.section(section);
    add('restore.rows', 'rows hard-deleted and restored', rows, 'rows');
    const peer = await loginSf(emu);
    try {
      const plain = await round(emu, vault, original, peer, NO_MODEL, true);
      const loop = plain.loop!;
      add(
        'restore.workflow_s',
        'restore workflow (plan, write, re-link, verify)',
        plain.workflow.seconds,
        's',
      );
      add('restore.workflow.rows_per_s', 'restore workflow', rows / plain.workflow.seconds, 'rows/s');
      add(
        'restore.collections_s',
        'sObject Collections, parents first, then self-references',
        loop.seconds,
        's',
      );
      add('restore.collections.rows_per_s', 'sObject Collections loop', rows / loop.seconds, 'rows/s');
      add(
        'restore.sf_import_s',
        'sf data import bulk: parents, id mapping, children, self-reference updates',
        plain.sf.seconds,
        's',
      );
      add('restore.sf_import.rows_per_s', 'sf data import bulk', rows / plain.sf.seconds, 'rows/s');
      add(
        'restore.workflow.api_calls',
        'restore workflow, API calls (verification included)',
        plain.workflow.calls,
        'calls',
      );
      add('restore.collections.api_calls', 'sObject Collections loop, API calls', loop.calls, 'calls');
      add('restore.sf_import.api_calls', 'sf data import bulk, API calls', plain.sf.calls, 'calls');
      const per10k = (calls: number) => (calls * 10_000) / rows;
      add(
        'restore.workflow.api_calls_per_10k',
        'restore workflow, API calls per 10,000 rows',
        per10k(plain.workflow.calls),
        'calls',
      );
      const callRatio = plain.workflow.calls / loop.calls;
      add(
        'restore.ratio.calls_to_collections',
        'restore workflow / collections loop, API calls per 10,000 rows',
        callRatio,
        'ratio',
        ['<= 1.2', callRatio <= 1.2],
      );
      add(
        'restore.ratio.workflow_to_collections',
        'restore workflow / collections loop (throughput; the loop checks nothing and keeps no id map)',
        loop.seconds / plain.workflow.seconds,
        'ratio',
      );
      const sfRatio = plain.sf.seconds / plain.workflow.seconds;
      add(
        'restore.ratio.workflow_to_sf_import',
        'restore workflow / sf data import bulk (throughput)',
        sfRatio,
        'ratio',
        ['>= 1.0', sfRatio >= 1],
      );
      const modelled = await round(emu, vault, original, peer, MODEL, false);
      add('restore.latency_ms', 'modelled server time per API call (second round)', MODEL.callMs, 'ms');
      add('restore.row_time_ms', 'modelled server time per row written (second round)', MODEL.rowMs, 'ms');
      add(
        'restore.latency.workflow_s',
        'restore workflow, with that server time',
        modelled.workflow.seconds,
        's',
      );
      add(
        'restore.latency.sf_import_s',
        'sf data import bulk, with that server time',
        modelled.sf.seconds,
        's',
      );
      const modelledSf = modelled.sf.seconds / modelled.workflow.seconds;
      add(
        'restore.ratio.latency_workflow_to_sf_import',
        'restore workflow / sf data import bulk, with that server time',
        modelledSf,
        'ratio',
        ['>= 1.0', modelledSf >= 1],
      );
    } finally {
      peer.cleanup();
    }
  } finally {
    await emu.stop();
  }
}
