/**
 * Which file bodies a sweep removes: those no kept snapshot names. Worked out in steps that a
 * sweep can stop between and go on from, so that a vault whose kept snapshots name millions of
 * bodies is planned over several invocations rather than failing each one at its time limit.
 *
 * The first steps read what the newest complete data snapshot names (a backup of records and
 * files, not of metadata alone: it names every body its point in time holds) and list the org's
 * bodies, keeping only those it does not name (a day's churn, where holding every body would be
 * millions of keys). A newest snapshot naming more than some million bodies is read into a filter
 * a window of its lists a step, its lists read once, and the bodies are then listed a hash folder
 * a step. Each later step reads a window of another kept snapshot's file lists and drops what they
 * name. Between two steps the whole state is the bodies still unnamed, the filter while it is used,
 * and where the next step begins: a sweep that stops writes it down
 * (`<time>-<execution>/planning-<source>-<list>[-<folder>].json` beside its log entry, the filter
 * beside it) and its next invocation reads it back. Naming a body twice changes nothing, so a step
 * done again after a stop (or by a retried invocation) gives the same answer.
 */
import { createHash } from 'node:crypto';
import { ErrorName } from '../../../contract/workflow-contract.ts';
import { UNFINISHED_GRACE_MS, startOfId, type RetentionDecision } from './classify.ts';
import { inTurns } from '../in-turns.ts';
import { NameFilter, SMALLEST_FILTER } from './name-filter.ts';
import { putIfAbsent } from '../restore/store-json.ts';
import { FILE_LISTS_AT_ONCE, fileCount, readFileList } from '../snapshot/file-lists.ts';
import { catalogKey, FILE_LIST_KEY, manifestKey, orgPrefix, snapshotPrefix } from '../snapshot/keys.ts';
import {
  InvalidSnapshotManifestError,
  parseCatalogEntry,
  parseManifest,
  SnapshotCorruptError,
  type SnapshotFile,
  type SnapshotManifest,
} from '../snapshot/manifest.ts';
import { type BackupStore, ObjectNotFoundError } from '../store.ts';

/** The sweep cannot know which file bodies it may remove (or what it would expire): it removes none. */
export class RetentionCatalogUnreadableError extends Error {
  override readonly name = ErrorName.RetentionCatalogUnreadable;
}

/** Where an org's file bodies are stored. */
export const fileBodiesPrefix = (org: string): string => `${orgPrefix(org)}files/sha256/`;

/**
 * What is wrong with a list of body keys read back from the vault, or undefined: a sweep removes
 * only keys under the org's file bodies.
 */
export function bodyKeysProblem(keys: unknown, org: string): string | undefined {
  const bodies = fileBodiesPrefix(org);
  if (!Array.isArray(keys)) return 'names no bodies';
  return keys.some((b) => typeof b !== 'string' || !b.startsWith(bodies) || b.includes('..'))
    ? `names a key outside ${bodies}`
    : undefined;
}

/** Manifests a sweep looks for at once while it plans. */
const READS_AT_ONCE = 16;

/**
 * The names of the newest data snapshot a sweep holds as keys, about; past it, it holds them in a
 * filter (name-filter.ts: two bytes a name, where a set of keys takes some 130).
 */
export const NAMES_HELD_AS_KEYS = 1_000_000;
/** Bodies are stored in 256 folders, by the first two hex digits of their SHA-256. */
const HASH_FOLDERS = 256;
const hashFolder = (org: string, folder: number): string =>
  `${fileBodiesPrefix(org)}${folder.toString(16).padStart(2, '0')}/`;

/** What salts a sweep's filter: its execution and start, so that each sweep errs on other bodies. */
export const filterSalt = (owner: PlanningOwner): string => `${owner.execution}@${owner.sweptAt}`;

/** The bodies a sweep removes, or none for now. */
export interface FileBodies {
  readonly remove: string[];
  /** True when a run in progress keeps them all for a later sweep. */
  readonly deferred: boolean;
}

/** A kept snapshot whose records name bodies: its manifest, or (a run that stopped) its file lists. */
export interface BodySource {
  readonly snapshotId: string;
  readonly from: 'manifest' | 'records';
  /** A complete snapshot whose list does not match its manifest fails the sweep. */
  readonly complete: boolean;
}

/**
 * Where the next planning step begins: the source (newest first) and the first of its lists to
 * read; once the first source's lists are in its filter, the next hash folder of bodies to list.
 */
export interface PlanningPosition {
  readonly source: number;
  readonly list: number;
  readonly folder?: number;
}

