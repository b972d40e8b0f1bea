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
  orgScope,
  type PassCursor,
  type StepTime,
  type VersionReader,
  visitVersions,
  parseCsv,
  rowErased,
  textOf,
} from './find.ts';
import { restorePrefixOf } from '../../../contract/workflow-contract.ts';
import { checkOrgKey } from '../snapshot/keys.ts';
import { Copies, CopyTally, type TallyState } from './copies.ts';
import { caseInsensitiveValue, type EraseRequest } from './input.ts';
import { ValueCollector, ValueMatcher, type ValueDigests } from './values.ts';
import type { ObjectVersion, VersionedStore } from '../store.ts';

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
  /**
   * False when the key's current version holds nothing of hers (an erasure that stopped rewrote
   * it): the erase step keeps that version and removes only the earlier ones. Absent from plans of
   * earlier versions, and then taken as true.
   */
  readonly currentHolds?: boolean;
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
 * A plan in the making, kept between the invocations of a plan too long for one: the phase it is
 * in, where its pass stopped, and what the passes found so far (ids, keys, counts and digests,
 * never a value).
 */
export interface PlanProgress {
  /** The request it is made for: a progress of another request is never gone on with. */
  readonly request: RequestFingerprint;
  readonly phase: 'resolve' | 'pairs' | 'values' | 'keys' | 'checks';
  readonly cursor?: PassCursor;
  readonly resolve: ResolveState;
  /** The ids, once resolved (and widened through the id maps in `pairs`). */
  readonly ids?: readonly string[];
  readonly objectOf?: Readonly<Record<string, string>>;
  /** How many ids the request resolved to, before the id maps widened them. */
  readonly resolved?: number;
  /** Whether the current pass over the id maps added an id (another pass follows). */
  readonly grew?: boolean;
  /** Her values, as digests, once collected. */
  readonly values?: ValueDigests;
  readonly keys?: readonly PlannedKey[];
  /** Copies per key with any, the most any one version held (see `findKeys`). */
  readonly tallies?: Readonly<Record<string, TallyState>>;
}

/** What resolving the request found so far. */
interface ResolveState {
  /** Per id given, the 18-character ids it matched. */
  readonly found: Readonly<Record<string, readonly string[]>>;
  readonly objectOf: Readonly<Record<string, string>>;
  readonly filterHits: readonly string[];
  /** Her values from the rows of the ids given (a request by id), as digests. */
  readonly byId: ValueDigests;
}

/** A step of planning: the progress to go on from, or the plan. */
export type PlanStep =
  | { readonly done: false; readonly progress: PlanProgress }
  | { readonly done: true; readonly plan: ErasurePlan };

/**
 * Resolves the request to ids (every row the filter matched in any version of any snapshot or
 * journal object), then finds every version holding one. Refuses, naming them, ids found nowhere
 * and a filter that matched nothing. In one go: `planStep` plans over several invocations.
 */
export async function planErasure(
  store: VersionedStore,
  org: string,
  request: EraseRequest,
  at: { execution: string; now: Date },
  options: { readonly bypassGovernance?: boolean } = {},
): Promise<ErasurePlan> {
  let step = await planStep(store, org, request, at, options, undefined, undefined);
  while (!step.done) step = await planStep(store, org, request, at, options, step.progress, undefined);
  return step.plan;
}

/**
 * Plans from `progress` (or from the start) until the plan is made or `time.deadline` has passed.
 * Four passes over every version of the org's records, each able to stop after any key and go
 * on in a later invocation: resolve the request to ids and, for ids given, collect her values;
 * widen the ids through every restore's id maps (a pass more while one adds an id); collect her
 * values, for a filter; find every key holding her or a copy of her values. Then the checks that
 * refuse a real run, in one go, over the planned keys only.
 */
