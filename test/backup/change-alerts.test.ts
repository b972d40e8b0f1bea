import { describe, expect, it } from 'vitest';
import { type Anomaly, anomalyMessage, findAnomalies } from '../../lambdas/core/backup/anomalies.ts';
import { judgeByBaseline } from '../../lambdas/core/backup/baseline.ts';
import { changeAlertPolicy, DEFAULT_BASELINE } from '../../lambdas/core/backup/change-alert-settings.ts';
import {
  type ChangeKind,
  type FieldShift,
  noChanges,
  type ObjectChanges,
} from '../../lambdas/core/backup/change-kinds.ts';
import {
  anomalyKey,
  MAX_IDS_PER_INPUT,
  remedyFileNames,
  remedyFiles,
  remedyInputs,
} from '../../lambdas/core/backup/remedy.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import { MAX_INPUT_BYTES, parseRestoreInput } from '../../lambdas/core/restore/input.ts';

/** `n` distinct 18-character ids with a 3-character key prefix. */
function ids(prefix: string, n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(from + i).padStart(12, '0')}AAA`);
}

/** An object's changes: counts and ids per kind, fields as given. */
function changesOf(
  object: string,
  liveBefore: number,
  kinds: Partial<Record<ChangeKind, readonly string[]>>,
  fields: readonly FieldShift[] = [],
): ObjectChanges {
  const counts = noChanges();
  const byKind = { inserted: [], updated: [], deleted: [], undeleted: [], hardDeleted: [] } as Record<
    ChangeKind,
    readonly string[]
  >;
  for (const [kind, list] of Object.entries(kinds) as [ChangeKind, readonly string[]][]) {
    counts[kind] = list.length;
    byKind[kind] = list;
  }
  return { object, liveBefore, counts, ids: byKind, restored: 0, fields };
}

const policyOf = (changeAlerts: unknown = undefined) =>
  changeAlertPolicy(parseBackupSettings(changeAlerts === undefined ? {} : { changeAlerts }));
const noHistory = () => [];
const ORG_ID = '00D000000000001AAA';

describe('change alert thresholds', () => {
  it('alerts on deletes over 1,000 rows or 5% by default, and not below both', () => {
    const policy = policyOf();
    const over = findAnomalies(
      [changesOf('Account', 100_000, { deleted: ids('001', 1_001) })],
      noHistory,
      policy,
      'incremental',
    );
    expect(over).toHaveLength(1);
    expect(over[0]).toMatchObject({ object: 'Account', kind: 'deleted', count: 1_001, ofRows: 100_000 });
    expect(over[0]?.why).toEqual({ rule: 'threshold', rows: 1_000, percent: 5 });
    const share = findAnomalies(
      [changesOf('Account', 1_000, { deleted: ids('001', 60) })],
      noHistory,
      policy,
      'incremental',
    );
    expect(share.map((a) => a.kind)).toEqual(['deleted']);
    const under = findAnomalies(
      [changesOf('Account', 100_000, { deleted: ids('001', 900) })],
      noHistory,
      policy,
      'incremental',
    );
    expect(under).toEqual([]);
  });

  it('takes the org-wide default of updates, deletes and hard deletes from anomalyRows and anomalyPercent', () => {
    const policy = changeAlertPolicy(parseBackupSettings({ anomalyRows: 100, anomalyPercent: 50 }));
    expect(policy.kinds.updated).toEqual({ rule: 'threshold', rows: 100, percent: 50 });
    expect(policy.kinds.hardDeleted).toEqual({ rule: 'threshold', rows: 100, percent: 50 });
    expect(policy.kinds.inserted).toEqual({ rule: 'baseline' });
    expect(policy.kinds.undeleted).toEqual({ rule: 'baseline' });
    const found = findAnomalies(
      [changesOf('Case', 100_000, { hardDeleted: ids('500', 101), updated: ids('500', 99, 500) })],
      noHistory,
      policy,
      'incremental',
    );
    expect(found.map((a) => a.kind)).toEqual(['hardDeleted']);
  });

  it('applies a per-kind org-wide threshold over anomalyRows for that kind only', () => {
    const policy = policyOf({ deleted: { rows: 200 } });
    const found = findAnomalies(
      [changesOf('Lead', 1_000_000, { deleted: ids('00Q', 201), hardDeleted: ids('00Q', 201, 1_000) })],
      noHistory,
      policy,
      'incremental',
    );
    expect(found.map((a) => [a.kind, a.why])).toEqual([['deleted', { rule: 'threshold', rows: 200 }]]);
  });

  it('lets an object override a kind, and turn it off', () => {
    const policy = policyOf({
      objects: { Task: { deleted: 'off' }, Opportunity: { deleted: { rows: 60 } } },
    });
    const found = findAnomalies(
      [
        changesOf('Task', 1_000, { deleted: ids('00T', 900) }),
        changesOf('Opportunity', 1_000_000, { deleted: ids('006', 61) }),
        changesOf('Contact', 1_000_000, { deleted: ids('003', 61) }),
      ],
      noHistory,
      policy,
      'incremental',
    );
    expect(found.map((a) => `${a.object}.${a.kind}`)).toEqual(['Opportunity.deleted']);
    expect(found[0]?.why).toEqual({ rule: 'threshold', rows: 60 });
  });

  it('never alerts on 50 rows or fewer, whatever their share of a small object', () => {
    const policy = policyOf();
    expect(policy.minimumRows).toBe(50);
    const small = findAnomalies(
      [changesOf('Account', 15, { deleted: ids('001', 3) })],
      noHistory,
      policy,
      'incremental',
    );
    expect(small).toEqual([]);
    const lowered = policyOf({ minimumRows: 2 });
    const found = findAnomalies(
      [changesOf('Account', 15, { deleted: ids('001', 3) })],
      noHistory,
      lowered,
      'incremental',
    );
    expect(found.map((a) => a.kind)).toEqual(['deleted']);
  });

  it('judges inserts and undeletes by the baseline: no alert without history, an alert on a spike', () => {
    const policy = policyOf();
    const spike = [
      changesOf('Lead', 10_000, { inserted: ids('00Q', 5_000), undeleted: ids('00Q', 400, 9_000) }),
    ];
    expect(findAnomalies(spike, noHistory, policy, 'incremental')).toEqual([]);
    const usual = (_object: string, kind: ChangeKind) =>
      kind === 'inserted' ? [90, 110, 100, 95, 105, 100] : [0, 0, 0, 0, 0, 0];
    const found = findAnomalies(spike, usual, policy, 'incremental');
    expect(found.map((a) => a.kind)).toEqual(['inserted', 'undeleted']);
    expect(found[0]?.why).toMatchObject({ rule: 'baseline', median: 100, runs: 6, mode: 'incremental' });
  });

  it('has no anomalies on a metadata run', () => {
    expect(
      findAnomalies(
        [changesOf('Account', 10, { deleted: ids('001', 5_000) })],
        noHistory,
        policyOf(),
        'metadata',
      ),
    ).toEqual([]);
  });

  it('finds nothing in a quiet run', () => {
    const quiet = [
      changesOf(
        'Account',
        3_000,
        { inserted: ids('001', 12), updated: ids('001', 40, 100), deleted: ids('001', 2, 500) },
        [
          {
            field: 'Phone',
            nulled: 3,
            nulledIds: ids('001', 3, 100),
            sameValue: { count: 4, ids: ids('001', 4, 110) },
          },
        ],
      ),
      changesOf('Contact', 8_000, { updated: ids('003', 30) }),
    ];
    const found = findAnomalies(quiet, () => [10, 12, 11, 9, 13, 10], policyOf(), 'incremental');
    expect(found).toEqual([]);
    expect(anomalyMessage('acme', '20260101T000000Z-a', found, new Map())).toBe('');
  });
});

describe('learned baseline', () => {
  const p = DEFAULT_BASELINE;

  it('never alerts on a count inside quiet histories', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let trial = 0; trial < 200; trial++) {
      const level = Math.floor(random() * 1_000);
      const history = Array.from({ length: 10 }, () => Math.round(level * (0.8 + random() * 0.4)));
      const count = Math.round(level * (0.8 + random() * 0.4));
      expect(judgeByBaseline(count, history, p, 50)?.alert).toBe(false);
    }
  });

  it('alerts on a spike, naming the median and the spread', () => {
    const verdict = judgeByBaseline(900, [100, 110, 90, 105, 95, 100, 98, 102, 97, 103], p, 50);
    expect(verdict?.alert).toBe(true);
    expect(verdict?.median).toBe(100);
    expect(verdict?.spread).toBeCloseTo(Math.max(1.4826 * 2.5, 25));
    expect(verdict?.limit).toBeCloseTo(100 + 3.5 * verdict!.spread);
  });

  it('does not let an earlier spike mask a later one', () => {
    const history = [100, 105, 95, 20_000, 100, 98, 102, 101, 99, 100];
    expect(judgeByBaseline(5_000, history, p, 50)?.alert).toBe(true);
    expect(judgeByBaseline(130, history, p, 50)?.alert).toBe(false);
  });

  it('never alerts with fewer than five runs of history', () => {
    expect(judgeByBaseline(1_000_000, [1, 2, 1, 2], p, 50)).toBeUndefined();
    expect(judgeByBaseline(1_000_000, [], p, 50)).toBeUndefined();
    expect(judgeByBaseline(1_000_000, [1, 2, 1, 2, 1], p, 50)?.alert).toBe(true);
  });

  it('reads only the last ten runs', () => {
    const old = Array.from({ length: 20 }, () => 10_000);
    const recent = Array.from({ length: 10 }, () => 100);
    expect(judgeByBaseline(5_000, [...old, ...recent], p, 50)).toMatchObject({
      alert: true,
      median: 100,
      runs: 10,
    });
  });

  it('keeps a steady history from alerting on a few rows more, and keeps the minimum', () => {
    expect(
      judgeByBaseline(
        1_050,
        Array.from({ length: 10 }, () => 1_000),
        p,
        50,
      )?.alert,
    ).toBe(false);
    expect(judgeByBaseline(50, [0, 0, 0, 0, 0, 0], p, 50)?.alert).toBe(false);
    expect(judgeByBaseline(51, [0, 0, 0, 0, 0, 0], p, 50)?.alert).toBe(true);
  });

  it('refuses a negative count in the history, naming it', () => {
    expect(() => judgeByBaseline(1, [1, 2, -3, 4, 5], p, 50)).toThrow(/history count is -3/);
  });
});

describe('field-level anomalies', () => {
  const blanked = ids('003', 500);
  const blankedField: FieldShift = { field: 'Email', nulled: 500, nulledIds: blanked, sameValue: null };

  it('reports a field blanked on 500 of a few thousand rows once, instead of the updates it made', () => {
    const found = findAnomalies(
      [changesOf('Contact', 3_000, { updated: blanked }, [blankedField])],
      noHistory,
      policyOf(),
      'incremental',
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      object: 'Contact',
      kind: 'fieldNulled',
      field: 'Email',
      count: 500,
      ofRows: 3_000,
    });
    expect(found[0]?.sampleIds).toEqual(blanked.slice(0, 5));
    expect(found[0]?.ids).toEqual(blanked);
  });

  it('reports one field set to one value on many rows, and leaves fewer rows alone', () => {
    const set = ids('006', 700);
    const shift: FieldShift = {
      field: 'StageName',
      nulled: 0,
      nulledIds: [],
      sameValue: { count: 700, ids: set },
    };
    const found = findAnomalies(
      [changesOf('Opportunity', 50_000, { updated: set }, [shift])],
      noHistory,
      policyOf(),
      'incremental',
    );
    expect(found.map((a) => `${a.kind}:${a.field}`)).toEqual(['fieldSameValue:StageName']);
    const few: FieldShift = {
      field: 'StageName',
      nulled: 0,
      nulledIds: [],
      sameValue: { count: 400, ids: set.slice(0, 400) },
    };
    expect(
      findAnomalies(
        [changesOf('Opportunity', 50_000, { updated: set.slice(0, 400) }, [few])],
        noHistory,
        policyOf(),
        'incremental',
      ),
    ).toEqual([]);
  });

  it('still reports other updated rows when they pass the threshold on their own', () => {
    const others = ids('003', 1_500, 10_000);
    const found = findAnomalies(
      [changesOf('Contact', 100_000, { updated: [...blanked, ...others] }, [blankedField])],
      noHistory,
      policyOf(),
      'incremental',
    );
    expect(found.map((a) => a.kind)).toEqual(['fieldNulled', 'updated']);
    const updated = found[1] as Anomaly;
    expect(updated.count).toBe(1_500);
    expect(updated.ids).toEqual(others);
    expect(updated).toMatchObject({ coveredByFieldAlerts: 500 });
  });

  it('follows per-object field thresholds, and "off"', () => {
    const changes = [changesOf('Contact', 3_000, { updated: blanked }, [blankedField])];
    expect(
      findAnomalies(
        changes,
        noHistory,
        policyOf({ objects: { Contact: { fields: 'off', updated: 'off' } } }),
        'incremental',
      ),
    ).toEqual([]);
    expect(
      findAnomalies(
        changes,
        noHistory,
        policyOf({ objects: { Contact: { fields: { nulledRows: 600, nulledPercent: 20 } } } }),
        'incremental',
      ).map((a) => a.kind),
    ).toEqual(['updated']);
  });
});

describe('remedies', () => {
  const context = { org: 'acme', baseSnapshotId: '20260101T020000Z-base' };
  const anomalyOf = (changes: ObjectChanges, policy = policyOf()) => {
    const [first] = findAnomalies([changes], noHistory, policy, 'incremental');
    if (!first) throw new Error('expected an anomaly');
    return first;
  };

  it('splits deleted rows into restore inputs of at most 10,000 ids, each a dry run the restore accepts', () => {
    const deleted = ids('001', 25_000);
    const anomaly = anomalyOf(changesOf('Account', 30_000, { deleted }));
    const remedy = remedyInputs(anomaly, context);
    expect(remedy.action).toBe('restore');
    if (remedy.action !== 'restore') return;
    expect(remedy.thenMode).toBe('restore-deleted');
    expect(remedy.inputs.map((i) => i.records.length)).toEqual([MAX_IDS_PER_INPUT, MAX_IDS_PER_INPUT, 5_000]);
    expect(remedy.inputs.flatMap((i) => i.records)).toEqual(deleted);
    for (const input of remedy.inputs) {
      expect(input).toMatchObject({
        snapshot: context.baseSnapshotId,
        objects: ['Account'],
        mode: 'dry-run',
      });
      expect(input.fields).toBeUndefined();
      const parsed = parseRestoreInput(JSON.stringify(input));
      expect(parsed.recordIds).toEqual(input.records);
      expect(parseRestoreInput({ ...input, mode: remedy.thenMode, confirmOrgId: ORG_ID }).mode).toBe(
        'restore-deleted',
      );
    }
    expect(remedyFileNames(anomaly, remedy)).toEqual([
      'Account.deleted.1.json',
      'Account.deleted.2.json',
      'Account.deleted.3.json',
    ]);
  });

  it('reverts a blanked field on its rows only, and every field of updated rows', () => {
    const blanked = ids('003', 300);
    const field = anomalyOf(
      changesOf('Contact', 3_000, { updated: blanked }, [
        { field: 'Email', nulled: 300, nulledIds: blanked, sameValue: null },
      ]),
    );
    const fieldRemedy = remedyInputs(field, context);
    expect(fieldRemedy).toMatchObject({ action: 'restore', thenMode: 'revert-changes' });
    if (fieldRemedy.action !== 'restore') return;
    expect(fieldRemedy.inputs).toEqual([
      {
        snapshot: context.baseSnapshotId,
        objects: ['Contact'],
        records: blanked,
        fields: ['Contact.Email'],
        mode: 'dry-run',
      },
    ]);
    expect(
      parseRestoreInput({ ...fieldRemedy.inputs[0], mode: 'revert-changes', confirmOrgId: ORG_ID }).fields,
    ).toEqual(['Contact.Email']);

    const updated = anomalyOf(changesOf('Contact', 3_000, { updated: ids('003', 2_000) }));
    const updatedRemedy = remedyInputs(updated, context);
    expect(updatedRemedy).toMatchObject({ action: 'restore', thenMode: 'revert-changes' });
    if (updatedRemedy.action !== 'restore') return;
    expect(updatedRemedy.inputs[0]?.fields).toBeUndefined();
  });

  it('offers no restore for inserted or undeleted rows, only their ids', () => {
    const inserted = ids('00Q', 80);
    const anomaly = anomalyOf(changesOf('Lead', 1_000, { inserted }), policyOf({ inserted: { rows: 60 } }));
    const remedy = remedyInputs(anomaly, context);
    expect(remedy).toMatchObject({ action: 'none', ids: inserted });
    if (remedy.action !== 'none') return;
    expect(remedy.reason).toMatch(/a restore never deletes rows/);
    expect(remedyFileNames(anomaly, remedy)).toEqual(['Lead.inserted.ids.txt']);
  });

  it('stores each input as JSON a restore takes whole, under 256 KB, and the ids of inserts one per line', () => {
    const deleted = ids('001', 12_000);
    const files = remedyFiles(anomalyOf(changesOf('Account', 30_000, { deleted })), context);
    expect(files.map((f) => f.name)).toEqual(['Account.deleted.1.json', 'Account.deleted.2.json']);
    for (const file of files) {
      expect(Buffer.byteLength(file.body)).toBeLessThanOrEqual(MAX_INPUT_BYTES);
      expect(parseRestoreInput(file.body).mode).toBe('dry-run');
    }
    expect(JSON.parse(files[0]!.body).records).toEqual(deleted.slice(0, 10_000));
    const inserted = ids('00Q', 80);
    const [idsFile] = remedyFiles(
      anomalyOf(changesOf('Lead', 1_000, { inserted }), policyOf({ inserted: { rows: 60 } })),
      context,
    );
    expect(idsFile).toEqual({ name: 'Lead.inserted.ids.txt', body: `${inserted.join('\n')}\n` });
  });

  it('refuses a remedy without a base snapshot, saying what to pass', () => {
    const anomaly = anomalyOf(changesOf('Account', 3_000, { deleted: ids('001', 500) }));
    expect(() => remedyInputs(anomaly, { org: 'acme', baseSnapshotId: '' })).toThrow(
      /pass the id of the snapshot before/,
    );
  });
});

describe('anomaly message', () => {
  it('names object, kind, count, share, why, ids and the remedy, and never a value', () => {
    const secret = ['jane.doe@example.com', 'Closed Won', '+1 555 0100', 'Acme Secret Project'];
    const blanked = ids('003', 500);
    const set = ids('006', 900);
    const contact = {
      ...changesOf('Contact', 3_000, { updated: blanked }, [
        { field: 'Email', nulled: 500, nulledIds: blanked, sameValue: null, before: secret[0] } as FieldShift,
      ]),
      values: { Email: secret[0], Phone: secret[2] },
    } as ObjectChanges;
    const opportunity = {
      ...changesOf('Opportunity', 4_000, { updated: set }, [
        {
          field: 'StageName',
          nulled: 0,
          nulledIds: [],
          sameValue: { count: 900, ids: set, value: secret[1] },
        } as FieldShift,
      ]),
      sample: { Name: secret[3] },
    } as ObjectChanges;
    const lead = changesOf('Lead', 10_000, { inserted: ids('00Q', 2_000) });
    const history = (object: string) => (object === 'Lead' ? [100, 120, 90, 110, 100] : []);
    const anomalies = findAnomalies([contact, opportunity, lead], history, policyOf(), 'incremental');
    expect(anomalies.map(anomalyKey)).toEqual([
      'Contact.Email.fieldNulled',
      'Opportunity.StageName.fieldSameValue',
      'Lead.inserted',
    ]);
    const keys = new Map(
      anomalies.map((a) => [
        anomalyKey(a),
        remedyFileNames(a, remedyInputs(a, { org: 'acme', baseSnapshotId: 'base' })).map(
          (f) => `orgs/acme/remedies/${f}`,
        ),
      ]),
    );
    const text = anomalyMessage('acme', '20260102T020000Z-run', anomalies, keys);
    expect(text).toContain('Unusual changes in org acme, seen by backup 20260102T020000Z-run:');
    expect(text).toContain(
      '- Contact.Email: blanked on 500 rows (16.7% of 3,000 live rows); more than the threshold of 250 rows or 5%.',
    );
    expect(text).toContain(`For example: ${blanked.slice(0, 5).join(', ')}`);
    expect(text).not.toContain(blanked[5]);
    expect(text).toContain(
      'orgs/acme/remedies/Contact.Email.fieldNulled.1.json (dry run; then mode "revert-changes")',
    );
    expect(text).toContain(
      '- Opportunity.StageName: set to one same value on 900 rows (22.5% of 4,000 live rows)',
    );
    expect(text).toContain(
      '- Lead: 2,000 rows inserted (20.0% of 10,000 live rows); usual for incremental runs is about 100 ± 25 (last 5 runs).',
    );
    expect(text).toContain(
      'Remedy: none by restore (a restore never deletes rows); their ids are in the vault at orgs/acme/remedies/Lead.inserted.ids.txt.',
    );
    expect(text).toContain('"Start execution"');
    expect(text).toContain(
      'npx sfbackup restore --instance-url URL --access-token TOKEN --store DIR --input FILE',
    );
    expect(text).toContain('"confirmOrgId"');
    for (const value of secret) expect(text).not.toContain(value);
    for (const anomaly of anomalies) {
      const remedy = JSON.stringify(remedyInputs(anomaly, { org: 'acme', baseSnapshotId: 'base' }));
      for (const value of secret) expect(remedy).not.toContain(value);
    }
  });

  it('says each kind in words', () => {
    const changes = changesOf('Account', 100_000, {
      deleted: ids('001', 1_100),
      hardDeleted: ids('001', 1_200, 10_000),
      updated: ids('001', 1_300, 20_000),
    });
    const text = anomalyMessage(
      'acme',
      'run',
      findAnomalies([changes], noHistory, policyOf(), 'incremental'),
      new Map(),
    );
    expect(text).toContain(
      '- Account: 1,200 rows hard deleted or purged from the recycle bin (1.2% of 100,000 live rows)',
    );
    expect(text).toContain('- Account: 1,100 rows deleted to the recycle bin (1.1% of 100,000 live rows)');
    expect(text).toContain(
      '- Account: 1,300 rows updated (1.3% of 100,000 live rows); more than the threshold of 1,000 rows or 5%.',
    );
  });

  it('lists at most 20 anomalies and counts the rest', () => {
    const changes = Array.from({ length: 23 }, (_, i) =>
      changesOf(`Obj${i}__c`, 10_000, { deleted: ids('a00', 2_000) }),
    );
    const anomalies = findAnomalies(changes, noHistory, policyOf(), 'incremental');
    expect(anomalies).toHaveLength(23);
    const text = anomalyMessage('acme', 'run', anomalies, new Map());
    expect(text.match(/^- /gm)).toHaveLength(20);
    expect(text).toContain('...and 3 more unusual changes, not listed.');
    expect(text).toContain('Remedy: no restore input was stored for it.');
  });
});
