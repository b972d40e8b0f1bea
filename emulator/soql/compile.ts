import { type QueryColumn, SalesforceError } from '../org/api.ts';
import type { OrgStore, Table } from '../org/store.ts';
import type { PathRef, Query, SelectItem } from './ast.ts';
import type { CompiledColumn, CompiledQuery } from './compiled-query.ts';
import { malformed } from './lexer.ts';
import { compileCondition } from './predicate.ts';
import { resolvePath, type ResolvedPath } from './resolve.ts';
import { iterateRows } from './rows.ts';

/** What the compiler needs from the org. */
export interface QueryEnv {
  readonly store: OrgStore;
  now(): Date;
}

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
  if (!found) {
    throw malformed(soql, ast.from.pos, notSupportedType(ast.from.name).message, 'INVALID_TYPE');
  }
  if (!found.def.queryable) {
    throw malformed(
      soql,
      ast.from.pos,
      `entity type ${found.def.name} does not support query`,
      'INVALID_TYPE_FOR_OPERATION',
    );
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
