/**
 * EventBridge schedule expressions, evaluated on a local clock: `cron(...)` (six fields, AWS's
 * dialect), `rate(...)` and `at(...)`, in a time zone, between two instants.
 *
 * The dialect, from the EventBridge and EventBridge Scheduler guides:
 * - fields: minutes (0-59), hours (0-23), day-of-month (1-31), month (1-12 or JAN-DEC),
 *   day-of-week (1-7 or SUN-SAT, 1 is Sunday), year (1970-2199);
 * - `,` lists, `-` ranges (a range whose end is below its start wraps, as in Quartz), `*` all,
 *   `/` increments (`1/10` is 1, 11, 21...; not in day-of-week);
 * - exactly one of day-of-month and day-of-week is `?`;
 * - day-of-month `L` (last day), `nW` (the weekday nearest day n, within the month), `LW`;
 * - day-of-week `L` (the last day of the week, Saturday), `nL` (the last day n of the month),
 *   `n#k` (the k-th day n of the month; alone in the field).
 * Scheduler evaluates the expression in the schedule's time zone: a time that daylight saving
 * skips does not fire, and a time that occurs twice fires once, at its first occurrence. A
 * rate fires at the schedule's start and every interval after it (a day is 24 hours).
 */

/** A schedule expression that is not one EventBridge accepts; the message says what to write. */
export class InvalidScheduleExpressionError extends Error {
  override readonly name = 'InvalidScheduleExpressionError';
}

/** The day-of-month field. */
type DayOfMonth =
  | { readonly kind: 'any' }
  | { readonly kind: 'set'; readonly days: ReadonlySet<number> }
  | { readonly kind: 'last' }
  | { readonly kind: 'lastWeekday' }
  | { readonly kind: 'nearestWeekday'; readonly day: number };

/** The day-of-week field (1 is Sunday). */
type DayOfWeek =
  | { readonly kind: 'any' }
  | { readonly kind: 'set'; readonly days: ReadonlySet<number> }
  | { readonly kind: 'lastOfMonth'; readonly day: number }
  | { readonly kind: 'nth'; readonly day: number; readonly nth: number };

/** A parsed `cron(...)`. */
export interface CronSchedule {
  readonly kind: 'cron';
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly dayOfMonth: DayOfMonth;
  readonly months: ReadonlySet<number>;
  readonly dayOfWeek: DayOfWeek;
  readonly years: ReadonlySet<number>;
}

/** A parsed `rate(...)`. */
export interface RateSchedule {
  readonly kind: 'rate';
  readonly everyMs: number;
}

/** A parsed `at(yyyy-mm-ddThh:mm:ss)`, a wall-clock time in the schedule's zone. */
export interface AtSchedule {
  readonly kind: 'at';
  readonly wall: WallTime;
}

/** Any parsed schedule expression. */
export type ParsedSchedule = CronSchedule | RateSchedule | AtSchedule;

interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MINUTE_MS = 60_000;
const RATE_UNITS: Record<string, number> = {
  minute: MINUTE_MS,
  minutes: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  hours: 60 * MINUTE_MS,
  day: 24 * 60 * MINUTE_MS,
  days: 24 * 60 * MINUTE_MS,
};

/** Parses a schedule expression, or throws naming the part at fault and what to write instead. */
export function parseScheduleExpression(expression: string): ParsedSchedule {
  const match = /^(cron|rate|at)\((.*)\)$/.exec(expression.trim());
  if (!match) {
    throw new InvalidScheduleExpressionError(
      `Schedule expression "${expression}": write cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss).`,
    );
  }
  const [, kind, body = ''] = match;
  if (kind === 'rate') return parseRate(expression, body);
  if (kind === 'at') return parseAt(expression, body);
  return parseCron(expression, body);
}

function parseRate(expression: string, body: string): RateSchedule {
  const m = /^\s*(\d+)\s+([a-z]+)\s*$/.exec(body);
  const value = m ? Number(m[1]) : Number.NaN;
  const unit = m?.[2] ?? '';
  const unitMs = RATE_UNITS[unit];
  if (!m || !unitMs || value < 1) {
    throw new InvalidScheduleExpressionError(
      `Schedule expression "${expression}": write rate(value unit) with a positive whole value and a unit of minute(s), hour(s) or day(s).`,
    );
  }
  if ((value === 1) !== !unit.endsWith('s')) {
    throw new InvalidScheduleExpressionError(
      `Schedule expression "${expression}": write the unit singular for 1 (rate(1 day)) and plural otherwise (rate(2 days)).`,
    );
  }
  return { kind: 'rate', everyMs: value * unitMs };
}

function parseAt(expression: string, body: string): AtSchedule {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body.trim());
  if (!m) {
    throw new InvalidScheduleExpressionError(
      `Schedule expression "${expression}": write at(yyyy-mm-ddThh:mm:ss), a time in the schedule's time zone.`,
    );
  }
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { kind: 'at', wall: { year, month, day, hour, minute, second } };
}

