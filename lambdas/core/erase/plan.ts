/**
 * The erasure plan: the ids the request resolves to, and every stored version that holds one, by
 * key, with counts. It names keys, counts and ids only; never a value.
 */
import { keysItRemovesFrom, lockedVersions } from './locks.ts';
import { createHash } from 'node:crypto';
import { ErasureImpossibleError, ErasureTargetNotFoundError } from './errors.ts';
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
import { restorePrefixOf } from '../../../contract/workflow-contract.ts';
import { checkOrgKey } from '../snapshot/keys.ts';
import { Copies, CopyTally } from './copies.ts';
import { caseInsensitiveValue, type EraseRequest } from './input.ts';
import { ValueCollector, ValueMatcher, type ValueDigests } from './values.ts';
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
  /** Copies of her values in other records' fields, in the version holding most (kept ones aside). */
  readonly copies?: number;
  /** True when no version holds her id: the key is rewritten for the copies only. */
  readonly onlyCopies?: true;
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
  /** Fields whose copies of her values stay, as the request asked (`Object.Field`). */
  readonly keepCopiesIn?: readonly string[];
  /** Per field, up to 100 ids of other records holding a copy of her values. */
  readonly copyRecords: Readonly<Record<string, readonly string[]>>;
  /**
   * The digests of her values (see values.ts), for the erase and the last scan; only in a plan
   * to carry out, and removed from it by the last step. A dry run's plan never holds them.
   */
  readonly values?: ValueDigests;
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
  /** Her distinct e-mail addresses, phone numbers and full names, found in her rows and events. */
  readonly values: number;
  /** Copies of them in other records, to blank, per `Object.Field`. */
  readonly copiesByField: Readonly<Record<string, number>>;
  /** Copies in the fields the request keeps, per `Object.Field`. */
  readonly keptCopiesByField: Readonly<Record<string, number>>;
  /** Batches of a stopped restore that hold her: an erase is refused until that restore ends. */
  readonly openRestoreBatches: number;
  /** Files whose bytes hold her id or the filter's value: an erase is refused until they are gone. */
  readonly unrewritableFiles: number;
  /**
   * Versions to remove that are under a legal hold or a retention the erase role cannot bypass:
   * an erase is refused until they are free.
   */
  readonly lockedVersions: number;
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
  readonly keepCopiesIn?: readonly string[];
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
    ...(request.keepCopiesIn ? { keepCopiesIn: [...request.keepCopiesIn] } : {}),
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
      f.keepCopiesIn ?? [],
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
  options: { readonly bypassGovernance?: boolean } = {},
): Promise<ErasurePlan> {
  // A request by id finds her rows, and so her values, as it resolves; a filter knows her ids
  // only once every version was read, so her values take a pass of their own.
  const byId = new ValueCollector();
  const resolved = await resolveIds(store, org, request, byId);
  const { ids, objectOf } = await withPairedIds(store, org, resolved);
  const set = new IdSet(ids);
  const collector =
    request.ids && ids.length === resolved.ids.length ? byId : await collectValues(store, org, set);
  const values = collector.digests();
  const tally = new CopyTally();
  const copies = new Copies(new ValueMatcher(values), new Set(request.keepCopiesIn ?? []));
  const keys = await findKeys(store, org, set, copies, tally, Object.values(request.where ?? {}));
  const files = keys.filter((k) => k.kind === 'other');
  if (files.length > 0 && request.mode === 'erase') {
    throw new ErasureImpossibleError(
      `${files.length} stored file(s) of org ${org} (file bodies or metadata archives) hold her id or the filter's value in their bytes (first: ${files
        .slice(0, 3)
        .map((k) => k.key)
        .join(
          ', ',
        )}). An erasure cannot rewrite a file's bytes, and its last scan would fail on them. Nothing was written. Find the documents they are in the manifests' files lists, remove those files' versions with the break-glass role, then start the erasure again.`,
    );
  }
  const open = await openRestoreBatches(store, keys);
  if (open.length > 0 && request.mode === 'erase') {
    throw new ErasureImpossibleError(
      `A restore of org ${org} stopped part way, and ${open.length} of its open batches hold her id or a copy of her values (first: ${open.slice(0, 3).join(', ')}). A restore matches the rows such a batch created by their values: rewritten, they would no longer match, and the restore run again would create them twice. Nothing was written. Run that restore again with the same input until it ends, then start the erasure again.`,
    );
  }
  const locked = await lockedVersions(
    store,
    await keysItRemovesFrom(store, org, keys),
    at.now,
    options.bypassGovernance ?? false,
  );
  if (locked.length > 0 && request.mode === 'erase') {
    throw new ErasureImpossibleError(
      `${locked.length} version(s) the erasure would remove are locked (first: ${locked
        .slice(0, 3)
        .map((v) => `${v.key} version ${v.versionId}: ${v.why}`)
        .join(
          '; ',
        )}). Nothing was written. Lift each legal hold (s3:PutObjectLegalHold, with the break-glass role); for a retention, wait until it ends, or, for a GOVERNANCE one, have the break-glass role shorten or remove it (s3:PutObjectRetention with the governance bypass); then start the erasure again. The dry run counts them (lockedVersions).`,
    );
  }
  const rowsByObject: Record<string, number> = {};
  const hers = keys.filter((k) => !k.onlyCopies);
  for (const k of hers)
    if (k.kind === 'part' && k.object) rowsByObject[k.object] = (rowsByObject[k.object] ?? 0) + k.rows;
  const summary: ErasureSummary = {
    ids: ids.length,
    snapshots: new Set(hers.filter((k) => k.snapshotId).map((k) => k.snapshotId)).size,
    parts: hers.filter((k) => k.kind === 'part').length,
    journalObjects: hers.filter((k) => k.kind === 'journal').length,
    otherKeys: hers.filter((k) => k.kind === 'text' || k.kind === 'other').length,
    versions: keys.reduce((n, k) => n + k.versions, 0),
    rowsByObject,
    journalEvents: hers.filter((k) => k.kind === 'journal').reduce((n, k) => n + k.rows, 0),
    values: collector.size,
    openRestoreBatches: open.length,
    unrewritableFiles: files.length,
    lockedVersions: locked.length,
    copiesByField: tally.byField,
    keptCopiesByField: tally.kept,
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
    ...(request.keepCopiesIn ? { keepCopiesIn: request.keepCopiesIn } : {}),
    copyRecords: tally.records,
    ...(request.mode === 'erase' ? { values } : {}),
  };
}

