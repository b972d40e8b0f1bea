/**
 * Benchmark "workers": one object of millions of narrow rows exported with one worker (a single
 * stream of result pages) and with several (the pages Salesforce lists through `resultPages`,
 * shared out), each page costing the same modelled server time.
 */
import { availableParallelism } from 'node:os';
import { EXPORT_WORKERS, measureWithServerCpu } from './object-export.ts';
import type { BenchOptions } from './options.ts';
import { startEmulatorProcess } from './proc.ts';
import type { Report } from './report.ts';

/** Server time per result page, before its first byte. */
const PAGE_SERVER_MS = 50;

/** Runs benchmark "workers". */
export async function benchWorkers(report: Report, o: BenchOptions): Promise<void> {
  const section = `One object across workers: ${o.workerRows.toLocaleString('en-US')} rows, ${PAGE_SERVER_MS} ms of server time per result page`;
  const emu = await startEmulatorProcess({
    generate: `objects=1,rows=${o.workerRows},fields=12,seed=42,files=0,activities=0,longText=0`,
    bulkPageSize: o.workerPageSize,
  });
  try {
    const faults = await fetch(`${emu.instanceUrl}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ spec: `bulk-results:latency=${PAGE_SERVER_MS}ms` }),
    });
    if (!faults.ok) throw new Error(`Setting the page latency failed: HTTP ${faults.status}`);
    const one = await measureWithServerCpu('export', emu, o.workerPageSize, 1);
    const many = await measureWithServerCpu('export', emu, o.workerPageSize, EXPORT_WORKERS);
    if (one.rows !== o.workerRows || many.rows !== o.workerRows) {
      throw new Error(`The exports counted ${one.rows} and ${many.rows} rows of ${o.workerRows}`);
    }
    const add = report.section(section);
    add('workers.rows', 'rows in the object (narrow: short values only)', o.workerRows, 'rows');
    add('workers.pages', 'result pages', Math.ceil(o.workerRows / o.workerPageSize), 'pages');
    add('workers.stored_mb', 'stored (gzip as sent)', many.bytes / 2 ** 20, 'MB');
    add('workers.one_s', 'export with 1 worker (one stream of pages)', one.seconds, 's');
    add('workers.many_s', `export with ${EXPORT_WORKERS} workers`, many.seconds, 's');
    // What bounds the workers here: the emulator (Salesforce's stand-in, one process) and the export
    // share this machine's cores, so together their CPU time cannot pass cores x wall time.
    const cores = availableParallelism();
    add('workers.one_server_cpu_s', '1 worker: emulator CPU while serving', one.serverCpuSeconds ?? 0, 's');
    add('workers.one_export_cpu_s', '1 worker: export CPU', one.cpuSeconds, 's');
    add(
      'workers.many_server_cpu_s',
      `${EXPORT_WORKERS} workers: emulator CPU while serving`,
      many.serverCpuSeconds ?? 0,
      's',
    );
    add('workers.many_export_cpu_s', `${EXPORT_WORKERS} workers: export CPU`, many.cpuSeconds, 's');
    const pages = Math.ceil(o.workerRows / o.workerPageSize);
    const latencyFloor = (pages * PAGE_SERVER_MS) / 1000 / EXPORT_WORKERS;
    const cpuFloor = ((many.serverCpuSeconds ?? 0) + many.cpuSeconds) / cores;
    const loopFloor = many.serverLoopSeconds ?? 0;
    add(
      'workers.server_loop_floor_s',
      `${EXPORT_WORKERS} workers' floor from the emulator's one event loop (busy time while serving)`,
      loopFloor,
      's',
    );
    add(
      'workers.latency_floor_s',
      `${EXPORT_WORKERS} workers' floor from server time alone (pages x ${PAGE_SERVER_MS} ms / ${EXPORT_WORKERS})`,
      latencyFloor,
      's',
    );
    add(
      'workers.cpu_floor_s',
      `${EXPORT_WORKERS} workers' floor from CPU on ${cores} cores ((emulator + export CPU) / cores)`,
      cpuFloor,
      's',
    );
    add(
      'workers.floor_ratio',
      `the largest floor / 1 worker: the best ratio this machine allows`,
      Math.max(latencyFloor, cpuFloor, loopFloor) / one.seconds,
      'ratio',
    );
    const ratio = many.seconds / one.seconds;
    add('workers.ratio', `${EXPORT_WORKERS} workers / 1 worker (wall time)`, ratio, 'ratio', [
      '<= 0.35',
      ratio <= 0.35,
    ]);
    add('workers.rss_many_mb', `peak RSS with ${EXPORT_WORKERS} workers`, many.maxRssBytes / 2 ** 20, 'MB');
  } finally {
    await emu.stop();
  }
}
