/**
 * The invariants a resilience campaign holds every run to, as pure comparisons of what the vault
 * says against what the org holds. Each returns the problems it found; an empty list means it held.
 */
import { createHash } from 'node:crypto';
import type { BackupStore } from '../../lambdas/core/store.ts';
import { catalogKey, latestPointerKey } from '../../lambdas/core/snapshot/keys.ts';
import { type PointInTime, SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';

/** One row of the org's dump: its values, IsDeleted included. */
export type OrgRow = Record<string, unknown>;
/** The org as the emulator's dump gives it: rows by object, then by id. */
export type OrgDump = Map<string, Map<string, OrgRow>>;

/** The invariants, by the name the campaign's table prints. */
export const INVARIANTS = [
  'complete-but-wrong snapshot',
  'latest pointer moved back',
  'duplicated rows after a restore',
  'restore succeeded over a wrong org',
] as const;
/** One of the invariants. */
export type Invariant = (typeof INVARIANTS)[number];

/** Audit fields a restore cannot set and a backup compares as they are. */
const AUDIT = new Set([
  'CreatedDate',
  'CreatedById',
  'LastModifiedDate',
  'LastModifiedById',
  'SystemModstamp',
]);

/**
 * Whether a CSV value from a snapshot says the same as a value from the org's dump (as
 * test/backup/e2e-support.ts compares them; kept here so the checks load no server).
 */
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

/** How many problems of one run the campaign keeps in its report. */
const SHOWN = 5;

/**
 * Compares a complete snapshot's point in time with one state of the org, object by object:
 * the same row ids, deleted rows included, with the same value in every column the snapshot
 * holds. `hardDeleted` names rows the campaign purged from the recycle bin: an incremental
 * snapshot keeps them by design (only a full run notices a purge), so they are not counted.
 */
export async function snapshotDiffers(
  pit: PointInTime,
  org: OrgDump,
  hardDeleted: ReadonlySet<string>,
): Promise<string[]> {
  const problems: string[] = [];
  const incremental = pit.target.mode === 'incremental';
  for (const object of pit.objectNames()) {
    const live = org.get(object) ?? new Map<string, OrgRow>();
    const seen = new Set<string>();
    for await (const row of pit.rows(object)) {
      seen.add(row.id);
      const actual = live.get(row.id);
      if (!actual) {
        if (!(incremental && hardDeleted.has(row.id))) problems.push(`${object} ${row.id}: not in the org`);
        continue;
      }
      for (const [field, value] of Object.entries(row.values)) {
        if (field.includes('.') || !(field in actual)) continue;
        if (!sameValue(value, actual[field])) problems.push(`${object} ${row.id}: ${field} differs`);
      }
    }
    for (const id of live.keys())
      if (!seen.has(id)) problems.push(`${object} ${id}: missing from the snapshot`);
  }
  return problems.slice(0, SHOWN);
}

/**
 * Checks a complete snapshot's own records: the catalog entry's manifest checksum and every
 * part, file and metadata zip against the manifest.
 */
export async function snapshotIntegrity(
  store: BackupStore,
  org: string,
  snapshotId: string,
): Promise<string[]> {
  const reader = new SnapshotReader(store);
  const entry = (await reader.catalog(org)).find((e) => e.snapshotId === snapshotId);
  if (!entry) return [`${snapshotId}: no catalog entry (${catalogKey(org, snapshotId)})`];
  if (!entry.manifestKey) return [`${snapshotId}: complete without a manifest`];
  const manifestBytes = await store.get(entry.manifestKey);
  const sha = createHash('sha256').update(manifestBytes).digest('hex');
  const problems: string[] = [];
  if (entry.manifestSha256 !== sha) problems.push(`${snapshotId}: the manifest does not match its checksum`);
  const manifest = await reader.manifest(org, snapshotId);
  for (const problem of await verifySnapshot(store, manifest, { hashBodies: true }))
    problems.push(`${snapshotId}: ${problem}`);
  return problems.slice(0, SHOWN);
}

/** The snapshot the org's latest pointer names now, if there is one and it can be read whole. */
export async function readLatestPointer(store: BackupStore, org: string): Promise<string | undefined> {
  try {
    const text = new TextDecoder().decode(await store.get(latestPointerKey(org)));
    return (JSON.parse(text) as { snapshotId?: string }).snapshotId;
  } catch {
    // No pointer yet (or the directory store is swapping it in): nothing to compare.
    return undefined;
  }
}

/** The natural key of a row, from the generator's unique values, or undefined for an object without one. */
export function naturalKey(object: string, row: Readonly<Record<string, unknown>>): string | undefined {
  const text = (field: string) => {
    const v = row[field];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  if (object.startsWith('Gen_Object_')) return text('External_Id__c');
  if (object === 'Account') return text('Name');
  if (object === 'Contact') return text('LastName');
  return undefined;
}

/** Natural keys held by more than one live row, as `<object> <key>`, with how many rows hold each. */
export function duplicatedKeys(org: OrgDump, objects: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const object of objects) {
    for (const row of org.get(object)?.values() ?? []) {
      if (row.IsDeleted === true) continue;
      const key = naturalKey(object, row);
      if (key !== undefined) counts.set(`${object} ${key}`, (counts.get(`${object} ${key}`) ?? 0) + 1);
    }
  }
  for (const [key, n] of counts) if (n < 2) counts.delete(key);
  return counts;
}

/**
 * After a restore reported success: the live rows of each object in its scope, matched by
 * natural key, are exactly the snapshot's live rows, with the snapshot's value in every field a
 * restore writes. References are compared by the natural key of the row they point at, since a
 * row inserted again gets a new id.
 */
export async function restoredScopeDiffers(
  pit: PointInTime,
  org: OrgDump,
  objects: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  const labels = new Map<string, string>();
  const label = (object: string, id: string, row: Readonly<Record<string, unknown>>) =>
    labels.set(id.slice(0, 15), `${object}:${naturalKey(object, row) ?? id}`);
  for (const [object, rows] of org) for (const [id, row] of rows) label(object, id, row);
  const expected = new Map<string, Map<string, Readonly<Record<string, string>>>>();
  for (const object of pit.objectNames()) {
    const rows = new Map<string, Readonly<Record<string, string>>>();
    for await (const row of pit.rows(object)) {
      label(object, row.id, row.values);
      const key = naturalKey(object, row.values);
      if (!row.deleted && key !== undefined) rows.set(key, row.values);
    }
    expected.set(object, rows);
  }
  const refer = (value: unknown) =>
    typeof value === 'string' && value.length >= 15 ? (labels.get(value.slice(0, 15)) ?? value) : value;
  for (const object of objects) {
    const fields = pit
      .fields(object)
      .filter(
        (f) =>
          f.inCsv &&
          (f.createable || f.updateable) &&
          !f.calculated &&
          !AUDIT.has(f.name) &&
          f.name !== 'Id' &&
          f.name !== 'IsDeleted',
      );
    const want = expected.get(object) ?? new Map();
    const have = new Map<string, OrgRow>();
    const copies = new Map<string, number>();
    for (const row of org.get(object)?.values() ?? []) {
      const key = naturalKey(object, row);
      if (row.IsDeleted === true || key === undefined) continue;
      have.set(key, row);
      copies.set(key, (copies.get(key) ?? 0) + 1);
    }
    for (const key of want.keys()) if (!have.has(key)) problems.push(`${object} ${key}: not brought back`);
    for (const key of have.keys())
      if (!want.has(key)) problems.push(`${object} ${key}: live, not in the snapshot`);
    for (const [key, n] of copies) if (n > 1) problems.push(`${object} ${key}: ${n} live rows`);
    for (const [key, values] of want) {
      const row = have.get(key);
      if (!row) continue;
      for (const f of fields) {
        const snapshot = values[f.name] ?? '';
        const actual = row[f.name];
        const same =
          f.type === 'reference'
            ? (snapshot === '' ? null : refer(snapshot)) === (actual == null ? null : refer(actual))
            : sameValue(snapshot, actual);
        if (!same) problems.push(`${object} ${key}: ${f.name} differs`);
      }
    }
  }
  return problems.slice(0, SHOWN);
}
