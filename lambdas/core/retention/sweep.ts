/**
 * The retention sweep of one org: lists its snapshots, classifies them under its policy, logs the
 * decision, then removes what expired. Removal order makes a stopped sweep safe and resumable:
 * the catalog entry and manifest go first (a half-removed snapshot never looks restorable), then
 * the snapshot's other objects, then the file index entries naming bodies no kept snapshot
 * references, then those bodies, in batches, each only while no backup has started since the sweep
 * began (a later sweep removes what is left). A re-run finds the half-removed snapshots in the
 * retention logs and finishes them.
 */
import {
  ErrorName,
  RETENTION_LOG_FOLDER,
  type RetentionPolicy,
} from '../../../contract/workflow-contract.ts';
import type { RemovingStore } from '../removing-store.ts';
import {
  catalogKey,
  catalogPrefix,
  latestPointerKey,
  manifestKey,
  orgPrefix,
  snapshotPrefix,
} from '../snapshot/keys.ts';
import { type CatalogEntry, parseCatalogEntry, parseManifest } from '../snapshot/manifest.ts';
import { type BackupStore, ObjectNotFoundError } from '../store.ts';
import { classify, type RetentionDecision, startOfId } from './classify.ts';

/** The sweep could not read every catalog entry of the org, so it cannot know what it would expire. */
export class RetentionCatalogUnreadableError extends Error {
  override readonly name = ErrorName.RetentionCatalogUnreadable;
}

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
}

/** One sweep's request. */
export interface SweepInput {
  readonly org: string;
  readonly policy: RetentionPolicy;
  /** The execution (or run) that sweeps; part of the retention log's key. */
  readonly execution: string;
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
  readonly counts: {
    readonly kept: number;
    readonly expired: number;
    readonly fileBodiesToRemove: number;
  };
}

const FILE_BODIES = 'files/sha256/';
const FILE_INDEX = 'files/index/';
/** File bodies removed between two listings of the snapshot folders: a few seconds of deletes. */
const BODY_BATCH = 100;

/** Where a sweep records that it left file bodies for later (a log key of its own: logs are written once). */
const deferredLogKey = (logKey: string): string => logKey.replace(/\.json$/, '-deferred.json');

/** The prefix of the org's retention log. */
export const retentionLogPrefix = (org: string): string => `${orgPrefix(org)}${RETENTION_LOG_FOLDER}`;

/** Sweeps one org; see the module comment for the order of removals. */
export async function sweepOrg(deps: SweepDeps, input: SweepInput): Promise<SweepOutput> {
  const { store, remover } = deps;
  const { org, policy } = input;
  const now = deps.clock();
  const catalog = await readWholeCatalog(store, org);
  const { ids: snapshotIds } = await snapshotsWithObjects(store, org);
  const startIds = new Set(snapshotIds);
  const inCatalog = new Set(catalog.map((e) => e.snapshotId));
  const unfinished = snapshotIds.filter((id) => !inCatalog.has(id));
  const halfSwept = await expiredInLogs(store, org, unfinished);
  const plan = classify({
    catalog,
    unfinished,
    halfSwept,
    latest: await latestPointer(store, org),
    policy,
    now,
  });
  const expired = plan.decisions.filter((d) => d.action === 'expire');
  const kept = plan.decisions.filter((d) => d.action === 'keep');

  const bodies = await fileBodiesToRemove(store, org, kept);
  const counts = { kept: kept.length, expired: expired.length, fileBodiesToRemove: bodies.remove.length };
  const output = {
    org,
    kept: kept.length,
    expired: expired.length,
    fileBodiesDeferred: bodies.deferred,
  };
  if (expired.length === 0 && bodies.remove.length === 0) {
    return {
      ...output,
      done: true,
      logKey: null,
      removedObjects: 0,
      removedFileBodies: 0,
      removedFileIndexEntries: 0,
    };
  }

  const entry: RetentionLogEntry = {
    formatVersion: 1,
    org,
    execution: input.execution,
    sweptAt: now.toISOString(),
    policy,
    unfinishedCutoff: plan.unfinishedCutoff,
    expired,
    kept,
    counts,
  };
  const logKey = `${retentionLogPrefix(org)}${stampOf(now)}-${input.execution}.json`;
  await store.put(logKey, JSON.stringify(entry, null, 2), { contentType: 'application/json' });

  let removedObjects = 0;
  // Checked only once this invocation removed something, so every invocation makes progress.
  let removedHere = 0;
  const late = () => removedHere > 0 && deps.deadline !== undefined && deps.clock() >= deps.deadline;
  const partial = () => ({
    ...output,
    done: false,
    logKey,
    removedObjects,
    removedFileBodies: 0,
    removedFileIndexEntries: 0,
  });
  for (const decision of expired) {
    const id = decision.snapshotId;
    for (const key of [catalogKey(org, id), manifestKey(org, id)]) {
      if (await store.head(key)) {
        await remover.remove(key);
        removedObjects++;
        removedHere++;
      }
    }
    for (const key of await keysUnder(store, snapshotPrefix(org, id))) {
      if (late()) return partial();
      await remover.remove(key);
      removedObjects++;
      removedHere++;
    }
  }

  // Index entries first, so that a backup planned from now on downloads a body again rather
  // than naming one that is about to go.
  let removedFileIndexEntries = 0;
  let removedFileBodies = 0;
  if (bodies.remove.length > 0) {
    const removing = new Set(bodies.remove);
    for (const key of await keysUnder(store, `${orgPrefix(org)}${FILE_INDEX}`)) {
      if (late()) return { ...partial(), removedFileIndexEntries };
      const body = await indexedBody(store, key);
      if (body !== undefined && removing.has(body)) {
        await remover.remove(key);
        removedFileIndexEntries++;
        removedHere++;
      }
    }
    // A backup that started after the listing above may already reuse a body about to go: through
    // an index entry read before it was removed, or by finding its own put refused (the body
    // exists) and counting it stored. Such a run writes its snapshot folder first: planBackup
    // writes plan/ (plan.ts) before the files step looks a body up or stores one (files.ts), and
    // the export steps run in between. So just before each batch the folders are listed again; a
    // folder that was not there when the sweep began leaves the bodies to a later sweep.
    for (let i = 0; i < bodies.remove.length; i += BODY_BATCH) {
      if (late()) return { ...partial(), removedFileIndexEntries, removedFileBodies };
      const appeared = (await snapshotsWithObjects(store, org)).ids.filter((id) => !startIds.has(id));
      if (appeared.length > 0) {
        await store.put(
          deferredLogKey(logKey),
          JSON.stringify(
            {
              formatVersion: 1,
              org,
              execution: input.execution,
              deferredAt: deps.clock().toISOString(),
              reason: 'a backup started during the sweep: the file bodies wait for a later sweep',
              runs: appeared,
              fileBodiesLeft: bodies.remove.length - i,
            },
            null,
            2,
          ),
          { contentType: 'application/json' },
        );
        return {
          ...output,
          done: true,
          logKey,
          removedObjects,
          removedFileBodies,
          removedFileIndexEntries,
          fileBodiesDeferred: true,
        };
      }
      for (const key of bodies.remove.slice(i, i + BODY_BATCH)) {
        await remover.remove(key);
        removedFileBodies++;
        removedHere++;
      }
    }
  }
  return { ...output, done: true, logKey, removedObjects, removedFileBodies, removedFileIndexEntries };
}

