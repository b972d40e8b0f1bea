/**
 * The live progress line of a workflow command on a terminal: objects done of total, rows, bytes,
 * rate and elapsed time, read from the local runner's events (a Distributed Map's item count, its
 * child executions ending) and its tasks' results (rows and bytes each task wrote). Pure: the
 * clock and the output are given, so a test drives it with fake events and a fake clock.
 */
import type { Json, LocalHistoryEvent, TaskStep } from '../local/index.ts';

/** A Distributed Map run: items it was given, and child executions ended. */
interface MapRun {
  readonly noun: string;
  total: number;
  done: number;
}

const ENDED = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimeout']);

/** What a map's items are, for the line: file batches for the files phase, objects otherwise. */
function nounOf(state: string): string {
  return /file/i.test(state) ? 'file batches' : 'objects';
}

/** A number with thousands separators. */
function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes as a person reads them: 812 B, 4.2 MB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Elapsed time as m:ss (or h:mm:ss). */
export function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const s = String(total % 60).padStart(2, '0');
  const m = Math.floor(total / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A finite number field of a task's result, or 0. */
function numberField(output: Json | undefined, field: string): number {
  if (output === null || typeof output !== 'object' || Array.isArray(output)) return 0;
  const value = (output as Record<string, Json>)[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** The figures of one run so far, fed with the runner's events and task steps. */
export class ProgressTracker {
  private readonly started: number;
  private readonly maps = new Map<string, MapRun>();
  private rows = 0;
  private bytes = 0;
  // What the run is at before its first task: resolving the org and synthesizing the app.
  private state = 'starting';

  constructor(
    /** What runs, e.g. "backup". */
    private readonly label: string,
    private readonly now: () => number,
  ) {
    this.started = now();
  }

  /** Takes one interpreter event. */
  event(event: LocalHistoryEvent): void {
    if (event.type === 'MapRunStarted' && event.state !== undefined && event.items !== undefined) {
      this.maps.set(`${event.execution}/${event.state}`, {
        noun: nounOf(event.state),
        total: event.items,
        done: 0,
      });
    } else if (ENDED.has(event.type) && event.execution !== 'root') {
      // A child execution is named <parent>/<map state>/<index>.
      const run = this.maps.get(event.execution.slice(0, event.execution.lastIndexOf('/')));
      if (run) run.done += 1;
    }
  }

  /** Takes one task step: its state, and after it the rows and bytes its result says it wrote. */
  task(step: TaskStep): void {
    if (step.execution === 'root' || step.phase === 'before') this.state = step.state;
    if (step.phase !== 'after') return;
    // A backup's export tasks say rowsWritten and bytesWritten; a restore's object steps say
    // how many rows Salesforce took (succeeded) in that invocation.
    this.rows += numberField(step.output, 'rowsWritten') + numberField(step.output, 'succeeded');
    this.bytes += numberField(step.output, 'bytesWritten');
  }

  /** The line as it reads now, e.g. `backup: 3 of 10 objects · 12,345 rows · 4.2 MB · 1,234 rows/s · 0:12`. */
  line(): string {
    const elapsed = this.now() - this.started;
    const parts: string[] = [];
    const byNoun = new Map<string, { done: number; total: number }>();
    for (const run of this.maps.values()) {
      const sum = byNoun.get(run.noun) ?? { done: 0, total: 0 };
      byNoun.set(run.noun, { done: sum.done + run.done, total: sum.total + run.total });
    }
    for (const [noun, { done, total }] of byNoun) parts.push(`${count(done)} of ${count(total)} ${noun}`);
    if (byNoun.size === 0) parts.push(this.state);
    if (this.rows > 0) parts.push(`${count(this.rows)} rows`);
    if (this.bytes > 0) parts.push(formatBytes(this.bytes));
    if (this.rows > 0 && elapsed >= 1000) parts.push(`${count(this.rows / (elapsed / 1000))} rows/s`);
    parts.push(formatElapsed(elapsed));
    return `${this.label}: ${parts.join(' · ')}`;
  }
}

/** Where the line is drawn: a terminal's standard error, or a test's fake. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly columns?: number;
}

/**
 * One line redrawn in place (carriage return, then erase to the end of the line), at most once
 * per `intervalMs`, so a run of many small tasks does not flood the terminal.
 */
export class ProgressLine {
  private readonly tracker: ProgressTracker;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    label: string,
    private readonly stream: ProgressStream,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = 250,
  ) {
    this.tracker = new ProgressTracker(label, now);
  }

  /** For `onEvent`. */
  readonly onEvent = (event: LocalHistoryEvent): void => {
    this.tracker.event(event);
    this.draw(false);
  };

  /** For `onTask`. */
  readonly onTask = (step: TaskStep): void => {
    this.tracker.task(step);
    this.draw(false);
  };

  /** Writes `text` (whole lines) above the progress line, which is drawn again below it. */
  print(text: string): void {
    this.clear();
    this.stream.write(text);
    this.draw(true);
  }

  /**
   * Draws the line now and then every second until `finish`, so the elapsed time moves while
   * nothing else does (resolving the org, a synthesis, a long task).
   */
  start(): void {
    this.draw(true);
    this.ticker ??= setInterval(() => this.draw(true), 1000).unref();
  }

  /** Draws the final figures and ends the line, so what follows starts on a line of its own. */
  finish(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.draw(true);
    this.stream.write('\n');
    this.drawn = false;
  }

  private clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  private draw(force: boolean): void {
    const at = this.now();
    if (!force && at - this.lastDraw < this.intervalMs) return;
    this.lastDraw = at;
    const width = this.stream.columns;
    const line = this.tracker.line();
    // A line wider than the terminal would wrap, and \r would then redraw only its last part.
    const fitted =
      width !== undefined && width > 1 && line.length >= width ? `${line.slice(0, width - 2)}…` : line;
    this.stream.write(`\r${fitted}\x1b[K`);
    this.drawn = true;
  }
}

/** What a command's run reports through: its lines, and the live line's hooks when one is drawn. */
export interface Reporting {
  /** Writes whole lines to standard error, above the live line when there is one. */
  readonly print: (text: string) => void;
  /** For the local runner's `onEvent` and `onTask`: empty when no line is drawn. */
  readonly hooks: {
    readonly onEvent?: (event: LocalHistoryEvent) => void;
    readonly onTask?: (step: TaskStep) => void;
  };
}

/**
 * Runs a workflow command's run with a live line on standard error when that is a terminal and the
 * output is not JSON; the line is drawn one last time and ended however the run ends.
 */
export async function withProgressLine<T>(
  label: string,
  json: boolean,
  run: (reporting: Reporting) => Promise<T>,
): Promise<T> {
  const progress = !json && process.stderr.isTTY ? new ProgressLine(label, process.stderr) : undefined;
  const print = (text: string) => {
    if (progress) progress.print(text);
    else process.stderr.write(text);
  };
  progress?.start();
  try {
    return await run({
      print,
      hooks: progress ? { onEvent: progress.onEvent, onTask: progress.onTask } : {},
    });
  } finally {
    progress?.finish();
  }
}
