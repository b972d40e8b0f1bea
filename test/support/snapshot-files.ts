import { snapshotFiles } from '../../lambdas/core/snapshot/file-lists.ts';
import type { SnapshotFile, SnapshotManifest } from '../../lambdas/core/snapshot/manifest.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';

/** Every file entry of a snapshot, from its manifest and the list records it names. */
export async function filesOf(store: BackupStore, manifest: SnapshotManifest): Promise<SnapshotFile[]> {
  const files: SnapshotFile[] = [];
  for await (const file of snapshotFiles(store, manifest)) files.push(file);
  return files;
}