async function resolveIds(
  store: VersionedStore,
  org: string,
  request: EraseRequest,
  collector: ValueCollector,
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
        const inputs = matchId(id);
        for (const input of inputs) {
          found.get(input)?.add(canonical18(id));
          objectOf[canonical18(id)] = kind.object!;
        }
        if (inputs.length > 0)
          collector.addRecord(Object.fromEntries(table.header.map((h, i) => [h, row[i]])));
        if (columns.length > 0 && columns.every(([i, value]) => i >= 0 && equal(row[i], value))) {
          filterHits.add(canonical18(id));
          objectOf[canonical18(id)] = kind.object!;
        }
      }
    } else if (kind.kind === 'journal') {
      for (const line of journalLines(textOf(await store.getVersion(version.key, version.versionId)))) {
        if (request.object && line.sort.entityName !== request.object) continue;
        const payload = (line.event as { detail?: { payload?: Record<string, unknown> } }).detail?.payload;
        let hers = false;
        for (const id of line.sort.recordIds) {
          for (const input of matchId(id)) {
            found.get(input)?.add(canonical18(id));
            objectOf[canonical18(id)] ??= line.sort.entityName;
            hers = true;
          }
        }
        // An event naming several records carries values they share (a mass update): not hers alone.
        if (hers && payload && line.sort.recordIds.length === 1) collector.addRecord(payload);
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

/**
 * The ids resolved, with every id a restore paired with one of them in its id map (a record of
 * hers it re-created under a new id is hers too), until no new one appears.
 */
async function withPairedIds(
  store: VersionedStore,
  org: string,
  resolved: { ids: string[]; objectOf: Record<string, string> },
): Promise<{ ids: string[]; objectOf: Record<string, string> }> {
  const pairs: { ids: [string, string]; object: string }[] = [];
  for await (const version of store.listVersions(restorePrefixOf(checkOrgKey(org)))) {
    // Every version: a run that stopped after rewriting an id map left the pair in an earlier one.
    if (version.deleteMarker || !ID_MAP_FILE.test(version.key)) continue;
    const file = JSON.parse(textOf(await store.getVersion(version.key, version.versionId))) as {
      object?: string;
      entries?: unknown;
    };
    if (!Array.isArray(file.entries)) continue;
    for (const entry of file.entries as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 2) continue;
      const [from, to] = entry as unknown[];
      if (typeof from === 'string' && typeof to === 'string' && RECORD_ID.test(from) && RECORD_ID.test(to))
        pairs.push({ ids: [canonical18(from), canonical18(to)], object: file.object ?? '' });
    }
  }
  // Ids compared in their 18-character form; each pass adds at least one id or ends.
  const ids = new Set(resolved.ids.map(canonical18));
  const objectOf = { ...resolved.objectOf };
  for (let grew = true; grew; ) {
    grew = false;
    for (const {
      ids: [a, b],
      object,
    } of pairs) {
      if (ids.has(a) === ids.has(b)) continue;
      const [known, other] = ids.has(a) ? [a, b] : [b, a];
      ids.add(other);
      objectOf[other] = object || (objectOf[known] ?? '');
      grew = true;
    }
  }
  const sorted = [...ids].sort();
  return { ids: sorted, objectOf: pick(objectOf, sorted) };
}

/**
 * The planned keys that are a restore's intent without its id map: a batch the restore wrote the
 * intent of and stopped before recording what it created.
 */
async function openRestoreBatches(store: VersionedStore, keys: readonly PlannedKey[]): Promise<string[]> {
  const open: string[] = [];
  for (const { key } of keys) {
    if (!INTENT_FILE.test(key)) continue;
    const idMap = key.replace(INTENT_FILE, '/id-map/$1');
    let recorded = false;
    for await (const v of store.listVersions(idMap))
      if (v.key === idMap && v.latest && !v.deleteMarker) recorded = true;
    if (!recorded) open.push(key);
  }
  return open;
}

const INTENT_FILE = /\/intents\/([^/]+\/[^/]+\.json)$/;

const RECORD_ID = /^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/;

/**
 * Whether a file's bytes hold one of the values, read as UTF-8 and as Latin-1 text, e-mail-like
 * values whatever their case: as the last scan reads them.
 */
export function bytesHoldAny(body: Uint8Array, values: readonly string[]): boolean {
  return textsHoldAny([Buffer.from(body).toString('utf8'), Buffer.from(body).toString('latin1')], values);
}

/** Whether any of the texts holds one of the values, e-mail-like values whatever their case. */
export function textsHoldAny(texts: readonly string[], values: readonly string[]): boolean {
  return values.some((v) =>
    caseInsensitiveValue(v)
      ? texts.some((t) => t.toLowerCase().includes(v.trim().toLowerCase()))
      : texts.some((t) => t.includes(v)),
  );
}

/** A restore's id map file: `restores/<org>/<org id>/id-map/<Object>/<batch>.json`. */
const ID_MAP_FILE = /\/id-map\/[^/]+\/[^/]+\.json$/;

function pick(all: Record<string, string>, ids: readonly string[]): Record<string, string> {
  return Object.fromEntries(ids.map((id) => [id, all[id] ?? '']));
}

/**
 * Her values: the e-mail addresses, phone numbers and names of every version of her own rows (a
 * part's row whose `Id` is hers) and of her records' change events.
 */
async function collectValues(store: VersionedStore, org: string, ids: IdSet): Promise<ValueCollector> {
  const collector = new ValueCollector();
  for await (const version of orgVersions(store, org)) {
    const kind = kindOf(version.key);
    if (kind.kind === 'part' && version.key.slice(version.key.lastIndexOf('/') + 1).startsWith('part-')) {
      const table = parseCsv(textOf(await store.getVersion(version.key, version.versionId)));
      const idColumn = table.header.indexOf('Id');
      if (idColumn < 0) continue;
      for (const row of table.rows) {
        if (!ids.match(row[idColumn] ?? '')) continue;
        collector.addRecord(Object.fromEntries(table.header.map((h, i) => [h, row[i]])));
      }
    } else if (kind.kind === 'journal') {
      for (const line of journalLines(textOf(await store.getVersion(version.key, version.versionId)))) {
        // An event naming several records carries values they share (a mass update): not hers alone.
        if (line.sort.recordIds.length !== 1 || !ids.match(line.sort.recordIds[0]!)) continue;
        const payload = (line.event as { detail?: { payload?: Record<string, unknown> } }).detail?.payload;
        if (payload) collector.addRecord(payload);
      }
    }
  }
  return collector;
}

/**
 * Every key with a version holding an erased id or a copy of her values, with how many versions,
 * rows and copies; `tally` counts the copies by field.
 */
async function findKeys(
  store: VersionedStore,
  org: string,
  ids: IdSet,
  copies: Copies,
  tally: CopyTally,
  filterValues: readonly string[],
): Promise<PlannedKey[]> {
  const tallies = new Map<string, CopyTally>();
  const byKey = new Map<string, PlannedKey>();
  const prefixes = ids.prefixes();
  for await (const version of orgVersions(store, org)) {
    const kind = kindOf(version.key);
    const body = await store.getVersion(version.key, version.versionId);
    let rows = 0;
    let holds = false;
    const found = new CopyTally();
    if (kind.kind === 'part') {
      const table = parseCsv(textOf(body));
      for (const row of table.rows) {
        if (rowErased(table, row, ids, kind.object!, version.key)) rows++;
        else copies.row(table, row, kind.object!, found);
      }
      // An erased id in another record's lookup is kept (docs/erasure.md): the row is not the person's.
      holds = rows > 0;
    } else if (kind.kind === 'journal') {
      // Another record's event naming an erased id in a lookup is kept, as the scan keeps it.
      const lines = journalLines(textOf(body));
      const held = lines.map((l) => journalLineHolds(l, ids));
      lines.forEach((line, i) => {
        if (!held[i]!.erased) copies.event(line, found);
      });
      rows = held.filter((h) => h.erased).length;
      holds = rows > 0 || held.some((h) => h.trace);
    } else {
      const text = kind.kind === 'text' ? textOf(body) : Buffer.from(body).toString('latin1');
      holds = prefixes.some((p) => text.includes(p));
      if (kind.kind === 'text') copiesInText(copies, text, found);
      // A file's bytes are not rewritten, and the last scan looks in them for the filter's values.
      else if (!holds) holds = bytesHoldAny(body, filterValues);
    }
    const hersHere = holds;
    if (found.count > 0) holds = true;
    const keyTally = tallies.get(version.key) ?? new CopyTally();
    keyTally.mergeMax(found);
    tallies.set(version.key, keyTally);
    if (!holds) continue;
    const previous = byKey.get(version.key);
    const onlyCopies = !hersHere && (previous === undefined || previous.onlyCopies === true);
    const entry: PlannedKey = {
      key: version.key,
      kind: kind.kind,
      ...(kind.snapshotId ? { snapshotId: kind.snapshotId } : {}),
      ...(kind.object ? { object: kind.object } : {}),
      versions: (previous?.versions ?? 0) + 1,
      rows: Math.max(previous?.rows ?? 0, rows),
      ...(keyTally.count > 0 ? { copies: keyTally.count } : {}),
      ...(onlyCopies ? { onlyCopies: true as const } : {}),
    };
    byKey.set(version.key, entry);
  }
  for (const keyTally of tallies.values()) tally.add(keyTally);
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** Copies in a text record of the vault: a JSON record's strings, or the whole text. */
export function copiesInText(copies: Copies, text: string, tally: CopyTally): string | undefined {
  try {
    const scrubbed = copies.json(JSON.parse(text), tally);
    return scrubbed.changed ? JSON.stringify(scrubbed.value) : undefined;
  } catch {
    return copies.text(text, tally);
  }
}
