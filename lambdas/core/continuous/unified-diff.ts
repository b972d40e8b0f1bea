/**
 * A long text field sent by Change Data Capture as a unified diff (the field is listed in the
 * header's `diffFields`): `--- \n+++ <SHA-256 hex of the whole new value>\n` and hunks
 * (`@@ -2,1 +2,1 @@`, then lines starting `-`, `+` or a space). Rebuilding the new value follows
 * Salesforce's "How to Reconstruct a Field from Its Diff Value" and "Considerations for Newline
 * Characters and Computing the SHA-256 Hash" (docs/continuous.md, "Applying an event to a row"):
 * the old value is split into lines at its line breaks, the hunks are applied, the lines are
 * rejoined with the old value's line break sequence (`\r\n` when it has one, else `\n`), and the
 * result counts only if its SHA-256 equals the hash the diff carries.
 */
import { createHash } from 'node:crypto';
import { ErrorName } from '../../../contract/workflow-contract.ts';

/** One line of a hunk: context (` `), removed (`-`) or added (`+`). */
export interface HunkLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/** One hunk: where it applies in the old and new lines (counted from 1), and its lines. */
export interface Hunk {
  readonly oldStart: number;
  readonly oldCount: number;
  readonly newStart: number;
  readonly newCount: number;
  readonly lines: readonly HunkLine[];
}

/** A parsed field diff: the SHA-256 hex of the new value and the hunks in order. */
export interface FieldDiff {
  readonly hash: string;
  readonly hunks: readonly Hunk[];
}

/** A field diff that is not in the unified diff form Change Data Capture sends. */
export class InvalidFieldDiffError extends Error {
  override readonly name = ErrorName.InvalidFieldDiff;
}

/** What a field diff gives for one row's current value. */
export type DiffResolution =
  /** The current value already hashes to the diff's hash: it is the new value (an overlap replay). */
  | { readonly kind: 'unchanged'; readonly value: string }
  /** The hunks applied to the current value and the result hashes to the diff's hash. */
  | { readonly kind: 'applied'; readonly value: string }
  /** The diff could not be applied to the current value, or the result has another hash. */
  | { readonly kind: 'unresolved'; readonly reason: string };

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const HASH_LINE = /^\+\+\+ ([0-9a-fA-F]{64})\s*$/;

/** The SHA-256 of a value's UTF-8 bytes, in lowercase hex. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Parses a field diff; `InvalidFieldDiffError` says which line is wrong and what was expected. */
export function parseFieldDiff(text: string): FieldDiff {
  const lines = text.split('\n');
  if (!(lines[0] ?? '').startsWith('---')) {
    throw new InvalidFieldDiffError(`line 1 must start with "---"; got ${JSON.stringify(lines[0])}`);
  }
  const hash = HASH_LINE.exec(lines[1] ?? '')?.[1];
  if (!hash) {
    throw new InvalidFieldDiffError(
      `line 2 must be "+++ " and the 64-digit SHA-256 hex of the new value; got ${JSON.stringify(lines[1])}`,
    );
  }
  const hunks: Hunk[] = [];
  let i = 2;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line === '' && lines.slice(i).every((l) => l === '')) break;
    const m = HUNK_HEADER.exec(line);
    if (!m)
      throw new InvalidFieldDiffError(
        `line ${i + 1} must start a hunk ("@@ -a,b +c,d @@"); got ${JSON.stringify(line)}`,
      );
    const header = {
      line: i + 1,
      oldStart: Number(m[1]),
      oldCount: Number(m[2] ?? 1),
      newStart: Number(m[3]),
      newCount: Number(m[4] ?? 1),
    };
    i++;
    const body: HunkLine[] = [];
    let oldSeen = 0;
    let newSeen = 0;
    while (oldSeen < header.oldCount || newSeen < header.newCount) {
      if (i >= lines.length) {
        throw new InvalidFieldDiffError(
          `the hunk of line ${header.line} ends after ${oldSeen} old and ${newSeen} new lines; its header says ${header.oldCount} and ${header.newCount}`,
        );
      }
      const raw = lines[i++] as string;
      // "\ No newline at end of file" marks the line before it; the hash settles the value.
      if (raw.startsWith('\\')) continue;
      // An empty line is a context line whose leading space was lost, as patch(1) reads it.
      const op = raw === '' ? ' ' : raw[0];
      if (op !== ' ' && op !== '-' && op !== '+') {
        throw new InvalidFieldDiffError(
          `line ${i} of the hunk of line ${header.line} must start with " ", "-" or "+"`,
        );
      }
      body.push({ op, text: raw.slice(1) });
      if (op !== '+') oldSeen++;
      if (op !== '-') newSeen++;
    }
    if (oldSeen !== header.oldCount || newSeen !== header.newCount) {
      throw new InvalidFieldDiffError(
        `the hunk of line ${header.line} has ${oldSeen} old and ${newSeen} new lines; its header says ${header.oldCount} and ${header.newCount}`,
      );
    }
    while (i < lines.length && (lines[i] as string).startsWith('\\')) i++;
    const { oldStart, oldCount, newStart, newCount } = header;
    hunks.push({ oldStart, oldCount, newStart, newCount, lines: body });
  }
  return { hash: hash.toLowerCase(), hunks };
}

