import type { AggregateFn, Condition, Literal, OrderItem, PathRef, Query, SelectItem } from './ast.ts';
import { malformed, type Token, tokenize } from './lexer.ts';

const AGGREGATES = new Set(['COUNT', 'COUNT_DISTINCT', 'MIN', 'MAX', 'SUM', 'AVG']);
const CLAUSE_WORDS = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'ORDER',
  'LIMIT',
  'OFFSET',
  'WITH',
  'USING',
  'FOR',
  'HAVING',
]);
const DATE_LITERALS = new Set([
  'YESTERDAY',
  'TODAY',
  'TOMORROW',
  'LAST_WEEK',
  'THIS_WEEK',
  'NEXT_WEEK',
  'LAST_MONTH',
  'THIS_MONTH',
  'NEXT_MONTH',
  'LAST_90_DAYS',
  'NEXT_90_DAYS',
  'THIS_QUARTER',
  'LAST_QUARTER',
  'NEXT_QUARTER',
  'THIS_YEAR',
  'LAST_YEAR',
  'NEXT_YEAR',
]);
const DATE_LITERALS_N = new Set([
  'LAST_N_DAYS',
  'NEXT_N_DAYS',
  'N_DAYS_AGO',
  'LAST_N_WEEKS',
  'NEXT_N_WEEKS',
  'N_WEEKS_AGO',
  'LAST_N_MONTHS',
  'NEXT_N_MONTHS',
  'N_MONTHS_AGO',
  'LAST_N_QUARTERS',
  'NEXT_N_QUARTERS',
  'LAST_N_YEARS',
  'NEXT_N_YEARS',
  'N_YEARS_AGO',
]);

/** Recursive-descent SOQL parser producing the AST in `ast.ts`. */
class Parser {
  private i = 0;

