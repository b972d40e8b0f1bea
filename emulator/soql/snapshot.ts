import type { QueryColumn, QuerySnapshot, SfValue } from '../org/api.ts';
import type { Row } from '../org/store.ts';
import type { CompiledQuery } from './compiled-query.ts';
import { iterateRows } from './rows.ts';
import { outputValue } from './records.ts';
import type { ResolvedPath } from './resolve.ts';

/**
 * Freezes the rows a field query returns. A stored row is never changed in place (every write
 * stores a changed copy), so keeping the row reference keeps its values as they are now; only
 * values read through a relationship (`Owner.Name`) live in another row that may change or go,
 * so those are read now and kept, one array per such column.
 */
export function snapshotRows(
  q: CompiledQuery,
  includeDeleted: boolean,
  apiVersion: string,
  columns: readonly QueryColumn[],
): QuerySnapshot {
  const paths: ResolvedPath[] = q.columns.flatMap((c) => (c.kind === 'field' ? [c.path] : []));
  const related = paths.map((p) => (p.hops.length > 0 ? ([] as SfValue[]) : null));
  const rows: Row[] = [];
  for (const row of iterateRows(q, includeDeleted)) {
    rows.push(row);
    for (let k = 0; k < paths.length; k++) related[k]?.push(outputValue(paths[k]!, row, apiVersion, q.table));
  }
  const width = paths.length;
  return {
    columns,
    size: rows.length,
    *rows(from: number, to: number): Generator<SfValue[]> {
      const end = Math.min(to, rows.length);
      for (let i = Math.max(0, from); i < end; i++) {
        const row = rows[i]!;
        const out = new Array<SfValue>(width);
        for (let k = 0; k < width; k++) {
          const kept = related[k];
          out[k] = kept ? (kept[i] as SfValue) : outputValue(paths[k]!, row, apiVersion, q.table);
        }
        yield out;
      }
    },
  };
}

/** A snapshot of rows already computed (aggregates) or of a bare count. */
export function fixedSnapshot(
  columns: readonly QueryColumn[],
  values: readonly SfValue[][],
  size = values.length,
): QuerySnapshot {
  return {
    columns,
    size,
    *rows(from: number, to: number): Generator<SfValue[]> {
      yield* values.slice(Math.max(0, from), Math.min(to, values.length));
    },
  };
}
