import { createHash, randomUUID } from 'node:crypto';
import { ErrorName } from '../../../contract/workflow-contract.ts';
import { inTurns } from '../in-turns.ts';
import { type BackupStore, ObjectNotFoundError } from '../store.ts';
import { MAX_FILE_BYTES } from './files.ts';
import { type BodyDigest, type IdMap, type IdMapFile, type IntentFile, reconcileIntents } from './id-map.ts';
import { restoreKeys } from './keys.ts';
import {
  type BodyRef,
  codeAndFields,
  type RestoreOrg,
  type RowError,
  type WriteResult,
  type WriteRow,
} from './model.ts';
import type { ObjectPlan, RestorePlan, Values } from './plan.ts';
import { readJson, writeJsonOnce } from './store-json.ts';
import { idKey, toWriteValue } from './values.ts';

/** Which pass over an object: the main one (undelete, insert, update) or the cycle-closing one. */
export type RestorePhase = 'main' | 'second-pass';

/** The outcome of one batch, kept in the vault for the report. */
export interface BatchOutcome {
  readonly object: string;
  readonly phase: RestorePhase;
  readonly index: number;
  readonly kind: 'undelete' | 'insert' | 'update';
  readonly rows: number;
  readonly succeeded: number;
  readonly failures: readonly {
    readonly oldId: string;
    readonly id: string | null;
    readonly errors: readonly RowError[];
  }[];
}

/** What one call of `restoreObject` did, and whether the object needs another call. */
export interface ObjectStepResult {
  readonly object: string;
  readonly phase: RestorePhase;
  readonly done: boolean;
  /** Index of the next batch to run when not done. */
  readonly cursor: number;
  readonly succeeded: number;
  readonly failed: number;
}

/**
 * Rows per batch: the unit of checkpointing, and one Bulk API 2.0 ingest job when the org
 * adapter writes it through Bulk; through sObject Collections the adapter splits it further, 200
 * rows per call. Salesforce processes an ingest job's rows in chunks of up to 10,000, one after
 * another within a chunk, so smaller jobs run side by side (`BATCHES_AT_ONCE`) finish sooner,
 * each at the cost of its own create, upload, close, polls and result read.
 */
export const DEFAULT_BATCH_SIZE = 2500;

/**
 * Batches of one kind an object writes at once (each its own ingest job when large). Jobs inserting
 * children of the same parents at once can meet Salesforce's row locks on those parents
 * (`UNABLE_TO_LOCK_ROW`); such rows are reported as failed writes and a rerun writes them.
 */
export const BATCHES_AT_ONCE = 4;

/**
 * Bytes of bodies (attachments, documents) one insert batch reads from the vault and sends: about
 * one sObject Collections call of base64. A batch holds its bodies three to four times over while
 * it is sent (the bytes, their base64, the request's JSON and its buffer), so this, times
 * `BATCHES_AT_ONCE`, bounds what bodies take of the function's memory: some 450 MB.
 *
 * The batches of a plan are cut by it, and a restore continued by a later invocation finds its
 * batches by index: never change it while a restore may be under way.
 */
export const BODY_BYTES_PER_BATCH = 28_000_000;

/** Bodies read from the vault at once by one batch. */
const VAULT_BODIES_READ_AT_ONCE = 8;

interface BatchRow {
  readonly oldId: string;
  readonly id?: string;
  readonly values: Values;
  readonly bodies?: Readonly<Record<string, BodyRef>>;
}

interface Batch {
  readonly kind: 'undelete' | 'insert' | 'update';
  readonly rows: readonly BatchRow[];
}

/**
 * Runs one object's part of a restore, batch by batch. Each batch's outcome is written before
 * the next starts, and every insert batch writes its intent first, so a call that crashes or runs
 * out of time is continued (or retried) from the first batch without an outcome, and rows an
 * interrupted insert did create are found and claimed instead of being inserted again.
 */
