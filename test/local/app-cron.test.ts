import { describe, expect, it } from 'vitest';
import {
  fireTimes,
  InvalidScheduleExpressionError,
  parseScheduleExpression,
} from '../../cli/local/app/cron.ts';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString().slice(0, 16));
const window = (from: string, to: string, timezone?: string) => ({
  from: new Date(from),
  to: new Date(to),
  ...(timezone ? { timezone } : {}),
});

describe('schedule expressions on a local clock', () => {
  it('fires the example config backup schedules on the days and hours they name', () => {
    // GIVEN the example org's schedules WHEN evaluated over the week starting Monday 2026-03-02
    const w = window('2026-03-02T00:00:00Z', '2026-03-09T00:00:00Z');
    // THEN incrementals run Monday to Saturday, the full on Sunday, metadata every day at 05:00
    expect(iso(fireTimes('cron(0 2 ? * MON-SAT *)', w))).toEqual([
      '2026-03-02T02:00',
      '2026-03-03T02:00',
      '2026-03-04T02:00',
      '2026-03-05T02:00',
      '2026-03-06T02:00',
      '2026-03-07T02:00',
    ]);
    expect(iso(fireTimes('cron(0 2 ? * SUN *)', w))).toEqual(['2026-03-08T02:00']);
    expect(fireTimes('cron(0 5 * * ? *)', w)).toHaveLength(7);
  });

  it('reads day-of-week 1 as Sunday and 7 as Saturday', () => {
    const w = window('2026-03-01T00:00:00Z', '2026-03-08T00:00:00Z');
    expect(iso(fireTimes('cron(0 0 ? * 1 *)', w))).toEqual(['2026-03-01T00:00']);
    expect(iso(fireTimes('cron(0 0 ? * 7 *)', w))).toEqual(['2026-03-07T00:00']);
  });

  it('counts increments from the first value: 1/10 is minute 1, 11, 21...', () => {
    const w = window('2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z');
    expect(iso(fireTimes('cron(1/10 * * * ? *)', w)).map((t) => t.slice(14))).toEqual([
      '01',
      '11',
      '21',
      '31',
      '41',
      '51',
    ]);
    expect(fireTimes('cron(*/15 * * * ? *)', w)).toHaveLength(4);
  });

  it('reads L in day-of-month as the last day, whatever the month length', () => {
    const w = window('2024-01-15T00:00:00Z', '2024-04-15T00:00:00Z');
    expect(iso(fireTimes('cron(0 12 L * ? *)', w))).toEqual([
      '2024-01-31T12:00',
      '2024-02-29T12:00',
      '2024-03-31T12:00',
    ]);
  });

  it('moves nW to the nearest weekday within the month, never across it', () => {
    // 2026-02-01 is a Sunday, 2026-08-01 a Saturday, 2026-05-31 a Sunday
    expect(
      iso(fireTimes('cron(0 9 1W * ? *)', window('2026-02-01T00:00:00Z', '2026-02-28T00:00:00Z'))),
    ).toEqual(['2026-02-02T09:00']);
    expect(
      iso(fireTimes('cron(0 9 1W * ? *)', window('2026-08-01T00:00:00Z', '2026-08-31T00:00:00Z'))),
    ).toEqual(['2026-08-03T09:00']);
    expect(
      iso(fireTimes('cron(0 9 15W * ? *)', window('2026-08-01T00:00:00Z', '2026-08-31T00:00:00Z'))),
    ).toEqual(['2026-08-14T09:00']);
    expect(
      iso(fireTimes('cron(0 9 31W * ? *)', window('2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z'))),
    ).toEqual(['2026-05-29T09:00']);
    expect(
      iso(fireTimes('cron(0 9 LW * ? *)', window('2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z'))),
    ).toEqual(['2026-05-29T09:00']);
  });

  it('reads n#k as the k-th day n of the month, and a missing fifth one as no run', () => {
    // March 2026: Tuesdays are the 3rd, 10th, 17th, 24th and 31st; it has four Wednesdays
    const march = window('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
    expect(iso(fireTimes('cron(0 6 ? * 3#2 *)', march))).toEqual(['2026-03-10T06:00']);
    expect(iso(fireTimes('cron(0 6 ? * TUE#5 *)', march))).toEqual(['2026-03-31T06:00']);
    expect(fireTimes('cron(0 6 ? * WED#5 *)', march)).toEqual([]);
  });

  it('reads nL in day-of-week as the last day n of the month, and L alone as Saturday', () => {
    const march = window('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
    expect(iso(fireTimes('cron(0 6 ? * 6L *)', march))).toEqual(['2026-03-27T06:00']);
    expect(
      iso(fireTimes('cron(0 6 ? * L *)', window('2026-03-01T00:00:00Z', '2026-03-08T00:00:00Z'))),
    ).toEqual(['2026-03-07T06:00']);
  });

  it('runs only in the years and months named', () => {
    const w = window('2026-01-01T00:00:00Z', '2028-12-31T00:00:00Z');
    expect(iso(fireTimes('cron(0 0 1 JUN ? 2027)', w))).toEqual(['2027-06-01T00:00']);
    expect(
      fireTimes('cron(0 0 1 NOV-FEB ? *)', window('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z')),
    ).toHaveLength(4);
  });

  it('evaluates in the schedule time zone, skips a time daylight saving skips and runs a repeated time once', () => {
    // Europe/Berlin: 2026-03-29 02:00 does not exist; 2026-10-25 02:30 happens twice
    expect(
      iso(
        fireTimes(
          'cron(30 2 * * ? *)',
          window('2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z', 'Europe/Berlin'),
        ),
      ),
    ).toEqual(['2026-03-28T01:30', '2026-03-30T00:30']);
    expect(
      iso(
        fireTimes(
          'cron(30 2 * * ? *)',
          window('2026-10-24T00:00:00Z', '2026-10-26T12:00:00Z', 'Europe/Berlin'),
        ),
      ),
    ).toEqual(['2026-10-24T00:30', '2026-10-25T00:30', '2026-10-26T01:30']);
  });

  it('fires a rate at the schedule start and every interval after it, a day being 24 hours', () => {
    const from = new Date('2026-03-01T10:17:00Z');
    expect(iso(fireTimes('rate(1 day)', { from, to: new Date('2026-03-04T00:00:00Z') }))).toEqual([
      '2026-03-01T10:17',
      '2026-03-02T10:17',
      '2026-03-03T10:17',
    ]);
    expect(
      iso(
        fireTimes('rate(12 hours)', {
          from: new Date('2026-03-02T00:00:00Z'),
          to: new Date('2026-03-03T00:00:00Z'),
          startDate: new Date('2026-03-01T06:00:00Z'),
        }),
      ),
    ).toEqual(['2026-03-02T06:00', '2026-03-02T18:00']);
  });

  it('fires a one-time schedule once, in its time zone', () => {
    expect(
      iso(
        fireTimes(
          'at(2026-03-02T09:00:00)',
          window('2026-03-01T00:00:00Z', '2026-03-05T00:00:00Z', 'Europe/Berlin'),
        ),
      ),
    ).toEqual(['2026-03-02T08:00']);
  });

  it.each([
    ['cron(0 2 * * * *)', 'must be ? in exactly one of the two'],
    ['cron(0 2 ? * ? *)', 'must be ? in exactly one of the two'],
    ['cron(0 2 * * ?)', 'has six fields'],
    ['cron(60 2 * * ? *)', 'the minutes field has "60"; write 0-59'],
    ['cron(0 2 ? * 8 *)', 'the day-of-week field has "8"; write 1-7'],
    ['cron(0 2 ? * 3#1,6#3 *)', 'with #, write one expression only'],
    ['cron(0 2 ? * MON/2 *)', 'increments (/) are not allowed here'],
    ['cron(0 2 * JANUARY ? *)', 'write 1-12 or JAN-DEC'],
    ['rate(1 days)', 'singular for 1'],
    ['rate(5 minute)', 'singular for 1'],
    ['rate(0 hours)', 'positive whole value'],
    ['every day', 'write cron('],
  ])('refuses %s, saying what to write', (expression, message) => {
    expect(() => parseScheduleExpression(expression)).toThrow(InvalidScheduleExpressionError);
    expect(() => parseScheduleExpression(expression)).toThrow(message);
  });
});
