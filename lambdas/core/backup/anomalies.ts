import { judgeByBaseline } from './baseline.ts';
import type { ChangeAlertPolicy, FieldThresholds, KindRule } from './change-alert-settings.ts';
import { CHANGE_KINDS, type ChangeKind, type ObjectChanges } from './change-kinds.ts';
import { anomalyKey, remedyModeOf } from './remedy.ts';

/**
 * Which of a run's changes are worth an alert, and the alert's text. Pure: the counts come from
 * the comparison (`ObjectChanges`), the history from earlier runs, the rules from the settings.
 * Only object and field names, counts and ids are ever reported, never field values.
 */

/** Field-level anomalies: one field blanked, or set to one same value, on many rows. */
export type FieldAnomalyKind = 'fieldNulled' | 'fieldSameValue';

/** Why a count alerted. */
export type AnomalyWhy =
  | { readonly rule: 'threshold'; readonly rows?: number; readonly percent?: number }
  | {
      readonly rule: 'baseline';
      readonly median: number;
      readonly spread: number;
      /** Earlier runs of the same mode read. */
      readonly runs: number;
      readonly mode: 'full' | 'incremental';
    };

interface AnomalyCommon {
  readonly object: string;
  readonly count: number;
  /** The object's live rows before the run: what the share is of. */
  readonly ofRows: number;
  /** At most 5 ids, for the message. */
  readonly sampleIds: readonly string[];
  /** Every id concerned, for the remedy. */
  readonly ids: readonly string[];
  readonly why: AnomalyWhy;
}

/** One alert: a kind of change to an object, or a field-level change, past its rule. */
export type Anomaly = AnomalyCommon &
  (
    | {
        readonly kind: ChangeKind;
        readonly field?: undefined;
        /** For `updated`: rows left out because a field alert of the same object reports them. */
        readonly coveredByFieldAlerts?: number;
      }
    | { readonly kind: FieldAnomalyKind; readonly field: string }
  );

/** The counts of earlier runs of the same mode for an object and kind, oldest first. */
export type ChangeHistory = (object: string, kind: ChangeKind) => readonly number[];

/** How many ids an alert shows. */
const SAMPLE_IDS = 5;
/** How many anomalies a message lists; the rest are counted. */
const LISTED = 20;
/** The order anomalies are listed in: losses first. */
const KIND_ORDER: readonly Anomaly['kind'][] = [
  'hardDeleted',
  'deleted',
  'fieldNulled',
  'fieldSameValue',
  'updated',
  'inserted',
  'undeleted',
];

/**
 * The anomalies of one run: per object, each kind of change past its rule (threshold or learned
 * baseline), and each field blanked or set to one value on more rows than the field thresholds.
 * Exactly one anomaly per (object, kind) and per (object, field, kind); updated rows a field
 * anomaly already reports are left out of the `updated` one, which is dropped when the rest no
 * longer passes its rule. Metadata runs compare no data and have none.
 */
export function findAnomalies(
  changes: readonly ObjectChanges[],
  history: ChangeHistory,
  policy: ChangeAlertPolicy,
  mode: 'full' | 'incremental' | 'metadata',
): Anomaly[] {
  if (mode === 'metadata') return [];
  const anomalies = changes.flatMap((c) => objectAnomalies(c, history, policy, mode));
  return anomalies.sort(
    (a, b) =>
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      b.count - a.count ||
      a.object.localeCompare(b.object) ||
      (a.field ?? '').localeCompare(b.field ?? ''),
  );
}

