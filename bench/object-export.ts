/**
 * Benchmark "object": one large object exported through the backup core into a local store,
 * against the pull limit (the same pages fetched and dropped) and against `sf data export bulk`.
 */
import { availableParallelism } from 'node:os';
import type { BenchOptions } from './options.ts';
import { type EmulatorProcess, emulatorJson, runScriptJson, startEmulatorProcess } from './proc.ts';
import type { Report } from './report.ts';
import { loginSf } from './sf-peer.ts';

/** What the export child prints. */
export interface ChildMeasure {
  readonly rows: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly maxRssBytes: number;
  readonly heapPeakBytes: number;
  /** CPU the child spent on the measured part, every thread included. */
  readonly cpuSeconds: number;
  /** CPU the emulator spent meanwhile (filled in by `measureWithServerCpu`). */
  readonly serverCpuSeconds?: number;
  /** Time the emulator's event loop was busy meanwhile (rendering answers happens there alone). */
  readonly serverLoopSeconds?: number;
}

/** Measures in a child, with the emulator's own CPU time over the same span. */
export async function measureWithServerCpu(
  mode: 'export' | 'pull',
  emu: EmulatorProcess,
  pageSize: number,
  workers = EXPORT_WORKERS,
): Promise<ChildMeasure> {
  const before = await serverCpu(emu);
  const measured = await measureInChild(mode, emu, pageSize, workers);
  const after = await serverCpu(emu);
  return {
    ...measured,
    serverCpuSeconds: after.cpuSeconds - before.cpuSeconds,
    serverLoopSeconds: after.eventLoopBusySeconds - before.eventLoopBusySeconds,
  };
}

async function serverCpu(
  emu: EmulatorProcess,
): Promise<{ cpuSeconds: number; eventLoopBusySeconds: number }> {
  return (
    await emulatorJson<{ process: { cpuSeconds: number; eventLoopBusySeconds: number } }>(emu, 'counts')
  ).process;
}

/** The generated object every single-object benchmark reads. */
export const OBJECT = 'Gen_Object_0001__c';
const MB = 1024 * 1024;

/** Starts an emulator holding one generated object of `rows` rows (20 mixed fields, seed 42). */
export function startOneObjectOrg(rows: number, pageSize: number): Promise<EmulatorProcess> {
  return startEmulatorProcess({
    generate: `objects=1,rows=${rows},fields=20,seed=42,files=0,activities=0`,
    bulkPageSize: pageSize,
  });
}

/** Workers the export runs on one object's result pages (the setting's default). */
export const EXPORT_WORKERS = 4;
/** Readers the pull limit is measured with; the fastest counts. */
const PULL_READERS = [4, 8];

/** Runs the export (or the pull) in a process of its own against the emulator. */
export function measureInChild(
  mode: 'export' | 'pull',
  emu: EmulatorProcess,
  pageSize: number,
  workers = EXPORT_WORKERS,
): Promise<ChildMeasure> {
  return runScriptJson<ChildMeasure>('./export-child.ts', [
    mode,
    emu.instanceUrl,
    emu.accessToken,
    OBJECT,
    String(pageSize),
    String(workers),
  ]);
}

