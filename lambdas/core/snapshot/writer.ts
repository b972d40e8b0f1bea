import { type BackupStore, ObjectNotFoundError, PointerChangedError } from '../store.ts';
import { gzipSync } from 'node:zlib';
import { csvHeader, csvLine } from './csv.ts';
import { catalogKey, latestPointerKey, manifestKey, newAttemptId, snapshotPrefix } from './keys.ts';
import {
  type CatalogEntry,
  CATALOG_FORMAT_VERSION,
  type SnapshotManifest,
  snapshotManifestSchema,
  type SnapshotPart,
} from './manifest.ts';

/**
 * Writes a small gzip CSV part of an object beside its rows (`objects/<Object>/<kind>-<attempt>.csv.gz`:
 * tombstones, links), whole, and returns its manifest entry: key, rows, bytes, SHA-256, version.
 */
export async function writeSidePart(
  store: BackupStore,
  at: { org: string; snapshotId: string; object: string; kind: string },
  columns: readonly string[],
  records: readonly Record<string, string>[],
  random?: () => number,
): Promise<SnapshotPart> {
  const text = csvHeader(columns) + records.map((r) => csvLine(columns, r)).join('');
  const body = gzipSync(Buffer.from(text), { level: 6 });
  const key = `${snapshotPrefix(at.org, at.snapshotId)}objects/${at.object}/${at.kind}-${newAttemptId(random)}.csv.gz`;
  const stored = await store.put(key, body, { contentType: 'application/gzip' });
  return {
    key,
    rows: records.length,
    bytes: body.length,
    sha256: stored.sha256,
    ...(stored.versionId ? { versionId: stored.versionId } : {}),
  };
}

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
 * only after its catalog entry is written, so a reader never follows the pointer to a failed run;
 * and only forward (see `advanceLatestPointer`).
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
    formatVersion: CATALOG_FORMAT_VERSION,
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
    await advanceLatestPointer(store, manifest.org, entry.snapshotId, entry.finishedAt);
  }
  return entry;
}

const POINTER_ATTEMPTS = 10;

/**
 * Moves the org's latest pointer to a snapshot unless it already names a newer one (snapshot ids
 * sort by start time), so two runs of one org finishing together leave it on the newer. The write
 * is conditional on the pointer read: if another run moved it in between, the store refuses and
 * the decision is made again. Where the store enforces the condition (a local directory, AWS S3)
 * that is exact. Where it cannot (radosgw on a versioned bucket), the pointer is read back after
 * the write and written again while it names an older snapshot; an older run's write can still
 * land after that read-back, which the catalog (every snapshot's own entry) outlives: readers fall
 * back to it, and the next complete run moves the pointer on. Answers whether it moved.
 */
export async function advanceLatestPointer(
  store: BackupStore,
  org: string,
  snapshotId: string,
  finishedAt: string,
): Promise<boolean> {
  const key = latestPointerKey(org);
  const body = `${JSON.stringify({ snapshotId, finishedAt })}\n`;
  let moved = false;
  for (let attempt = 0; ; attempt++) {
    const current = await readPointer(store, key);
    if (current.snapshotId !== undefined && current.snapshotId >= snapshotId) {
      // Ours, written by this call (or an earlier attempt of it), or a newer run's.
      return moved || current.snapshotId === snapshotId;
    }
    if (attempt === POINTER_ATTEMPTS) throw new PointerChangedError(key);
    try {
      await store.putPointer(key, body, { current: current.text });
      moved = true;
    } catch (error) {
      if (!(error instanceof PointerChangedError)) throw error;
    }
  }
}

async function readPointer(
  store: BackupStore,
  key: string,
): Promise<{ text: string | null; snapshotId?: string }> {
  let text: string;
  try {
    text = new TextDecoder().decode(await store.get(key));
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return { text: null };
    throw error;
  }
  try {
    const { snapshotId } = JSON.parse(text) as { snapshotId?: unknown };
    return typeof snapshotId === 'string' ? { text, snapshotId } : { text };
  } catch {
    // Not a pointer this code wrote: replaced, on the condition that it is still what was read.
    return { text };
  }
}
