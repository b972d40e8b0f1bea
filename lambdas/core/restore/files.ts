import { randomUUID } from 'node:crypto';
import type { BackupStore } from '../store.ts';
import { type FileDetails, plannedFiles as plannedFileSource, writeFileDetails } from './file-details.ts';
import { danglingIntents, IdMap, type IdMapFile, type IntentFile, reconcileIntents } from './id-map.ts';
import { restoreKeys } from './keys.ts';
import {
  codeAndFields,
  type FileSelection,
  type RestoreOrg,
  type RowError,
  type SnapshotFile,
  type SnapshotFileLink,
  type SnapshotFileVersion,
  type SnapshotView,
} from './model.ts';
import type { Scope } from './scope.ts';
import { readJson, writeJsonOnce } from './store-json.ts';
import { idKey } from './values.ts';

/** The object file versions are inserted as, and the id map they are recorded under. */
export const FILE_OBJECT = 'ContentVersion';
/** The object a file's shares are inserted as, and the id map they are recorded under. */
export const LINK_OBJECT = 'ContentDocumentLink';

/** A share of a file the restore cannot make, and why. */
export interface UnlinkableLink {
  readonly linkedEntityId: string;
  readonly reason: string;
}

/** What the restore will do for one file (a ContentDocument). */
export interface FilePlanEntry {
  /** The latest ContentVersion id in the snapshot. */
  readonly versionId: string;
  readonly contentDocumentId: string | null;
  /**
   * `undelete`: the document is in the recycle bin; `insert`: it is gone and is made again;
   * `relink`: it is live, and linked to records of the scope this restore brings back.
   */
  readonly action: 'undelete' | 'insert' | 'relink';
  /** On `relink`: the snapshot's records of the scope, not live in the org, to link it to again. */
  readonly relink?: readonly string[];
  /** Versions the snapshot holds (all inserted, oldest first, on `insert`). */
  readonly versions: number;
  /** Links the snapshot holds besides the owner's, which Salesforce makes itself. */
  readonly links: number;
  /** Links that cannot be made: their record is neither in the org nor restored. */
  readonly unlinkable: readonly UnlinkableLink[];
  /** Versions whose body the vault does not hold: the file is made without them, and not whole. */
  readonly missingBodies: readonly string[];
  /**
   * On `insert`, the snapshot's owner of the document: `kept` when that user is active in the org
   * and owns the new versions (`ContentVersion.OwnerId`); otherwise the restoring user owns it.
   */
  readonly owner?: { readonly id: string; readonly kept: boolean };
}

/** The file part of a plan. */
export interface FilePlan {
  readonly entries: FilePlanEntry[];
  /** Files of the scope that are still in the org. */
  readonly present: number;
  /**
   * Where the snapshot's detail of each entry's file is kept beside the plan (see
   * file-details.ts); absent from a dry run's plan and from plans of earlier versions, whose steps
   * read the snapshot.
   */
  readonly details?: FileDetails;
}

/**
 * The largest file body the restore uploads: a ContentVersion (or an attachment) goes to
 * Salesforce as base64 in a JSON request, which takes at most 37.5 MB of base64. 28,000,000 bytes
 * make 37,333,336 characters of it, leaving room for the row's other fields. The body is held in
 * memory to check its SHA-256 before anything is sent, so this also bounds the function's memory.
 */
export const MAX_FILE_BYTES = 28_000_000;

/** Objects that stand for files in an input's `objects`: they select every file of the snapshot. */
export const FILE_OBJECTS = new Set(['ContentVersion', 'ContentDocument']);

/** The snapshot's files a plan names, by their documents (every file if one entry has none). */
export function plannedFiles(plan: FilePlan): FileSelection | undefined {
  const documents = plan.entries.map((e) => e.contentDocumentId);
  return documents.every((d) => d !== null) ? { documents: documents as string[] } : undefined;
}

