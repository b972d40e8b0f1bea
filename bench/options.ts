/** Command-line options of `npm run bench`: sizes for each benchmark, scaled down by `--quick`. */
import { parseArgs } from 'node:util';

/** Every benchmark's name, in the order they run. */
export const BENCHMARKS = [
  'object',
  'workers',
  'org',
  'memory',
  'api',
  'restore',
  'stepfunctions',
  'continuous',
  'sweep',
  'erase',
] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

/** Sizes and choices of one run. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly only: readonly BenchmarkName[];
  /** Rows of the one large object (benchmark "object"). */
  readonly rows: number;
  /** Rows per Bulk results page, for the export, the pull and the emulator's default. */
  readonly pageSize: number;
  /** Rows of the narrow object exported with one worker and with several (benchmark "workers"). */
  readonly workerRows: number;
  /** Rows per result page of that object. */
  readonly workerPageSize: number;
  /** Objects and rows per object of the whole org (benchmark "org"). */
  readonly objects: number;
  readonly orgRows: number;
  /** Rows of the 1x object of the memory benchmark (the other is 4x). */
  readonly memoryRows: number;
  /** Objects of the org whose API calls are counted. */
  readonly apiObjects: number;
  /** Files of the org whose second backup skips them by checksum. */
  readonly files: number;
  /** Rows restored (half parents, half children). */
  readonly restoreRows: number;
  /** Objects of the small and the large org measured against Step Functions. */
  readonly sfnSmall: number;
  readonly sfnLarge: number;
  /** Record changes written and followed into the journal (benchmark "continuous"). */
  readonly changes: number;
  /** Names of the newest backup a sweep holds while it plans (benchmark "sweep"). */
  readonly sweepNames: number;
  /** Stored objects an erasure plans and scans over, each read with S3's latency (benchmark "erase"). */
  readonly eraseObjects: number;
  readonly outDir: string;
}

const USAGE = `Usage: npm run bench -- [--quick] [--only ${BENCHMARKS.join(',')}] [sizes]

Sizes (defaults; --quick uses smaller ones):
  --rows N           rows of the one large object (1000000; quick 20000)
  --page-size N      rows per Bulk result page (50000; quick 5000)
  --worker-rows N    rows of the narrow object exported by 1 and by 4 workers (2000000)
  --worker-page-size N  rows per result page of that object (4000)
  --objects N        objects of the whole org (50; quick 5)
  --org-rows N       rows per object of the whole org (20000; quick 2000)
  --memory-rows N    rows of the 1x object of the memory benchmark (250000; quick 5000)
  --api-objects N    objects of the org whose API calls are counted (500)
  --files N          files of the org backed up twice (200; quick 50)
  --restore-rows N   rows restored, half parents and half children (100000; quick 10000)
  --sfn-small N      objects of the small org measured for Step Functions (100; quick 20)
  --sfn-large N      objects of the large org measured for Step Functions (2000; quick 200)
  --changes N        record changes followed into the change-event journal (10000; quick 2000)
  --sweep-names N    names of the newest backup a retention sweep holds (1000000; quick 100000)
  --erase-objects N  stored objects an erasure plans and scans over (1000; quick 200)
  --out DIR          where latest.md and latest.json go (bench/results)
`;

/** Thrown for options that cannot be used; the message says which and shows the usage. */
export class InvalidBenchOptionsError extends Error {
  override readonly name = 'InvalidBenchOptionsError';
}

/** Parses `npm run bench -- ...` arguments. */
export function parseBenchOptions(args: readonly string[]): BenchOptions | 'help' {
  const sizes = [
    'rows',
    'page-size',
    'worker-rows',
    'worker-page-size',
    'objects',
    'org-rows',
    'memory-rows',
    'api-objects',
    'files',
    'restore-rows',
    'sfn-small',
    'sfn-large',
    'changes',
    'sweep-names',
    'erase-objects',
  ] as const;
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(sizes.map((s) => [s, { type: 'string' as const }])),
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = Boolean(values.quick);
  const problems: string[] = [];
  const size = (key: (typeof sizes)[number], full: number, small: number, min = 1): number => {
    const raw = (values as Record<string, unknown>)[key];
    if (raw === undefined) return quick ? small : full;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min)
      problems.push(`--${key} must be a whole number >= ${min}, got "${raw}"`);
    return n;
  };
  const only = values.only
    ? values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...BENCHMARKS];
  for (const name of only) {
    if (!(BENCHMARKS as readonly string[]).includes(name)) {
      problems.push(`--only names "${name}": use ${BENCHMARKS.join(', ')}`);
    }
  }
  const options: BenchOptions = {
    quick,
    only: only as BenchmarkName[],
    rows: size('rows', 1_000_000, 20_000),
    pageSize: size('page-size', 50_000, 5_000),
    workerRows: size('worker-rows', 2_000_000, 2_000_000),
    workerPageSize: size('worker-page-size', 4_000, 4_000),
    objects: size('objects', 50, 5),
    orgRows: size('org-rows', 20_000, 2_000),
    memoryRows: size('memory-rows', 250_000, 5_000),
    apiObjects: size('api-objects', 500, 500),
    files: size('files', 200, 50),
    restoreRows: size('restore-rows', 100_000, 10_000, 2),
    sfnSmall: size('sfn-small', 100, 20),
    sfnLarge: size('sfn-large', 2_000, 200),
    changes: size('changes', 10_000, 2_000, 2),
    sweepNames: size('sweep-names', 1_000_000, 100_000),
    eraseObjects: size('erase-objects', 1_000, 200),
    outDir: values.out ?? 'bench/results',
  };
  if (problems.length > 0) throw new InvalidBenchOptionsError(`${problems.join('; ')}\n\n${USAGE}`);
  return options;
}

export { USAGE };
