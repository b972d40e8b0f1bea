import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../../bench/options.ts';
import { Report } from '../../bench/report.ts';

const section = 'One object';

describe('the benchmark report', () => {
  it('writes every figure to latest.json as name, value and unit, in the order measured', async () => {
    const report = new Report();
    report.add({ section, name: 'object.export.rows_per_s', label: 'export', value: 1234.5, unit: 'rows/s' });
    report.add({
      section,
      name: 'object.ratio.export_to_pull',
      label: 'export / pull',
      value: 0.5,
      unit: 'ratio',
      target: '>= 0.8',
      met: false,
    });
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    await report.write(dir, '## Results');
    const json = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'));
    expect(json).toEqual([
      { name: 'object.export.rows_per_s', value: 1234.5, unit: 'rows/s' },
      { name: 'object.ratio.export_to_pull', value: 0.5, unit: 'ratio' },
    ]);
  });

  it('prints each target in the Markdown table as met or missed', async () => {
    const report = new Report();
    report.add({
      section,
      name: 'a.ratio',
      label: 'first ratio',
      value: 6,
      unit: 'ratio',
      target: '>= 5',
      met: true,
    });
    report.add({
      section,
      name: 'b.ratio',
      label: 'second ratio',
      value: 2,
      unit: 'ratio',
      target: '>= 5',
      met: false,
    });
    const md = report.markdown('## Results');
    expect(md).toContain('| first ratio | 6 | ratio | >= 5 (met) |');
    expect(md).toContain('| second ratio | 2 | ratio | >= 5 (missed) |');
    expect(md).toContain(`### ${section}`);
  });

  it('refuses a figure measured twice under the same name', () => {
    const report = new Report();
    report.add({ section, name: 'org.backup_s', label: 'backup', value: 10, unit: 's' });
    expect(() => report.add({ section, name: 'org.backup_s', label: 'again', value: 11, unit: 's' })).toThrow(
      /org\.backup_s was measured twice/,
    );
  });

  it('refuses names that would not compare across runs, and values that are not finite numbers', () => {
    const report = new Report();
    expect(() => report.add({ section, name: 'Export Rate', label: 'x', value: 1, unit: 's' })).toThrow(
      /lower-case dotted words/,
    );
    expect(() =>
      report.add({ section, name: 'object.rows', label: 'x', value: Number.NaN, unit: 'rows' }),
    ).toThrow(/not a finite number/);
  });
});

describe('the benchmark options', () => {
  it('scales every size down with --quick and keeps the 500-object API count and the 2,000,000-row worker object', () => {
    const quick = parseBenchOptions(['--quick']);
    const full = parseBenchOptions([]);
    if (quick === 'help' || full === 'help') throw new Error('unexpected help');
    expect(full.rows).toBe(1_000_000);
    expect(quick.rows).toBeLessThan(full.rows);
    expect(quick.apiObjects).toBe(500);
    expect(quick.workerRows).toBe(2_000_000);
    expect(full.only).toEqual([
      'object',
      'workers',
      'org',
      'memory',
      'api',
      'restore',
      'stepfunctions',
      'continuous',
      'sweep',
      'erase',
    ]);
    expect(full.changes).toBe(10_000);
    expect(quick.changes).toBe(2_000);
    expect(full.sweepNames).toBe(1_000_000);
    expect(quick.sweepNames).toBe(100_000);
    expect(full.eraseObjects).toBe(1_000);
    expect(quick.eraseObjects).toBe(200);
  });

  it('runs a subset named by --only and refuses unknown names and bad sizes', () => {
    const some = parseBenchOptions(['--only', 'api,restore', '--rows', '5000']);
    if (some === 'help') throw new Error('unexpected help');
    expect(some.only).toEqual(['api', 'restore']);
    expect(some.rows).toBe(5000);
    expect(() => parseBenchOptions(['--only', 'speed'])).toThrow(/--only names "speed"/);
    expect(() => parseBenchOptions(['--rows', '0'])).toThrow(/--rows must be a whole number/);
  });
});
