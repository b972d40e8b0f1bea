/**
 * A streaming CSV scanner that counts records and picks out the `Id` and `IsDeleted` columns of
 * each row as the bytes go by, so an export can count rows and deletes without parsing values.
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const RETURN = 0x0d;

/** Scans CSV bytes chunk by chunk. */
export class CsvScanner {
  private inQuotes = false;
  private field: number[] = [];
  private fieldIndex = 0;
  private record: string[] = [];
  private recordHasContent = false;
  private header: string[] | null = null;
  private idColumn = -1;
  private deletedColumn = -1;
  private rows = 0;
  private deleted = 0;
  readonly deletedIds: string[] = [];

  constructor(private readonly sampleSize = 5) {}

  /** Scans one chunk. */
  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      if (this.inQuotes && !this.wanted()) {
        // Most bytes of a wide export sit inside quoted values nobody reads: jump to the next quote.
        const next = chunk.indexOf(QUOTE, i);
        if (next < 0) return;
        i = next;
      }
      const byte = chunk[i]!;
      if (byte === QUOTE) {
        this.inQuotes = !this.inQuotes;
        this.recordHasContent = true;
      } else if (this.inQuotes) {
        if (this.wanted()) this.field.push(byte);
      } else if (byte === COMMA) {
        this.endField();
        this.recordHasContent = true;
      } else if (byte === NEWLINE) {
        this.endRecord();
      } else if (byte !== RETURN) {
        this.recordHasContent = true;
        if (this.wanted()) this.field.push(byte);
      }
    }
  }

  /** Completes a last record that had no newline. */
  end(): void {
    if (this.recordHasContent) this.endRecord();
  }

  /** Data rows seen (header excluded). */
  get dataRows(): number {
    return this.rows;
  }

  /** Rows whose IsDeleted column was `true`. */
  get deletedRows(): number {
    return this.deleted;
  }

  /** True when the bytes ended inside a quoted value, the sign of a cut body. */
  get endedInsideQuotes(): boolean {
    return this.inQuotes;
  }

  /** The header's column names, once seen. */
  get columns(): readonly string[] | null {
    return this.header;
  }

  private wanted(): boolean {
    return (
      this.header === null || this.fieldIndex === this.idColumn || this.fieldIndex === this.deletedColumn
    );
  }

  private endField(): void {
    if (this.wanted()) this.record[this.fieldIndex] = Buffer.from(this.field).toString('utf8');
    this.field = [];
    this.fieldIndex++;
  }

  private endRecord(): void {
    if (!this.recordHasContent) return;
    this.endField();
    if (this.header === null) {
      this.header = this.record;
      this.idColumn = this.header.indexOf('Id');
      this.deletedColumn = this.header.indexOf('IsDeleted');
    } else {
      this.rows++;
      if (this.deletedColumn >= 0 && this.record[this.deletedColumn] === 'true') {
        this.deleted++;
        const id = this.record[this.idColumn];
        if (id && this.deletedIds.length < this.sampleSize) this.deletedIds.push(id);
      }
    }
    this.record = [];
    this.fieldIndex = 0;
    this.recordHasContent = false;
  }
}
