/**
 * What changed in an org between two points in time: per object, rows inserted, deleted (to the
 * recycle bin, or gone), undeleted and changed (which fields, on how many rows), and metadata
 * components added, removed and changed. Memory grows with the number of ids, never with row
 * values: side A is kept as a digest per id, side B is compared against it as it streams, and only
 * the candidate rows are read again, a bounded batch at a time, for their field detail. Fields
 * Salesforce sets or computes (audit stamps, formulas, roll-ups, view dates) are compared apart and
 * never make a row changed.
 */
import { createHash } from 'node:crypto';
import { compareComponentZips } from '../restore/metadata-verify.ts';
import { componentsInZips, zipOfComponents } from '../restore/metadata-zip.ts';
import { type PointInTime, SnapshotReader } from '../snapshot/reader.ts';
import type { BackupStore } from '../store.ts';
import {
  AUDIT_FIELDS,
  checkObjectName,
  checkSnapshotId,
  computedFields,
  IdSampler,
  type IdSample,
  InvalidInsightRequestError,
  NOT_COMPARED,
  parseSelector,
  type UnrestorableField,
  unrestorableFields,
} from './common.ts';

/** Kinds of row difference between A and B. */
export const DIFF_KINDS = ['inserted', 'deletedToBin', 'gone', 'purged', 'undeleted', 'changed'] as const;
/**
 * One kind of row difference: `inserted` (only in B), `deletedToBin` (live in A, in the recycle bin
 * in B), `gone` (live in A, not in B at all: hard deleted or purged), `purged` (already in the
 * recycle bin in A, gone in B), `undeleted` (in the bin in A, live in B), `changed` (fields differ).
 */
export type DiffKind = (typeof DIFF_KINDS)[number];

/** One field of a changed row, before (A) and after (B); empty text is null. */
export interface FieldChange {
  readonly field: string;
  readonly before: string;
  readonly after: string;
}

/** One differing row, as handed to `onRow` (the CSV writer): changes only for `changed` rows. */
export interface DiffRow {
  readonly object: string;
  readonly kind: DiffKind;
  readonly id: string;
  readonly changes?: readonly FieldChange[];
}

/** One side of the comparison, as resolved. */
export interface DiffSide {
  /** The selector as given (`latest`, an id, an instant). */
  readonly selector: string;
  /** The data snapshot the point in time resolved to. */
  readonly snapshotId: string;
  readonly finishedAt: string;
  /** The snapshot whose metadata retrieve is current at that point, if any. */
  readonly metadataSnapshotId: string | null;
}

/** The differences of one object present on both sides. */
export interface ObjectDiff {
  readonly object: string;
  /** Rows held on both sides with no difference but audit fields (or none). */
  readonly unchanged: number;
  /** Rows whose only differences are audit fields (SystemModstamp, LastModifiedDate, LastModifiedById): a re-read or a save that changed nothing. */
  readonly auditOnly: number;
  /**
   * Rows whose only differences (audit fields aside) are fields Salesforce computes: formulas and
   * roll-ups, LastViewedDate, LastReferencedDate, LastActivityDate. Not changes anyone made.
   */
  readonly computedOnly: number;
  /** The computed fields of the object (see `computedOnly`): compared apart, never counted as changed. */
  readonly computedFields: readonly string[];
  /** Fields side A describes that a restore from it cannot put back, with why. */
  readonly notRestorable: readonly UnrestorableField[];
  readonly inserted: IdSample;
  readonly deletedToBin: IdSample;
  readonly gone: IdSample;
  readonly purged: IdSample;
  readonly undeleted: IdSample;
  readonly changed: IdSample & {
    /** Each field that changed, with how many rows it changed on; most rows first. */
    readonly fields: readonly { readonly field: string; readonly rows: number }[];
    /** The fields that changed on each sampled row (names only). */
    readonly details: readonly { readonly id: string; readonly fields: readonly string[] }[];
  };
  /** Fields described on one side only: they are not compared. */
  readonly fieldsOnlyInA: readonly string[];
  readonly fieldsOnlyInB: readonly string[];
}

