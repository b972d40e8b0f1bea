import { describe, expect, it } from 'vitest';
import { textDiff } from '../../emulator/org/cdc/text-diff.ts';
import {
  applyHunks,
  parseFieldDiff,
  resolveFieldDiff,
  sha256Hex,
} from '../../lambdas/core/continuous/unified-diff.ts';

/** The lines of a long text: `n` numbered lines of about 60 characters. */
function text(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `Line ${i + 1}: the quick brown fox jumps over the lazy dog.`);
}

describe('a long text field sent as a unified diff, rebuilt from the current value', () => {
  it('rebuilds a value from a diff in the form the guide shows, hash and all', () => {
    const old = ['First paragraph.', 'Business applications are moving.', 'Third.'].join('\n');
    const next = ['First paragraph.', 'Business apps are moving.', 'Third.'].join('\n');
    const diff = `--- \n+++ ${sha256Hex(next)}\n@@ -2,1 +2,1 @@\n-Business applications are moving.\n+Business apps are moving.`;
    expect(resolveFieldDiff(old, diff)).toEqual({ kind: 'applied', value: next });
    expect(parseFieldDiff(diff).hunks).toEqual([
      {
        oldStart: 2,
        oldCount: 1,
        newStart: 2,
        newCount: 1,
        lines: [
          { op: '-', text: 'Business applications are moving.' },
          { op: '+', text: 'Business apps are moving.' },
        ],
      },
    ]);
  });

  it('applies hunks at the start and the end, with added and removed lines', () => {
    const lines = text(40);
    const old = lines.join('\n');
    const changed = [...lines];
    changed[0] = 'A new first line.';
    changed.splice(19, 1); // line 20 removed
    changed.splice(29, 0, 'An inserted line.', 'And another.'); // after old line 31
    changed[changed.length - 1] = 'A new last line.';
    const next = changed.join('\n');
    const diff = textDiff(old, next);
    expect(diff).not.toBeNull();
    expect(diff!.split('\n').filter((l) => l.startsWith('@@'))).toEqual([
      '@@ -1,1 +1,1 @@',
      '@@ -20,1 +19,0 @@',
      '@@ -30,0 +30,2 @@',
      '@@ -40,1 +41,1 @@',
    ]);
    expect(resolveFieldDiff(old, diff!)).toEqual({ kind: 'applied', value: next });
  });

  it('inserts before the first line and removes the first lines (ranges of zero lines)', () => {
    const lines = ['a', 'b', 'c', 'd'];
    expect(
      applyHunks(lines, parseFieldDiff(`--- \n+++ ${'0'.repeat(64)}\n@@ -0,0 +1,1 @@\n+z`).hunks),
    ).toEqual(['z', 'a', 'b', 'c', 'd']);
    expect(
      applyHunks(lines, parseFieldDiff(`--- \n+++ ${'0'.repeat(64)}\n@@ -1,2 +0,0 @@\n-a\n-b`).hunks),
    ).toEqual(['c', 'd']);
    // Context lines are checked and kept; a count left out is 1.
    expect(
      applyHunks(lines, parseFieldDiff(`--- \n+++ ${'0'.repeat(64)}\n@@ -2,2 +2,2 @@\n b\n-c\n+C\n`).hunks),
    ).toEqual(['a', 'b', 'C', 'd']);
    expect(
      applyHunks(lines, parseFieldDiff(`--- \n+++ ${'0'.repeat(64)}\n@@ -4 +4 @@\n-d\n+D`).hunks),
    ).toEqual(['a', 'b', 'c', 'D']);
  });

  it("rejoins the lines with the current value's \\r\\n, as the diff carries lines without it", () => {
    const lines = text(30);
    const old = lines.join('\r\n');
    const changed = [...lines];
    changed[14] = 'Line 15 rewritten.';
    const next = changed.join('\r\n');
    const diff = textDiff(old, next)!;
    expect(diff).not.toContain('\r');
    expect(diff).toContain('\n-Line 15: the quick brown fox jumps over the lazy dog.\n+Line 15 rewritten.');
    expect(resolveFieldDiff(old, diff)).toEqual({ kind: 'applied', value: next });
    // The same diff over the value with \n line breaks builds another value: its hash says so.
    const resolved = resolveFieldDiff(lines.join('\n'), diff);
    expect(resolved.kind).toBe('unresolved');
    expect(resolved.kind === 'unresolved' && resolved.reason).toMatch(/SHA-256 .* is not the diff's/);
  });

  it('keeps a value with no trailing line break without one, and one with a trailing break with it', () => {
    const lines = text(30);
    for (const end of ['', '\n']) {
      const old = lines.join('\n') + end;
      const changed = [...lines];
      changed[29] = 'The last line, changed.';
      const next = changed.join('\n') + end;
      const diff = textDiff(old, next)!;
      expect(resolveFieldDiff(old, diff)).toEqual({ kind: 'applied', value: next });
    }
    // A line break added at the end is an empty last line.
    const old = lines.join('\n');
    const diff = textDiff(old, `${old}\n`)!;
    expect(diff.endsWith('@@ -30,0 +31,1 @@\n+')).toBe(true);
    expect(resolveFieldDiff(old, diff)).toEqual({ kind: 'applied', value: `${old}\n` });
  });

  it('keeps a current value that already is the new one (an event the snapshot already reflects)', () => {
    const lines = text(30);
    const changed = [...lines];
    changed[3] = 'Changed.';
    const next = changed.join('\n');
    const diff = textDiff(lines.join('\n'), next)!;
    expect(resolveFieldDiff(next, diff)).toEqual({ kind: 'unchanged', value: next });
  });

  it('does not rebuild from a stale value: a removed line that is not there, or another hash', () => {
    const lines = text(30);
    const changed = [...lines];
    changed[9] = 'Line ten, edited.';
    const diff = textDiff(lines.join('\n'), changed.join('\n'))!;
    const staleAtHunk = [...lines];
    staleAtHunk[9] = 'Line ten, as an older version had it.';
    const atHunk = resolveFieldDiff(staleAtHunk.join('\n'), diff);
    expect(atHunk).toEqual({
      kind: 'unresolved',
      reason: expect.stringMatching(
        /hunk 1 expects old line 10 to be "Line 10: .*"; it is "Line ten, as an older/,
      ),
    });
    const staleElsewhere = [...lines];
    staleElsewhere[20] = 'Another line an older version had.';
    const elsewhere = resolveFieldDiff(staleElsewhere.join('\n'), diff);
    expect(elsewhere.kind === 'unresolved' && elsewhere.reason).toMatch(/is not the diff's/);
    // An empty value (the field was null in the snapshot) has nothing to patch.
    expect(resolveFieldDiff('', diff).kind).toBe('unresolved');
  });

  it('says what is wrong with a diff that is not in the unified diff form', () => {
    const hash = '0'.repeat(64);
    expect(() => parseFieldDiff('whole text')).toThrow(/line 1 must start with "---"/);
    expect(() => parseFieldDiff('--- \n+++ abc\n')).toThrow(
      /line 2 must be "\+\+\+ " and the 64-digit SHA-256/,
    );
    expect(() => parseFieldDiff(`--- \n+++ ${hash}\nno hunk`)).toThrow(/line 3 must start a hunk/);
    expect(() => parseFieldDiff(`--- \n+++ ${hash}\n@@ -1,2 +1,1 @@\n-a`)).toThrow(
      /ends after 1 old and 0 new lines; its header says 2 and 1/,
    );
    expect(() => parseFieldDiff(`--- \n+++ ${hash}\n@@ -1,1 +1,1 @@\n*a\n+b`)).toThrow(
      /must start with " ", "-" or "\+"/,
    );
    expect(() =>
      applyHunks(
        ['a', 'b', 'c'],
        parseFieldDiff(`--- \n+++ ${hash}\n@@ -3,1 +3,1 @@\n-c\n+C\n@@ -1,1 +1,1 @@\n-a\n+A`).hunks,
      ),
    ).toThrow(/hunk 2 starts at old line 1, outside lines 4..3/);
    expect(() =>
      applyHunks(['a', 'b'], parseFieldDiff(`--- \n+++ ${hash}\n@@ -2,1 +5,1 @@\n-b\n+B`).hunks),
    ).toThrow(/hunk 1 starts at new line 5, but the lines before it make 1/);
    expect(resolveFieldDiff('a', 'not a diff')).toEqual({
      kind: 'unresolved',
      reason: 'line 1 must start with "---"; got "not a diff"',
    });
  });
});
