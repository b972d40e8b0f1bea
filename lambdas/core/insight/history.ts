/**
 * Every version of one record across an org's complete data snapshots, oldest first, and the
 * change-event journal's events for it. Each snapshot's own parts are scanned once; the version a
 * snapshot shows is then resolved down its chain exactly as PointInTime.rows resolves it (the
 * newest member holding the id wins; a member's tombstone, or a full read without the id, ends it).
 * Values appear here because this is for the engineer's own terminal or page, never for logs.
 */
import { journalArrivals, readJournal } from '../continuous/journal.ts';
import type { CatalogEntry, SnapshotField, SnapshotManifest } from '../snapshot/manifest.ts';
import { readPartRows, SnapshotReader } from '../snapshot/reader.ts';
import type { BackupStore } from '../store.ts';
import {
  AUDIT_FIELDS,
  checkObjectName,
  computedFields,
  idKey,
  InvalidInsightRequestError,
  NOT_COMPARED,
  type UnrestorableField,
  unrestorableFields,
} from './common.ts';
import type { FieldChange } from './diff.ts';

/**
 * What happened to the record by a snapshot: `created` (first seen), `changed`, `deleted` (to the
 * recycle bin), `undeleted`, `hard-deleted` (the delete log lists it and the snapshot holds no
 * version: hard deleted or purged from the bin), `gone` (a full read no longer finds it),
 * `unchanged` (no difference but audit fields).
 */
export type HistoryEvent =
  | 'created'
  | 'changed'
  | 'deleted'
  | 'undeleted'
  | 'hard-deleted'
  | 'gone'
  | 'unchanged';

/** The record as of one snapshot. */
export interface RecordVersion {
  readonly snapshotId: string;
  readonly finishedAt: string;
  readonly event: HistoryEvent;
  /** True when the record was in the recycle bin at this snapshot. */
  readonly inRecycleBin: boolean;
  /** The snapshot of the chain whose part holds this version (an older one when unchanged since). */
  readonly readFrom: string | null;
  /** Fields that differ from the previous version, with values before and after (audit fields apart). */
  readonly changes: readonly FieldChange[];
  /** Audit fields that moved (a save or a re-read), names only. */
  readonly auditChanged: readonly string[];
  /** Fields Salesforce computes (formulas, roll-ups, view dates) that moved, names only: not changes. */
  readonly computedChanged: readonly string[];
  /** Fields this version holds and the previous one did not (added to the backup): not compared. */
  readonly fieldsAdded: readonly string[];
  /** Fields the previous version held and this one does not (removed from the backup): not compared. */
  readonly fieldsRemoved: readonly string[];
  /** Fields this snapshot describes that a restore from it cannot put back, with why. */
  readonly notRestorable: readonly UnrestorableField[];
  /** The full row at this version; null once the record is gone. */
  readonly values: Readonly<Record<string, string>> | null;
}

/** One change event of the journal that names the record. */
export interface JournalEvent {
  readonly committedAt: string;
  readonly changeType: string;
  /** Fields the event's header names as changed (UPDATE events). */
  readonly changedFields: readonly string[];
}

/** The history of one record. */
export interface RecordHistory {
  readonly org: string;
  readonly object: string;
  /** The id as the snapshots spell it (18 characters). */
  readonly id: string;
  readonly versions: readonly RecordVersion[];
  /** Journal events naming the record, oldest first; null when the org has no change-event journal. */
  readonly journal: readonly JournalEvent[] | null;
  /** Complete data snapshots read. */
  readonly snapshotsRead: number;
}

type Own =
  | { readonly kind: 'row'; readonly values: Record<string, string> }
  | { readonly kind: 'tombstone' }
  | { readonly kind: 'read-in-full' }
  | { readonly kind: 'none' };

type State =
  | { readonly kind: 'row'; readonly values: Record<string, string>; readonly from: string }
  | { readonly kind: 'hard-deleted' | 'gone' | 'absent' };

/**
 * Every version of `object` `id` (15 or 18 characters) across the org's complete data snapshots;
 * messages name the vault as `where` (default its location).
 */
