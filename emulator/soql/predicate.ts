import { SalesforceError, type FieldDef } from '../org/api.ts';
import { toId18 } from '../org/ids.ts';
import type { Row } from '../org/store.ts';
import { parseDate, parseDateTime } from '../org/values.ts';
import type { Condition, Literal, Operator } from './ast.ts';
import { dateLiteralRange, toDateBounds } from './date-literals.ts';
import { malformed } from './lexer.ts';
import type { PathValue, ResolvedPath } from './resolve.ts';

/** A compiled WHERE clause. */
export type Predicate = (row: Row) => boolean;

/** What the predicate compiler needs from the query being compiled. */
export interface PredicateContext {
  readonly soql: string;
  readonly now: Date;
  resolve(path: Condition & { kind: 'compare' | 'semijoin' }): ResolvedPath;
  /** Ids selected by a semi-join subquery, computed once. */
  semiJoin(cond: Condition & { kind: 'semijoin' }): () => ReadonlySet<string>;
}

const NUMERIC = new Set(['int', 'long', 'double', 'currency', 'percent']);
const TEXTUAL = new Set([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'combobox',
  'encryptedstring',
  'id',
  'reference',
]);

type Comparable = string | number | boolean;
/** A literal converted to the field's stored form: a value, or a [start, end) range. */
type Operand =
  | { kind: 'value'; value: Comparable | null }
  | { kind: 'range'; start: Comparable; end: Comparable };

function wrongType(
  ctx: PredicateContext,
  lit: Literal,
  field: FieldDef,
  expected: string,
  quoted: boolean,
): never {
  throw malformed(
    ctx.soql,
    lit.pos,
    `value of filter criterion for field '${field.name}' must be of type ${expected} and should ${quoted ? '' : 'not '}be enclosed in quotes`,
    'INVALID_FIELD',
  );
}

function operand(ctx: PredicateContext, field: FieldDef, lit: Literal): Operand {
  if (lit.kind === 'null') return { kind: 'value', value: null };
  const t = field.type;
  if (t === 'id' || t === 'reference') {
    if (lit.kind !== 'string') wrongType(ctx, lit, field, 'id', true);
    const id = toId18(lit.value);
    if (!id)
      throw malformed(ctx.soql, lit.pos, `invalid ID field: ${lit.value}`, 'INVALID_QUERY_FILTER_OPERATOR');
    return { kind: 'value', value: id };
  }
  if (TEXTUAL.has(t)) {
    if (lit.kind !== 'string') wrongType(ctx, lit, field, 'string', true);
    return { kind: 'value', value: lit.value.toLowerCase() };
  }
  if (NUMERIC.has(t)) {
    if (lit.kind !== 'number') wrongType(ctx, lit, field, t === 'int' ? 'int' : 'double', false);
    return { kind: 'value', value: lit.value };
  }
  if (t === 'boolean') {
    if (lit.kind !== 'boolean') wrongType(ctx, lit, field, 'boolean', false);
    return { kind: 'value', value: lit.value };
  }
  if (t === 'date') {
    if (lit.kind === 'dateLiteral') {
      const b = toDateBounds(dateLiteralRange(lit.name, lit.n, ctx.now));
      return { kind: 'range', start: b.start, end: b.end };
    }
    if (lit.kind !== 'date' || parseDate(lit.value) === undefined) wrongType(ctx, lit, field, 'date', false);
    return { kind: 'value', value: lit.value };
  }
  if (t === 'datetime') {
    if (lit.kind === 'dateLiteral') {
      const r = dateLiteralRange(lit.name, lit.n, ctx.now);
      return { kind: 'range', start: r.start, end: r.end };
    }
    const ms = lit.kind === 'datetime' ? parseDateTime(lit.value) : undefined;
    if (ms === undefined) wrongType(ctx, lit, field, 'dateTime', false);
    return { kind: 'value', value: ms };
  }
  if (t === 'time') {
    if (lit.kind !== 'string') wrongType(ctx, lit, field, 'time', true);
    return { kind: 'value', value: lit.value };
  }
  throw malformed(
    ctx.soql,
    lit.pos,
    `field '${field.name}' can not be filtered in a query call`,
    'INVALID_FIELD',
  );
}

function normalize(v: PathValue): Comparable | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.toLowerCase();
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  return null;
}

function likeRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && (pattern[i + 1] === '%' || pattern[i + 1] === '_')) {
      re += pattern[i + 1];
      i++;
    } else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

