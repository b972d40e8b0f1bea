import type { QueryColumn, SfValue } from '../org/api.ts';
import { ApiError } from './errors.ts';

/** Bulk API 2.0 column delimiters by their job names. */
export const DELIMITERS: Record<string, string> = {
  COMMA: ',',
  TAB: '\t',
  PIPE: '|',
  SEMICOLON: ';',
  CARET: '^',
  BACKQUOTE: '`',
};

/** Bulk API 2.0 line endings by their job names. */
export const LINE_ENDINGS: Record<string, string> = { LF: '\n', CRLF: '\r\n' };

/** CSV dialect of a job. */
export interface CsvDialect {
  readonly columnDelimiter: string;
  readonly lineEnding: string;
}

/** Validates a job's dialect fields, answering Salesforce's errors for unknown names. */
export function dialectOf(
  columnDelimiter: unknown,
  lineEnding: unknown,
): { names: [string, string]; dialect: CsvDialect } {
  const delimiterName = columnDelimiter === undefined ? 'COMMA' : String(columnDelimiter);
  const lineEndingName = lineEnding === undefined ? 'LF' : String(lineEnding);
  const delimiter = DELIMITERS[delimiterName];
  const ending = LINE_ENDINGS[lineEndingName];
  if (delimiter === undefined) {
    throw new ApiError(
      400,
      'INVALIDJOB',
      `Invalid columnDelimiter: ${delimiterName}. Use one of ${Object.keys(DELIMITERS).join(', ')}.`,
    );
  }
  if (ending === undefined) {
    throw new ApiError(400, 'INVALIDJOB', `Invalid lineEnding: ${lineEndingName}. Use LF or CRLF.`);
  }
  return {
    names: [delimiterName, lineEndingName],
    dialect: { columnDelimiter: delimiter, lineEnding: ending },
  };
}

/** Quotes one CSV cell the way Bulk API 2.0 writes it: every value in double quotes. */
export function quote(text: string): string {
  return text.includes('"') ? `"${text.replace(/"/g, '""')}"` : `"${text}"`;
}

/** Text of a value in Bulk CSV: booleans as true/false, numbers plain, null empty. */
export function csvText(value: SfValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** A REST datetime (`...000+0000`) as Bulk CSV writes it (`...000Z`). */
export function csvDateTime(value: SfValue | undefined): string {
  if (typeof value !== 'string') return csvText(value);
  return value.endsWith('+0000') ? `${value.slice(0, -5)}Z` : value;
}

/** The header row of a Bulk query result. */
export function headerRow(columns: readonly QueryColumn[], dialect: CsvDialect): string {
  return columns.map((c) => quote(c.path)).join(dialect.columnDelimiter) + dialect.lineEnding;
}

/** Builds the function that renders one data row of a Bulk query result. */
export function rowFormatter(
  columns: readonly QueryColumn[],
  dialect: CsvDialect,
): (row: readonly SfValue[]) => string {
  const datetime = columns.map((c) => c.field?.type === 'datetime');
  const { columnDelimiter, lineEnding } = dialect;
  return (row) => {
    let line = '';
    for (let i = 0; i < row.length; i++) {
      if (i > 0) line += columnDelimiter;
      line += quote(datetime[i] ? csvDateTime(row[i]) : csvText(row[i]));
    }
    return line + lineEnding;
  };
}
