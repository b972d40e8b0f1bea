/**
 * Carrying out an erasure plan, in three steps: each key that holds an erased id gets a new version
 * without it; then the records that describe those keys (result files, manifests, journal
 * manifests, catalog entries) are described again; only then are the earlier versions of
 * everything rewritten removed. A run stopped before the removals leaves the earlier versions,
 * which still hold the person, so a new plan finds them again; a run stopped during them leaves
 * only versions to remove, which a new plan finds too. Each step decides from what the store
 * holds now, so a run stopped at any point is finished by running it again.
 */
import { type RemovalLog, versionsOf } from './removals.ts';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { csvHeader, csvValue } from '../snapshot/csv.ts';
import { catalogKey, catalogPrefix, FILE_LIST_KEY, manifestKey } from '../snapshot/keys.ts';
import { describeFileList } from '../snapshot/file-lists.ts';
import {
  parseCatalogEntry,
  parseManifest,
  type SnapshotFileList,
  type SnapshotManifest,
  type SnapshotPart,
} from '../snapshot/manifest.ts';
import { verifyPart } from '../snapshot/verifier.ts';
import {
  describeJournalObject,
  type JournalLine,
  type JournalManifest,
  journalManifestKeyOf,
} from '../continuous/journal.ts';
import type { BackupStore, ObjectVersion, VersionedStore } from '../store.ts';
import {
  IdSet,
  journalLines,
  kindOf,
  parseCsv,
  pastDeadline,
  rowErased,
  type StepTime,
  textOf,
} from './find.ts';
import type { ErasurePlan, PlannedKey } from './plan.ts';
import { Copies, CopyTally } from './copies.ts';
import { ValueMatcher } from './values.ts';
import { ErasureImpossibleError } from './errors.ts';
import { inTurns } from '../in-turns.ts';

/** What carrying out a plan did, in counts. */
export interface ErasureOutcome {
  readonly keysRewritten: number;
  readonly rowsRemoved: number;
  readonly journalEventsRemoved: number;
  readonly manifestsRewritten: number;
  readonly catalogEntriesRewritten: number;
  readonly versionsRemoved: number;
  /** Copies of her values blanked in other records' fields and the vault's records. */
  readonly copiesBlanked: number;
}

/** The stores erasure works with: the vault's reads, and the narrow power to replace and remove versions. */
export interface ErasureStores {
  readonly store: BackupStore;
  readonly versions: VersionedStore;
  /** Where the execution lists each version before it removes it. */
  readonly removals: RemovalLog;
}

/**
 * Where carrying out a plan over several invocations stands: the phase, the next item in it, the
 * counts so far, and (from `describe` on) every key given a new version, whose earlier versions
 * go last.
 */
export interface EraseProgress {
  readonly phase: 'rewrite' | 'describe' | 'remove';
  /** The next planned key (`rewrite`) or touched key (`remove`), by index. */
  readonly next: number;
  /** In `describe`, the name of the last record described again (see `recordName`). */
  readonly after?: string;
  readonly counts: ErasureOutcome;
  readonly touched?: readonly string[];
}

/** A step of carrying out a plan: the progress to go on from, or what it did. */
export type EraseStep =
  | { readonly done: false; readonly progress: EraseProgress }
  | { readonly done: true; readonly outcome: ErasureOutcome };

const NOTHING_YET: ErasureOutcome = {
  keysRewritten: 0,
  rowsRemoved: 0,
  journalEventsRemoved: 0,
  manifestsRewritten: 0,
  catalogEntriesRewritten: 0,
  versionsRemoved: 0,
  copiesBlanked: 0,
};

/** Carries out a plan in one go; safe to run again after it stopped anywhere. */
export async function executeErasure(stores: ErasureStores, plan: ErasurePlan): Promise<ErasureOutcome> {
  let step = await executeStep(stores, plan, undefined, undefined);
  while (!step.done) step = await executeStep(stores, plan, step.progress, undefined);
  return step.outcome;
}