/** Where a filter is stored, and what it was salted with: a planning record names it. */
export interface StoredFilter {
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly salt: string;
}

/** What planning has found so far; `candidates` is absent until the bodies are listed. */
export interface PlanningState {
  readonly sources: readonly BodySource[];
  /** True when a kept run may be in progress: every body waits for a later sweep. */
  readonly deferred: boolean;
  candidates?: Set<string>;
  /** What the first source names, while it is used, when it names too many to hold as keys. */
  filter?: NameFilter;
  /** Where `filter` is stored as it is now, once it is. */
  storedFilter?: StoredFilter;
  next: PlanningPosition;
}

/** How a sweep plans: the names it holds as keys at most, and its filter's salt. */
export interface PlanningOptions {
  readonly namesHeldAsKeys: number;
  readonly salt: string;
}

/**
 * The kept snapshots whose records name the bodies they need: the newest complete data snapshot
 * first, then the others newest first. Or `deferred` when a kept run without a manifest started
 * within the grace period (it may be in progress and may already have named bodies). A kept
 * failed run without a manifest names none; a kept complete one without a manifest fails the
 * sweep (what it needs is unknown).
 */
export async function bodySources(
  store: BackupStore,
  org: string,
  kept: readonly RetentionDecision[],
  now: Date,
  checkTime: () => void,
): Promise<PlanningState> {
  const graceStart = now.getTime() - UNFINISHED_GRACE_MS;
  const newestFirst = [...kept].sort((a, b) => b.snapshotId.localeCompare(a.snapshotId));
  const found: (BodySource | 'deferred' | undefined)[] = [];
  for (let i = 0; i < newestFirst.length; i += READS_AT_ONCE) {
    checkTime();
    found.push(
      ...(await inTurns(newestFirst.slice(i, i + READS_AT_ONCE), READS_AT_ONCE, async (decision) => {
        const id = decision.snapshotId;
        const key = manifestKey(org, id);
        if (await store.head(key))
          return { snapshotId: id, from: 'manifest' as const, complete: decision.state === 'complete' };
        if (decision.state === 'failed') return undefined;
        if (decision.state === 'complete') {
          throw new RetentionCatalogUnreadableError(
            `Kept snapshot ${id} of org ${org} has no manifest (${key}), so the file bodies it needs are unknown; nothing was expired.`,
          );
        }
        if (!(startOfId(id).getTime() < graceStart)) return 'deferred' as const;
        return { snapshotId: id, from: 'records' as const, complete: false };
      })),
    );
  }
  if (found.includes('deferred')) return { sources: [], deferred: true, next: { source: 0, list: 0 } };
  const sources = found.filter((f): f is BodySource => f !== undefined && f !== 'deferred');
  // Read first, the newest complete backup of data leaves the fewest bodies to hold: a metadata
  // backup names none, a failed run may name few.
  // (A catalog entry gone or unreadable since the sweep classified only leaves that one in place.)
  for (const [i, source] of sources.entries()) {
    if (!source.complete) continue;
    checkTime();
    const key = catalogKey(org, source.snapshotId);
    const mode = await store
      .get(key)
      .then((bytes) => parseCatalogEntry(new TextDecoder().decode(bytes), key).mode)
      .catch((error: unknown) => {
        if (error instanceof ObjectNotFoundError || error instanceof InvalidSnapshotManifestError)
          return undefined;
        throw error;
      });
    if (mode === undefined || mode === 'metadata') continue;
    sources.splice(i, 1);
    sources.unshift(source);
    break;
  }
  return { sources, deferred: false, next: { source: 0, list: 0 } };
}

/**
 * Plans on from `state.next` to the end, updating `state` after each step so that a `checkTime`
 * that throws leaves it true; `moved` is called after each step.
 */
