/**
 * The filters of an object read per parent (ContentDocumentLink by ContentDocumentId): the parent's
 * ids are read in pages, each cut into WHERE clauses kept as numbered files in the store, so that an
 * export of any size resumes where it stopped and every invocation runs exactly the same queries.
 */
import { objectFilterKey } from '../snapshot/keys.ts';
import { ObjectExistsError, ObjectNotFoundError } from '../store.ts';
import { parentIdClauses } from './special-objects.ts';
import type { BackupDeps, ExportInput, ParentReading } from './types.ts';

/**
 * Parent ids read per query: REST's largest batch (REST API Developer Guide, "Query Options
 * Header": batchSize from 200 to 2,000).
 */
export const PARENT_PAGE = 2000;

/** One filter file: a WHERE clause and the last parent id it names. */
interface FilterFile {
  readonly clause: string;
  readonly lastId: string;
}

/**
 * Reads the parent's ids from where `state` left off, page by page, in id order: each page is one
 * query `WHERE Id > <last id read> ORDER BY Id LIMIT 2000`, which can be asked again at any time
 * (unlike a query locator, which expires), and its ids become filter files. Stops when every id is
 * read, or after the page during which `deadline` passed. A filter file is written once: when one
 * is already there (an invocation wrote it and stopped before its checkpoint), the files written
 * stand and reading resumes after the last of them, so no id is filtered twice or left out.
 */
export async function readParentIds(
  deps: BackupDeps,
  input: ExportInput,
  parent: { readonly object: string; readonly field: string },
  fixedLength: number,
  state: ParentReading,
  deadline: number,
): Promise<ParentReading> {
  let reading = state;
  while (!reading.done) {
    const where = reading.after === null ? '' : ` WHERE Id > '${reading.after}'`;
    const page = await deps.source.queryAll(
      `SELECT Id FROM ${parent.object}${where} ORDER BY Id LIMIT ${PARENT_PAGE}`,
      false,
    );
    // Only the first batch is taken: the next query starts after its last id.
    const ids = page.records.map((record) => String(record.Id));
    let { files, after } = reading;
    let resumed = false;
    for (const clause of parentIdClauses(parent.field, ids, fixedLength)) {
      const file: FilterFile = { clause, lastId: lastIdOf(clause) };
      try {
        await deps.store.put(filterKey(input, files + 1), JSON.stringify(file), {
          contentType: 'application/json',
        });
      } catch (error) {
        if (!(error instanceof ObjectExistsError)) throw error;
        ({ files, after } = await filesWritten(deps, input, files));
        resumed = true;
        break;
      }
      files++;
      after = file.lastId;
    }
    const done = !resumed && page.done && ids.length < PARENT_PAGE;
    reading = { files, after, done };
    if (!done && deps.clock().getTime() > deadline) break;
  }
  return reading;
}

/** The WHERE clause of filter file `index + 1`; reads one file at a time and keeps the last read. */
export function filterFiles(deps: BackupDeps, input: ExportInput): (index: number) => Promise<string> {
  let last: { index: number; clause: string } | undefined;
  return async (index) => {
    if (last?.index !== index) {
      const file = await readFile(deps, input, index + 1);
      if (!file) throw new Error(`${input.object}: filter file ${index + 1} is missing from the plan.`);
      last = { index, clause: file.clause };
    }
    return last.clause;
  };
}

/** The files already written from `files + 1` on, and the last parent id the last of them names. */
async function filesWritten(
  deps: BackupDeps,
  input: ExportInput,
  files: number,
): Promise<{ files: number; after: string | null }> {
  let count = files;
  let after: string | null = null;
  for (;;) {
    const file = await readFile(deps, input, count + 1);
    if (!file) break;
    count++;
    after = file.lastId;
  }
  return { files: count, after };
}

async function readFile(deps: BackupDeps, input: ExportInput, number: number): Promise<FilterFile | null> {
  try {
    return JSON.parse(new TextDecoder().decode(await deps.store.get(filterKey(input, number)))) as FilterFile;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return null;
    throw error;
  }
}

function filterKey(input: ExportInput, number: number): string {
  return objectFilterKey(input.org, input.snapshotId, input.object, number);
}

/** The last id of a clause `Field IN ('a','b')`: `b`. */
function lastIdOf(clause: string): string {
  return /'([A-Za-z0-9]+)'\)$/.exec(clause)![1]!;
}
