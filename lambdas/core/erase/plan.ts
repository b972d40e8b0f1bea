/**
 * The erasure plan: the ids the request resolves to, and every stored version that holds one, by
 * key, with counts. It names keys, counts and ids only; never a value.
 */
import { createHash } from 'node:crypto';
import { ErasureTargetNotFoundError } from './errors.ts';
import {
  canonical18,
  erasuresPrefix,
  IdSet,
  journalLineHolds,
  journalLines,
  kindOf,
  orgVersions,
  parseCsv,
  rowErased,
  textOf,
} from './find.ts';
import { caseInsensitiveValue, type EraseRequest } from './input.ts';
import type { VersionedStore } from '../store.ts';

/** Version of the plan and log layout. */
export const ERASURE_FORMAT_VERSION = 1;

/** One stored key that holds an erased id in at least one of its versions. */
export interface PlannedKey {
  readonly key: string;
  readonly kind: 'part' | 'journal' | 'text' | 'other';
  readonly snapshotId?: string;
  readonly object?: string;
  /** Versions of the key that hold an erased id. */
  readonly versions: number;
  /** Rows (parts) or events (journal) that go, in the newest version holding any. */
  readonly rows: number;
}

/** What an erasure found, and will remove when confirmed. */
export interface ErasurePlan {
  readonly formatVersion: number;
  readonly org: string;
  readonly execution: string;
  readonly createdAt: string;
  readonly mode: 'dry-run' | 'erase';
  /** The ids to erase, 18 characters, as the vault holds them. */
  readonly ids: readonly string[];
  /** The object each id was found in. */
  readonly objectOf: Readonly<Record<string, string>>;
  /** Names of the filter's fields, when the request was a filter; never its values. */
  readonly filterFields?: readonly string[];
  /** The request the plan was made for, without the filter's values (see `requestFingerprint`). */
  readonly request: RequestFingerprint;
  readonly keys: readonly PlannedKey[];
  readonly summary: ErasureSummary;
}

/** The counts a plan and the workflow's output carry. */
export interface ErasureSummary {
  readonly ids: number;
  readonly snapshots: number;
  readonly parts: number;
  readonly journalObjects: number;
  readonly otherKeys: number;
  readonly versions: number;
  /** Rows that go, per object (parts), in the newest version of each part. */
  readonly rowsByObject: Readonly<Record<string, number>>;
  readonly journalEvents: number;
}

/**
 * What identifies a request: its mode, ids, object, filter field names and requester, and a
 * SHA-256 of the filter's values as the filter compares them; never the values themselves.
 */
export interface RequestFingerprint {
  readonly mode: 'dry-run' | 'erase';
  readonly ids: readonly string[];
  readonly object?: string;
  readonly filterFields?: readonly string[];
  readonly filterSha256?: string;
  readonly requestedBy: string;
}

