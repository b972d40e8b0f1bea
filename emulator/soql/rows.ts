import type { Row } from '../org/store.ts';
import type { CompiledQuery } from './compiled-query.ts';
import type { Predicate } from './predicate.ts';

/** Text sorts case-insensitively; ids sort by their characters, which follows creation order. */
function compareValues(a: unknown, b: unknown, caseSensitive: boolean): number {
  const x = typeof a === 'string' && !caseSensitive ? a.toLowerCase() : a;
  const y = typeof b === 'string' && !caseSensitive ? b.toLowerCase() : b;
  if (x === y) return 0;
  return (x as number) < (y as number) ? -1 : 1;
}

/** Rows matching the query, ordered and paged; lazy unless ORDER BY needs a sort. */
export function* iterateRows(q: CompiledQuery, includeDeleted: boolean, extra?: Predicate): Generator<Row> {
  const { table, predicate } = q;
  const offset = q.ast.offset ?? 0;
  const limit = q.ast.limit ?? Number.POSITIVE_INFINITY;
  if (limit === 0) return;
  const matching = function* () {
    for (const row of table.rows.values()) {
      if (!includeDeleted && table.isDeleted(row)) continue;
      if (extra && !extra(row)) continue;
      if (predicate && !predicate(row)) continue;
      yield row;
    }
  };
  let source: Iterable<Row> = matching();
  if (q.order.length) {
    const rows = [...matching()];
    const keys = q.order.map((o) => o.path);
    rows.sort((ra, rb) => {
      for (let i = 0; i < q.order.length; i++) {
        const o = q.order[i]!;
        const a = keys[i]!.get(ra);
        const b = keys[i]!.get(rb);
        if (a === b) continue;
        if (a === null) return o.nullsLast ? 1 : -1;
        if (b === null) return o.nullsLast ? -1 : 1;
        const t = keys[i]!.field.type;
        const c = compareValues(a, b, t === 'id' || t === 'reference');
        if (c !== 0) return o.descending ? -c : c;
      }
      return 0;
    });
    source = rows;
  }
  let skipped = 0;
  let emitted = 0;
  for (const row of source) {
    if (skipped < offset) {
      skipped++;
      continue;
    }
    yield row;
    if (++emitted >= limit) return;
  }
}
