import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvScanner } from '../../lambdas/core/backup/csv-scan.ts';

/** A Bulk-style CSV whose values hold everything that breaks naive scanning. */
function sampleCsv(rows: number): string {
  const tricky = [
    'plain',
    'a, comma',
    'a "quote" inside',
    'two\nlines',
    'crlf\r\nline',
    'ünïcödé ✓',
    '',
    '""',
  ];
  const lines = ['"Id","Name","IsDeleted","Description"'];
  for (let i = 0; i < rows; i++) {
    const id = `001000000000${String(i).padStart(3, '0')}AAA`;
    const text = `${tricky[i % tricky.length]} ${'x'.repeat(i % 50)}`;
    lines.push(
      [id, `Row ${i}`, i % 3 === 0 ? 'true' : 'false', text]
        .map((v) => `"${v.replace(/"/g, '""')}"`)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

function scanInChunks(bytes: Uint8Array, size: number): CsvScanner {
  const scanner = new CsvScanner(1000);
  for (let i = 0; i < bytes.length; i += size) scanner.push(bytes.subarray(i, i + size));
  scanner.end();
  return scanner;
}

describe('the CSV scanner that counts exported rows', () => {
  const csv = sampleCsv(120);
  const bytes = Buffer.from(csv);
  const parsed = parse(csv, { columns: true }) as Record<string, string>[];
  const deletedIds = parsed.filter((r) => r.IsDeleted === 'true').map((r) => r.Id);

  it('counts rows and deleted ids exactly as a CSV parser reads them, however the bytes are split', () => {
    for (const size of [1, 2, 3, 7, 64, 1000, bytes.length]) {
      const scanner = scanInChunks(bytes, size);
      expect(scanner.dataRows, `chunks of ${size}`).toBe(parsed.length);
      expect(scanner.deletedRows, `chunks of ${size}`).toBe(deletedIds.length);
      expect(scanner.deletedIds, `chunks of ${size}`).toEqual(deletedIds);
      expect(scanner.columns).toEqual(['Id', 'Name', 'IsDeleted', 'Description']);
      expect(scanner.endedInsideQuotes).toBe(false);
    }
  });

  it('tells when the bytes stop inside a quoted value, the sign of a cut body', () => {
    const cut = bytes.subarray(0, csv.indexOf('two\nlines') + 4);
    const scanner = scanInChunks(cut, 16);
    expect(scanner.endedInsideQuotes).toBe(true);
  });

  it('counts a last row that has no newline', () => {
    const scanner = scanInChunks(Buffer.from('"Id","IsDeleted"\n"001","true"'), 5);
    expect(scanner.dataRows).toBe(1);
    expect(scanner.deletedIds).toEqual(['001']);
  });
});
