import { expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { SAMPLE_ORGS_DIR } from '../../emulator/fixtures/samples.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { type PointInTime, SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { type BackupSummary, type LocalBackupOptions, runLocalBackup } from '../../cli/commands/backup.ts';
import type { SnsMessage } from '../../cli/local/index.ts';

/** Where the sample orgs live. */
export const FIXTURES = SAMPLE_ORGS_DIR;
const fixtureRoot = process.env.SFBACKUP_FIXTURES ?? FIXTURES;

/** Starts the emulator on one sample org. */
export async function startSampleOrg(
  name: string,
  extra: { faults?: string; generate?: string } = {},
): Promise<RunningEmulator> {
  const dir = join(fixtureRoot, name);
  return startEmulator({
    projectDirs: [dir],
    planFiles: [join(dir, 'data', 'sample-data-plan.json')],
    ...extra,
  });
}

/** Settings that keep local runs quick and exact: no overlap, fast polls. */
export const TEST_SETTINGS = { overlapSeconds: 0, pollIntervalMs: 50 };

/** A fresh vault directory. */
export function freshStoreDir(): string {
  return mkdtempSync(join(tmpdir(), 'sfbackup-e2e-'));
}

/** Runs the synthesized backup workflow locally against the emulator. */
export async function backup(
  emu: RunningEmulator,
  dir: string,
  mode: LocalBackupOptions['mode'],
  settings: Record<string, unknown> = {},
  maxConcurrency?: number,
  options: { readonly enforcePolicies?: boolean } = {},
): Promise<{ summary: BackupSummary; sns: SnsMessage[] }> {
  const sns: SnsMessage[] = [];
  const { summary } = await runLocalBackup({
    instanceUrl: emu.instanceUrl,
    accessToken: emu.accessToken,
    store: dir,
    mode,
    org: 'sample',
    settings: { ...TEST_SETTINGS, ...settings },
    retryIntervalScale: 0,
    ...(maxConcurrency ? { maxConcurrency } : {}),
    ...(options.enforcePolicies ? { enforcePolicies: true } : {}),
    onSns: (m) => {
      sns.push(m);
    },
  });
  return { summary, sns };
}

/** API calls the emulator counted so far. */
export async function apiCallsUsed(
  emu: RunningEmulator,
): Promise<{ used: number; byEndpoint: Record<string, number> }> {
  const counts = (await (await fetch(`${emu.instanceUrl}/__emulator/counts`)).json()) as {
    apiRequests: { used: number };
    byEndpoint: Record<string, number>;
  };
  return { used: counts.apiRequests.used, byEndpoint: counts.byEndpoint };
}

/** Every row the org holds (deleted ones too), by object and id. */
export async function dumpRows(
  emu: RunningEmulator,
): Promise<Map<string, Map<string, Record<string, unknown>>>> {
  const rows = (await (await fetch(`${emu.instanceUrl}/__emulator/dump`)).json()) as {
    object: string;
    id: string;
    isDeleted: boolean;
    values: Record<string, unknown>;
  }[];
  const out = new Map<string, Map<string, Record<string, unknown>>>();
  for (const row of rows) {
    if (!out.has(row.object)) out.set(row.object, new Map());
    out.get(row.object)!.set(row.id, { ...row.values, IsDeleted: row.isDeleted });
  }
  return out;
}

/** The point-in-time reader over a vault directory. */
export async function latest(dir: string) {
  return new SnapshotReader(new LocalDirectoryStore(dir)).pointInTime('sample', 'latest');
}

/** Rows of an object at the latest point, by id. */
export async function snapshotRows(
  dir: string,
  object: string,
): Promise<Map<string, Record<string, string>>> {
  const pit = await latest(dir);
  const out = new Map<string, Record<string, string>>();
  for await (const row of pit.rows(object)) out.set(row.id, { ...row.values });
  return out;
}

/** Whether a CSV value from a snapshot says the same as a value from the org's dump. */
export function sameValue(csv: string, value: unknown): boolean {
  if (value === null || value === undefined) return csv === '';
  if (typeof value === 'boolean') return csv === String(value);
  if (typeof value === 'number') return Number(csv) === value;
  if (typeof value === 'string') {
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(value))
      return Date.parse(csv) === Date.parse(value.replace(/\+0000$/, 'Z'));
    return csv === value;
  }
  return true;
}

/** Waits until the wall clock has moved to a later second, so SystemModstamps before and after differ in SOQL's whole seconds. */
export async function nextSecond(): Promise<void> {
  const start = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) <= start) await new Promise((r) => setTimeout(r, 50));
}

/**
 * The rows of every object the latest point holds equal the org's (deleted ones too), field by
 * field where the org's dump has the field. Returns the dump for further checks.
 */
export async function expectLatestRowsEqualOrg(
  emu: RunningEmulator,
  dir: string,
): Promise<Map<string, Map<string, Record<string, unknown>>>> {
  const pit = await latest(dir);
  const dump = await dumpRows(emu);
  for (const object of pit.objectNames()) {
    const rows = await snapshotRows(dir, object);
    const orgRows = dump.get(object) ?? new Map();
    expect([...rows.keys()].sort(), object).toEqual([...orgRows.keys()].sort());
    for (const [id, values] of orgRows) {
      for (const [field, csv] of Object.entries(rows.get(id)!)) {
        if (field in values)
          expect(sameValue(csv, values[field]), `${object}.${field} of ${id}: ${csv}`).toBe(true);
      }
    }
  }
  return dump;
}

/** An org's rows by object and id, each field as a Bulk API 2.0 query result shows it (`org.dumpObject`). */
export type OrgDump = Map<string, Map<string, Record<string, string>>>;

/** The point in time of one snapshot of the test org. */
export async function pointInTimeOf(dir: string, snapshotId: string): Promise<PointInTime> {
  return new SnapshotReader(new LocalDirectoryStore(dir)).pointInTime('sample', snapshotId);
}

/**
 * Where a point in time differs from the org's rows: for every object it holds, ids it lacks or
 * has in excess, and every column of its CSV whose value is not exactly the org's (recycle-bin rows
 * included). One line per difference; empty when the view is the org.
 */
export async function viewDifferences(pit: PointInTime, dump: OrgDump): Promise<string[]> {
  const out: string[] = [];
  for (const object of pit.objectNames()) {
    const org = dump.get(object);
    if (!org) {
      out.push(`${object}: the org dump has no such object`);
      continue;
    }
    const columns = pit
      .fields(object)
      .filter((f) => f.inCsv)
      .map((f) => f.name);
    const seen = new Set<string>();
    for await (const row of pit.rows(object, { includeDeleted: true })) {
      seen.add(row.id);
      const values = org.get(row.id);
      if (!values) {
        out.push(`${object} ${row.id}: in the view (from ${row.snapshotId}), not in the org`);
        continue;
      }
      for (const column of columns) {
        const held = row.values[column];
        if (held === undefined)
          out.push(`${object} ${row.id}.${column}: not in the CSV of ${row.snapshotId}`);
        else if (!(column in values)) out.push(`${object} ${row.id}.${column}: the org has no such field`);
        else if (held !== values[column])
          out.push(
            `${object} ${row.id}.${column}: view ${JSON.stringify(held)} (from ${row.snapshotId}), org ${JSON.stringify(values[column])}`,
          );
      }
    }
    for (const id of org.keys()) if (!seen.has(id)) out.push(`${object} ${id}: in the org, not in the view`);
  }
  return out;
}

/** Posts to one of the emulator's control endpoints (`faults`, `settings`, ...). */
export async function emulatorControl(emu: RunningEmulator, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${emu.instanceUrl}/__emulator/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}
