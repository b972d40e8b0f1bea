import { createHash } from 'node:crypto';
import type { BackupStore } from '../store.ts';
import { type FilePlan, FILE_OBJECT, LINK_OBJECT, MAX_FILE_BYTES, plannedFiles, sharesOf } from './files.ts';
import { IdMap } from './id-map.ts';
import type { RestoreOrg, SnapshotFile, SnapshotView } from './model.ts';
import { idKey } from './values.ts';

/** One way a restored file differs from the snapshot. */
export interface FileProblem {
  /** The document's id in the snapshot (or its latest version's). */
  readonly fileId: string;
  readonly problem: string;
}

/**
 * Compares each file the restore brought back with the snapshot: the number of versions, each
 * version's bytes in order (the MD5 of the vault's body against Salesforce's
 * `ContentVersion.Checksum`), and the set of links (record, ShareType, Visibility), the snapshot's
 * records mapped to the ids this restore gave them. The owner's link is left out on both sides:
 * Salesforce makes it for whoever owns the document.
 */
export async function verifyFiles(args: {
  readonly org: RestoreOrg;
  readonly store: BackupStore;
  readonly snapshot: SnapshotView;
  /** The run's restore root (see `restoreRoot`), whose id map names the restored copies. */
  readonly root: string;
  readonly plan: FilePlan;
}): Promise<FileProblem[]> {
  const idMap = await IdMap.load(args.store, args.root);
  const files = new Map(
    (await args.snapshot.files(plannedFiles(args.plan))).map((f) => [idKey(f.versionId), f]),
  );
  const problems: FileProblem[] = [];
  for (const e of args.plan.entries) {
    const fileId = e.contentDocumentId ?? e.versionId;
    const say = (problem: string) => problems.push({ fileId, problem });
    const file = files.get(idKey(e.versionId));
    if (!file) {
      say('the snapshot no longer holds this file');
      continue;
    }
    const documentId = e.action === 'insert' ? await newDocument(args.org, idMap, file) : e.contentDocumentId;
    if (!documentId) {
      say('the file was not restored');
      continue;
    }
    const [document] = await args.org.fetchByIds('ContentDocument', [documentId], ['OwnerId']);
    if (!document || document.IsDeleted === 'true') {
      say(`the restored document ${documentId} is not in the org`);
      continue;
    }
    if (e.action === 'relink') {
      // The document was not touched: only its links to the records brought back are checked.
      const only = new Set((e.relink ?? []).map(idKey));
      const held = new Set(
        (
          await args.org.fetchWhereIn(
            LINK_OBJECT,
            'ContentDocumentId',
            [documentId],
            ['LinkedEntityId', 'ShareType', 'Visibility'],
          )
        )
          .filter((l) => l.IsDeleted !== 'true' && l.LinkedEntityId)
          .map((l) => `${idKey(l.LinkedEntityId as string)} ${l.ShareType} ${l.Visibility}`),
      );
      for (const l of sharesOf(file).filter((s) => only.has(idKey(s.linkedEntityId)))) {
        const target = idMap.get(l.linkedEntityId) ?? l.linkedEntityId;
        if (!held.has(`${idKey(target)} ${l.shareType} ${l.visibility}`))
          say(
            `the link to ${target} (ShareType ${l.shareType}, Visibility ${l.visibility}) is missing from document ${documentId}`,
          );
      }
      continue;
    }
    if (e.owner && (!document.OwnerId || idKey(document.OwnerId) !== idKey(e.owner.id)))
      say(
        e.owner.kept
          ? `document ${documentId} is owned by ${document.OwnerId}; the snapshot's owner is ${e.owner.id}`
          : `document ${documentId} is owned by ${document.OwnerId}: the snapshot's owner ${e.owner.id} is not an active user in the org`,
      );
    const versions = (
      await args.org.fetchWhereIn(
        FILE_OBJECT,
        'ContentDocumentId',
        [documentId],
        ['VersionNumber', 'Checksum'],
      )
    )
      .filter((v) => v.IsDeleted !== 'true')
      .sort((a, b) => Number(a.VersionNumber) - Number(b.VersionNumber));
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
        say(
          `the vault's body of version ${version.versionNumber} cannot be used: ${(error as Error).message}`,
        );
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
      if (actual && actual.Checksum?.toLowerCase() !== md5)
        say(`version ${version.versionNumber} (${actual.Id}) does not hold the snapshot's bytes`);
    }
    const owner = document.OwnerId ? idKey(document.OwnerId) : null;
    const shown = (id: string, shareType: string | null, visibility: string | null) =>
      [
        `${idKey(id)} ${shareType} ${visibility}`,
        `${id} (ShareType ${shareType}, Visibility ${visibility})`,
      ] as const;
    const links = await args.org.fetchWhereIn(
      LINK_OBJECT,
      'ContentDocumentId',
      [documentId],
      ['LinkedEntityId', 'ShareType', 'Visibility'],
    );
    const held = new Map(
      links
        .filter((l) => l.IsDeleted !== 'true' && l.LinkedEntityId && idKey(l.LinkedEntityId) !== owner)
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
  return problems;
}

/** The document a restore made for a file: the one its first version belongs to. */
async function newDocument(org: RestoreOrg, idMap: IdMap, file: SnapshotFile): Promise<string | null> {
  const first = file.versions[0] ? idMap.get(file.versions[0].versionId) : undefined;
  if (!first) return null;
  const [row] = await org.fetchByIds(FILE_OBJECT, [first], ['ContentDocumentId']);
  return row?.ContentDocumentId ?? null;
}
