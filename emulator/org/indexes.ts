import type { Row, Table } from './store.ts';

/**
 * Value -> ids indexes for external-id and unique fields, built on first use and kept current on
 * every write afterwards, so upserts and uniqueness checks do not scan a large table per row.
 */
export class FieldIndexes {
  private readonly built = new Map<Table, Map<number, Map<string, string[]>>>();

  private key(table: Table, slot: number, value: unknown): string | undefined {
    if (value === null || value === undefined) return undefined;
    const text = String(value);
    return table.stored[slot]?.caseSensitive ? text : text.toLowerCase();
  }

  /** Ids of rows (live or deleted) whose field equals the value. */
  lookup(table: Table, slot: number, value: unknown): readonly string[] {
    let perTable = this.built.get(table);
    if (!perTable) {
      perTable = new Map();
      this.built.set(table, perTable);
    }
    let index = perTable.get(slot);
    if (!index) {
      index = new Map();
      for (const [id, row] of table.rows) this.addTo(index, this.key(table, slot, row[slot]), id);
      perTable.set(slot, index);
    }
    const k = this.key(table, slot, value);
    return k === undefined ? [] : (index.get(k) ?? []);
  }

  private addTo(index: Map<string, string[]>, key: string | undefined, id: string): void {
    if (key === undefined) return;
    const ids = index.get(key);
    if (ids) ids.push(id);
    else index.set(key, [id]);
  }

  /** Records a row change (old row undefined on insert, new row undefined on removal). */
  onWrite(table: Table, id: string, before: Row | undefined, after: Row | undefined): void {
    const perTable = this.built.get(table);
    if (!perTable) return;
    for (const [slot, index] of perTable) {
      const oldKey = before ? this.key(table, slot, before[slot]) : undefined;
      const newKey = after ? this.key(table, slot, after[slot]) : undefined;
      if (oldKey === newKey && before && after) continue;
      if (oldKey !== undefined) {
        const ids = index.get(oldKey)?.filter((x) => x !== id) ?? [];
        if (ids.length) index.set(oldKey, ids);
        else index.delete(oldKey);
      }
      this.addTo(index, newKey, id);
    }
  }
}
