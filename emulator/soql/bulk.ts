import type { BulkRefusal } from '../org/api.ts';
import type { CompiledQuery } from './compiled-query.ts';

const refuse = (errorCode: string, message: string): BulkRefusal => ({ errorCode, message });

/**
 * What Bulk API 2.0 refuses about a query, with the error it answers: objects it does not
 * support, aggregates, GROUP BY, OFFSET, TYPEOF, FIELDS(), parent-to-child subqueries, compound
 * and base64 fields. Null when Bulk accepts the query.
 */
export function bulkRefusal(q: CompiledQuery): BulkRefusal | null {
  const def = q.table.def;
  if (!def.bulkQueryable)
    return refuse('INVALIDENTITY', `Entity '${def.name}' is not supported by the Bulk API.`);
  const select = q.ast.select;
  if (select.some((s) => s.kind === 'fields')) {
    return refuse('API_ERROR', 'FIELDS() is not supported by Bulk API 2.0 queries; list the fields instead');
  }
  if (select.some((s) => s.kind === 'subquery')) {
    return refuse('FUNCTIONALITY_NOT_ENABLED', 'Aggregate Relationships not supported in Bulk Query');
  }
  if (q.hasAggregates) {
    return refuse('FUNCTIONALITY_NOT_ENABLED', 'Aggregate queries are not supported in Bulk Query');
  }
  if (q.ast.offset !== null)
    return refuse('FUNCTIONALITY_NOT_ENABLED', 'OFFSET is not supported in Bulk Query');
  for (const c of q.columns) {
    if (c.kind !== 'field') continue;
    const t = c.path.field.type;
    if (t === 'address' || t === 'location') {
      return refuse('FUNCTIONALITY_NOT_ENABLED', 'Selecting compound data not supported in Bulk Query');
    }
    if (t === 'base64') {
      return refuse('FEATURENOTENABLED', 'Binary field not supported');
    }
  }
  return null;
}