/**
 * Applies hunks to `lines`; `InvalidFieldDiffError` when a hunk is out of order, out of range, or
 * its removed or context lines are not the lines found there.
 */
export function applyHunks(lines: readonly string[], hunks: readonly Hunk[]): string[] {
  const out: string[] = [];
  let cursor = 0;
  for (const [n, hunk] of hunks.entries()) {
    // A range of zero lines names the line before it; otherwise its first line, counted from 1.
    const at = hunk.oldCount === 0 ? hunk.oldStart : hunk.oldStart - 1;
    if (at < cursor || at > lines.length) {
      throw new InvalidFieldDiffError(
        `hunk ${n + 1} starts at old line ${hunk.oldStart}, outside lines ${cursor + 1}..${lines.length} left to patch`,
      );
    }
    out.push(...lines.slice(cursor, at));
    const newAt = hunk.newCount === 0 ? hunk.newStart : hunk.newStart - 1;
    if (out.length !== newAt) {
      throw new InvalidFieldDiffError(
        `hunk ${n + 1} starts at new line ${hunk.newStart}, but the lines before it make ${out.length}`,
      );
    }
    cursor = at;
    for (const line of hunk.lines) {
      if (line.op === '+') {
        out.push(line.text);
        continue;
      }
      if (lines[cursor] !== line.text) {
        throw new InvalidFieldDiffError(
          `hunk ${n + 1} expects old line ${cursor + 1} to be ${JSON.stringify(line.text)}; it is ${JSON.stringify(lines[cursor] ?? null)}`,
        );
      }
      if (line.op === ' ') out.push(line.text);
      cursor++;
    }
  }
  out.push(...lines.slice(cursor));
  return out;
}

/**
 * The new value of a field whose current value is `current` and whose change event sent `diff`.
 * When `current` already hashes to the diff's hash it is kept: the journal replays events from
 * before its base snapshot's read, which may already hold the new value.
 */
export function resolveFieldDiff(current: string, diff: string): DiffResolution {
  let parsed: FieldDiff;
  try {
    parsed = parseFieldDiff(diff);
  } catch (error) {
    return { kind: 'unresolved', reason: (error as Error).message };
  }
  if (sha256Hex(current) === parsed.hash) return { kind: 'unchanged', value: current };
  const newline = current.includes('\r\n') ? '\r\n' : '\n';
  let value: string;
  try {
    value = applyHunks(current.split(newline), parsed.hunks).join(newline);
  } catch (error) {
    return { kind: 'unresolved', reason: (error as Error).message };
  }
  if (sha256Hex(value) !== parsed.hash) {
    return {
      kind: 'unresolved',
      reason: `the patched value's SHA-256 ${sha256Hex(value)} is not the diff's ${parsed.hash}`,
    };
  }
  return { kind: 'applied', value };
}
