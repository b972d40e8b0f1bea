/** The finished snapshots of an org, newest first, as a person chooses one to compare or restore from. */
import { fileCount } from '../snapshot/file-lists.ts';
import type { CatalogEntry, SnapshotManifest } from '../snapshot/manifest.ts';
import { SnapshotReader } from '../snapshot/reader.ts';
import type { BackupStore } from '../store.ts';
import { InvalidInsightRequestError } from './common.ts';

/** One finished snapshot as `listSnapshots` reports it. */
export interface SnapshotListing {
  readonly snapshotId: string;
  readonly mode: CatalogEntry['mode'];
  readonly status: CatalogEntry['status'];
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Objects exported or unchanged (failed ones are not counted); null when the manifest is missing. */
  readonly objects: number | null;
  /** Rows the snapshot itself exported (an incremental holds only changes); null without a manifest. */
  readonly rows: number | null;
  /** File bodies it records; null without a manifest. */
  readonly files: number | null;
  /** Metadata components its retrieve holds; 0 when it retrieved none; null without a manifest. */
  readonly metadataComponents: number | null;
  readonly baseSnapshotId: string | null;
  /** Why a failed snapshot is not usable; empty when complete. */
  readonly problems: readonly string[];
  /** True for the one `latest` selects. */
  readonly latest: boolean;
}

/** Every finished snapshot of an org, newest first. */
export interface SnapshotList {
  readonly org: string;
  /** The snapshot `latest` means (the same rule SnapshotReader uses), or null when none is complete. */
  readonly latest: string | null;
  readonly snapshots: readonly SnapshotListing[];
}

/**
 * Lists every finished snapshot (complete and failed) of `org`, newest first; fails when there is
 * none, naming `where` (how the caller named the vault; default its location).
 */
export async function listSnapshots(
  store: BackupStore,
  org: string,
  where: string = store.location,
): Promise<SnapshotList> {
  const reader = new SnapshotReader(store);
  const catalog = await reader.catalog(org);
  if (catalog.length === 0) {
    throw new InvalidInsightRequestError(
      `no snapshot of org ${org} in ${where}: run sfbackup backup first, or check --store (or --bucket) and --org.`,
    );
  }
  const latest = (await reader.latestComplete(org))?.snapshotId ?? null;
  const snapshots: SnapshotListing[] = [];
  for (const entry of [...catalog].reverse()) {
    const manifest = entry.manifestKey ? await reader.manifestUnlessSwept(org, entry.snapshotId) : undefined;
    // The retention sweep removed it since the catalog was read.
    if (entry.manifestKey && !manifest) continue;
    snapshots.push({
      snapshotId: entry.snapshotId,
      mode: entry.mode,
      status: entry.status,
      startedAt: entry.startedAt,
      finishedAt: entry.finishedAt,
      ...counts(manifest),
      baseSnapshotId: entry.baseSnapshotId,
      problems: entry.problems,
      latest: entry.snapshotId === latest,
    });
  }
  return { org, latest, snapshots };
}

function counts(
  manifest: SnapshotManifest | undefined,
): Pick<SnapshotListing, 'objects' | 'rows' | 'files' | 'metadataComponents'> {
  if (!manifest) return { objects: null, rows: null, files: null, metadataComponents: null };
  const objects = manifest.objects.filter((o) => o.status !== 'failed');
  return {
    objects: objects.length,
    rows: objects.reduce((n, o) => n + o.rows, 0),
    files: fileCount(manifest),
    metadataComponents: manifest.metadata.included ? manifest.metadata.components : 0,
  };
}
