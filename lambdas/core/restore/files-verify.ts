import { createHash } from 'node:crypto';
import type { BackupStore } from '../store.ts';
import {
  type FilePlan,
  type FilePlanEntry,
  FILE_OBJECT,
  LINK_OBJECT,
  MAX_FILE_BYTES,
  plannedFiles,
  sharesOf,
} from './files.ts';
import { plannedFiles as plannedFileSource } from './file-details.ts';
import { IdMap } from './id-map.ts';
import { restoreKeys } from './keys.ts';
import type { RestoreOrg, Row, SnapshotFile, SnapshotView } from './model.ts';
import { idKey } from './values.ts';

/** One way a restored file differs from the snapshot. */
export interface FileProblem {
  /** The document's id in the snapshot (or its latest version's). */
  readonly fileId: string;
  readonly problem: string;
}

/** Plan entries checked together: each group costs the org four queries, not four per file. */
export const FILES_CHECKED_AT_ONCE = 100;

/** What one call of `verifyFiles` found, and where the next call goes on. */
export interface FileCheck {
  readonly problems: FileProblem[];
  /** The plan entry the next call starts at; the number of entries when `done`. */
  readonly next: number;
  readonly done: boolean;
}

/**
 * Compares each file the restore brought back with the snapshot: the number of versions, each
 * version's bytes in order (the MD5 of the vault's body against Salesforce's
 * `ContentVersion.Checksum`), and the set of links (record, ShareType, Visibility), the snapshot's
 * records mapped to the ids this restore gave them. The owner's link is left out on both sides:
 * Salesforce makes it for whoever owns the document.
 *
 * Files are checked `FILES_CHECKED_AT_ONCE` plan entries at a time from entry `cursor`; past
 * `deadline` no further group is started (one always is), and the answer says where to go on.
 */
export async function verifyFiles(args: {
  readonly org: RestoreOrg;
  readonly store: BackupStore;
  /** Resolves the snapshot: called only for a plan that keeps no file details. */
  readonly snapshot: () => Promise<SnapshotView>;
  /** The run's restore root (see `restoreRoot`), whose id map names the restored copies. */
  readonly root: string;
  /** The run, whose plan's file details (when it has them) are read instead of the snapshot. */
  readonly runId: string;
  readonly plan: FilePlan;
  readonly cursor?: number;
  /** Epoch ms: no group of files is started after it. */
  readonly deadline?: number;
  readonly now?: () => number;
  readonly atOnce?: number;
}): Promise<FileCheck> {
  const idMap = await IdMap.load(args.store, args.root);
  const fileAt = plannedFileSource({
    store: args.store,
    details: args.plan.details,
    keyOf: (record) => restoreKeys.fileDetails(args.root, args.runId, record),
    fromSnapshot: async () => (await args.snapshot()).files(plannedFiles(args.plan)),
  });
  const { entries } = args.plan;
  const start = args.cursor ?? 0;
  const atOnce = Math.max(1, args.atOnce ?? FILES_CHECKED_AT_ONCE);
  const now = args.now ?? Date.now;
  const problems: FileProblem[] = [];
  for (let from = start; from < entries.length; from += atOnce) {
    if (args.deadline !== undefined && from > start && now() > args.deadline)
      return { problems, next: from, done: false };
    const group = entries.slice(from, from + atOnce);
    const files = await Promise.all(group.map((entry, i) => fileAt(from + i, entry)));
    problems.push(...(await checkGroup(args.org, idMap, files, group)));
  }
  return { problems, next: entries.length, done: true };
}

/** A plan entry whose file the snapshot holds, and the document it came back as. */
interface Restored {
  readonly index: number;
  readonly entry: FilePlanEntry;
  readonly fileId: string;
  readonly file: SnapshotFile;
  readonly documentId: string;
}

