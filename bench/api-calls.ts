/**
 * Benchmark "api": Salesforce API calls (counted by the emulator) of a full backup and of an
 * incremental of the unchanged org, and files a second backup skips by checksum.
 */
import { freshVault, timedBackup } from './backup-run.ts';
import type { BenchOptions } from './options.ts';
import { apiCallsUsed, startEmulatorProcess } from './proc.ts';
import type { Report } from './report.ts';

/** Runs benchmark "api". */
export async function benchApiCalls(report: Report, o: BenchOptions): Promise<void> {
  const section = `API calls: ${o.apiObjects} objects`;
  const add = report.section(section);
  const emu = await startEmulatorProcess({
    generate: `objects=${o.apiObjects},rows=2,fields=20,seed=42,files=0`,
  });
  try {
    const dir = freshVault();
    const settings = { pollIntervalMs: 200 };
    // SOQL compares SystemModstamp in whole seconds: rows written in the second the full backup
    // starts would count as changed since it, so the org's rows must be a second older.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const before = await apiCallsUsed(emu);
    const full = await timedBackup(emu, dir, 'full', { settings, maxConcurrency: 16 });
    const afterFull = await apiCallsUsed(emu);
    const incremental = await timedBackup(emu, dir, 'incremental', { settings, maxConcurrency: 16 });
    const afterIncremental = await apiCallsUsed(emu);
    add('api.objects', 'objects backed up', full.summary.objects, 'objects');
    add('api.full.calls', 'full backup (metadata included)', afterFull - before, 'calls');
    const calls = afterIncremental - afterFull;
    // Two Composite subrequests per object, 25 to a call: a COUNT() of its changes, and its delete
    // log (deletes leave no row for a COUNT() to find). Besides those: identity, limits,
    // describeGlobal and ContentDocumentLink's parent ids.
    const budget = 2 * Math.ceil(full.summary.objects / 25) + 8;
    add('api.incremental_unchanged.calls', 'incremental of the unchanged org', calls, 'calls', [
      `<= ${budget}`,
      calls <= budget,
    ]);
    add(
      'api.incremental_unchanged.rows',
      'rows the unchanged incremental exported',
      incremental.summary.rows,
      'rows',
    );
  } finally {
    await emu.stop();
  }
  const files = await startEmulatorProcess({ generate: `objects=1,rows=10,seed=42,files=${o.files}` });
  try {
    const dir = freshVault();
    const first = await timedBackup(files, dir, 'full', { settings: { pollIntervalMs: 200 } });
    const second = await timedBackup(files, dir, 'full', { settings: { pollIntervalMs: 200 } });
    add('api.files.backed_up', 'files in the org (bodies)', first.summary.files, 'files');
    add(
      'api.files.first_run_downloaded',
      'bodies downloaded by the first backup',
      first.summary.filesDownloaded,
      'files',
    );
    add(
      'api.files.second_run_downloaded',
      'bodies downloaded by a second full backup',
      second.summary.filesDownloaded,
      'files',
    );
    add(
      'api.files.second_run_skipped',
      'bodies a second backup skipped by checksum',
      second.summary.files - second.summary.filesDownloaded,
      'files',
    );
  } finally {
    await files.stop();
  }
}
