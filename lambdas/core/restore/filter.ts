import type { RowCondition } from './input.ts';
import type { Row } from './model.ts';
import { comparable, idKey } from './values.ts';

/** True when a snapshot row meets every condition (types decide how values compare). */
export function matchesAll(
  row: Row,
  conditions: readonly RowCondition[],
  types: ReadonlyMap<string, string>,
): boolean {
  return conditions.every((c) => matches(row, c, types.get(c.field) ?? 'string'));
}

function matches(row: Row, c: RowCondition, type: string): boolean {
  const actual = comparable(type, row[c.field]);
  const expected = (v: unknown): string => comparable(type, v === null || v === undefined ? null : String(v));
  switch (c.op) {
    case 'isNull':
      return actual === '';
    case 'isNotNull':
      return actual !== '';
    case 'equals':
      return actual === expected(c.value);
    case 'notEquals':
      return actual !== expected(c.value);
    case 'in':
      return Array.isArray(c.value) && c.value.some((v) => actual === expected(v));
    case 'contains':
      return actual.toLowerCase().includes(String(c.value).toLowerCase());
    case 'startsWith':
      return actual.toLowerCase().startsWith(String(c.value).toLowerCase());
    case 'greaterThan':
    case 'lessThan': {
      if (actual === '') return false;
      const a = Number(actual);
      const b = Number(expected(c.value));
      const numeric = !Number.isNaN(a) && !Number.isNaN(b);
      const cmp = numeric ? a - b : actual.localeCompare(expected(c.value));
      return c.op === 'greaterThan' ? cmp > 0 : cmp < 0;
    }
  }
}

/** True when a row's id is one of the listed ids (15 or 18 characters). */
export function idIn(row: Row, ids: ReadonlySet<string>): boolean {
  return row.Id !== null && row.Id !== undefined && ids.has(idKey(row.Id));
}
