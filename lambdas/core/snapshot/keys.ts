/**
 * The vault's key layout for one org. Everything a backup writes lives under `orgs/<org>/`, so a
 * writer's permissions can be limited to its own org's prefix.
 */
import {
  ErrorName,
  LATEST_POINTER,
  orgNameProblem,
  orgPrefixOf,
} from '../../../contract/workflow-contract.ts';

/** An org key that cannot be used as a vault prefix. */
export class InvalidOrgKeyError extends Error {
  override readonly name = ErrorName.InvalidOrgKey;
}

/** Checks an org key (the config's org name, which is its vault prefix) and returns it. */
export function checkOrgKey(org: string): string {
  const problem = orgNameProblem(org);
  if (problem !== undefined) {
    throw new InvalidOrgKeyError(`The org key cannot be used in the vault: ${problem}.`);
  }
  return org;
}

/** Prefix of everything stored for an org. */
export const orgPrefix = (org: string): string => orgPrefixOf(checkOrgKey(org));
/** Prefix of one snapshot's objects. */
export const snapshotPrefix = (org: string, snapshotId: string): string =>
  `${orgPrefix(org)}snapshots/${snapshotId}/`;
/** The run plan (Distributed Map items), one entry per object to export. */
export const planKey = (org: string, snapshotId: string): string =>
  `${snapshotPrefix(org, snapshotId)}plan/objects.json`;
/** The full plan details (describes, counts) that the finish step reads. */
export const planDetailKey = (org: string, snapshotId: string): string =>
  `${snapshotPrefix(org, snapshotId)}plan/detail.json`;
/** The file-download batches (Distributed Map items). */
export const filesPlanKey = (org: string, snapshotId: string): string =>
  `${snapshotPrefix(org, snapshotId)}plan/files.json`;
/** The metadata retrieve chunks. */
export const metadataPlanKey = (org: string, snapshotId: string): string =>
  `${snapshotPrefix(org, snapshotId)}plan/metadata.json`;
/** One gzip CSV part of an object; `attempt` keeps a retried invocation from colliding with a partial one. */
export const partKey = (
  org: string,
  snapshotId: string,
  object: string,
  part: number,
  attempt: string,
): string =>
  `${snapshotPrefix(org, snapshotId)}objects/${object}/part-${String(part).padStart(5, '0')}-${attempt}.csv.gz`;
/** Parts written by one export invocation, with their hashes and counts. */
export const segmentKey = (
  org: string,
  snapshotId: string,
  object: string,
  segment: number,
  attempt: string,
): string =>
  `${snapshotPrefix(org, snapshotId)}objects/${object}/segment-${String(segment).padStart(5, '0')}-${attempt}.json`;
/** The result pages of one object's Bulk job, listed once for the workers that export them. */
export const resultPagesKey = (org: string, snapshotId: string, object: string, list: string): string =>
  `${snapshotPrefix(org, snapshotId)}objects/${object}/pages-${list}.json`;
/** Parts one invocation of a worker wrote, with their pages, hashes and counts. */
export const workerSegmentKey = (
  org: string,
  snapshotId: string,
  object: string,
  list: string,
  worker: number,
  segment: number,
  attempt: string,
): string =>
  `${snapshotPrefix(org, snapshotId)}objects/${object}/pages-${list}-worker-${worker}-segment-${String(segment).padStart(5, '0')}-${attempt}.json`;
/** Every part one worker wrote for the page list `list` (written once, when its share is done). */
export const workerResultKey = (
  org: string,
  snapshotId: string,
  object: string,
  list: string,
  worker: number,
): string => `${snapshotPrefix(org, snapshotId)}objects/${object}/pages-${list}-worker-${worker}.json`;
/** A stored remedy of an unusual change the run found: a dry-run restore input, or a list of ids. */
export const remedyKey = (org: string, snapshotId: string, name: string): string =>
  `${snapshotPrefix(org, snapshotId)}remedies/${name}`;
/** The outcome of one object's export (written once, when it finished or failed for good). */
export const objectResultKey = (org: string, snapshotId: string, object: string): string =>
  `${snapshotPrefix(org, snapshotId)}objects/${object}/result.json`;
/** The outcome of one files batch. */
export const filesResultKey = (org: string, snapshotId: string, batch: number): string =>
  `${snapshotPrefix(org, snapshotId)}files/batch-${String(batch).padStart(5, '0')}.json`;
/** One metadata retrieve zip. */
export const metadataPartKey = (org: string, snapshotId: string, chunk: number): string =>
  `${snapshotPrefix(org, snapshotId)}metadata/retrieve-${String(chunk).padStart(4, '0')}.zip`;
/** The outcome of one metadata retrieve. */
export const metadataResultKey = (org: string, snapshotId: string, chunk: number): string =>
  `${snapshotPrefix(org, snapshotId)}metadata/retrieve-${String(chunk).padStart(4, '0')}.json`;