export async function planStep(
  store: VersionedStore,
  org: string,
  request: EraseRequest,
  at: { execution: string; now: Date },
  options: { readonly bypassGovernance?: boolean },
  progress: PlanProgress | undefined,
  time: StepTime | undefined,
): Promise<PlanStep> {
  let state: PlanProgress = progress ?? {
    request: requestFingerprint(request),
    phase: 'resolve',
    resolve: { found: {}, objectOf: {}, filterHits: [], byId: new ValueCollector().digests() },
  };
  const scope = orgScope(org);
  if (state.phase === 'resolve') {
    const resolving = new Resolving(request, state.resolve);
    const cursor = await visitVersions(store, scope, state.cursor, time, (v, r) => resolving.visit(r, v), {
      reads: (v) => holdsRows(v.key, request.object),
    });
    if (cursor) return { done: false, progress: { ...state, cursor, resolve: resolving.state() } };
    const resolved = resolving.result(org);
    state = {
      ...state,
      phase: 'pairs',
      resolve: resolving.state(),
      ...resolved,
      resolved: resolved.ids.length,
      cursor: undefined,
    };
  }
  if (state.phase === 'pairs') {
    const ids = new Set(state.ids ?? []);
    const objectOf = { ...state.objectOf };
    let grew = state.grew ?? false;
    const cursor = await visitVersions(
      store,
      { prefixes: [restorePrefixOf(checkOrgKey(org))], skip: [] },
      state.cursor,
      time,
      async (v, r) => {
        if (widenThroughIdMap(await idMapPairs(r, v), ids, objectOf)) grew = true;
      },
      { reads: (v) => ID_MAP_FILE.test(v.key) },
    );
    const widened = { ids: [...ids].sort(), objectOf: pick(objectOf, [...ids].sort()) };
    if (cursor) return { done: false, progress: { ...state, ...widened, grew, cursor } };
    // Each pass adds at least one id or ends: a pair found before the id it pairs with needs another.
    state = grew
      ? { ...state, ...widened, grew: false, cursor: undefined }
      : { ...state, ...widened, phase: 'values', grew: false, cursor: undefined };
    if (grew) return planStep(store, org, request, at, options, state, time);
  }
  const ids = new IdSet(state.ids ?? []);
  if (state.phase === 'values') {
    // A request by id found her rows, and so her values, as it resolved; a filter knows her ids
    // only once every version was read (and ids paired with hers are known only now), so her
    // values take a pass of their own.
    if (request.ids !== undefined && ids.size === state.resolved) {
      state = { ...state, phase: 'keys', values: state.resolve.byId };
    } else {
      const collector = new ValueCollector(
        state.values ?? { key: state.resolve.byId.key, digests: [], nameWords: [], phoneDigits: [] },
      );
      const cursor = await visitVersions(
        store,
        scope,
        state.cursor,
        time,
        (v, r) => collectValues(r, v, ids, collector),
        { reads: (v) => holdsRows(v.key) },
      );
      if (cursor) return { done: false, progress: { ...state, values: collector.digests(), cursor } };
      state = { ...state, phase: 'keys', values: collector.digests(), cursor: undefined };
    }
  }
  const values = state.values!;
  const copies = new Copies(new ValueMatcher(values), new Set(request.keepCopiesIn ?? []));
  if (state.phase === 'keys') {
    const finding = new KeyFinding(ids, copies, Object.values(request.where ?? {}), state);
    const cursor = await visitVersions(store, scope, state.cursor, time, (v, r) => finding.visit(r, v));
    if (cursor) return { done: false, progress: { ...state, ...finding.state(), cursor } };
    state = { ...state, ...finding.state(), phase: 'checks', cursor: undefined };
    // The checks (a listing per key it would remove from, two lock reads per version) run in one
    // go: with a deadline, they get an invocation of their own.
    if (time?.deadline !== undefined) return { done: false, progress: state };
  }
  return { done: true, plan: await checkedPlan(store, org, request, at, options, state) };
}

