/**
 * The one way the runtime removes anything from the vault. It is kept apart from `BackupStore`,
 * which only adds, so that only the retention sweeper is handed it; the backup, restore and
 * report functions never hold one, and their roles are denied every delete besides.
 */
export interface RemovingStore {
  /** A short description for logs, e.g. `s3://bucket` or `file:///path`. */
  readonly location: string;
  /**
   * Removes the current object at `key`. On a versioned bucket this is a delete marker (a
   * DeleteObject without a version id): the object's versions stay, noncurrent, until the
   * bucket's lifecycle expires them, so a removal can be undone until then. Never removes a
   * version. Removing a key that holds nothing is not an error.
   */
  remove(key: string): Promise<void>;
}
