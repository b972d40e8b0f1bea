import type { BaselineParameters } from './change-alert-settings.ts';

/**
 * The learned baseline: how many rows of one kind an object usually changes per run, from the
 * counts of its last runs of the same mode. The median and the median absolute deviation (MAD)
 * are used rather than the mean and standard deviation because one earlier spike moves neither:
 * a mass delete last week must not make this week's mass delete look usual.
 */

/**
 * Scales the MAD to the standard deviation of normally distributed counts (1 / Φ⁻¹(3/4)), so that
 * `k` reads as "standard deviations" (Iglewicz and Hoaglin's modified z-score uses the same
 * constant, as its reciprocal 0.6745).
 */
const MAD_SCALE = 1.4826;

/**
 * The spread is at least this share of the median. Business volumes swing by a fifth or more from
 * one run to the next, and ten runs often look steadier than that by chance; a perfectly steady
 * history (MAD 0) would otherwise make one row more than usual an alert. With k = 3.5 a count must
 * then be nearly twice the usual (median × 1.875) at the least.
 */
const MIN_SPREAD_SHARE = 0.25;

/** What the baseline says about one count. */
export interface BaselineVerdict {
  /** True when the count is above the usual range and above the minimum. */
  readonly alert: boolean;
  /** The median of the runs read. */
  readonly median: number;
  /** The robust spread: MAD × 1.4826, at least a quarter of the median. */
  readonly spread: number;
  /** The count above which the baseline alerts: max(minimum, median + k × spread). */
  readonly limit: number;
  /** Runs of history read. */
  readonly runs: number;
}

/** The median of `values` (not empty). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Judges `count` against `history` (earlier runs' counts, oldest first; only the last
 * `parameters.runs` are read). With fewer than `parameters.minRuns` runs of history it never
 * alerts, and undefined is returned: there is nothing yet to call usual.
 */
export function judgeByBaseline(
  count: number,
  history: readonly number[],
  parameters: BaselineParameters,
  minimum: number,
): BaselineVerdict | undefined {
  for (const value of history) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `a baseline history count is ${value}; counts are whole numbers of rows, 0 or more`,
      );
    }
  }
  const recent = history.slice(-parameters.runs);
  if (recent.length < parameters.minRuns) return undefined;
  const middle = median(recent);
  const mad = median(recent.map((value) => Math.abs(value - middle)));
  const spread = Math.max(MAD_SCALE * mad, MIN_SPREAD_SHARE * middle);
  const limit = Math.max(minimum, middle + parameters.k * spread);
  return { alert: count > limit, median: middle, spread, limit, runs: recent.length };
}