function objectAnomalies(
  changes: ObjectChanges,
  history: ChangeHistory,
  policy: ChangeAlertPolicy,
  mode: 'full' | 'incremental',
): Anomaly[] {
  const { object, liveBefore } = changes;
  const overrides = policy.objects[object];
  const fieldAnomalies = findFieldAnomalies(changes, overrides?.fields ?? policy.fields, policy.minimumRows);
  const anomalies: Anomaly[] = [...fieldAnomalies];
  for (const kind of CHANGE_KINDS) {
    const rule = overrides?.kinds[kind] ?? policy.kinds[kind];
    let ids = changes.ids[kind];
    let count = changes.counts[kind];
    let covered = 0;
    if (kind === 'updated' && fieldAnomalies.length > 0) {
      const reported = new Set(fieldAnomalies.flatMap((a) => a.ids));
      const rest = ids.filter((id) => !reported.has(id));
      covered = ids.length - rest.length;
      ids = rest;
      count = Math.max(0, count - covered);
    }
    const why = judge(count, liveBefore, rule, () => history(object, kind), policy, mode);
    if (!why) continue;
    anomalies.push({
      object,
      kind,
      count,
      ofRows: liveBefore,
      sampleIds: ids.slice(0, SAMPLE_IDS),
      ids,
      why,
      ...(covered > 0 ? { coveredByFieldAlerts: covered } : {}),
    });
  }
  return anomalies;
}

/** Why `count` alerts under `rule`, or undefined when it does not. */
function judge(
  count: number,
  ofRows: number,
  rule: KindRule,
  history: () => readonly number[],
  policy: ChangeAlertPolicy,
  mode: 'full' | 'incremental',
): AnomalyWhy | undefined {
  if (rule.rule === 'off' || count <= policy.minimumRows) return undefined;
  if (rule.rule === 'threshold') {
    return overThreshold(count, ofRows, rule.rows, rule.percent)
      ? {
          rule: 'threshold',
          ...(rule.rows !== undefined ? { rows: rule.rows } : {}),
          ...(rule.percent !== undefined ? { percent: rule.percent } : {}),
        }
      : undefined;
  }
  const verdict = judgeByBaseline(count, history(), policy.baseline, policy.minimumRows);
  return verdict?.alert
    ? { rule: 'baseline', median: verdict.median, spread: verdict.spread, runs: verdict.runs, mode }
    : undefined;
}

function overThreshold(count: number, ofRows: number, rows?: number, percent?: number): boolean {
  return (
    (rows !== undefined && count > rows) ||
    (percent !== undefined && ofRows > 0 && (count / ofRows) * 100 > percent)
  );
}

function findFieldAnomalies(
  changes: ObjectChanges,
  thresholds: FieldThresholds | 'off',
  minimumRows: number,
): Anomaly[] {
  if (thresholds === 'off') return [];
  const { object, liveBefore } = changes;
  const anomalies: Anomaly[] = [];
  const add = (
    kind: FieldAnomalyKind,
    field: string,
    count: number,
    ids: readonly string[],
    rows: number,
    percent: number,
  ) => {
    if (count <= minimumRows || !overThreshold(count, liveBefore, rows, percent)) return;
    anomalies.push({
      object,
      kind,
      field,
      count,
      ofRows: liveBefore,
      sampleIds: ids.slice(0, SAMPLE_IDS),
      ids,
      why: { rule: 'threshold', rows, percent },
    });
  };
  for (const shift of changes.fields) {
    add(
      'fieldNulled',
      shift.field,
      shift.nulled,
      shift.nulledIds,
      thresholds.nulledRows,
      thresholds.nulledPercent,
    );
    if (shift.sameValue) {
      add(
        'fieldSameValue',
        shift.field,
        shift.sameValue.count,
        shift.sameValue.ids,
        thresholds.sameValueRows,
        thresholds.sameValuePercent,
      );
    }
  }
  return anomalies;
}

/** The vault keys of each anomaly's stored remedy, by `anomalyKey`. */
export type RemedyKeys = ReadonlyMap<string, readonly string[]>;

/**
 * The SNS text for a run's anomalies: per anomaly its object, kind, count and share, why it
 * alerted, a few ids and its remedy's vault keys; then how to start a remedy. At most 20
 * anomalies are listed, the rest counted. Empty when there is none.
 */