export async function planBodies(
  store: BackupStore,
  org: string,
  state: PlanningState,
  checkTime: () => void,
  moved: () => void,
  options: PlanningOptions,
): Promise<FileBodies> {
  if (state.deferred) return { remove: [], deferred: true };
  if (state.next.source === 0) {
    const newest = state.sources[0];
    // The newest backup's manifest is read once an invocation, however many steps it takes.
    let manifest: Promise<SnapshotManifest> | undefined;
    const read = () => {
      manifest ??= manifestOf(store, org, newest!);
      return manifest;
    };
    // (Not decided by an invocation already out of time: it would read the manifest for nothing.)
    checkTime();
    const { next } = state;
    if (!state.filter && next.list === 0 && next.folder === undefined && newest?.from === 'manifest') {
      const newestManifest = await read();
      const names = fileCount(newestManifest);
      if ((newestManifest.fileLists?.length ?? 0) > 0 && names > options.namesHeldAsKeys)
        state.filter = NameFilter.sized(names, options.salt);
    }
    if (state.filter) await listAgainstFilter(store, org, state, state.filter, checkTime, moved, read);
    else {
      const named = new Set<string>();
      if (newest)
        for await (const window of namedBodies(store, org, newest, 0, checkTime, read))
          for (const body of window.bodies) named.add(body);
      // Compared as the listing comes: only the bodies the newest snapshot does not name are held.
      state.candidates = new Set(
        await unnamedUnder(store, fileBodiesPrefix(org), (key) => named.has(key), checkTime),
      );
      state.next = { source: 1, list: 0 };
      moved();
    }
  }
  const candidates = state.candidates ?? new Set<string>();
  for (let i = state.next.source; i < state.sources.length; i++) {
    if (candidates.size === 0) break;
    for await (const window of namedBodies(store, org, state.sources[i]!, state.next.list, checkTime)) {
      for (const body of window.bodies) candidates.delete(body);
      state.next = { source: i, list: window.nextList };
      moved();
    }
    state.next = { source: i + 1, list: 0 };
  }
  return { remove: [...candidates].sort(), deferred: false };
}

/**
 * The first source's steps with a filter: a window of its lists a step into the filter, each list
 * read once; then a hash folder of bodies a step, holding those the filter surely does not name.
 */
async function listAgainstFilter(
  store: BackupStore,
  org: string,
  state: PlanningState,
  filter: NameFilter,
  checkTime: () => void,
  moved: () => void,
  read: () => Promise<SnapshotManifest>,
): Promise<void> {
  if (state.next.folder === undefined) {
    for await (const window of namedBodies(store, org, state.sources[0]!, state.next.list, checkTime, read)) {
      for (const body of window.bodies) filter.add(body);
      delete state.storedFilter;
      state.next = { source: 0, list: window.nextList };
      moved();
    }
    state.next = { source: 0, list: state.next.list, folder: 0 };
  }
  // (A key under the bodies' prefix outside the hash folders, which no backup writes, stays.)
  state.candidates ??= new Set<string>();
  for (let folder = state.next.folder!; folder < HASH_FOLDERS; folder++) {
    checkTime();
    for (const key of await unnamedUnder(store, hashFolder(org, folder), (k) => filter.has(k), checkTime))
      state.candidates.add(key);
    state.next = { source: 0, list: state.next.list, folder: folder + 1 };
    moved();
  }
  delete state.filter;
  delete state.storedFilter;
  state.next = { source: 1, list: 0 };
}

/** The keys under `prefix` that `named` does not take, compared as the listing comes. */
async function unnamedUnder(
  store: BackupStore,
  prefix: string,
  named: (key: string) => boolean,
  checkTime: () => void,
): Promise<string[]> {
  const unnamed: string[] = [];
  let listed = 0;
  for await (const { key } of store.list(prefix)) {
    if (++listed % 1000 === 0) checkTime();
    if (!named(key)) unnamed.push(key);
  }
  return unnamed;
}

/** A kept source's manifest, or a named error when it is gone. */
async function manifestOf(store: BackupStore, org: string, source: BodySource): Promise<SnapshotManifest> {
  const key = manifestKey(org, source.snapshotId);
  let text: string;
  try {
    text = new TextDecoder().decode(await store.get(key));
  } catch (error) {
    if (!(error instanceof ObjectNotFoundError)) throw error;
    throw new RetentionCatalogUnreadableError(
      `Kept snapshot ${source.snapshotId} of org ${org} lost its manifest (${key}) while the sweep planned, so the file bodies it needs are unknown; no file body was removed. Start a new sweep.`,
    );
  }
  return parseManifest(text, key);
}

/**
 * The bodies a source names, a window of its lists at a time from list `from`, each with where the
 * next window begins. A format 1 manifest's own entries come with the first window.
 */
