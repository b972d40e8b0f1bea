/**
 * What one backup run found changed in an object, counted against the version of each row the
 * chain of snapshots already held (a row read again with the same `SystemModstamp` is no change).
 * Only ids and counts: never field values.
 */

/** The kinds of change a run tells apart. */
export const CHANGE_KINDS = ['inserted', 'updated', 'deleted', 'undeleted', 'hardDeleted'] as const;

/**
 * One kind of change:
 * - `inserted`: an id the chain did not hold (a restore's re-inserted rows are `restored` instead);
 * - `updated`: a row live before and after, with a newer `SystemModstamp`;
 * - `deleted`: live before, in the recycle bin now;
 * - `undeleted`: in the recycle bin before, live now;
 * - `hardDeleted`: held before (live or in the recycle bin), gone from the org now: hard deleted,
 *   or purged from the recycle bin.
 */
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Counts per kind of change. */
export type ChangeCounts = Record<ChangeKind, number>;

/** One field's changes among the rows a run found updated. */
export interface FieldShift {
  readonly field: string;
  /** Rows whose value went from a value to null (empty). */
  readonly nulled: number;
  /** Their ids, every one (bounded by the run's updated rows). */
  readonly nulledIds: readonly string[];
  /**
   * Of the rows whose value changed to a non-null value, those that all took the most common one
   * (the value itself is not kept), or null when no row did.
   */
  readonly sameValue: { readonly count: number; readonly ids: readonly string[] } | null;
}

/** What a run changed in one object. */
export interface ObjectChanges {
  readonly object: string;
  /** Rows live (not in the recycle bin) in the chain before this run: what percentages are of. */
  readonly liveBefore: number;
  readonly counts: ChangeCounts;
  /** Every id per kind (bounded by the run's changes). */
  readonly ids: Readonly<Record<ChangeKind, readonly string[]>>;
  /**
   * Rows a restore wrote: re-inserted under new ids (linked to the ids they replace), or written
   * back (updated, undeleted) by the user restores sign in as while a restore of the org ran. Not
   * counted under any other kind.
   */
  readonly restored: number;
  /** Per field, for updated rows; fields no updated row changed are left out. */
  readonly fields: readonly FieldShift[];
}

/** Zero of every kind. */
export function noChanges(): ChangeCounts {
  return { inserted: 0, updated: 0, deleted: 0, undeleted: 0, hardDeleted: 0 };
}
