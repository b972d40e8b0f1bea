/**
 * The CloudWatch metrics of a local run: what the handlers publish (Powertools Metrics writes
 * CloudWatch embedded metric format, one JSON object a line, to standard output) and what the
 * services publish for themselves (Step Functions' executions, the dead-letter queues' depth),
 * kept as datapoints on the local clock and read back as an alarm reads them.
 */

/** One value of one metric, identified by namespace, name and its exact set of dimensions. */
export interface Datapoint {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch, on the local clock. */
  readonly timestamp: number;
  readonly value: number;
}

/** The statistics an alarm on a single metric can use. */
export type Statistic = 'Sum' | 'Average' | 'Minimum' | 'Maximum' | 'SampleCount';

/** Every datapoint of the run, queried as CloudWatch's GetMetricData does for one metric. */
export class MetricStore {
  private readonly points: Datapoint[] = [];

  /** Records datapoints. */
  put(...points: Datapoint[]): void {
    this.points.push(...points);
  }

  /** Every datapoint recorded, in the order recorded. */
  all(): readonly Datapoint[] {
    return this.points;
  }

  /**
   * The statistic of the metric with exactly these dimensions for each period of `periodMs` in
   * [from, to) (periods aligned to the epoch, as CloudWatch aligns them); undefined where the
   * period has no datapoint.
   */
  series(
    metric: { namespace: string; name: string; dimensions: Readonly<Record<string, string>> },
    statistic: Statistic,
    from: number,
    to: number,
    periodMs: number,
  ): (number | undefined)[] {
    const key = dimensionKey(metric.dimensions);
    const start = Math.floor(from / periodMs) * periodMs;
    const buckets: number[][] = [];
    for (let t = start; t < to; t += periodMs) buckets.push([]);
    for (const p of this.points) {
      if (p.namespace !== metric.namespace || p.name !== metric.name) continue;
      if (dimensionKey(p.dimensions) !== key || p.timestamp < start || p.timestamp >= to) continue;
      buckets[Math.floor((p.timestamp - start) / periodMs)]?.push(p.value);
    }
    return buckets.map((values) => (values.length ? statisticOf(statistic, values) : undefined));
  }
}

function dimensionKey(dimensions: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function statisticOf(statistic: Statistic, values: number[]): number {
  switch (statistic) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'SampleCount':
      return values.length;
  }
}

/**
 * The datapoints of one line of embedded metric format, stamped `timestamp` (the local clock's
 * time of the invocation, in place of the wall-clock time Powertools wrote); none for any other line.
 * Each metric is recorded once for every dimension set the record lists, as CloudWatch does.
 */
export function datapointsOfEmf(line: string, timestamp: number): Datapoint[] {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return [];
  }
  const aws = record?._aws as
    | { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }
    | undefined;
  if (!aws?.CloudWatchMetrics) return [];
  const out: Datapoint[] = [];
  for (const directive of aws.CloudWatchMetrics) {
    for (const metric of directive.Metrics) {
      const raw = record[metric.Name];
      const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number');
      for (const set of directive.Dimensions.length ? directive.Dimensions : [[]]) {
        const dimensions = Object.fromEntries(set.map((name) => [name, String(record[name])]));
        for (const value of values) {
          out.push({ namespace: directive.Namespace, name: metric.Name, dimensions, timestamp, value });
        }
      }
    }
  }
  return out;
}

/**
 * Runs `body` with every line written to standard output that is embedded metric format handed
 * to `onRecord` and kept off the output; other output passes through. Powertools writes its
 * metrics through a Console on process.stdout, so the capture sits on that stream's `write`.
 */
export async function captureEmf<T>(onRecord: (line: string) => void, body: () => Promise<T>): Promise<T> {
  const stdout = process.stdout;
  const original = stdout.write;
  let pending = '';
  const write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    const text =
      typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
    if (text === undefined || !(pending || text.startsWith('{"_aws"'))) {
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    }
    pending += text;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      onRecord(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };
  stdout.write = write as typeof stdout.write;
  try {
    return await body();
  } finally {
    stdout.write = original;
    if (pending) onRecord(pending);
  }
}