/** Checks a group of plan entries with one query per kind of record; problems in entry order. */
async function checkGroup(
  org: RestoreOrg,
  idMap: IdMap,
  files: readonly (SnapshotFile | undefined)[],
  entries: readonly FilePlanEntry[],
): Promise<FileProblem[]> {
  const found: FileProblem[][] = entries.map(() => []);
  const say = (index: number, fileId: string, problem: string) => found[index]!.push({ fileId, problem });
  const inSnapshot: Omit<Restored, 'documentId'>[] = [];
  for (const [index, entry] of entries.entries()) {
    const fileId = entry.contentDocumentId ?? entry.versionId;
    const file = files[index];
    if (file) inSnapshot.push({ index, entry, fileId, file });
    else say(index, fileId, 'the snapshot no longer holds this file');
  }
  // A re-made file's document is the one its first version, as this restore made it, belongs to.
  const firstVersionOf = (file: SnapshotFile) =>
    file.versions[0] ? idMap.get(file.versions[0].versionId) : undefined;
  const firstVersions = inSnapshot
    .filter((r) => r.entry.action === 'insert')
    .flatMap((r) => firstVersionOf(r.file) ?? []);
  const documentOf = new Map(
    (firstVersions.length > 0 ? await org.fetchByIds(FILE_OBJECT, firstVersions, ['ContentDocumentId']) : [])
      .filter((v) => v.ContentDocumentId)
      .map((v) => [idKey(v.Id as string), v.ContentDocumentId as string]),
  );
  const restored: Restored[] = [];
  for (const r of inSnapshot) {
    const first = r.entry.action === 'insert' ? firstVersionOf(r.file) : undefined;
    const documentId =
      r.entry.action === 'insert' ? first && documentOf.get(idKey(first)) : r.entry.contentDocumentId;
    if (documentId) restored.push({ ...r, documentId });
    else say(r.index, r.fileId, 'the file was not restored');
  }
  const documents = byId(
    restored.length > 0
      ? await org.fetchByIds('ContentDocument', unique(restored.map((r) => r.documentId)), ['OwnerId'])
      : [],
  );
  const live = restored.filter((r) => {
    const document = documents.get(idKey(r.documentId));
    if (document && document.IsDeleted !== 'true') return true;
    say(r.index, r.fileId, `the restored document ${r.documentId} is not in the org`);
    return false;
  });
  /** The live rows of `object` of the documents, by document: one query (in chunks) for all. */
  const rowsByDocument = async (object: string, of: readonly Restored[], fields: readonly string[]) =>
    byDocument(
      of.length > 0
        ? await org.fetchWhereIn(object, 'ContentDocumentId', unique(of.map((r) => r.documentId)), [
            'ContentDocumentId',
            ...fields,
          ])
        : [],
    );
  const linksOf = await rowsByDocument(LINK_OBJECT, live, ['LinkedEntityId', 'ShareType', 'Visibility']);
  const made = live.filter((r) => r.entry.action !== 'relink');
  const versionsOf = await rowsByDocument(FILE_OBJECT, made, ['VersionNumber', 'Checksum']);
  for (const r of live) {
    const problem = (text: string) => say(r.index, r.fileId, text);
    const links = linksOf.get(idKey(r.documentId)) ?? [];
    if (r.entry.action === 'relink') checkRelinked(r, idMap, links, problem);
    else
      await checkMade(
        r,
        idMap,
        documents.get(idKey(r.documentId))!,
        (versionsOf.get(idKey(r.documentId)) ?? []).sort(
          (a, b) => Number(a.VersionNumber) - Number(b.VersionNumber),
        ),
        links,
        problem,
      );
  }
  return found.flat();
}

/** A live document the restore did not touch: only its links to the records brought back count. */
function checkRelinked(
  r: Restored,
  idMap: IdMap,
  links: readonly Row[],
  say: (problem: string) => void,
): void {
  const only = new Set((r.entry.relink ?? []).map(idKey));
  const held = new Set(
    links
      .filter((l) => l.LinkedEntityId)
      .map((l) => `${idKey(l.LinkedEntityId as string)} ${l.ShareType} ${l.Visibility}`),
  );
  for (const l of sharesOf(r.file).filter((s) => only.has(idKey(s.linkedEntityId)))) {
    const target = idMap.get(l.linkedEntityId) ?? l.linkedEntityId;
    if (!held.has(`${idKey(target)} ${l.shareType} ${l.visibility}`))
      say(
        `the link to ${target} (ShareType ${l.shareType}, Visibility ${l.visibility}) is missing from document ${r.documentId}`,
      );
  }
}

