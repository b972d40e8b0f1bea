/**
 * A diff as CSV files for a spreadsheet: one file per object and kind of change (`Account.changed.csv`),
 * RFC 4180 quoting. Rows arrive one at a time from `diffSnapshots`' `onRow` and go straight to the
 * sink, so no file is held in memory. Record values are customer data that a spreadsheet may open:
 * a value a spreadsheet would run as a formula is written with a leading single quote.
 */
import { InvalidInsightRequestError } from './common.ts';
import type { DiffRow } from './diff.ts';

/** Where the CSV text goes: appended to the named file (created on first append). */
export interface CsvSink {
  append(file: string, text: string): void | Promise<void>;
}

/** Characters that make Excel and other spreadsheets read a cell as a formula (OWASP's list). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One field as RFC 4180 writes it: quoted when it holds a comma, quote, CR or LF; quotes doubled.
 * A value starting with =, +, -, @, tab or CR gets a leading single quote first, as OWASP advises
 * against CSV injection, so a spreadsheet shows it as text instead of running it.
 */
export function csvField(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** An object's API name as Salesforce allows it: the only object names that become file names. */
const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The CSV file name of an object and kind; refuses an object name that is not an API name (a tampered vault could name `../x`). */
export function csvFileName(object: string, kind: string): string {
  if (!API_NAME.test(object)) {
    throw new InvalidInsightRequestError(
      `the snapshot names an object ${JSON.stringify(object)}, which is not a Salesforce API name (letters, digits and _, starting with a letter), so it cannot name a CSV file: check the vault's manifests, or compare another object with --object.`,
    );
  }
  return `${object}.${kind}.csv`;
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
    const file = csvFileName(row.object, row.kind);
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
