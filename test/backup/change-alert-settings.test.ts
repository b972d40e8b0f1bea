import { describe, expect, it } from 'vitest';
import { ErrorName } from '../../contract/workflow-contract.ts';
import {
  changeAlertPolicy,
  DEFAULT_BASELINE,
  DEFAULT_FIELD_THRESHOLDS,
  DEFAULT_MINIMUM_ROWS,
} from '../../lambdas/core/backup/change-alert-settings.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import { resolvedSettings } from '../../lib/workflows/backup/props.ts';

function failure(input: unknown): Error {
  try {
    parseBackupSettings(input);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the settings to be refused');
}

describe('changeAlerts setting', () => {
  it('keeps the meaning of settings written before it: anomalyRows and anomalyPercent for updates and deletes', () => {
    const policy = changeAlertPolicy(parseBackupSettings({}));
    for (const kind of ['updated', 'deleted', 'hardDeleted'] as const) {
      expect(policy.kinds[kind]).toEqual({ rule: 'threshold', rows: 1_000, percent: 5 });
    }
    expect(policy.kinds.inserted).toEqual({ rule: 'baseline' });
    expect(policy.kinds.undeleted).toEqual({ rule: 'baseline' });
    expect(policy.fields).toEqual({
      nulledRows: 250,
      nulledPercent: 5,
      sameValueRows: 500,
      sameValuePercent: 10,
    });
    expect(policy.fields).toEqual(DEFAULT_FIELD_THRESHOLDS);
    expect(policy.baseline).toEqual({ runs: 10, minRuns: 5, k: 3.5 });
    expect(policy.baseline).toEqual(DEFAULT_BASELINE);
    expect(policy.minimumRows).toBe(DEFAULT_MINIMUM_ROWS);
    expect(policy.objects).toEqual({});
  });

  it('reads per-kind, per-object, field and baseline rules, an empty threshold meaning the baseline', () => {
    const policy = changeAlertPolicy(
      parseBackupSettings(
        JSON.stringify({
          anomalyRows: 300,
          changeAlerts: {
            deleted: { percent: 1 },
            updated: {},
            inserted: { rows: 5_000 },
            undeleted: 'off',
            objects: {
              Task: { deleted: 'off', fields: 'off' },
              Contact: { hardDeleted: { rows: 10 }, fields: { nulledRows: 100 } },
            },
            fields: { sameValuePercent: 30 },
            baseline: { runs: 20, minRuns: 8, k: 4 },
            minimumRows: 5,
          },
        }),
      ),
    );
    expect(policy.kinds).toEqual({
      inserted: { rule: 'threshold', rows: 5_000 },
      updated: { rule: 'baseline' },
      deleted: { rule: 'threshold', percent: 1 },
      undeleted: { rule: 'off' },
      hardDeleted: { rule: 'threshold', rows: 300, percent: 5 },
    });
    expect(policy.objects.Task).toEqual({ kinds: { deleted: { rule: 'off' } }, fields: 'off' });
    expect(policy.objects.Contact).toEqual({
      kinds: { hardDeleted: { rule: 'threshold', rows: 10 } },
      fields: { ...DEFAULT_FIELD_THRESHOLDS, sameValuePercent: 30, nulledRows: 100 },
    });
    expect(policy.fields).toEqual({ ...DEFAULT_FIELD_THRESHOLDS, sameValuePercent: 30 });
    expect(policy.baseline).toEqual({ runs: 20, minRuns: 8, k: 4 });
    expect(policy.minimumRows).toBe(5);
  });

  it('refuses an unknown kind, suggesting the nearest, at every level', () => {
    const error = failure({
      changeAlerts: { deleet: { rows: 5 }, objects: { Account: { hardDelete: 'off' } } },
    });
    expect(error.name).toBe(ErrorName.InvalidBackupSettings);
    expect(error.message).toContain('changeAlerts: unknown key "deleet" (did you mean "deleted"?)');
    expect(error.message).toContain(
      'changeAlerts.objects.Account: unknown key "hardDelete" (did you mean "hardDeleted"?)',
    );
    expect(error.message).toMatch(/known here: inserted, updated, deleted, undeleted, hardDeleted, fields\)/);
  });

  it('refuses a misspelt threshold or field key with the keys known there', () => {
    const error = failure({ changeAlerts: { fields: { nulledRow: 5 }, baseline: { run: 5 } } });
    expect(error.message).toContain(
      'changeAlerts.fields: unknown key "nulledRow" (did you mean "nulledRows"?)',
    );
    expect(error.message).toContain('changeAlerts.baseline: unknown key "run" (did you mean "runs"?)');
  });

  it('refuses bad values, naming the path and what to write', () => {
    const error = failure({
      changeAlerts: {
        deleted: 'sometimes',
        fields: { nulledPercent: 150 },
        baseline: { runs: 3 },
        minimumRows: -1,
      },
    });
    expect(error.message).toContain('changeAlerts.deleted: write "off", or {"rows": N, "percent": P}');
    expect(error.message).toContain('changeAlerts.fields.nulledPercent:');
    expect(error.message).toContain('changeAlerts.baseline.runs:');
    expect(error.message).toContain('changeAlerts.minimumRows:');
  });

  it('refuses a baseline that needs more runs than it reads', () => {
    const error = failure({ changeAlerts: { baseline: { minRuns: 12 } } });
    expect(error.message).toContain('changeAlerts.baseline.minRuns: minRuns is more than runs');
  });

  it('accepts the changeAlerts the deployment writes into the function environment', () => {
    const written = resolvedSettings({
      anomalyPercent: 10,
      anomalyRows: 50,
      changeAlerts: {
        inserted: { rows: 2_000 },
        objects: { Account: { deleted: 'off', fields: { nulledRows: 10 } } },
        fields: { sameValueRows: 800 },
        baseline: { runs: 12 },
        minimumRows: 20,
      },
    });
    expect(parseBackupSettings(JSON.stringify(written))).toMatchObject(written);
  });
});
