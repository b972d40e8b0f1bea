/**
 * The retention sweep of one org: lists its snapshots, classifies them under its policy, logs the
 * decision, then removes what expired. Removal order makes a stopped sweep safe and resumable:
 * the catalog entry and manifest go first (a half-removed snapshot never looks restorable), then
 * the snapshot's other objects, then the file index entries naming bodies no kept snapshot
 * references, then those bodies, in batches, each only while no backup has started since the sweep
 * began (a later sweep removes what is left). A re-run finds the half-removed snapshots in the
 * retention logs and finishes them.
 *
 * A sweep too long for one invocation answers `done: false` with a cursor, and the next invocation
 * of the same execution goes on from it. While it plans (which bodies no kept snapshot names:
 * bodies-to-remove.ts) it goes on from the planning record the stopped invocation wrote, holding to
 * the decisions recorded there; once planned, from the sweep's own retention log and the list of
 * bodies written beside it, rather than classifying again. The file index pass goes on after the
 * last entry it read and the body removals after the last body removed, so each is done once per
 * sweep however many invocations the sweep takes.
 */
import type { RetentionPolicy } from '../../../contract/workflow-contract.ts';
import type { RemovingStore } from '../removing-store.ts';
import {
  catalogKey,
  catalogPrefix,
  latestPointerKey,
  manifestKey,
  orgPrefix,
  snapshotPrefix,
} from '../snapshot/keys.ts';
import { type CatalogEntry, parseCatalogEntry } from '../snapshot/manifest.ts';
import { putIfAbsent } from '../restore/store-json.ts';
import { type BackupStore, ObjectExistsError, ObjectNotFoundError } from '../store.ts';
import {
  endSweepTurn,
  runningBackups,
  SweepTurnLostError,
  takeSweepTurn,
  whileHoldingTurn,
} from '../vault-lease.ts';
import {
  bodySources,
  type FileBodies,
  bodyKeysProblem,
  filterSalt,
  NAMES_HELD_AS_KEYS,
  type PlanningPosition,
  type PlanningState,
  PLANNING_RECORDS,
  planBodies,
  planningName,
  RetentionCatalogUnreadableError,
  readPlanning,
  writePlanning,
} from './bodies-to-remove.ts';
import { classify, type RetentionDecision, startOfId } from './classify.ts';
import { expiredInLogs, retentionLogPrefix, stampOf } from './log.ts';

export { RetentionCatalogUnreadableError };