export async function recordHistory(
  store: BackupStore,
  org: string,
  object: string,
  id: string,
  where: string = store.location,
): Promise<RecordHistory> {
  const key = idKey(id);
  if (!key) {
    throw new InvalidInsightRequestError(
      `"${id}" is not a record id: give the 15- or 18-character id, e.g. 001000000000001AAA.`,
    );
  }
  const reader = new SnapshotReader(store);
  const snapshots = (await reader.catalog(org)).filter(
    (e) => e.status === 'complete' && e.mode !== 'metadata',
  );
  if (snapshots.length === 0) {
    throw new InvalidInsightRequestError(
      `no complete data snapshot of org ${org} in ${where}: run sfbackup backup first, or check --store (or --bucket) and --org.`,
    );
  }
  const manifests = new Map<string, SnapshotManifest>();
  for (const e of [...snapshots]) {
    const manifest = await reader.manifestUnlessSwept(org, e.snapshotId);
    // The retention sweep removed it since the catalog was read: the history goes without it.
    if (manifest) manifests.set(e.snapshotId, manifest);
    else snapshots.splice(snapshots.indexOf(e), 1);
  }
  const known = new Set<string>();
  for (const m of manifests.values()) for (const o of m.objects) known.add(o.name);
  const name = checkObjectName(object, [...known], `no snapshot of org ${org} in ${where}`);
  const own = new Map<string, Own>();
  for (const m of manifests.values()) own.set(m.snapshotId, await ownVersion(store, m, name, key));
  const versions: RecordVersion[] = [];
  let previous: State = { kind: 'absent' };
  let previousFields: readonly SnapshotField[] = [];
  let foundId: string | undefined;
  for (const entry of snapshots) {
    const state = resolve(entry, manifests, own);
    if (state.kind === 'row') foundId ??= state.values.Id;
    const described = describedFields(manifests.get(entry.snapshotId)!, name);
    const version = versionOf(entry, previous, state, computedFields(previousFields, described), described);
    if (version) versions.push(version);
    previous = state;
    previousFields = described;
  }
  if (!foundId) {
    throw new InvalidInsightRequestError(
      `no snapshot of org ${org} in ${where} holds ${name} ${id} (${snapshots.length} complete data snapshots read): check the id and the object.`,
    );
  }
  return {
    org,
    object: name,
    id: foundId,
    versions,
    journal: await journalEvents(store, org, name, key),
    snapshotsRead: snapshots.length,
  };
}

async function ownVersion(
  store: BackupStore,
  manifest: SnapshotManifest,
  object: string,
  key: string,
): Promise<Own> {
  const entry = manifest.objects.find((o) => o.name === object);
  if (entry?.status === 'exported') {
    for (const part of entry.parts) {
      let hit: Record<string, string> | undefined;
      // Each part is read to its end, so its hash and row count are checked as everywhere else.
      for await (const values of readPartRows(store, part)) {
        if (!hit && values.Id && idKey(values.Id) === key) hit = values;
      }
      if (hit) return { kind: 'row', values: hit };
    }
  }
  if (entry?.tombstones) {
    let listed = false;
    for await (const values of readPartRows(store, entry.tombstones)) {
      if (values.Id && idKey(values.Id) === key) listed = true;
    }
    if (listed) return { kind: 'tombstone' };
  }
  if (manifest.mode === 'full' || (entry?.status === 'exported' && entry.since === null))
    return { kind: 'read-in-full' };
  return { kind: 'none' };
}

/** The fields a snapshot's manifest describes for the object (none when it does not list it). */
function describedFields(manifest: SnapshotManifest, object: string): readonly SnapshotField[] {
  return manifest.objects.find((o) => o.name === object)?.fields ?? [];
}