async function* namedBodies(
  store: BackupStore,
  org: string,
  source: BodySource,
  from: number,
  checkTime: () => void,
  read: () => Promise<SnapshotManifest> = () => manifestOf(store, org, source),
): AsyncGenerator<{ bodies: string[]; nextList: number }> {
  checkTime();
  if (source.from === 'records') {
    yield* recordedBodies(store, org, source.snapshotId, from, checkTime);
    return;
  }
  const manifest = await read();
  const lists = manifest.fileLists ?? [];
  const inline = from === 0 ? manifest.files.map((f) => f.key) : [];
  if (lists.length === 0) {
    yield { bodies: inline, nextList: 0 };
    return;
  }
  for (let i = from; i < lists.length; i += FILE_LISTS_AT_ONCE) {
    if (i > from) checkTime();
    const read = await inTurns(lists.slice(i, i + FILE_LISTS_AT_ONCE), FILE_LISTS_AT_ONCE, (list) =>
      readFileList(store, list).catch((error: unknown) => {
        if (error instanceof SnapshotCorruptError) return error;
        throw error;
      }),
    );
    const unreadable = read.find((r) => r instanceof SnapshotCorruptError);
    if (unreadable) {
      if (source.complete)
        throw new RetentionCatalogUnreadableError(
          `Kept snapshot ${source.snapshotId} of org ${org} names a file list that does not match its manifest (${unreadable.message}), so the file bodies it needs are unknown; no file body was removed. If an erasure of this org stopped, start it again with the same request: it describes the lists it rewrote in the manifests again. Never put back an earlier version of a list an erasure rewrote: it holds the erased person. Otherwise the list was changed outside the workflows: compare it with its earlier versions in the vault.`,
        );
      // A run that did not complete is not restorable: what its records name is kept, read as they
      // are (in one step: where its manifest's lists go on, they do not).
      const bodies: string[] = [];
      for await (const window of recordedBodies(store, org, source.snapshotId, 0, checkTime))
        bodies.push(...window.bodies);
      yield { bodies, nextList: lists.length };
      return;
    }
    const bodies = i === from ? [...inline] : [];
    for (const entries of read as SnapshotFile[][]) for (const file of entries) bodies.push(file.key);
    yield { bodies, nextList: Math.min(i + FILE_LISTS_AT_ONCE, lists.length) };
  }
}

/**
 * The file lists a run without a manifest recorded (its reused lists and its files batch
 * results), in key order.
 */
async function recordedLists(
  store: BackupStore,
  org: string,
  snapshotId: string,
  checkTime: () => void,
): Promise<string[]> {
  const keys: string[] = [];
  let listed = 0;
  for await (const { key } of store.list(`${snapshotPrefix(org, snapshotId)}files/`)) {
    if (++listed % 1000 === 0) checkTime();
    if (FILE_LIST_KEY.test(key)) keys.push(key);
  }
  return keys.sort();
}

/**
 * The bodies a run without a manifest recorded using, a window of its recorded lists at a time
 * from list `from`, each with where the next window begins. Only a sweep expiring the run (which
 * holds the org's turn) removes its lists, and a list added (by a redriven execution) moves the
 * others further on, so an index into them, listed again by each invocation, never skips one that
 * was there: at worst it reads one twice.
 */
async function* recordedBodies(
  store: BackupStore,
  org: string,
  snapshotId: string,
  from: number,
  checkTime: () => void,
): AsyncGenerator<{ bodies: string[]; nextList: number }> {
  const keys = await recordedLists(store, org, snapshotId, checkTime);
  for (let i = from; i < keys.length; i += FILE_LISTS_AT_ONCE) {
    if (i > from) checkTime();
    const read = await inTurns(keys.slice(i, i + FILE_LISTS_AT_ONCE), FILE_LISTS_AT_ONCE, async (key) => {
      try {
        return JSON.parse(new TextDecoder().decode(await store.get(key))) as unknown;
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        throw new RetentionCatalogUnreadableError(
          `File list ${key} of run ${snapshotId} of org ${org} is not JSON, so the file bodies that run recorded using are unknown; no file body was removed. The run did not complete; if its execution will not be redriven, remove its snapshot folder with the break-glass role and sweep again.`,
        );
      }
    });
    const bodies: string[] = [];
    for (const parsed of read) {
      const record = parsed as { key?: unknown }[] | { files?: { key?: unknown }[] } | null;
      const files = Array.isArray(record) ? record : (record?.files ?? []);
      for (const file of files) if (typeof file?.key === 'string') bodies.push(file.key);
    }
    yield { bodies, nextList: Math.min(i + FILE_LISTS_AT_ONCE, keys.length) };
  }
}

/** What a planning record holds of the sweep's decisions (the rest of its log entry rides along). */
export interface PlannedDecisions {
  readonly org: string;
  readonly execution: string;
  readonly sweptAt: string;
  readonly kept: readonly RetentionDecision[];
  readonly expired: readonly RetentionDecision[];
  readonly ignoredFolders: readonly string[];
}

