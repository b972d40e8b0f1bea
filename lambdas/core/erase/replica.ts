/**
 * Erasing from a replica of the vault what the org's erasures removed from the vault itself.
 *
 * S3 replication gives the replica the same version ids and never carries a version's removal, so
 * every version an erasure removed stays in the replica. Each execution listed them before it
 * removed them (`orgs/<org>/erasures/<execution>/removed/`, removals.ts); this removes the same
 * versions from the replica, run by a person holding the role the replica trusts for removals (no
 * workflow role may remove anything there).
 *
 * What it removes is bounded. Only versions the vault no longer holds: a listed version still in
 * the vault (a removal a lock refused after it was listed) stays in the replica too, so the replica
 * never loses a copy the vault keeps. (A version leaves the vault through a role allowed to remove
 * versions, or through the lifecycle once noncurrent for `noncurrentDays`: a version an erasure
 * never saw, because the lifecycle had expired it in the vault, is never listed; the replica,
 * which receives the vault's delete markers and has the same lifecycle, expires it too.) Only
 * versions of keys an erasure of this org may remove versions of in the vault
 * (`eraseRemovalPatternsOf`): a list naming any other key, or one that is not a list, refuses the
 * whole run before anything is removed. And the lists themselves can be written only by the
 * erase roles and the trusted roles (the vault's bucket policy).
 *
 * Safe by default: without `confirm` it only says what it would remove and what a lock would
 * refuse. Running it again removes what is left and nothing else.
 */
import {
  ERASURE_REMOVED_FOLDER,
  ErrorName,
  eraseRemovalPatternsOf,
} from '../../../contract/workflow-contract.ts';
import { inTurns } from '../in-turns.ts';
import type { BackupStore, VersionedStore } from '../store.ts';
import { type ErasureEntry, erasureLogPrefix, executionOfEntry } from './finish.ts';
import { erasuresPrefix } from './find.ts';

/** The erasure lists cannot be used as they are: nothing was removed from the replica. */
export class ReplicaListUnusableError extends Error {
  override readonly name = ErrorName.ReplicaListUnusable;
}

/** The vault or the replica could not be read or written; the message says which and where. */
export class ReplicaCleaningFailedError extends Error {
  override readonly name = ErrorName.ReplicaCleaningFailed;
}

/** Records read, keys looked up or versions removed at once. */
const AT_ONCE = 16;
/** Versions a report names one by one; its counts cover them all. */
export const NAMED_VERSIONS = 100;

/** One listed version, and why the run leaves it (or would leave it) in the replica. */
export interface ReplicaVersion {
  readonly key: string;
  readonly versionId: string;
  readonly why: string;
}

/** One execution whose lists were read, as its erasure log entry describes it. */
export interface ListedExecution {
  readonly execution: string;
  /**
   * `complete`, `failed`, `unfinished`, `started` (running, or stopped unnoticed), `no log entry`,
   * or `log entry unreadable` (not an object with a status).
   */
  readonly status: string;
  readonly requestedBy?: string;
  readonly reason?: string;
  /** When it finished, or when its removals began. */
  readonly at?: string;
  readonly keys: number;
  /** Versions its lists name, each once. */
  readonly versions: number;
}

/** What a run found and did: keys, version ids and counts, never a value. */
export interface ReplicaCleaning {
  readonly org: string;
  readonly confirmed: boolean;
  readonly executions: readonly ListedExecution[];
  readonly keys: number;
  /** Versions the lists name, each once. */
  readonly listedVersions: number;
  /** Of those, the versions the vault still holds: left alone in the replica (the first named). */
  readonly stillInVault: number;
  readonly namedStillInVault: readonly { readonly key: string; readonly versionId: string }[];
  /** Of the others, the versions the replica held when the run began. */
  readonly inReplica: number;
  /** Of the others, those the replica does not hold: never received, not received yet, or removed. */
  readonly notInReplica: number;
  /** Versions this run removed (0 without `confirm`). */
  readonly removed: number;
  /**
   * The versions of `inReplica` left in the replica, and why, the first NAMED_VERSIONS: without
   * `confirm`, those a lock would refuse; with it, those still there after the run.
   */
  readonly left: readonly ReplicaVersion[];
  readonly leftCount: number;
}

