/**
 * The queries only the browser needs: the objects of a point in time with their row counts, and
 * record search (the timeline, diffs, histories and plans come from lambdas/core/insight). Each reads the vault through SnapshotReader, as a restore
 * does, so the page shows what a restore would use.
 */
import type { PointInTime, SnapshotRow } from '../../lambdas/core/snapshot/reader.ts';

/** One object as of a point in time. */
export interface ObjectCount {
  readonly name: string;
  /** Rows live at that point. */
  readonly live: number;
  /** Rows in the recycle bin at that point. */
  readonly deleted: number;
  /** Fields held in the snapshot's CSV. */
  readonly fields: number;
}

/**
 * Every object of a point in time with its live and deleted rows. A full snapshot's manifest
 * counts are exact for it; on an incremental the chain is merged, which reads the rows once.
 */
export async function objectCounts(pit: PointInTime): Promise<ObjectCount[]> {
  const out: ObjectCount[] = [];
  for (const name of pit.objectNames().sort()) {
    const entry = pit.object(name);
    const fields = entry.fields.filter((f) => f.inCsv !== false).length;
    if (pit.chain.length === 1 && pit.target.mode === 'full') {
      out.push({ name, live: entry.rows - entry.deletedRows, deleted: entry.deletedRows, fields });
      continue;
    }
    let live = 0;
    let deleted = 0;
    for await (const row of pit.rows(name)) {
      if (row.deleted) deleted++;
      else live++;
    }
    out.push({ name, live, deleted, fields });
  }
  return out;
}

/** A record search in one object at one point in time. */
export interface RecordQuery {
  /** A record id (15 or 18 characters, any case), or text to find in field values. */
  readonly text: string;
  /** Only this field's values are searched for the text. @default - every field */
  readonly field?: string;
  /** @default 50 */
  readonly limit?: number;
  /** Stops the search, which then rejects, when the page that asked no longer waits for it. */
  readonly signal?: AbortSignal;
}

/** What a search found. */
export interface RecordMatches {
  readonly object: string;
  readonly snapshotId: string;
  /** Rows that matched: all of them, unless `more` says the search stopped at the limit. */
  readonly total: number;
  /** The first `limit` rows that matched. */
  readonly rows: readonly SnapshotRow[];
  /** More rows match than `rows` holds; the search stopped there rather than count them all. */
  readonly more: boolean;
  /** The object's CSV columns, in snapshot order. */
  readonly columns: readonly string[];
}

const RECORD_ID = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

/**
 * Rows whose id is the text (compared without case: 18-character ids are case-safe, and a 15-character
 * id typed in another case should still be found, so every row it could name is shown), or whose
 * field values contain it, case-insensitively. Recycle-bin rows are included and flagged. It
 * reads the object only until one match past the limit shows there are more, and holds no row
 * but the matches it returns.
 */
export async function searchRecords(
  pit: PointInTime,
  object: string,
  query: RecordQuery,
): Promise<RecordMatches> {
  const text = query.text.trim();
  const limit = query.limit ?? 50;
  const needle = text.toLowerCase();
  const idLike = RECORD_ID.test(text);
  const columns = pit
    .fields(object)
    .filter((f) => f.inCsv !== false)
    .map((f) => f.name);
  if (query.field !== undefined && !columns.includes(query.field)) {
    throw new UnknownFieldError(
      `${object} has no field ${query.field} in snapshot ${pit.target.snapshotId}: choose one of ${columns.join(', ')}.`,
    );
  }
  const rows: SnapshotRow[] = [];
  let more = false;
  query.signal?.throwIfAborted();
  for await (const row of pit.rows(object)) {
    query.signal?.throwIfAborted();
    const byId = idLike && row.id.slice(0, text.length).toLowerCase() === needle;
    if (!byId && !valueMatches(row, needle, query.field)) continue;
    if (rows.length === limit) {
      more = true;
      break;
    }
    rows.push(row);
  }
  return { object, snapshotId: pit.target.snapshotId, total: rows.length, rows, more, columns };
}

function valueMatches(row: SnapshotRow, needle: string, field: string | undefined): boolean {
  if (needle === '') return true;
  if (field !== undefined) return (row.values[field] ?? '').toLowerCase().includes(needle);
  return Object.values(row.values).some((v) => v.toLowerCase().includes(needle));
}

/** A search named a field the object does not have at that point in time. */
export class UnknownFieldError extends Error {
  override readonly name = 'UnknownFieldError';
}