/** The version `entry`'s point in time shows, walking its chain newest first as PointInTime.rows does. */
function resolve(
  entry: CatalogEntry,
  manifests: Map<string, SnapshotManifest>,
  own: Map<string, Own>,
): State {
  let manifest = manifests.get(entry.snapshotId);
  while (manifest) {
    const mine = own.get(manifest.snapshotId)!;
    if (mine.kind === 'row') return { kind: 'row', values: mine.values, from: manifest.snapshotId };
    if (mine.kind === 'tombstone') return { kind: 'hard-deleted' };
    if (mine.kind === 'read-in-full') return { kind: 'gone' };
    manifest = manifest.baseSnapshotId ? manifests.get(manifest.baseSnapshotId) : undefined;
  }
  return { kind: 'absent' };
}

function versionOf(
  entry: CatalogEntry,
  previous: State,
  state: State,
  computed: ReadonlySet<string>,
  described: readonly SnapshotField[],
): RecordVersion | undefined {
  const base = { snapshotId: entry.snapshotId, finishedAt: entry.finishedAt };
  const none = { changes: [], auditChanged: [], computedChanged: [], fieldsAdded: [], fieldsRemoved: [] };
  if (state.kind !== 'row') {
    if (previous.kind !== 'row') return undefined;
    return {
      ...base,
      event: state.kind === 'hard-deleted' ? 'hard-deleted' : 'gone',
      inRecycleBin: false,
      readFrom: null,
      ...none,
      notRestorable: [],
      values: null,
    };
  }
  const deleted = state.values.IsDeleted === 'true';
  const row = {
    ...base,
    inRecycleBin: deleted,
    readFrom: state.from,
    values: state.values,
    notRestorable: unrestorableFields(described),
  };
  if (previous.kind !== 'row') return { ...row, event: 'created', ...none };
  const changes: FieldChange[] = [];
  const auditChanged: string[] = [];
  const computedChanged: string[] = [];
  // Only the columns both versions hold: a field added to (or removed from) the backup between
  // them is not a change of the record.
  const fieldsAdded = Object.keys(state.values)
    .filter((f) => !(f in previous.values))
    .sort();
  const fieldsRemoved = Object.keys(previous.values)
    .filter((f) => !(f in state.values))
    .sort();
  for (const f of Object.keys(state.values).sort()) {
    if (NOT_COMPARED.has(f) || !(f in previous.values)) continue;
    const before = previous.values[f] ?? '';
    const after = state.values[f] ?? '';
    if (before === after) continue;
    if (AUDIT_FIELDS.has(f)) auditChanged.push(f);
    else if (computed.has(f)) computedChanged.push(f);
    else changes.push({ field: f, before, after });
  }
  const wasDeleted = previous.values.IsDeleted === 'true';
  const event: HistoryEvent =
    !wasDeleted && deleted
      ? 'deleted'
      : wasDeleted && !deleted
        ? 'undeleted'
        : changes.length > 0
          ? 'changed'
          : 'unchanged';
  return { ...row, event, changes, auditChanged, computedChanged, fieldsAdded, fieldsRemoved };
}

interface EventHeader {
  changeType?: string;
  changedFields?: string[];
}

async function journalEvents(
  store: BackupStore,
  org: string,
  object: string,
  key: string,
): Promise<JournalEvent[] | null> {
  const arrivals = await journalArrivals(store, org);
  if (arrivals.length === 0) return null;
  const from = new Date(Math.min(...arrivals.map((a) => Date.parse(a.firstCommit))));
  const out: JournalEvent[] = [];
  // A batch is written after every event it holds was committed: the newest write bounds them all.
  const to = new Date(Math.max(...arrivals.map((a) => Date.parse(a.writtenAt))));
  for (const line of await readJournal(store, org, from, to)) {
    if (line.sort.entityName !== object) continue;
    if (!line.sort.recordIds.some((r) => idKey(r) === key)) continue;
    const payload = (line.event as { detail?: { payload?: { ChangeEventHeader?: EventHeader } } }).detail
      ?.payload;
    out.push({
      committedAt: new Date(line.sort.commitTimestamp).toISOString(),
      changeType: line.sort.changeType,
      changedFields: payload?.ChangeEventHeader?.changedFields ?? [],
    });
  }
  return out;
}