/** The versions to remove, by key, and which executions listed them. */
interface Listed {
  readonly versionsByKey: Map<string, Set<string>>;
  readonly byExecution: Map<string, Map<string, Set<string>>>;
}

/**
 * Removes from `replica` every version the org's erasures listed that the vault no longer holds
 * (or, without `confirm`, reports what it would remove). `bypassGovernance` is whether the replica
 * store sends the GOVERNANCE bypass, which changes what the report predicts.
 */
export async function cleanReplica(args: {
  /** The vault: its erasure records are read from it. */
  readonly vault: BackupStore;
  /** The vault's versions, which say what it no longer holds. */
  readonly vaultVersions: VersionedStore;
  readonly replica: VersionedStore;
  readonly org: string;
  readonly confirm: boolean;
  readonly bypassGovernance?: boolean;
  readonly now?: () => Date;
}): Promise<ReplicaCleaning> {
  const { vault, vaultVersions, replica, org, confirm } = args;
  const now = args.now ?? (() => new Date());
  const bypass = args.bypassGovernance ?? false;
  const listed = await readLists(vault, org);
  // Described before anything is removed: a failure here leaves the replica as it was.
  const executions = await describeExecutions(vault, org, listed);
  const keys = [...listed.versionsByKey.keys()].sort();
  const versionsIn = async (store: VersionedStore, where: string, key: string) => {
    const ids = new Set<string>();
    try {
      for await (const v of store.listVersions(key))
        if (v.key === key && !v.deleteMarker) ids.add(v.versionId);
    } catch (error) {
      throw failed(`listing the versions of ${key} in ${where}`, error);
    }
    return ids;
  };
  const looked = await inTurns(keys, AT_ONCE, async (key) => {
    const [inVault, inReplica] = await Promise.all([
      versionsIn(vaultVersions, 'the vault', key),
      versionsIn(replica, 'the replica', key),
    ]);
    const ids = [...listed.versionsByKey.get(key)!];
    return {
      kept: ids.filter((id) => inVault.has(id)).map((versionId) => ({ key, versionId })),
      present: ids
        .filter((id) => !inVault.has(id) && inReplica.has(id))
        .map((versionId) => ({ key, versionId })),
    };
  });
  const stillInVault = looked.flatMap((l) => l.kept);
  const present = looked.flatMap((l) => l.present);
  const listedVersions = keys.reduce((n, key) => n + listed.versionsByKey.get(key)!.size, 0);
  // The reason a lock gives, or why it could not be read (which is no reason to stop the run).
  const lockOf = (key: string, versionId: string) =>
    lockReason(replica, key, versionId, now(), bypass).catch(
      (error: unknown) => `its lock could not be read (${describe(error)})`,
    );
  let left: ReplicaVersion[];
  let removed = 0;
  if (!confirm) {
    const predicted = await inTurns(present, AT_ONCE, async (v) => {
      const why = await lockOf(v.key, v.versionId);
      return why ? { ...v, why } : undefined;
    });
    left = predicted.filter((v): v is ReplicaVersion => v !== undefined);
  } else {
    const failures = new Map<string, string>();
    await inTurns(present, AT_ONCE, async ({ key, versionId }) => {
      try {
        await replica.deleteVersion(key, versionId);
      } catch (error) {
        failures.set(`${key}\n${versionId}`, describe(error));
      }
    });
    // What the replica holds now decides, not what the calls answered.
    const removing = new Map<string, string[]>();
    for (const v of present) removing.set(v.key, [...(removing.get(v.key) ?? []), v.versionId]);
    const still = (
      await inTurns([...removing.keys()], AT_ONCE, async (key) => {
        const there = await versionsIn(
          replica,
          `the replica, after ${present.length - failures.size} removal(s) were sent,`,
          key,
        );
        return removing
          .get(key)!
          .filter((id) => there.has(id))
          .map((versionId) => ({ key, versionId }));
      })
    ).flat();
    removed = present.length - still.length;
    left = await inTurns(still, AT_ONCE, async (v) => {
      const failure = failures.get(`${v.key}\n${v.versionId}`);
      const lock = await lockOf(v.key, v.versionId);
      return { ...v, why: [failure, lock].filter(Boolean).join('; ') || 'still there after its removal' };
    });
  }
  return {
    org,
    confirmed: confirm,
    executions,
    keys: keys.length,
    listedVersions,
    stillInVault: stillInVault.length,
    namedStillInVault: stillInVault.slice(0, NAMED_VERSIONS),
    inReplica: present.length,
    notInReplica: listedVersions - stillInVault.length - present.length,
    removed,
    left: left.slice(0, NAMED_VERSIONS),
    leftCount: left.length,
  };
}

