/**
 * CloudWatch alarms on a single metric, evaluated on the local clock as the CloudWatch user guide
 * ("Using Amazon CloudWatch alarms", "Configuring how CloudWatch alarms treat missing data")
 * describes them: at each evaluation the alarm reads the statistic of its metric for the last
 * EvaluationPeriods whole periods; a period breaches when its value compares to the threshold as
 * ComparisonOperator says; the alarm is in ALARM when at least DatapointsToAlarm of them breach
 * ("M out of N"). A period without data counts as TreatMissingData says: `breaching`,
 * `notBreaching`, `ignore` (the state stays as it was when every period is missing) or `missing`
 * (the default: INSUFFICIENT_DATA when every period is missing). Metric math alarms, percentiles
 * and anomaly detection are refused by name rather than evaluated wrongly.
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
  readonly Metrics?: unknown;
  readonly Period?: number;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly ComparisonOperator: string;
  readonly Threshold?: number;
  readonly TreatMissingData?: string;
  readonly AlarmActions?: readonly string[];
}

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
    ? 'uses metric math (Metrics)'
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
      `Alarm ${spec.logicalId} ${problem}, which the local evaluator does not evaluate; it evaluates a single metric with Sum, Average, Minimum, Maximum or SampleCount against a static threshold.`,
    );
  }
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
  const periodMs = (spec.Period as number) * 1000;
  const end = Math.floor(now / periodMs) * periodMs;
  const start = end - spec.EvaluationPeriods * periodMs;
  const values = metrics.series(
    {
      namespace: spec.Namespace as string,
      name: spec.MetricName as string,
      dimensions: Object.fromEntries((spec.Dimensions ?? []).map((d) => [d.Name, d.Value])),
    },
    spec.Statistic as Statistic,
    start,
    end,
    periodMs,
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
