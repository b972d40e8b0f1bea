import { describe, expect, it } from 'vitest';
import { InvalidConfigError, parseConfig, retentionPolicyOf } from '../../lib/config.ts';

function problemsOf(json: unknown): readonly string[] {
  try {
    parseConfig(json);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

const org = (more: Record<string, unknown> = {}) => ({
  name: 'acme-prod',
  type: 'production',
  secretName: 'sfbackup/acme-prod',
  ...more,
});
const GFS = { daily: 7, weekly: 5, monthly: 12, yearly: 7 };

describe('the retention policy in the config', () => {
  it('keeps every snapshot when no policy is written', () => {
    // GIVEN a config without retention.keep WHEN it is parsed THEN no org has a policy
    const config = parseConfig({ orgs: [org()], alertEmails: [] });
    expect(config.retention.keep).toBeUndefined();
    expect(retentionPolicyOf(config, config.orgs[0]!)).toBeUndefined();
  });

  it('applies retention.keep to every org, an org\'s own keep instead, and "all" to keep everything', () => {
    const config = parseConfig({
      orgs: [org(), org({ name: 'acme-uat', keep: { daily: 3 } }), org({ name: 'acme-audit', keep: 'all' })],
      retention: { keep: GFS },
      alertEmails: [],
    });
    expect(config.orgs.map((o) => retentionPolicyOf(config, o))).toEqual([
      GFS,
      { daily: 3, weekly: 0, monthly: 0, yearly: 0 },
      undefined,
    ]);
  });

  it('lists every problem of a policy at once: whole numbers, unknown keys with the nearest name', () => {
    const problems = problemsOf({
      orgs: [org({ keep: { daily: 1.5, weekley: 4, monthly: '12' } })],
      retention: { keep: { daily: -1, yearly: 7 } },
      alertEmails: [],
    });
    expect(problems).toEqual([
      'orgs[0].keep.daily: received 1.5; write a whole number of snapshots, 0 or more',
      'orgs[0].keep.monthly: received "12"; write a whole number of snapshots, 0 or more',
      'orgs[0].keep: unknown key weekley (did you mean weekly?); write one of daily, weekly, monthly, yearly',
      'retention.keep.daily: received -1; write a whole number of snapshots, 0 or more',
    ]);
  });

  it('refuses a policy that keeps nothing', () => {
    const problems = problemsOf({
      orgs: [org()],
      retention: { keep: { daily: 0, weekly: 0, monthly: 0, yearly: 0 } },
      alertEmails: [],
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^retention\.keep: received .*; this policy keeps no snapshot at all; keep at least one daily, weekly, monthly or yearly snapshot/,
    );
  });

  it('refuses an org keep that is neither a policy nor "all"', () => {
    expect(problemsOf({ orgs: [org({ keep: 'none' })], alertEmails: [] })).toEqual([
      'orgs[0].keep: received "none"; write a retention policy such as {"daily": 7, "weekly": 5, "monthly": 12, "yearly": 7}, or "all" to keep every snapshot of this org',
    ]);
  });

  it('refuses any S3 expiry of current versions when a policy applies, however long', () => {
    const problems = problemsOf({
      orgs: [org()],
      retention: { currentDays: 365, keep: GFS },
      alertEmails: [],
    });
    expect(problems).toEqual([
      'retention.currentDays: received 365; retention.keep (7 daily, 5 weekly, 12 monthly, 7 yearly) expires snapshots itself; remove retention.currentDays: S3 expiring current versions 365 days after they were written would remove file bodies and bases the policy keeps (a body is written once and reused by later snapshots, and the latest snapshot is kept however old)',
    ]);
    expect(
      problemsOf({ orgs: [org()], retention: { currentDays: 5000, keep: GFS }, alertEmails: [] }),
    ).toHaveLength(1);
  });

  it('refuses an Object Lock period longer than the policy keeps its daily snapshots', () => {
    const problems = problemsOf({
      orgs: [org()],
      retention: { objectLock: { mode: 'GOVERNANCE', days: 30 }, keep: GFS },
      alertEmails: [],
    });
    expect(problems).toEqual([
      'retention.objectLock.days: received 30; retention.keep (7 daily, 5 weekly, 12 monthly, 7 yearly) keeps its daily snapshots 7 days, but Object Lock would hold the versions of the snapshots it expired for 30 days; lower retention.objectLock.days to at most 7, or keep more daily snapshots',
    ]);
  });

  it("names the org's own policy when it is the one that contradicts the vault", () => {
    const problems = problemsOf({
      orgs: [org({ keep: { weekly: 2 } })],
      retention: { objectLock: { mode: 'GOVERNANCE', days: 30 }, keep: { daily: 30 } },
      alertEmails: [],
    });
    // retention.keep is used by no org, so only the org's own policy is checked.
    expect(problems).toEqual([
      'retention.objectLock.days: received 30; orgs[0].keep (0 daily, 2 weekly, 0 monthly, 0 yearly) keeps its weekly snapshots 14 days, but Object Lock would hold the versions of the snapshots it expired for 30 days; lower retention.objectLock.days to at most 14, or keep more weekly snapshots',
    ]);
  });

  it('accepts a policy that agrees with the vault settings', () => {
    const config = parseConfig({
      orgs: [org()],
      retention: { objectLock: { mode: 'COMPLIANCE', days: 7 }, keep: GFS },
      alertEmails: [],
    });
    expect(config.retention.keep).toEqual(GFS);
  });

  it('refuses a stack prefix too long for the sweeper role name of a swept org', () => {
    const prefix = `S${'x'.repeat(50)}`;
    const problems = problemsOf({
      orgs: [org()],
      stackPrefix: prefix,
      retention: { keep: GFS },
      alertEmails: [],
    });
    expect(problems).toEqual([
      `stackPrefix: received "${prefix}"; the retention sweeper's role of org acme-prod would be named "${prefix}-sweep-acme-prod", 3 characters longer than IAM allows; write a stackPrefix of at most 48 characters (orgs[0])`,
    ]);
  });
});
