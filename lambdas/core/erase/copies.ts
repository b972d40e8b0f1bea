/**
 * Copies of the person's values in records that are not hers: counted by the plan, blanked by the
 * erasure, looked for by the last scan, all with the same walk over a part's rows, a journal
 * event's fields and a JSON record's strings.
 */
import type { JournalLine } from '../continuous/journal.ts';
import type { CsvTable } from './find.ts';
import { fieldName, type ValueMatcher } from './values.ts';

/** At most this many record ids are named per field. */
const MAX_RECORDS_NAMED = 100;

/** The label copies in the vault's own JSON records (results, manifests) are counted under. */
export const VAULT_RECORD_LABEL = '(vault records)';

/** A tally's counts and record ids, as JSON. */
export interface TallyState {
  readonly byField: Readonly<Record<string, number>>;
  readonly kept: Readonly<Record<string, number>>;
  readonly records: Readonly<Record<string, readonly string[]>>;
}

/** Copies found, per `Object.Field`: blanked (or to blank) and kept as the request asked. */
export class CopyTally {
  readonly byField: Record<string, number> = {};
  readonly kept: Record<string, number> = {};
  readonly records: Record<string, string[]> = {};

  /** A tally made again from what `toState` answered. */
  static from(state: TallyState): CopyTally {
    const tally = new CopyTally();
    Object.assign(tally.byField, state.byField);
    Object.assign(tally.kept, state.kept);
    for (const [field, ids] of Object.entries(state.records)) tally.records[field] = [...ids];
    return tally;
  }

  /** The tally as JSON keeps it between invocations. */
  toState(): TallyState {
    return { byField: this.byField, kept: this.kept, records: this.records };
  }

  private note(field: string, kept: boolean, recordId: string | undefined): void {
    const counts = kept ? this.kept : this.byField;
    counts[field] = (counts[field] ?? 0) + 1;
    if (!kept && recordId) this.name(field, recordId);
  }

  private name(field: string, recordId: string): void {
    const named = this.records[field] ?? [];
    this.records[field] = named;
    if (named.length < MAX_RECORDS_NAMED && !named.includes(recordId)) named.push(recordId);
  }

  /** Copies to blank (kept ones aside). */
  get count(): number {
    return Object.values(this.byField).reduce((n, c) => n + c, 0);
  }

  /** Adds another tally's counts, keeping the larger per field (versions of one key overlap). */
  mergeMax(other: CopyTally): void {
    for (const [f, c] of Object.entries(other.byField)) this.byField[f] = Math.max(this.byField[f] ?? 0, c);
    for (const [f, c] of Object.entries(other.kept)) this.kept[f] = Math.max(this.kept[f] ?? 0, c);
    this.mergeRecords(other.records);
  }

  /** Adds another tally's counts to this one's. */
  add(other: CopyTally): void {
    for (const [f, c] of Object.entries(other.byField)) this.byField[f] = (this.byField[f] ?? 0) + c;
    for (const [f, c] of Object.entries(other.kept)) this.kept[f] = (this.kept[f] ?? 0) + c;
    this.mergeRecords(other.records);
  }

  /** Adds another tally's kept copies to this one's. */
  addKept(other: CopyTally): void {
    for (const [f, c] of Object.entries(other.kept)) this.kept[f] = (this.kept[f] ?? 0) + c;
  }

  private mergeRecords(records: Readonly<Record<string, readonly string[]>>): void {
    for (const [f, ids] of Object.entries(records)) for (const id of ids) this.name(f, id);
  }

  /** A copy in `field` of record `recordId`: whether it stays. */
  found(field: string, keep: ReadonlySet<string>, recordId?: string): boolean {
    // API names are case-insensitive: "Account.phone" keeps Account.Phone.
    const kept = keep.has(field.toLowerCase());
    this.note(field, kept, recordId);
    return kept;
  }
}

/** Finds, counts and blanks copies of the person's values. */
export class Copies {
  /** Fields whose copies stay, lower-cased. */
  readonly keep: ReadonlySet<string>;

  constructor(
    readonly matcher: ValueMatcher,
    keep: Iterable<string>,
  ) {
    this.keep = new Set([...keep].map((f) => f.toLowerCase()));
  }

  /** A cell's text with the values blanked, or undefined when it holds none or its field keeps them. */
  private cell(text: string, field: string, tally: CopyTally, recordId?: string): string | undefined {
    const scrubbed = this.matcher.scrub(text);
    if (scrubbed === undefined) return undefined;
    return tally.found(field, this.keep, recordId) ? undefined : scrubbed;
  }

  /**
   * A row that is not the person's, with copies blanked (its `Id` column aside); the same array
   * when there was none to blank.
   */
  row(table: CsvTable, row: readonly string[], object: string, tally: CopyTally): readonly string[] {
    const idColumn = table.header.indexOf('Id');
    const recordId = idColumn >= 0 ? row[idColumn] : undefined;
    let out: string[] | undefined;
    for (let i = 0; i < row.length; i++) {
      if (i === idColumn) continue;
      const next = this.cell(row[i] ?? '', fieldName(object, table.header[i] ?? ''), tally, recordId);
      if (next === undefined) continue;
      out ??= [...row];
      out[i] = next;
    }
    return out ?? row;
  }

  /** A journal event of another record, with copies in its fields blanked; the same line when none. */
  event(line: JournalLine, tally: CopyTally): JournalLine {
    const event = line.event as { detail?: { payload?: Record<string, unknown> } };
    const payload = event.detail?.payload;
    if (!payload) return line;
    const entity = line.sort.entityName;
    const recordId = line.sort.recordIds[0];
    let changed = false;
    const next: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(payload)) {
      const label = fieldName(entity, field);
      const scrubbed = this.value(value, (text) => this.cell(text, label, tally, recordId));
      if (scrubbed.changed) changed = true;
      next[field] = scrubbed.value;
    }
    if (!changed) return line;
    return { ...line, event: { ...event, detail: { ...event.detail, payload: next } } } as JournalLine;
  }

  /** A JSON record of the vault with copies in its strings blanked. */
  json(value: unknown, tally: CopyTally): { value: unknown; changed: boolean } {
    return this.value(value, (text) => this.cell(text, VAULT_RECORD_LABEL, tally));
  }

  /** Plain text of the vault with copies blanked, or undefined when it holds none. */
  text(text: string, tally: CopyTally): string | undefined {
    return this.cell(text, VAULT_RECORD_LABEL, tally);
  }

  private value(
    value: unknown,
    cell: (text: string) => string | undefined,
  ): { value: unknown; changed: boolean } {
    if (typeof value === 'string') {
      const next = cell(value);
      return next === undefined ? { value, changed: false } : { value: next, changed: true };
    }
    if (Array.isArray(value)) {
      const items = value.map((v) => this.value(v, cell));
      return items.some((i) => i.changed)
        ? { value: items.map((i) => i.value), changed: true }
        : { value, changed: false };
    }
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value).map(([k, v]) => [k, this.value(v, cell)] as const);
      return entries.some(([, i]) => i.changed)
        ? { value: Object.fromEntries(entries.map(([k, i]) => [k, i.value])), changed: true }
        : { value, changed: false };
    }
    return { value, changed: false };
  }
}
