import {
  type BulkRefusal,
  type ParsedQueryInfo,
  type QueryCursor,
  type QueryOptions,
  type QuerySnapshot,
  type RestRecord,
  SalesforceError,
  type SfValue,
} from '../org/api.ts';
import { aggregateRows } from './aggregate.ts';
import type { Condition } from './ast.ts';
import { bulkRefusal } from './bulk.ts';
import { compileQuery, type QueryEnv } from './compile.ts';
import { parseSoql } from './parser.ts';
import { checkQueryRestriction } from './restrictions.ts';
import { outputValue, recordFor } from './records.ts';
import { iterateRows } from './rows.ts';
import { fixedSnapshot, snapshotRows } from './snapshot.ts';

/** Salesforce's ceiling for OFFSET. */
const MAX_OFFSET = 2000;

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
  checkQueryRestriction(q.table.def, ast);
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
