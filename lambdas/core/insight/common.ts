/**
 * What the engineer's toolkit (listing, diff, history, plan) shares: its named error, snapshot
 * selectors as a person writes them, record ids in their case-safe form, and the fields that a
 * re-read changes without anyone changing the record.
 */
import { suffixOf } from '../../../contract/org-id.ts';
import { ErrorName } from '../../../contract/workflow-contract.ts';
import { withSuggestion } from '../backup/nearest-name.ts';
import type { CatalogEntry, SnapshotField } from '../snapshot/manifest.ts';
import type { SnapshotSelector } from '../snapshot/reader.ts';
import { ROW_STATE_FIELDS, SAVE_STAMP_FIELDS, SYSTEM_FIELDS } from '../snapshot/system-fields.ts';

/** A listing, diff, history or plan asked for something the vault does not hold, or cannot be built. */
export class InvalidInsightRequestError extends Error {
  override readonly name = ErrorName.InvalidInsightRequest;
}

/** Fields Salesforce sets on every save: a difference only there is counted apart (audit-only). */
export const AUDIT_FIELDS: ReadonlySet<string> = SAVE_STAMP_FIELDS;

/** Columns that are not field values: the key, and the recycle-bin flag (reported as its own kind). */
export const NOT_COMPARED: ReadonlySet<string> = ROW_STATE_FIELDS;

/**
 * Fields of an object that Salesforce computes rather than anyone saving them: formulas and
 * roll-ups (`calculated` in either description given) and the view, reference and activity dates.
 * They move without a change to the record itself, so a difference there is counted apart.
 */
export function computedFields(...descriptions: readonly (readonly SnapshotField[])[]): Set<string> {
  const out = new Set<string>(SYSTEM_FIELDS);
  for (const fields of descriptions) for (const f of fields) if (f.calculated) out.add(f.name);
  return out;
}

/** A field a restore cannot put back, and why. */
export interface UnrestorableField {
  readonly field: string;
  readonly reason: string;
}

/** The fields of a snapshot's description that a restore from it cannot write, each with why. */
export function unrestorableFields(fields: readonly SnapshotField[]): UnrestorableField[] {
  const out: UnrestorableField[] = [];
  for (const f of fields) {
    if (ROW_STATE_FIELDS.has(f.name)) continue;
    const reason = SAVE_STAMP_FIELDS.has(f.name)
      ? 'Salesforce sets it on every save'
      : SYSTEM_FIELDS.has(f.name)
        ? 'Salesforce sets it when the record is viewed, referenced or has an activity'
        : f.calculated
          ? 'it is a formula or roll-up: Salesforce computes it'
          : f.updateable === false
            ? 'the snapshot describes it as not updateable'
            : undefined;
    if (reason) out.push({ field: f.name, reason });
  }
  return out;
}

const ID_CHARS = /^[0-9A-Za-z]+$/;

/**
 * The key two spellings of one record id share: the 18-character form, lower-cased. A 15-character
 * id (case-sensitive) gets Salesforce's case-safe suffix. Undefined when `id` is not an id.
 */
export function idKey(id: string): string | undefined {
  if (!ID_CHARS.test(id)) return undefined;
  if (id.length === 18) return id.toLowerCase();
  if (id.length !== 15) return undefined;
  return `${id}${suffixOf(id)}`.toLowerCase();
}

/** A selector as written (`latest`, a snapshot id, or an ISO date/instant) as SnapshotReader takes it. */
export function parseSelector(text: string): SnapshotSelector {
  if (text === 'latest') return 'latest';
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = new Date(text);
    if (Number.isNaN(at.getTime())) {
      throw new InvalidInsightRequestError(
        `"${text}" is not a valid date: write "latest", a snapshot id, or an instant such as 2026-01-31T12:00:00Z.`,
      );
    }
    return at;
  }
  return text;
}

/**
 * Checks that a snapshot id names a finished snapshot of the catalog before SnapshotReader is asked,
 * so that the error lists the ids there are and the nearest one to a typing mistake.
 */
export function checkSnapshotId(
  text: string,
  catalog: readonly CatalogEntry[],
  org: string,
  location: string,
): void {
  if (text === 'latest' || /^\d{4}-\d{2}-\d{2}/.test(text)) return;
  if (catalog.some((e) => e.snapshotId === text)) return;
  const ids = catalog.map((e) => e.snapshotId).reverse();
  const shown = ids.slice(0, 10).join(', ');
  throw new InvalidInsightRequestError(
    `org ${org} in ${location} has no snapshot ${withSuggestion(text, ids)}: write "latest", an instant, or one of ${shown}${ids.length > 10 ? ` (and ${ids.length - 10} older; list them with sfbackup snapshots)` : ''}.`,
  );
}

/** The object's name as the snapshot spells it, or an error naming the objects there are (and the nearest). */
export function checkObjectName(name: string, known: readonly string[], where: string): string {
  const exact = known.find((k) => k === name) ?? known.find((k) => k.toLowerCase() === name.toLowerCase());
  if (exact) return exact;
  const sorted = [...known].sort();
  throw new InvalidInsightRequestError(
    `${where} holds no object ${withSuggestion(name, sorted)}: give one of ${sorted.slice(0, 30).join(', ')}${sorted.length > 30 ? `, ... (${sorted.length} in all)` : ''}.`,
  );
}

/** At most `limit` ids of one kind of change, with how many there were in all. */
export interface IdSample {
  readonly count: number;
  readonly sample: string[];
  /** True when `count` is larger than `sample`: only the first `limit` ids were kept. */
  readonly truncated: boolean;
}

/** A growing IdSample; memory stays at `limit` ids whatever the count. */
export class IdSampler {
  count = 0;
  readonly sample: string[] = [];
  constructor(private readonly limit: number) {}

  /** Counts an id and keeps it while the sample has room. */
  add(id: string): void {
    this.count++;
    if (this.sample.length < this.limit) this.sample.push(id);
  }

  /** The sample as plain data. */
  toJSON(): IdSample {
    return { count: this.count, sample: [...this.sample], truncated: this.count > this.sample.length };
  }
}
