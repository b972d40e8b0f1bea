import { z } from 'zod';
import { CHANGE_KINDS, type ChangeKind } from './change-kinds.ts';

/**
 * The `changeAlerts` backup setting: when a run's changes to an object are worth an alert.
 * Everything is optional; `changeAlertPolicy` fills in the defaults documented in
 * docs/backup-workflow.md.
 */

/** Rows or share of an object's live rows (before the run) above which a count alerts. */
const thresholdSchema = z.strictObject({
  rows: z.number().int().nonnegative().optional(),
  percent: z.number().nonnegative().max(100).optional(),
});

/** A kind's rule: `"off"`, or a threshold; a threshold with neither bound uses the learned baseline. */
const kindRuleSchema = z.union([z.literal('off'), thresholdSchema], {
  error: 'write "off", or {"rows": N, "percent": P} (either or both; {} uses the learned baseline)',
});

const kindShape = Object.fromEntries(CHANGE_KINDS.map((kind) => [kind, kindRuleSchema.optional()])) as {
  [K in ChangeKind]: z.ZodOptional<typeof kindRuleSchema>;
};

/** Field-level thresholds: rows, or percent of the object's live rows before the run. */
const fieldThresholdsSchema = z.strictObject({
  nulledRows: z.number().int().nonnegative().optional(),
  nulledPercent: z.number().nonnegative().max(100).optional(),
  sameValueRows: z.number().int().nonnegative().optional(),
  sameValuePercent: z.number().nonnegative().max(100).optional(),
});

const objectRulesSchema = z.strictObject({
  ...kindShape,
  fields: z
    .union([z.literal('off'), fieldThresholdsSchema], {
      error: 'write "off", or field thresholds such as {"nulledRows": 250}',
    })
    .optional(),
});

const DEFAULT_RUNS = 10;
const DEFAULT_MIN_RUNS = 5;

const baselineSchema = z
  .strictObject({
    /** Earlier runs of the same mode the baseline reads. */
    runs: z.number().int().min(5).max(100).optional(),
    /** Runs of history needed before the baseline may alert. */
    minRuns: z.number().int().min(2).max(100).optional(),
    /** How many spreads above the median a count must be. */
    k: z.number().positive().optional(),
  })
  .refine((b) => (b.minRuns ?? DEFAULT_MIN_RUNS) <= (b.runs ?? DEFAULT_RUNS), {
    error: 'minRuns is more than runs, so the baseline could never alert; lower minRuns or raise runs',
    path: ['minRuns'],
  });

/** The `changeAlerts` setting as written. */
export const changeAlertsSchema = z.strictObject({
  ...kindShape,
  objects: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/), objectRulesSchema).optional(),
  fields: fieldThresholdsSchema.optional(),
  baseline: baselineSchema.optional(),
  /** An alert needs more than this many rows, whatever the rule. */
  minimumRows: z.number().int().nonnegative().optional(),
});

/** The `changeAlerts` setting as written. */
export type ChangeAlertsSetting = z.infer<typeof changeAlertsSchema>;

/** The keys the `changeAlerts` setting knows at a path below it, for suggestions; undefined when none apply. */
export function changeAlertKeysAt(path: readonly PropertyKey[]): readonly string[] | undefined {
  if (path.length === 0) return Object.keys(changeAlertsSchema.shape);
  const [first, second, third] = path;
  if (first === 'objects' && path.length === 2) return Object.keys(objectRulesSchema.shape);
  if (first === 'objects' && path.length === 3 && third === 'fields') {
    return Object.keys(fieldThresholdsSchema.shape);
  }
  if (first === 'objects' && path.length === 3) return Object.keys(thresholdSchema.shape);
  if (first === 'fields') return Object.keys(fieldThresholdsSchema.shape);
  if (first === 'baseline') return Object.keys(baselineSchema.shape);
  if (
    typeof first === 'string' &&
    (CHANGE_KINDS as readonly string[]).includes(first) &&
    second === undefined
  ) {
    return Object.keys(thresholdSchema.shape);
  }
  return undefined;
}

/** How one kind of change is judged. */
export type KindRule =
  | { readonly rule: 'off' }
  | { readonly rule: 'threshold'; readonly rows?: number; readonly percent?: number }
  | { readonly rule: 'baseline' };

/** Field-level thresholds, every one set. */
export interface FieldThresholds {
  readonly nulledRows: number;
  readonly nulledPercent: number;
  readonly sameValueRows: number;
  readonly sameValuePercent: number;
}

