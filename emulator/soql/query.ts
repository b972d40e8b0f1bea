import {
  type BulkRefusal,
  type ParsedQueryInfo,
  type QueryColumn,
  type QueryCursor,
  type QueryOptions,
  type QuerySnapshot,
  type RestRecord,
  SalesforceError,
  type SfValue,
} from '../org/api.ts';
import type { OrgStore, Row, Table } from '../org/store.ts';
import type { AggregateFn, Condition, PathRef, Query, SelectItem } from './ast.ts';
import { aggregateRows } from './aggregate.ts';
import { bulkRefusal } from './bulk.ts';
import { malformed } from './lexer.ts';
import { parseSoql } from './parser.ts';
import { compileCondition, type Predicate } from './predicate.ts';
import { outputValue, recordFor } from './records.ts';
import { resolvePath, type ResolvedPath } from './resolve.ts';
import { fixedSnapshot, snapshotRows } from './snapshot.ts';

/** Compiled select column: a path, an aggregate, or a child subquery. */
export type CompiledColumn =
  | { kind: 'field'; column: QueryColumn; path: ResolvedPath }
  | { kind: 'aggregate'; column: QueryColumn; fn: AggregateFn; path: ResolvedPath | null }
  | { kind: 'subquery'; relationshipName: string; child: CompiledQuery; childSlot: number };

/** A query compiled against the schema: predicate, columns, ordering, paging. */
export interface CompiledQuery {
  readonly soql: string;
  readonly ast: Query;
  readonly table: Table;
  readonly columns: CompiledColumn[];
  readonly predicate: Predicate | null;
  readonly order: Array<{ path: ResolvedPath; descending: boolean; nullsLast: boolean }>;
  readonly groupBy: ResolvedPath[];
  readonly countOnly: boolean;
  readonly hasAggregates: boolean;
}

/** What the compiler needs from the org. */
export interface QueryEnv {
  readonly store: OrgStore;
  now(): Date;
}

/** Salesforce's ceiling for OFFSET. */
const MAX_OFFSET = 2000;

function notSupportedType(name: string): SalesforceError {
  return new SalesforceError(
    'INVALID_TYPE',
    `sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
  );
}

function expandFields(table: Table, which: 'ALL' | 'STANDARD' | 'CUSTOM'): PathRef[] {
  return table.def.fields
    .filter((f) => (which === 'ALL' ? true : which === 'CUSTOM' ? f.custom : !f.custom))
    .map((f) => ({ parts: [f.name], pos: 0 }));
}

/** Compiles a parsed query against the schema (`INVALID_TYPE`, `INVALID_FIELD`, `MALFORMED_QUERY`). */
export function compileQuery(
  env: QueryEnv,
  soql: string,
  ast: Query,
  includeDeleted: boolean,
): CompiledQuery {
  const found = env.store.find(ast.from.name);
  if (!found?.def.queryable) {
    throw malformed(soql, ast.from.pos, notSupportedType(ast.from.name).message, 'INVALID_TYPE');
  }
  const table: Table = found;
  const alias = ast.from.alias;
  const resolve = (ref: PathRef) => resolvePath(env.store, soql, table, alias, ref);
  const columns: CompiledColumn[] = [];
  let exprIndex = 0;
  const seen = new Set<string>();
  for (const item of ast.select) compileItem(item);

  function compileItem(item: SelectItem): void {
    switch (item.kind) {
      case 'field': {
        const path = resolve(item.path);
        if (seen.has(path.path.toLowerCase())) {
          throw malformed(soql, item.path.pos, `duplicate field selected: ${path.path}`);
        }
        seen.add(path.path.toLowerCase());
        columns.push({ kind: 'field', path, column: fieldColumn(path) });
        return;
      }
      case 'fields': {
        if (item.which !== 'STANDARD' && (ast.limit === null || ast.limit > 200)) {
          throw malformed(soql, item.pos, 'The SOQL FIELDS function must have a LIMIT of at most 200');
        }
        for (const ref of expandFields(table, item.which)) {
          if (!seen.has(ref.parts[0]!.toLowerCase())) compileItem({ kind: 'field', path: ref });
        }
        return;
      }
      case 'aggregate': {
        const path = item.arg ? resolve(item.arg) : null;
        const label = item.alias ?? (item.fn === 'COUNT' && !item.arg ? 'expr0' : `expr${exprIndex++}`);
        columns.push({
          kind: 'aggregate',
          fn: item.fn,
          path,
          column: {
            path: path ? `${item.fn}(${path.path})` : 'COUNT()',
            label,
            field: path?.field ?? null,
            objectName: table.def.name,
            relationships: [],
            aggregate: true,
          },
        });
        return;
      }
      case 'subquery': {
        const relName = item.query.from.name.toLowerCase();
        const rel = env.store
          .childRelationships(table.def.name)
          .find((r) => r.relationshipName?.toLowerCase() === relName);
        const childTable = rel ? env.store.find(rel.childSObject) : undefined;
        if (!rel || !childTable) {
          throw malformed(
            soql,
            item.query.from.pos,
            `Didn't understand relationship '${item.query.from.name}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
            'INVALID_TYPE',
          );
        }
        const childAst = { ...item.query, from: { ...item.query.from, name: childTable.def.name } };
        columns.push({
          kind: 'subquery',
          relationshipName: rel.relationshipName!,
          child: compileQuery(env, soql, childAst, includeDeleted),
          childSlot: childTable.slotOf(rel.field),
        });
        return;
      }
      case 'typeof':
        throw malformed(
          soql,
          item.pos,
          'TYPEOF is not supported by this org; select the polymorphic fields directly',
        );
    }
  }

  const now = env.now();
  const predicate = ast.where
    ? compileCondition(
        {
          soql,
          now,
          resolve: (c) => resolve(c.path),
          semiJoin: (c) => {
            const inner = compileQuery(env, soql, c.query, false);
            const col = inner.columns[0];
            if (inner.columns.length !== 1 || col?.kind !== 'field') {
              throw malformed(soql, c.query.from.pos, 'a semi join subquery must select exactly one field');
            }
            let cache: Set<string> | undefined;
            return () => {
              if (!cache) {
                cache = new Set();
                for (const row of iterateRows(inner, false)) {
                  const v = col.path.get(row);
                  if (typeof v === 'string') cache.add(v);
                }
              }
              return cache;
            };
          },
        },
        ast.where,
      )
    : null;
  const order = ast.orderBy.map((o) => {
    const path = resolve(o.path);
    if (!path.field.sortable && path.field.type !== 'id') {
      throw malformed(
        soql,
        o.path.pos,
        `field '${path.field.name}' can not be sorted in a query call`,
        'INVALID_FIELD',
      );
    }
    return { path, descending: o.descending, nullsLast: o.nullsLast };
  });
  const groupBy = ast.groupBy.map(resolve);
  const aggregates = columns.filter((c) => c.kind === 'aggregate');
  const countOnly =
    columns.length === 1 &&
    aggregates.length === 1 &&
    ast.select[0]?.kind === 'aggregate' &&
    !ast.select[0].arg &&
    !ast.select[0].alias;
  const hasAggregates = aggregates.length > 0 || groupBy.length > 0;
  if (hasAggregates && !countOnly) {
    const grouped = new Set(groupBy.map((g) => g.path.toLowerCase()));
    for (const c of columns) {
      if (c.kind === 'field' && !grouped.has(c.path.path.toLowerCase())) {
        throw malformed(soql, 0, `Field must be grouped or aggregated: ${c.path.path}`);
      }
    }
  }
  return { soql, ast, table, columns, predicate, order, groupBy, countOnly, hasAggregates };
}