/**
 * Carries out a plan from `progress` (or the start) until it is done or `time.deadline` has
 * passed, after at least one item. Data first (parts, then journal objects, then the vault's
 * text records), each key given a new version without her; then the records describing them
 * (records beside parts, journal manifests, one snapshot's manifest and catalog entry at a time);
 * then the earlier versions of every key touched. Each item decides from what the store holds
 * now, so an invocation that stopped anywhere is finished by the next.
 */
export async function executeStep(
  stores: ErasureStores,
  plan: ErasurePlan,
  progress: EraseProgress | undefined,
  time: StepTime | undefined,
): Promise<EraseStep> {
  const ids = new IdSet(plan.ids);
  const copies = new Copies(
    new ValueMatcher(plan.values ?? { key: '', digests: [], nameWords: [] }),
    new Set(plan.keepCopiesIn ?? []),
  );
  const past = () => pastDeadline(time);
  let state: EraseProgress = progress ?? { phase: 'rewrite', next: 0, counts: NOTHING_YET };
  const count = { ...state.counts };
  const pause = (next: Omit<EraseProgress, 'counts'>): EraseStep => ({
    done: false,
    progress: { ...next, counts: { ...count } },
  });
  // Data first: parts and journal objects, then the text records, which describe the parts.
  const order = { part: 0, journal: 1, text: 2, other: 3 } as const;
  const planned = [...plan.keys]
    .filter((k) => k.kind !== 'other')
    .sort((a, b) => order[a.kind] - order[b.kind] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rewrittenParts = new Set(planned.filter((k) => k.kind === 'part').map((k) => k.key));
  const rewrittenTexts = new Set(planned.filter((k) => k.kind === 'text').map((k) => k.key));
  if (state.phase === 'rewrite') {
    for (let i = state.next; i < planned.length; i++) {
      if (i > state.next && past()) return pause({ phase: 'rewrite', next: i });
      const key = planned[i]!;
      const tally = new CopyTally();
      const current = await currentBody(stores.store, key.key);
      const rewritten =
        current !== undefined && key.kind !== 'other'
          ? rewrite(key.kind, key.key, current, ids, key.object ?? '', copies, tally)
          : undefined;
      if (rewritten) {
        await stores.versions.replace(key.key, rewritten.body, {
          contentType: key.kind === 'text' ? 'application/json' : 'application/gzip',
        });
        count.keysRewritten++;
        if (key.kind === 'journal') count.journalEventsRemoved += rewritten.removed;
        else count.rowsRemoved += rewritten.removed;
        count.copiesBlanked += tally.count;
      }
    }
    state = { phase: 'describe', next: 0, counts: count, touched: planned.map((k) => k.key) };
  }
  if (state.phase === 'describe') {
    // Every key given a new version (or that may have been, by a run that stopped): its earlier
    // versions go last, once every record describing it is true again.
    const touched = new Set(state.touched ?? []);
    const records = await describingRecords(stores, plan.org, planned, rewrittenParts);
    // Gone on with after the last record done, by its name: the list is read again each time.
    const from = state.after === undefined ? 0 : records.findIndex((r) => recordName(r) > state.after!);
    for (let i = from < 0 ? records.length : from; i < records.length; i++) {
      if (i > from && past())
        return pause({
          phase: 'describe',
          next: 0,
          after: recordName(records[i - 1]!),
          touched: [...touched].sort(),
        });
      const record = records[i]!;
      if (record.kind === 'sidecars') {
        for (const key of await refreshSidecars(stores, record.folder, rewrittenParts, ids)) touched.add(key);
      } else if (record.kind === 'journal') {
        touched.add(await describeJournal(stores, record.key));
      } else {
        const done = await updateManifest(
          stores,
          plan.org,
          record.snapshotId,
          record.catalog,
          rewrittenParts,
          rewrittenTexts,
        );
        if (done.manifest) count.manifestsRewritten++;
        if (done.catalog) count.catalogEntriesRewritten++;
        for (const key of done.keys) touched.add(key);
      }
    }
    state = { phase: 'remove', next: 0, counts: count, touched: [...touched].sort() };
    if (past()) return pause(state);
  }
  const touched = state.touched ?? [];
  for (let i = state.next; i < touched.length; i++) {
    if (i > state.next && past()) return pause({ phase: 'remove', next: i, touched });
    count.versionsRemoved += await removeEarlierVersions(stores.versions, touched[i]!, stores.removals);
  }
  return { done: true, outcome: count };
}

/** One record that describes rewritten keys, to make true again. */
type DescribingRecord =
  | { readonly kind: 'sidecars'; readonly folder: string }
  | { readonly kind: 'journal'; readonly key: string }
  | {
      readonly kind: 'manifest';
      readonly snapshotId: string;
      readonly catalog?: ReturnType<typeof parseCatalogEntry>;
    };

/** A record's name, in the order the records are described: sidecars, journal, manifests. */
const recordName = (record: DescribingRecord): string =>
  record.kind === 'sidecars'
    ? `0 ${record.folder}`
    : record.kind === 'journal'
      ? `1 ${record.key}`
      : `2 ${record.snapshotId}`;

/**
 * The records to describe again, in order: the JSON records beside each rewritten part, the
 * manifest of each rewritten journal object, then the manifest (and catalog entry) of every
 * finished snapshot of the org (an incremental's manifest may name its base's parts) and of any
 * other whose parts or file lists were rewritten (a run that stopped before its catalog entry
 * still has a manifest to keep true). The same list from the same store and plan, invocation after invocation.
 */
async function describingRecords(
  stores: ErasureStores,
  org: string,
  planned: readonly PlannedKey[],
  rewrittenParts: ReadonlySet<string>,
): Promise<DescribingRecord[]> {
  const folders = [...new Set([...rewrittenParts].map((k) => k.slice(0, k.lastIndexOf('/') + 1)))].sort();
  const catalogs = new Map<string, ReturnType<typeof parseCatalogEntry>>();
  for await (const entry of stores.store.list(catalogPrefix(org))) {
    if (!entry.key.endsWith('.json')) continue;
    const catalog = parseCatalogEntry(textOf(await stores.store.get(entry.key)), entry.key);
    catalogs.set(catalog.snapshotId, catalog);
  }
  const snapshotIds = new Set([
    ...catalogs.keys(),
    ...[...rewrittenParts].map((k) => kindOf(k).snapshotId ?? ''),
    ...planned.map((k) => (k.kind === 'text' ? (FILE_LIST_KEY.exec(k.key)?.[1] ?? '') : '')),
  ]);
  snapshotIds.delete('');
  const records: DescribingRecord[] = [
    ...folders.map((folder) => ({ kind: 'sidecars' as const, folder })),
    ...planned.filter((k) => k.kind === 'journal').map((k) => ({ kind: 'journal' as const, key: k.key })),
    ...[...snapshotIds].map((snapshotId) => {
      const catalog = catalogs.get(snapshotId);
      return { kind: 'manifest' as const, snapshotId, ...(catalog ? { catalog } : {}) };
    }),
  ];
  return records.sort((a, b) => (recordName(a) < recordName(b) ? -1 : 1));
}

async function currentBody(store: BackupStore, key: string): Promise<Uint8Array | undefined> {
  if (!(await store.head(key))) return undefined;
  return store.get(key);
}

/**
 * The key's body without the erased ids and with copies of her values blanked, or undefined when
 * the current body holds neither.
 */
function rewrite(
  kind: 'part' | 'journal' | 'text',
  key: string,
  body: Uint8Array,
  ids: IdSet,
  object: string,
  copies: Copies,
  tally: CopyTally,
): { body: Uint8Array | string; removed: number } | undefined {
  const text = textOf(body);
  if (kind === 'part') {
    const table = parseCsv(text);
    const kept = table.rows.filter((r) => !rowErased(table, r, ids, object, key));
    const blanked = kept.map((r) => copies.row(table, r, object, tally));
    const removed = table.rows.length - kept.length;
    if (removed === 0 && blanked.every((r, i) => r === kept[i])) return undefined;
    // The writer's shape: a quoted header, every value quoted, one record per line.
    const csv =
      csvHeader(table.header) + blanked.map((r) => `${r.map((v) => csvValue(v)).join(',')}\n`).join('');
    return { body: gzipSync(Buffer.from(csv), { level: 6 }), removed };
  }
  if (kind === 'journal') {
    const lines = journalLines(text);
    let removed = 0;
    let changed = false;
    const kept: string[] = [];
    for (const line of lines) {
      const others = line.sort.recordIds.filter((id) => !ids.match(id));
      if (others.length < line.sort.recordIds.length) removed++;
      // An event for several records stays for the others, without the erased ids.
      if (others.length === 0) continue;
      const rest = others.length === line.sort.recordIds.length ? line : withoutIds(line, ids);
      const blanked = copies.event(rest, tally);
      if (blanked !== line) changed = true;
      kept.push(JSON.stringify(blanked));
    }
    if (removed === 0 && !changed) return undefined;
    return { body: gzipSync(Buffer.from(kept.map((l) => `${l}\n`).join(''))), removed };
  }
  const holdsId = ids.prefixes().some((p) => text.includes(p));
  let scrubbed: string;
  try {
    const withoutPerson = scrub(JSON.parse(text), ids);
    const blanked = copies.json(withoutPerson, tally);
    if (!holdsId && !blanked.changed) return undefined;
    scrubbed = `${JSON.stringify(blanked.value, null, text.includes('\n "') ? 1 : undefined)}${text.endsWith('\n') ? '\n' : ''}`;
  } catch {
    const blanked = copies.text(text, tally);
    if (!holdsId && blanked === undefined) return undefined;
    scrubbed = blanked ?? text;
  }
  // Whatever a structured scrub left (an id inside a sentence): the id itself is blanked.
  for (const prefix of ids.prefixes())
    scrubbed = scrubbed.replace(new RegExp(`${prefix}[A-Za-z0-5]{0,3}`, 'g'), '[erased]');
  return { body: scrubbed, removed: 0 };
}

/**
 * Fields that say which record a list entry describes: a file entry (in a snapshot's file list, or
 * a format 1 manifest's `files[]`) names its `recordId`, a restore's intent its `oldId`, a file
 * link its `linkedEntityId`.
 */
const RECORD_FIELDS = ['recordId', 'Id', 'id', 'oldId', 'linkedEntityId'] as const;

/**
 * A JSON value without the erased ids: list items and keys that are one go, and a list entry
 * that describes an erased record (a file entry, a restore id map's `[old id, new id]` pair)
 * goes whole, so that the record still matches its schema rather than holding a blanked id.
 */
function scrub(value: unknown, ids: IdSet): unknown {
  if (Array.isArray(value)) {
    return value
      .filter((v) => !(typeof v === 'string' && ids.match(v)) && !describesErased(v, ids))
      .map((v) => scrub(v, ids));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !ids.match(k))
        .map(([k, v]) => [k, scrub(v, ids)]),
    );
  }
  return value;
}

