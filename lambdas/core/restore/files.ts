import { createHash, randomUUID } from 'node:crypto';
import type { BackupStore } from '../store.ts';
import { IdMap, type IdMapFile, type IntentFile, reconcileIntents } from './id-map.ts';
import { restoreKeys } from './keys.ts';
import {
  codeAndFields,
  type RestoreOrg,
  type RowError,
  type SnapshotFile,
  type SnapshotView,
} from './model.ts';
import type { Scope } from './scope.ts';
import { readJson, writeJsonOnce } from './store-json.ts';
import { idKey } from './values.ts';

/** The object files are inserted as, and the id map they are recorded under. */
const FILE_OBJECT = 'ContentVersion';

/** What the restore will do for one file. */
export interface FilePlanEntry {
  /** ContentVersion id in the snapshot. */
  readonly versionId: string;
  readonly contentDocumentId: string | null;
  /** `undelete`: the document is in the recycle bin; `insert`: it is gone, a new version is made. */
  readonly action: 'undelete' | 'insert';
  readonly title: string;
  /** The record the file was first shared with, in the snapshot (remapped on insert). */
  readonly linkedEntityId: string | null;
}

/** The file part of a plan. */
export interface FilePlan {
  readonly entries: FilePlanEntry[];
  /** Files of the scope that are still in the org. */
  readonly present: number;
}

/**
 * The largest file body the restore uploads: a ContentVersion goes to Salesforce as base64 in one
 * JSON request, which takes at most 37.5 MB of base64 (28 MB of bytes). The body is held in memory
 * to check its SHA-256 before anything is sent, so this also bounds the function's memory.
 */
export const MAX_FILE_BYTES = 28 * 1024 * 1024;

/** Objects that stand for files in an input's `objects`: they select every file of the snapshot. */
export const FILE_OBJECTS = new Set(['ContentVersion', 'ContentDocument']);

/**
 * Plans the files of the scope: every snapshot file linked to a row in scope (or every file when
 * ContentVersion is asked for) whose document is no longer in the org.
 */
export async function planFiles(args: {
  readonly org: RestoreOrg;
  readonly snapshot: SnapshotView;
  readonly scope: Scope;
  readonly allFiles: boolean;
}): Promise<FilePlan> {
  const inScope = new Set<string>();
  for (const rows of args.scope.values()) for (const k of rows.keys()) inScope.add(k);
  const files = (await args.snapshot.files()).filter(
    (f) => args.allFiles || f.linkedEntityIds.some((id) => inScope.has(idKey(id))),
  );
  const docIds = files.flatMap((f) => (f.contentDocumentId ? [f.contentDocumentId] : []));
  const live = new Map(
    (docIds.length > 0 ? await args.org.fetchByIds('ContentDocument', docIds, []) : []).map((r) => [
      idKey(r.Id as string),
      r.IsDeleted === 'true',
    ]),
  );
  const entries: FilePlanEntry[] = [];
  let present = 0;
  for (const f of files) {
    const deleted = f.contentDocumentId ? live.get(idKey(f.contentDocumentId)) : undefined;
    if (deleted === false) {
      present += 1;
      continue;
    }
    entries.push({
      versionId: f.versionId,
      contentDocumentId: f.contentDocumentId,
      action: deleted === true ? 'undelete' : 'insert',
      title: f.title,
      linkedEntityId: f.linkedEntityIds[0] ?? null,
    });
  }
  return { entries, present };
}

/** The outcome of restoring the files. */
export interface FilesOutcome {
  readonly restored: number;
  readonly failures: { readonly versionId: string; readonly errors: readonly RowError[] }[];
}

/**
 * Brings files back: undeletes documents still in the recycle bin, inserts the others as new
 * ContentVersions shared with their (possibly re-inserted) record. Each insert writes its intent
 * first and its new id after, so a re-run never uploads a file twice.
 */