/** Rows of an object that differ between A and B, of every kind (audit-only and computed-only apart). */
export function rowDifferences(o: ObjectDiff): number {
  return (
    o.inserted.count +
    o.deletedToBin.count +
    o.gone.count +
    o.purged.count +
    o.undeleted.count +
    o.changed.count
  );
}

/** Metadata components compared by content (the retrieve's files, as normalised XML). */
export interface MetadataDiff {
  /** False when a side has no metadata retrieve (`reason` says which). */
  readonly compared: boolean;
  readonly reason?: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: number;
}

/** The whole comparison of A (before) and B (after). */
export interface SnapshotDiff {
  readonly org: string;
  readonly a: DiffSide;
  readonly b: DiffSide;
  /** Objects compared (all the sides share, or the one asked for). */
  readonly objects: readonly ObjectDiff[];
  readonly objectsOnlyInA: readonly string[];
  readonly objectsOnlyInB: readonly string[];
  readonly metadata: MetadataDiff;
  /** Most ids kept per kind per object; counts are always exact. */
  readonly sampleLimit: number;
}

/** Options of a diff. */
export interface DiffOptions {
  /** Compare only this object (its name checked against both sides). */
  readonly object?: string;
  /** Most ids kept per kind per object. @default 1000 */
  readonly sampleLimit?: number;
  /** Every differing row as it is found, values included (for the CSV writer; never for logs). */
  readonly onRow?: (row: DiffRow) => void | Promise<void>;
  /**
   * Changed rows whose side-A values are held at once for their field detail: each pass reads both
   * sides in full once, so N changed rows cost ceil(N / detailBatch) passes, and memory holds
   * `detailBatch` rows of the compared fields' values. @default 100000
   */
  readonly detailBatch?: number;
  /** Skip the metadata comparison (it reads both sides' retrieve zips). @default false */
  readonly skipMetadata?: boolean;
  /** How messages name the vault. @default - the store's location */
  readonly where?: string;
}

/** Compares two points in time of `org`; A is the before, B the after. */
export async function diffSnapshots(
  store: BackupStore,
  org: string,
  a: string,
  b: string,
  options: DiffOptions = {},
): Promise<SnapshotDiff> {
  const reader = new SnapshotReader(store);
  const where = options.where ?? store.location;
  const catalog = await reader.catalog(org);
  if (catalog.length === 0) {
    throw new InvalidInsightRequestError(
      `no snapshot of org ${org} in ${where}: run sfbackup backup first, or check --store (or --bucket) and --org.`,
    );
  }
  checkSnapshotId(a, catalog, org, where);
  checkSnapshotId(b, catalog, org, where);
  const pitA = await reader.pointInTime(org, parseSelector(a));
  const pitB = await reader.pointInTime(org, parseSelector(b));
  const namesA = pitA.objectNames();
  const namesB = pitB.objectNames();
  const sampleLimit = options.sampleLimit ?? 1000;
  let common = namesA.filter((n) => namesB.includes(n)).sort();
  if (options.object !== undefined) {
    const name = checkObjectName(
      options.object,
      [...new Set([...namesA, ...namesB])],
      `neither ${pitA.target.snapshotId} nor ${pitB.target.snapshotId}`,
    );
    if (!common.includes(name)) {
      throw new InvalidInsightRequestError(
        `${name} is backed up in ${namesA.includes(name) ? pitA.target.snapshotId : pitB.target.snapshotId} only, so it cannot be compared: choose two snapshots that both hold it (sfbackup snapshots lists them).`,
      );
    }
    common = [name];
  }
  const objects: ObjectDiff[] = [];
  for (const name of common) objects.push(await diffObject(pitA, pitB, name, sampleLimit, options));
  return {
    org,
    a: side(a, pitA),
    b: side(b, pitB),
    objects,
    objectsOnlyInA: options.object ? [] : namesA.filter((n) => !namesB.includes(n)).sort(),
    objectsOnlyInB: options.object ? [] : namesB.filter((n) => !namesA.includes(n)).sort(),
    metadata:
      options.skipMetadata || options.object
        ? { compared: false, reason: 'not asked for', added: [], removed: [], changed: [], unchanged: 0 }
        : await diffMetadata(pitA, pitB),
    sampleLimit,
  };
}