function describesErased(value: unknown, ids: IdSet): boolean {
  // A pair of ids (an id map's entry) goes whole; a longer list of ids (a batch) loses the id only.
  if (Array.isArray(value))
    return (
      value.length === 2 &&
      value.every((v) => typeof v === 'string') &&
      value.some((v) => ids.match(v) !== undefined)
    );
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return RECORD_FIELDS.some((f) => typeof record[f] === 'string' && ids.match(record[f]) !== undefined);
}

function withoutIds(line: JournalLine, ids: IdSet): JournalLine {
  const keep = (list: readonly string[]) => list.filter((id) => !ids.match(id));
  const event = scrub(line.event, ids);
  return { ...line, event, sort: { ...line.sort, recordIds: keep(line.sort.recordIds) } } as JournalLine;
}

/**
 * The JSON records in a folder of rewritten parts (an object's result, its workers' segments) name
 * the parts with their rows, size and hash: each entry naming a rewritten part is described again
 * as the part is stored now. Answers the records' keys.
 */
async function refreshSidecars(
  stores: ErasureStores,
  folder: string,
  parts: ReadonlySet<string>,
  ids: IdSet,
): Promise<string[]> {
  const measured = new Map<string, { rows: number; bytes: number; sha256: string } | undefined>();
  const measure = async (key: string) => {
    if (!measured.has(key)) measured.set(key, await verifyPart(stores.store, key));
    return measured.get(key);
  };
  const describe = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (const item of value) items.push(await describe(item));
      return items;
    }
    if (value === null || typeof value !== 'object') return value;
    const record: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) record[k] = await describe(v);
    const part =
      typeof record.key === 'string' && parts.has(record.key) ? await measure(record.key) : undefined;
    if (!part) return record;
    return {
      ...record,
      ...(typeof record.rows === 'number' ? { rows: part.rows } : {}),
      ...(typeof record.bytes === 'number' ? { bytes: part.bytes } : {}),
      ...(typeof record.sha256 === 'string' ? { sha256: part.sha256 } : {}),
    };
  };
  const keys: string[] = [];
  for await (const entry of stores.store.list(folder)) {
    if (!entry.key.endsWith('.json') || entry.key.slice(folder.length).includes('/')) continue;
    const text = textOf(await stores.store.get(entry.key));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    const next = `${JSON.stringify(scrub(await describe(value), ids))}${text.endsWith('\n') ? '\n' : ''}`;
    if (JSON.stringify(JSON.parse(next)) !== JSON.stringify(value)) {
      await stores.versions.replace(entry.key, next, { contentType: 'application/json' });
    }
    keys.push(entry.key);
  }
  return keys;
}