function parseCron(expression: string, body: string): CronSchedule {
  const fields = body.trim().split(/\s+/);
  const fail = (field: string, hint: string): never => {
    throw new InvalidScheduleExpressionError(
      `Schedule expression "${expression}": the ${field} field ${hint}.`,
    );
  };
  if (fields.length !== 6) {
    throw new InvalidScheduleExpressionError(
      `Schedule expression "${expression}": a cron expression has six fields (minutes hours day-of-month month day-of-week year); this one has ${fields.length}.`,
    );
  }
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    fail(
      'day-of-month and day-of-week',
      'must be ? in exactly one of the two (write ? in day-of-week to pick days of the month, or the reverse)',
    );
  }
  return {
    kind: 'cron',
    minutes: [...parseSet(min, 0, 59, [], 'minutes', fail)].sort((a, b) => a - b),
    hours: [...parseSet(hour, 0, 23, [], 'hours', fail)].sort((a, b) => a - b),
    dayOfMonth: parseDayOfMonth(dom, fail),
    months: parseSet(month, 1, 12, MONTHS, 'month', fail),
    dayOfWeek: parseDayOfWeek(dow, fail),
    years: parseSet(year, 1970, 2199, [], 'year', fail),
  };
}

type Fail = (field: string, hint: string) => never;

/** A field of values, lists, ranges, `*` and increments; `names` are accepted for values from `low`. */
function parseSet(
  text: string,
  low: number,
  high: number,
  names: readonly string[],
  field: string,
  fail: Fail,
  allowStep = true,
): Set<number> {
  const out = new Set<number>();
  const value = (token: string): number => {
    const named = names.indexOf(token.toUpperCase());
    const n = named >= 0 ? low + named : /^\d+$/.test(token) ? Number(token) : Number.NaN;
    if (!(n >= low && n <= high)) {
      fail(
        field,
        `has "${token}"; write ${low}-${high}${names.length ? ` or ${names[0]}-${names.at(-1)}` : ''}`,
      );
    }
    return n;
  };
  for (const item of text.split(',')) {
    const [range = '', stepText, extra] = item.split('/');
    if (extra !== undefined || range === '')
      fail(field, `has "${item}"; write a value, a range a-b, * or an increment a/n`);
    if (stepText !== undefined && !allowStep)
      fail(field, `has "${item}"; increments (/) are not allowed here`);
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) ? Number(stepText) : 0;
    if (step < 1) fail(field, `has "${item}"; an increment is a positive whole number`);
    let start: number;
    let end: number;
    if (range === '*') {
      start = low;
      end = high;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      start = value(a);
      end = value(b);
    } else {
      start = value(range);
      end = stepText === undefined ? start : high;
    }
    // A range whose end is below its start wraps past the field's highest value, as in Quartz.
    const span = end >= start ? end - start : end + (high - low + 1) - start;
    for (let i = 0; i <= span; i += step) out.add(((start - low + i) % (high - low + 1)) + low);
  }
  return out;
}

function parseDayOfMonth(text: string, fail: Fail): DayOfMonth {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  if (text === 'LW') return { kind: 'lastWeekday' };
  const w = /^(\d+)W$/.exec(text);
  if (w) {
    const day = Number(w[1]);
    if (day < 1 || day > 31) fail('day-of-month', `has "${text}"; write nW with n from 1 to 31`);
    return { kind: 'nearestWeekday', day };
  }
  if (/[LW]/.test(text)) fail('day-of-month', `has "${text}"; L, LW and nW stand alone in the field`);
  return { kind: 'set', days: parseSet(text, 1, 31, [], 'day-of-month', fail) };
}