/**
 * A planning record: the sweep's decisions and its planning state where it stopped. Format 2
 * (filters, and a stopped run read a window of its lists a step) is refused by the versions that
 * wrote format 1, which would take such a run as read whole at its second window and remove what
 * its later lists name; format 1 records are read as they are.
 */
interface PlanningRecord<D extends PlannedDecisions> {
  readonly formatVersion: 1 | 2;
  readonly org: string;
  readonly execution: string;
  readonly sweptAt: string;
  readonly decisions: D;
  readonly sources: readonly BodySource[];
  readonly deferred: boolean;
  readonly candidates: readonly string[] | null;
  /** The first source's filter, stored beside (absent in earlier records; null when none is used). */
  readonly filter?: StoredFilter | null;
  /** How many shards of the hash folders an earlier version took the first source in. */
  readonly shards?: number | null;
  readonly next: PlanningPosition;
}

/** Who a planning record belongs to. */
export interface PlanningOwner {
  readonly org: string;
  readonly execution: string;
  readonly sweptAt: string;
}

/** How the names of a sweep's planning records (and their filters) begin. */
export const PLANNING_RECORDS = 'planning-';

/** The record's name beside the sweep's log entry, after the position it goes on from. */
export const planningName = (at: PlanningPosition): string =>
  `${PLANNING_RECORDS}${at.source}-${at.list}${at.folder === undefined ? '' : `-${at.folder}`}`;

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Writes where planning stopped, and the filter beside it when it changed since it was last
 * stored (an empty one, before the first step, is not: it is made again). A record already at that
 * position (a retried invocation stopped at the same step) stands: both hold what the sweep's kept
 * snapshots did not name, as listed then.
 */
export async function writePlanning<D extends PlannedDecisions>(
  store: BackupStore,
  key: string,
  owner: PlanningOwner,
  decisions: D,
  state: PlanningState,
): Promise<void> {
  const begun = state.next.list > 0 || state.next.folder !== undefined;
  if (state.filter && begun && !state.storedFilter) {
    const filterKey = key.replace(/\.json$/, '.filter');
    await putIfAbsent(store, filterKey, state.filter.bits, 'application/octet-stream');
    state.storedFilter = {
      key: filterKey,
      sha256: sha256Of(state.filter.bits),
      bytes: state.filter.bits.length,
      salt: state.filter.salt,
    };
  }
  const record: PlanningRecord<D> = {
    formatVersion: 2,
    ...owner,
    decisions,
    sources: state.sources,
    deferred: state.deferred,
    candidates: state.candidates ? [...state.candidates] : null,
    filter: state.filter && begun ? (state.storedFilter ?? null) : null,
    next: state.next,
  };
  await putIfAbsent(store, key, JSON.stringify(record));
}

/**
 * The planning record at `key`, or undefined when there is none. One that is not this sweep's,
 * does not stop at `at`, whose sources are not its kept snapshots, that names a key outside the
 * org's bodies, or whose filter is not the one it stored, fails the sweep: it removed nothing more,
 * and a new sweep plans afresh.
 */