export async function restoreObject(args: {
  readonly org: RestoreOrg;
  readonly store: BackupStore;
  readonly idMap: IdMap;
  readonly plan: RestorePlan;
  readonly objectPlan: ObjectPlan;
  readonly phase: RestorePhase;
  readonly userId: string;
  readonly cursor?: number;
  /** Stop starting new batches after this time (epoch ms); the caller continues with the cursor. */
  readonly deadline?: number;
  readonly now?: () => number;
  readonly batchSize?: number;
  /** Batches of one kind written at once. @default BATCHES_AT_ONCE */
  readonly batchesAtOnce?: number;
}): Promise<ObjectStepResult> {
  const { org, store, idMap, plan, objectPlan: op, phase, userId } = args;
  const now = args.now ?? Date.now;
  for (const [name, value] of [
    ['batchSize', args.batchSize],
    ['batchesAtOnce', args.batchesAtOnce],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1))
      throw new RangeError(`The restore's ${name} is ${value}: set it to a whole number of 1 or more.`);
  }
  await reconcileIntents(store, org, plan.root, op.object, idMap);
  const dangling = new Set(plan.danglingReferences);
  const resolve = (field: string, value: string | null): string | number | boolean | null => {
    const type = op.types[field] ?? 'string';
    if (type !== 'reference' || value === null) return toWriteValue(type, value);
    const mapped = idMap.get(value);
    if (mapped) return mapped;
    return dangling.has(idKey(value)) ? null : value;
  };
  const batches =
    phase === 'main' ? mainBatches(op, args.batchSize) : secondPassBatches(op, idMap, args.batchSize);
  // Each call names its insert attempts apart, so a retried batch never collides with the intent
  // of the attempt it follows; that attempt's intent was settled by the reconcile above.
  const attempt = randomUUID().slice(0, 8);
  let succeeded = 0;
  let failed = 0;
  const run = async (index: number): Promise<void> => {
    const key = restoreKeys.outcome(
      plan.root,
      plan.runId,
      op.object,
      `${phase}-${String(index).padStart(5, '0')}`,
    );
    const earlier = await readJson<BatchOutcome>(store, key);
    if (earlier) {
      succeeded += earlier.succeeded;
      failed += earlier.failures.length;
      return;
    }
    const batch = batches[index]!;
    const outcome = await runBatch({
      org,
      store,
      idMap,
      plan,
      op,
      phase,
      index,
      attempt,
      batch,
      userId,
      resolve,
      now,
    });
    await writeJsonOnce(store, key, outcome);
    succeeded += outcome.succeeded;
    failed += outcome.failures.length;
  };
  const atOnce = args.batchesAtOnce ?? BATCHES_AT_ONCE;
  let index = args.cursor ?? 0;
  // The longest group of this invocation so far: a group starts only if one as long would end
  // before the deadline, so no insert is left running in Salesforce when the invocation ends.
  let longestGroupMs = 0;
  let groups = 0;
  while (index < batches.length) {
    const late =
      args.deadline !== undefined &&
      (now() > args.deadline || (groups > 0 && now() + longestGroupMs > args.deadline));
    if (late) {
      return { object: op.object, phase, done: false, cursor: index, succeeded, failed };
    }
    // Batches of one kind are independent (their rows differ) and run together; a kind starts
    // once the one before it is done (updates follow the undeletes that bring their rows back).
    const kind = batches[index]!.kind;
    const group: number[] = [];
    while (index < batches.length && batches[index]!.kind === kind && group.length < atOnce)
      group.push(index++);
    const started = now();
    await inTurns(group, atOnce, run);
    longestGroupMs = Math.max(longestGroupMs, now() - started);
    groups++;
  }
  return { object: op.object, phase, done: true, cursor: batches.length, succeeded, failed };
}

