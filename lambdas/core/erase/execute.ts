/**
 * Carrying out an erasure plan, in three steps: each key that holds an erased id gets a new version
 * without it; then the records that describe those keys (result files, manifests, journal
 * manifests, catalog entries) are described again; only then are the earlier versions of
 * everything rewritten removed. A run stopped before the removals leaves the earlier versions,
 * which still hold the person, so a new plan finds them again; a run stopped during them leaves
 * only versions to remove, which a new plan finds too. Each step decides from what the store
 * holds now, so a run stopped at any point is finished by running it again.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { csvHeader, csvValue } from '../snapshot/csv.ts';
import { catalogKey, catalogPrefix, manifestKey } from '../snapshot/keys.ts';
import {
  parseCatalogEntry,
  parseManifest,
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
import type { BackupStore, VersionedStore } from '../store.ts';
import { IdSet, journalLines, kindOf, parseCsv, rowErased, textOf } from './find.ts';
import type { ErasurePlan } from './plan.ts';
import { Copies, CopyTally } from './copies.ts';
import { ValueMatcher } from './values.ts';
import { ErasureImpossibleError } from './errors.ts';

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
}

/** Carries out a plan; safe to run again after it stopped anywhere. */
export async function executeErasure(stores: ErasureStores, plan: ErasurePlan): Promise<ErasureOutcome> {
  const ids = new IdSet(plan.ids);
  const copies = new Copies(
    new ValueMatcher(plan.values ?? { key: '', digests: [], nameWords: [] }),
    new Set(plan.keepCopiesIn ?? []),
  );
  const tally = new CopyTally();
  const count = { keysRewritten: 0, rowsRemoved: 0, journalEventsRemoved: 0, versionsRemoved: 0 };
  const journalBodies: string[] = [];
  // Every key given a new version (or that may have been, by a run that stopped): its earlier
  // versions go last, once every record describing it is true again.
  const touched = new Set<string>();
  // Data first: parts and journal objects, then the text records, which describe the parts.
  const order = { part: 0, journal: 1, text: 2, other: 3 } as const;
  for (const planned of [...plan.keys].sort((a, b) => order[a.kind] - order[b.kind])) {
    if (planned.kind === 'other') continue;
    const current = await currentBody(stores.store, planned.key);
    if (current !== undefined) {
      const rewritten = rewrite(planned.kind, planned.key, current, ids, planned.object ?? '', copies, tally);
      if (rewritten) {
        await stores.versions.replace(planned.key, rewritten.body, {
          contentType: planned.kind === 'text' ? 'application/json' : 'application/gzip',
        });
        count.keysRewritten++;
        if (planned.kind === 'journal') count.journalEventsRemoved += rewritten.removed;
        else count.rowsRemoved += rewritten.removed;
      }
    }
    if (planned.kind === 'journal') journalBodies.push(planned.key);
    touched.add(planned.key);
  }
  const rewrittenParts = new Set(plan.keys.filter((k) => k.kind === 'part').map((k) => k.key));
  for (const key of await refreshSidecars(stores, rewrittenParts, ids)) touched.add(key);
  for (const key of journalBodies) touched.add(await describeJournal(stores, key));
  const manifests = await updateManifests(stores, plan.org, rewrittenParts);
  for (const key of manifests.keys) touched.add(key);
  for (const key of [...touched].sort()) {
    count.versionsRemoved += await removeEarlierVersions(stores.versions, key);
  }
  return {
    ...count,
    manifestsRewritten: manifests.manifests,
    catalogEntriesRewritten: manifests.catalogEntries,
    copiesBlanked: tally.count,
  };
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
 * Fields that say which record a list entry describes: a manifest's `files[]` entry names its
 * `recordId`, a restore's intent its `oldId`, a file link its `linkedEntityId`.
 */
const RECORD_FIELDS = ['recordId', 'Id', 'id', 'oldId', 'linkedEntityId'] as const;

/**
 * A JSON value without the erased ids: list items and keys that are one go, and a list entry
 * that describes an erased record (a manifest's `files[]` entry, a restore id map's
 * `[old id, new id]` pair) goes whole, so that the record still matches its schema rather than
 * holding a blanked id.
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
 * The JSON records beside rewritten parts (an object's result, its workers' segments) name the
 * parts with their rows, size and hash: each such entry is described again as the part is stored now.
 */
async function refreshSidecars(
  stores: ErasureStores,
  parts: ReadonlySet<string>,
  ids: IdSet,
): Promise<string[]> {
  const folders = new Set([...parts].map((k) => k.slice(0, k.lastIndexOf('/') + 1)));
  const measured = new Map<string, { rows: number; bytes: number; sha256: string }>();
  for (const key of parts) {
    const found = await verifyPart(stores.store, key);
    if (found) measured.set(key, found);
  }
  const describe = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(describe);
    if (value === null || typeof value !== 'object') return value;
    const record = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v)]));
    const part = typeof record.key === 'string' ? measured.get(record.key) : undefined;
    if (!part) return record;
    return {
      ...record,
      ...(typeof record.rows === 'number' ? { rows: part.rows } : {}),
      ...(typeof record.bytes === 'number' ? { bytes: part.bytes } : {}),
      ...(typeof record.sha256 === 'string' ? { sha256: part.sha256 } : {}),
    };
  };
  const keys: string[] = [];
  for (const folder of folders) {
    for await (const entry of stores.store.list(folder)) {
      if (!entry.key.endsWith('.json') || entry.key.slice(folder.length).includes('/')) continue;
      const text = textOf(await stores.store.get(entry.key));
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        continue;
      }
      const next = `${JSON.stringify(scrub(describe(value), ids))}${text.endsWith('\n') ? '\n' : ''}`;
      if (JSON.stringify(JSON.parse(next)) !== JSON.stringify(value)) {
        await stores.versions.replace(entry.key, next, { contentType: 'application/json' });
      }
      keys.push(entry.key);
    }
  }
  return keys;
}

