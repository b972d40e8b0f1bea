/**
 * The journal of change events (docs/continuous.md, "The journal format"): each batch the writer
 * receives becomes, per commit hour, one append-only gzip JSON-lines object under
 * `orgs/<org>/journal/<yyyy>/<mm>/<dd>/<hh>/` and its manifest, written once; the reader merges
 * the objects of a time range, checks each against its manifest, drops duplicates and puts the
 * events in journal order.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ErrorName } from '../../../contract/workflow-contract.ts';
import { orgPrefix } from '../snapshot/keys.ts';
import { type BackupStore, ObjectExistsError, ObjectNotFoundError } from '../store.ts';

/** The version of the journal lines and manifests this code writes. */
export const JOURNAL_WRITER_VERSION = 1;

/** What the reader needs of a change event's header, repeated beside the event as received. */
export interface JournalSort {
  readonly commitTimestamp: number;
  readonly commitNumber: number;
  readonly sequenceNumber: number;
  /** `detail.replayId`; '' when the relay did not send one (the event is known by `eventId`). */
  readonly replayId: string;
  /** `detail.id`, the event's UUID, the same on every delivery of the event; absent when not sent. */
  readonly eventId?: string;
  readonly transactionKey: string;
  readonly changeType: string;
  readonly entityName: string;
  readonly recordIds: readonly string[];
}

/** One line of a journal object. */
export interface JournalLine {
  /** The EventBridge event exactly as received. */
  readonly event: unknown;
  readonly sort: JournalSort;
  readonly writer: { readonly receivedAt: string; readonly messageId: string; readonly version: number };
}

/** A journal object's manifest: the reader uses an object only when its manifest is there and matches. */
export interface JournalManifest {
  readonly key: string;
  readonly sha256: string;
  readonly linesSha256: string;
  readonly bytes: number;
  readonly events: number;
  readonly firstCommit: string;
  readonly lastCommit: string;
  readonly entities: Readonly<Record<string, number>>;
  readonly gaps: number;
  readonly overflows: number;
  readonly writtenAt: string;
  readonly writerVersion: number;
}

/** A relayed event the journal cannot use: its shape is not the change event the relay sends. */
export class UnreadableChangeEventError extends Error {
  override readonly name = ErrorName.UnreadableChangeEvent;
}

/** A journal object that does not match its manifest: the vault was changed after it was written. */
export class JournalCorruptError extends Error {
  override readonly name = ErrorName.JournalCorrupt;
}

/** Where an org's journal lives in the vault. */
export const journalPrefix = (org: string): string => `${orgPrefix(org)}journal/`;

/** The key of a journal object's manifest, written beside it. */
export const journalManifestKeyOf = (key: string): string => key.replace(/\.jsonl\.gz$/, '.manifest.json');

