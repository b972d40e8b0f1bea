/**
 * Finding a person in the vault: which rows of which stored versions hold the ids to erase. Every
 * version is read (current and earlier ones), decompressed where gzip, and judged by its kind:
 * CSV parts row by row, journal objects event by event, anything else as text.
 */
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { suffixOf } from '../../../contract/org-id.ts';
import {
  ERASE_FOLDERS,
  ERASURES_FOLDER,
  erasePrefixesOf,
  VAULT_LEASE_FOLDER,
} from '../../../contract/workflow-contract.ts';
import { checkOrgKey, orgPrefix } from '../snapshot/keys.ts';
import type { ObjectVersion, VersionedStore } from '../store.ts';
import type { JournalLine } from '../continuous/journal.ts';

/** The kinds of stored object erasure tells apart. */
export type StoredKind = 'part' | 'journal' | 'text' | 'other';

/** Where under an org's prefix erasure records live; no scan or rewrite touches them. */
export const erasuresPrefix = (org: string): string => `${orgPrefix(org)}${ERASURES_FOLDER}`;

const SNAPSHOT_OBJECT = /\/snapshots\/([^/]+)\/objects\/([^/]+)\/([^/]+)$/;
const JOURNAL_BODY = /\/journal\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+\.jsonl\.gz$/;

/** What kind of object a key holds, and, for a snapshot's CSV, its snapshot and object. */
export function kindOf(key: string): { kind: StoredKind; snapshotId?: string; object?: string } {
  const part = SNAPSHOT_OBJECT.exec(key);
  if (part && key.endsWith('.csv.gz')) return { kind: 'part', snapshotId: part[1]!, object: part[2]! };
  if (JOURNAL_BODY.test(key)) return { kind: 'journal' };
  if (/\.(json|jsonl|csv|txt)$/.test(key)) return { kind: 'text' };
  return { kind: 'other' };
}

/**
 * Rows that exist only for their parent record, and hold its old values or who sees it: a row of
 * these whose lookup names an erased id goes with it.
 */
export const isDependentObject = (object: string): boolean => /(History|Share|Feed)$/.test(object);

/** A set of record ids matched by their first 15 characters, exactly. */
export class IdSet {
  private readonly by15: Map<string, string>;
  constructor(ids: readonly string[]) {
    this.by15 = new Map(ids.map((id) => [id.slice(0, 15), canonical18(id)]));
  }
  /** The erased id a cell names (15 or 18 characters), or undefined. */
  match(value: string): string | undefined {
    if (value.length !== 15 && value.length !== 18) return undefined;
    const id = this.by15.get(value.slice(0, 15));
    if (!id) return undefined;
    return value.length === 15 || value.slice(15) === id.slice(15) ? id : undefined;
  }
  /** The 15-character forms, which every spelling of an id in stored text contains. */
  prefixes(): string[] {
    return [...this.by15.keys()];
  }
  get size(): number {
    return this.by15.size;
  }
  ids(): string[] {
    return [...this.by15.values()].sort();
  }
}

/** The 18-character form of a 15- or 18-character id, its casing as given. */
export const canonical18 = (id: string): string => `${id.slice(0, 15)}${suffixOf(id.slice(0, 15))}`;

/** Decompresses a stored body when it is gzip (by its magic bytes); answers the text. */
export function textOf(body: Uint8Array): string {
  const gz = body.length > 2 && body[0] === 0x1f && body[1] === 0x8b;
  return Buffer.from(gz ? gunzipSync(body) : body).toString('utf8');
}

/** A parsed CSV part: its header and rows as arrays of cells. */
export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly string[][];
}

/** Parses a CSV part's text (header first). */
export function parseCsv(text: string): CsvTable {
  const records = parse(text, { bom: true, skip_empty_lines: true, relax_quotes: false }) as string[][];
  return { header: records[0] ?? [], rows: records.slice(1) };
}

/**
 * Whether a row of a CSV goes with the erased ids: its own `Id` is one, or, for a dependent object
 * (history, share, feed) or a side part (tombstones, links), any of its `...Id` columns names one.
 */