/** An undeleted or re-made document: its owner, its versions in order, and its links. */
async function checkMade(
  r: Restored,
  idMap: IdMap,
  document: Row,
  versions: readonly Row[],
  links: readonly Row[],
  say: (problem: string) => void,
): Promise<void> {
  const { entry: e, file, documentId } = r;
  if (e.owner && (!document.OwnerId || idKey(document.OwnerId) !== idKey(e.owner.id)))
    say(
      e.owner.kept
        ? `document ${documentId} is owned by ${document.OwnerId}; the snapshot's owner is ${e.owner.id}`
        : `document ${documentId} is owned by ${document.OwnerId}: the snapshot's owner ${e.owner.id} is not an active user in the org`,
    );
  if (versions.length !== file.versions.length)
    say(
      `document ${documentId} holds ${versions.length} version(s); the snapshot holds ${file.versions.length}`,
    );
  // A re-made document holds only the versions the vault has a body for, in order.
  const expected = e.action === 'undelete' ? file.versions : file.versions.filter((v) => v.read);
  for (const version of file.versions) {
    const actual = versions[expected.indexOf(version)];
    if (!version.read) {
      say(
        e.action === 'undelete'
          ? `the vault holds no body for version ${version.versionNumber}, so its bytes cannot be checked`
          : `the vault holds no body for version ${version.versionNumber}, so the file was made without it`,
      );
      continue;
    }
    let md5: string;
    try {
      // The snapshot's checksum, when it holds one, spares reading the body (up to 2 GB).
      md5 = version.checksum
        ? version.checksum.toLowerCase()
        : version.bytes !== undefined && version.bytes > MAX_FILE_BYTES
          ? ''
          : createHash('md5')
              .update(await version.read())
              .digest('hex');
    } catch (error) {
      say(`the vault's body of version ${version.versionNumber} cannot be used: ${(error as Error).message}`);
      continue;
    }
    if (!actual) {
      say(`version ${version.versionNumber} is missing from document ${documentId}`);
      continue;
    }
    if (md5 === '') {
      say(
        `version ${version.versionNumber}: the snapshot holds no checksum for it, so its bytes cannot be checked`,
      );
      continue;
    }
    if (actual.Checksum?.toLowerCase() !== md5)
      say(`version ${version.versionNumber} (${actual.Id}) does not hold the snapshot's bytes`);
  }
  const owner = document.OwnerId ? idKey(document.OwnerId) : null;
  const shown = (id: string, shareType: string | null, visibility: string | null) =>
    [
      `${idKey(id)} ${shareType} ${visibility}`,
      `${id} (ShareType ${shareType}, Visibility ${visibility})`,
    ] as const;
  const held = new Map(
    links
      .filter((l) => l.LinkedEntityId && idKey(l.LinkedEntityId) !== owner)
      .map((l) => shown(l.LinkedEntityId as string, l.ShareType ?? null, l.Visibility ?? null)),
  );
  const wanted = new Map(
    sharesOf(file).map((l) =>
      shown(idMap.get(l.linkedEntityId) ?? l.linkedEntityId, l.shareType, l.visibility),
    ),
  );
  for (const [key, text] of wanted)
    if (!held.has(key)) say(`the link to ${text} is missing from document ${documentId}`);
  for (const [key, text] of held)
    if (!wanted.has(key)) say(`document ${documentId} has a link to ${text} the snapshot does not hold`);
}

const unique = (ids: readonly string[]): string[] => [...new Map(ids.map((id) => [idKey(id), id])).values()];

function byId(rows: readonly Row[]): Map<string, Row> {
  return new Map(rows.map((row) => [idKey(row.Id as string), row]));
}

/** Live rows (versions or links) grouped by their document. */
function byDocument(rows: readonly Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.IsDeleted === 'true' || !row.ContentDocumentId) continue;
    const key = idKey(row.ContentDocumentId);
    const group = out.get(key);
    if (group) group.push(row);
    else out.set(key, [row]);
  }
  return out;
}