function compareOp(op: Operator, v: Comparable | null, o: Operand): boolean {
  if (o.kind === 'range') {
    if (v === null) return op === '!=';
    switch (op) {
      case '=':
        return v >= o.start && v < o.end;
      case '!=':
        return v < o.start || v >= o.end;
      case '<':
        return v < o.start;
      case '<=':
        return v < o.end;
      case '>':
        return v >= o.end;
      case '>=':
        return v >= o.start;
      default:
        return false;
    }
  }
  const x = o.value;
  if (op === '=') return v === x;
  if (op === '!=') return v !== x;
  if (v === null || x === null) return false;
  switch (op) {
    case '<':
      return v < x;
    case '<=':
      return v <= x;
    case '>':
      return v > x;
    case '>=':
      return v >= x;
    default:
      return false;
  }
}

/** Compiles a WHERE tree into a row predicate, type-checking literals against fields. */
export function compileCondition(ctx: PredicateContext, cond: Condition): Predicate {
  switch (cond.kind) {
    case 'and': {
      const parts = cond.items.map((c) => compileCondition(ctx, c));
      return (row) => parts.every((p) => p(row));
    }
    case 'or': {
      const parts = cond.items.map((c) => compileCondition(ctx, c));
      return (row) => parts.some((p) => p(row));
    }
    case 'not': {
      const inner = compileCondition(ctx, cond.item);
      return (row) => !inner(row);
    }
    case 'semijoin': {
      const path = ctx.resolve(cond);
      const ids = ctx.semiJoin(cond);
      return (row) => {
        const v = path.get(row);
        const hit = typeof v === 'string' && ids().has(v);
        return cond.negated ? !hit : hit;
      };
    }
    case 'compare':
      return compileCompare(ctx, cond);
  }
}

function compileCompare(ctx: PredicateContext, cond: Condition & { kind: 'compare' }): Predicate {
  const path = ctx.resolve(cond);
  const field = path.field;
  if (!field.filterable && field.type !== 'multipicklist') {
    throw malformed(
      ctx.soql,
      cond.path.pos,
      `field '${field.name}' can not be filtered in a query call`,
      'INVALID_FIELD',
    );
  }
  // Ids are stored in their canonical 18-character form and compare by their characters
  // (`WHERE Id > :last` paging); other text compares case-insensitively.
  const isId = field.type === 'id' || field.type === 'reference';
  const get = isId
    ? (row: Row) => path.get(row) as Comparable | null
    : (row: Row) => normalize(path.get(row));
  const lits = Array.isArray(cond.value) ? (cond.value as Literal[]) : [cond.value as Literal];
  const op = cond.op;
  if (op === 'LIKE') {
    const lit = lits[0]!;
    if (lit.kind !== 'string') wrongType(ctx, lit, field, 'string', true);
    const re = likeRegex(lit.value);
    return (row) => {
      const v = path.get(row);
      return typeof v === 'string' && re.test(v);
    };
  }
  if (op === 'INCLUDES' || op === 'EXCLUDES') {
    if (field.type !== 'multipicklist') {
      throw malformed(
        ctx.soql,
        cond.path.pos,
        `${op} can only be used on multi-select picklist fields`,
        'INVALID_FIELD',
      );
    }
    const sets = lits.map((l) => {
      if (l.kind !== 'string') wrongType(ctx, l, field, 'string', true);
      return l.value.toLowerCase().split(';');
    });
    return (row) => {
      const v = get(row);
      const have = typeof v === 'string' ? new Set(v.split(';')) : new Set<string>();
      const any = sets.some((s) => s.every((x) => have.has(x)));
      return op === 'INCLUDES' ? any : !any;
    };
  }
  const operands = lits.map((l) => operand(ctx, field, l));
  if (op === 'IN' || op === 'NOT IN') {
    const values = new Set(operands.map((o) => (o.kind === 'value' ? o.value : null)));
    return (row) => {
      const hit = values.has(get(row));
      return op === 'IN' ? hit : !hit;
    };
  }
  if (operands[0]?.kind === 'value' && operands[0].value !== null && typeof operands[0].value === 'boolean') {
    if (op !== '=' && op !== '!=') {
      throw new SalesforceError(
        'INVALID_QUERY_FILTER_OPERATOR',
        `invalid operator on boolean field: ${field.name}`,
      );
    }
  }
  const o = operands[0]!;
  return (row) => compareOp(op, get(row), o);
}
