import { SalesforceError, type WriteResult } from './api.ts';
import type { OrgContext } from './context.ts';
import { type DeleteLog, RETENTION_MS } from './delete-log.ts';
import { toId18 } from './ids.ts';
import { refusedDelete } from './object-hooks.ts';
import type { Row, Table } from './store.ts';

/** What deleting one row did, so undelete can put it all back. */
interface RecycleEntry {
  /** Rows deleted because they were master-detail (or cascade) children. */
  readonly cascaded: string[];
  /** Lookups cleared on surviving children: [child id, slot, parent id]. */
  readonly cleared: Array<[string, number, string]>;
}

function ok(id: string): WriteResult {
  return { id, success: true, errors: [] };
}

function fail(id: string | null, e: SalesforceError): WriteResult {
  return { id, success: false, errors: [e.toJSON()] };
}

/** Recycle bin bookkeeping and the delete / hardDelete / undelete / empty operations. */
export class RecycleBin {
  private readonly entries = new Map<string, RecycleEntry>();
  /** Cascaded child id -> the root whose delete took it. */
  private readonly cascadedBy = new Map<string, string>();
  /** Every row in the recycle bin -> its table and when it went there (epoch ms). */
  private readonly binned = new Map<string, { table: Table; at: number }>();
  /** When the oldest row in the bin falls due for the automatic purge. */
  private nextPurge = Number.POSITIVE_INFINITY;

  constructor(
    private readonly ctx: OrgContext,
    private readonly log: DeleteLog,
  ) {}

  /**
   * Deletes rows (to the recycle bin unless `hard`), with cascades; one result per id. `logged`
   * false leaves no delete-log entries: for rows of a rolled-back request, which never existed.
   */
  delete(ids: readonly string[], hard: boolean, logged = true): WriteResult[] {
    const roots: Array<{ table: Table; id: string }> = [];
    const seen = new Set<string>();
    const results = ids.map((raw): WriteResult => {
      const id = toId18(raw);
      if (!id) return fail(raw, new SalesforceError('MALFORMED_ID', `malformed id ${raw}`));
      const loc = this.ctx.store.locate(id);
      if (!loc || (!hard && loc.table.isDeleted(loc.row))) {
        return fail(id, new SalesforceError('ENTITY_IS_DELETED', 'entity is deleted'));
      }
      if (!loc.table.def.deletable) {
        return fail(
          id,
          new SalesforceError('INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id'),
        );
      }
      const refusal = refusedDelete(this.ctx, loc.table, loc.row);
      if (refusal) return fail(id, refusal);
      if (!seen.has(id)) roots.push({ table: loc.table, id });
      seen.add(id);
      return ok(id);
    });
    if (roots.length) this.apply(roots, hard, logged);
    return results;
  }

