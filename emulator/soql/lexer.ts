import { SalesforceError } from '../org/api.ts';

/** Kinds of SOQL tokens. */
export type TokenKind = 'ident' | 'string' | 'number' | 'date' | 'datetime' | 'op' | 'punct' | 'eof';

/** One token with its offset in the query text (for error positions). */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Decoded value of string literals; the text otherwise. */
  readonly value: string;
  readonly pos: number;
}

const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}(?![\dT])/;
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*/;
const ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '%': '\\%',
  _: '\\_',
};

/**
 * Salesforce's MALFORMED_QUERY text: the query, a caret under the problem, then the position and
 * reason, e.g. `ERROR at Row:1:Column:24\nunexpected token: WHER`.
 */
export function malformed(
  soql: string,
  pos: number,
  reason: string,
  code = 'MALFORMED_QUERY',
): SalesforceError {
  const before = soql.slice(0, pos);
  const row = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  const line = soql.split('\n')[row - 1] ?? '';
  const caret = `${' '.repeat(Math.max(0, column - 1))}^`;
  return new SalesforceError(code, `\n${line}\n${caret}\nERROR at Row:${row}:Column:${column}\n${reason}`);
}

/** Splits SOQL into tokens; LIKE wildcards stay escaped (`\%`, `\_`) for the matcher. */
export function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const c = soql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = soql.slice(i);
    if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        const d = soql[j];
        if (d === undefined) throw malformed(soql, i, `unexpected token: '${soql.slice(i, i + 20)}'`);
        if (d === "'") break;
        if (d === '\\') {
          const e = soql[j + 1] ?? '';
          const decoded = ESCAPES[e];
          if (decoded === undefined)
            throw malformed(soql, j, `Invalid string literal: unknown escape \\${e}`);
          value += decoded;
          j += 2;
          continue;
        }
        value += d;
        j++;
      }
      tokens.push({ kind: 'string', text: soql.slice(i, j + 1), value, pos: i });
      i = j + 1;
      continue;
    }
    const dt = DATETIME_RE.exec(rest);
    if (dt) {
      tokens.push({ kind: 'datetime', text: dt[0], value: dt[0], pos: i });
      i += dt[0].length;
      continue;
    }
    const d = DATE_RE.exec(rest);
    if (d) {
      tokens.push({ kind: 'date', text: d[0], value: d[0], pos: i });
      i += d[0].length;
      continue;
    }
    const prev = tokens[tokens.length - 1];
    const signAllowed =
      !prev || prev.kind === 'op' || prev.text === '(' || prev.text === ',' || prev.text === ':';
    const num = NUMBER_RE.exec(rest);
    if (num && (/[\d.]/.test(c) || signAllowed)) {
      tokens.push({ kind: 'number', text: num[0], value: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const id = IDENT_RE.exec(rest);
    if (id) {
      tokens.push({ kind: 'ident', text: id[0], value: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const op = /^(!=|<>|<=|>=|=|<|>)/.exec(rest);
    if (op) {
      tokens.push({ kind: 'op', text: op[0], value: op[0] === '<>' ? '!=' : op[0], pos: i });
      i += op[0].length;
      continue;
    }
    if ('(),.:'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, value: c, pos: i });
      i++;
      continue;
    }
    throw malformed(soql, i, `unexpected token: '${c}'`);
  }
  tokens.push({ kind: 'eof', text: '', value: '', pos: soql.length });
  return tokens;
}