/** The checks that refuse a real run, then the plan with its summary. */
async function checkedPlan(
  store: VersionedStore,
  org: string,
  request: EraseRequest,
  at: { execution: string; now: Date },
  options: { readonly bypassGovernance?: boolean },
  state: PlanProgress,
): Promise<ErasurePlan> {
  const ids = state.ids ?? [];
  const objectOf = state.objectOf ?? {};
  const keys = [...(state.keys ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const tally = new CopyTally();
  for (const t of Object.values(state.tallies ?? {})) tally.add(CopyTally.from(t));
  const values = state.values!;
  const files = keys.filter((k) => k.kind === 'other');
  if (files.length > 0 && request.mode === 'erase') {
    throw new ErasureImpossibleError(
      `${files.length} stored file(s) of org ${org} (file bodies or metadata archives) hold her id or the filter's value in their bytes (first: ${files
        .slice(0, 3)
        .map((k) => k.key)
        .join(
          ', ',
        )}). An erasure cannot rewrite a file's bytes, and its last scan would fail on them. Nothing was written. Find the documents they are in the snapshots' file lists (the records each manifest's fileLists names; a manifest's own files in format 1), remove those files' versions with the break-glass role, then start the erasure again.`,
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
    values: values.digests.length,
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

/** Resolving the request to ids, version by version; its state goes from one invocation to the next. */
class Resolving {
  private readonly found = new Map<string, Set<string>>(); // input -> ids found (18 characters)
  private readonly objectOf: Record<string, string>;
  private readonly filterHits: Set<string>;
  private readonly collector: ValueCollector;
  private readonly where: [string, string][];

  constructor(
    private readonly request: EraseRequest,
    from: ResolveState,
  ) {
    for (const t of request.ids ?? []) this.found.set(t.input, new Set(from.found[t.input] ?? []));
    this.objectOf = { ...from.objectOf };
    this.filterHits = new Set(from.filterHits);
    this.collector = new ValueCollector(from.byId);
    this.where = Object.entries(request.where ?? {});
  }

  state(): ResolveState {
    return {
      found: Object.fromEntries([...this.found].map(([input, ids]) => [input, [...ids].sort()])),
      objectOf: this.objectOf,
      filterHits: [...this.filterHits].sort(),
      byId: this.collector.digests(),
    };
  }

  private matchId(value: string): string[] {
    if (value.length !== 15 && value.length !== 18) return [];
    const v15 = value.slice(0, 15);
    return (this.request.ids ?? [])
      .filter((t) => (t.exact ? t.id15 === v15 : t.id15.toLowerCase() === v15.toLowerCase()))
      .map((t) => t.input);
  }

  private equal(stored: string | undefined, wanted: string): boolean {
    return (
      stored !== undefined &&
      (caseInsensitiveValue(wanted)
        ? stored.trim().toLowerCase() === wanted.trim().toLowerCase()
        : stored === wanted)
    );
  }

  async visit(store: VersionReader, version: ObjectVersion): Promise<void> {
    const { request, where } = this;
    const kind = kindOf(version.key);
    if (kind.kind === 'part') {
      if (request.object && kind.object !== request.object) return;
      if (!version.key.slice(version.key.lastIndexOf('/') + 1).startsWith('part-')) return;
      const table = parseCsv(textOf(await store.getVersion(version.key, version.versionId)));
      const idColumn = table.header.indexOf('Id');
      if (idColumn < 0) return;
      const columns = where.map(([field, value]) => [table.header.indexOf(field), value] as const);
      for (const row of table.rows) {
        const id = row[idColumn] ?? '';
        const inputs = this.matchId(id);
        for (const input of inputs) {
          this.found.get(input)?.add(canonical18(id));
          this.objectOf[canonical18(id)] = kind.object!;
        }
        if (inputs.length > 0)
          this.collector.addRecord(Object.fromEntries(table.header.map((h, i) => [h, row[i]])));
        if (columns.length > 0 && columns.every(([i, value]) => i >= 0 && this.equal(row[i], value))) {
          this.filterHits.add(canonical18(id));
          this.objectOf[canonical18(id)] = kind.object!;
        }
      }
    } else if (kind.kind === 'journal') {
      for (const line of journalLines(textOf(await store.getVersion(version.key, version.versionId)))) {
        if (request.object && line.sort.entityName !== request.object) continue;
        const payload = (line.event as { detail?: { payload?: Record<string, unknown> } }).detail?.payload;
        let hers = false;
        for (const id of line.sort.recordIds) {
          for (const input of this.matchId(id)) {
            this.found.get(input)?.add(canonical18(id));
            this.objectOf[canonical18(id)] ??= line.sort.entityName;
            hers = true;
          }
        }
        // An event naming several records carries values they share (a mass update): not hers alone.
        if (hers && payload && line.sort.recordIds.length === 1) this.collector.addRecord(payload);
        if (
          where.length > 0 &&
          payload &&
          where.every(([field, value]) =>
            this.equal(typeof payload[field] === 'string' ? payload[field] : undefined, value),
          )
        ) {
          for (const id of line.sort.recordIds) {
            this.filterHits.add(canonical18(id));
            this.objectOf[canonical18(id)] ??= line.sort.entityName;
          }
        }
      }
    }
  }

  /** The ids resolved, once every version was visited; refuses ids found nowhere and a filter matching nothing. */
  result(org: string): { ids: string[]; objectOf: Record<string, string> } {
    const { request, found, objectOf } = this;
    const targets = request.ids ?? [];
    if (request.where) {
      if (this.filterHits.size === 0) {
        throw new ErasureTargetNotFoundError(
          `The filter on ${request.object} (${Object.keys(request.where).join(', ')}) matched no row in any snapshot or journal object of org ${org}; nothing was erased. Check the object and field names and the value, or erase by id.`,
        );
      }
      const ids = [...this.filterHits].sort();
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
}

/**
 * The [old, new] pairs of a restore's id map version (every version: a run that stopped after
 * rewriting an id map left the pair in an earlier one); none for any other key.
 */
async function idMapPairs(
  store: VersionReader,
  version: ObjectVersion,
): Promise<{ ids: [string, string]; object: string }[]> {
  if (!ID_MAP_FILE.test(version.key)) return [];
  const file = JSON.parse(textOf(await store.getVersion(version.key, version.versionId))) as {
    object?: string;
    entries?: unknown;
  };
  if (!Array.isArray(file.entries)) return [];
  const pairs: { ids: [string, string]; object: string }[] = [];
  for (const entry of file.entries as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) continue;
    const [from, to] = entry as unknown[];
    if (typeof from === 'string' && typeof to === 'string' && RECORD_ID.test(from) && RECORD_ID.test(to))
      pairs.push({ ids: [canonical18(from), canonical18(to)], object: file.object ?? '' });
  }
  return pairs;
}

/**
 * Adds to `ids` every id a pair joins to one of them (a record of hers a restore re-created under
 * a new id is hers too), repeating over the pairs until none adds one; answers whether any did.
 * Ids are compared in their 18-character form.
 */
function widenThroughIdMap(
  pairs: readonly { ids: [string, string]; object: string }[],
  ids: Set<string>,
  objectOf: Record<string, string>,
): boolean {
  let added = false;
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
      added = true;
    }
  }
  return added;
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
 * Whether a key holds rows the resolve and values passes read: a part's rows (`part-*`, of
 * `object` when given) or a journal object.
 */
function holdsRows(key: string, object?: string): boolean {
  const kind = kindOf(key);
  if (kind.kind === 'journal') return true;
  return (
    kind.kind === 'part' &&
    key.slice(key.lastIndexOf('/') + 1).startsWith('part-') &&
    (object === undefined || kind.object === object)
  );
}

/**
 * Her values: the e-mail addresses, phone numbers and names of every version of her own rows (a
 * part's row whose `Id` is hers) and of her records' change events; one version's.
 */
async function collectValues(
  store: VersionReader,
  version: ObjectVersion,
  ids: IdSet,
  collector: ValueCollector,
): Promise<void> {
  const kind = kindOf(version.key);
  if (kind.kind === 'part' && version.key.slice(version.key.lastIndexOf('/') + 1).startsWith('part-')) {
    const table = parseCsv(textOf(await store.getVersion(version.key, version.versionId)));
    const idColumn = table.header.indexOf('Id');
    if (idColumn < 0) return;
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

/**
 * Finding every key with a version holding an erased id or a copy of her values, with how many
 * versions, rows and copies, version by version; its state goes from one invocation to the next.
 */
class KeyFinding {
  private readonly byKey: Map<string, PlannedKey>;
  /** Per key with copies, the most any one version held: versions of one key overlap. */
  private readonly tallies: Map<string, CopyTally>;
  private readonly prefixes: string[];

  constructor(
    private readonly ids: IdSet,
    private readonly copies: Copies,
    private readonly filterValues: readonly string[],
    from: Pick<PlanProgress, 'keys' | 'tallies'>,
  ) {
    this.byKey = new Map((from.keys ?? []).map((k) => [k.key, k]));
    this.tallies = new Map(Object.entries(from.tallies ?? {}).map(([k, t]) => [k, CopyTally.from(t)]));
    this.prefixes = ids.prefixes();
  }

  state(): Pick<PlanProgress, 'keys' | 'tallies'> {
    return {
      keys: [...this.byKey.values()],
      tallies: Object.fromEntries([...this.tallies].map(([k, t]) => [k, t.toState()])),
    };
  }

  async visit(store: VersionReader, version: ObjectVersion): Promise<void> {
    const { ids, copies } = this;
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
      holds = this.prefixes.some((p) => text.includes(p));
      if (kind.kind === 'text') copiesInText(copies, text, found);
      // A file's bytes are not rewritten, and the last scan looks in them for the filter's values.
      else if (!holds) holds = bytesHoldAny(body, this.filterValues);
    }
    const hersHere = holds;
    if (found.count > 0 || Object.keys(found.kept).length > 0) {
      const keyTally = this.tallies.get(version.key) ?? new CopyTally();
      keyTally.mergeMax(found);
      this.tallies.set(version.key, keyTally);
    }
    if (found.count > 0) holds = true;
    if (!holds) return;
    const keyTally = this.tallies.get(version.key);
    const previous = this.byKey.get(version.key);
    const onlyCopies = !hersHere && (previous === undefined || previous.onlyCopies === true);
    const currentHolds = (previous ? (previous.currentHolds ?? true) : false) || version.latest;
    this.byKey.set(version.key, {
      key: version.key,
      kind: kind.kind,
      ...(kind.snapshotId ? { snapshotId: kind.snapshotId } : {}),
      ...(kind.object ? { object: kind.object } : {}),
      versions: (previous?.versions ?? 0) + 1,
      rows: Math.max(previous?.rows ?? 0, rows),
      ...(keyTally && keyTally.count > 0 ? { copies: keyTally.count } : {}),
      ...(onlyCopies ? { onlyCopies: true as const } : {}),
      currentHolds,
    });
  }
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
