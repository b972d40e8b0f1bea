/**
 * Erasing from a replica of the vault what the org's erasures removed from the vault itself.
 *
 * S3 replication gives the replica the same version ids and never carries a version's removal, so
 * every version an erasure removed stays in the replica. Each execution listed them before it
 * removed them (`orgs/<org>/erasures/<execution>/removed/`, removals.ts); this removes the same
 * versions from the replica, run by a person holding the role the replica trusts for removals (no
 * workflow role may remove anything there).
 *
 * Safe by default: without `confirm` it only says what is there and what a lock would refuse. It
 * removes only versions of keys an erasure of this org may remove versions of in the vault
 * (`eraseRemovalPatternsOf`): a list naming any other key, or one that cannot be read, refuses the
 * whole run before anything is removed. Running it again removes what is left and nothing else.
 */
import {
  ERASURE_REMOVED_FOLDER,
  ErrorName,
  eraseRemovalPatternsOf,
} from '../../../contract/workflow-contract.ts';
import { inTurns } from '../in-turns.ts';
import type { BackupStore, VersionedStore } from '../store.ts';
import { erasureLogPrefix, type ErasureEntry, executionOfEntry } from './finish.ts';
import { erasuresPrefix } from './find.ts';

/** The erasure lists cannot be used as they are: nothing was removed from the replica. */
export class ReplicaListUnusableError extends Error {
  override readonly name = ErrorName.ReplicaListUnusable;
}

/** Keys looked up or removed at once. */
const AT_ONCE = 8;
/** Versions a report names one by one; its counts cover them all. */
export const NAMED_VERSIONS = 100;

/** One version the replica still holds after the run, or would refuse to give up, and why. */
export interface ReplicaVersion {
  readonly key: string;
  readonly versionId: string;
  readonly why: string;
}

/** One execution whose lists were read, as its erasure log entry describes it. */
export interface ListedExecution {
  readonly execution: string;
  /** `complete`, `failed`, `unfinished`, `started` (still running, or stopped unnoticed), or `no log entry`. */
  readonly status: string;
  readonly requestedBy?: string;
  readonly reason?: string;
  /** When its removals began, or for a finished one when it finished. */
  readonly at?: string;
  readonly keys: number;
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
  /** Of those, the versions the replica held when the run began. */
  readonly inReplica: number;
  /** Of those, the versions the replica never received or no longer holds. */
  readonly notInReplica: number;
  /** Versions this run removed (0 without `confirm`). */
  readonly removed: number;
  /**
   * Without `confirm`: the versions a removal would be refused for (a lock), the first
   * NAMED_VERSIONS. With it: the versions the replica still holds after the run, and why.
   */
  readonly refused: readonly ReplicaVersion[];
  readonly refusedCount: number;
}

/** The versions to remove, by key, and which executions listed them. */
interface Listed {
  readonly versionsByKey: Map<string, Set<string>>;
  readonly byExecution: Map<string, { keys: Set<string>; versions: number }>;
}

/**
 * Removes from `replica` every version the org's erasures listed (or, without `confirm`, reports
 * what it would remove). `bypassGovernance` is whether the replica store sends the GOVERNANCE
 * bypass, which only changes what the report predicts.
 */
