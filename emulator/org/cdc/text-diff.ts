/**
 * A long text value of an UPDATE as Change Data Capture may send it: a unified diff of the old
 * value's lines against the new value's, after `--- \n+++ <SHA-256 hex of the new value>\n`.
 * Salesforce sends the whole value instead when the new value has fewer than 1,000 characters,
 * when old and new lengths differ by more than 50%, when more than 25% of the lines of old and
 * new together changed, and when the diff is longer than the new value; so does the emulator.
 * Sources and the emulator's own choices are in docs/emulator-cdc.md ([CDC-DIFF]).
 *
 * A value is split into lines at its line breaks, `\r\n` or `\n`, which must be the same sequence
 * in old and new, since a consumer rejoins the lines with the original content's sequence. A
 * trailing line break leaves an empty last line, so splitting and rejoining gives the value back
 * exactly. Hunks carry no context lines and every range its count (`@@ -2,1 +2,1 @@`), as the
 * guide's example shows; a range of zero lines starts at the line before it, as `diff -U0` does.
 */
import { createHash } from 'node:crypto';

/** New values shorter than this are always sent whole. */
export const DIFF_MIN_LENGTH = 1000;
/** Above this share of changed lines (old and new lines together) the value is sent whole. */
const MAX_CHANGED_SHARE = 0.25;
/** Above this relative change in length (of the old length) the value is sent whole. */
const MAX_LENGTH_CHANGE = 0.5;
/** The emulator's own bound on its work: more changed lines than this and the value is sent whole. */
const MAX_CHANGED_LINES = 1000;

type Newline = '\n' | '\r\n';

/** The one line break sequence of a value; null when it has none or mixes them. */
function newlineOf(value: string): Newline | null {
  const crlf = value.split('\r\n').length - 1;
  const lf = value.split('\n').length - 1;
  if (lf === 0) return null;
  if (crlf === lf) return '\r\n';
  return crlf === 0 ? '\n' : null;
}

/** One step of an edit script: keep a line of both, delete an old line, insert a new one. */
type Edit = { readonly op: ' ' | '-' | '+'; readonly text: string };

/**
 * The shortest edit script from `a` to `b` (Myers' O(ND) algorithm), or null when it needs more
 * than `maxD` deletions and insertions.
 */
function editScript(a: readonly string[], b: readonly string[], maxD: number): Edit[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxD);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[k - 1 + offset] ?? 0) < (v[k + 1 + offset] ?? 0));
      let x = down ? (v[k + 1 + offset] ?? 0) : (v[k - 1 + offset] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[k + offset] = x;
      if (x >= n && y >= m) return backtrack(trace, a, b, offset);
    }
  }
  return null;
}

function backtrack(
  trace: readonly Int32Array[],
  a: readonly string[],
  b: readonly string[],
  offset: number,
): Edit[] {
  const edits: Edit[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d] as Int32Array;
    const k = x - y;
    const down = k === -d || (k !== d && (v[k - 1 + offset] ?? 0) < (v[k + 1 + offset] ?? 0));
    const prevK = down ? k + 1 : k - 1;
    const prevX = v[prevK + offset] ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      edits.push({ op: ' ', text: a[x - 1] as string });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) edits.push({ op: '+', text: b[y - 1] as string });
      else edits.push({ op: '-', text: a[x - 1] as string });
    }
    x = prevX;
    y = prevY;
  }
  return edits.reverse();
}

/** The hunks of an edit script, without context lines. */
function hunksOf(edits: readonly Edit[]): string[] {
  const out: string[] = [];
  let oldLine = 0;
  let newLine = 0;
  let i = 0;
  while (i < edits.length) {
    const edit = edits[i] as Edit;
    if (edit.op === ' ') {
      oldLine++;
      newLine++;
      i++;
      continue;
    }
    const removed: string[] = [];
    const added: string[] = [];
    for (; i < edits.length && (edits[i] as Edit).op !== ' '; i++) {
      const e = edits[i] as Edit;
      (e.op === '-' ? removed : added).push(e.text);
    }
    // A range of zero lines names the line before it; otherwise its first line, counted from 1.
    const oldStart = removed.length === 0 ? oldLine : oldLine + 1;
    const newStart = added.length === 0 ? newLine : newLine + 1;
    out.push(`@@ -${oldStart},${removed.length} +${newStart},${added.length} @@`);
    for (const text of removed) out.push(`-${text}`);
    for (const text of added) out.push(`+${text}`);
    oldLine += removed.length;
    newLine += added.length;
  }
  return out;
}

/** The SHA-256 of a value's UTF-8 bytes, in lowercase hex. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * The diff a change event sends in place of `after`, the new value of a long text field whose
 * value was `before`; null when the value is to be sent whole (see module comment).
 */
export function textDiff(before: string | null, after: string | null): string | null {
  if (before === null || after === null || after.length < DIFF_MIN_LENGTH) return null;
  if (Math.abs(after.length - before.length) > MAX_LENGTH_CHANGE * before.length) return null;
  const newline = newlineOf(after);
  if (newline === null || newlineOf(before) !== newline) return null;
  const oldLines = before.split(newline);
  const newLines = after.split(newline);
  const limit = Math.min(
    Math.floor(MAX_CHANGED_SHARE * (oldLines.length + newLines.length)),
    MAX_CHANGED_LINES,
  );
  const edits = editScript(oldLines, newLines, limit);
  if (!edits || edits.every((e) => e.op === ' ')) return null;
  const diff = [`--- `, `+++ ${sha256Hex(after)}`, ...hunksOf(edits)].join('\n');
  return diff.length > after.length ? null : diff;
}