export function anomalyMessage(
  org: string,
  snapshotId: string,
  anomalies: readonly Anomaly[],
  remedyKeys: RemedyKeys,
): string {
  const list = anomalies;
  if (list.length === 0) return '';
  const lines = list.slice(0, LISTED).map((a) => anomalyLines(a, remedyKeys.get(anomalyKey(a)) ?? []));
  const more =
    list.length > LISTED
      ? [
          `...and ${list.length - LISTED} more unusual change${list.length - LISTED === 1 ? '' : 's'}, not listed.`,
        ]
      : [];
  const restorable = list.slice(0, LISTED).some((a) => remedyModeOf(a.kind) !== undefined);
  const howTo = restorable
    ? [
        '',
        `To start a remedy: in the AWS console, open Step Functions, choose the restore state machine of org ${org} (stack output <Org>RestoreStateMachineArn), choose "Start execution" and paste the JSON of the input file. Locally: npx sfbackup restore --instance-url URL --access-token TOKEN --store DIR --input FILE (or --s3-endpoint and --bucket for an S3 vault; see docs/restore.md).`,
        'Each input is a dry run: read its plan first, then set "mode" as said above, add "confirmOrgId" with the org id (Setup > Company Information) and start it again.',
      ]
    : [];
  return [
    `Unusual changes in org ${org}, seen by backup ${snapshotId}:`,
    ...lines.flat(),
    ...more,
    ...howTo,
  ].join('\n');
}

const WORDS: Record<ChangeKind, string> = {
  inserted: 'rows inserted',
  updated: 'rows updated',
  deleted: 'rows deleted to the recycle bin',
  undeleted: 'rows undeleted',
  hardDeleted: 'rows hard deleted or purged from the recycle bin',
};

function anomalyLines(a: Anomaly, keys: readonly string[]): string[] {
  const share =
    a.ofRows > 0 ? ` (${((a.count / a.ofRows) * 100).toFixed(1)}% of ${n(a.ofRows)} live rows)` : '';
  const what =
    a.field === undefined
      ? `${a.object}: ${n(a.count)} ${WORDS[a.kind]}${share}${a.coveredByFieldAlerts ? `, besides the ${n(a.coveredByFieldAlerts)} the field alerts report` : ''}`
      : `${a.object}.${a.field}: ${a.kind === 'fieldNulled' ? 'blanked' : 'set to one same value'} on ${n(a.count)} rows${share}`;
  const lines = [`- ${what}; ${whyText(a.why)}.`];
  if (a.sampleIds.length > 0) lines.push(`  For example: ${a.sampleIds.join(', ')}`);
  lines.push(`  ${remedyText(a, keys)}`);
  return lines;
}

function whyText(why: AnomalyWhy): string {
  if (why.rule === 'baseline') {
    return `usual for ${why.mode} runs is about ${n(Math.round(why.median))} ± ${n(Math.round(why.spread))} (last ${why.runs} runs)`;
  }
  const bounds = [
    ...(why.rows !== undefined ? [`${n(why.rows)} rows`] : []),
    ...(why.percent !== undefined ? [`${why.percent}%`] : []),
  ];
  return `more than the threshold of ${bounds.join(' or ')}`;
}

function remedyText(a: Anomaly, keys: readonly string[]): string {
  const mode = remedyModeOf(a.kind);
  if (mode === undefined) {
    const where = keys.length > 0 ? `; their ids are in the vault at ${keys.join(', ')}` : '';
    return `Remedy: none by restore (a restore never deletes rows)${where}.`;
  }
  if (keys.length === 0) return 'Remedy: no restore input was stored for it.';
  const inputs = keys.length === 1 ? 'restore input' : `${keys.length} restore inputs`;
  return `Remedy: ${inputs} in the vault at ${keys.join(', ')} (dry run; then mode "${mode}").`;
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}
