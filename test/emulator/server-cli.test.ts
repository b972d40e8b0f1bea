import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_ORGS_DIR } from '../../emulator/fixtures/samples.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DREAMHOUSE = join(SAMPLE_ORGS_DIR, 'dreamhouse-lwc');

interface Started {
  child: ChildProcess;
  ready: Record<string, string>;
  exit: Promise<{ code: number | null; stderr: string }>;
}

function runCli(args: string[]): Started & { readyPromise: Promise<Record<string, string>> } {
  const child = spawn(process.execPath, [join(ROOT, 'cli', 'sfbackup.mjs'), 'emulator', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  );
  const readyPromise = new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('\n'))
        resolve(JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as Record<string, string>);
    });
    void exit.then(({ code }) =>
      reject(new Error(`emulator exited with ${code} before it was ready: ${stderr}`)),
    );
  });
  // Runs that fail on purpose never become ready; their rejection is expected, not unhandled.
  readyPromise.catch(() => undefined);
  return { child, ready: {}, exit, readyPromise };
}

describe('sfbackup emulator', () => {
  it('prints one JSON line when ready, serves the project and plan, and stops cleanly on SIGTERM', async () => {
    const run = runCli([
      '--project',
      DREAMHOUSE,
      '--plan',
      join(DREAMHOUSE, 'data', 'sample-data-plan.json'),
    ]);
    const ready = await run.readyPromise;
    expect(Object.keys(ready).sort()).toEqual(['accessToken', 'instanceUrl', 'orgId']);
    expect(ready.instanceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(
      `${ready.instanceUrl}/services/data/v62.0/query?q=${encodeURIComponent('SELECT COUNT() FROM Property__c')}`,
      { headers: { authorization: `Bearer ${ready.accessToken}` } },
    );
    expect(((await response.json()) as { totalSize: number }).totalSize).toBe(12);
    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(0);
  });

  it('serves https with a CA it writes to a file for NODE_EXTRA_CA_CERTS, and stops on SIGINT', async () => {
    const run = runCli(['--tls', '--faults', 'limits:503#1']);
    const ready = await run.readyPromise;
    expect(ready.instanceUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(ready.caFile!, 'utf8');
    const status = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          `${ready.instanceUrl}${path}`,
          { ca, headers: { authorization: `Bearer ${ready.accessToken}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await status('/services/data/v62.0/limits')).toBe(503);
    expect(await status('/services/data/v62.0/limits')).toBe(200);
    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(0);
  });

  it('exits with a clear message for bad options', async () => {
    const badFaults = runCli(['--faults', 'query:boom']);
    const exit = await badFaults.exit;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/unknown fault kind "boom"/);
    const badPort = runCli(['--port', 'abc']);
    expect((await badPort.exit).stderr).toMatch(/--port must be an integer/);
    const badPage = runCli(['--bulk-page-size', '0']);
    expect((await badPage.exit).stderr).toMatch(/--bulk-page-size must be a positive integer/);
    const unknown = runCli(['--nope']);
    expect((await unknown.exit).code).toBe(2);
    const badCatalog = runCli(['--catalog', 'sandbox']);
    expect((await badCatalog.exit).stderr).toMatch(/--catalog must be core or production, got "sandbox"/);
  });

  it('starts an org with the production catalog under --catalog production', async () => {
    const run = runCli(['--catalog', 'production']);
    const ready = await run.readyPromise;
    const answer = async (soql: string) => {
      const response = await fetch(
        `${ready.instanceUrl}/services/data/v62.0/query?q=${encodeURIComponent(soql)}`,
        {
          headers: { authorization: `Bearer ${ready.accessToken}` },
        },
      );
      return { status: response.status, body: (await response.json()) as unknown };
    };
    expect(await answer('SELECT COUNT() FROM AccountHistory')).toEqual({
      status: 200,
      body: { totalSize: 0, done: true, records: [] },
    });
    const refused = await answer('SELECT Id FROM ContentDocumentLink');
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual([expect.objectContaining({ errorCode: 'MALFORMED_QUERY' })]);
    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(0);
  });
});
