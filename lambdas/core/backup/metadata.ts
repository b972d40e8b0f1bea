import { ErrorName } from '../../../contract/workflow-contract.ts';
import {
  metadataFailureKey,
  metadataPartKey,
  metadataPlanKey,
  metadataResultKey,
  newAttemptId,
  planDetailKey,
} from '../snapshot/keys.ts';
import type { SnapshotMetadataPart } from '../snapshot/manifest.ts';
import type { ListMetadataQuery, MetadataComponentInfo } from '../salesforce.ts';
import { SalesforceTransientError } from '../salesforce.ts';
import { readJson } from './export-object.ts';
import { shortCause, type StepFailure } from './failure-cause.ts';
import type { BackupDeps, MetadataResult, PlanDetail } from './types.ts';

/** Members per type for one retrieve. */
type Chunk = Record<string, string[]>;

/** Folder types whose name is not `<type>Folder`. */
const FOLDER_TYPE: Record<string, string> = { EmailTemplate: 'EmailFolder' };

/** Retrieve failures that mean "too much in one retrieve": split it and try the halves. */
const TOO_LARGE = /10,?000|too many|too large|limit exceeded|exceeded the limit|maximum size/i;

/** State of the metadata loop in the workflow. */
export interface MetadataLoopState {
  readonly org: string;
  readonly snapshotId: string;
  readonly chunk: number;
  readonly chunks: number;
  readonly done: boolean;
}

/**
 * Lists every metadata component (folders and their contents too, 3 listMetadata queries per
 * call) and splits them into retrieves that stay under the per-retrieve limits.
 */
export async function planMetadata(
  deps: BackupDeps,
  input: { org: string; snapshotId: string },
): Promise<MetadataLoopState & { components: number }> {
  return recordingFailure(deps, input, 'list', () => listAndSplit(deps, input));
}

/** The step label of one planned retrieve, under which its failed attempts are kept. */
export const retrieveStep = (chunk: number): string => `retrieve-${String(chunk).padStart(4, '0')}`;

/**
 * Runs a metadata step, keeping the cause of a failed attempt in the vault before failing it, so
 * the finish step can say why metadata is missing: the state machine's Catch holds the error, but
 * the finish is handed only the snapshot.
 */
async function recordingFailure<T>(
  deps: BackupDeps,
  input: { org: string; snapshotId: string },
  step: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const failure: StepFailure = {
      error: error instanceof Error ? error.name : 'Error',
      cause: shortCause(error),
      at: deps.clock().toISOString(),
    };
    await deps.store
      .put(
        metadataFailureKey(input.org, input.snapshotId, step, newAttemptId(deps.random)),
        JSON.stringify(failure),
        { contentType: 'application/json' },
      )
      // The step's own error is what the workflow must see; a failed note must not replace it.
      .catch(() => undefined);
    throw error;
  }
}

async function listAndSplit(
  deps: BackupDeps,
  input: { org: string; snapshotId: string },
): Promise<MetadataLoopState & { components: number }> {
  const { org, snapshotId } = input;
  const detail = await readJson<PlanDetail>(deps, planDetailKey(org, snapshotId));
  if (!detail.metadata) {
    await deps.store.put(metadataPlanKey(org, snapshotId), JSON.stringify({ chunks: [], components: 0 }));
    return { org, snapshotId, chunk: 0, chunks: 0, done: true, components: 0 };
  }
  const types = await deps.source.describeMetadata();
  const members = new Map<string, Set<string>>();
  const add = (type: string, name: string) => {
    if (!members.has(type)) members.set(type, new Set());
    members.get(type)!.add(name);
  };
  const plain = types.filter((t) => !t.inFolder).map((t) => ({ type: t.xmlName }));
  const foldered = types.filter((t) => t.inFolder);
  for (const c of await listAll(deps, plain)) add(c.type, c.fullName);
  const folderOf = new Map(foldered.map((t) => [FOLDER_TYPE[t.xmlName] ?? `${t.xmlName}Folder`, t.xmlName]));
  const folders = await listAll(
    deps,
    [...folderOf.keys()].map((type) => ({ type })),
  );
  const inFolders: ListMetadataQuery[] = [];
  for (const folder of folders) {
    const type = folderOf.get(folder.type);
    if (!type) continue;
    add(type, folder.fullName);
    inFolders.push({ type, folder: folder.fullName });
  }
  for (const c of await listAll(deps, inFolders)) add(c.type, c.fullName);

  const all = [...members.entries()].flatMap(([type, names]) =>
    [...names].sort().map((name) => ({ type, name })),
  );
  all.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  const chunks: Chunk[] = [];
  for (let i = 0; i < all.length; i += detail.settings.componentsPerRetrieve) {
    const chunk: Chunk = {};
    for (const { type, name } of all.slice(i, i + detail.settings.componentsPerRetrieve)) {
      addMember(chunk, type, name);
    }
    chunks.push(chunk);
  }
  await deps.store.put(metadataPlanKey(org, snapshotId), JSON.stringify({ chunks, components: all.length }), {
    contentType: 'application/json',
  });
  return {
    org,
    snapshotId,
    chunk: 0,
    chunks: chunks.length,
    done: chunks.length === 0,
    components: all.length,
  };
}

/** Runs one planned retrieve (split further if Salesforce finds it too large) and keeps its zips. */
export async function retrieveMetadata(
  deps: BackupDeps,
  input: MetadataLoopState,
): Promise<MetadataLoopState> {
  if (input.chunk >= input.chunks) return { ...input, done: true };
  return recordingFailure(deps, input, retrieveStep(input.chunk), () => retrieveChunk(deps, input));
}

