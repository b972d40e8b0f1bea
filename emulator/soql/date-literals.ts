/** A half-open range [start, end) in epoch milliseconds. */
export interface MsRange {
  readonly start: number;
  readonly end: number;
}

const DAY = 86_400_000;

function utcDay(y: number, m: number, d: number): number {
  return Date.UTC(y, m, d);
}

/**
 * Range a SOQL date literal covers, in UTC (the emulated org's time zone). Weeks start on
 * Sunday, as in the en_US locale; quarters are calendar quarters.
 */
export function dateLiteralRange(name: string, n: number | null, now: Date): MsRange {
  const y = now.getUTCFullYear();
  const mo = now.getUTCMonth();
  const today = utcDay(y, mo, now.getUTCDate());
  const weekStart = today - now.getUTCDay() * DAY;
  const quarterStartMonth = mo - (mo % 3);
  const k = n ?? 0;
  const months = (from: number, count: number): MsRange => ({
    start: utcDay(y, from, 1),
    end: utcDay(y, from + count, 1),
  });
  switch (name) {
    case 'YESTERDAY':
      return { start: today - DAY, end: today };
    case 'TODAY':
      return { start: today, end: today + DAY };
    case 'TOMORROW':
      return { start: today + DAY, end: today + 2 * DAY };
    case 'LAST_WEEK':
      return { start: weekStart - 7 * DAY, end: weekStart };
    case 'THIS_WEEK':
      return { start: weekStart, end: weekStart + 7 * DAY };
    case 'NEXT_WEEK':
      return { start: weekStart + 7 * DAY, end: weekStart + 14 * DAY };
    case 'LAST_MONTH':
      return months(mo - 1, 1);
    case 'THIS_MONTH':
      return months(mo, 1);
    case 'NEXT_MONTH':
      return months(mo + 1, 1);
    case 'LAST_90_DAYS':
      return { start: today - 90 * DAY, end: today + DAY };
    case 'NEXT_90_DAYS':
      return { start: today + DAY, end: today + 91 * DAY };
    case 'THIS_QUARTER':
      return months(quarterStartMonth, 3);
    case 'LAST_QUARTER':
      return months(quarterStartMonth - 3, 3);
    case 'NEXT_QUARTER':
      return months(quarterStartMonth + 3, 3);
    case 'THIS_YEAR':
      return { start: utcDay(y, 0, 1), end: utcDay(y + 1, 0, 1) };
    case 'LAST_YEAR':
      return { start: utcDay(y - 1, 0, 1), end: utcDay(y, 0, 1) };
    case 'NEXT_YEAR':
      return { start: utcDay(y + 1, 0, 1), end: utcDay(y + 2, 0, 1) };
    case 'LAST_N_DAYS':
      return { start: today - k * DAY, end: today + DAY };
    case 'NEXT_N_DAYS':
      return { start: today + DAY, end: today + (k + 1) * DAY };
    case 'N_DAYS_AGO':
      return { start: today - k * DAY, end: today - (k - 1) * DAY };
    case 'LAST_N_WEEKS':
      return { start: weekStart - 7 * k * DAY, end: weekStart };
    case 'NEXT_N_WEEKS':
      return { start: weekStart + 7 * DAY, end: weekStart + 7 * (k + 1) * DAY };
    case 'N_WEEKS_AGO':
      return { start: weekStart - 7 * k * DAY, end: weekStart - 7 * (k - 1) * DAY };
    case 'LAST_N_MONTHS':
      return months(mo - k, k);
    case 'NEXT_N_MONTHS':
      return months(mo + 1, k);
    case 'N_MONTHS_AGO':
      return months(mo - k, 1);
    case 'LAST_N_QUARTERS':
      return months(quarterStartMonth - 3 * k, 3 * k);
    case 'NEXT_N_QUARTERS':
      return months(quarterStartMonth + 3, 3 * k);
    case 'LAST_N_YEARS':
      return { start: utcDay(y - k, 0, 1), end: utcDay(y, 0, 1) };
    case 'NEXT_N_YEARS':
      return { start: utcDay(y + 1, 0, 1), end: utcDay(y + 1 + k, 0, 1) };
    case 'N_YEARS_AGO':
      return { start: utcDay(y - k, 0, 1), end: utcDay(y - k + 1, 0, 1) };
    default:
      throw new Error(`Unknown date literal ${name}`);
  }
}

/** The same range as `YYYY-MM-DD` bounds, for date fields. */
export function toDateBounds(range: MsRange): { start: string; end: string } {
  return {
    start: new Date(range.start).toISOString().slice(0, 10),
    end: new Date(range.end).toISOString().slice(0, 10),
  };
}