/** Every catalog entry, or a named error: a sweep that cannot see the whole catalog must not run. */
async function readWholeCatalog(store: BackupStore, org: string): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = [];
  const unreadable: string[] = [];
  let keys: string[];
  try {
    keys = (await keysUnder(store, catalogPrefix(org))).filter((k) => k.endsWith('.json'));
  } catch (error) {
    throw new RetentionCatalogUnreadableError(
      `The catalog of org ${org} could not be listed (${(error as Error).name}); nothing was expired.`,
    );
  }
  for (const key of keys) {
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

/** The ids of the snapshots that have any object under `snapshots/`. */
async function snapshotsWithObjects(store: BackupStore, org: string): Promise<{ ids: string[] }> {
  const prefix = `${orgPrefix(org)}snapshots/`;
  const ids = new Set<string>();
  for await (const entry of store.list(prefix)) {
    const id = entry.key.slice(prefix.length).split('/')[0];
    if (id) ids.add(id);
  }
  return { ids: [...ids].sort() };
}

/**
 * The snapshots among `unfinished` that an earlier sweep expired: only logs written after the
 * oldest of them started can name one, so only those are read.
 */
async function expiredInLogs(
  store: BackupStore,
  org: string,
  unfinished: readonly string[],
): Promise<string[]> {
  if (unfinished.length === 0) return [];
  const oldest = stampOf(startOfId(unfinished[0]!));
  const wanted = new Set(unfinished);
  const found = new Set<string>();
  const prefix = retentionLogPrefix(org);
  for (const key of await keysUnder(store, prefix)) {
    if (key.slice(prefix.length) < oldest) continue;
    const log = JSON.parse(new TextDecoder().decode(await store.get(key))) as Pick<
      RetentionLogEntry,
      'expired'
    >;
    for (const d of log.expired) if (wanted.has(d.snapshotId)) found.add(d.snapshotId);
  }
  return [...found];
}

async function latestPointer(store: BackupStore, org: string): Promise<string | undefined> {
  try {
    const text = new TextDecoder().decode(await store.get(latestPointerKey(org)));
    return (JSON.parse(text) as { snapshotId?: string }).snapshotId;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

/**
 * The file bodies no kept snapshot references. None while a kept run has no manifest yet (in
 * progress): it may already have named bodies, so they wait for the next sweep.
 */
async function fileBodiesToRemove(
  store: BackupStore,
  org: string,
  kept: readonly RetentionDecision[],
): Promise<{ remove: string[]; deferred: boolean }> {
  const referenced = new Set<string>();
  for (const decision of kept) {
    const key = manifestKey(org, decision.snapshotId);
    if (!(await store.head(key))) {
      // A failed run may have stopped before its manifest; it is not restorable either way.
      if (decision.state === 'failed') continue;
      if (decision.state === 'complete') {
        throw new RetentionCatalogUnreadableError(
          `Kept snapshot ${decision.snapshotId} of org ${org} has no manifest (${key}), so the file bodies it needs are unknown; nothing was expired.`,
        );
      }
      return { remove: [], deferred: true };
    }
    const manifest = parseManifest(new TextDecoder().decode(await store.get(key)), key);
    for (const file of manifest.files) referenced.add(file.key);
  }
  const remove: string[] = [];
  for (const key of await keysUnder(store, `${orgPrefix(org)}${FILE_BODIES}`)) {
    if (!referenced.has(key)) remove.push(key);
  }
  return { remove, deferred: false };
}

/** The body an index entry names, or undefined when the entry cannot be read (then it stays). */
async function indexedBody(store: BackupStore, key: string): Promise<string | undefined> {
  try {
    return (JSON.parse(new TextDecoder().decode(await store.get(key))) as { key?: string }).key;
  } catch {
    return undefined;
  }
}

async function keysUnder(store: BackupStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys;
}

/** A sortable UTC stamp for log keys, such as 20261203T213500123Z. */
function stampOf(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}