/** The prefix of one commit hour. */
export function hourPrefix(org: string, at: Date): string {
  const iso = at.toISOString();
  return `${journalPrefix(org)}${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}/`;
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/**
 * Reads the header fields the journal sorts and applies by, from an event as Event Relay puts it
 * on EventBridge: the change event in `detail.payload` (its `ChangeEventHeader`), its replay id in
 * `detail.replayId` or, when there is none, its UUID in `detail.id` (Salesforce does not document
 * which keys the relay puts in `detail`: either is accepted). Anything else is refused, naming what
 * is missing, and so is a `commitTimestamp` that is not a time (a whole number of milliseconds
 * since the epoch a date can hold).
 */
export function sortOf(event: unknown): JournalSort {
  const detail = record(record(event)?.detail);
  const payload = record(detail?.payload);
  const header = record(payload?.ChangeEventHeader);
  const problems: string[] = [];
  if (!detail) problems.push('no "detail" object');
  else if (!payload) problems.push('no "detail.payload" object');
  else if (!header) problems.push('no "detail.payload.ChangeEventHeader" object');
  const replay = detail?.replayId;
  const replayId = typeof replay === 'string' || typeof replay === 'number' ? String(replay) : '';
  const eventId = typeof detail?.id === 'string' && detail.id !== '' ? detail.id : undefined;
  if (detail && replayId === '' && !eventId) problems.push('neither "detail.replayId" nor "detail.id"');
  const number = (name: string): number => {
    const value = header?.[name];
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (header && (typeof n !== 'number' || !Number.isFinite(n)))
      problems.push(`header field "${name}" is not a number`);
    return typeof n === 'number' ? n : Number.NaN;
  };
  const text = (name: string): string => {
    const value = header?.[name];
    if (header && (typeof value !== 'string' || value === ''))
      problems.push(`header field "${name}" is missing`);
    return typeof value === 'string' ? value : '';
  };
  const commitTimestamp = number('commitTimestamp');
  if (
    Number.isFinite(commitTimestamp) &&
    !(Number.isInteger(commitTimestamp) && commitTimestamp >= 0 && commitTimestamp <= MAX_DATE_MS)
  )
    problems.push(
      `header field "commitTimestamp" (${commitTimestamp}) is not a time: it must be a whole number of milliseconds since 1970-01-01T00:00:00Z`,
    );
  const sort: JournalSort = {
    commitTimestamp,
    commitNumber: number('commitNumber'),
    sequenceNumber: number('sequenceNumber'),
    replayId,
    ...(eventId ? { eventId } : {}),
    transactionKey: text('transactionKey'),
    changeType: text('changeType'),
    entityName: text('entityName'),
    recordIds: Array.isArray(header?.recordIds) ? (header.recordIds as unknown[]).map(String) : [],
  };
  if (header && !Array.isArray(header.recordIds)) problems.push('header field "recordIds" is not a list');
  if (problems.length > 0) {
    throw new UnreadableChangeEventError(
      `The relayed event is not a change event the journal can read (${problems.join('; ')}). It expects Event Relay's shape: the change event in detail.payload with its ChangeEventHeader, and detail.replayId or detail.id. The event was not journaled; it waits in the writer's dead-letter queue.`,
    );
  }
  return sort;
}

/**
 * The journal's one identity of an event: its replay id with its transaction key and sequence
 * number (a replay id alone may repeat across org migrations), or, for an event relayed without a
 * replay id, its UUID, which every delivery of the event repeats.
 */
const identity = (s: JournalSort): string =>
  s.replayId === ''
    ? `uuid\u0000${s.eventId ?? ''}`
    : `${s.replayId}\u0000${s.transactionKey}\u0000${s.sequenceNumber}`;

/**
 * Journal order: commit time, then commit number, sequence number, replay id (whole numbers
 * compared as numbers) and the event's UUID, the last two only to make the order total.
 */
export function journalOrder(a: JournalSort, b: JournalSort): number {
  return (
    a.commitTimestamp - b.commitTimestamp ||
    a.commitNumber - b.commitNumber ||
    a.sequenceNumber - b.sequenceNumber ||
    compareReplayIds(a.replayId, b.replayId) ||
    compareText(a.eventId ?? '', b.eventId ?? '')
  );
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Replay ids are opaque; the ones Salesforce sends are whole numbers, compared as such. */
function compareReplayIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const [x, y] = [BigInt(a), BigInt(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareText(a, b);
}

/** The largest time a JavaScript Date holds, in ms after the epoch. */
const MAX_DATE_MS = 8.64e15;

/** A snapshot id's time format, which sorts by time: `YYYYMMDDTHHMMSSmmmZ`. */
const compact = (ms: number): string => new Date(ms).toISOString().replace(/[-:.]/g, '');

/** One message of a batch: its id (for a partial failure) and the event it carries. */
export interface JournalMessage {
  readonly messageId: string;
  readonly event: unknown;
}

/** What writing a batch did: the objects written (or found written), and the messages it could not use. */
export interface JournalWriteResult {
  readonly keys: readonly string[];
  readonly failedMessageIds: readonly string[];
  readonly events: number;
}

/**
 * Writes a batch: events it cannot read are reported by message id (the queue redelivers them,
 * then parks them in its dead-letter queue); the others, without duplicates, in journal order,
 * become one object per commit hour, then its manifest. Both are written once (a conditional
 * write): a batch delivered again finds its object written and writes only what is missing.
 */
export async function writeJournalBatch(
  store: BackupStore,
  org: string,
  messages: readonly JournalMessage[],
  clock: () => Date,
): Promise<JournalWriteResult> {
  const failed: string[] = [];
  const lines = new Map<string, JournalLine>();
  const receivedAt = clock().toISOString();
  for (const message of messages) {
    let sort: JournalSort;
    try {
      sort = sortOf(message.event);
    } catch (error) {
      if (error instanceof UnreadableChangeEventError) {
        failed.push(message.messageId);
        continue;
      }
      throw error;
    }
    const id = identity(sort);
    if (!lines.has(id))
      lines.set(id, {
        event: message.event,
        sort,
        writer: { receivedAt, messageId: message.messageId, version: JOURNAL_WRITER_VERSION },
      });
  }
  const byHour = new Map<string, JournalLine[]>();
  for (const line of lines.values()) {
    const hour = hourPrefix(org, new Date(line.sort.commitTimestamp));
    const list = byHour.get(hour) ?? [];
    list.push(line);
    byHour.set(hour, list);
  }
  const keys: string[] = [];
  for (const [hour, hourLines] of [...byHour].sort(([a], [b]) => a.localeCompare(b))) {
    hourLines.sort((a, b) => journalOrder(a.sort, b.sort));
    keys.push(await writeObject(store, hour, hourLines, clock));
  }
  // A gap, an overflow, or an event for every record of an object (a wildcard) says the journal
  // lacks those changes: the next backup reads the object again (see `rereadsSince`).
  for (const line of lines.values()) {
    const kind = rereadKind(line.sort);
    if (!kind) continue;
    const reread: Reread = {
      receivedAt,
      kind,
      entityName: line.sort.entityName,
      changeType: line.sort.changeType,
      recordIds: line.sort.recordIds,
      commitTimestamp: new Date(line.sort.commitTimestamp).toISOString(),
    };
    await writeOnce(store, rereadKey(org, line.sort, receivedAt), reread);
  }
  return { keys, failedMessageIds: failed, events: lines.size };
}

async function writeObject(
  store: BackupStore,
  hour: string,
  lines: readonly JournalLine[],
  clock: () => Date,
): Promise<string> {
  // The content decides the name, so a batch delivered again names the same object; `writer`
  // (when, from which message) is left out of the name for that reason.
  const identityText = lines.map((l) => `${JSON.stringify({ event: l.event, sort: l.sort })}\n`).join('');
  const hash = createHash('sha256').update(identityText).digest('hex').slice(0, 16);
  const first = lines[0]!.sort;
  const last = lines.at(-1)!.sort;
  const key = `${hour}${compact(first.commitTimestamp)}-${safe(eventName(first))}-${safe(eventName(last))}-${hash}.jsonl.gz`;
  const manifestKey = journalManifestKeyOf(key);
  if (await exists(store, manifestKey)) return key;
  let body: Uint8Array;
  if (await exists(store, key)) {
    // Written by an attempt that stopped before its manifest: the manifest describes what is there.
    body = await store.get(key);
  } else {
    const text = lines.map((l) => `${JSON.stringify(l)}\n`).join('');
    body = gzipSync(Buffer.from(text));
    try {
      await store.put(key, body, { contentType: 'application/gzip' });
    } catch (error) {
      if (!(error instanceof ObjectExistsError)) throw error;
      body = await store.get(key);
    }
  }
  const manifest = describeJournalObject(key, body, clock().toISOString());
  try {
    await store.put(manifestKey, JSON.stringify(manifest), { contentType: 'application/json' });
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
  }
  return key;
}

/**
 * The manifest of a journal object's body: its hashes, size and what its lines hold. An erasure
 * that rewrites a body describes it again with this, keeping when it was first written.
 */
export function describeJournalObject(key: string, body: Uint8Array, writtenAt: string): JournalManifest {
  const text = gunzipSync(body).toString('utf8');
  const stored = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalLine);
  const entities: Record<string, number> = {};
  for (const line of stored) entities[line.sort.entityName] = (entities[line.sort.entityName] ?? 0) + 1;
  const first = stored[0]?.sort.commitTimestamp;
  const last = stored.at(-1)?.sort.commitTimestamp;
  return {
    key,
    sha256: createHash('sha256').update(body).digest('hex'),
    linesSha256: createHash('sha256').update(text).digest('hex'),
    bytes: body.length,
    events: stored.length,
    // An object an erasure emptied keeps no commit; its name still files it under its hour.
    firstCommit: first === undefined ? '' : new Date(first).toISOString(),
    lastCommit: last === undefined ? '' : new Date(last).toISOString(),
    entities,
    gaps: stored.filter((l) => l.sort.changeType.startsWith('GAP_') && l.sort.changeType !== 'GAP_OVERFLOW')
      .length,
    overflows: stored.filter((l) => l.sort.changeType === 'GAP_OVERFLOW').length,
    writtenAt,
    writerVersion: JOURNAL_WRITER_VERSION,
  };
}

/**
 * Where a gap, overflow or wildcard event is recorded for the next backup: sorted by when the
 * writer received it, then by commit time. A batch delivered again writes its rereads again under
 * its own arrival: a reread served once more costs a read, one never served would leave the vault
 * stale.
 */
function rereadKey(org: string, sort: JournalSort, receivedAt: string): string {
  const hash = createHash('sha256').update(identity(sort)).digest('hex').slice(0, 16);
  return `${journalPrefix(org)}rereads/${compact(Date.parse(receivedAt))}-${compact(sort.commitTimestamp)}-${hash}.json`;
}

async function writeOnce(store: BackupStore, key: string, value: unknown): Promise<void> {
  if (await exists(store, key)) return;
  try {
    await store.put(key, JSON.stringify(value), { contentType: 'application/json' });
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
  }
}

/**
 * What the journal lacks because of an event: `gap` when a gap event (GAP_CREATE, ...) names
 * records whose changes it does not carry, `overflow` for a GAP_OVERFLOW or an event whose record
 * ids are a key prefix and a wildcard (`001*`), which stands for every record of the object.
 * Undefined for an event the journal holds whole.
 */
export function rereadKind(sort: JournalSort): Reread['kind'] | undefined {
  if (sort.changeType === 'GAP_OVERFLOW' || sort.recordIds.some((id) => id.endsWith('*'))) return 'overflow';
  return sort.changeType.startsWith('GAP_') ? 'gap' : undefined;
}

/** A change the journal lacks: a gap for some records, or an overflow (or wildcard) for the object. */
export interface Reread {
  /** When the journal writer received the event (ISO, the writer's clock). */
  readonly receivedAt: string;
  /** `gap`: the records named; `overflow`: the whole object (see `rereadKind`). */
  readonly kind: 'gap' | 'overflow';
  readonly entityName: string;
  readonly changeType: string;
  readonly recordIds: readonly string[];
  readonly commitTimestamp: string;
}

/**
 * The rereads the journal writer received at or after `since`, whatever their commit time, in the
 * order received. A backup serves those received since the previous one's window began, so an
 * event the relay delivers late (committed before that window) is still served.
 */
export async function rereadsSince(store: BackupStore, org: string, since: Date): Promise<Reread[]> {
  const out: Reread[] = [];
  const from = compact(since.getTime());
  for await (const entry of store.list(`${journalPrefix(org)}rereads/`)) {
    const name = entry.key.slice(entry.key.lastIndexOf('/') + 1);
    if (name.slice(0, from.length) < from) continue;
    out.push(JSON.parse(new TextDecoder().decode(await store.get(entry.key))) as Reread);
  }
  return out.sort(
    (a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.commitTimestamp.localeCompare(b.commitTimestamp),
  );
}

/** How an event is named in a key: its replay id, or its UUID when it was relayed without one. */
const eventName = (sort: JournalSort): string => sort.replayId || (sort.eventId ?? '');

/** Replay ids are opaque: in a key, only letters, digits and hyphens are kept. */
const safe = (replayId: string): string => replayId.replace(/[^A-Za-z0-9-]/g, '_').slice(0, 40);

async function exists(store: BackupStore, key: string): Promise<boolean> {
  return (await store.head(key)) !== undefined;
}

/**
 * The journal's events committed in [from, to], each once, in journal order. Only objects with a
 * manifest are read (a body without one is a write still under way, or one its batch will
 * finish), and each is checked against it first.
 */
export async function readJournal(
  store: BackupStore,
  org: string,
  from: Date,
  to: Date,
): Promise<JournalLine[]> {
  const lines = new Map<string, JournalLine>();
  const start = Math.floor(from.getTime() / 3_600_000) * 3_600_000;
  for (let hour = start; hour <= to.getTime(); hour += 3_600_000) {
    for await (const entry of store.list(hourPrefix(org, new Date(hour)))) {
      if (!entry.key.endsWith('.manifest.json')) continue;
      const manifest = JSON.parse(new TextDecoder().decode(await store.get(entry.key))) as JournalManifest;
      let body: Uint8Array;
      try {
        body = await store.get(manifest.key);
      } catch (error) {
        if (error instanceof ObjectNotFoundError)
          throw new JournalCorruptError(
            `Journal object ${manifest.key} is missing, though its manifest ${entry.key} names it.`,
          );
        throw error;
      }
      if (createHash('sha256').update(body).digest('hex') !== manifest.sha256) {
        throw new JournalCorruptError(
          `Journal object ${manifest.key} does not match the SHA-256 its manifest records: it was changed after it was written. Nothing was restored from it; find out who changed the vault.`,
        );
      }
      for (const text of gunzipSync(body).toString('utf8').split('\n')) {
        if (!text) continue;
        const line = JSON.parse(text) as JournalLine;
        const at = line.sort.commitTimestamp;
        if (at < from.getTime() || at > to.getTime()) continue;
        const id = identity(line.sort);
        if (!lines.has(id)) lines.set(id, line);
      }
    }
  }
  return [...lines.values()].sort((a, b) => journalOrder(a.sort, b.sort));
}

/**
 * The journal's batches, each as when it was written (its manifest's `writtenAt`: the journal's own
 * record of when the relay delivered) and the commit time of its earliest event (`firstCommit`),
 * ascending by `writtenAt`. With `from`, only the commit hours from `from`'s hour on are read; a
 * batch is filed under the commit hour of its events, so batches a relay delivers late are still
 * found when `from` is at or before the commits they hold.
 */
export async function journalArrivals(
  store: BackupStore,
  org: string,
  from?: Date,
): Promise<{ writtenAt: string; firstCommit: string }[]> {
  const prefix = journalPrefix(org);
  const first = from ? hourPrefix(org, from).slice(prefix.length) : '';
  const out: { writtenAt: string; firstCommit: string }[] = [];
  for await (const entry of store.list(prefix)) {
    if (!entry.key.endsWith('.manifest.json')) continue;
    const path = entry.key.slice(prefix.length);
    // Hour folders are `yyyy/mm/dd/hh/`: anything else under the journal (rereads/) is not a batch.
    if (!/^\d{4}\/\d{2}\/\d{2}\/\d{2}\//.test(path) || path < first) continue;
    const manifest = JSON.parse(new TextDecoder().decode(await store.get(entry.key))) as JournalManifest;
    out.push({ writtenAt: manifest.writtenAt, firstCommit: manifest.firstCommit });
  }
  return out.sort((a, b) => a.writtenAt.localeCompare(b.writtenAt));
}