/** Runs benchmark "object"; returns the export's measure for the memory benchmark to reuse. */
export async function benchObject(report: Report, o: BenchOptions): Promise<ChildMeasure> {
  const section = `One object: ${o.rows.toLocaleString('en-US')} rows, 20 fields`;
  const emu = await startOneObjectOrg(o.rows, o.pageSize);
  try {
    // The pull limit: the fastest of several parallel readers of the compressed result pages.
    const pulls: ChildMeasure[] = [];
    for (const readers of PULL_READERS)
      pulls.push(await measureWithServerCpu('pull', emu, o.pageSize, readers));
    const pull = pulls.reduce((best, p) => (p.seconds < best.seconds ? p : best));
    const pullReaders = PULL_READERS[pulls.indexOf(pull)]!;
    const exported = await measureWithServerCpu('export', emu, o.pageSize);
    if (exported.rows !== pull.rows) {
      throw new Error(`The export counted ${exported.rows} rows, the pull ${pull.rows}`);
    }
    const sf = await loginSf(emu);
    let tiny: { seconds: number };
    let full: { seconds: number; bytes: number };
    try {
      // A one-row export costs what every export costs before its first row: start-up, login
      // state, job creation and the first 5 s status poll.
      tiny = await sf.exportBulk('SELECT Id FROM User', 'tiny.csv');
      const soql = `SELECT ${(await columnsOf(emu)).join(', ')} FROM ${OBJECT}`;
      full = await sf.exportBulk(soql, 'object.csv');
    } finally {
      sf.cleanup();
    }
    const rowsPerSecond = (m: { rows: number; seconds: number }) => m.rows / m.seconds;
    const sfStreaming = Math.max(full.seconds - tiny.seconds, 1e-3);
    const sfStreamingRate = pull.rows / sfStreaming;
    const add = report.section(section);
    add('object.rows', 'rows in the object', pull.rows, 'rows');
    add(
      'object.result_pages',
      "result pages (the server's page size)",
      Math.ceil(pull.rows / o.pageSize),
      'pages',
    );
    add('object.gzip_mb', 'Bulk results sent, compressed', pull.bytes / MB, 'MB');
    for (const [i, readers] of PULL_READERS.entries()) {
      add(
        `object.pull_${readers}.rows_per_s`,
        `pull: result pages fetched compressed and dropped, ${readers} readers`,
        rowsPerSecond(pulls[i]!),
        'rows/s',
      );
    }
    add('object.pull.readers', 'readers of the fastest pull (the pull limit)', pullReaders, 'readers');
    add(
      'object.export.rows_per_s',
      `export into the store, ${EXPORT_WORKERS} workers (stored as sent, SHA-256, counted)`,
      rowsPerSecond(exported),
      'rows/s',
    );
    add('object.export.stored_mb', 'export, stored (gzip)', exported.bytes / MB, 'MB');
    // What bounds the export here: the emulator and the export share this machine's cores.
    const cores = availableParallelism();
    add(
      'object.pull.server_cpu_s',
      'fastest pull: emulator CPU while serving',
      pull.serverCpuSeconds ?? 0,
      's',
    );
    add('object.pull.s', 'fastest pull: wall time', pull.seconds, 's');
    add(
      'object.export.server_cpu_s',
      'export: emulator CPU while serving',
      exported.serverCpuSeconds ?? 0,
      's',
    );
    add('object.export.cpu_s', 'export: its own CPU (inflate, scan, hash, write)', exported.cpuSeconds, 's');
    add('object.export.s', 'export: wall time', exported.seconds, 's');
    const floor = ((exported.serverCpuSeconds ?? 0) + exported.cpuSeconds) / cores;
    add(
      'object.export.cpu_floor_s',
      `export's floor from CPU on ${cores} cores ((emulator + export CPU) / cores)`,
      floor,
      's',
    );
    add(
      'object.floor_ratio',
      'the pull / that floor: the best export / pull limit this machine allows',
      pull.seconds / Math.max(floor, pull.seconds),
      'ratio',
    );
    add('object.sf.total_s', '`sf data export bulk`, whole command', full.seconds, 's');
    add(
      'object.sf.fixed_s',
      '`sf data export bulk` of one row (start-up, job, status poll)',
      tiny.seconds,
      's',
    );
    add(
      'object.sf.streaming_rows_per_s',
      '`sf data export bulk`, streaming rate (fixed cost removed)',
      sfStreamingRate,
      'rows/s',
    );
    add('object.sf.rows_per_s', '`sf data export bulk`, overall', pull.rows / full.seconds, 'rows/s');
    const vsPull = rowsPerSecond(exported) / rowsPerSecond(pull);
    add('object.ratio.export_to_pull', 'export / pull limit', vsPull, 'ratio', ['>= 0.9', vsPull >= 0.9]);
    const vsSf = rowsPerSecond(exported) / sfStreamingRate;
    add('object.ratio.export_to_sf_streaming', 'export / sf streaming rate', vsSf, 'ratio', [
      '>= 1.5',
      vsSf >= 1.5,
    ]);
    return exported;
  } finally {
    await emu.stop();
  }
}

/** The columns the backup selects for the object: every field but compound and binary ones. */
async function columnsOf(emu: EmulatorProcess): Promise<string[]> {
  const response = await fetch(`${emu.instanceUrl}/services/data/v62.0/sobjects/${OBJECT}/describe`, {
    headers: { authorization: `Bearer ${emu.accessToken}` },
  });
  const describe = (await response.json()) as { fields: { name: string; type: string }[] };
  return describe.fields
    .filter((f) => !['address', 'location', 'base64'].includes(f.type))
    .map((f) => f.name);
}
