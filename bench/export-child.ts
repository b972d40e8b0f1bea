/**
 * One measured client in a process of its own: `export` runs the backup core's object export into
 * a LocalDirectoryStore (gzip as sent, SHA-256, row counts) with WORKERS workers on its result
 * pages, as the workflow's worker Map does; `pull` fetches the same job's result pages, compressed,
 * WORKERS at a time, and throws them away. Prints one JSON line: rows, bytes, seconds and the
 * process's peak memory.
 * Usage: export-child.ts export|pull INSTANCE_URL ACCESS_TOKEN OBJECT PAGE_SIZE WORKERS
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpSalesforceSource } from '../lambdas/adapters/salesforce/source.ts';
import { LocalDirectoryStore } from '../lambdas/adapters/local-store.ts';
import { exportObject, readJson } from '../lambdas/core/backup/export-object.ts';
import { exportWorkerPages } from '../lambdas/core/backup/parallel-export.ts';
import { planBackup } from '../lambdas/core/backup/plan.ts';
import { parseBackupSettings } from '../lambdas/core/backup/settings.ts';
import type {
  BackupDeps,
  ExportInput,
  ObjectResult,
  ObjectSpec,
  WorkerProgress,
} from '../lambdas/core/backup/types.ts';
import { objectResultKey, objectSpecKey } from '../lambdas/core/snapshot/keys.ts';
import { createCompletedQueryJob, pullPagesInParallel } from './bulk-pull.ts';

const [mode, instanceUrlArg, accessTokenArg, objectArg, pageSizeText, workersText] = process.argv.slice(2);
if (!mode || !instanceUrlArg || !accessTokenArg || !objectArg || !pageSizeText || !workersText) {
  throw new Error('Usage: export-child.ts export|pull INSTANCE_URL ACCESS_TOKEN OBJECT PAGE_SIZE WORKERS');
}
const instanceUrl: string = instanceUrlArg;
const accessToken: string = accessTokenArg;
const object: string = objectArg;
const pageSize = Number(pageSizeText);
const workers = Number(workersText);

// The heap's high-water mark, sampled: resourceUsage().maxRSS gives the resident peak.
let heapPeak = 0;
const sampler = setInterval(() => {
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
}, 20);

interface Planned {
  readonly deps: BackupDeps;
  readonly snapshotId: string;
  readonly columns: readonly string[];
}

const org = 'bench';

/** Plans a one-object full backup, as the workflow's first step does; the spec gives the query. */
async function planOne(dir: string): Promise<Planned> {
  const source = new HttpSalesforceSource({ kind: 'access-token', instanceUrl, accessToken });
  const deps: BackupDeps = { store: new LocalDirectoryStore(dir), source, clock: () => new Date() };
  const settings = parseBackupSettings({
    includeObjects: [object],
    files: false,
    metadata: false,
    pageSize,
    exportWorkers: workers,
    // Any object of more than one result page goes to the workers.
    parallelExportMinRows: 1,
    pollIntervalMs: 50,
    overlapSeconds: 0,
  });
  const plan = await planBackup(deps, { org, mode: 'full', metadata: false }, settings);
  const planned = await readJson<{ object: string }[]>(deps, plan.planKey);
  if (!planned.some((p) => p.object === object)) throw new Error(`The plan does not export ${object}`);
  const spec = await readJson<ObjectSpec>(deps, objectSpecKey(org, plan.snapshotId, object));
  return { deps, snapshotId: plan.snapshotId, columns: spec.columns };
}

async function exportThroughCore(planned: Planned): Promise<Measured> {
  const { deps, snapshotId } = planned;
  const started = performance.now();
  let input: ExportInput = { org, snapshotId, object: object };
  for (;;) {
    const out = await exportObject(deps, input);
    if (out.done) break;
    if (out.parallel) {
      // The workers at once, each looping on its share, as the workflow's worker Map runs them.
      await Promise.all(
        out.parallel.workers.map(async (worker) => {
          let progress: WorkerProgress | null = null;
          for (;;) {
            const share = await exportWorkerPages(deps, { org, snapshotId, object, worker, progress });
            if (share.done) return;
            progress = share.progress;
          }
        }),
      );
    }
    input = { ...input, checkpoint: out.checkpoint };
  }
  const seconds = (performance.now() - started) / 1000;
  const result = await readJson<ObjectResult>(deps, objectResultKey(org, snapshotId, object));
  return { rows: result.rows, bytes: result.bytes, seconds };
}

async function pull(planned: Planned): Promise<Measured> {
  const target = { instanceUrl, accessToken, apiVersion: '62.0' };
  const started = performance.now();
  const jobId = await createCompletedQueryJob(target, `SELECT ${planned.columns.join(', ')} FROM ${object}`);
  const { rows, bytes } = await pullPagesInParallel(target, jobId, workers);
  return { rows, bytes, seconds: (performance.now() - started) / 1000 };
}

interface Measured {
  readonly rows: number;
  readonly bytes: number;
  readonly seconds: number;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
let measured: Measured & { cpuSeconds: number };
try {
  const planned = await planOne(dir);
  // The CPU this process spent on the measured part alone (every thread: zlib's pool included).
  const cpuBefore = process.cpuUsage();
  const result = mode === 'export' ? await exportThroughCore(planned) : await pull(planned);
  const cpu = process.cpuUsage(cpuBefore);
  measured = { ...result, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
} finally {
  rmSync(dir, { recursive: true, force: true });
}
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({
    ...measured,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapPeakBytes: heapPeak,
  })}\n`,
);