/** Every version of `key` but the current one (a listing by prefix names longer keys too). */
export async function* earlierVersions(versions: VersionedStore, key: string): AsyncIterable<ObjectVersion> {
  for await (const version of versions.listVersions(key))
    if (version.key === key && !version.latest) yield version;
}

/**
 * Removes every version of `key` but the current one, listed first in `removals`; answers how many
 * it removed.
 */
export async function removeEarlierVersions(
  versions: VersionedStore,
  key: string,
  removals: RemovalLog,
): Promise<number> {
  const earlier: ObjectVersion[] = [];
  for await (const version of earlierVersions(versions, key)) earlier.push(version);
  await removals.note(key, versionsOf(earlier, key));
  let removed = 0;
  for (const version of earlier) {
    try {
      await versions.deleteVersion(key, version.versionId);
    } catch (error) {
      if (!/AccessDenied/.test((error as Error).name)) throw error;
      // A lock put on the version after the plan looked (or a permission taken away since).
      throw new ErasureImpossibleError(
        `Version ${version.versionId} of ${key} could not be removed (${(error as Error).name}): a legal hold or retention was put on it after the plan, or the erase role lost a permission. The keys rewritten so far hold no trace of her in their current versions; earlier versions remain. Lift the lock (the dry run counts locked versions), then start a new erase execution with the same request: it finishes what this one began.`,
      );
    }
    removed++;
  }
  return removed;
}

