/**
 * Transactions of row changes, for Change Data Capture. Every row write of the org reports here
 * (`written`); while a transaction is open, the first write to each record fixes its change type
 * and the row it had before, later writes only its latest row. At commit the transaction hands
 * its record changes, in the order they were first touched, to the publisher.
 *
 * A transaction is tracked through `AsyncLocalStorage`, so concurrent HTTP requests never share
 * one: the server opens one per API call, Bulk ingest one per 200-row chunk, and an org method
 * called outside any transaction runs in one of its own. Writes outside a transaction (fixture
 * and generator loading, the automatic recycle-bin purge) publish nothing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Row, Table } from '../store.ts';

/** The change types of Salesforce's change event header, without the gap forms. */
export type ChangeKind = 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';

/** One record's change in a committed transaction. */
export interface RecordChange {
  readonly table: Table;
  readonly id: string;
  /** The type of the first change to the record in the transaction. */
  readonly kind: ChangeKind;
  /** The row before the transaction touched it; undefined for a new record. */
  readonly before: Row | undefined;
  /** The row at commit (for a removed record, its last stored row). */
  readonly after: Row;
}

/** What a commit hands to the publisher. */
export interface CommittedTransaction {
  readonly transactionKey: string;
  /** The header's `changeOrigin`: `com/salesforce/api/rest/62.0`, or empty outside the API. */
  readonly origin: string;
  readonly changes: readonly RecordChange[];
}

interface Touch {
  readonly table: Table;
  readonly id: string;
  readonly kind: ChangeKind | null;
  readonly before: Row | undefined;
  last: Row;
}

class Transaction {
  readonly key = randomUUID();
  readonly touched = new Map<string, Touch>();
  open = true;
  constructor(readonly origin: string) {}
}

function kindOf(table: Table, before: Row | undefined, after: Row | undefined): ChangeKind | null {
  if (!before) return after ? 'CREATE' : null;
  const gone = !after || table.isDeleted(after);
  if (table.isDeleted(before)) return gone ? null : 'UNDELETE';
  return gone ? 'DELETE' : 'UPDATE';
}

/** Collects row writes into transactions and commits them (see module comment). */
export class ChangeCapture {
  private readonly current = new AsyncLocalStorage<Transaction>();

  /**
   * @param enabled whether anything is captured at all (some entity selected): with none, writes
   *   cost one check
   * @param onCommit receives every committed transaction that changed at least one record
   */
  constructor(
    private readonly enabled: () => boolean,
    private readonly onCommit: (tx: CommittedTransaction) => void,
  ) {}

  /** Reports one row write: `before` undefined for an insert, `after` undefined for a removal. */
  written(table: Table, id: string, before: Row | undefined, after: Row | undefined): void {
    if (!this.enabled()) return;
    const tx = this.current.getStore();
    if (!tx?.open) return;
    const seen = tx.touched.get(id);
    if (seen) {
      if (after) seen.last = after;
      return;
    }
    const last = after ?? before;
    if (!last) return;
    tx.touched.set(id, { table, id, kind: kindOf(table, before, after), before, last });
  }

  /**
   * Runs `fn` as one transaction (a promise-returning `fn` commits when it settles), whatever
   * transaction is already open: the server opens one per API call and Bulk ingest per chunk.
   * `origin` is the header's `changeOrigin`. With no entity selected `fn` simply runs.
   */
  transaction<T>(origin: string, fn: () => T): T {
    if (!this.enabled()) return fn();
    const tx = new Transaction(origin);
    let result: T;
    try {
      result = this.current.run(tx, fn);
    } catch (error) {
      this.commit(tx);
      throw error;
    }
    if (result instanceof Promise) return result.finally(() => this.commit(tx)) as T;
    this.commit(tx);
    return result;
  }

  /** Runs one org operation in the open transaction, or in one of its own when none is open. */
  operation<T>(fn: () => T): T {
    const tx = this.current.getStore();
    if (tx?.open || !this.enabled()) return fn();
    return this.transaction('', fn);
  }

  /**
   * Forgets every change of the open transaction: for a request that undid its own writes
   * (allOrNone), which Salesforce rolls back, so that no event is published for it.
   */
  rollback(): void {
    const tx = this.current.getStore();
    if (tx?.open) tx.touched.clear();
  }

  private commit(tx: Transaction): void {
    if (!tx.open) return;
    tx.open = false;
    const changes: RecordChange[] = [];
    for (const t of tx.touched.values()) {
      if (t.kind === null) continue;
      changes.push({ table: t.table, id: t.id, kind: t.kind, before: t.before, after: t.last });
    }
    if (changes.length > 0) this.onCommit({ transactionKey: tx.key, origin: tx.origin, changes });
  }
}