/** The fingerprint of a request, as a plan stores it. */
export function requestFingerprint(request: EraseRequest): RequestFingerprint {
  const where = Object.entries(request.where ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const normalized = where.map(([field, value]) => [
    field,
    caseInsensitiveValue(value) ? value.trim().toLowerCase() : value,
  ]);
  return {
    mode: request.mode,
    ids: (request.ids ?? []).map((t) => t.input).sort(),
    ...(request.object !== undefined ? { object: request.object } : {}),
    ...(request.where
      ? {
          filterFields: where.map(([field]) => field),
          filterSha256: createHash('sha256').update(JSON.stringify(normalized)).digest('hex'),
        }
      : {}),
    requestedBy: request.requestedBy,
  };
}

/** Whether two fingerprints name the same request. */
export function sameRequest(stored: RequestFingerprint | undefined, wanted: RequestFingerprint): boolean {
  const tuple = (f: RequestFingerprint) =>
    JSON.stringify([
      f.mode,
      f.ids,
      f.object ?? null,
      f.filterFields ?? null,
      f.filterSha256 ?? null,
      f.requestedBy,
    ]);
  return stored !== undefined && tuple(stored) === tuple(wanted);
}

/** Key of the plan an execution writes. */
export const planKeyOf = (org: string, execution: string): string =>
  `${erasuresPrefix(org)}${execution}/plan.json`;

/**
 * Resolves the request to ids (every row the filter matched in any version of any snapshot or
 * journal object), then finds every version holding one. Refuses, naming them, ids found nowhere
 * and a filter that matched nothing.
 */
export async function planErasure(
  store: VersionedStore,
  org: string,
  request: EraseRequest,
  at: { execution: string; now: Date },
): Promise<ErasurePlan> {
  const { ids, objectOf } = await resolveIds(store, org, request);
  const set = new IdSet(ids);
  const keys = await findKeys(store, org, set);
  const rowsByObject: Record<string, number> = {};
  for (const k of keys)
    if (k.kind === 'part' && k.object) rowsByObject[k.object] = (rowsByObject[k.object] ?? 0) + k.rows;
  const summary: ErasureSummary = {
    ids: ids.length,
    snapshots: new Set(keys.filter((k) => k.snapshotId).map((k) => k.snapshotId)).size,
    parts: keys.filter((k) => k.kind === 'part').length,
    journalObjects: keys.filter((k) => k.kind === 'journal').length,
    otherKeys: keys.filter((k) => k.kind === 'text' || k.kind === 'other').length,
    versions: keys.reduce((n, k) => n + k.versions, 0),
    rowsByObject,
    journalEvents: keys.filter((k) => k.kind === 'journal').reduce((n, k) => n + k.rows, 0),
  };
  return {
    formatVersion: ERASURE_FORMAT_VERSION,
    org,
    execution: at.execution,
    createdAt: at.now.toISOString(),
    mode: request.mode,
    ids,
    objectOf,
    ...(request.where ? { filterFields: Object.keys(request.where).sort() } : {}),
    request: requestFingerprint(request),
    keys,
    summary,
  };
}

async function resolveIds(
  store: VersionedStore,
  org: string,
  request: EraseRequest,
): Promise<{ ids: string[]; objectOf: Record<string, string> }> {
  const found = new Map<string, Set<string>>(); // input -> ids found (18 characters)
  const objectOf: Record<string, string> = {};
  const targets = request.ids ?? [];
  for (const t of targets) found.set(t.input, new Set());
  const matchId = (value: string): string[] => {
    if (value.length !== 15 && value.length !== 18) return [];
    const v15 = value.slice(0, 15);
    return targets
      .filter((t) => (t.exact ? t.id15 === v15 : t.id15.toLowerCase() === v15.toLowerCase()))
      .map((t) => t.input);
  };
  const where = Object.entries(request.where ?? {});
  const equal = (stored: string | undefined, wanted: string): boolean =>
    stored !== undefined &&
    (caseInsensitiveValue(wanted)
      ? stored.trim().toLowerCase() === wanted.trim().toLowerCase()
      : stored === wanted);
  const filterHits = new Set<string>();
  for await (const version of orgVersions(store, org)) {
    const kind = kindOf(version.key);
    if (kind.kind === 'part') {
      if (request.object && kind.object !== request.object) continue;
      if (!version.key.slice(version.key.lastIndexOf('/') + 1).startsWith('part-')) continue;
      const table = parseCsv(textOf(await store.getVersion(version.key, version.versionId)));
      const idColumn = table.header.indexOf('Id');
      if (idColumn < 0) continue;
      const columns = where.map(([field, value]) => [table.header.indexOf(field), value] as const);
      for (const row of table.rows) {
        const id = row[idColumn] ?? '';
        for (const input of matchId(id)) {
          found.get(input)?.add(canonical18(id));
          objectOf[canonical18(id)] = kind.object!;
        }
        if (columns.length > 0 && columns.every(([i, value]) => i >= 0 && equal(row[i], value))) {
          filterHits.add(canonical18(id));
          objectOf[canonical18(id)] = kind.object!;
        }
      }
    } else if (kind.kind === 'journal') {
      for (const line of journalLines(textOf(await store.getVersion(version.key, version.versionId)))) {
        if (request.object && line.sort.entityName !== request.object) continue;
        for (const id of line.sort.recordIds) {
          for (const input of matchId(id)) {
            found.get(input)?.add(canonical18(id));
            objectOf[canonical18(id)] ??= line.sort.entityName;
          }
        }
        const payload = (line.event as { detail?: { payload?: Record<string, unknown> } }).detail?.payload;
        if (
          where.length > 0 &&
          payload &&
          where.every(([field, value]) =>
            equal(typeof payload[field] === 'string' ? payload[field] : undefined, value),
          )
        ) {
          for (const id of line.sort.recordIds) {
            filterHits.add(canonical18(id));
            objectOf[canonical18(id)] ??= line.sort.entityName;
          }
        }
      }
    }
  }
  if (request.where) {
    if (filterHits.size === 0) {
      throw new ErasureTargetNotFoundError(
        `The filter on ${request.object} (${Object.keys(request.where).join(', ')}) matched no row in any snapshot or journal object of org ${org}; nothing was erased. Check the object and field names and the value, or erase by id.`,
      );
    }
    const ids = [...filterHits].sort();
    return { ids, objectOf: pick(objectOf, ids) };
  }
  const missing = targets.filter((t) => (found.get(t.input)?.size ?? 0) === 0).map((t) => t.input);
  if (missing.length > 0) {
    throw new ErasureTargetNotFoundError(
      `${missing.length === 1 ? 'The id' : 'The ids'} ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} in no snapshot or journal object of org ${org}${request.object ? ` (object ${request.object})` : ''}; nothing was erased. Check the ${missing.length === 1 ? 'id' : 'ids'} against the org, or leave out the object if it names the wrong one.`,
    );
  }
  const ambiguous = targets.filter((t) => (found.get(t.input)?.size ?? 0) > 1).map((t) => t.input);
  if (ambiguous.length > 0) {
    throw new ErasureTargetNotFoundError(
      `The 15-character ${ambiguous.length === 1 ? 'id' : 'ids'} ${ambiguous.join(', ')} match more than one record when case is ignored; nothing was erased. Write the 18-character id, whose last three characters fix the casing.`,
    );
  }
  const ids = [...new Set(targets.flatMap((t) => [...(found.get(t.input) ?? [])]))].sort();
  return { ids, objectOf: pick(objectOf, ids) };
}

function pick(all: Record<string, string>, ids: readonly string[]): Record<string, string> {
  return Object.fromEntries(ids.map((id) => [id, all[id] ?? '']));
}

/** Every key with a version holding an erased id, with how many versions and rows. */
async function findKeys(store: VersionedStore, org: string, ids: IdSet): Promise<PlannedKey[]> {
  const byKey = new Map<string, PlannedKey>();
  const prefixes = ids.prefixes();
  for await (const version of orgVersions(store, org)) {
    const kind = kindOf(version.key);
    const body = await store.getVersion(version.key, version.versionId);
    let rows = 0;
    let holds = false;
    if (kind.kind === 'part') {
      const table = parseCsv(textOf(body));
      rows = table.rows.filter((r) => rowErased(table, r, ids, kind.object!, version.key)).length;
      // An erased id in another record's lookup is kept (docs/erasure.md): the row is not the person's.
      holds = rows > 0;
    } else if (kind.kind === 'journal') {
      // Another record's event naming an erased id in a lookup is kept, as the scan keeps it.
      const held = journalLines(textOf(body)).map((l) => journalLineHolds(l, ids));
      rows = held.filter((h) => h.erased).length;
      holds = rows > 0 || held.some((h) => h.trace);
    } else {
      const text = kind.kind === 'text' ? textOf(body) : Buffer.from(body).toString('latin1');
      holds = prefixes.some((p) => text.includes(p));
    }
    if (!holds) continue;
    const previous = byKey.get(version.key);
    const entry: PlannedKey = {
      key: version.key,
      kind: kind.kind,
      ...(kind.snapshotId ? { snapshotId: kind.snapshotId } : {}),
      ...(kind.object ? { object: kind.object } : {}),
      versions: (previous?.versions ?? 0) + 1,
      rows: Math.max(previous?.rows ?? 0, rows),
    };
    byKey.set(version.key, entry);
  }
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}