function fieldColumn(path: ResolvedPath): QueryColumn {
  return {
    path: path.path,
    label: path.path,
    field: path.field,
    objectName: path.table.def.name,
    relationships: path.hops.map((h) => h.relationshipName),
    aggregate: false,
  };
}

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

/** Parses, checks and prepares a lazily evaluated query over the org. */
export function runQuery(env: QueryEnv, soql: string, options: QueryOptions = {}): QueryCursor {
  const ast = parseSoql(soql);
  if (options.bulk && ast.select.some((s) => s.kind === 'typeof')) {
    throw new SalesforceError('FUNCTIONALITY_NOT_ENABLED', 'TYPEOF is not supported in Bulk Query');
  }
  const includeDeleted = options.includeDeleted ?? false;
  const q = compileQuery(env, soql, ast, includeDeleted);
  const refusal: BulkRefusal | null = bulkRefusal(q);
  if (options.bulk && refusal) throw new SalesforceError(refusal.errorCode, refusal.message);
  if ((ast.offset ?? 0) > MAX_OFFSET) {
    throw new SalesforceError('NUMBER_OUTSIDE_VALID_RANGE', `Maximum SOQL offset allowed is ${MAX_OFFSET}`);
  }
  const apiVersion = options.apiVersion ?? '62.0';
  const info: ParsedQueryInfo = {
    objectName: q.table.def.name,
    countOnly: q.countOnly,
    hasAggregates: q.hasAggregates,
    limit: ast.limit,
    offset: ast.offset,
    bulkRefusal: refusal,
  };
  const columns = q.columns.flatMap((c) => (c.kind === 'subquery' ? [] : [c.column]));
  const aggregated = () =>
    aggregateRows(q, iterateRows({ ...q, ast: { ...ast, limit: null, offset: null } }, includeDeleted));
  return {
    info,
    columns,
    totalSize() {
      if (q.hasAggregates && !q.countOnly) return aggregated().length;
      let n = 0;
      for (const _ of iterateRows(q, includeDeleted)) n++;
      return n;
    },
    *records(): Generator<RestRecord> {
      if (q.countOnly) return;
      if (q.hasAggregates) {
        for (const values of aggregated()) {
          const rec: RestRecord = { attributes: { type: 'AggregateResult' } };
          q.columns.forEach((c, i) => {
            if (c.kind === 'field') rec[c.path.field.name] = values[i];
            else if (c.kind === 'aggregate') rec[c.column.label] = values[i];
          });
          yield rec;
        }
        return;
      }
      for (const row of iterateRows(q, includeDeleted)) yield recordFor(q, row, apiVersion, includeDeleted);
    },
    *rows(): Generator<SfValue[]> {
      if (q.countOnly) return;
      if (q.hasAggregates) {
        yield* aggregated() as SfValue[][];
        return;
      }
      const cols = q.columns.filter((c) => c.kind === 'field');
      for (const row of iterateRows(q, includeDeleted)) {
        yield cols.map((c) => outputValue(c.path, row, apiVersion));
      }
    },
    snapshot(): QuerySnapshot {
      if (q.countOnly) return fixedSnapshot(columns, [], this.totalSize());
      if (q.hasAggregates) return fixedSnapshot(columns, aggregated() as SfValue[][]);
      return snapshotRows(q, includeDeleted, apiVersion, columns);
    },
  };
}

/** Exposed for callers that only need to check a WHERE clause shape. */
export type { Condition };
