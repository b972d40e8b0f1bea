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

/** The header row of a Bulk query result. */
export function headerRow(columns: readonly QueryColumn[], dialect: CsvDialect): string {
  return columns.map((c) => quote(c.path)).join(dialect.columnDelimiter) + dialect.lineEnding;
}

const QUOTE = 0x22;
const MIN_CHUNK = 256 * 1024;

/**
 * Renders Bulk CSV rows straight into byte chunks (no intermediate strings), which is what keeps
 * result pages fast: each value is UTF-8 encoded once, into the chunk that is sent.
 */
export class CsvChunkWriter {
  private buf = Buffer.allocUnsafe(MIN_CHUNK);
  private off = 0;
  private readonly datetime: boolean[];
  private readonly delimiter: number;
  private readonly lineEnding: Buffer;

  constructor(columns: readonly QueryColumn[], dialect: CsvDialect) {
    this.datetime = columns.map((c) => c.field?.type === 'datetime');
    this.delimiter = dialect.columnDelimiter.charCodeAt(0);
    this.lineEnding = Buffer.from(dialect.lineEnding);
  }

  /** Bytes written and not yet taken. */
  get size(): number {
    return this.off;
  }

  private reserve(bytes: number): void {
    if (this.off + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(MIN_CHUNK, this.buf.length * 2, this.off + bytes));
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  /** Appends raw text (the header row). */
  text(text: string): void {
    this.reserve(text.length * 3);
    this.off += this.buf.write(text, this.off, 'utf8');
  }

  /** Appends one data row. */
  row(row: readonly SfValue[]): void {
    const n = row.length;
    for (let i = 0; i < n; i++) {
      const value = row[i];
      let text: string;
      if (value === null || value === undefined) text = '';
      else if (typeof value === 'string') {
        text = this.datetime[i] && value.endsWith('+0000') ? `${value.slice(0, -5)}Z` : value;
        if (text.includes('"')) text = text.replaceAll('"', '""');
      } else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
      else text = JSON.stringify(value).replaceAll('"', '""');
      this.reserve(text.length * 3 + 4);
      const buf = this.buf;
      if (i > 0) buf[this.off++] = this.delimiter;
      buf[this.off++] = QUOTE;
      if (text.length > 0) this.off += buf.write(text, this.off, 'utf8');
      buf[this.off++] = QUOTE;
    }
    this.reserve(this.lineEnding.length);
    this.lineEnding.copy(this.buf, this.off);
    this.off += this.lineEnding.length;
  }

  /** Hands over what was written and starts a fresh chunk. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.off);
    this.buf = Buffer.allocUnsafe(MIN_CHUNK);
    this.off = 0;
    return out;
  }
}
