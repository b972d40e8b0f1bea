import { RETENTION_TIERS, type RetentionPolicy } from '../contract/workflow-contract.ts';

/** The longest an IAM role name may be. */
const ROLE_NAME_LIMIT = 64;

/** The fewest days one slot of a tier lasts: a month has at least 28 days, a year 365. */
const SHORTEST_DAYS: Readonly<Record<keyof RetentionPolicy, number>> = {
  daily: 1,
  weekly: 7,
  monthly: 28,
  yearly: 365,
};

/**
 * The name of the retention sweeper's role of `orgName`, `<stackPrefix>-sweep-<org name>`: the
 * vault stack, deployed before the org stacks, names it in its bucket policy.
 */
export function sweeperRoleNameOf(stackPrefix: string, orgName: string): string {
  return `${stackPrefix}-sweep-${orgName}`;
}

/** Why a sweeper role could not be named so, or undefined. */
export function sweeperRoleNameProblem(stackPrefix: string, orgName: string): string | undefined {
  const name = sweeperRoleNameOf(stackPrefix, orgName);
  if (name.length <= ROLE_NAME_LIMIT) return undefined;
  const over = name.length - ROLE_NAME_LIMIT;
  return `the retention sweeper's role of org ${orgName} would be named "${name}", ${over} characters longer than IAM allows; write a stackPrefix of at most ${stackPrefix.length - over} characters`;
}

/**
 * How long the policy keeps its shortest-lived kept snapshot, in days: its first tier that keeps
 * any (7 dailies: 7 days; no dailies and 4 weeklies: 28 days).
 */
export function shortestKeptDays(policy: RetentionPolicy): number {
  const tier = RETENTION_TIERS.find((t) => policy[t] > 0);
  return tier ? policy[tier] * SHORTEST_DAYS[tier] : 0;
}

/** A policy in one line, such as "7 daily, 5 weekly, 12 monthly, 7 yearly". */
export function describePolicy(policy: RetentionPolicy): string {
  return RETENTION_TIERS.map((tier) => `${policy[tier]} ${tier}`).join(', ');
}

/** The vault's retention settings a policy must agree with. */
export interface VaultRetentionSettings {
  /** S3 expires current versions after this many days (`retention.currentDays`), if set. */
  readonly currentDays?: number;
  /** Object Lock's default retention in days (`retention.objectLock.days`), if set. */
  readonly objectLockDays?: number;
}

/** One contradiction between a policy and the vault's settings: the setting to change, and how. */
export interface PolicyConflict {
  /** Which vault setting contradicts the policy. */
  readonly setting: 'currentDays' | 'objectLockDays';
  /** Its value. */
  readonly value: number;
  /** What is wrong and what to write instead. */
  readonly message: string;
}

/**
 * Where a retention policy and the vault's own retention contradict each other:
 * - S3 expiring current versions by age (`currentDays`), whatever the number of days: the policy
 *   keeps the latest snapshot however old, a kept snapshot's base is older than it, and a file
 *   body ages from its first write while today's snapshots still reuse it, so S3 would remove
 *   bodies and bases the policy keeps;
 * - an Object Lock period longer than the policy keeps its shortest-lived snapshot would hold the
 *   versions of snapshots the policy expired in the vault until the lock ends.
 */
export function policyConflicts(
  policy: RetentionPolicy,
  vault: VaultRetentionSettings,
  policyName: string,
): PolicyConflict[] {
  const conflicts: PolicyConflict[] = [];
  if (vault.currentDays !== undefined) {
    conflicts.push({
      setting: 'currentDays',
      value: vault.currentDays,
      message: `${policyName} (${describePolicy(policy)}) expires snapshots itself; remove retention.currentDays: S3 expiring current versions ${vault.currentDays} days after they were written would remove file bodies and bases the policy keeps (a body is written once and reused by later snapshots, and the latest snapshot is kept however old)`,
    });
  }
  const shortest = shortestKeptDays(policy);
  if (vault.objectLockDays !== undefined && shortest > 0 && vault.objectLockDays > shortest) {
    const tier = RETENTION_TIERS.find((t) => policy[t] > 0)!;
    conflicts.push({
      setting: 'objectLockDays',
      value: vault.objectLockDays,
      message: `${policyName} (${describePolicy(policy)}) keeps its ${tier} snapshots ${shortest} days, but Object Lock would hold the versions of the snapshots it expired for ${vault.objectLockDays} days; lower retention.objectLock.days to at most ${shortest}, or keep more ${tier} snapshots`,
    });
  }
  return conflicts;
}

/** Why `policy` is not a retention policy (whole numbers of at least 0, at least one kept), or undefined. */
export function policyProblem(policy: RetentionPolicy): string | undefined {
  const bad = RETENTION_TIERS.filter((t) => !Number.isInteger(policy[t]) || policy[t] < 0);
  if (bad.length > 0) {
    return `${bad.map((t) => `${t} is ${policy[t]}`).join(', ')}: write whole numbers of snapshots, 0 or more`;
  }
  if (RETENTION_TIERS.every((t) => policy[t] === 0)) {
    return 'it keeps no snapshot at all: keep at least one daily, weekly, monthly or yearly snapshot';
  }
  return undefined;
}