/** Removes every version of `key` but the current one; answers how many it removed. */
export async function removeEarlierVersions(versions: VersionedStore, key: string): Promise<number> {
  let removed = 0;
  for await (const version of versions.listVersions(key)) {
    if (version.key !== key || version.latest) continue;
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

/**
 * Describes again, in every manifest of the org, the parts an erasure rewrote (an incremental's
 * manifest may name its base's parts) and any part whose entry no longer matches the part as
 * stored (rewritten by a run that stopped before its manifests), with each object's row counts;
 * then each changed manifest's catalog entry, with the manifest's new hash. Answers the keys of
 * the manifests and catalog entries it looked at.
 */
async function updateManifests(
  stores: ErasureStores,
  org: string,
  rewritten: ReadonlySet<string>,
): Promise<{ manifests: number; catalogEntries: number; keys: string[] }> {
  let manifests = 0;
  let catalogEntries = 0;
  const keys: string[] = [];
  const measured = new Map<string, SnapshotPart>();
  const measure = async (part: SnapshotPart): Promise<SnapshotPart> => {
    const known = measured.get(part.key);
    if (known) return known;
    const found = await verifyPart(stores.store, part.key);
    if (!found) return part;
    let versionId: string | undefined;
    for await (const v of stores.versions.listVersions(part.key)) {
      if (v.key === part.key && v.latest && !v.deleteMarker) versionId = v.versionId;
    }
    const entry: SnapshotPart = {
      key: part.key,
      rows: found.rows,
      bytes: found.bytes,
      sha256: found.sha256,
      ...(part.versionId !== undefined && versionId !== undefined ? { versionId } : {}),
    };
    measured.set(part.key, entry);
    return entry;
  };
  // Rows in the recycle bin, as the manifest counts them: IsDeleted is "true".
  const deletedIn = async (part: SnapshotPart): Promise<number> => {
    const table = parseCsv(textOf(await stores.store.get(part.key)));
    const column = table.header.indexOf('IsDeleted');
    return column < 0 ? 0 : table.rows.filter((r) => r[column] === 'true').length;
  };
  // Every finished snapshot (its catalog entry), and any other whose parts were rewritten (a run
  // that stopped before its catalog entry still has a manifest to keep true).
  const catalogs = new Map<string, ReturnType<typeof parseCatalogEntry>>();
  for await (const entry of stores.store.list(catalogPrefix(org))) {
    if (!entry.key.endsWith('.json')) continue;
    const catalog = parseCatalogEntry(textOf(await stores.store.get(entry.key)), entry.key);
    catalogs.set(catalog.snapshotId, catalog);
  }
  const snapshotIds = new Set([...catalogs.keys(), ...[...rewritten].map((k) => kindOf(k).snapshotId ?? '')]);
  snapshotIds.delete('');
  for (const snapshotId of [...snapshotIds].sort()) {
    const key = manifestKey(org, snapshotId);
    const text = await currentBody(stores.store, key);
    if (text === undefined) continue;
    const manifest = parseManifest(textOf(text), key);
    const updated = await describeParts(manifest, rewritten, measure, deletedIn);
    let manifestText = textOf(text);
    if (updated) {
      manifestText = `${JSON.stringify(updated, null, 1)}\n`;
      await stores.versions.replace(key, manifestText, { contentType: 'application/json' });
      manifests++;
    }
    keys.push(key);
    const catalog = catalogs.get(snapshotId);
    if (!catalog) continue;
    const sha256 = createHash('sha256').update(manifestText).digest('hex');
    if (catalog.manifestKey === key && catalog.manifestSha256 !== sha256) {
      await stores.versions.replace(
        catalogKey(org, snapshotId),
        `${JSON.stringify({ ...catalog, manifestSha256: sha256 })}\n`,
        { contentType: 'application/json' },
      );
      catalogEntries++;
    }
    keys.push(catalogKey(org, snapshotId));
  }
  return { manifests, catalogEntries, keys };
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
  // A part as stored now, when the erasure rewrote it or its entry no longer matches it.
  const current = async (part: SnapshotPart): Promise<SnapshotPart> => {
    const now = await measure(part);
    return rewritten.has(part.key) || !sameVersion(now, part) ? now : part;
  };
  for (const object of manifest.objects) {
    const entries = [...object.parts, object.tombstones, object.links].filter((p) => p !== undefined);
    let touched = false;
    for (const p of entries) if (rewritten.has(p.key) || !sameVersion(await measure(p), p)) touched = true;
    if (!touched) {
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

/** Whether a manifest's entry names the part as stored now. */
function sameVersion(now: SnapshotPart, recorded: SnapshotPart): boolean {
  return now.sha256 === recorded.sha256 && now.versionId === recorded.versionId;
}

async function countAsync<T>(items: readonly T[], count: (item: T) => Promise<number>): Promise<number> {
  let total = 0;
  for (const item of items) total += await count(item);
  return total;
}