/** Why the replica would refuse to remove a version now, or undefined. */
async function lockReason(
  replica: VersionedStore,
  key: string,
  versionId: string,
  now: Date,
  bypassGovernance: boolean,
): Promise<string | undefined> {
  const lock = await replica.versionLock(key, versionId);
  const until = lock.retainUntil;
  const held = until !== undefined && until.getTime() > now.getTime();
  if (lock.legalHold)
    return 'a legal hold is on it: take the hold off (s3:PutObjectLegalHold), then run again';
  if (held && lock.mode === 'COMPLIANCE')
    return `COMPLIANCE retention until ${until.toISOString()}: nobody can remove it before then; run again after`;
  if (held && lock.mode === 'GOVERNANCE' && !bypassGovernance)
    return `GOVERNANCE retention until ${until.toISOString()}: run with --bypass-governance (the role needs s3:BypassGovernanceRetention)`;
  return undefined;
}

/**
 * Every execution's lists of removed versions, each checked: a record that is not
 * `{ key, versionIds }`, or names a key an erasure of this org may not remove versions of, refuses
 * the run.
 */
async function readLists(vault: BackupStore, org: string): Promise<Listed> {
  const prefix = erasuresPrefix(org);
  const record = new RegExp(`^${literal(prefix)}([^/]+)/${literal(ERASURE_REMOVED_FOLDER)}[^/]+\\.json$`);
  const scope = eraseRemovalPatternsOf(org).map(
    (pattern) => new RegExp(`^${pattern.split('*').map(literal).join('.*')}$`),
  );
  const refuse = (key: string, problem: string) =>
    new ReplicaListUnusableError(
      `The list of removed versions ${key} ${problem}, so nothing was removed from the replica. Only the erase workflow's role may write these lists (the vault's bucket policy): find out who wrote this one before you remove anything by hand.`,
    );
  const keys: { key: string; execution: string }[] = [];
  try {
    for await (const { key } of vault.list(prefix)) {
      const execution = record.exec(key)?.[1];
      if (execution) keys.push({ key, execution });
    }
  } catch (error) {
    throw failed(`listing ${prefix} in the vault`, error);
  }
  const records = await inTurns(keys, AT_ONCE, async ({ key, execution }) => {
    let text: string;
    try {
      text = new TextDecoder().decode(await vault.get(key));
    } catch (error) {
      throw failed(`reading ${key} from the vault`, error);
    }
    let entry: { key?: unknown; versionIds?: unknown } | null;
    try {
      entry = JSON.parse(text) as { key?: unknown; versionIds?: unknown } | null;
    } catch {
      throw refuse(key, 'is not JSON');
    }
    if (
      typeof entry !== 'object' ||
      entry === null ||
      typeof entry.key !== 'string' ||
      !Array.isArray(entry.versionIds) ||
      entry.versionIds.length === 0 ||
      entry.versionIds.some((id) => typeof id !== 'string' || id === '')
    )
      throw refuse(key, 'is not a record of removed versions ({ "key": ..., "versionIds": [...] })');
    const named = entry.key;
    const unsafe =
      named.split('/').some((s) => s === '' || s === '.' || s === '..') || /[\x00-\x1f\x7f]/.test(named);
    if (unsafe || !scope.some((pattern) => pattern.test(named)))
      throw refuse(key, `names ${JSON.stringify(named)}, which no erasure of org ${org} removes versions of`);
    return { execution, key: named, versionIds: entry.versionIds as string[] };
  });
  const versionsByKey = new Map<string, Set<string>>();
  const byExecution = new Map<string, Map<string, Set<string>>>();
  for (const r of records) {
    const ids = versionsByKey.get(r.key) ?? new Set<string>();
    const ofExecution = byExecution.get(r.execution) ?? new Map<string, Set<string>>();
    const itsIds = ofExecution.get(r.key) ?? new Set<string>();
    for (const id of r.versionIds) {
      ids.add(id);
      itsIds.add(id);
    }
    versionsByKey.set(r.key, ids);
    ofExecution.set(r.key, itsIds);
    byExecution.set(r.execution, ofExecution);
  }
  return { versionsByKey, byExecution };
}

