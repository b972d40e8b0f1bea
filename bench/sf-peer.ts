/**
 * The peer: Salesforce's own CLI, `sf data export bulk`, as a user without this product would run
 * it, each command a fresh process (start-up, login state read, 5 s status polls included).
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSfCli, type SfCli, type SfResult } from '../test/support/sf-cli.ts';

/** One timed `sf data export bulk`. */
export interface SfExport {
  readonly seconds: number;
  readonly bytes: number;
}

/** The CLI logged in to one org in a throwaway home. */
export interface SfPeer {
  exportBulk(soql: string, file: string): Promise<SfExport>;
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
    cleanup: () => sf.cleanup(),
  };
}