async function runBatch(a: {
  org: RestoreOrg;
  store: BackupStore;
  idMap: IdMap;
  plan: RestorePlan;
  op: ObjectPlan;
  phase: RestorePhase;
  index: number;
  attempt: string;
  batch: Batch;
  userId: string;
  resolve: (field: string, value: string | null) => string | number | boolean | null;
  now: () => number;
}): Promise<BatchOutcome> {
  const { org, op, batch } = a;
  const base = {
    object: op.object,
    phase: a.phase,
    index: a.index,
    kind: batch.kind,
    rows: batch.rows.length,
  };
  if (batch.kind === 'undelete') {
    // Rows a parent's undelete already brought back count as done; only the rest are sent.
    const current = await org.fetchByIds(
      op.object,
      batch.rows.map((r) => r.id as string),
      [],
    );
    const stillDeleted = new Set(
      current.filter((r) => r.IsDeleted === 'true').map((r) => idKey(r.Id as string)),
    );
    const alive = new Set(current.filter((r) => r.IsDeleted !== 'true').map((r) => idKey(r.Id as string)));
    const toSend = batch.rows.filter((r) => stillDeleted.has(idKey(r.id as string)));
    const results = toSend.length > 0 ? await org.undelete(toSend.map((r) => r.id as string)) : [];
    const failures = collectFailures(toSend, results);
    const gone = batch.rows.filter(
      (r) => !stillDeleted.has(idKey(r.id as string)) && !alive.has(idKey(r.id as string)),
    );
    for (const r of gone) {
      failures.push({
        oldId: r.oldId,
        id: r.id ?? null,
        errors: [
          {
            statusCode: 'ENTITY_IS_DELETED',
            message:
              'The row left the recycle bin before it could be undeleted; re-run the restore to insert it.',
          },
        ],
      });
    }
    return { ...base, succeeded: batch.rows.length - failures.length, failures };
  }
  if (batch.kind === 'update') {
    const rows: WriteRow[] = batch.rows.map((r) => {
      const out: Record<string, string | number | boolean | null> = { Id: r.id as string };
      for (const [f, v] of Object.entries(r.values)) out[f] = a.resolve(f, v);
      return out;
    });
    const results = await org.update(op.object, rows);
    const failures = collectFailures(batch.rows, results);
    return { ...base, succeeded: batch.rows.length - failures.length, failures };
  }
  // Insert: skip rows an earlier run or batch already created, read the bodies they carry, write
  // the intent, insert, record.
  const unsent = batch.rows.filter((r) => !a.idMap.get(r.oldId));
  const bodies = await readBodies(a.store, op, unsent);
  const pending = unsent.filter((r) => !bodies.failures.has(r.oldId));
  const batchId = `${a.plan.runId}-${a.phase}-${String(a.index).padStart(5, '0')}-${a.attempt}`;
  const rows: WriteRow[] = pending.map((r) => {
    const out: Record<string, string | number | boolean | null> = {};
    for (const [f, v] of Object.entries(r.values)) {
      if (op.deferredFields.includes(f) || op.types[f] === 'base64') continue;
      const value = a.resolve(f, v);
      if (value !== null) out[f] = value;
    }
    for (const [f, body] of bodies.read.get(r.oldId) ?? []) out[f] = body.base64;
    return out;
  });
  // The intent names each body by its digest, never its bytes: the reconcile reads it back from
  // the org and compares, so a lost answer never leaves an attachment inserted twice.
  const intent: IntentFile = {
    object: op.object,
    batch: batchId,
    since: new Date(a.now()).toISOString(),
    userId: a.userId,
    types: Object.fromEntries(
      [...new Set(rows.flatMap((r) => Object.keys(r)))]
        .filter((f) => op.types[f] !== 'base64')
        .map((f) => [f, op.types[f] ?? 'string']),
    ),
    rows: pending.map((r, i) => {
      const digests = bodies.read.get(r.oldId);
      return {
        oldId: r.oldId,
        values: Object.fromEntries(
          Object.entries(rows[i]!)
            .filter(([f]) => op.types[f] !== 'base64')
            .map(([f, v]) => [f, v === null ? null : String(v)]),
        ),
        ...(digests ? { bodies: Object.fromEntries([...digests].map(([f, b]) => [f, b.digest])) } : {}),
      };
    }),
  };
  if (pending.length > 0)
    await writeJsonOnce(a.store, restoreKeys.intent(a.plan.root, op.object, batchId), intent);
  const results = pending.length > 0 ? await org.create(op.object, rows) : [];
  const entries: [string, string][] = [];
  results.forEach((res, i) => {
    const row = pending[i];
    if (row && res.success && res.id) entries.push([row.oldId, res.id]);
  });
  const failures = [...bodies.failures.values(), ...collectFailures(pending, results)];
  if (pending.length > 0) {
    const file: IdMapFile = {
      object: op.object,
      batch: batchId,
      entries,
      failed: failures,
      source: 'insert',
    };
    await writeJsonOnce(a.store, restoreKeys.idMap(a.plan.root, op.object, batchId), file);
  }
  a.idMap.addAll(entries);
  return { ...base, succeeded: batch.rows.length - failures.length, failures };
}