/**
 * Writes a rewritten journal object's manifest again, keeping when the object was first written;
 * answers the manifest's key.
 */
async function describeJournal(stores: ErasureStores, key: string): Promise<string> {
  const manifestKey = journalManifestKeyOf(key);
  const body = await currentBody(stores.store, key);
  const before = await currentBody(stores.store, manifestKey);
  if (!body || !before) return manifestKey;
  const previous = JSON.parse(textOf(before)) as JournalManifest;
  const described = describeJournalObject(key, body, previous.writtenAt);
  const manifest: JournalManifest = {
    ...described,
    firstCommit: described.firstCommit || previous.firstCommit,
    lastCommit: described.lastCommit || previous.lastCommit,
  };
  if (JSON.stringify(manifest) !== JSON.stringify(previous)) {
    await stores.versions.replace(manifestKey, JSON.stringify(manifest), { contentType: 'application/json' });
  }
  return manifestKey;
}

/** HEAD requests in flight at once while a manifest's parts are measured. */
const HEADS_AT_ONCE = 16;

/**
 * The current size of each key that has an object: a HEAD each (a manifest names thousands of
 * parts, an incremental's its base's too), several at once. A listing per folder would take fewer
 * requests only where a manifest names most of a folder, and costs more than a dozen HEADs.
 */
