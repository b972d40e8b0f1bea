/**
 * Bundle size and cold-start import time of each Lambda handler, bundled as lib/function-defaults.ts
 * bundles it. Usage: `npx tsx bench/cold-start.ts [repo root ...]` (default: this repository).
 * Each bundle is imported by a fresh `node` process, several times; the medians are reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { REQUIRE_BANNER } from '../lib/function-defaults.ts';

const ENTRIES = ['lambdas/handlers/backup/handlers.ts', 'lambdas/handlers/restore/handlers.ts'];
const RUNS = Number(process.env.COLD_START_RUNS ?? 11);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Milliseconds for a fresh process: to import the bundle (measured inside it), and from spawn to exit. */
function importOnce(file: string): { importMs: number; processMs: number } {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1' },
  });
  const processMs = performance.now() - started;
  if (child.status !== 0) throw new Error(`importing ${file} failed: ${child.stderr.slice(0, 500)}`);
  return { importMs: Number(child.stdout.trim()), processMs };
}

/** Bundles every entry of a repository; answers the bundle files. */
async function bundle(root: string): Promise<string[]> {
  const out = path.join(tmpdir(), 'cold-start', path.basename(root));
  mkdirSync(out, { recursive: true });
  // The AWS SDK stays outside the bundle, as the Lambda runtime provides it; here it comes from node_modules.
  const modules = path.join(out, 'node_modules');
  // Made afresh each run: a link left by an earlier run may point at a checkout that is gone.
  rmSync(modules, { force: true });
  symlinkSync(path.join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules'), modules);
  const files: string[] = [];
  for (const entry of ENTRIES) {
    const outfile = path.join(out, `${entry.replaceAll('/', '_')}.mjs`);
    await build({
      entryPoints: [path.join(root, entry)],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      minify: true,
      mainFields: ['module', 'main'],
      banner: { js: REQUIRE_BANNER },
      external: ['@aws-sdk/*'],
      logLevel: 'error',
    });
    files.push(outfile);
  }
  return files;
}

const roots = process.argv.slice(2).map((r) => path.resolve(r));
if (roots.length === 0) roots.push(fileURLToPath(new URL('..', import.meta.url)));
const bundles = (await Promise.all(roots.map(bundle))).flat();
// Runs alternate between bundles, so a busy moment of the machine weighs on each alike.
const times = new Map<string, { importMs: number; processMs: number }[]>(bundles.map((b) => [b, []]));
const empty: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const started = performance.now();
  spawnSync(process.execPath, ['--input-type=module', '-e', '']);
  empty.push(performance.now() - started);
  for (const file of bundles) times.get(file)?.push(importOnce(file));
}
console.log(`empty node process: ${median(empty).toFixed(0)} ms (median of ${RUNS})`);
for (const [file, runs] of times) {
  console.log(
    `${file}: ${statSync(file).size} bytes, import ${median(runs.map((r) => r.importMs)).toFixed(0)} ms, process ${median(runs.map((r) => r.processMs)).toFixed(0)} ms`,
  );
}