export function rowErased(
  table: CsvTable,
  row: readonly string[],
  ids: IdSet,
  object: string,
  key: string,
): string | undefined {
  const side = !key.slice(key.lastIndexOf('/') + 1).startsWith('part-');
  for (let i = 0; i < table.header.length; i++) {
    const column = table.header[i]!;
    const isId = column === 'Id';
    const isLookup = column.endsWith('Id') && (isDependentObject(object) || side);
    if (!isId && !isLookup) continue;
    const hit = ids.match(row[i] ?? '');
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Whether a column of a row that is not the person's holds references: a lookup (`...Id`) or a
 * history row's `OldValue`/`NewValue`. Such a cell that is exactly an erased id is a reference to
 * the person from another record: kept, and counted apart (docs/erasure.md).
 */
export const isReferenceColumn = (column: string): boolean =>
  column.endsWith('Id') || column === 'OldValue' || column === 'NewValue';

/**
 * What one journal line holds of the erased ids: `erased` when the event is one of the person's
 * records (it goes), `references` when another record's event names one in a reference field (it
 * stays), `trace` when an erased id is anywhere else in it (neither rule covers it).
 */
export function journalLineHolds(
  line: JournalLine,
  ids: IdSet,
): { erased: boolean; references: number; trace: boolean } {
  const erased = line.sort.recordIds.some((id) => ids.match(id));
  const event = line.event as { detail?: { payload?: Record<string, unknown> } };
  const payload = event.detail?.payload ?? {};
  let references = 0;
  const rest: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(payload)) {
    if (typeof value === 'string' && isReferenceColumn(field) && ids.match(value)) references++;
    else rest[field] = value;
  }
  const without = { ...line, event: { ...event, detail: { ...event.detail, payload: rest } } };
  const text = JSON.stringify(without);
  const trace = !erased && ids.prefixes().some((p) => text.includes(p));
  return { erased, references: erased ? 0 : references, trace };
}

/** Lines of a journal object, parsed. */
export function journalLines(text: string): JournalLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalLine);
}

/** Where a pass over stored versions stands: the prefix it is in, and the last key it finished there. */
export interface PassCursor {
  readonly prefix: number;
  readonly afterKey?: string;
}

/** When a step stops and answers `done: false`: at the first key it finishes past `deadline`. */
export interface StepTime {
  readonly clock: () => Date;
  readonly deadline?: Date;
}

/** Whether the step's deadline has passed (never, without one). */
export const pastDeadline = (time: StepTime | undefined): boolean =>
  time?.deadline !== undefined && time.clock().getTime() > time.deadline.getTime();

/** The prefixes a pass lists, and the ones under them it leaves out. */
export interface PassScope {
  readonly prefixes: readonly string[];
  readonly skip: readonly string[];
}

/**
 * The org's records: its backups' `ERASE_FOLDERS`, its restore records and its diff reports (see
 * `erasePrefixesOf`), which an erasure plans and rewrites; with `everything`, as the last scan
 * reads them, the rest of the org's prefix too (its retention log and latest pointer, which an
 * erasure does not rewrite). Erasure records and the org's vault lease are left out.
 */
export function orgScope(org: string, options: { readonly everything?: boolean } = {}): PassScope {
  const name = checkOrgKey(org);
  const [backups, ...others] = erasePrefixesOf(name);
  const prefixes = options.everything
    ? [backups!, ...others]
    : [...ERASE_FOLDERS.map((folder) => `${backups}${folder}`), ...others];
  // Erasure records, and the org's vault lease (run ids and empty heartbeats our own steps write).
  return { prefixes, skip: [erasuresPrefix(org), `${backups}${VAULT_LEASE_FOLDER}`] };
}

/** What a pass's visitor reads a version's body through: the read made ahead for it, if any. */
export type VersionReader = Pick<VersionedStore, 'getVersion'>;

/**
 * How far a pass reads ahead: bodies being read or held (the visited version's among them), the
 * bytes those may hold (always at least one version), and listed versions held ahead.
 * S3 answers each read after tens of milliseconds whatever its size, so a pass over many small
 * objects reading one at a time spends its time waiting.
 */
export const READ_AHEAD = { versions: 8, bytes: 256 * 1024 * 1024, listed: 1_000 } as const;

/** Options of a pass. */
export interface PassOptions {
  /** The versions whose bodies the visitor reads, to read ahead. @default every version visited */
  readonly reads?: (version: ObjectVersion) => boolean;
  /** @default READ_AHEAD */
  readonly readAhead?: { readonly versions: number; readonly bytes: number; readonly listed: number };
}

/**
 * Visits every version under the scope's prefixes (delete markers and skipped keys aside), key by
 * key in listing order, from `from`. Past `time.deadline` it stops once the key it is on is
 * finished (at least one key a call) and answers where to go on from; undefined when it visited
 * every version. A pass over a vault too large for one invocation so runs over several. The
 * visits run one after another, in listing order, so what they find does not depend on how the
 * reads interleave; the bodies of the versions after the one visited are read meanwhile
 * (`READ_AHEAD`), and a read made ahead and not used is dropped.
 */
