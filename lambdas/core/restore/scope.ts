import { matchesAll, idIn } from './filter.ts';
import type { RestoreRequest } from './input.ts';
import type { Row, SnapshotView } from './model.ts';
import { idKey } from './values.ts';

/** How many generations of children `includeChildren` follows. */
const MAX_CHILD_DEPTH = 5;

/** Objects never taken in as children: files come back through the files step, and the rest Salesforce writes itself. */
const NOT_CHILDREN = new Set([
  'ContentDocumentLink',
  'ContentVersion',
  'ContentDocument',
  'Attachment',
  'Document',
]);
const SYSTEM_SUFFIXES = ['History', 'Share', 'Feed', 'ChangeEvent', '__mdt', '__e'];

/** True when `includeChildren` may take in rows of this object. */
export function canBeChild(object: string): boolean {
  return !NOT_CHILDREN.has(object) && !SYSTEM_SUFFIXES.some((s) => object.endsWith(s));
}

/** The snapshot rows a restore covers, per object, keyed by 15-character id. */
export type Scope = Map<string, Map<string, Row>>;

/**
 * Selects the snapshot rows the request covers: the listed objects' rows, narrowed by ids or a
 * filter, plus with `includeChildren` every row of another object that points at a selected row
 * (children's children too), since a deleted parent took their lookups with it.
 */
export async function selectScope(request: RestoreRequest, snapshot: SnapshotView): Promise<Scope> {
  const scope: Scope = new Map();
  const ids = request.recordIds ? new Set(request.recordIds.map(idKey)) : undefined;
  for (const object of request.objects) {
    const types = new Map((snapshot.fields(object) ?? []).map((f) => [f.name, f.type]));
    const rows = new Map<string, Row>();
    for await (const row of snapshot.rows(object)) {
      if (!row.Id) continue;
      if (ids && !idIn(row, ids)) continue;
      if (request.where && !matchesAll(row, request.where, types)) continue;
      rows.set(idKey(row.Id), row);
    }
    scope.set(object, rows);
  }
  if (!request.includeChildren) return scope;
  let frontier = new Set(request.objects);
  for (let depth = 0; depth < MAX_CHILD_DEPTH && frontier.size > 0; depth++) {
    const next = new Set<string>();
    for (const child of snapshot.objects()) {
      if (!canBeChild(child)) continue;
      const refFields = (snapshot.fields(child) ?? []).filter(
        (f) => f.type === 'reference' && f.referenceTo.some((t) => frontier.has(t)),
      );
      if (refFields.length === 0) continue;
      const selected = new Set<string>();
      for (const t of frontier) for (const id of scope.get(t)?.keys() ?? []) selected.add(id);
      const rows = scope.get(child) ?? new Map<string, Row>();
      const before = rows.size;
      for await (const row of snapshot.rows(child)) {
        if (!row.Id || rows.has(idKey(row.Id))) continue;
        if (refFields.some((f) => row[f.name] && selected.has(idKey(row[f.name] as string)))) {
          rows.set(idKey(row.Id), row);
        }
      }
      if (rows.size > 0) scope.set(child, rows);
      if (rows.size > before) next.add(child);
    }
    frontier = next;
  }
  return scope;
}