  constructor(
    private readonly soql: string,
    private readonly tokens: Token[],
  ) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && t.text.toUpperCase() === word;
  }

  private isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }

  private fail(t: Token, reason?: string): never {
    throw malformed(
      this.soql,
      t.pos,
      reason ?? (t.kind === 'eof' ? 'unexpected end of query' : `unexpected token: ${t.text}`),
    );
  }

  private expectWord(word: string): Token {
    if (!this.isWord(word))
      this.fail(this.peek(), `expecting ${word}, found: ${this.peek().text || 'end of query'}`);
    return this.next();
  }

  private expectPunct(p: string): Token {
    if (!this.isPunct(p)) this.fail(this.peek(), `expecting '${p}', found '${this.peek().text}'`);
    return this.next();
  }

  private ident(): Token {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(t);
    return this.next();
  }

  private path(): PathRef {
    const first = this.ident();
    const parts = [first.text];
    while (this.isPunct('.')) {
      this.next();
      parts.push(this.ident().text);
    }
    return { parts, pos: first.pos };
  }

  parseQuery(nested: boolean): Query {
    this.expectWord('SELECT');
    const select = this.selectList();
    this.expectWord('FROM');
    const fromName = this.ident();
    let alias: string | null = null;
    if (this.peek().kind === 'ident' && !CLAUSE_WORDS.has(this.peek().text.toUpperCase()))
      alias = this.next().text;
    let where: Condition | null = null;
    const groupBy: PathRef[] = [];
    const orderBy: OrderItem[] = [];
    let limit: number | null = null;
    let offset: number | null = null;
    if (this.isWord('USING')) {
      this.next();
      this.expectWord('SCOPE');
      this.ident();
    }
    if (this.isWord('WHERE')) {
      this.next();
      where = this.orExpr();
    }
    if (this.isWord('WITH')) {
      this.next();
      this.ident();
    }
    if (this.isWord('GROUP')) {
      this.next();
      this.expectWord('BY');
      do groupBy.push(this.path());
      while (this.isPunct(',') && this.next());
    }
    if (this.isWord('HAVING')) this.fail(this.peek(), 'HAVING is not supported');
    if (this.isWord('ORDER')) {
      this.next();
      this.expectWord('BY');
      do orderBy.push(this.orderItem());
      while (this.isPunct(',') && this.next());
    }
    if (this.isWord('LIMIT')) {
      this.next();
      limit = this.integer();
    }
    if (this.isWord('OFFSET')) {
      this.next();
      offset = this.integer();
    }
    if (this.isWord('FOR')) {
      this.next();
      this.ident();
    }
    if (this.isWord('ALL')) {
      this.next();
      this.expectWord('ROWS');
    }
    const end = this.peek();
    if (nested ? !this.isPunct(')') : end.kind !== 'eof') this.fail(end);
    return {
      select,
      from: { name: fromName.text, alias, pos: fromName.pos },
      where,
      groupBy,
      orderBy,
      limit,
      offset,
    };
  }

  private integer(): number {
    const t = this.next();
    if (t.kind !== 'number' || !/^\d+$/.test(t.text)) this.fail(t);
    return Number(t.text);
  }

  private orderItem(): OrderItem {
    const path = this.path();
    let descending = false;
    if (this.isWord('ASC')) this.next();
    else if (this.isWord('DESC')) {
      this.next();
      descending = true;
    }
    let nullsLast = descending;
    if (this.isWord('NULLS')) {
      this.next();
      if (this.isWord('FIRST')) nullsLast = false;
      else if (this.isWord('LAST')) nullsLast = true;
      else this.fail(this.peek());
      this.next();
    }
    return { path, descending, nullsLast };
  }

  private selectList(): SelectItem[] {
    const items: SelectItem[] = [];
    do items.push(this.selectItem());
    while (this.isPunct(',') && this.next());
    return items;
  }

  private selectItem(): SelectItem {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      const query = this.parseQuery(true);
      this.expectPunct(')');
      return { kind: 'subquery', query, pos: t.pos };
    }
    if (t.kind !== 'ident') this.fail(t);
    const upper = t.text.toUpperCase();
    if (upper === 'TYPEOF') {
      this.next();
      while (!this.isWord('END') && this.peek().kind !== 'eof') this.next();
      this.expectWord('END');
      return { kind: 'typeof', pos: t.pos };
    }
    if (this.peek(1).kind === 'punct' && this.peek(1).text === '(') {
      if (upper === 'FIELDS') {
        this.next();
        this.next();
        const which = this.ident().text.toUpperCase();
        if (which !== 'ALL' && which !== 'STANDARD' && which !== 'CUSTOM') this.fail(this.peek(-1));
        this.expectPunct(')');
        return { kind: 'fields', which, pos: t.pos };
      }
      if (!AGGREGATES.has(upper)) this.fail(t, `Unknown function: ${t.text}`);
      this.next();
      this.next();
      const arg = this.isPunct(')') ? null : this.path();
      this.expectPunct(')');
      if (arg === null && upper !== 'COUNT') this.fail(this.peek(-1));
      let alias: string | null = null;
      if (this.peek().kind === 'ident' && !CLAUSE_WORDS.has(this.peek().text.toUpperCase()))
        alias = this.next().text;
      return { kind: 'aggregate', fn: upper as AggregateFn, arg, alias, pos: t.pos };
    }
    return { kind: 'field', path: this.path() };
  }

  private orExpr(): Condition {
    const items = [this.andExpr()];
    while (this.isWord('OR')) {
      this.next();
      items.push(this.andExpr());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private andExpr(): Condition {
    const items = [this.notExpr()];
    while (this.isWord('AND')) {
      this.next();
      items.push(this.notExpr());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private notExpr(): Condition {
    if (this.isWord('NOT')) {
      this.next();
      return { kind: 'not', item: this.notExpr() };
    }
    if (this.isPunct('(')) {
      this.next();
      const inner = this.orExpr();
      this.expectPunct(')');
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const path = this.path();
    const t = this.peek();
    if (t.kind === 'op') {
      this.next();
      return { kind: 'compare', path, op: t.value as '=', value: this.literal() };
    }
    if (t.kind !== 'ident') this.fail(t);
    const word = t.text.toUpperCase();
    if (word === 'LIKE') {
      this.next();
      return { kind: 'compare', path, op: 'LIKE', value: this.literal() };
    }
    let negated = false;
    if (word === 'NOT' && this.isWord('IN', 1)) {
      this.next();
      negated = true;
    }
    if (this.isWord('IN') || word === 'INCLUDES' || word === 'EXCLUDES') {
      const opTok = this.next();
      this.expectPunct('(');
      if (this.isWord('SELECT') && opTok.text.toUpperCase() === 'IN') {
        const query = this.parseQuery(true);
        this.expectPunct(')');
        return { kind: 'semijoin', path, negated, query };
      }
      const values: Literal[] = [];
      do values.push(this.literal());
      while (this.isPunct(',') && this.next());
      this.expectPunct(')');
      const op = negated ? 'NOT IN' : (opTok.text.toUpperCase() as 'IN' | 'INCLUDES' | 'EXCLUDES');
      return { kind: 'compare', path, op, value: values };
    }
    this.fail(t);
  }

  private literal(): Literal {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return { kind: 'string', value: t.value, pos: t.pos };
      case 'number':
        return { kind: 'number', value: Number(t.text), pos: t.pos };
      case 'date':
        return { kind: 'date', value: t.value, pos: t.pos };
      case 'datetime':
        return { kind: 'datetime', value: t.value, pos: t.pos };
      case 'ident': {
        const upper = t.text.toUpperCase();
        if (upper === 'NULL') return { kind: 'null', pos: t.pos };
        if (upper === 'TRUE' || upper === 'FALSE')
          return { kind: 'boolean', value: upper === 'TRUE', pos: t.pos };
        if (DATE_LITERALS.has(upper)) return { kind: 'dateLiteral', name: upper, n: null, pos: t.pos };
        if (DATE_LITERALS_N.has(upper)) {
          this.expectPunct(':');
          return { kind: 'dateLiteral', name: upper, n: this.integer(), pos: t.pos };
        }
        return this.fail(t);
      }
      default:
        return this.fail(t);
    }
  }
}

/** Parses SOQL text into an AST; `MALFORMED_QUERY` with Salesforce's position format on bad syntax. */
export function parseSoql(soql: string): Query {
  return new Parser(soql, tokenize(soql)).parseQuery(false);
}
