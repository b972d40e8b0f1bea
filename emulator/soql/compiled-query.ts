import type { QueryColumn } from '../org/api.ts';
import type { Table } from '../org/store.ts';
import type { AggregateFn, Query } from './ast.ts';
import type { Predicate } from './predicate.ts';
import type { ResolvedPath } from './resolve.ts';

// The compiled query's shape lives apart from the compiler and from runQuery, so the modules that
// read a compiled query (rows, records, snapshot, aggregate, bulk) never import the ones that use them.

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