export async function restoreFiles(args: {
  readonly org: RestoreOrg;
  readonly store: BackupStore;
  readonly snapshot: SnapshotView;
  /** The run's restore root (see `restoreRoot`), where the id map and the outcomes are kept. */
  readonly root: string;
  readonly runId: string;
  readonly userId: string;
  readonly plan: FilePlan;
  readonly danglingReferences: readonly string[];
  readonly now?: () => number;
}): Promise<FilesOutcome> {
  const { org, store, root, runId } = args;
  const now = args.now ?? Date.now;
  const outcomeKey = restoreKeys.outcome(root, runId, FILE_OBJECT, 'files');
  const earlier = await readJson<FilesOutcome>(store, outcomeKey);
  if (earlier) return earlier;
  const idMap = await IdMap.load(store, root);
  await reconcileIntents(store, org, root, FILE_OBJECT, idMap);
  const dangling = new Set(args.danglingReferences);
  const attempt = randomUUID().slice(0, 8);
  const failures: FilesOutcome['failures'] = [];
  let restored = 0;
  const undeletes = args.plan.entries.filter((e) => e.action === 'undelete' && e.contentDocumentId);
  if (undeletes.length > 0) {
    const results = await org.undelete(undeletes.map((e) => e.contentDocumentId as string));
    undeletes.forEach((e, i) => {
      const r = results[i];
      if (r?.success) restored += 1;
      else
        failures.push({
          versionId: e.versionId,
          errors: r ? codeAndFields(r.errors) : [{ statusCode: 'NO_RESULT', message: 'no result' }],
        });
    });
  }
  const bodies = new Map(
    (await args.snapshot.files()).map((f) => [idKey(f.versionId), f] as [string, SnapshotFile]),
  );
  for (const [index, e] of args.plan.entries.entries()) {
    if (e.action !== 'insert') continue;
    if (idMap.get(e.versionId)) {
      restored += 1;
      continue;
    }
    const file = bodies.get(idKey(e.versionId));
    if (!file) {
      failures.push({
        versionId: e.versionId,
        errors: [{ statusCode: 'NOT_IN_SNAPSHOT', message: 'The snapshot holds no body for this file.' }],
      });
      continue;
    }
    if (file.bytes !== undefined && file.bytes > MAX_FILE_BYTES) {
      failures.push({
        versionId: e.versionId,
        errors: [
          {
            statusCode: 'FILE_TOO_LARGE',
            message: `the file is ${(file.bytes / 1024 / 1024).toFixed(1)} MB; the restore uploads files of at most ${MAX_FILE_BYTES / 1024 / 1024} MB (one Salesforce request). Upload it by hand from the vault.`,
          },
        ],
      });
      continue;
    }
    const parent = e.linkedEntityId
      ? (idMap.get(e.linkedEntityId) ?? (dangling.has(idKey(e.linkedEntityId)) ? null : e.linkedEntityId))
      : null;
    const data = await file.read();
    const batch = `${runId}-file-${String(index).padStart(5, '0')}-${attempt}`;
    const values: Record<string, string | null> = { Title: file.title, PathOnClient: file.pathOnClient };
    if (parent) values.FirstPublishLocationId = parent;
    const intent: IntentFile = {
      object: FILE_OBJECT,
      batch,
      since: new Date(now()).toISOString(),
      userId: args.userId,
      types: Object.fromEntries(
        Object.keys(values).map((k) => [k, k === 'FirstPublishLocationId' ? 'reference' : 'string']),
      ),
      rows: [{ oldId: e.versionId, values }],
    };
    await writeJsonOnce(store, restoreKeys.intent(root, FILE_OBJECT, batch), intent);
    const result = await org.createFile({
      title: file.title,
      pathOnClient: file.pathOnClient,
      data,
      ...(parent ? { firstPublishLocationId: parent } : {}),
    });
    const entries: [string, string][] = result.success && result.id ? [[e.versionId, result.id]] : [];
    const failed = result.success ? [] : [{ oldId: e.versionId, errors: codeAndFields(result.errors) }];
    const record: IdMapFile = { object: FILE_OBJECT, batch, entries, failed, source: 'insert' };
    await writeJsonOnce(store, restoreKeys.idMap(root, FILE_OBJECT, batch), record);
    idMap.addAll(entries);
    if (result.success) restored += 1;
    else failures.push({ versionId: e.versionId, errors: codeAndFields(result.errors) });
  }
  const outcome: FilesOutcome = { restored, failures };
  await writeJsonOnce(store, outcomeKey, outcome);
  return outcome;
}

/** Files whose restored copy in the org does not hold the snapshot's bytes (by MD5 checksum). */
export async function verifyFiles(args: {
  readonly org: RestoreOrg;
  readonly store: BackupStore;
  readonly snapshot: SnapshotView;
  /** The run's restore root (see `restoreRoot`), whose id map names the restored copies. */
  readonly root: string;
  readonly plan: FilePlan;
}): Promise<{ versionId: string; problem: string }[]> {
  const idMap = await IdMap.load(args.store, args.root);
  const bodies = new Map(
    (await args.snapshot.files()).map((f) => [idKey(f.versionId), f] as [string, SnapshotFile]),
  );
  const problems: { versionId: string; problem: string }[] = [];
  for (const e of args.plan.entries) {
    const newId = e.action === 'insert' ? idMap.get(e.versionId) : e.versionId;
    if (!newId) {
      problems.push({ versionId: e.versionId, problem: 'the file was not restored' });
      continue;
    }
    const [row] = await args.org.fetchByIds('ContentVersion', [newId], ['Checksum', 'ContentDocumentId']);
    if (!row || row.IsDeleted === 'true') {
      problems.push({ versionId: e.versionId, problem: 'the restored file is not in the org' });
      continue;
    }
    const body = bodies.get(idKey(e.versionId));
    if (body && row.Checksum) {
      const md5 = createHash('md5')
        .update(await body.read())
        .digest('hex');
      if (md5 !== row.Checksum)
        problems.push({ versionId: e.versionId, problem: 'the restored bytes differ from the snapshot' });
    }
  }
  return problems;
}
