import type { RestRecord, SfValue } from '../org/api.ts';
import type { Row, Table } from '../org/store.ts';
import { formatDateTime } from '../org/values.ts';
import type { CompiledQuery } from './compiled-query.ts';
import { iterateRows } from './rows.ts';
import type { ResolvedPath } from './resolve.ts';

/** REST path of a row. */
export function sobjectUrl(apiVersion: string, type: string, id: string): string {
  return `/services/data/v${apiVersion}/sobjects/${type}/${id}`;
}

function rowId(table: Table, row: Row): string {
  return row[table.idSlot] as string;
}

/** A path's value as the APIs print it: datetimes formatted, blobs as their REST path. */
export function outputValue(path: ResolvedPath, row: Row, apiVersion: string, root?: Table): SfValue {
  const v = path.get(row);
  if (v === null || v === undefined) return null;
  if (path.field.type === 'datetime' && typeof v === 'number') return formatDateTime(v);
  if (v instanceof Uint8Array) {
    const parents = path.parents(row);
    const end = parents[parents.length - 1];
    const table = end ? end.table : (root ?? path.table);
    const id = end ? end.id : rowId(table, row);
    return `${sobjectUrl(apiVersion, table.def.name, id)}/${path.field.name}`;
  }
  return v as SfValue;
}

/** One row in REST shape: attributes, then fields; parent paths nest; subqueries embed. */
export function recordFor(
  q: CompiledQuery,
  row: Row,
  apiVersion: string,
  includeDeleted: boolean,
): RestRecord {
  const table = q.table;
  const rec: RestRecord = {
    attributes: { type: table.def.name, url: sobjectUrl(apiVersion, table.def.name, rowId(table, row)) },
  };
  for (const c of q.columns) {
    if (c.kind === 'aggregate') continue;
    if (c.kind === 'subquery') {
      const parentId = rowId(table, row);
      const children = [
        ...iterateRows(c.child, includeDeleted, (child) => child[c.childSlot] === parentId),
      ].map((child) => recordFor(c.child, child, apiVersion, includeDeleted));
      rec[c.relationshipName] = children.length
        ? { totalSize: children.length, done: true, records: children }
        : null;
      continue;
    }
    const path = c.path;
    if (path.hops.length === 0) {
      rec[path.field.name] = outputValue(path, row, apiVersion, table);
      continue;
    }
    const parents = path.parents(row);
    let target: RestRecord = rec;
    let broken = false;
    for (let i = 0; i < path.hops.length; i++) {
      const name = path.hops[i]!.relationshipName;
      const parent = parents[i];
      const existing = target[name];
      if (!parent) {
        if (existing === undefined) target[name] = null;
        broken = true;
        break;
      }
      if (existing === undefined || existing === null) {
        target[name] = {
          attributes: {
            type: parent.table.def.name,
            url: sobjectUrl(apiVersion, parent.table.def.name, parent.id),
          },
        };
      }
      target = target[name] as RestRecord;
    }
    if (!broken) target[path.field.name] = outputValue(path, row, apiVersion, table);
  }
  return rec;
}
