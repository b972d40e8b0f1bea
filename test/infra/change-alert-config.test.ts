import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { EnvName } from '../../contract/workflow-contract.ts';
import { changeAlertPolicy } from '../../lambdas/core/backup/change-alert-settings.ts';
import { CHANGE_KINDS } from '../../lambdas/core/backup/change-kinds.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import { buildApp } from '../../lib/app.ts';
import { CHANGE_ALERT_KINDS, InvalidConfigError } from '../../lib/config.ts';
import { appWithoutBundling, configWith } from './fixtures/app-fixture.ts';

function withChangeAlert(changeAlert: unknown) {
  return configWith({
    orgs: [{ name: 'acme-prod', type: 'production', secretName: 'sfbackup/acme-prod', changeAlert }],
  });
}

function problemsOf(changeAlert: unknown): readonly string[] {
  try {
    withChangeAlert(changeAlert);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

/** The backup settings each backup function of the org's stack reads from its environment. */
function settingsWritten(changeAlert: unknown): unknown[] {
  const { orgStacks } = buildApp(withChangeAlert(changeAlert), appWithoutBundling(), { nag: false });
  const functions = Template.fromStack(orgStacks[0]!).findResources('AWS::Lambda::Function');
  return Object.values(functions)
    .map((f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties)
    .map((p) => p.Environment?.Variables?.[EnvName.BackupSettings])
    .filter((value): value is string => typeof value === 'string')
    .map((value) => JSON.parse(value));
}

describe('orgs[].changeAlert', () => {
  it('names the same kinds of change as the runtime', () => {
    expect([...CHANGE_ALERT_KINDS]).toEqual([...CHANGE_KINDS]);
  });

  it('keeps percent and rows as the only defaults, so a config without rules means what it meant', () => {
    expect(withChangeAlert(undefined).orgs[0]?.changeAlert).toEqual({ percent: 5, rows: 1000 });
    expect(withChangeAlert({ percent: 10, rows: 200 }).orgs[0]?.changeAlert).toEqual({
      percent: 10,
      rows: 200,
    });
  });

  it('accepts rules per kind, per object, for fields and for the baseline', () => {
    const rules = {
      percent: 2,
      rows: 500,
      deleted: { rows: 100 },
      inserted: {},
      undeleted: 'off',
      objects: {
        Task: { deleted: 'off', fields: 'off' },
        Contact: { updated: { percent: 20 }, fields: { nulledRows: 50 } },
      },
      fields: { nulledRows: 300, nulledPercent: 3, sameValueRows: 900, sameValuePercent: 15 },
      baseline: { runs: 14, minRuns: 7, k: 4 },
      minimumRows: 20,
    };
    expect(withChangeAlert(rules).orgs[0]?.changeAlert).toEqual(rules);
  });

  it('refuses an unknown kind, suggesting the nearest, at the org level and per object', () => {
    const problems = problemsOf({
      deleet: { rows: 5 },
      objects: { Account: { hardDelete: 'off', update: {} } },
    });
    expect(problems).toContain(
      'orgs[0].changeAlert: unknown key deleet (did you mean deleted?); write one of percent, rows, inserted, updated, deleted, undeleted, hardDeleted, objects, fields, baseline, minimumRows',
    );
    expect(problems).toContain(
      'orgs[0].changeAlert.objects.Account: unknown key hardDelete (did you mean hardDeleted?); write one of inserted, updated, deleted, undeleted, hardDeleted, fields',
    );
    expect(problems.some((p) => p.includes('unknown key update (did you mean updated?)'))).toBe(true);
  });

  it('refuses misspelt field and baseline keys with the keys known there', () => {
    const problems = problemsOf({ fields: { nulledRow: 5 }, baseline: { k: 3, run: 10 } });
    expect(problems).toContain(
      'orgs[0].changeAlert.fields: unknown key nulledRow (did you mean nulledRows?); write one of nulledRows, nulledPercent, sameValueRows, sameValuePercent',
    );
    expect(problems).toContain(
      'orgs[0].changeAlert.baseline: unknown key run (did you mean runs?); write one of runs, minRuns, k',
    );
  });

  it('refuses bad values with the path, the value and what to write', () => {
    const problems = problemsOf({
      deleted: 'sometimes',
      objects: { 'Bad Name': { deleted: 'off' }, Lead: { inserted: { rows: 0 } } },
      fields: { nulledPercent: 150 },
      baseline: { runs: 3 },
      minimumRows: -1,
    });
    expect(problems).toContain(
      'orgs[0].changeAlert.deleted: received "sometimes"; write "off", or {"rows": N, "percent": P} with either or both (an empty {} uses the learned baseline)',
    );
    expect(
      problems.some(
        (p) =>
          p.startsWith('orgs[0].changeAlert.objects.Bad Name') &&
          p.includes('an object API name such as "Account"'),
      ),
    ).toBe(true);
    expect(
      problems.some(
        (p) => p.startsWith('orgs[0].changeAlert.objects.Lead.inserted') && p.includes('received 0'),
      ),
    ).toBe(true);
    expect(problems).toContain(
      'orgs[0].changeAlert.fields.nulledPercent: received 150; write a percentage greater than 0 and at most 100, such as 5',
    );
    expect(problems).toContain(
      'orgs[0].changeAlert.baseline.runs: received 3; write a whole number of runs from 5 to 100',
    );
    expect(problems).toContain(
      'orgs[0].changeAlert.minimumRows: received -1; write a whole number of rows, 0 or more',
    );
  });

  it('refuses a baseline that needs more runs than it reads', () => {
    const problems = problemsOf({ baseline: { runs: 6, minRuns: 8 } });
    expect(
      problems.some(
        (p) => p.startsWith('orgs[0].changeAlert.baseline.minRuns:') && p.includes('minRuns at most runs'),
      ),
    ).toBe(true);
  });

  it('refuses rules too large for the backup functions environment', () => {
    const objects = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`Object${i}__c`, { deleted: { rows: 10, percent: 1 } }]),
    );
    const problems = problemsOf({ objects });
    expect(
      problems.some((p) => p.startsWith('orgs[0].changeAlert.objects:') && p.includes('Lambda allows 4 KB')),
    ).toBe(true);
  });

  it('passes the rules to the backup functions, where the settings read them as written', () => {
    const rules = {
      deleted: { rows: 100 },
      objects: { Task: { deleted: 'off' } },
      fields: { nulledRows: 300 },
    };
    const written = settingsWritten({ percent: 2, rows: 500, ...rules });
    expect(written.length).toBeGreaterThan(0);
    for (const settings of written) {
      expect(settings).toMatchObject({ anomalyPercent: 2, anomalyRows: 500, changeAlerts: rules });
      const policy = changeAlertPolicy(parseBackupSettings(JSON.stringify(settings)));
      expect(policy.kinds.deleted).toEqual({ rule: 'threshold', rows: 100 });
      expect(policy.kinds.hardDeleted).toEqual({ rule: 'threshold', rows: 500, percent: 2 });
      expect(policy.objects.Task?.kinds.deleted).toEqual({ rule: 'off' });
      expect(policy.fields.nulledRows).toBe(300);
    }
  });

  it('writes no changeAlerts into the environment of an org without rules', () => {
    const written = settingsWritten(undefined);
    expect(written.length).toBeGreaterThan(0);
    for (const settings of written) {
      expect(settings).toMatchObject({ anomalyPercent: 5, anomalyRows: 1000 });
      expect(settings).not.toHaveProperty('changeAlerts');
    }
  });
});
