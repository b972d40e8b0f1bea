/**
 * CloudWatch alarms on a single metric, evaluated on the local clock as the CloudWatch user guide
 * ("Using Amazon CloudWatch alarms", "Configuring how CloudWatch alarms treat missing data")
 * describes them: at each evaluation the alarm reads the statistic of its metric for the last
 * EvaluationPeriods whole periods; a period breaches when its value compares to the threshold as
 * ComparisonOperator says; the alarm is in ALARM when at least DatapointsToAlarm of them breach
 * ("M out of N"). A period without data counts as TreatMissingData says: `breaching`,
 * `notBreaching`, `ignore` (the state stays as it was when every period is missing) or `missing`
 * (the default: INSUFFICIENT_DATA when every period is missing).
 *
 * Of metric math, the one form the app's alarms use is evaluated: an expression that sums its
 * metrics, `SUM(METRICS())` or `SUM(FILL(METRICS(), 0))`, over metrics that each name one metric,
 * a statistic and the same period. A period's value is the sum of the metrics that have a value
 * in it (filling the others with 0 adds nothing), and no value when none has one. Any other
 * expression, percentiles and anomaly detection are refused by name rather than evaluated wrongly.
 */
import type { MetricStore, Statistic } from './metrics.ts';

/** An alarm's state. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** The properties of an `AWS::CloudWatch::Alarm`, tokens resolved. */
export interface AlarmSpec {
  readonly logicalId: string;
  readonly AlarmDescription?: string;
  readonly Namespace?: string;
  readonly MetricName?: string;
  readonly Dimensions?: readonly { readonly Name: string; readonly Value: string }[];
  readonly Statistic?: string;
  readonly ExtendedStatistic?: string;
  readonly Metrics?: readonly AlarmQuery[];
  readonly Period?: number;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly ComparisonOperator: string;
  readonly Threshold?: number;
  readonly TreatMissingData?: string;
  readonly AlarmActions?: readonly string[];
}

/** One entry of an alarm's `Metrics`: a metric with its statistic, or an expression over them. */
export interface AlarmQuery {
  readonly Id?: string;
  readonly Expression?: string;
  readonly MetricStat?: {
    readonly Metric?: {
      readonly Namespace?: string;
      readonly MetricName?: string;
      readonly Dimensions?: readonly { readonly Name: string; readonly Value: string }[];
    };
    readonly Period?: number;
    readonly Stat?: string;
  };
  readonly ReturnData?: boolean;
}

/** The metric math expressions the evaluator evaluates: each sums the alarm's metrics. */
export const SUM_EXPRESSIONS: readonly string[] = ['SUM(METRICS())', 'SUM(FILL(METRICS(), 0))'];

/** An alarm the local evaluator cannot evaluate faithfully; the message says which and why. */
export class UnsupportedAlarmError extends Error {
  override readonly name = 'UnsupportedAlarmError';
}

const COMPARE: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};
const STATISTICS = new Set(['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount']);

/** Checks that the evaluator can evaluate `spec`, or throws naming what it cannot. */
export function checkAlarm(spec: AlarmSpec): void {
  const problem = spec.Metrics
    ? metricMathProblem(spec)
    : spec.ExtendedStatistic
      ? `uses the percentile statistic ${spec.ExtendedStatistic}`
      : !COMPARE[spec.ComparisonOperator]
        ? `compares with ${spec.ComparisonOperator}`
        : !STATISTICS.has(spec.Statistic ?? '')
          ? `uses the statistic ${spec.Statistic}`
          : !spec.Namespace || !spec.MetricName || !spec.Period || spec.Threshold === undefined
            ? 'names no single metric, period and threshold'
            : undefined;
  if (problem) {
    throw new UnsupportedAlarmError(
      `Alarm ${spec.logicalId} ${problem}, which the local evaluator does not evaluate; it evaluates a single metric, or the sum of several (${SUM_EXPRESSIONS.join(' or ')}), with Sum, Average, Minimum, Maximum or SampleCount against a static threshold.`,
    );
  }
}

