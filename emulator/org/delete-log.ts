/**
 * The org's delete log: what `getDeleted` reads. One entry per deleted row (object, id, the
 * instant of the delete on the org clock), whichever way the row went: to the recycle bin, for
 * good (hard delete, an object without a recycle bin), or out of the recycle bin later (a purge
 * keeps the entry of the delete). An undelete takes the entry away, since the row is live again.
 *
 * Entries older than the retention (15 days) are dropped, and each object remembers the instant
 * of the latest purge of its rows from the recycle bin: before that instant its log may be
 * incomplete, which is what `earliestDateAvailable` reports.
 */

/** Days Salesforce keeps delete-log entries and recycle-bin rows. */
export const RETENTION_DAYS = 15;

/** `RETENTION_DAYS` in milliseconds. */
export const RETENTION_MS = RETENTION_DAYS * 24 * 60 * 60 * 1000;

/** One delete-log entry: the row's id and when it was deleted (epoch ms). */
export interface DeleteLogEntry {
  readonly id: string;
  readonly deletedDate: number;
}

export class DeleteLog {
  /** Object name -> id -> deletedDate; each map in the order the rows were deleted. */
  private readonly byObject = new Map<string, Map<string, number>>();
  /** Object name -> instant of the latest purge of its rows from the recycle bin. */
  private readonly purges = new Map<string, number>();
  /** Earliest deletedDate held, so that `expire` costs nothing until an entry is due. */
  private oldest = Number.POSITIVE_INFINITY;

  /** Logs a delete; a row already logged keeps its first entry (a purge after a delete). */
  record(objectName: string, id: string, at: number): void {
    let entries = this.byObject.get(objectName);
    if (!entries) {
      entries = new Map();
      this.byObject.set(objectName, entries);
    }
    if (entries.has(id)) return;
    entries.set(id, at);
    if (at < this.oldest) this.oldest = at;
  }

  /** Takes a row's entry away (undelete). */
  forget(objectName: string, id: string): void {
    this.byObject.get(objectName)?.delete(id);
  }

  /** Notes that rows of an object left the recycle bin for good at `at`. */
  purged(objectName: string, at: number): void {
    const previous = this.purges.get(objectName);
    if (previous === undefined || at > previous) this.purges.set(objectName, at);
  }

  /** Drops entries older than the retention before `now`. */
  expire(now: number): void {
    const cutoff = now - RETENTION_MS;
    if (this.oldest >= cutoff) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const entries of this.byObject.values()) {
      for (const [id, at] of entries) {
        if (at < cutoff) entries.delete(id);
        else if (at < oldest) oldest = at;
      }
    }
    this.oldest = oldest;
  }

  /** Entries of an object deleted in `[start, end)` (epoch ms), oldest first, ties by id. */
  deletedBetween(objectName: string, start: number, end: number): DeleteLogEntry[] {
    const out: DeleteLogEntry[] = [];
    for (const [id, at] of this.byObject.get(objectName) ?? []) {
      if (at >= start && at < end) out.push({ id, deletedDate: at });
    }
    return out.sort((a, b) => a.deletedDate - b.deletedDate || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * The instant before which the object's log may be incomplete: the later of the retention
   * bound (`since`, the caller's now minus 15 days) and the object's latest purge.
   */
  earliestDateAvailable(objectName: string, since: number): number {
    return Math.max(since, this.purges.get(objectName) ?? Number.NEGATIVE_INFINITY);
  }

  /** Number of entries held for an object. */
  size(objectName: string): number {
    return this.byObject.get(objectName)?.size ?? 0;
  }
}