/** What a sweep works with. */
export interface SweepDeps {
  /** Reads the vault and writes the retention log. */
  readonly store: BackupStore;
  /** Removes what expired: only the sweeper is handed one. */
  readonly remover: RemovingStore;
  readonly clock: () => Date;
  /**
   * The sweep stops removing at this instant and answers `done: false`; running it again
   * continues (a Lambda invocation's time is limited).
   * @default - no limit
   */
  readonly deadline?: Date;
  /**
   * The names of the newest data snapshot planning holds as keys at most; past it, in a filter
   * (see bodies-to-remove.ts). A positive whole number.
   * @default NAMES_HELD_AS_KEYS
   */
  readonly namesHeldAsKeys?: number;
  /**
   * Waits while the sweep takes the org's vault lease (see vault-lease.ts).
   * @default - a timer
   */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One sweep's request. */
export interface SweepInput {
  readonly org: string;
  readonly policy: RetentionPolicy;
  /** The execution (or run) that sweeps; part of the retention log's key. */
  readonly execution: string;
  /**
   * Where the sweep's previous invocation stopped, as it answered it.
   * @default - a new sweep
   */
  readonly cursor?: SweepCursor;
}

/**
 * Where the next invocation of a sweep goes on: small, so that the workflow carries it from one
 * invocation to the next. Only meaningful to the same execution.
 */
export interface SweepCursor {
  /** The instant the sweep began; its retention log, named after it, holds its decisions. */
  readonly sweptAt: string;
  /** Where planning goes on, from the record named after it; absent once the sweep is planned. */
  readonly planned?: PlanningPosition;
  /** The last file index entry read; absent before the index pass began. */
  readonly indexAfter?: string;
  /** True once every file index entry was read. */
  readonly indexDone?: boolean;
  /** How many bodies of the sweep's removal list are removed; absent before the first. */
  readonly bodiesRemoved?: number;
}

/** What a sweep did: counts and keys, never values. */
export interface SweepOutput {
  readonly org: string;
  /** False when the deadline came first: run it again to continue. */
  readonly done: boolean;
  /** The retention log entry written, or null when nothing expired. */
  readonly logKey: string | null;
  readonly kept: number;
  readonly expired: number;
  /** Snapshot objects removed (catalog entries and manifests included). */
  readonly removedObjects: number;
  readonly removedFileBodies: number;
  readonly removedFileIndexEntries: number;
  /** True when a run in progress kept file bodies from being removed this time. */
  readonly fileBodiesDeferred: boolean;
  /** Folders under `snapshots/` whose name is not a snapshot id: left alone. */
  readonly ignoredFolders: readonly string[];
  /**
   * The run (`erasure-<execution>`, `sweep-<execution>[~<n>]`) that held the org's vault lease, so that
   * this sweep removed nothing and left its work to the next one; null when it swept.
   */
  readonly heldBy: string | null;
  /** Where the next invocation goes on when `done` is false (hand it back); null when done. */
  readonly cursor: SweepCursor | null;
}

/** One retention log entry, `orgs/<org>/retention/<time>-<execution>.json`: ids, reasons and counts only. */
export interface RetentionLogEntry {
  readonly formatVersion: 1;
  readonly org: string;
  readonly execution: string;
  readonly sweptAt: string;
  readonly policy: RetentionPolicy;
  /** Failed and unfinished snapshots started before this instant expired. */
  readonly unfinishedCutoff: string;
  readonly expired: readonly RetentionDecision[];
  readonly kept: readonly RetentionDecision[];
  /** Folders under `snapshots/` whose name is not a snapshot id: neither kept nor removed. */
  readonly ignoredFolders: readonly string[];
  readonly counts: {
    readonly kept: number;
    readonly expired: number;
    readonly fileBodiesToRemove: number;
  };
}

const FILE_INDEX = 'files/index/';
/** File bodies removed between two listings of the snapshot folders: a few seconds of deletes. */
const BODY_BATCH = 100;
/** File index entries read at once: with millions of entries, one at a time would take hours. */
const INDEX_READS_AT_ONCE = 32;

/**
 * A sweep's own records beside its log entry (logs are written once), in a folder named like the
 * entry: `<time>-<execution>/deferred.json` when it left file bodies for later,
 * `<time>-<execution>/bodies.json`, the file bodies it removes, listed once when it planned, and
 * `<time>-<execution>/planning-<source>-<list>[-<folder>].json` where an invocation stopped
 * planning (with the filter it held beside it, `.filter`: bodies-to-remove.ts).
 */
const sweepRecords = (logKey: string): string => `${logKey.replace(/\.json$/, '')}/`;
const sweepRecordKey = (logKey: string, name: string): string => `${sweepRecords(logKey)}${name}.json`;

/** The file bodies a sweep removes, as it listed them when it planned. */
interface RemovalList {
  readonly formatVersion: 1;
  readonly org: string;
  readonly execution: string;
  readonly sweptAt: string;
  /**
   * True when a run in progress kept every body for a later sweep (`bodies` is then empty).
   * Absent from lists of earlier versions, which were written only with bodies to remove.
   */
  readonly deferred?: boolean;
  readonly bodies: readonly string[];
}

/** The retention log entry of the sweep that began at `sweptAt`. */
const retentionLogKey = (org: string, sweptAt: Date, execution: string): string =>
  `${retentionLogPrefix(org)}${stampOf(sweptAt)}-${execution}.json`;

/**
 * Sweeps one org; see the module comment for the order of removals. The sweep holds the org's vault
 * lease while it removes (an erasure rewriting the same snapshots waits for it, and it for an
 * erasure); an invocation that runs out of time keeps it for the next one.
 */
export async function sweepOrg(deps: SweepDeps, input: SweepInput): Promise<SweepOutput> {
  const held = deps.namesHeldAsKeys;
  if (held !== undefined && !(Number.isInteger(held) && held >= 1))
    throw new RangeError(`namesHeldAsKeys is ${held}: give a positive whole number of names.`);
  const now = () => deps.clock().getTime();
  const turn = await takeSweepTurn(deps.store, input.org, input.execution, {
    now,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  if (!turn.held)
    return { ...nothingYet(), org: input.org, done: true, heldBy: turn.heldBy.runId, cursor: null };
  let out: SweepOutput;
  try {
    out = await sweepUntilLate(
      { ...deps, remover: whileHoldingTurn(deps.store, input.org, turn, deps.remover, now) },
      input,
    );
  } catch (error) {
    if (!(error instanceof OutOfTime)) {
      await endSweepTurn(deps.store, input.org, input.execution, now).catch(() => undefined);
      throw error;
    }
    return { ...error.progress, org: input.org, done: false, heldBy: null, cursor: error.cursor };
  }
  await endSweepTurn(deps.store, input.org, input.execution, now);
  return out;
}

/** Thrown by a loop that found the deadline passed, with what was done so far and where to go on. */
class OutOfTime extends Error {
  constructor(
    readonly progress: Progress,
    readonly cursor: SweepCursor,
  ) {
    super('the sweep reached its deadline');
  }
}

type Progress = {
  -readonly [K in keyof Omit<SweepOutput, 'org' | 'done' | 'heldBy' | 'cursor'>]: SweepOutput[K];
};

/** A sweep's progress before it removed anything. */
const nothingYet = (): Progress => ({
  logKey: null,
  kept: 0,
  expired: 0,
  removedObjects: 0,
  removedFileBodies: 0,
  removedFileIndexEntries: 0,
  fileBodiesDeferred: false,
  ignoredFolders: [],
});

async function sweepUntilLate(deps: SweepDeps, input: SweepInput): Promise<SweepOutput> {
  const { store, remover } = deps;
  const { org } = input;
  const namesHeldAsKeys = deps.namesHeldAsKeys ?? NAMES_HELD_AS_KEYS;
  // A sweep that goes on holds to the decisions its log (or, while it plans, its planning record)
  // recorded: classifying again could expire a snapshot whose index entries an earlier invocation
  // already read as kept. A cursor without either (every invocation that answers one wrote one) is
  // no sweep to go on: a new one begins.
  const given = input.cursor;
  const givenLogKey = given ? retentionLogKey(org, new Date(given.sweptAt), input.execution) : '';
  const planningAt = async (at: PlanningPosition | undefined) =>
    given && at
      ? readPlanning<Decisions>(
          store,
          sweepRecordKey(givenLogKey, planningName(at)),
          { org, execution: input.execution, sweptAt: given.sweptAt },
          at,
        )
      : undefined;
  let entry = given ? await ownLog(store, givenLogKey) : undefined;
  const resumed = entry ? undefined : await planningAt(given?.planned);
  const goingOn = given !== undefined && (entry !== undefined || resumed !== undefined);
  const sweptAt = goingOn ? new Date(given.sweptAt) : deps.clock();
  let cursor: SweepCursor = goingOn ? given : { sweptAt: sweptAt.toISOString() };
  const logKey = retentionLogKey(org, sweptAt, input.execution);
  const removalListKey = sweepRecordKey(logKey, 'bodies');
  const progress = nothingYet();
  const done = (more: Partial<SweepOutput> = {}): SweepOutput => ({
    ...progress,
    org,
    done: true,
    heldBy: null,
    cursor: null,
    ...more,
  });
  // Checked in every loop, reads and listings included, so that an invocation answers done: false
  // before its time limit however large the vault; what was removed stays removed. Not before the
  // invocation moved the sweep on (classified, planned a step, wrote its log, removed an object,
  // read index entries), so that every invocation does some of the work however little time it is
  // given.
  let movedOn = false;
  const checkTime = () => {
    if (movedOn && deps.deadline !== undefined && deps.clock() >= deps.deadline)
      throw new OutOfTime({ ...progress }, cursor);
  };
  // A sweep whose turn was taken from it stops as if out of time: its next invocation takes the
  // turn again (and goes on from the cursor), finds who holds it, or finds its execution ended.
  const remove = async (key: string) => {
    try {
      await remover.remove(key);
    } catch (error) {
      if (error instanceof SweepTurnLostError) throw new OutOfTime({ ...progress }, cursor);
      throw error;
    }
  };
  // The sweep has ended: the planning records and filters its stopped invocations wrote are read
  // no more (a filter of a backup of ten million files is 20 MB), so they go too; their versions
  // stay noncurrent until the lifecycle expires them. A new invocation with an old cursor finds
  // the log and list, or, for a sweep that logged nothing, plans afresh as a new sweep would. (One
  // record an invocation that stopped: a few seconds at most, so no deadline is checked here.)
  // The records go before the filters they name: an invocation of this sweep retried meanwhile
  // either finds no record, or finds its filter (or, the filter gone too, no record on a second
  // look: readPlanning).
  const finish = async (more: Partial<SweepOutput> = {}): Promise<SweepOutput> => {
    const planning: string[] = [];
    for await (const { key } of store.list(`${sweepRecords(logKey)}${PLANNING_RECORDS}`)) planning.push(key);
    const filters = planning.filter((key) => key.endsWith('.filter'));
    for (const key of [...planning.filter((key) => !key.endsWith('.filter')), ...filters]) await remove(key);
    return done(more);
  };
  // Plans on from `state`; an invocation out of time writes down where it stopped, and its cursor
  // names that record.
  const owner = { org, execution: input.execution, sweptAt: sweptAt.toISOString() };
  const planOn = async (decisions: Decisions, state: PlanningState): Promise<FileBodies> => {
    try {
      return await planBodies(
        store,
        org,
        state,
        checkTime,
        () => {
          movedOn = true;
        },
        { namesHeldAsKeys, salt: filterSalt(owner) },
      );
    } catch (error) {
      if (!(error instanceof OutOfTime)) throw error;
      await writePlanning(store, sweepRecordKey(logKey, planningName(state.next)), owner, decisions, state);
      throw new OutOfTime(error.progress, { sweptAt: owner.sweptAt, planned: state.next });
    }
  };
  // The sweep's list of the bodies it removes, written once: a list an invocation of this sweep
  // already wrote (one that failed before its log entry) stands, and is what the entry counts.
  const keepList = async (planned: FileBodies): Promise<FileBodies> => {
    await putIfAbsent(store, removalListKey, JSON.stringify(listOf(input, sweptAt, planned)));
    const listed = await removalList(store, removalListKey, input, sweptAt);
    return listed ? { remove: [...listed.bodies], deferred: listed.deferred ?? false } : planned;
  };
  const folders = await snapshotsWithObjects(store, org, checkTime);
  progress.ignoredFolders = folders.ignored;
  let bodies: FileBodies | undefined;
  if (!entry) {
    let decisions: Decisions;
    let state: PlanningState;
    if (resumed) ({ decisions, state } = resumed);
    else {
      decisions = await classifyOrg(store, input, sweptAt, folders, checkTime);
      state = await bodySources(store, org, decisions.kept, sweptAt, checkTime);
      movedOn = true;
    }
    progress.kept = decisions.kept.length;
    progress.expired = decisions.expired.length;
    const planned = await planOn(decisions, state);
    const counts = {
      kept: decisions.kept.length,
      expired: decisions.expired.length,
      fileBodiesToRemove: planned.remove.length,
    };
    if (counts.expired === 0 && counts.fileBodiesToRemove === 0) {
      progress.fileBodiesDeferred = planned.deferred;
      return finish();
    }
    // Its list of bodies first, so that a sweep with a log entry always has its list.
    const listed = await keepList(planned);
    const planEntry: RetentionLogEntry = {
      ...decisions,
      counts: { ...counts, fileBodiesToRemove: listed.remove.length },
    };
    try {
      await store.put(logKey, JSON.stringify(planEntry, null, 2), { contentType: 'application/json' });
      entry = planEntry;
      bodies = listed;
    } catch (error) {
      // Written already under this instant and execution: what it says is what the sweep does.
      if (!(error instanceof ObjectExistsError)) throw error;
      entry = await ownLog(store, logKey);
      if (!entry) throw error;
    }
    cursor = { sweptAt: cursor.sweptAt };
    movedOn = true;
  }
  progress.logKey = logKey;
  progress.kept = entry.kept.length;
  progress.expired = entry.expired.length;

  // The bodies are listed once, when the sweep plans (written just before its log): every kept
  // manifest names the bodies it needs, and with millions of files that read takes invocations.
  // Later invocations read the list back, before they remove anything. A log without one was
  // written before sweeps kept their lists: they are planned again from the log's kept snapshots.
  if (!bodies) {
    const listed = await removalList(store, removalListKey, input, sweptAt);
    // (Lists of earlier versions, written only with bodies to remove, say nothing of deferral.)
    if (listed) bodies = { remove: [...listed.bodies], deferred: listed.deferred ?? false };
    else {
      const state =
        (await planningAt(cursor.planned))?.state ??
        (await bodySources(store, org, entry.kept, sweptAt, checkTime));
      bodies = await keepList(await planOn(entry, state));
      // A new list: no body of it is removed yet.
      cursor = { ...cursor, bodiesRemoved: 0 };
    }
  }
  // Planned: a cursor from now on names no planning record.
  if (cursor.planned) {
    const { planned: _planned, ...rest } = cursor;
    cursor = rest;
  }

  for (const decision of entry.expired) {
    const id = decision.snapshotId;
    for (const key of [catalogKey(org, id), manifestKey(org, id)]) {
      checkTime();
      if (await store.head(key)) {
        await remove(key);
        progress.removedObjects++;
        movedOn = true;
      }
    }
    for (const key of await keysUnder(store, snapshotPrefix(org, id), checkTime)) {
      checkTime();
      await remove(key);
      progress.removedObjects++;
      movedOn = true;
    }
  }

  // A backup that started after the sweep classified may already reuse a body about to go:
  // through an index entry read before it was removed, or by finding its own put refused (the body
  // exists) and counting it stored. Such a run writes its snapshot folder first: planBackup writes
  // plan/ (plan.ts) before the files step looks a body up or stores one (files.ts), and the export
  // steps run in between. So before the index pass and before each batch of bodies the folders are
  // listed again; a folder the sweep did not classify leaves the bodies to a later sweep.
  // A run the sweep did classify may be running again too (a failed execution redriven): its
  // heartbeat (vault-lease.ts) names it.
  const classified = new Set([...entry.kept, ...entry.expired].map((d) => d.snapshotId));
  const runsSinceSweepBegan = async () => {
    const appeared = (await snapshotsWithObjects(store, org, checkTime)).ids.filter(
      (id) => !classified.has(id),
    );
    const running = (await runningBackups(store, org, deps.clock().getTime())).map((r) => r.snapshotId);
    return [...new Set([...appeared, ...running])].sort();
  };
  const deferBodies = async (runs: readonly string[], left: number): Promise<SweepOutput> => {
    // One record per sweep: a retried invocation that defers again finds it written.
    await putIfAbsent(
      store,
      sweepRecordKey(logKey, 'deferred'),
      JSON.stringify(
        {
          formatVersion: 1,
          org,
          execution: input.execution,
          deferredAt: deps.clock().toISOString(),
          reason: 'a backup ran during the sweep: the file bodies wait for a later sweep',
          runs,
          fileBodiesLeft: left,
        },
        null,
        2,
      ),
    );
    return finish({ fileBodiesDeferred: true });
  };
  progress.fileBodiesDeferred = bodies.deferred;
  const removedAlready = cursor.bodiesRemoved ?? 0;
  if (bodies.remove.length <= removedAlready) return finish();
  const appeared = await runsSinceSweepBegan();
  if (appeared.length > 0) return deferBodies(appeared, bodies.remove.length - removedAlready);

  // Index entries first, so that a backup planned from now on downloads a body again rather
  // than naming one that is about to go.
  if (!cursor.indexDone) {
    const removing = new Set(bodies.remove);
    let chunk: string[] = [];
    const readChunk = async () => {
      const named = await Promise.all(chunk.map((key) => indexedBody(store, key)));
      for (const [i, key] of chunk.entries()) {
        const body = named[i];
        if (body !== undefined && removing.has(body)) {
          await remove(key);
          progress.removedFileIndexEntries++;
        }
      }
      if (chunk.length > 0) cursor = { sweptAt: cursor.sweptAt, indexAfter: chunk.at(-1)! };
      chunk = [];
      movedOn = true;
    };
    const after = cursor.indexAfter;
    for await (const { key } of store.list(
      `${orgPrefix(org)}${FILE_INDEX}`,
      after ? { afterKey: after } : {},
    )) {
      chunk.push(key);
      if (chunk.length < INDEX_READS_AT_ONCE) continue;
      checkTime();
      await readChunk();
    }
    checkTime();
    await readChunk();
    cursor = { sweptAt: cursor.sweptAt, indexDone: true };
  }

  for (let i = removedAlready; i < bodies.remove.length; i += BODY_BATCH) {
    checkTime();
    const runs = await runsSinceSweepBegan();
    if (runs.length > 0) return deferBodies(runs, bodies.remove.length - i);
    for (const [j, key] of bodies.remove.slice(i, i + BODY_BATCH).entries()) {
      checkTime();
      // An invocation that stopped before it answered leaves bodies removed past its last cursor:
      // removed again, each would get another delete marker.
      if (await store.head(key)) {
        await remove(key);
        progress.removedFileBodies++;
      }
      cursor = { sweptAt: cursor.sweptAt, indexDone: true, bodiesRemoved: i + j + 1 };
      movedOn = true;
    }
  }
  return finish();
}

/** The removal list of a sweep. */
const listOf = (input: SweepInput, sweptAt: Date, bodies: FileBodies): RemovalList => ({
  formatVersion: 1,
  org: input.org,
  execution: input.execution,
  sweptAt: sweptAt.toISOString(),
  deferred: bodies.deferred,
  bodies: bodies.remove,
});

/**
 * The sweep's removal list, or undefined when it wrote none. A list that cannot be read, that is
 * another sweep's or that names anything but the org's file bodies fails the sweep: listing again
 * could add bodies stored since it classified, and the sweeper removes only what its list names.
 */
async function removalList(
  store: BackupStore,
  key: string,
  input: SweepInput,
  sweptAt: Date,
): Promise<RemovalList | undefined> {
  const text = await textIfAny(store, key);
  if (text === undefined) return undefined;
  let list: Partial<RemovalList> | null = null;
  try {
    list = JSON.parse(text) as Partial<RemovalList> | null;
  } catch {
    // reported below
  }
  const problem = !Array.isArray(list?.bodies)
    ? 'names no bodies'
    : list.org !== input.org || list.execution !== input.execution || list.sweptAt !== sweptAt.toISOString()
      ? `is not this sweep's (org ${input.org}, execution ${input.execution}, begun ${sweptAt.toISOString()})`
      : list.deferred !== undefined && typeof list.deferred !== 'boolean'
        ? 'does not say whether it was deferred'
        : bodyKeysProblem(list.bodies, input.org);
  if (problem) {
    throw new RetentionCatalogUnreadableError(
      `The file body list ${key} ${problem}, so the sweep cannot go on and removed no body; start a new sweep.`,
    );
  }
  return list as RemovalList;
}

/** A sweep's decisions: its retention log entry but for the counts, known once it planned. */
type Decisions = Omit<RetentionLogEntry, 'counts'>;

/** Classifies the org's snapshots at `sweptAt`: what the retention log entry will say of each. */
async function classifyOrg(
  store: BackupStore,
  input: SweepInput,
  sweptAt: Date,
  folders: { ids: string[]; ignored: string[] },
  checkTime: () => void,
): Promise<Decisions> {
  const { org, policy } = input;
  const catalog = await readWholeCatalog(store, org, checkTime);
  const inCatalog = new Set(catalog.map((e) => e.snapshotId));
  const unfinished = folders.ids.filter((id) => !inCatalog.has(id));
  const logged = await expiredInLogs(store, org, unfinished, checkTime);
  if (logged.unreadable.length > 0)
    throw new RetentionCatalogUnreadableError(
      `The retention log of org ${org} holds entries that are not log entries (${logged.unreadable.join(', ')}), so which unfinished snapshots an earlier sweep expired is unknown; nothing was expired. Only the sweeper writes there: compare each with its earlier versions in the vault.`,
    );
  const halfSwept = [...new Set(logged.expired.map((e) => e.snapshotId))];
  const plan = classify({
    catalog,
    unfinished,
    halfSwept,
    latest: await latestPointer(store, org),
    policy,
    now: sweptAt,
  });
  return {
    formatVersion: 1,
    org,
    execution: input.execution,
    sweptAt: sweptAt.toISOString(),
    policy,
    unfinishedCutoff: plan.unfinishedCutoff,
    expired: plan.decisions.filter((d) => d.action === 'expire'),
    kept: plan.decisions.filter((d) => d.action === 'keep'),
    ignoredFolders: folders.ignored,
  };
}

/** The log entry this sweep wrote, or undefined when it had not written it yet. */
async function ownLog(store: BackupStore, key: string): Promise<RetentionLogEntry | undefined> {
  const text = await textIfAny(store, key);
  if (text === undefined) return undefined;
  const entry = JSON.parse(text) as Partial<RetentionLogEntry>;
  if (!Array.isArray(entry.kept) || !Array.isArray(entry.expired)) {
    throw new RetentionCatalogUnreadableError(
      `The retention log ${key} of this sweep names no kept and expired snapshots, so it cannot go on; start a new sweep.`,
    );
  }
  return entry as RetentionLogEntry;
}

/** Every catalog entry, or a named error: a sweep that cannot see the whole catalog must not run. */
async function readWholeCatalog(
  store: BackupStore,
  org: string,
  checkTime: () => void,
): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = [];
  const unreadable: string[] = [];
  let keys: string[];
  try {
    keys = (await keysUnder(store, catalogPrefix(org), checkTime)).filter((k) => k.endsWith('.json'));
  } catch (error) {
    if (error instanceof OutOfTime) throw error;
    throw new RetentionCatalogUnreadableError(
      `The catalog of org ${org} could not be listed (${(error as Error).name}); nothing was expired.`,
    );
  }
  for (const key of keys) {
    checkTime();
    try {
      entries.push(parseCatalogEntry(new TextDecoder().decode(await store.get(key)), key));
    } catch (error) {
      unreadable.push(`${key} (${(error as Error).name})`);
    }
  }
  if (unreadable.length > 0) {
    throw new RetentionCatalogUnreadableError(
      `${unreadable.length} of ${keys.length} catalog entries of org ${org} could not be read, so the sweep cannot tell which snapshots the others build on; nothing was expired. Unreadable: ${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', ...' : ''}`,
    );
  }
  return entries.sort((a, b) => a.snapshotId.localeCompare(b.snapshotId));
}

/**
 * The ids of the snapshots that have any object under `snapshots/`, and the folders there whose
 * name is not a snapshot id (no run writes one: they are neither kept nor removed, only reported).
 * Listed by folder, not by object: the sweep asks again before every batch of bodies, and a
 * snapshot holds thousands of objects.
 */
async function snapshotsWithObjects(
  store: BackupStore,
  org: string,
  checkTime: () => void,
): Promise<{ ids: string[]; ignored: string[] }> {
  const ids: string[] = [];
  const ignored: string[] = [];
  for await (const name of store.listFolders(`${orgPrefix(org)}snapshots/`)) {
    if (ids.length % 1000 === 999) checkTime();
    if (Number.isNaN(startOfId(name).getTime())) ignored.push(name);
    else ids.push(name);
  }
  return { ids: ids.sort(), ignored: ignored.sort() };
}

async function latestPointer(store: BackupStore, org: string): Promise<string | undefined> {
  const text = await textIfAny(store, latestPointerKey(org));
  return text === undefined ? undefined : (JSON.parse(text) as { snapshotId?: string }).snapshotId;
}

/** The object's text, or undefined when there is none; any other read error fails the sweep. */
async function textIfAny(store: BackupStore, key: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await store.get(key));
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

/**
 * The body an index entry names; undefined when the entry is gone or is not an entry (a backup
 * could not reuse it either: its lookup would fail). A read that fails otherwise fails the sweep,
 * which reads that entry again on its next invocation: an entry left naming a removed body would
 * make every later backup of that file name a body that is not there.
 */
async function indexedBody(store: BackupStore, key: string): Promise<string | undefined> {
  const text = await textIfAny(store, key);
  if (text === undefined) return undefined;
  try {
    const named = (JSON.parse(text) as { key?: unknown }).key;
    return typeof named === 'string' ? named : undefined;
  } catch {
    return undefined;
  }
}

async function keysUnder(store: BackupStore, prefix: string, checkTime: () => void): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) {
    if (keys.length % 1000 === 999) checkTime();
    keys.push(entry.key);
  }
  return keys;
}
