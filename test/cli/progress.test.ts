import { describe, expect, it, vi } from 'vitest';
import { formatBytes, formatElapsed, ProgressLine, ProgressTracker } from '../../cli/commands/progress.ts';
import type { LocalHistoryEvent } from '../../cli/local/index.ts';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

const childEnd = (index: number, type = 'ExecutionSucceeded'): LocalHistoryEvent => ({
  execution: `root/ExportObjects/${index}`,
  type,
});

describe('ProgressTracker', () => {
  it('counts the objects of a Distributed Map as its children end, with rows, bytes, rate and elapsed time', () => {
    const clock = fakeClock();
    const tracker = new ProgressTracker('backup', clock.now);
    expect(tracker.line()).toBe('backup: starting · 0:00');
    tracker.task({ execution: 'root', state: 'ListObjects', phase: 'before' });
    expect(tracker.line()).toBe('backup: ListObjects · 0:00');
    tracker.event({ execution: 'root', type: 'MapRunStarted', state: 'ExportObjects', items: 3 });
    expect(tracker.line()).toBe('backup: 0 of 3 objects · 0:00');
    clock.advance(2_000);
    tracker.task({
      execution: 'root/ExportObjects/0',
      state: 'ExportObject',
      phase: 'after',
      output: { object: 'Account', rowsWritten: 1500, bytesWritten: 2_400_000 },
    });
    tracker.event(childEnd(0));
    // Events of the children's own states, and of the root, do not count as objects.
    tracker.event({ execution: 'root/ExportObjects/1', type: 'StateEntered', state: 'ExportObject' });
    tracker.event({ execution: 'root', type: 'ExecutionSucceeded' });
    expect(tracker.line()).toBe('backup: 1 of 3 objects · 1,500 rows · 2.4 MB · 750 rows/s · 0:02');
    tracker.event(childEnd(1, 'ExecutionFailed'));
    tracker.event(childEnd(2));
    clock.advance(63_000);
    expect(tracker.line()).toMatch(/^backup: 3 of 3 objects · 1,500 rows · 2\.4 MB · 23 rows\/s · 1:05$/);
  });

  it("adds up a restore's levels and the rows Salesforce took, and keeps file batches apart", () => {
    const tracker = new ProgressTracker('restore', fakeClock().now);
    tracker.event({ execution: 'root', type: 'MapRunStarted', state: 'Level0', items: 2 });
    tracker.event({ execution: 'root', type: 'MapRunStarted', state: 'Level1', items: 1 });
    tracker.event({ execution: 'root', type: 'MapRunStarted', state: 'BackupFileBatches', items: 4 });
    tracker.event({ execution: 'root/Level0/0', type: 'ExecutionSucceeded' });
    tracker.task({
      execution: 'root/Level0/0',
      state: 'Level0Object',
      phase: 'after',
      output: { succeeded: 40 },
    });
    tracker.task({
      execution: 'root/Level0/1',
      state: 'Level0Object',
      phase: 'after',
      output: { succeeded: 2 },
    });
    expect(tracker.line()).toBe('restore: 1 of 3 objects · 0 of 4 file batches · 42 rows · 0:00');
  });
});

describe('ProgressLine', () => {
  it('redraws one line in place at most once per interval, and ends it with the final figures', () => {
    const clock = fakeClock();
    const written: string[] = [];
    const line = new ProgressLine('backup', { write: (t) => written.push(t) }, clock.now, 250);
    line.onEvent({ execution: 'root', type: 'MapRunStarted', state: 'ExportObjects', items: 2 });
    line.onEvent(childEnd(0));
    clock.advance(100);
    line.onEvent(childEnd(1));
    expect(written).toEqual(['\rbackup: 0 of 2 objects · 0:00\x1b[K']);
    line.print('[SNS alert] something\n');
    line.finish();
    expect(written.slice(1)).toEqual([
      '\r\x1b[K',
      '[SNS alert] something\n',
      '\rbackup: 2 of 2 objects · 0:00\x1b[K',
      '\rbackup: 2 of 2 objects · 0:00\x1b[K',
      '\n',
    ]);
  });

  it('once started, redraws every second while nothing happens, until finished', async () => {
    const written: string[] = [];
    const line = new ProgressLine('restore', { write: (t) => written.push(t) });
    vi.useFakeTimers();
    try {
      line.start();
      vi.advanceTimersByTime(3_000);
      line.finish();
      const drawn = written.length;
      vi.advanceTimersByTime(3_000);
      expect(written).toHaveLength(drawn);
    } finally {
      vi.useRealTimers();
    }
    expect(written[0]).toMatch(/^\rrestore: starting · 0:00\x1b\[K$/);
    expect(written.length).toBe(1 + 3 + 2);
  });

  it('cuts a line wider than the terminal, so that a carriage return redraws all of it', () => {
    const written: string[] = [];
    const line = new ProgressLine(
      'a-very-long-label',
      { write: (t) => written.push(t), columns: 12 },
      fakeClock().now,
    );
    line.finish();
    expect(written[0]).toBe('\ra-very-lon…\x1b[K');
  });
});

describe('formats', () => {
  it('prints bytes and elapsed time as a person reads them', () => {
    expect([0, 812, 4_200, 45_000_000, 3e12].map(formatBytes)).toEqual([
      '0 B',
      '812 B',
      '4.2 KB',
      '45 MB',
      '3.0 TB',
    ]);
    expect([0, 59_999, 65_000, 3_725_000].map(formatElapsed)).toEqual(['0:00', '0:59', '1:05', '1:02:05']);
  });
});