interface ReadBody {
  readonly base64: string;
  readonly digest: BodyDigest;
}

/**
 * The bodies of a batch's rows, as base64 to send and as digests for the intent: read from the
 * vault for rows whose plan names them (checked against their SHA-256), taken from the plan for
 * one that holds them itself. A body the vault no longer holds, or holds changed, or one too
 * large for a request, fails its row alone, unsent.
 */
async function readBodies(
  store: BackupStore,
  op: ObjectPlan,
  rows: readonly BatchRow[],
): Promise<{
  read: Map<string, Map<string, ReadBody>>;
  failures: Map<string, { oldId: string; id: null; errors: RowError[] }>;
}> {
  const read = new Map<string, Map<string, ReadBody>>();
  const failures = new Map<string, { oldId: string; id: null; errors: RowError[] }>();
  const keep = (w: { oldId: string; field: string }, base64: string, digest: BodyDigest): void => {
    const fields = read.get(w.oldId) ?? new Map<string, ReadBody>();
    fields.set(w.field, { base64, digest });
    read.set(w.oldId, fields);
  };
  const wanted: { oldId: string; field: string; ref?: BodyRef; inline?: string }[] = [];
  for (const r of rows) {
    for (const [field, ref] of Object.entries(r.bodies ?? {})) wanted.push({ oldId: r.oldId, field, ref });
    for (const [field, value] of Object.entries(r.values))
      if (op.types[field] === 'base64' && value) wanted.push({ oldId: r.oldId, field, inline: value });
  }
  await inTurns(wanted, VAULT_BODIES_READ_AT_ONCE, async (w) => {
    const fail = (statusCode: string, message: string): void => {
      failures.set(w.oldId, { oldId: w.oldId, id: null, errors: [{ statusCode, message }] });
    };
    if (w.ref) {
      const { key, sha256 } = w.ref;
      if (w.ref.bytes > MAX_FILE_BYTES) {
        fail(
          'FILE_TOO_LARGE',
          `${op.object}.${w.field} is ${(w.ref.bytes / 1e6).toFixed(1)} MB; the restore sends bodies of at most ${MAX_FILE_BYTES / 1e6} MB (one Salesforce request). Upload it by hand from the vault: ${key}.`,
        );
        return;
      }
      let bytes: Uint8Array;
      try {
        bytes = await store.get(key);
      } catch (error) {
        if (!(error instanceof ObjectNotFoundError || (error as Error).name === ErrorName.ObjectNotFound))
          throw error;
        fail(
          'BODY_MISSING',
          `The vault no longer holds the ${op.object}.${w.field} this row had (${key}): it was removed after the plan was made (a retention sweep, an erasure). Every snapshot names a body by its SHA-256, so none holds another copy; recover the key's earlier object version (noncurrent until the lifecycle expires it) or the replica's copy, then run the restore again.`,
        );
        return;
      }
      if (createHash('sha256').update(bytes).digest('hex') !== sha256) {
        fail(
          'BODY_CORRUPT',
          `The vault's copy of the ${op.object}.${w.field} this row had (${key}) does not match the SHA-256 the snapshot records: it was changed after the backup wrote it, and was not sent. Find out who changed the vault, recover the key's earlier object version or the replica's copy, then run the restore again.`,
        );
        return;
      }
      const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
      keep(w, base64, { sha256, bytes: bytes.length });
      return;
    }
    const bytes = Buffer.from(w.inline!, 'base64');
    keep(w, w.inline!, { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
  });
  for (const oldId of failures.keys()) read.delete(oldId);
  return { read, failures };
}

function collectFailures(
  rows: readonly { readonly oldId: string; readonly id?: string }[],
  results: readonly WriteResult[],
): { oldId: string; id: string | null; errors: RowError[] }[] {
  const failures: { oldId: string; id: string | null; errors: RowError[] }[] = [];
  rows.forEach((row, i) => {
    const res = results[i];
    if (!res) {
      failures.push({
        oldId: row.oldId,
        id: row.id ?? null,
        errors: [{ statusCode: 'NO_RESULT', message: 'Salesforce returned no result for this row.' }],
      });
    } else if (!res.success) {
      failures.push({ oldId: row.oldId, id: row.id ?? res.id ?? null, errors: codeAndFields(res.errors) });
    }
  });
  return failures;
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

function withoutDeferred(values: Values, deferred: readonly string[]): Values {
  const out: Values = {};
  for (const [f, v] of Object.entries(values)) if (!deferred.includes(f)) out[f] = v;
  return out;
}

/** Undeletes first, then inserts, then the field updates of undeleted and live rows. */
function mainBatches(op: ObjectPlan, size = DEFAULT_BATCH_SIZE): Batch[] {
  const batches: Batch[] = [];
  for (const rows of chunk(op.undelete, size)) {
    batches.push({ kind: 'undelete', rows: rows.map((r) => ({ oldId: r.id, id: r.id, values: {} })) });
  }
  for (const rows of insertBatches(op, size)) batches.push({ kind: 'insert', rows });
  const updates = [
    ...op.undelete.map((r) => ({
      oldId: r.id,
      id: r.id,
      values: withoutDeferred(r.changes, op.deferredFields),
    })),
    ...op.update.map((r) => ({
      oldId: r.oldId,
      id: r.id,
      values: withoutDeferred(r.changes, op.deferredFields),
    })),
  ].filter((r) => Object.keys(r.values).length > 0);
  for (const rows of chunk(updates, size)) batches.push({ kind: 'update', rows });
  return batches;
}

/**
 * Insert rows in batches of `size`, cut sooner where the bodies a batch reads would pass
 * BODY_BYTES_PER_BATCH (a body larger alone has a batch of its own). The cut depends on the plan
 * only, so every invocation of a restore cuts the same batches.
 */
function insertBatches(op: ObjectPlan, size: number): BatchRow[][] {
  const out: BatchRow[][] = [];
  let batch: BatchRow[] = [];
  let bytes = 0;
  for (const r of op.insert) {
    const rowBytes = Object.values(r.bodies ?? {}).reduce((n, b) => n + b.bytes, 0);
    if (batch.length === size || (batch.length > 0 && bytes + rowBytes > BODY_BYTES_PER_BATCH)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(
      r.bodies
        ? { oldId: r.oldId, values: r.values, bodies: r.bodies }
        : { oldId: r.oldId, values: r.values },
    );
    bytes += rowBytes;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** Sets the references that close a cycle, now that every row of the cycle has its id. */
function secondPassBatches(op: ObjectPlan, idMap: IdMap, size = DEFAULT_BATCH_SIZE): Batch[] {
  if (op.deferredFields.length === 0) return [];
  const pick = (values: Values): Values => {
    const out: Values = {};
    for (const f of op.deferredFields) if (f in values && values[f] !== null) out[f] = values[f] ?? null;
    return out;
  };
  const rows = [
    ...op.insert.flatMap((r) => {
      const id = idMap.get(r.oldId);
      return id ? [{ oldId: r.oldId, id, values: pick(r.values) }] : [];
    }),
    ...op.undelete.map((r) => ({ oldId: r.id, id: r.id, values: pick(r.changes) })),
    ...op.update.map((r) => ({ oldId: r.oldId, id: r.id, values: pick(r.changes) })),
  ].filter((r) => Object.keys(r.values).length > 0);
  return chunk(rows, size).map((rows) => ({ kind: 'update' as const, rows }));
}
