/**
 * The end of an erasure: a scan of every version of the org's records for what should be gone,
 * and the erasure log, which records the request and the scan's result, never a value.
 */
import { ObjectExistsError, type BackupStore, type ObjectVersion, type VersionedStore } from '../store.ts';
import {
  erasuresPrefix,
  IdSet,
  isReferenceColumn,
  journalLineHolds,
  journalLines,
  kindOf,
  orgScope,
  type PassCursor,
  type StepTime,
  type VersionReader,
  visitVersions,
  parseCsv,
  rowErased,
  textOf,
} from './find.ts';
import { bytesHoldAny, copiesInText, type ErasurePlan, textsHoldAny } from './plan.ts';
import { type Copies, CopyTally } from './copies.ts';
import type { ErasureOutcome } from './execute.ts';

/** One version the scan found something in: where, and what kind of thing (never the thing). */
export interface Trace {
  readonly key: string;
  readonly versionId: string;
  readonly what: 'erased id' | 'filter value' | 'copy of her values';
}

/** The scan's result. */
export interface ScanResult {
  readonly versionsScanned: number;
  /** At most the first 100 traces; `traceCount` counts them all. */
  readonly traces: readonly Trace[];
  readonly traceCount: number;
  /** Other records' lookup fields that still name an erased id, per object: kept by design. */
  readonly keptReferences: Readonly<Record<string, number>>;
  /** Copies of her values in the fields the request keeps, per `Object.Field`. */
  readonly keptCopies: Readonly<Record<string, number>>;
}

/**
 * Reads every version under the org's prefix (erasure records aside), decompressed where gzip,
 * and reports each that still holds an erased id, a filter value, or a copy of her values
 * (`copies`) outside the fields the request keeps. An erased id in another record's lookup field
 * or history value (a part's row, a journal event of another record) is counted apart: those
 * records are not the person's, and the rewrite keeps them too. File bodies and metadata archives
 * (`other`) are searched for ids and filter values as bytes; their formats are not read for copies.
 */
export async function scanForTraces(
  versions: VersionedStore,
  org: string,
  ids: readonly string[],
  filterValues: readonly string[],
  copies?: Copies,
): Promise<ScanResult> {
  const step = await scanStep(versions, org, ids, filterValues, copies, undefined, undefined);
  if (!step.done) throw new Error('A scan without a deadline stopped before its end.');
  return step.result;
}

/** Where a scan over several invocations stands: where its pass stopped, and what it found so far. */
export interface ScanProgress {
  readonly cursor: PassCursor;
  readonly versionsScanned: number;
  readonly traces: readonly Trace[];
  readonly traceCount: number;
  readonly keptReferences: Readonly<Record<string, number>>;
  readonly keptCopies: Readonly<Record<string, number>>;
}

/** A step of the scan: the progress to go on from, or the result. */
export type ScanStep =
  | { readonly done: false; readonly progress: ScanProgress }
  | { readonly done: true; readonly result: ScanResult };

