/**
 * Benchmark "workers": one object of millions of narrow rows exported with one worker (a single
 * stream of result pages) and with several (the pages Salesforce lists through `resultPages`,
 * shared out), each page costing the same modelled server time.
 */
import { EXPORT_WORKERS, measureInChild } from './object-export.ts';
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
    const one = await measureInChild('export', emu, o.workerPageSize, 1);
    const many = await measureInChild('export', emu, o.workerPageSize, EXPORT_WORKERS);
    // The server alone: the same pages pulled by as many readers, compressed and dropped. On one
    // machine the emulator (Salesforce's stand-in, one process) shares the cores with the export,
    // so its own time bounds how far workers can go here.
    const served = await measureInChild('pull', emu, o.workerPageSize, EXPORT_WORKERS);
    if (one.rows !== o.workerRows || many.rows !== o.workerRows) {
      throw new Error(`The exports counted ${one.rows} and ${many.rows} rows of ${o.workerRows}`);
    }
    const add = (name: string, label: string, value: number, unit: string, target?: [string, boolean]) =>
      report.add({
        section,
        name,
        label,
        value,
        unit,
        ...(target ? { target: target[0], met: target[1] } : {}),
      });
    add('workers.rows', 'rows in the object (narrow: short values only)', o.workerRows, 'rows');
    add('workers.pages', 'result pages', Math.ceil(o.workerRows / o.workerPageSize), 'pages');
    add('workers.stored_mb', 'stored (gzip as sent)', many.bytes / 2 ** 20, 'MB');
    add('workers.one_s', 'export with 1 worker (one stream of pages)', one.seconds, 's');
    add('workers.many_s', `export with ${EXPORT_WORKERS} workers`, many.seconds, 's');
    add(
      'workers.served_s',
      `the server alone: the pages pulled by ${EXPORT_WORKERS} readers and dropped`,
      served.seconds,
      's',
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