/** Each execution whose lists were read, with what its erasure log entry says of it. */
async function describeExecutions(
  vault: BackupStore,
  org: string,
  listed: Listed,
): Promise<ListedExecution[]> {
  const entries = new Map<string, ErasureEntry | 'unreadable'>();
  const prefix = erasureLogPrefix(org);
  const logged: { key: string; execution: string }[] = [];
  try {
    for await (const { key } of vault.list(prefix)) {
      const execution = executionOfEntry(org, key);
      if (execution && listed.byExecution.has(execution)) logged.push({ key, execution });
    }
  } catch (error) {
    throw failed(`listing ${prefix} in the vault`, error);
  }
  await inTurns(logged, AT_ONCE, async ({ key, execution }) => {
    let text: string;
    try {
      text = new TextDecoder().decode(await vault.get(key));
    } catch (error) {
      throw failed(`reading ${key} from the vault`, error);
    }
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      // shown as unreadable below
    }
    const readable =
      typeof entry === 'object' &&
      entry !== null &&
      typeof (entry as { status?: unknown }).status === 'string';
    entries.set(execution, readable ? (entry as ErasureEntry) : 'unreadable');
  });
  return [...listed.byExecution.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([execution, keys]) => {
      const counts = { keys: keys.size, versions: [...keys.values()].reduce((n, ids) => n + ids.size, 0) };
      const entry = entries.get(execution);
      if (entry === 'unreadable') return { execution, status: 'log entry unreadable', ...counts };
      const at = entry && ('erasedAt' in entry ? entry.erasedAt : entry.startedAt);
      return {
        execution,
        status: entry?.status ?? 'no log entry',
        ...(entry?.requestedBy ? { requestedBy: entry.requestedBy } : {}),
        ...(entry && 'reason' in entry && typeof entry.reason === 'string' ? { reason: entry.reason } : {}),
        ...(at ? { at } : {}),
        ...counts,
      };
    });
}

/** An operation on the vault or the replica that failed, named with where it was. */
export function failed(what: string, error: unknown): ReplicaCleaningFailedError {
  return new ReplicaCleaningFailedError(
    `${what} failed (${describe(error)}); nothing more was removed. Check that the role you run as may read the vault (and use its key) and list and remove versions in the replica, and the replica's region, then run again: what was removed stays removed, and the run lists again what is left.`,
  );
}

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** `text` as a regular expression matching it alone. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