/** One side of a diff as resolved: the selector and the snapshots it names. */
export function side(selector: string, pit: PointInTime): DiffSide {
  return {
    selector,
    snapshotId: pit.target.snapshotId,
    finishedAt: pit.target.finishedAt,
    metadataSnapshotId: pit.metadataSnapshot?.snapshotId ?? null,
  };
}

interface Digest {
  readonly values: string;
  readonly computed: string;
  readonly audit: string;
  readonly deleted: boolean;
}

function digest(values: Readonly<Record<string, string>>, fields: readonly string[]): string {
  const hash = createHash('sha1');
  for (const f of fields) hash.update(`${values[f] ?? ''}\u0000`);
  // 12 bytes of SHA-1 keep a collision between two versions of one row out of reach.
  return hash.digest('base64').slice(0, 16);
}

/** Default of `DiffOptions.detailBatch`: 1M changed rows take 10 passes of each side. */
const DETAIL_BATCH = 100_000;

async function diffObject(
  pitA: PointInTime,
  pitB: PointInTime,
  object: string,
  sampleLimit: number,
  options: DiffOptions,
): Promise<ObjectDiff> {
  const describedA = pitA.fields(object);
  const describedB = pitB.fields(object);
  const inA = describedA.filter((f) => f.inCsv).map((f) => f.name);
  const inB = describedB.filter((f) => f.inCsv).map((f) => f.name);
  const computedSet = computedFields(describedA, describedB);
  const shared = inA.filter((f) => inB.includes(f) && !NOT_COMPARED.has(f));
  const audit = shared.filter((f) => AUDIT_FIELDS.has(f)).sort();
  const computed = shared.filter((f) => !AUDIT_FIELDS.has(f) && computedSet.has(f)).sort();
  const compared = shared.filter((f) => !AUDIT_FIELDS.has(f) && !computedSet.has(f)).sort();
  const emit = async (kind: DiffKind, id: string, sampler: IdSampler): Promise<void> => {
    sampler.add(id);
    await options.onRow?.({ object, kind, id });
  };
  const before = new Map<string, Digest>();
  for await (const row of pitA.rows(object)) {
    before.set(row.id, {
      values: digest(row.values, compared),
      computed: digest(row.values, computed),
      audit: digest(row.values, audit),
      deleted: row.deleted,
    });
  }
  const samplers = {
    inserted: new IdSampler(sampleLimit),
    deletedToBin: new IdSampler(sampleLimit),
    gone: new IdSampler(sampleLimit),
    purged: new IdSampler(sampleLimit),
    undeleted: new IdSampler(sampleLimit),
    changed: new IdSampler(sampleLimit),
  };
  const candidates: string[] = [];
  const seen = new Set<string>();
  let unchanged = 0;
  let auditOnly = 0;
  let computedOnly = 0;
  for await (const row of pitB.rows(object)) {
    seen.add(row.id);
    const was = before.get(row.id);
    if (!was) await emit('inserted', row.id, samplers.inserted);
    else if (!was.deleted && row.deleted) await emit('deletedToBin', row.id, samplers.deletedToBin);
    else if (was.deleted && !row.deleted) await emit('undeleted', row.id, samplers.undeleted);
    else if (was.values !== digest(row.values, compared)) candidates.push(row.id);
    else if (was.computed !== digest(row.values, computed)) computedOnly++;
    else if (was.audit !== digest(row.values, audit)) auditOnly++;
    else unchanged++;
  }
  for (const [id, was] of before) {
    if (seen.has(id)) continue;
    await emit(was.deleted ? 'purged' : 'gone', id, was.deleted ? samplers.purged : samplers.gone);
  }
  before.clear();
  const fieldRows = new Map<string, number>();
  const details: { id: string; fields: string[] }[] = [];
  const batch = Math.max(1, options.detailBatch ?? DETAIL_BATCH);
  for (let start = 0; start < candidates.length; start += batch) {
    const ids = new Set(candidates.slice(start, start + batch));
    // Only the compared fields' values, in `compared` order: the batch's memory is its rows' data.
    const old = new Map<string, string[]>();
    for await (const row of pitA.rows(object)) {
      if (ids.has(row.id))
        old.set(
          row.id,
          compared.map((f) => row.values[f] ?? ''),
        );
    }
    for await (const row of pitB.rows(object)) {
      const was = old.get(row.id);
      if (!was) continue;
      const changes: FieldChange[] = [];
      for (const [i, f] of compared.entries()) {
        const x = was[i] ?? '';
        const y = row.values[f] ?? '';
        if (x !== y) changes.push({ field: f, before: x, after: y });
      }
      for (const c of changes) fieldRows.set(c.field, (fieldRows.get(c.field) ?? 0) + 1);
      samplers.changed.add(row.id);
      if (details.length < sampleLimit) details.push({ id: row.id, fields: changes.map((c) => c.field) });
      await options.onRow?.({ object, kind: 'changed', id: row.id, changes });
    }
  }
  return {
    object,
    unchanged,
    auditOnly,
    computedOnly,
    computedFields: [...computedSet].filter((f) => inA.includes(f) || inB.includes(f)).sort(),
    notRestorable: unrestorableFields(describedA),
    inserted: samplers.inserted.toJSON(),
    deletedToBin: samplers.deletedToBin.toJSON(),
    gone: samplers.gone.toJSON(),
    purged: samplers.purged.toJSON(),
    undeleted: samplers.undeleted.toJSON(),
    changed: {
      ...samplers.changed.toJSON(),
      fields: [...fieldRows]
        .map(([field, rows]) => ({ field, rows }))
        .sort((x, y) => y.rows - x.rows || x.field.localeCompare(y.field)),
      details,
    },
    fieldsOnlyInA: inA.filter((f) => !inB.includes(f)).sort(),
    fieldsOnlyInB: inB.filter((f) => !inA.includes(f)).sort(),
  };
}

