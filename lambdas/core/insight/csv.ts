/**
 * A diff as CSV files for a spreadsheet: one file per object and kind of change (`Account.changed.csv`),
 * RFC 4180 quoting. Rows arrive one at a time from `diffSnapshots`' `onRow` and go straight to the
 * sink, so no file is held in memory.
 */
import type { DiffRow } from './diff.ts';

/** Where the CSV text goes: appended to the named file (created on first append). */
export interface CsvSink {
  append(file: string, text: string): void | Promise<void>;
}

/** One field as RFC 4180 writes it: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** A CSV record: fields joined by commas, ended by CRLF as RFC 4180 has it. */
export function csvRecord(values: readonly string[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/**
 * Writes each differing row to `<Object>.<kind>.csv`: `Id` for every kind, and for changed rows one
 * line per changed field (`Id,Field,Before,After`), so a row with three changed fields is three lines.
 */
export class DiffCsvWriter {
  private readonly started = new Set<string>();
  /** Files written, with how many data lines each. */
  readonly files = new Map<string, number>();

  constructor(private readonly sink: CsvSink) {}

  /** Adds one row (the diff's `onRow`). */
  async add(row: DiffRow): Promise<void> {
    const file = `${row.object}.${row.kind}.csv`;
    if (!this.started.has(file)) {
      this.started.add(file);
      await this.sink.append(
        file,
        csvRecord(row.kind === 'changed' ? ['Id', 'Field', 'Before', 'After'] : ['Id']),
      );
    }
    if (row.kind === 'changed') {
      let text = '';
      for (const c of row.changes ?? []) text += csvRecord([row.id, c.field, c.before, c.after]);
      await this.sink.append(file, text);
      this.files.set(file, (this.files.get(file) ?? 0) + (row.changes?.length ?? 0));
    } else {
      await this.sink.append(file, csvRecord([row.id]));
      this.files.set(file, (this.files.get(file) ?? 0) + 1);
    }
  }
}