/** Prefix of the failed attempts of one metadata step (`list`, or `retrieve-0000` for a chunk). */
export const metadataFailuresPrefix = (org: string, snapshotId: string, step: string): string =>
  `${snapshotPrefix(org, snapshotId)}metadata/failures/${step}/`;
/** One failed attempt of a metadata step, so the finish can name the cause of what is missing. */
export const metadataFailureKey = (org: string, snapshotId: string, step: string, attempt: string): string =>
  `${metadataFailuresPrefix(org, snapshotId, step)}${attempt}.json`;
/** The snapshot manifest. */
export const manifestKey = (org: string, snapshotId: string): string =>
  `${snapshotPrefix(org, snapshotId)}manifest.json`;
/** Prefix of the catalog: one small entry per finished snapshot, complete or failed. */
export const catalogPrefix = (org: string): string => `${orgPrefix(org)}catalog/`;
/** The catalog entry of one snapshot. */
export const catalogKey = (org: string, snapshotId: string): string =>
  `${catalogPrefix(org)}${snapshotId}.json`;
/** The mutable pointer to the org's latest complete snapshot. */
export const latestPointerKey = (org: string): string => `${orgPrefix(org)}${LATEST_POINTER}`;
/** A file body, addressed by its SHA-256. */
export const fileBodyKey = (org: string, sha256: string): string =>
  `${orgPrefix(org)}files/sha256/${sha256.slice(0, 2)}/${sha256}`;
/** File index entry: a ContentVersion checksum, or a record version, mapped to a stored body. */
export const fileIndexKey = (org: string, indexId: string): string =>
  `${orgPrefix(org)}files/index/${indexId}.json`;

/** Makes a sortable snapshot id from the run's start time and a random suffix. */
export function newSnapshotId(startedAt: Date, random: () => number = Math.random): string {
  // Milliseconds keep ids of runs started in the same second in start order.
  const stamp = startedAt.toISOString().replace(/[-:.]/g, '');
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 36)];
  return `${stamp}-${suffix}`;
}

/** A short random id for one invocation's writes. */
export function newAttemptId(random: () => number = Math.random): string {
  let id = '';
  for (let i = 0; i < 8; i++) id += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 36)];
  return id;
}

/** One object's export instructions. */
export const objectSpecKey = (org: string, snapshotId: string, object: string): string =>
  `${snapshotPrefix(org, snapshotId)}plan/objects/${object}.json`;
/** One WHERE clause (numbered from 1) an object read per parent is exported with, written once as the parent ids are read. */
export const objectFilterKey = (org: string, snapshotId: string, object: string, filter: number): string =>
  `${snapshotPrefix(org, snapshotId)}plan/objects/${object}.filters/${String(filter).padStart(6, '0')}.json`;
/** The files of one download batch. */
export const filesBatchKey = (org: string, snapshotId: string, batch: number): string =>
  `${snapshotPrefix(org, snapshotId)}plan/files/batch-${String(batch).padStart(5, '0')}.json`;
/** What a files batch fetched of its first `handled` files, where an invocation stopped before its end. */
export const filesBatchProgressKey = (
  org: string,
  snapshotId: string,
  batch: number,
  handled: number,
): string =>
  `${snapshotPrefix(org, snapshotId)}plan/files/batch-${String(batch).padStart(5, '0')}-handled-${String(handled).padStart(5, '0')}.json`;
/** Where planning the file downloads stood after one of its steps (the files plan runs in steps). */
export const filesPlanStepKey = (org: string, snapshotId: string, step: number): string =>
  `${filesPlanStepPrefix(org, snapshotId)}${String(step).padStart(5, '0')}.json`;
/** Where the files plan's step records start. */
export const filesPlanStepPrefix = (org: string, snapshotId: string): string =>
  `${snapshotPrefix(org, snapshotId)}plan/files/step-`;
/**
 * A snapshot's file list: a list of reused bodies (in one record, as earlier versions wrote it, or
 * numbered) or one files batch's result. The first group is the snapshot id.
 */
export const FILE_LIST_KEY = /\/snapshots\/([^/]+)\/files\/(?:reused(?:-\d+)?|batch-\d+)\.json$/;
/** Files already in the vault that this run reuses without downloading, as earlier versions listed them: one record. */
export const filesReusedKey = (org: string, snapshotId: string): string =>
  `${snapshotPrefix(org, snapshotId)}files/reused.json`;
/** Files already in the vault that this run reuses without downloading: the n-th list (from 1) of at most 5,000. */
export const filesReusedListKey = (org: string, snapshotId: string, n: number): string =>
  `${snapshotPrefix(org, snapshotId)}files/reused-${String(n).padStart(5, '0')}.json`;
/** Outcome of a files batch that failed for good. */
export const filesFailureKey = (org: string, snapshotId: string, batch: number): string =>
  `${snapshotPrefix(org, snapshotId)}files/batch-${String(batch).padStart(5, '0')}-failed.json`;
/** File bodies the run left for later because its API share ran out. */
export const filesDeferredKey = (org: string, snapshotId: string): string =>
  `${snapshotPrefix(org, snapshotId)}files/deferred.json`;
