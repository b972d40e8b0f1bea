import type { SfValue } from '../org/api.ts';
import type { Row } from '../org/store.ts';
import { formatDateTime } from '../org/values.ts';
import type { CompiledQuery } from './compiled-query.ts';

interface Acc {
  count: number;
  distinct: Set<unknown>;
  sum: number;
  min: unknown;
  max: unknown;
}

function less(a: unknown, b: unknown): boolean {
  const x = typeof a === 'string' ? a.toLowerCase() : a;
  const y = typeof b === 'string' ? b.toLowerCase() : b;
  return (x as number) < (y as number);
}

/**
 * Evaluates GROUP BY and aggregate functions; one array per group aligned with the query's
 * columns, groups in first-seen order, with LIMIT and OFFSET applied to groups.
 */
export function aggregateRows(q: CompiledQuery, rows: Iterable<Row>): SfValue[][] {
  const groups = new Map<string, { keys: unknown[]; accs: Acc[] }>();
  const aggCols = q.columns.map((c) => (c.kind === 'aggregate' ? c : null));
  for (const row of rows) {
    const keys = q.groupBy.map((g) => g.get(row));
    const k = JSON.stringify(keys);
    let g = groups.get(k);
    if (!g) {
      g = {
        keys,
        accs: aggCols.map(() => ({ count: 0, distinct: new Set(), sum: 0, min: null, max: null })),
      };
      groups.set(k, g);
    }
    aggCols.forEach((c, i) => {
      if (!c) return;
      const acc = g.accs[i]!;
      if (!c.path) {
        acc.count++;
        return;
      }
      const v = c.path.get(row);
      if (v === null || v === undefined) return;
      acc.count++;
      acc.distinct.add(typeof v === 'string' ? v.toLowerCase() : v);
      if (typeof v === 'number') acc.sum += v;
      if (acc.min === null || less(v, acc.min)) acc.min = v;
      if (acc.max === null || less(acc.max, v)) acc.max = v;
    });
  }
  if (groups.size === 0 && q.groupBy.length === 0) {
    groups.set('', {
      keys: [],
      accs: aggCols.map(() => ({ count: 0, distinct: new Set(), sum: 0, min: null, max: null })),
    });
  }
  const out: SfValue[][] = [];
  for (const g of groups.values()) {
    out.push(
      q.columns.map((c, i) => {
        if (c.kind === 'field') {
          const gi = q.groupBy.findIndex((p) => p.path.toLowerCase() === c.path.path.toLowerCase());
          return format(c.path.field.type, g.keys[gi]);
        }
        if (c.kind !== 'aggregate') return null;
        const acc = g.accs[i]!;
        const type = c.path?.field.type ?? 'int';
        switch (c.fn) {
          case 'COUNT':
            return acc.count;
          case 'COUNT_DISTINCT':
            return acc.distinct.size;
          case 'SUM':
            return acc.count ? acc.sum : null;
          case 'AVG':
            return acc.count ? acc.sum / acc.count : null;
          case 'MIN':
            return format(type, acc.min);
          case 'MAX':
            return format(type, acc.max);
        }
        return null;
      }),
    );
  }
  const offset = q.ast.offset ?? 0;
  return out.slice(offset, q.ast.limit === null ? undefined : offset + q.ast.limit);
}

function format(type: string, v: unknown): SfValue {
  if (v === null || v === undefined) return null;
  if (type === 'datetime' && typeof v === 'number') return formatDateTime(v);
  return v as SfValue;
}