async function currentSizes(store: BackupStore, keys: readonly string[]): Promise<Map<string, number>> {
  const found = await inTurns(keys, HEADS_AT_ONCE, (key) => store.head(key));
  const sizes = new Map<string, number>();
  for (const [i, key] of keys.entries()) {
    const entry = found[i];
    if (entry) sizes.set(key, entry.bytes);
  }
  return sizes;
}

/**
 * Describes again, in one snapshot's manifest, the parts and file lists an erasure rewrote, with
 * each object's row counts; then, when the manifest changed, its catalog entry with the
 * manifest's new hash. Answers what it rewrote and the keys it looked at.
 */
async function updateManifest(
  stores: ErasureStores,
  org: string,
  snapshotId: string,
  catalog: ReturnType<typeof parseCatalogEntry> | undefined,
  rewritten: ReadonlySet<string>,
  rewrittenTexts: ReadonlySet<string>,
): Promise<{ manifest: boolean; catalog: boolean; keys: string[] }> {
  const key = manifestKey(org, snapshotId);
  const text = await currentBody(stores.store, key);
  if (text === undefined) return { manifest: false, catalog: false, keys: [] };
  const measure = async (part: SnapshotPart): Promise<SnapshotPart> => {
    const found = await verifyPart(stores.store, part.key);
    if (!found) return part;
    let versionId: string | undefined;
    for await (const v of stores.versions.listVersions(part.key)) {
      if (v.key === part.key && v.latest && !v.deleteMarker) versionId = v.versionId;
    }
    return {
      key: part.key,
      rows: found.rows,
      bytes: found.bytes,
      sha256: found.sha256,
      ...(part.versionId !== undefined && versionId !== undefined ? { versionId } : {}),
    };
  };
  // Rows in the recycle bin, as the manifest counts them: IsDeleted is "true".
  const deletedIn = async (part: SnapshotPart): Promise<number> => {
    const table = parseCsv(textOf(await stores.store.get(part.key)));
    const column = table.header.indexOf('IsDeleted');
    return column < 0 ? 0 : table.rows.filter((r) => r[column] === 'true').length;
  };
  const manifest = parseManifest(textOf(text), key);
  // The parts the plan rewrites, and any other whose size no longer matches its entry: rewritten
  // by an erasure of another request that stopped before its manifests (no read).
  const parts = manifest.objects.flatMap((o) => [...o.parts, o.tombstones, o.links]).filter((p) => !!p);
  const sizes = await currentSizes(
    stores.store,
    parts.filter((p) => !rewritten.has(p.key)).map((p) => p.key),
  );
  const changed = new Set<string>();
  for (const part of parts) {
    if (rewritten.has(part.key) || (sizes.get(part.key) ?? part.bytes) !== part.bytes) changed.add(part.key);
  }
  const described = await describeParts(manifest, changed, measure, deletedIn);
  const updated = await describeFileLists(
    stores.store,
    described ?? manifest,
    rewrittenTexts,
    described !== undefined,
  );
  let manifestText = textOf(text);
  if (updated) {
    manifestText = `${JSON.stringify(updated, null, 1)}\n`;
    await stores.versions.replace(key, manifestText, { contentType: 'application/json' });
  }
  if (!catalog) return { manifest: updated !== undefined, catalog: false, keys: [key] };
  const sha256 = createHash('sha256').update(manifestText).digest('hex');
  let catalogRewritten = false;
  if (catalog.manifestKey === key && catalog.manifestSha256 !== sha256) {
    await stores.versions.replace(
      catalogKey(org, snapshotId),
      `${JSON.stringify({ ...catalog, manifestSha256: sha256 })}\n`,
      { contentType: 'application/json' },
    );
    catalogRewritten = true;
  }
  return {
    manifest: updated !== undefined,
    catalog: catalogRewritten,
    keys: [key, catalogKey(org, snapshotId)],
  };
}