  private apply(roots: Array<{ table: Table; id: string }>, hard: boolean, logged: boolean): void {
    const rootOf = new Map<string, string>(roots.map((r) => [r.id, r.id]));
    const doomed = new Map<string, Table>(roots.map((r) => [r.id, r.table]));
    let frontier = new Set(roots.map((r) => r.id));
    let frontierTables = new Set(roots.map((r) => r.table));
    while (frontier.size) {
      const next = new Set<string>();
      const nextTables = new Set<Table>();
      for (const [child, slot] of this.relations(frontierTables, true)) {
        for (const [childId, row] of child.rows) {
          const parent = row[slot];
          if (typeof parent !== 'string' || !frontier.has(parent) || doomed.has(childId)) continue;
          if (!hard && child.isDeleted(row)) continue;
          doomed.set(childId, child);
          rootOf.set(childId, rootOf.get(parent)!);
          next.add(childId);
          nextTables.add(child);
        }
      }
      frontier = next;
      frontierTables = nextTables;
    }
    const doomedIds = new Set(doomed.keys());
    const cleared: Array<[Table, string, number, string]> = [];
    for (const [child, slot] of this.relations(new Set(doomed.values()), false)) {
      for (const [childId, row] of child.rows) {
        const parent = row[slot];
        if (typeof parent === 'string' && doomedIds.has(parent) && !doomedIds.has(childId)) {
          cleared.push([child, childId, slot, parent]);
        }
      }
    }
    const now = this.ctx.now().getTime();
    for (const [child, childId, slot, parent] of cleared) {
      this.write(child, childId, (row) => {
        row[slot] = null;
        this.touch(child, row, now);
      });
      if (!hard) this.entry(rootOf.get(parent)!).cleared.push([childId, slot, parent]);
    }
    for (const [id, table] of doomed) {
      const root = rootOf.get(id)!;
      // A row of an object with no undelete (ContentDocumentLink) deleted by itself is gone for good;
      // deleted with its parent, it waits in the recycle bin to come back with it.
      if (hard || table.deletedSlot < 0 || (root === id && !table.def.undeletable)) {
        // A row hard-deleted out of the recycle bin keeps the entry of its delete, and is a purge.
        if (this.binned.has(id)) this.log.purged(table.def.name, now);
        if (logged) this.log.record(table.def.name, id, now);
        this.remove(table, id);
        if (hard) this.ctx.counters.hardDeleted++;
        else this.ctx.counters.deleted++;
        continue;
      }
      this.write(table, id, (row) => {
        row[table.deletedSlot] = true;
        this.touch(table, row, now);
      });
      this.bin(table, id, now);
      if (root !== id) {
        this.entry(root).cascaded.push(id);
        this.cascadedBy.set(id, root);
      } else {
        this.entry(root);
      }
      this.ctx.counters.deleted++;
    }
  }

  /** (child table, slot) pairs of reference fields into the given tables, cascading or not. */
  private relations(parents: Set<Table>, cascade: boolean): Array<[Table, number]> {
    const out = new Map<string, [Table, number]>();
    for (const parent of parents) {
      for (const rel of this.ctx.store.childRelationships(parent.def.name)) {
        if (rel.cascadeDelete !== cascade) continue;
        const child = this.ctx.store.find(rel.childSObject);
        const slot = child?.slot(rel.field) ?? -1;
        if (child && slot >= 0) out.set(`${child.def.name}.${slot}`, [child, slot]);
      }
    }
    return [...out.values()];
  }

  private entry(root: string): RecycleEntry {
    let e = this.entries.get(root);
    if (!e) {
      e = { cascaded: [], cleared: [] };
      this.entries.set(root, e);
    }
    return e;
  }

  private touch(table: Table, row: Row, now: number): void {
    for (const name of ['LastModifiedDate', 'SystemModstamp']) {
      const s = table.slot(name);
      if (s >= 0) row[s] = now;
    }
    const by = table.slot('LastModifiedById');
    if (by >= 0) row[by] = this.ctx.user.id;
  }

  private write(table: Table, id: string, change: (row: Row) => void): void {
    const before = table.rows.get(id);
    if (!before) return;
    const row = before.slice();
    change(row);
    table.rows.set(id, row);
    this.ctx.indexes.onWrite(table, id, before, row);
    this.ctx.changes.written(table, id, before, row);
  }

  private remove(table: Table, id: string): void {
    const before = table.rows.get(id);
    table.rows.delete(id);
    this.ctx.indexes.onWrite(table, id, before, undefined);
    this.ctx.changes.written(table, id, before, undefined);
    this.binned.delete(id);
    this.forget(id);
  }

  private bin(table: Table, id: string, at: number): void {
    this.binned.set(id, { table, at });
    this.log.record(table.def.name, id, at);
    if (at + RETENTION_MS < this.nextPurge) this.nextPurge = at + RETENTION_MS;
  }

  /** Removes a row from the recycle bin for good at `at`, keeping the entry of its delete. */
  private purge(table: Table, id: string, at: number): void {
    this.log.record(table.def.name, id, this.binned.get(id)?.at ?? at);
    this.log.purged(table.def.name, at);
    this.remove(table, id);
  }

