/**
 * CSV helpers for snapshot parts. Parts keep Salesforce's Bulk API 2.0 CSV as it arrived; rows read
 * through the REST API are written in the same shape (header row, every value quoted, empty for null)
 * so that one reader handles both.
 */

const QUOTE = 0x22;
const NEWLINE = 0x0a;

/** Counts CSV records in a byte stream, honouring quoted newlines. Feed chunks in order. */
export class CsvRecordCounter {
  private inQuotes = false;
  private lineHasContent = false;
  private records = 0;

  /** Accounts for one chunk of the body. */
  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === QUOTE) {
        this.inQuotes = !this.inQuotes;
        this.lineHasContent = true;
      } else if (byte === NEWLINE && !this.inQuotes) {
        if (this.lineHasContent) this.records++;
        this.lineHasContent = false;
      } else if (byte !== 0x0d) {
        this.lineHasContent = true;
      }
    }
  }

  /** Records seen, the header row included; a last line without a newline counts. */
  total(): number {
    return this.records + (this.lineHasContent ? 1 : 0);
  }

  /** True when the body ended inside a quoted value: the sign of a cut response. */
  endedInsideQuotes(): boolean {
    return this.inQuotes;
  }

  /** Data rows (records minus the header row). */
  dataRows(): number {
    return Math.max(0, this.total() - 1);
  }
}

/** Formats one value the way the parts hold it: quoted, quotes doubled, null as empty. */
export function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return `"${text.replace(/"/g, '""')}"`;
}

/** Formats a header line. */
export function csvHeader(fields: readonly string[]): string {
  return `${fields.map((f) => `"${f}"`).join(',')}\n`;
}

/** Formats one record as a CSV line with the given columns. */
export function csvLine(fields: readonly string[], record: Record<string, unknown>): string {
  return `${fields.map((f) => csvValue(record[f])).join(',')}\n`;
}