/** What keeps the evaluator from evaluating the metric math of `spec`, or undefined. */
function metricMathProblem(spec: AlarmSpec): string | undefined {
  const queries = spec.Metrics ?? [];
  const expressions = queries.filter((q) => q.Expression !== undefined);
  const metrics = queries.filter((q) => q.Expression === undefined);
  const expression = expressions[0]?.Expression;
  if (expressions.length !== 1 || expression === undefined) {
    return `uses metric math with ${expressions.length} expressions (Metrics)`;
  }
  if (!SUM_EXPRESSIONS.includes(expression)) return `uses the metric math expression ${expression}`;
  if (spec.Threshold === undefined || !COMPARE[spec.ComparisonOperator]) {
    return `compares with ${spec.ComparisonOperator} against ${spec.Threshold ?? 'no threshold'}`;
  }
  if (metrics.length === 0) return 'sums no metric';
  const periods = new Set(metrics.map((q) => q.MetricStat?.Period));
  for (const q of metrics) {
    const m = q.MetricStat?.Metric;
    if (!m?.Namespace || !m.MetricName || !q.MetricStat?.Period) {
      return `has a metric${q.Id ? ` ${q.Id}` : ''} that names no single metric and period`;
    }
    if (!STATISTICS.has(q.MetricStat.Stat ?? ''))
      return `sums a metric with the statistic ${q.MetricStat.Stat}`;
  }
  if (periods.size !== 1) return 'sums metrics of different periods';
  return undefined;
}

/** The period of `spec` in seconds: its own, or that of the metrics its expression sums. */
export function alarmPeriodSeconds(spec: AlarmSpec): number {
  return spec.Period ?? spec.Metrics?.find((q) => q.MetricStat?.Period)?.MetricStat?.Period ?? 60;
}

/** What one evaluation found. */
export interface AlarmEvaluation {
  readonly state: AlarmState;
  /** Values of the evaluated periods, oldest first (undefined: no data). */
  readonly values: readonly (number | undefined)[];
  /** How many periods breached, missing ones counted as TreatMissingData says. */
  readonly breaching: number;
}

/** Evaluates `spec` at instant `now` on the metrics recorded so far; `previous` is its state before. */
export function evaluateAlarm(
  spec: AlarmSpec,
  metrics: MetricStore,
  now: number,
  previous: AlarmState,
): AlarmEvaluation {
  checkAlarm(spec);
  const periodMs = alarmPeriodSeconds(spec) * 1000;
  const end = Math.floor(now / periodMs) * periodMs;
  const start = end - spec.EvaluationPeriods * periodMs;
  const seriesOf = (
    namespace: string,
    name: string,
    dimensions: readonly { readonly Name: string; readonly Value: string }[] | undefined,
    statistic: Statistic,
  ) =>
    metrics.series(
      { namespace, name, dimensions: Object.fromEntries((dimensions ?? []).map((d) => [d.Name, d.Value])) },
      statistic,
      start,
      end,
      periodMs,
    );
  const values = spec.Metrics
    ? sumOfSeries(
        spec.Metrics.filter((q) => q.Expression === undefined).map((q) => {
          // checkAlarm made sure every metric names its namespace, name, period and statistic.
          const stat = q.MetricStat as NonNullable<AlarmQuery['MetricStat']>;
          const metric = stat.Metric as NonNullable<typeof stat.Metric>;
          return seriesOf(
            metric.Namespace as string,
            metric.MetricName as string,
            metric.Dimensions,
            stat.Stat as Statistic,
          );
        }),
      )
    : seriesOf(
        spec.Namespace as string,
        spec.MetricName as string,
        spec.Dimensions,
        spec.Statistic as Statistic,
      );
  const compare = COMPARE[spec.ComparisonOperator] as (v: number, t: number) => boolean;
  const threshold = spec.Threshold as number;
  const treat = spec.TreatMissingData ?? 'missing';
  const needed = spec.DatapointsToAlarm ?? spec.EvaluationPeriods;
  const present = values.filter((v): v is number => v !== undefined);
  let breaching = present.filter((v) => compare(v, threshold)).length;
  if (treat === 'breaching') breaching += values.length - present.length;
  if (present.length === 0 && treat === 'missing') return { state: 'INSUFFICIENT_DATA', values, breaching };
  if (present.length === 0 && treat === 'ignore') return { state: previous, values, breaching };
  return { state: breaching >= needed ? 'ALARM' : 'OK', values, breaching };
}

/** Each period's sum of the series that have a value in it; no value where none has one. */
function sumOfSeries(series: readonly (number | undefined)[][]): (number | undefined)[] {
  const length = series[0]?.length ?? 0;
  return Array.from({ length }, (_, i) => {
    const present = series.map((s) => s[i]).filter((v): v is number => v !== undefined);
    return present.length ? present.reduce((a, b) => a + b, 0) : undefined;
  });
}
