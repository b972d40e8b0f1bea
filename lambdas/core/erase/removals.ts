/**
 * The versions an erasure removes, by key and version id, kept under the execution's own folder:
 * `orgs/<org>/erasures/<execution>/removed/<name>.json`, each `{ key, versionIds }`, written before
 * the versions go (a removal that then fails, on a lock put meanwhile, stays listed). S3
 * replication gives a replica of the vault the same version ids, and never carries the removal of
 * a version: this list is what to remove there (docs/erasure.md). Delete markers are left out: they
 * hold nothing of hers. It holds keys and version ids only, never a field's value (a key
 * may name a record id, as the file index's do), and stays as the record of what was removed.
 */
import { createHash } from 'node:crypto';
import { ERASURE_REMOVED_FOLDER } from '../../../contract/workflow-contract.ts';
import { putIfAbsent } from '../restore/store-json.ts';
import type { BackupStore, ObjectVersion } from '../store.ts';
import { erasuresPrefix } from './find.ts';

/** Where an execution lists the versions it removed. */
export const removedVersionsPrefix = (org: string, execution: string): string =>
  `${erasuresPrefix(org)}${execution}/${ERASURE_REMOVED_FOLDER}`;

/** One record of the list: versions of one key removed together. */
export interface RemovedVersions {
  readonly key: string;
  readonly versionIds: readonly string[];
}

/** The ids of the versions of `key` among `versions` that hold data: delete markers left out. */
export function versionsOf(versions: readonly ObjectVersion[], key: string): string[] {
  return versions.filter((v) => v.key === key && !v.deleteMarker).map((v) => v.versionId);
}

/** The list of one execution's removals, written to before each removal. */
export class RemovalLog {
  constructor(
    private readonly store: BackupStore,
    /** The folder of the execution's records, `removedVersionsPrefix`. */
    readonly prefix: string,
  ) {}

  static of(store: BackupStore, org: string, execution: string): RemovalLog {
    return new RemovalLog(store, removedVersionsPrefix(org, execution));
  }

  /**
   * Records the versions of `key` about to be removed. Named by what it holds, so a removal run
   * again (after a stop) writes the same record, or another for the versions still there.
   */
  async note(key: string, versionIds: readonly string[]): Promise<void> {
    if (versionIds.length === 0) return;
    const name = createHash('sha256')
      .update(`${key}\n${versionIds.join('\n')}`)
      .digest('hex')
      .slice(0, 32);
    const record: RemovedVersions = { key, versionIds };
    await putIfAbsent(this.store, `${this.prefix}${name}.json`, JSON.stringify(record));
  }
}