export async function readPlanning<D extends PlannedDecisions>(
  store: BackupStore,
  key: string,
  owner: PlanningOwner,
  at: PlanningPosition,
): Promise<{ decisions: D; state: PlanningState } | undefined> {
  let text: string;
  try {
    text = new TextDecoder().decode(await store.get(key));
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
  let record: Partial<PlanningRecord<D>> | null = null;
  try {
    record = JSON.parse(text) as Partial<PlanningRecord<D>> | null;
  } catch {
    // reported below
  }
  const refuse = (problem: string) =>
    new RetentionCatalogUnreadableError(
      `The sweep's planning record ${key} ${problem}, so the sweep cannot go on and removed nothing more; start a new sweep.`,
    );
  const problem = planningProblem(record, owner, at, key);
  if (problem) throw refuse(problem);
  const found = record as PlanningRecord<D>;
  let filter: NameFilter | undefined;
  if (found.filter) {
    const bits = await store.get(found.filter.key).catch((error: unknown) => {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    });
    if (!bits) {
      // Its sweep ended, removing the record after it was read and then the filter: no record.
      if (!(await store.head(key))) return undefined;
      throw refuse(`names a filter (${found.filter.key}) that is missing`);
    }
    if (bits.length !== found.filter.bytes || sha256Of(bits) !== found.filter.sha256)
      throw refuse(
        `names a filter (${found.filter.key}) whose size or SHA-256 is not the one the record gives`,
      );
    filter = NameFilter.of(bits, filterSalt(owner));
  }
  return {
    decisions: found.decisions,
    state: {
      sources: found.sources,
      deferred: found.deferred,
      ...(found.candidates ? { candidates: new Set(found.candidates) } : {}),
      ...(filter ? { filter, storedFilter: found.filter! } : {}),
      next: found.next,
    },
  };
}

/** What is wrong with a planning record read back, or undefined. */
function planningProblem(
  record: Partial<PlanningRecord<PlannedDecisions>> | null,
  owner: PlanningOwner,
  at: PlanningPosition,
  key: string,
): string | undefined {
  const ownedBy = (r: Partial<PlanningOwner> | undefined) =>
    r?.org === owner.org && r.execution === owner.execution && r.sweptAt === owner.sweptAt;
  if (
    typeof record !== 'object' ||
    record === null ||
    (record.formatVersion !== 1 && record.formatVersion !== 2)
  )
    return 'is not a planning record this version reads';
  if (!ownedBy(record) || !ownedBy(record.decisions))
    return `is not this sweep's (org ${owner.org}, execution ${owner.execution}, begun ${owner.sweptAt})`;
  const { decisions, sources, next } = record;
  if (next?.source !== at.source || next.list !== at.list || next.folder !== at.folder)
    return `does not stop where the sweep's cursor says (${planningName(at)})`;
  if (
    !decisions ||
    !Array.isArray(decisions.kept) ||
    !Array.isArray(decisions.expired) ||
    !Array.isArray(decisions.ignoredFolders)
  )
    return 'names no kept and expired snapshots';
  if (typeof record.deferred !== 'boolean') return 'does not say whether it was deferred';
  // Every kept snapshot but a failed one without a manifest is a source, complete as decided.
  const stateOf = new Map(decisions.kept.map((d) => [d?.snapshotId, d?.state]));
  const named = new Set(Array.isArray(sources) ? sources.map((s) => s?.snapshotId) : []);
  if (
    !Array.isArray(sources) ||
    sources.some(
      (s) =>
        !stateOf.has(s?.snapshotId) ||
        (s.from !== 'manifest' && s.from !== 'records') ||
        s.complete !== (stateOf.get(s.snapshotId) === 'complete'),
    ) ||
    (!record.deferred && decisions.kept.some((d) => d?.state !== 'failed' && !named.has(d?.snapshotId))) ||
    next.source > sources.length
  )
    return 'does not name the kept snapshots to read';
  // (Before its first shard or past the first source, such a record goes on as this version does.)
  if (typeof record.shards === 'number' && record.shards > 1 && at.source === 0 && at.list > 0)
    return 'stops within the shards an earlier version took the bodies in';
  if (at.folder !== undefined && at.source !== 0) return 'lists hash folders past the first source';
  if (
    at.folder !== undefined &&
    !(Number.isInteger(at.folder) && at.folder >= 0 && at.folder <= HASH_FOLDERS)
  )
    return `lists hash folder ${at.folder}, not one of the ${HASH_FOLDERS}`;
  const { filter } = record;
  const folderOf = (k: string) => k.slice(0, k.lastIndexOf('/') + 1);
  if (
    filter !== undefined &&
    filter !== null &&
    (typeof filter.key !== 'string' ||
      folderOf(filter.key) !== folderOf(key) ||
      !/\/planning-[\d-]+\.filter$/.test(filter.key) ||
      typeof filter.sha256 !== 'string')
  )
    return "names a filter that is not one of its sweep's planning filters";
  if (filter && !(Number.isInteger(filter.bytes) && filter.bytes >= SMALLEST_FILTER))
    return `names a filter smaller than any sweep makes (${SMALLEST_FILTER} bytes)`;
  // Read under another salt, a filter would take named bodies for unnamed ones.
  if (filter && filter.salt !== filterSalt(owner)) return 'names a filter salted for another sweep';
  const filtered = at.source === 0 && (at.list > 0 || at.folder !== undefined);
  if (filtered !== Boolean(filter))
    return filtered
      ? "goes on from the newest snapshot's lists without a filter of them"
      : 'holds a filter where none is used';
  const listing = at.source > 0 || at.folder !== undefined;
  if (record.candidates === null) return listing ? 'holds no bodies once they were listed' : undefined;
  if (!listing) return 'holds bodies before they were listed';
  return bodyKeysProblem(record.candidates, owner.org);
}
