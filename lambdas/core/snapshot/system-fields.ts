/**
 * Fields no person sets, named once for every reader of snapshots: the backup's field-level
 * alerts, the restore's field split and the engineer's diff and history all leave them out of
 * what counts as a change.
 */

/** Columns that identify a row or say whether it is in the recycle bin, not field values. */
export const ROW_STATE_FIELDS: ReadonlySet<string> = new Set(['Id', 'IsDeleted']);

/**
 * Fields Salesforce sets on every save (and a backup re-reads unchanged rows with newer ones when
 * an overlap window catches them): a difference only there is not a change anyone made.
 */
export const SAVE_STAMP_FIELDS: ReadonlySet<string> = new Set([
  'SystemModstamp',
  'LastModifiedDate',
  'LastModifiedById',
]);

/**
 * Fields Salesforce moves when a person views or references a record, or an activity is logged
 * against it: never written by a save, never restored.
 */
export const SYSTEM_FIELDS: ReadonlySet<string> = new Set([
  'LastActivityDate',
  'LastViewedDate',
  'LastReferencedDate',
]);