  /**
   * Purges the rows that have been in the recycle bin for 15 days by `now`, each at the instant
   * it fell due, as Salesforce's background job would have. Costs nothing until a row is due.
   */
  purgeExpired(now: number): void {
    if (now < this.nextPurge) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [id, { table, at }] of [...this.binned]) {
      const due = at + RETENTION_MS;
      if (due <= now) this.purge(table, id, due);
      else if (due < next) next = due;
    }
    this.nextPurge = next;
  }

  private forget(id: string): void {
    const e = this.entries.get(id);
    this.entries.delete(id);
    this.cascadedBy.delete(id);
    for (const child of e?.cascaded ?? []) this.cascadedBy.delete(child);
  }

  /** Brings rows back with their ids, plus what their delete cascaded to. */
  undelete(ids: readonly string[]): WriteResult[] {
    const now = this.ctx.now().getTime();
    return ids.map((raw) => {
      const id = toId18(raw);
      if (!id) return fail(raw, new SalesforceError('MALFORMED_ID', `malformed id ${raw}`));
      const loc = this.ctx.store.locate(id);
      if (!loc?.table.isDeleted(loc.row)) {
        return fail(id, new SalesforceError('UNDELETE_FAILED', 'Entity is not in the recycle bin'));
      }
      const root = this.cascadedBy.get(id);
      if (root && this.ctx.store.locate(root)?.table.isDeleted(this.ctx.store.locate(root)!.row)) {
        return fail(
          id,
          new SalesforceError(
            'UNDELETE_FAILED',
            `Undelete the parent record ${root} first: this record was deleted with it`,
          ),
        );
      }
      const entry = this.entries.get(id);
      for (const rowId of [id, ...(entry?.cascaded ?? [])]) {
        const r = this.ctx.store.locate(rowId);
        if (!r?.table.isDeleted(r.row)) continue;
        this.write(r.table, rowId, (row) => {
          row[r.table.deletedSlot] = false;
          this.touch(r.table, row, now);
        });
        this.binned.delete(rowId);
        this.log.forget(r.table.def.name, rowId);
        this.ctx.counters.undeleted++;
      }
      for (const [childId, slot, parent] of entry?.cleared ?? []) {
        const c = this.ctx.store.locate(childId);
        if (!c || c.table.isDeleted(c.row) || c.row[slot] !== null) continue;
        this.write(c.table, childId, (row) => {
          row[slot] = parent;
          this.touch(c.table, row, now);
        });
      }
      this.forget(id);
      return ok(id);
    });
  }

  /**
   * Purges a row and the rows in the recycle bin that would have been deleted with it (a
   * document's versions and links, a record's links deleted with their document before it): once
   * their parent is gone for good, nothing can bring them back.
   */
  private purgeWithChildren(table: Table, id: string, now: number): void {
    for (const [child, slot] of this.relations(new Set([table]), true)) {
      for (const [childId, row] of [...child.rows]) {
        if (row[slot] === id && child.isDeleted(row)) this.purgeWithChildren(child, childId, now);
      }
    }
    if (table.rows.has(id)) this.purge(table, id, now);
  }

  /** Removes recycle-bin rows for good: the given ids, or all of them. */
  empty(ids?: readonly string[]): WriteResult[] {
    const now = this.ctx.now().getTime();
    if (!ids) {
      const all: WriteResult[] = [];
      for (const table of this.ctx.store.all()) {
        for (const [id, row] of [...table.rows]) {
          if (!table.isDeleted(row)) continue;
          this.purge(table, id, now);
          all.push(ok(id));
        }
      }
      return all;
    }
    return ids.map((raw) => {
      const id = toId18(raw);
      const loc = id ? this.ctx.store.locate(id) : undefined;
      if (!id || !loc?.table.isDeleted(loc.row)) {
        return fail(id ?? raw, new SalesforceError('INVALID_ID_FIELD', 'Entity is not in the recycle bin'));
      }
      this.purgeWithChildren(loc.table, id, now);
      return ok(id);
    });
  }
}