function parseDayOfWeek(text: string, fail: Fail): DayOfWeek {
  if (text === '?') return { kind: 'any' };
  const day = (token: string): number => {
    const named = WEEKDAYS.indexOf(token.toUpperCase());
    const n = named >= 0 ? named + 1 : /^[1-7]$/.test(token) ? Number(token) : 0;
    if (!n) fail('day-of-week', `has "${token}"; write 1-7 (1 is Sunday) or SUN-SAT`);
    return n;
  };
  // L alone is the last day of the week, Saturday, every week (as in Quartz).
  if (text === 'L') return { kind: 'set', days: new Set([7]) };
  if (text.includes('#')) {
    const m = /^([^#,]+)#(\d+)$/.exec(text);
    if (!m)
      fail(
        'day-of-week',
        `has "${text}"; with #, write one expression only, such as 3#2 (the second Tuesday)`,
      );
    const nth = Number(m?.[2]);
    if (nth < 1 || nth > 5) fail('day-of-week', `has "${text}"; the number after # is 1 to 5`);
    return { kind: 'nth', day: day(m?.[1] ?? ''), nth };
  }
  const last = /^(.+)L$/.exec(text);
  if (last && !text.includes(',')) return { kind: 'lastOfMonth', day: day(last[1] ?? '') };
  if (text.includes('L')) fail('day-of-week', `has "${text}"; L and nL stand alone in the field`);
  return { kind: 'set', days: parseSet(text, 1, 7, WEEKDAYS, 'day-of-week', fail, false) };
}

/** Options of fireTimes. */
export interface FireTimesOptions {
  /** The first instant considered (included). */
  readonly from: Date;
  /** The instant the window ends (excluded). */
  readonly to: Date;
  /** IANA zone the expression is evaluated in. @default 'UTC' */
  readonly timezone?: string;
  /**
   * When the schedule starts: a rate fires at its start and every interval after it; nothing
   * fires before it. @default - `from`, as a schedule created at that instant
   */
  readonly startDate?: Date;
  /** When the schedule ends; nothing fires at or after it. @default - never */
  readonly endDate?: Date;
}

/** The instants in [from, to) at which the schedule fires, in order. */
export function fireTimes(expression: string | ParsedSchedule, options: FireTimesOptions): Date[] {
  const schedule = typeof expression === 'string' ? parseScheduleExpression(expression) : expression;
  const zone = options.timezone ?? 'UTC';
  const start = Math.max(options.from.getTime(), options.startDate?.getTime() ?? Number.NEGATIVE_INFINITY);
  const end = Math.min(options.to.getTime(), options.endDate?.getTime() ?? Number.POSITIVE_INFINITY);
  if (!(start < end)) return [];
  const inWindow = (t: number) => t >= start && t < end;
  if (schedule.kind === 'rate') {
    const anchor = options.startDate?.getTime() ?? options.from.getTime();
    const first = anchor + Math.max(0, Math.ceil((start - anchor) / schedule.everyMs)) * schedule.everyMs;
    const out: Date[] = [];
    for (let t = first; t < end; t += schedule.everyMs) out.push(new Date(t));
    return out;
  }
  if (schedule.kind === 'at') {
    const t = instantOf(schedule.wall, zone);
    return t !== undefined && inWindow(t) ? [new Date(t)] : [];
  }
  const out: Date[] = [];
  // Walk the zone's calendar days that overlap the window; a day's fire times are its matching
  // minutes, each turned into an instant (none for a skipped time, the first for a repeated one).
  const first = wallOf(start - 14 * 3_600_000, zone);
  const last = wallOf(end + 14 * 3_600_000, zone);
  for (
    let day = Date.UTC(first.year, first.month - 1, first.day);
    day <= Date.UTC(last.year, last.month - 1, last.day);
    day += 86_400_000
  ) {
    const date = new Date(day);
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth() + 1;
    const dayOfMonth = date.getUTCDate();
    if (!schedule.years.has(year) || !schedule.months.has(month)) continue;
    if (!dayMatches(schedule, year, month, dayOfMonth)) continue;
    for (const hour of schedule.hours) {
      for (const minute of schedule.minutes) {
        const t = instantOf({ year, month, day: dayOfMonth, hour, minute, second: 0 }, zone);
        if (t !== undefined && inWindow(t)) out.push(new Date(t));
      }
    }
  }
  return out.sort((a, b) => a.getTime() - b.getTime());
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Day of the week, 1 (Sunday) to 7 (Saturday). */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function nearestWeekday(year: number, month: number, day: number): number | undefined {
  const last = daysIn(year, month);
  if (day > last) return undefined;
  const wd = weekday(year, month, day);
  if (wd === 7) return day === 1 ? 3 : day - 1; // Saturday: the Friday before, or Monday the 3rd
  if (wd === 1) return day === last ? day - 2 : day + 1; // Sunday: the Monday after, or the Friday before
  return day;
}

function dayMatches(s: CronSchedule, year: number, month: number, day: number): boolean {
  const dom = s.dayOfMonth;
  const last = daysIn(year, month);
  switch (dom.kind) {
    case 'set':
      return dom.days.has(day);
    case 'last':
      return day === last;
    case 'lastWeekday':
      return day === nearestWeekday(year, month, last);
    case 'nearestWeekday':
      return day === nearestWeekday(year, month, dom.day);
    case 'any':
      break;
  }
  const dow = s.dayOfWeek;
  const wd = weekday(year, month, day);
  switch (dow.kind) {
    case 'set':
      return dow.days.has(wd);
    case 'lastOfMonth':
      return wd === dow.day && day + 7 > last;
    case 'nth':
      return wd === dow.day && Math.ceil(day / 7) === dow.nth;
    case 'any':
      return true;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time at instant `t` in `zone`. */
function wallOf(t: number, zone: string): WallTime {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

function asUtc(w: WallTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/**
 * The first instant at which `zone` shows wall time `w`, or undefined when daylight saving skips
 * it. The zone's offset is read on either side of the time, which covers any one transition.
 */
function instantOf(w: WallTime, zone: string): number | undefined {
  const utc = asUtc(w);
  const offsets = new Set(
    [utc - 14 * 3_600_000, utc, utc + 14 * 3_600_000].map((t) => asUtc(wallOf(t, zone)) - t),
  );
  const candidates = [...offsets]
    .map((offset) => utc - offset)
    .filter((t) => asUtc(wallOf(t, zone)) === utc)
    .sort((a, b) => a - b);
  return candidates[0];
}