async function zipsOf(pit: PointInTime): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const part of pit.metadataParts()) out.push(await pit.readMetadataPart(part));
  return out;
}

/** Compares the metadata retrieves current at A and at B, component by component, by content. */
export async function diffMetadata(pitA: PointInTime, pitB: PointInTime): Promise<MetadataDiff> {
  const none = { added: [], removed: [], changed: [], unchanged: 0 };
  const [ma, mb] = [pitA.metadataSnapshot, pitB.metadataSnapshot];
  if (!ma || !mb) {
    const which = !ma && !mb ? 'neither side' : !ma ? 'side A' : 'side B';
    return { compared: false, reason: `${which} has a metadata retrieve at or before it`, ...none };
  }
  const zipsA = await zipsOf(pitA);
  const componentsA = componentsInZips(zipsA);
  if (ma.snapshotId === mb.snapshotId) {
    return { compared: true, ...none, unchanged: componentsA.length };
  }
  const zipsB = await zipsOf(pitB);
  const componentsB = componentsInZips(zipsB);
  const label = (c: { type: string; fullName: string }): string => `${c.type}:${c.fullName}`;
  const labelsA = new Set(componentsA.map(label));
  const labelsB = new Set(componentsB.map(label));
  const both = componentsA.filter((c) => labelsB.has(label(c)));
  const problems = compareComponentZips(zipOfComponents(zipsA, both), zipOfComponents(zipsB, both), both);
  const changed = both
    .map(label)
    .filter((l) => problems.some((p) => p.startsWith(`${l}: `)))
    .sort();
  return {
    compared: true,
    added: [...labelsB].filter((l) => !labelsA.has(l)).sort(),
    removed: [...labelsA].filter((l) => !labelsB.has(l)).sort(),
    changed,
    unchanged: both.length - changed.length,
  };
}