/** `scanForTraces` from `from` (or the start) until it ends or `time.deadline` has passed. */
export async function scanStep(
  versions: VersionedStore,
  org: string,
  ids: readonly string[],
  filterValues: readonly string[],
  copies: Copies | undefined,
  from: ScanProgress | undefined,
  time: StepTime | undefined,
): Promise<ScanStep> {
  const set = new IdSet(ids);
  const prefixes = set.prefixes();
  // A filter value that is one of her values is looked for field by field, so that a kept field
  // may hold it; any other is looked for anywhere.
  const whole = (v: string) => {
    const hits = copies?.matcher.find(v.trim()) ?? [];
    return hits.length === 1 && hits[0]!.start === 0 && hits[0]!.end === v.trim().length;
  };
  const plainValues = filterValues.filter((v) => !whole(v));
  const keptCopies = CopyTally.from({ byField: {}, kept: from?.keptCopies ?? {}, records: {} });
  // Copies of her values in a version: a trace unless every one is in a field the request keeps.
  const holdsCopies = (look: (tally: CopyTally) => void): boolean => {
    if (!copies || copies.matcher.empty) return false;
    const tally = new CopyTally();
    look(tally);
    keptCopies.addKept(tally);
    return tally.count > 0;
  };
  const traces: Trace[] = [...(from?.traces ?? [])];
  let traceCount = from?.traceCount ?? 0;
  let scanned = from?.versionsScanned ?? 0;
  const kept: Record<string, number> = { ...from?.keptReferences };
  const found = (key: string, versionId: string, what: Trace['what']) => {
    traceCount++;
    if (traces.length < 100) traces.push({ key, versionId, what });
  };
  const visit = async (version: ObjectVersion, reader: VersionReader): Promise<void> => {
    scanned++;
    const body = await reader.getVersion(version.key, version.versionId);
    const kind = kindOf(version.key);
    const text = kind.kind === 'other' ? Buffer.from(body).toString('latin1') : textOf(body);
    // File bodies and archives are not read field by field: every filter value is looked for in them.
    if (kind.kind === 'other' ? bytesHoldAny(body, filterValues) : textsHoldAny([text], plainValues))
      found(version.key, version.versionId, 'filter value');
    if (kind.kind === 'text' && holdsCopies((t) => copiesInText(copies!, text, t)))
      found(version.key, version.versionId, 'copy of her values');
    if (kind.kind === 'part' || kind.kind === 'journal') {
      const copy = holdsCopies((t) => {
        if (kind.kind === 'journal') {
          for (const line of journalLines(text))
            if (!journalLineHolds(line, set).erased) copies!.event(line, t);
          return;
        }
        const table = parseCsv(text);
        for (const row of table.rows)
          if (!rowErased(table, row, set, kind.object!, version.key))
            copies!.row(table, row, kind.object!, t);
      });
      if (copy) found(version.key, version.versionId, 'copy of her values');
    }
    if (!prefixes.some((p) => text.includes(p))) return;
    if (kind.kind === 'journal') {
      let trace = false;
      for (const line of journalLines(text)) {
        const held = journalLineHolds(line, set);
        if (held.erased || held.trace) trace = true;
        const entity = line.sort.entityName;
        if (held.references > 0) kept[entity] = (kept[entity] ?? 0) + held.references;
      }
      if (trace) found(version.key, version.versionId, 'erased id');
      return;
    }
    if (kind.kind !== 'part') {
      found(version.key, version.versionId, 'erased id');
      return;
    }
    const table = parseCsv(text);
    let trace = false;
    for (const row of table.rows) {
      if (rowErased(table, row, set, kind.object!, version.key)) {
        trace = true;
        break;
      }
      for (let i = 0; i < row.length; i++) {
        const cell = row[i]!;
        if (!prefixes.some((p) => cell.includes(p))) continue;
        const reference = isReferenceColumn(table.header[i] ?? '') && set.match(cell);
        if (reference) kept[kind.object!] = (kept[kind.object!] ?? 0) + 1;
        else trace = true;
      }
    }
    if (trace) found(version.key, version.versionId, 'erased id');
  };
  const cursor = await visitVersions(
    versions,
    orgScope(org, { everything: true }),
    from?.cursor,
    time,
    visit,
  );
  const tallied = {
    versionsScanned: scanned,
    traces,
    traceCount,
    keptReferences: kept,
    keptCopies: keptCopies.kept,
  };
  if (cursor) return { done: false, progress: { cursor, ...tallied } };
  return { done: true, result: tallied };
}

/**
 * The erasure log entry written before the first version is removed: who asked, which ids, when
 * and which execution; never a value. Until the finish completes it, or it is marked as ended
 * (`ErasureEndedEntry`).
 */
export interface ErasureStartedEntry {
  readonly formatVersion: number;
  readonly org: string;
  readonly execution: string;
  readonly status: 'started';
  readonly startedAt: string;
  readonly requestedBy: string;
  readonly ids: readonly string[];
}

/**
 * A `started` entry whose execution ended before its finish: `failed` when its failure path ran
 * (with the error's name, never its message), `unfinished` when a later execution of the org found
 * it over without a word (stopped from the console, or its failure path failed too). What it
 * removed before it ended is listed under its `removed/` folder.
 */
export interface ErasureEndedEntry extends Omit<ErasureStartedEntry, 'status'> {
  readonly status: 'failed' | 'unfinished';
  /** When its failure path ran (`failed`). */
  readonly failedAt?: string;
  /** The name of the error it failed with (`failed`), e.g. `ErasureImpossibleError`, `Sandbox.Timedout`. */
  readonly error?: string;
  /** Which execution found it over, and when (`unfinished`). */
  readonly noticedBy?: string;
  readonly noticedAt?: string;
}

/** Any entry of the erasure log. */
export type ErasureEntry = ErasureStartedEntry | ErasureEndedEntry | ErasureLogEntry;