/** The manifest with rewritten parts described as stored now, or undefined when nothing changed. */
async function describeParts(
  manifest: SnapshotManifest,
  rewritten: ReadonlySet<string>,
  measure: (part: SnapshotPart) => Promise<SnapshotPart>,
  deletedIn: (part: SnapshotPart) => Promise<number>,
): Promise<SnapshotManifest | undefined> {
  let changed = false;
  const objects = [];
  // A part as stored now, when an erasure rewrote it (or may have, in a run that stopped): only
  // those are read, so a manifest naming none of them costs no read of its parts.
  const current = async (part: SnapshotPart): Promise<SnapshotPart> =>
    rewritten.has(part.key) ? measure(part) : part;
  for (const object of manifest.objects) {
    const entries = [...object.parts, object.tombstones, object.links].filter((p) => p !== undefined);
    if (!entries.some((p) => rewritten.has(p.key))) {
      objects.push(object);
      continue;
    }
    const parts: SnapshotPart[] = [];
    for (const part of object.parts) parts.push(await current(part));
    const side = async (p: SnapshotPart | undefined) => (p ? current(p) : p);
    const tombstones = await side(object.tombstones);
    const links = await side(object.links);
    const rowsGone = object.parts.reduce((n, p, i) => n + p.rows - parts[i]!.rows, 0);
    const bytesDelta = object.parts.reduce((n, p, i) => n + p.bytes - parts[i]!.bytes, 0);
    const next = {
      ...object,
      parts,
      rows: object.rows - rowsGone,
      bytes: Math.max(0, object.bytes - bytesDelta),
      deletedRows: await countAsync(parts, deletedIn),
      ...(tombstones ? { tombstones } : {}),
      ...(links ? { links } : {}),
    };
    if (JSON.stringify(next) !== JSON.stringify(object)) changed = true;
    objects.push(next);
  }
  return changed ? { ...manifest, objects } : undefined;
}

/**
 * The manifest with its file lists described as stored now, when an erasure rewrote any (or one
 * of another request's that stopped before its manifests did: its size no longer matches); the
 * manifest given when there was nothing to describe again, undefined when it was not changed.
 */
async function describeFileLists(
  store: BackupStore,
  manifest: SnapshotManifest,
  rewritten: ReadonlySet<string>,
  changedBefore: boolean,
): Promise<SnapshotManifest | undefined> {
  const lists = manifest.fileLists ?? [];
  const sizes = await currentSizes(
    store,
    lists.filter((l) => !rewritten.has(l.key)).map((l) => l.key),
  );
  let changed = false;
  const next: SnapshotFileList[] = [];
  for (const list of lists) {
    if (!rewritten.has(list.key) && (sizes.get(list.key) ?? list.bytes) === list.bytes) {
      next.push(list);
      continue;
    }
    const now = (await describeFileList(store, list.key))?.list ?? list;
    if (JSON.stringify(now) !== JSON.stringify(list)) changed = true;
    next.push(now);
  }
  if (!changed) return changedBefore ? manifest : undefined;
  return { ...manifest, fileLists: next };
}

async function countAsync<T>(items: readonly T[], count: (item: T) => Promise<number>): Promise<number> {
  let total = 0;
  for (const item of items) total += await count(item);
  return total;
}