/** The snapshot's links of a file that the restore makes or checks: all but the owner's. */
export function sharesOf(file: SnapshotFile): SnapshotFileLink[] {
  return file.links.filter((l) => !isOwnerLink(file, l));
}

function isOwnerLink(file: SnapshotFile, link: SnapshotFileLink): boolean {
  return file.ownerId !== null && idKey(link.linkedEntityId) === idKey(file.ownerId);
}

/**
 * Plans the files of the scope: every snapshot file linked to a row in scope (or every file when
 * ContentVersion is asked for) whose document is no longer in the org, with its versions, its
 * links, and the links that cannot be made because their record is neither live nor restored.
 */
export async function planFiles(args: {
  readonly org: RestoreOrg;
  readonly snapshot: SnapshotView;
  readonly scope: Scope;
  readonly allFiles: boolean;
  readonly idMap?: IdMap;
  /** Where to keep the planned files' details (a real run's plan); none for a dry run. */
  readonly details?: {
    readonly store: BackupStore;
    readonly keyOf: (record: number) => string;
    /** Files a record holds. @default FILES_PER_DETAILS_RECORD */
    readonly perRecord?: number;
  };
}): Promise<FilePlan> {
  const inScope = new Set<string>();
  for (const rows of args.scope.values()) for (const k of rows.keys()) inScope.add(k);
  const files = (await args.snapshot.files(args.allFiles ? undefined : { linkedTo: inScope })).filter(
    (f) => args.allFiles || f.linkedEntityIds.some((id) => inScope.has(idKey(id))),
  );
  const docIds = files.flatMap((f) => (f.contentDocumentId ? [f.contentDocumentId] : []));
  const live = new Map(
    (docIds.length > 0 ? await args.org.fetchByIds('ContentDocument', docIds, []) : []).map((r) => [
      idKey(r.Id as string),
      r.IsDeleted === 'true',
    ]),
  );
  // A file an earlier restore made again, every version of it, is in the org under a new id.
  const remade = (f: SnapshotFile) =>
    f.versions.some((v) => v.read) &&
    f.versions.every((v) => !v.read || args.idMap?.get(v.versionId) !== undefined);
  const gone = files.filter((f) => {
    const deleted = f.contentDocumentId ? live.get(idKey(f.contentDocumentId)) : undefined;
    return deleted !== false && !(deleted === undefined && remade(f));
  });
  const targets = new Set<string>();
  for (const f of gone)
    for (const { linkedEntityId: id } of sharesOf(f))
      if (!inScope.has(idKey(id)) && !args.idMap?.get(id)) targets.add(id);
  // A live document keeps its links to live records; one to a record of the scope that is gone or
  // in the recycle bin is made again once the record is back (under a new id when re-inserted).
  const stillLive = files.filter(
    (f) => f.contentDocumentId && live.get(idKey(f.contentDocumentId)) === false,
  );
  const scoped = new Set<string>();
  for (const f of stillLive)
    for (const { linkedEntityId: id } of sharesOf(f)) if (inScope.has(idKey(id))) scoped.add(id);
  const alive = await liveRecords(args.org, [...new Set([...targets, ...scoped])]);
  const relinked: SnapshotFile[] = [];
  const relinks: FilePlanEntry[] = stillLive.flatMap((f) => {
    const relink = sharesOf(f)
      .filter((l) => scoped.has(l.linkedEntityId) && alive.get(idKey(l.linkedEntityId)) === false)
      .map((l) => l.linkedEntityId);
    if (relink.length === 0) return [];
    relinked.push(f);
    return [
      {
        versionId: f.versionId,
        contentDocumentId: f.contentDocumentId,
        action: 'relink' as const,
        versions: f.versions.length,
        links: relink.length,
        relink,
        unlinkable: [],
        missingBodies: [],
      },
    ];
  });
  const owners = [...new Set(gone.flatMap((f) => (f.ownerId ? [f.ownerId] : [])))];
  const active = owners.length > 0 ? await args.org.activeUsers(owners) : new Set<string>();
  const entries: FilePlanEntry[] = gone.map((f) => {
    const deleted = f.contentDocumentId ? live.get(idKey(f.contentDocumentId)) : undefined;
    const shares = sharesOf(f);
    const unlinkable = shares
      .filter((l) => targets.has(l.linkedEntityId) && alive.get(idKey(l.linkedEntityId)) === false)
      .map((l) => ({
        linkedEntityId: l.linkedEntityId,
        reason: `record ${l.linkedEntityId} is neither in the org nor restored by this restore: include its object in the restore, or restore it first`,
      }));
    return {
      versionId: f.versionId,
      contentDocumentId: f.contentDocumentId,
      action: deleted === true ? 'undelete' : 'insert',
      versions: f.versions.length,
      links: shares.length,
      unlinkable,
      missingBodies: f.versions.filter((v) => !v.read).map((v) => v.versionId),
      ...(deleted !== true && f.ownerId
        ? { owner: { id: f.ownerId, kept: active.has(idKey(f.ownerId)) } }
        : {}),
    };
  });
  const details = args.details
    ? await writeFileDetails(
        args.details.store,
        args.details.keyOf,
        [...gone, ...relinked],
        args.details.perRecord,
      )
    : undefined;
  return {
    entries: [...entries, ...relinks],
    present: files.length - gone.length,
    ...(details ? { details } : {}),
  };
}

