/**
 * `npm run bench`: measures the product against its limits and against the tools a user would
 * pick instead, side by side in one run, and writes bench/results/latest.md and latest.json.
 */
import { availableParallelism, cpus, totalmem } from 'node:os';
import { benchApiCalls } from './api-calls.ts';
import { benchContinuous } from './continuous.ts';
import { benchMemory } from './memory.ts';
import { benchObject, type ChildMeasure } from './object-export.ts';
import { type BenchmarkName, InvalidBenchOptionsError, parseBenchOptions, USAGE } from './options.ts';
import { Report } from './report.ts';
import { benchRestore } from './restore.ts';
import { benchStepFunctions } from './stepfunctions.ts';
import { benchSweep } from './sweep.ts';
import { benchErase } from './erase.ts';
import { benchWholeOrg } from './whole-org.ts';
import { benchWorkers } from './workers.ts';

let options: ReturnType<typeof parseBenchOptions>;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exit(
    error instanceof InvalidBenchOptionsError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      ? 2
      : 1,
  );
}
if (options === 'help') {
  process.stdout.write(USAGE);
  process.exit(0);
}

const report = new Report();
const started = Date.now();
let object: ChildMeasure | undefined;
const runs: Record<BenchmarkName, () => Promise<void>> = {
  object: async () => {
    object = await benchObject(report, options);
  },
  workers: () => benchWorkers(report, options),
  org: () => benchWholeOrg(report, options),
  memory: () => benchMemory(report, options, object),
  api: () => benchApiCalls(report, options),
  restore: () => benchRestore(report, options),
  stepfunctions: () => benchStepFunctions(report, options),
  continuous: () => benchContinuous(report, options),
  sweep: () => benchSweep(report, options),
  erase: () => benchErase(report, options),
};
const failed: string[] = [];
for (const name of options.only) {
  const t = Date.now();
  process.stderr.write(`bench: ${name}...\n`);
  try {
    await runs[name]();
    process.stderr.write(`bench: ${name} done in ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  } catch (error) {
    // One broken benchmark must not hide the others' figures; the run still exits non-zero.
    failed.push(name);
    report.note(`Benchmark "${name}" failed: ${(error as Error).message.split('\n')[0]}`);
    process.stderr.write(`bench: ${name} failed: ${(error as Error).stack}\n`);
  }
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '## Benchmark results',
  '',
  `${new Date(started).toISOString()}, ${options.quick ? 'quick sizes' : 'full sizes'}, ` +
    `${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.versions.node}. ` +
    `Whole run: ${((Date.now() - started) / 1000).toFixed(0)} s. Reproduce: \`npm run bench${options.quick ? ' -- --quick' : ''}\`.`,
].join('\n');
await report.write(options.outDir, header);
process.stdout.write(report.markdown(header));
process.exit(failed.length > 0 ? 1 : 0);