export async function visitVersions(
  store: VersionedStore,
  scope: PassScope,
  from: PassCursor | undefined,
  time: StepTime | undefined,
  visit: (version: ObjectVersion, reader: VersionReader) => Promise<void>,
  options: PassOptions = {},
): Promise<PassCursor | undefined> {
  const past = () => pastDeadline(time);
  const visited = (version: ObjectVersion) =>
    !version.deleteMarker && !scope.skip.some((s) => version.key.startsWith(s));
  const reads = options.reads ?? (() => true);
  const first = from?.prefix ?? 0;
  for (let i = first; i < scope.prefixes.length; i++) {
    const after = i === first ? from?.afterKey : undefined;
    const listing = store
      .listVersions(scope.prefixes[i]!, after !== undefined ? { afterKey: after } : {})
      [Symbol.asyncIterator]();
    const ahead = new ReadAhead(store, options.readAhead ?? READ_AHEAD);
    let last: string | undefined;
    try {
      for (;;) {
        const version = await ahead.next(listing, (v) => visited(v) && reads(v));
        if (!version) break;
        if (version.key !== last) {
          if (last !== undefined && past()) return { prefix: i, afterKey: last };
          last = version.key;
        }
        if (!visited(version)) continue;
        try {
          await visit(version, ahead);
        } finally {
          ahead.done(version);
        }
      }
    } finally {
      ahead.drop();
      try {
        await listing.return?.();
      } catch {
        // Closing the listing changes nothing the pass found; its failure must not hide the visit's.
      }
    }
    if (i + 1 < scope.prefixes.length && past()) return { prefix: i + 1 };
  }
  return undefined;
}

const versionId = (key: string, id: string) => `${key}\u0000${id}`;

/**
 * The listed versions ahead of the one visited, and the reads started for them. Reads start in
 * listing order: a version that does not fit the budget waits for room, and nothing after it is
 * listed meanwhile. A read forgotten when a pass stops is not cancelled: it ends in the background
 * (at most the budget's bytes).
 */
class ReadAhead implements VersionReader {
  private readonly listed: ObjectVersion[] = [];
  /** Listed versions the visitor reads whose reads have not started, in listing order. */
  private readonly unread: ObjectVersion[] = [];
  private readonly reading = new Map<string, { body: Promise<Uint8Array>; bytes: number }>();
  private bytes = 0;
  private ended = false;

  constructor(
    private readonly store: VersionedStore,
    private readonly limits: { readonly versions: number; readonly bytes: number; readonly listed: number },
  ) {}

  /** The next listed version, having listed and started reads ahead of it as far as the limits let. */
  async next(
    listing: AsyncIterator<ObjectVersion>,
    wanted: (version: ObjectVersion) => boolean,
  ): Promise<ObjectVersion | undefined> {
    for (;;) {
      while (this.unread.length > 0 && this.fits(this.unread[0]!)) this.start(this.unread.shift()!);
      // The first version not read yet waits for room: listing further would only hold versions.
      if (this.unread.length > 0 && this.listed.length > 0) break;
      const full =
        this.listed.length >= this.limits.listed ||
        this.reading.size >= this.limits.versions ||
        this.bytes >= this.limits.bytes;
      if (this.ended || (this.listed.length > 0 && full)) break;
      const step = await listing.next();
      if (step.done) {
        this.ended = true;
        break;
      }
      this.listed.push(step.value);
      if (wanted(step.value)) this.unread.push(step.value);
    }
    const version = this.listed.shift();
    // Visited before its read could start: the visitor reads it then.
    if (version !== undefined && this.unread[0] === version) this.unread.shift();
    return version;
  }

  /** At least one read always goes (the next to be visited), whatever its size. */
  private fits(version: ObjectVersion): boolean {
    return (
      this.reading.size === 0 ||
      (this.reading.size < this.limits.versions && this.bytes + version.bytes <= this.limits.bytes)
    );
  }

  private start(version: ObjectVersion): void {
    const id = versionId(version.key, version.versionId);
    // A version listed twice (a server repeating one across pages) is read once.
    if (this.reading.has(id)) return;
    const body = this.store.getVersion(version.key, version.versionId);
    // Its failure reaches the visitor that reads it; one never read is dropped quietly.
    body.catch(() => undefined);
    this.reading.set(id, { body, bytes: version.bytes });
    this.bytes += version.bytes;
  }

  getVersion(key: string, id: string): Promise<Uint8Array> {
    return this.reading.get(versionId(key, id))?.body ?? this.store.getVersion(key, id);
  }

  /** Forgets the read of a visited version. */
  done(version: ObjectVersion): void {
    const id = versionId(version.key, version.versionId);
    const read = this.reading.get(id);
    if (!read) return;
    this.reading.delete(id);
    this.bytes -= read.bytes;
  }

  /** Forgets every read made ahead (a pass that stops leaves them unused). */
  drop(): void {
    this.reading.clear();
    this.bytes = 0;
    this.listed.length = 0;
    this.unread.length = 0;
  }
}
