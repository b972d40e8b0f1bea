import type { BackupStore } from '../store.ts';
import { catalogKey, latestPointerKey, manifestKey } from './keys.ts';
import {
  type CatalogEntry,
  MANIFEST_FORMAT_VERSION,
  type SnapshotManifest,
  snapshotManifestSchema,
} from './manifest.ts';

/** Writes the manifest (immutable) after checking it against the documented format. */
export async function writeManifest(
  store: BackupStore,
  manifest: SnapshotManifest,
): Promise<{ key: string; sha256: string }> {
  const checked = snapshotManifestSchema.parse(manifest);
  const key = manifestKey(manifest.org, manifest.snapshotId);
  const stored = await store.put(key, `${JSON.stringify(checked, null, 1)}\n`, {
    contentType: 'application/json',
  });
  return { key, sha256: stored.sha256 };
}

/**
 * Records how a snapshot ended. Only a complete one moves the org's latest-complete pointer, and
 * only after its catalog entry is written, so a reader never follows the pointer to a failed run.
 */
export async function recordSnapshotOutcome(
  store: BackupStore,
  manifest: Pick<
    SnapshotManifest,
    | 'org'
    | 'orgId'
    | 'snapshotId'
    | 'mode'
    | 'baseSnapshotId'
    | 'startedAt'
    | 'finishedAt'
    | 'watermark'
    | 'metadata'
  >,
  outcome: { manifestKey: string | null; manifestSha256: string | null; problems: readonly string[] },
): Promise<CatalogEntry> {
  const entry: CatalogEntry = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    snapshotId: manifest.snapshotId,
    org: manifest.org,
    orgId: manifest.orgId,
    mode: manifest.mode,
    baseSnapshotId: manifest.baseSnapshotId,
    metadata: manifest.metadata.included,
    status: outcome.problems.length === 0 && outcome.manifestKey ? 'complete' : 'failed',
    startedAt: manifest.startedAt,
    finishedAt: manifest.finishedAt,
    watermark: manifest.watermark,
    manifestKey: outcome.manifestKey,
    manifestSha256: outcome.manifestSha256,
    problems: [...outcome.problems],
  };
  await store.put(catalogKey(manifest.org, manifest.snapshotId), `${JSON.stringify(entry)}\n`, {
    contentType: 'application/json',
  });
  if (entry.status === 'complete') {
    await store.putPointer(
      latestPointerKey(manifest.org),
      `${JSON.stringify({ snapshotId: entry.snapshotId, finishedAt: entry.finishedAt })}\n`,
    );
  }
  return entry;
}