export async function cleanReplica(args: {
  readonly vault: BackupStore;
  readonly replica: VersionedStore;
  readonly org: string;
  readonly confirm: boolean;
  readonly bypassGovernance?: boolean;
  readonly now?: () => Date;
}): Promise<ReplicaCleaning> {
  const { vault, replica, org, confirm } = args;
  const now = args.now ?? (() => new Date());
  const listed = await readLists(vault, org);
  const keys = [...listed.versionsByKey.keys()].sort();
  const held = async (key: string) => {
    const ids = new Set<string>();
    for await (const v of replica.listVersions(key))
      if (v.key === key && !v.deleteMarker) ids.add(v.versionId);
    return ids;
  };
  const found = await inTurns(keys, AT_ONCE, async (key) => {
    const there = await held(key);
    return [...listed.versionsByKey.get(key)!]
      .filter((id) => there.has(id))
      .map((versionId) => ({ key, versionId }));
  });
  const present = found.flat();
  const listedVersions = keys.reduce((n, key) => n + listed.versionsByKey.get(key)!.size, 0);
  let refused: ReplicaVersion[] = [];
  let removed = 0;
  if (!confirm) {
    const predicted = await inTurns(present, AT_ONCE, async (v) => {
      const why = await lockReason(replica, v.key, v.versionId, now(), args.bypassGovernance ?? false);
      return why ? { ...v, why } : undefined;
    });
    refused = predicted.filter((v): v is ReplicaVersion => v !== undefined);
  } else {
    const failures = new Map<string, string>();
    await inTurns(present, AT_ONCE, async ({ key, versionId }) => {
      try {
        await replica.deleteVersion(key, versionId);
      } catch (error) {
        failures.set(`${key}\n${versionId}`, `${(error as Error).name}: ${(error as Error).message}`);
      }
    });
    // What the replica holds now decides, not what the calls answered.
    const removing = new Map<string, string[]>();
    for (const v of present) removing.set(v.key, [...(removing.get(v.key) ?? []), v.versionId]);
    const left = (
      await inTurns([...removing.keys()], AT_ONCE, async (key) => {
        const there = await held(key);
        return removing
          .get(key)!
          .filter((id) => there.has(id))
          .map((versionId) => ({ key, versionId }));
      })
    ).flat();
    removed = present.length - left.length;
    refused = await inTurns(left, AT_ONCE, async (v) => {
      const lock = await lockReason(replica, v.key, v.versionId, now(), args.bypassGovernance ?? false).catch(
        () => undefined,
      );
      const failure = failures.get(`${v.key}\n${v.versionId}`);
      return { ...v, why: [failure, lock].filter(Boolean).join('; ') || 'still there after its removal' };
    });
  }
  return {
    org,
    confirmed: confirm,
    executions: await describeExecutions(vault, org, listed),
    keys: keys.length,
    listedVersions,
    inReplica: present.length,
    notInReplica: listedVersions - present.length,
    removed,
    refused: refused.slice(0, NAMED_VERSIONS),
    refusedCount: refused.length,
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
 * Every execution's lists of removed versions, each checked: a record that cannot be read, is not
 * `{ key, versionIds }`, or names a key an erasure of this org may not remove versions of refuses
 * the run.
 */
async function readLists(vault: BackupStore, org: string): Promise<Listed> {
  const prefix = erasuresPrefix(org);
  const record = new RegExp(`^${literal(prefix)}([^/]+)/${literal(ERASURE_REMOVED_FOLDER)}[^/]+\\.json$`);
  const scope = eraseRemovalPatternsOf(org).map(
    (pattern) => new RegExp(`^${pattern.split('*').map(literal).join('.*')}$`),
  );
  const versionsByKey = new Map<string, Set<string>>();
  const byExecution = new Map<string, { keys: Set<string>; versions: number }>();
  const refuse = (key: string, problem: string) =>
    new ReplicaListUnusableError(
      `The list of removed versions ${key} ${problem}, so nothing was removed from the replica. Only the erase workflow writes these lists: find out who wrote this one before you remove anything by hand.`,
    );
  for await (const { key } of vault.list(prefix)) {
    const execution = record.exec(key)?.[1];
    if (!execution) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(await vault.get(key)));
    } catch (error) {
      throw refuse(key, `cannot be read (${(error as Error).message})`);
    }
    const entry = parsed as { key?: unknown; versionIds?: unknown } | null;
    if (
      typeof entry !== 'object' ||
      entry === null ||
      typeof entry.key !== 'string' ||
      !Array.isArray(entry.versionIds) ||
      entry.versionIds.length === 0 ||
      entry.versionIds.some((id) => typeof id !== 'string' || id === '')
    )
      throw refuse(key, 'is not a record of removed versions ({ "key": ..., "versionIds": [...] })');
    if (entry.key.includes('..') || !scope.some((pattern) => pattern.test(entry.key as string)))
      throw refuse(key, `names ${entry.key}, which no erasure of org ${org} removes versions of`);
    const ids = versionsByKey.get(entry.key) ?? new Set<string>();
    for (const id of entry.versionIds as string[]) ids.add(id);
    versionsByKey.set(entry.key, ids);
    const seen = byExecution.get(execution) ?? { keys: new Set<string>(), versions: 0 };
    seen.keys.add(entry.key);
    seen.versions += entry.versionIds.length;
    byExecution.set(execution, seen);
  }
  return { versionsByKey, byExecution };
}

/** Each execution whose lists were read, with what its erasure log entry says of it. */
async function describeExecutions(
  vault: BackupStore,
  org: string,
  listed: Listed,
): Promise<ListedExecution[]> {
  const entries = new Map<string, ErasureEntry>();
  for await (const { key } of vault.list(erasureLogPrefix(org))) {
    const execution = executionOfEntry(org, key);
    if (!execution || !listed.byExecution.has(execution)) continue;
    try {
      entries.set(execution, JSON.parse(new TextDecoder().decode(await vault.get(key))) as ErasureEntry);
    } catch {
      // An unreadable entry says nothing of its execution: shown as without one.
    }
  }
  return [...listed.byExecution.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([execution, { keys, versions }]) => {
      const entry = entries.get(execution);
      const at = entry && ('erasedAt' in entry ? entry.erasedAt : entry.startedAt);
      return {
        execution,
        status: entry?.status ?? 'no log entry',
        ...(entry?.requestedBy ? { requestedBy: entry.requestedBy } : {}),
        ...(entry && 'reason' in entry && typeof entry.reason === 'string' ? { reason: entry.reason } : {}),
        ...(at ? { at } : {}),
        keys: keys.size,
        versions,
      };
    });
}

/** `text` as a regular expression matching it alone. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
