import { describe, expect, it } from 'vitest';
import { dateLiteralRange, toDateBounds } from '../../emulator/soql/date-literals.ts';

// A Wednesday in the middle of the second quarter.
const NOW = new Date('2024-05-15T13:45:00Z');
const bounds = (name: string, n: number | null = null) => toDateBounds(dateLiteralRange(name, n, NOW));

describe('SOQL date literals', () => {
  it('cover whole UTC days around the org clock', () => {
    expect(bounds('TODAY')).toEqual({ start: '2024-05-15', end: '2024-05-16' });
    expect(bounds('YESTERDAY')).toEqual({ start: '2024-05-14', end: '2024-05-15' });
    expect(bounds('TOMORROW')).toEqual({ start: '2024-05-16', end: '2024-05-17' });
  });

  it('start weeks on Sunday and months and quarters on the calendar', () => {
    expect(bounds('THIS_WEEK')).toEqual({ start: '2024-05-12', end: '2024-05-19' });
    expect(bounds('LAST_WEEK')).toEqual({ start: '2024-05-05', end: '2024-05-12' });
    expect(bounds('LAST_MONTH')).toEqual({ start: '2024-04-01', end: '2024-05-01' });
    expect(bounds('THIS_QUARTER')).toEqual({ start: '2024-04-01', end: '2024-07-01' });
    expect(bounds('LAST_QUARTER')).toEqual({ start: '2024-01-01', end: '2024-04-01' });
    expect(bounds('NEXT_YEAR')).toEqual({ start: '2025-01-01', end: '2026-01-01' });
  });

  it('count N days, weeks, months and years from today', () => {
    expect(bounds('LAST_N_DAYS', 7)).toEqual({ start: '2024-05-08', end: '2024-05-16' });
    expect(bounds('NEXT_N_DAYS', 2)).toEqual({ start: '2024-05-16', end: '2024-05-18' });
    expect(bounds('N_DAYS_AGO', 3)).toEqual({ start: '2024-05-12', end: '2024-05-13' });
    expect(bounds('LAST_N_MONTHS', 2)).toEqual({ start: '2024-03-01', end: '2024-05-01' });
    expect(bounds('N_YEARS_AGO', 1)).toEqual({ start: '2023-01-01', end: '2024-01-01' });
    expect(bounds('LAST_90_DAYS')).toEqual({ start: '2024-02-15', end: '2024-05-16' });
  });

  it('refuses names it does not know', () => {
    expect(() => dateLiteralRange('SOMEDAY', null, NOW)).toThrow(/Unknown date literal SOMEDAY/);
  });
});