async function retrieveChunk(deps: BackupDeps, input: MetadataLoopState): Promise<MetadataLoopState> {
  const { org, snapshotId, chunk, chunks } = input;
  const detail = await readJson<PlanDetail>(deps, planDetailKey(org, snapshotId));
  const plan = await readJson<{ chunks: Chunk[] }>(deps, metadataPlanKey(org, snapshotId));
  const callsBefore = deps.source.apiCalls();
  const parts: SnapshotMetadataPart[] = [];
  const pending: Chunk[] = [plan.chunks[chunk]!];
  const deadline = deps.clock().getTime() + detail.settings.invocationBudgetMs;
  while (pending.length > 0) {
    const members = pending.shift()!;
    const outcome = await retrieveOnce(deps, members, detail.settings.pollIntervalMs, deadline);
    // Plan details written before the bound existed carry no value for it.
    const bound = detail.settings.maxRetrieveZipBytes ?? DEFAULT_MAX_RETRIEVE_ZIP_BYTES;
    // Over the bound as a zip, or as the answer carrying it (the adapter stops reading there).
    const over = outcome.tooLarge
      ? 'an answer'
      : outcome.zip && outcome.zip.byteLength > bound
        ? `a zip of ${outcome.zip.byteLength} bytes`
        : '';
    if (over) {
      if (size(members) > 1) {
        pending.unshift(...halves(members));
        continue;
      }
      throw new MetadataRetrieveError(
        `Metadata retrieve ${chunk + 1} of ${chunks}: one component alone came back as ${over} over the bound of ${bound} bytes one invocation may hold. Raise maxRetrieveZipBytes in the backup settings (and the metadata function's memory with it), or exclude the component.`,
      );
    }
    if (outcome.zip) {
      const key = metadataPartKey(org, snapshotId, chunk * 1000 + parts.length + 1);
      const stored = await deps.store.put(key, outcome.zip, { contentType: 'application/zip' });
      const types = Object.keys(members).sort();
      const components = types.reduce((n, t) => n + members[t]!.length, 0);
      parts.push({
        key,
        sha256: stored.sha256,
        bytes: stored.bytes,
        components,
        types,
        ...(stored.versionId ? { versionId: stored.versionId } : {}),
      });
    } else if (TOO_LARGE.test(outcome.error) && size(members) > 1) {
      pending.unshift(...halves(members));
    } else {
      throw new MetadataRetrieveError(`Metadata retrieve ${chunk + 1} of ${chunks} failed: ${outcome.error}`);
    }
  }
  const result: MetadataResult = { chunk, parts, apiCalls: deps.source.apiCalls() - callsBefore };
  await deps.store.put(metadataResultKey(org, snapshotId, chunk), JSON.stringify(result), {
    contentType: 'application/json',
  });
  return { org, snapshotId, chunk: chunk + 1, chunks, done: chunk + 1 >= chunks };
}

const DEFAULT_MAX_RETRIEVE_ZIP_BYTES = 64 * 1024 * 1024;

/** A retrieve ended in an error that splitting does not fix. */
export class MetadataRetrieveError extends Error {
  override readonly name = ErrorName.MetadataRetrieve;
}

async function retrieveOnce(
  deps: BackupDeps,
  members: Chunk,
  pollMs: number,
  deadline: number,
): Promise<{ zip?: Uint8Array; tooLarge?: boolean; error: string }> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const id = await deps.source.retrieve(new Map(Object.entries(members)));
  for (let polls = 0; ; polls++) {
    let status: Awaited<ReturnType<typeof deps.source.checkRetrieveStatus>>;
    try {
      status = await deps.source.checkRetrieveStatus(id);
    } catch (error) {
      if (error instanceof Error && error.name === ErrorName.SalesforceAnswerTooLarge) {
        return { tooLarge: true, error: '' };
      }
      throw error;
    }
    if (status.done) {
      if (status.success && status.zip) return { zip: status.zip, error: '' };
      return { error: status.errorMessage ?? status.status };
    }
    if (deps.clock().getTime() > deadline) {
      throw new SalesforceTransientError(
        `Metadata retrieve ${id} did not finish within the invocation's time budget.`,
      );
    }
    await sleep(Math.min(pollMs, 200 * 2 ** polls));
  }
}

async function listAll(
  deps: BackupDeps,
  queries: readonly ListMetadataQuery[],
): Promise<MetadataComponentInfo[]> {
  const out: MetadataComponentInfo[] = [];
  for (let i = 0; i < queries.length; i += 3)
    out.push(...(await deps.source.listMetadata(queries.slice(i, i + 3))));
  return out;
}

function size(chunk: Chunk): number {
  return Object.values(chunk).reduce((n, names) => n + names.length, 0);
}

function halves(chunk: Chunk): [Chunk, Chunk] {
  const flat = Object.entries(chunk).flatMap(([type, names]) => names.map((name) => ({ type, name })));
  const middle = Math.ceil(flat.length / 2);
  const toChunk = (items: typeof flat) => {
    const out: Chunk = {};
    for (const { type, name } of items) addMember(out, type, name);
    return out;
  };
  return [toChunk(flat.slice(0, middle)), toChunk(flat.slice(middle))];
}

function addMember(chunk: Chunk, type: string, name: string): void {
  const names = chunk[type] ?? [];
  names.push(name);
  chunk[type] = names;
}
