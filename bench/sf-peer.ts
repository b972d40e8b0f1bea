/**
 * The peer: Salesforce's own CLI (`sf data export bulk`; `sf data import bulk`, `sf data bulk
 * results` and `sf data update bulk` for the restore benchmark), as a user without this product
 * would run it, each command a fresh process (start-up, login state read, status polls included).
 */
import { rmSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { createSfCli, type SfCli, type SfResult } from '../test/support/sf-cli.ts';

/** One timed `sf data export bulk`. */
export interface SfExport {
  readonly seconds: number;
  readonly bytes: number;
}

/** What `sf data bulk results` wrote: the CSV of rows that succeeded (with `sf__Id`) and of those that failed. */
export interface SfIngestResults {
  readonly successFile: string;
  readonly failed: number;
}

/** The CLI logged in to one org in a throwaway home. */
export interface SfPeer {
  /** The CLI's home, its working directory: where `sf data bulk results` writes its files. */
  readonly home: string;
  exportBulk(soql: string, file: string): Promise<SfExport>;
  /** `sf data import bulk` of a CSV file into an object; answers the job id. */
  importBulk(object: string, csvFile: string): Promise<string>;
  /** `sf data update bulk` of a CSV file (an `Id` column first); answers the job id. */
  updateBulk(object: string, csvFile: string): Promise<string>;
  /** `sf data bulk results` of a job: the files it wrote. */
  bulkResults(jobId: string): Promise<SfIngestResults>;
  cleanup(): void;
}

function check(result: SfResult, what: string): void {
  if (result.code !== 0 || result.json?.status !== 0) {
    throw new Error(
      `sf ${what} failed (exit ${result.code}): ${result.stdout.slice(0, 1000)} ${result.stderr.slice(0, 1000)}`,
    );
  }
}

/** Logs the CLI in to the org with its access token. */
export async function loginSf(org: { instanceUrl: string; accessToken: string }): Promise<SfPeer> {
  const sf: SfCli = createSfCli({ accessToken: org.accessToken, timeoutMs: 3_600_000 });
  check(
    await sf.run([
      'org',
      'login',
      'access-token',
      '--instance-url',
      org.instanceUrl,
      '--no-prompt',
      '--alias',
      'bench',
      '--json',
    ]),
    'org login access-token',
  );
  return {
    async exportBulk(soql, file) {
      const output = join(sf.home, file);
      const started = performance.now();
      const result = await sf.run([
        'data',
        'export',
        'bulk',
        '--query',
        soql,
        '--output-file',
        output,
        '--wait',
        '120',
        '--target-org',
        'bench',
        '--json',
      ]);
      const seconds = (performance.now() - started) / 1000;
      check(result, `data export bulk (${file})`);
      const bytes = statSync(output).size;
      rmSync(output, { force: true });
      return { seconds, bytes };
    },
    importBulk: (object, csvFile) => ingest(sf, 'import', object, csvFile),
    updateBulk: (object, csvFile) => ingest(sf, 'update', object, csvFile),
    async bulkResults(jobId) {
      const result = await sf.run([
        'data',
        'bulk',
        'results',
        '--job-id',
        jobId,
        '--target-org',
        'bench',
        '--json',
      ]);
      check(result, `data bulk results (${jobId})`);
      const answer = result.json?.result as { successFilePath?: string; failedRecords?: number } | undefined;
      if (!answer?.successFilePath)
        throw new Error(`sf data bulk results named no file of successes: ${result.stdout.slice(0, 500)}`);
      return {
        successFile: isAbsolute(answer.successFilePath)
          ? answer.successFilePath
          : join(sf.home, answer.successFilePath),
        failed: answer.failedRecords ?? 0,
      };
    },
    home: sf.home,
    cleanup: () => sf.cleanup(),
  };
}

/** `sf data import bulk` or `sf data update bulk`, waiting up to 60 minutes; answers the job id. */
async function ingest(
  sf: SfCli,
  verb: 'import' | 'update',
  object: string,
  csvFile: string,
): Promise<string> {
  const result = await sf.run([
    'data',
    verb,
    'bulk',
    '--sobject',
    object,
    '--file',
    csvFile,
    '--line-ending',
    'LF',
    '--wait',
    '60',
    '--target-org',
    'bench',
    '--json',
  ]);
  check(result, `data ${verb} bulk (${object})`);
  const answer = result.json?.result as { jobId?: string; failedRecords?: number } | undefined;
  if (!answer?.jobId)
    throw new Error(`sf data ${verb} bulk answered no job id: ${result.stdout.slice(0, 500)}`);
  if ((answer.failedRecords ?? 0) > 0)
    throw new Error(`sf data ${verb} bulk (${object}): ${answer.failedRecords} rows failed`);
  return answer.jobId;
}