/** The erasure log entry: who asked, what went, and what the last scan found. */
export interface ErasureLogEntry {
  readonly formatVersion: number;
  readonly org: string;
  readonly execution: string;
  readonly status: 'complete';
  /** When the erase step began removing versions; absent for a dry run. */
  readonly startedAt?: string;
  readonly erasedAt: string;
  readonly requestedBy: string;
  readonly reason?: string;
  readonly ids: readonly string[];
  readonly objects: Readonly<Record<string, string>>;
  readonly filterFields?: readonly string[];
  readonly plan: ErasurePlan['summary'];
  readonly outcome: ErasureOutcome;
  readonly scan: ScanResult;
}

/** Prefix of the erasure log. */
export const erasureLogPrefix = (org: string): string => `${erasuresPrefix(org)}log/`;

/** The execution an entry's key names: `<time>-<execution>.json`, the time holding no "-". */
export function executionOfEntry(org: string, key: string): string | undefined {
  return /^\d{8}T\d+Z-(.+)\.json$/.exec(key.slice(erasureLogPrefix(org).length))?.[1];
}

/** The execution's log entry, if one was written: its key and what it says. */
export async function existingEntry(
  store: BackupStore,
  org: string,
  execution: string,
): Promise<{ key: string; entry: ErasureEntry } | undefined> {
  for await (const existing of store.list(erasureLogPrefix(org))) {
    // "retry-2" is never execution "2"'s.
    if (executionOfEntry(org, existing.key) !== execution) continue;
    return { key: existing.key, entry: JSON.parse(textOf(await store.get(existing.key))) as ErasureEntry };
  }
  return undefined;
}

/** The entries still `started` of executions other than `execution`, by execution. */
export async function startedEntries(
  store: BackupStore,
  org: string,
  execution: string,
): Promise<Map<string, { key: string; entry: ErasureStartedEntry }>> {
  const out = new Map<string, { key: string; entry: ErasureStartedEntry }>();
  for await (const existing of store.list(erasureLogPrefix(org))) {
    const named = executionOfEntry(org, existing.key);
    if (!named || named === execution) continue;
    let entry: ErasureEntry;
    try {
      entry = JSON.parse(textOf(await store.get(existing.key))) as ErasureEntry;
    } catch {
      continue; // Unreadable: left as it is, for the next finish to try again.
    }
    if (entry.status === 'started') out.set(named, { key: existing.key, entry });
  }
  return out;
}

/** Says in the log that a `started` execution ended before its finish; an entry in another state stays. */
export async function endErasureEntry(
  versions: VersionedStore,
  found: { key: string; entry: ErasureEntry },
  end: Pick<ErasureEndedEntry, 'status' | 'failedAt' | 'error' | 'noticedBy' | 'noticedAt'>,
): Promise<void> {
  if (found.entry.status !== 'started') return;
  const ended: ErasureEndedEntry = { ...found.entry, ...end };
  await versions.replace(found.key, `${JSON.stringify(ended, null, 1)}\n`, {
    contentType: 'application/json',
  });
}

/** Writes the `started` entry once per execution, before any version is removed; answers its key. */
export async function writeErasureStarted(store: BackupStore, entry: ErasureStartedEntry): Promise<string> {
  const found = await existingEntry(store, entry.org, entry.execution);
  if (found) return found.key;
  return putEntry(store, entry.org, entry.execution, entry.startedAt, entry);
}

/**
 * Writes the log entry once per execution: a `started` entry is completed in place (keeping when
 * it started), and a run finishing again finds its complete entry and keeps it.
 */
export async function writeErasureLog(
  store: BackupStore,
  versions: VersionedStore,
  entry: ErasureLogEntry,
): Promise<string> {
  const found = await existingEntry(store, entry.org, entry.execution);
  if (found?.entry.status === 'started') {
    const complete: ErasureLogEntry = { ...entry, startedAt: found.entry.startedAt };
    await versions.replace(found.key, `${JSON.stringify(complete, null, 1)}\n`, {
      contentType: 'application/json',
    });
    return found.key;
  }
  if (found) return found.key;
  return putEntry(store, entry.org, entry.execution, entry.erasedAt, entry);
}

async function putEntry(
  store: BackupStore,
  org: string,
  execution: string,
  at: string,
  entry: ErasureEntry,
): Promise<string> {
  const prefix = erasureLogPrefix(org);
  const stamp = at.replace(/[-:.]/g, '');
  const key = `${prefix}${stamp}-${execution}.json`;
  try {
    await store.put(key, `${JSON.stringify(entry, null, 1)}\n`, { contentType: 'application/json' });
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
  }
  return key;
}