/** The learned baseline's parameters. */
export interface BaselineParameters {
  readonly runs: number;
  readonly minRuns: number;
  readonly k: number;
}

/** Every rule the alerts apply, defaults filled in. */
export interface ChangeAlertPolicy {
  readonly kinds: Readonly<Record<ChangeKind, KindRule>>;
  readonly objects: Readonly<
    Record<
      string,
      { readonly kinds: Partial<Record<ChangeKind, KindRule>>; readonly fields: FieldThresholds | 'off' }
    >
  >;
  readonly fields: FieldThresholds;
  readonly baseline: BaselineParameters;
  readonly minimumRows: number;
}

/**
 * Field defaults. A bulk import with a wrong mapping blanks a field on hundreds or thousands of
 * rows at once; people clearing a field by hand do it on a few. Setting one value on many rows is
 * more often intended (a status closed in bulk, a sync flag), so it needs more rows.
 */
export const DEFAULT_FIELD_THRESHOLDS: FieldThresholds = {
  nulledRows: 250,
  nulledPercent: 5,
  sameValueRows: 500,
  sameValuePercent: 10,
};

/** Ten runs of history, five needed, 3.5 robust spreads: see docs/backup-workflow.md. */
export const DEFAULT_BASELINE: BaselineParameters = { runs: DEFAULT_RUNS, minRuns: DEFAULT_MIN_RUNS, k: 3.5 };

/** No rule alerts on 50 rows or fewer: 3 of 15 rows deleted is not an incident. */
export const DEFAULT_MINIMUM_ROWS = 50;

/** Kinds judged by threshold unless configured otherwise; the rest use the baseline. */
const THRESHOLD_KINDS: readonly ChangeKind[] = ['updated', 'deleted', 'hardDeleted'];

/** `base` with every key `over` sets (to something other than undefined) replaced. */
function withDefined<T extends object>(
  base: T,
  over: { readonly [K in keyof T]?: T[K] | undefined } | undefined,
): T {
  const out = { ...base };
  for (const key of Object.keys(over ?? {}) as (keyof T)[]) {
    const value = over?.[key];
    if (value !== undefined) out[key] = value as T[keyof T];
  }
  return out;
}

function kindRule(written: z.infer<typeof kindRuleSchema>): KindRule {
  if (written === 'off') return { rule: 'off' };
  if (written.rows === undefined && written.percent === undefined) return { rule: 'baseline' };
  return {
    rule: 'threshold',
    ...(written.rows !== undefined ? { rows: written.rows } : {}),
    ...(written.percent !== undefined ? { percent: written.percent } : {}),
  };
}

function kindRules(written: Partial<Record<ChangeKind, z.infer<typeof kindRuleSchema>>>) {
  const rules: Partial<Record<ChangeKind, KindRule>> = {};
  for (const kind of CHANGE_KINDS) {
    const rule = written[kind];
    if (rule !== undefined) rules[kind] = kindRule(rule);
  }
  return rules;
}

/**
 * The policy from the settings: `changeAlerts` where it says something, else `anomalyRows` and
 * `anomalyPercent` for updates, deletes and hard deletes and the baseline for inserts and undeletes.
 */
export function changeAlertPolicy(settings: {
  readonly anomalyRows: number;
  readonly anomalyPercent: number;
  readonly changeAlerts?: ChangeAlertsSetting | undefined;
}): ChangeAlertPolicy {
  const written = settings.changeAlerts ?? {};
  const orgWide = kindRules(written);
  const kinds = Object.fromEntries(
    CHANGE_KINDS.map((kind): [ChangeKind, KindRule] => [
      kind,
      orgWide[kind] ??
        (THRESHOLD_KINDS.includes(kind)
          ? { rule: 'threshold', rows: settings.anomalyRows, percent: settings.anomalyPercent }
          : { rule: 'baseline' }),
    ]),
  ) as Record<ChangeKind, KindRule>;
  const fields = withDefined(DEFAULT_FIELD_THRESHOLDS, written.fields);
  const objects = Object.fromEntries(
    Object.entries(written.objects ?? {}).map(([name, rules]) => {
      const { fields: objectFields, ...kindsWritten } = rules;
      return [
        name,
        {
          kinds: kindRules(kindsWritten),
          fields: objectFields === 'off' ? ('off' as const) : withDefined(fields, objectFields),
        },
      ];
    }),
  );
  return {
    kinds,
    objects,
    fields,
    baseline: withDefined(DEFAULT_BASELINE, written.baseline),
    minimumRows: written.minimumRows ?? DEFAULT_MINIMUM_ROWS,
  };
}