/**
 * Whether each record is live in the org (true), or in the recycle bin or gone (false); ids whose
 * object the org does not name are left out (their link is tried, and its error reported).
 */
async function liveRecords(org: RestoreOrg, ids: readonly string[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  if (ids.length === 0) return out;
  const candidates = (await org.describe(LINK_OBJECT))?.fields.find(
    (f) => f.name === 'LinkedEntityId',
  )?.referenceTo;
  const byPrefix = new Map<string, string[]>();
  for (const id of ids) byPrefix.set(id.slice(0, 3), [...(byPrefix.get(id.slice(0, 3)) ?? []), id]);
  const objects = new Map<string, string>();
  for (const object of candidates ?? []) {
    if (objects.size === byPrefix.size) break;
    const info = await org.describe(object);
    // An object without a recycle bin (User) cannot be read the way `fetchByIds` reads: its links are tried.
    if (!info?.keyPrefix || !info.fields.some((f) => f.name === 'IsDeleted')) continue;
    if (byPrefix.has(info.keyPrefix)) objects.set(info.keyPrefix, object);
  }
  for (const [prefix, object] of objects) {
    const group = byPrefix.get(prefix) ?? [];
    const rows = await org.fetchByIds(object, group, []);
    const found = new Set(rows.filter((r) => r.IsDeleted !== 'true').map((r) => idKey(r.Id as string)));
    for (const id of group) out.set(idKey(id), found.has(idKey(id)));
  }
  return out;
}

/** The plan's lines about files: the totals, then each file (at most `shown`) with what it needs. */
export function summarizeFilePlan(plan: FilePlan, shown: number): string[] {
  const count = (action: FilePlanEntry['action']) => plan.entries.filter((e) => e.action === action).length;
  const relinks = count('relink');
  const lines = [
    `  Files: ${count('undelete')} to undelete, ${count('insert')} to make again, ${plan.present} still in the org${relinks > 0 ? ` (${relinks} of them to link again to records this restore brings back)` : ''}.`,
  ];
  for (const e of plan.entries.slice(0, shown)) {
    const what =
      e.action === 'undelete'
        ? `undelete (its ${e.versions} version(s) and ${e.links} link(s) come back with it)`
        : e.action === 'relink'
          ? `still in the org: link again to ${e.links} record(s) this restore brings back (${(e.relink ?? []).join(', ')})`
          : `make again: ${e.versions} version(s) in order, ${e.links} link(s)`;
    lines.push(`    file ${e.contentDocumentId ?? e.versionId}: ${what}`);
    if (e.owner)
      lines.push(
        e.owner.kept
          ? `      owned by ${e.owner.id}, as in the snapshot`
          : `      owner ${e.owner.id} is not an active user in the org: the restoring user owns the file, and ${e.owner.id} gets no link to it`,
      );
    for (const v of e.missingBodies)
      lines.push(`      version ${v}: the vault holds no body for it, so the file is made without it`);
    for (const u of e.unlinkable) lines.push(`      link to ${u.linkedEntityId} cannot be made: ${u.reason}`);
  }
  if (plan.entries.length > shown)
    lines.push(`    ... and ${plan.entries.length - shown} more file(s) in the plan.`);
  return lines;
}

/** One file the restore could not bring back whole, and why. */
export interface FileFailure {
  /** The document's id in the snapshot (or its latest version's, when the snapshot names no document). */
  readonly fileId: string;
  /** The version or the linked record the failure is about, when it is about one. */
  readonly itemId?: string;
  readonly errors: readonly RowError[];
}

/** The outcome of restoring the files (of one invocation, from `cursor` on). */
export interface FilesOutcome {
  readonly restored: number;
  readonly versions: number;
  readonly links: number;
  readonly failures: FileFailure[];
  /** Whether every file of the plan is done; if not, call again from `next`. */
  readonly done: boolean;
  /** The plan entry the next invocation starts at. */
  readonly next: number;
}

/** What the restore writes before and after one link insert. */
interface LinkRecord {
  readonly oldId: string;
  readonly contentDocumentId: string;
  readonly linkedEntityId: string;
}

/**
 * Brings files back: undeletes documents still in the recycle bin (their versions and links come
 * back with them); makes the others again, version by version in order, then shares each with
 * every record the snapshot links it to (old ids mapped to the records this restore inserted).
 * Each insert writes its intent first and its result after, so a re-run after a crash between any
 * two calls carries on from where it stopped and never makes a version or a link twice.
 */
export async function restoreFiles(args: {
  readonly org: RestoreOrg;
  readonly store: BackupStore;
  /**
   * Resolves the snapshot (its manifest chain): called only for a plan that keeps no file details
   * (a dry run's, or one an earlier version made).
   */
  readonly snapshot: () => Promise<SnapshotView>;
  /** The run's restore root (see `restoreRoot`), where the id map and the outcomes are kept. */
  readonly root: string;
  readonly runId: string;
  readonly userId: string;
  readonly plan: FilePlan;
  readonly danglingReferences: readonly string[];
  readonly now?: () => number;
  /** The plan entry to start at: 0 first, then the `next` of the invocation before. */
  readonly cursor?: number;
  /** Epoch ms: no file is started after it; the outcome then says where to carry on. */
  readonly deadline?: number;
}): Promise<FilesOutcome> {
  const { org, store, root, runId } = args;
  const start = args.cursor ?? 0;
  const now = args.now ?? Date.now;
  const outcomeKey = restoreKeys.outcome(root, runId, FILE_OBJECT, start === 0 ? 'files' : `files-${start}`);
  const earlier = await readJson<FilesOutcome>(store, outcomeKey);
  if (earlier) return earlier;
  const idMap = await IdMap.load(store, root);
  await reconcileIntents(store, org, root, FILE_OBJECT, idMap);
  await reconcileLinks(store, org, root, idMap);
  const failures: FileFailure[] = [];
  let restored = 0;
  let versions = 0;
  let links = 0;
  const fileAt = plannedFileSource({
    store,
    details: args.plan.details,
    keyOf: (record) => restoreKeys.fileDetails(root, runId, record),
    fromSnapshot: async () => (await args.snapshot()).files(plannedFiles(args.plan)),
  });
  const run: FileRun = {
    org,
    store,
    root,
    runId,
    userId: args.userId,
    idMap,
    dangling: new Set(args.danglingReferences),
    attempt: randomUUID().slice(0, 8),
    now: args.now ?? Date.now,
  };
  // Undeletes bring no bodies: they are done at once, by the first invocation.
  const undeleting =
    start === 0
      ? args.plan.entries.flatMap((e, index) =>
          e.action === 'undelete' && e.contentDocumentId ? [{ e, index }] : [],
        )
      : [];
  const undeletes = undeleting.map((u) => u.e);
  if (undeletes.length > 0) {
    const results = await org.undelete(undeletes.map((e) => e.contentDocumentId as string));
    // A re-run after a crash finds documents it already undeleted live: they count as restored.
    const refused = undeletes
      .filter((_, i) => !results[i]?.success)
      .map((e) => e.contentDocumentId as string);
    const back = new Set(
      (refused.length > 0 ? await org.fetchByIds('ContentDocument', refused, []) : [])
        .filter((r) => r.IsDeleted === 'false')
        .map((r) => idKey(r.Id as string)),
    );
    for (const [i, e] of undeletes.entries()) {
      const r = results[i];
      const fileId = e.contentDocumentId as string;
      if (!r?.success && !back.has(idKey(fileId))) {
        failures.push({
          fileId,
          errors: r ? codeAndFields(r.errors) : [{ statusCode: 'NO_RESULT', message: 'no result' }],
        });
        continue;
      }
      // Its links came back with it, except to records deleted for good since: those are shared
      // again with the records' new ids.
      const file = await fileAt(undeleting[i]!.index, e);
      const shared = file
        ? await shareFile(
            run,
            file,
            fileId,
            new Map(e.unlinkable.map((u) => [idKey(u.linkedEntityId), u.reason])),
          )
        : { links: 0, failures: [] };
      links += shared.links;
      for (const f of shared.failures) failures.push({ fileId, itemId: f.linkedEntityId, errors: f.errors });
      if (shared.failures.length === 0) restored += 1;
    }
  }
  let next = args.plan.entries.length;
  for (const [index, e] of args.plan.entries.entries()) {
    if (index < start || e.action === 'undelete') continue;
    if (args.deadline !== undefined && index > start && now() > args.deadline) {
      next = index;
      break;
    }
    if (e.action === 'relink') {
      links += await relinkFile(run, await fileAt(index, e), e, failures);
      continue;
    }
    const file = await fileAt(index, e);
    const fileId = e.contentDocumentId ?? e.versionId;
    if (!file) {
      failures.push({
        fileId,
        errors: [{ statusCode: 'NOT_IN_SNAPSHOT', message: 'the snapshot no longer holds this file' }],
      });
      continue;
    }
    const cannot = new Map(e.unlinkable.map((u) => [idKey(u.linkedEntityId), u.reason]));
    const owner = e.owner?.kept ? e.owner.id : undefined;
    const made = await insertVersions(run, file, index, cannot, owner);
    versions += made.versions;
    for (const v of made.missing) {
      const number = file.versions.find((x) => x.versionId === v)?.versionNumber;
      failures.push({
        fileId,
        itemId: v,
        errors: [
          {
            statusCode: 'NOT_IN_SNAPSHOT',
            message: `the vault holds no body for version ${number}: the file was made without it`,
          },
        ],
      });
    }
    if (!made.documentId) {
      failures.push({ fileId, ...(made.itemId ? { itemId: made.itemId } : {}), errors: made.errors });
      continue;
    }
    const shared = await shareFile(run, file, made.documentId, cannot);
    links += shared.links;
    for (const f of shared.failures) failures.push({ fileId, itemId: f.linkedEntityId, errors: f.errors });
    if (made.errors.length > 0) {
      failures.push({ fileId, ...(made.itemId ? { itemId: made.itemId } : {}), errors: made.errors });
    } else if (shared.failures.length === 0 && made.missing.length === 0) restored += 1;
  }
  const outcome: FilesOutcome = {
    restored,
    versions,
    links,
    failures,
    done: next >= args.plan.entries.length,
    next,
  };
  await writeJsonOnce(store, outcomeKey, outcome);
  return outcome;
}

/** Links a live document again to the records of the scope brought back; answers the links made. */
async function relinkFile(
  run: FileRun,
  file: SnapshotFile | undefined,
  e: FilePlanEntry,
  failures: FileFailure[],
): Promise<number> {
  const fileId = e.contentDocumentId;
  if (!file || !fileId) return 0;
  const only = new Set((e.relink ?? []).map(idKey));
  const shared = await shareFile(run, file, fileId, new Map(), (l) => only.has(idKey(l.linkedEntityId)));
  for (const f of shared.failures) failures.push({ fileId, itemId: f.linkedEntityId, errors: f.errors });
  return shared.links;
}

interface FileRun {
  readonly org: RestoreOrg;
  readonly store: BackupStore;
  readonly root: string;
  readonly runId: string;
  readonly userId: string;
  readonly idMap: IdMap;
  readonly dangling: ReadonlySet<string>;
  readonly attempt: string;
  readonly now: () => number;
}

/** The id a snapshot record has in the org now: its new id if restored, none if it is dangling. */
function mapped(run: FileRun, oldId: string): string | null {
  return run.idMap.get(oldId) ?? (run.dangling.has(idKey(oldId)) ? null : oldId);
}

/**
 * Inserts the file's versions in order: the first made makes the document, each later one is added
 * to it. A version the vault holds no body for is skipped and answered in `missing`; the file stops
 * at the first version that cannot be made otherwise.
 */
async function insertVersions(
  run: FileRun,
  file: SnapshotFile,
  index: number,
  cannot: ReadonlyMap<string, string>,
  owner: string | undefined,
): Promise<{
  documentId: string | null;
  versions: number;
  missing: string[];
  itemId?: string;
  errors: RowError[];
}> {
  let documentId: string | null = null;
  let versions = 0;
  const missing: string[] = [];
  for (const [n, version] of file.versions.entries()) {
    const done = run.idMap.get(version.versionId);
    if (!done) {
      // A version the vault holds no body for is left out: the others are made without it.
      if (!version.read) {
        missing.push(version.versionId);
        continue;
      }
      const problem = await insertVersion(run, file, version, documentId, `${index}-${n}`, cannot, owner);
      if (problem) return { documentId, versions, missing, itemId: version.versionId, errors: problem };
      versions += 1;
    }
    if (documentId === null) {
      const first = run.idMap.get(version.versionId) as string;
      const [row] = await run.org.fetchByIds(FILE_OBJECT, [first], ['ContentDocumentId']);
      documentId = row?.ContentDocumentId ?? null;
      if (!documentId)
        return {
          documentId,
          versions,
          missing,
          itemId: version.versionId,
          errors: [
            { statusCode: 'NO_DOCUMENT', message: 'the first version made no document the org shows' },
          ],
        };
      if (file.contentDocumentId) {
        const record: IdMapFile = {
          object: 'ContentDocument',
          batch: `${run.runId}-file-${index}`,
          entries: [[file.contentDocumentId, documentId]],
          failed: [],
          source: 'insert',
        };
        await writeJsonOnce(run.store, restoreKeys.idMap(run.root, 'ContentDocument', record.batch), record);
      }
    }
  }
  return { documentId, versions, missing, errors: [] };
}

/** Inserts one version; answers its errors when it could not be made. */
async function insertVersion(
  run: FileRun,
  file: SnapshotFile,
  version: SnapshotFileVersion,
  documentId: string | null,
  slot: string,
  cannot: ReadonlyMap<string, string>,
  owner: string | undefined,
): Promise<RowError[] | undefined> {
  const read = version.read;
  if (!read) return [{ statusCode: 'NOT_IN_SNAPSHOT', message: 'no body' }];
  if (version.bytes !== undefined && version.bytes > MAX_FILE_BYTES) {
    return [
      {
        statusCode: 'FILE_TOO_LARGE',
        message: `version ${version.versionNumber} is ${(version.bytes / 1e6).toFixed(1)} MB; the restore uploads files of at most ${MAX_FILE_BYTES / 1e6} MB (one Salesforce request). Upload it by hand from the vault.`,
      },
    ];
  }
  let data: Uint8Array;
  try {
    data = await read();
  } catch (error) {
    return [
      {
        statusCode: 'BODY_UNREADABLE',
        message: `the vault's body of version ${version.versionNumber} cannot be used: ${(error as Error).message}`,
      },
    ];
  }
  const values: Record<string, string | null> = { Title: version.title, PathOnClient: version.pathOnClient };
  const types: Record<string, string> = { Title: 'string', PathOnClient: 'string' };
  if (documentId) {
    values.ContentDocumentId = documentId;
    types.ContentDocumentId = 'reference';
  } else if (file.firstPublishLocationId && !cannot.has(idKey(file.firstPublishLocationId))) {
    const parent = mapped(run, file.firstPublishLocationId);
    if (parent) {
      values.FirstPublishLocationId = parent;
      types.FirstPublishLocationId = 'reference';
    }
  }
  if (owner) {
    values.OwnerId = owner;
    types.OwnerId = 'reference';
  }
  if (version.reasonForChange) {
    values.ReasonForChange = version.reasonForChange;
    types.ReasonForChange = 'string';
  }
  const batch = `${run.runId}-file-${slot}-${run.attempt}`;
  const intent: IntentFile = {
    object: FILE_OBJECT,
    batch,
    since: new Date(run.now()).toISOString(),
    userId: run.userId,
    types,
    rows: [{ oldId: version.versionId, values }],
  };
  await writeJsonOnce(run.store, restoreKeys.intent(run.root, FILE_OBJECT, batch), intent);
  const result = await run.org.createFile({
    title: version.title,
    pathOnClient: version.pathOnClient,
    data,
    ...(values.FirstPublishLocationId ? { firstPublishLocationId: values.FirstPublishLocationId } : {}),
    ...(documentId ? { contentDocumentId: documentId } : {}),
    ...(version.reasonForChange ? { reasonForChange: version.reasonForChange } : {}),
    ...(owner ? { ownerId: owner } : {}),
  });
  const entries: [string, string][] = result.success && result.id ? [[version.versionId, result.id]] : [];
  const failed = result.success ? [] : [{ oldId: version.versionId, errors: codeAndFields(result.errors) }];
  const record: IdMapFile = { object: FILE_OBJECT, batch, entries, failed, source: 'insert' };
  await writeJsonOnce(run.store, restoreKeys.idMap(run.root, FILE_OBJECT, batch), record);
  run.idMap.addAll(entries);
  return result.success ? undefined : codeAndFields(result.errors);
}

/**
 * Shares the new document with every record (those `only` selects) the snapshot links it to, with the snapshot's
 * ShareType and Visibility: links the org already holds (the first publish location's, made by
 * Salesforce) are set to them, the others inserted one by one.
 */
async function shareFile(
  run: FileRun,
  file: SnapshotFile,
  documentId: string,
  cannot: ReadonlyMap<string, string>,
  only: (link: SnapshotFileLink) => boolean = () => true,
): Promise<{ links: number; failures: { linkedEntityId: string; errors: RowError[] }[] }> {
  const failures: { linkedEntityId: string; errors: RowError[] }[] = [];
  const held = new Map(
    (
      await run.org.fetchWhereIn(
        LINK_OBJECT,
        'ContentDocumentId',
        [documentId],
        ['LinkedEntityId', 'ShareType', 'Visibility'],
      )
    )
      .filter((r) => r.IsDeleted !== 'true' && r.LinkedEntityId)
      .map((r) => [idKey(r.LinkedEntityId as string), r]),
  );
  let links = 0;
  for (const link of sharesOf(file).filter(only)) {
    const reason = cannot.get(idKey(link.linkedEntityId));
    const target = reason ? null : mapped(run, link.linkedEntityId);
    if (!target) {
      failures.push({
        linkedEntityId: link.linkedEntityId,
        errors: [
          {
            statusCode: 'LINK_TARGET_MISSING',
            message:
              reason ??
              `record ${link.linkedEntityId} is neither in the org nor restored by this restore: include its object in the restore, or restore it first`,
          },
        ],
      });
      continue;
    }
    const existing = held.get(idKey(target));
    if (existing) {
      if (existing.ShareType !== link.shareType || existing.Visibility !== link.visibility) {
        const [r] = await run.org.update(LINK_OBJECT, [
          { Id: existing.Id as string, ShareType: link.shareType, Visibility: link.visibility },
        ]);
        if (!r?.success) {
          failures.push({
            linkedEntityId: link.linkedEntityId,
            errors: r ? codeAndFields(r.errors) : [{ statusCode: 'NO_RESULT', message: 'no result' }],
          });
          continue;
        }
      }
      links += 1;
      continue;
    }
    const batch = `${run.runId}-link-${idKey(documentId)}-${idKey(target)}-${run.attempt}`;
    const intent: LinkRecord = { oldId: link.id, contentDocumentId: documentId, linkedEntityId: target };
    await writeJsonOnce(run.store, restoreKeys.intent(run.root, LINK_OBJECT, batch), intent);
    const [result] = await run.org.create(LINK_OBJECT, [
      {
        ContentDocumentId: documentId,
        LinkedEntityId: target,
        ShareType: link.shareType,
        Visibility: link.visibility,
      },
    ]);
    const ok = result?.success === true && result.id !== null;
    const record: IdMapFile = {
      object: LINK_OBJECT,
      batch,
      entries: ok ? [[link.id, result.id as string]] : [],
      failed: ok ? [] : [{ oldId: link.id, errors: result ? codeAndFields(result.errors) : [] }],
      source: 'insert',
    };
    await writeJsonOnce(run.store, restoreKeys.idMap(run.root, LINK_OBJECT, batch), record);
    run.idMap.addAll(record.entries);
    if (ok) links += 1;
    else
      failures.push({
        linkedEntityId: link.linkedEntityId,
        errors: result ? codeAndFields(result.errors) : [{ statusCode: 'NO_RESULT', message: 'no result' }],
      });
  }
  return { links, failures };
}

/**
 * Settles link inserts interrupted between the insert and the write of its result: the link is
 * looked up in the org by its document and record, which Salesforce holds at most once, and its
 * result written as found (or as not made, and it is inserted again).
 */
async function reconcileLinks(
  store: BackupStore,
  org: RestoreOrg,
  root: string,
  idMap: IdMap,
): Promise<void> {
  for (const key of await danglingIntents(store, root, LINK_OBJECT)) {
    const intent = await readJson<LinkRecord>(store, key);
    if (!intent) continue;
    const batch = key.slice(key.lastIndexOf('/') + 1).replace(/\.json$/, '');
    const found = (
      await org.fetchWhereIn(LINK_OBJECT, 'ContentDocumentId', [intent.contentDocumentId], ['LinkedEntityId'])
    ).find(
      (r) =>
        r.IsDeleted !== 'true' &&
        r.LinkedEntityId &&
        idKey(r.LinkedEntityId) === idKey(intent.linkedEntityId),
    );
    if (!found?.Id) {
      // Never made: the intent is withdrawn by a result with no entry, and the link is inserted again.
      const record: IdMapFile = { object: LINK_OBJECT, batch, entries: [], failed: [], source: 'reconciled' };
      await writeJsonOnce(store, restoreKeys.idMap(root, LINK_OBJECT, batch), record);
      continue;
    }
    const record: IdMapFile = {
      object: LINK_OBJECT,
      batch,
      entries: [[intent.oldId, found.Id]],
      failed: [],
      source: 'reconciled',
    };
    await writeJsonOnce(store, restoreKeys.idMap(root, LINK_OBJECT, batch), record);
    idMap.addAll(record.entries);
  }
}
