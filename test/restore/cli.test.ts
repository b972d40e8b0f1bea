import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/commands/restore.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { backup, freshStoreDir, ids, softDelete, startSampleOrg } from './e2e-support.ts';

let emu: RunningEmulator | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await emu?.stop();
  emu = undefined;
});

function capture(): { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  return { out: () => out.join(''), err: () => err.join('') };
}

describe('sfbackup restore', () => {
  it('names every missing option and exits 2', async () => {
    const io = capture();
    expect(await run(['--instance-url', 'http://127.0.0.1:1'])).toBe(2);
    expect(io.err()).toContain('--access-token (or SFBACKUP_ACCESS_TOKEN) is required');
    expect(io.err()).toContain('--input FILE is required');
  });

  it('refuses an input file larger than a restore input may be, before reading it, and exits 2', async () => {
    const dir = freshStoreDir();
    const file = join(dir, 'big.json');
    writeFileSync(file, JSON.stringify({ objects: Array(1_000_000).fill('Account') }));
    const io = capture();
    expect(
      await run([
        '--instance-url',
        'http://127.0.0.1:1',
        '--access-token',
        't',
        '--store',
        dir,
        '--input',
        file,
      ]),
    ).toBe(2);
    expect(io.err()).toContain('a restore input is at most 256 KB');
    expect(io.err().length).toBeLessThan(2_000);
  });

  it('refuses an input nested 100,000 levels deep without crashing, and exits 2', async () => {
    const dir = freshStoreDir();
    const file = join(dir, 'deep.json');
    writeFileSync(file, `{"objects":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const io = capture();
    expect(
      await run([
        '--instance-url',
        'http://127.0.0.1:1',
        '--access-token',
        't',
        '--store',
        dir,
        '--input',
        file,
      ]),
    ).toBe(2);
    expect(io.err()).toMatch(/nested 100,00\d levels deep/);
  });

  it('refuses, before the workflow is synthesized, a store that holds no snapshot of the org, naming the vault and what it holds', async () => {
    const dir = freshStoreDir();
    await new LocalDirectoryStore(dir).put('orgs/acme-old/catalog/x.json', '{}');
    const file = join(dir, 'input.json');
    writeFileSync(file, JSON.stringify({ objects: ['Account'] }));
    const cache = join(freshStoreDir(), 'cache');
    vi.stubEnv('SFBACKUP_CACHE_DIR', cache);
    capture();
    try {
      const args = ['--instance-url', 'http://127.0.0.1:1', '--access-token', 't', '--store', dir];
      const error = await run([...args, '--org', '00D5g0000012345', '--input', file]).catch((e: Error) => e);
      expect(error).toMatchObject({ name: 'NothingToRestore' });
      expect((error as Error).message).toBe(
        `The vault at ${resolve(dir)} holds no complete snapshot of org 00D5g0000012345EAA. ` +
          'It holds org acme-old: if you meant one of them, check --store and --org. ' +
          'Otherwise run "sfbackup backup" for this org first.',
      );
      expect(existsSync(cache)).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('runs the console input from a file: a dry run, then the restore, with a JSON summary', async () => {
    emu = await startSampleOrg('dreamhouse-lwc');
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const brokers = await ids(emu, 'Broker__c');
    await softDelete(emu, brokers);
    const base = [
      '--instance-url',
      emu.instanceUrl,
      '--access-token',
      emu.accessToken,
      '--store',
      dir,
      '--org',
      'sample',
    ];
    const dryFile = join(dir, 'dry.json');
    writeFileSync(dryFile, JSON.stringify({ objects: ['Broker__c'], includeChildren: true }));
    let io = capture();
    expect(await run([...base, '--input', dryFile])).toBe(0);
    expect(io.out()).toContain(`${brokers.length} to undelete`);
    vi.restoreAllMocks();

    const realFile = join(dir, 'real.json');
    writeFileSync(
      realFile,
      JSON.stringify({
        objects: ['Broker__c'],
        includeChildren: true,
        mode: 'restore-deleted',
        confirmOrgId: emu.orgId,
      }),
    );
    io = capture();
    expect(await run([...base, '--input', realFile, '--json'])).toBe(0);
    const summary = JSON.parse(io.out().trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', mode: 'restore-deleted', org: 'sample' });
    expect(summary.reportKey).toMatch(new RegExp(`^restores/sample/${emu.orgId}/runs/[^/]+/report\\.json$`));
    expect(await ids(emu, 'Broker__c')).toHaveLength(brokers.length);
  });

  it('refuses a --point-in-time that is not an instant with a time zone, or that the input contradicts, and exits 2', async () => {
    const dir = freshStoreDir();
    const file = join(dir, 'pit.json');
    writeFileSync(file, JSON.stringify({ objects: ['Account'], snapshot: '20260101T000000000Z-aaaaaa' }));
    const base = [
      '--instance-url',
      'http://127.0.0.1:1',
      '--access-token',
      't',
      '--store',
      dir,
      '--input',
      file,
    ];
    let io = capture();
    expect(await run([...base, '--point-in-time', '2026-01-02'])).toBe(2);
    expect(io.err()).toContain(
      '--point-in-time 2026-01-02: "2026-01-02" is not an instant with a time zone. Fix: write an instant with its time zone',
    );
    expect(io.err()).toContain('--point-in-time cannot be combined with the input\'s "snapshot"');
    vi.restoreAllMocks();
    writeFileSync(file, JSON.stringify({ objects: ['Account'], pointInTime: '2026-01-02T10:00:00Z' }));
    io = capture();
    expect(await run([...base, '--point-in-time', '2026-01-02T10:00:00+02:00'])).toBe(2);
    expect(io.err()).toContain('--point-in-time cannot be combined with the input\'s "pointInTime"');
    expect(io.err()).not.toContain('is not an instant');
  });

  it('plans a restore to a point in time, saying which objects are snapshot only and why', async () => {
    emu = await startSampleOrg('dreamhouse-lwc');
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const at = new Date(Date.now() + 1000).toISOString();
    const file = join(dir, 'pit.json');
    writeFileSync(file, JSON.stringify({ objects: ['Broker__c'] }));
    const io = capture();
    // The journal is trusted to an instant six minutes after it: the clock moves on (the org's too).
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    let code: number;
    try {
      vi.setSystemTime(Date.now() + 7 * 60_000);
      code = await run([
        ...['--instance-url', emu.instanceUrl, '--access-token', emu.accessToken],
        ...['--store', dir, '--org', 'sample', '--input', file, '--point-in-time', at],
      ]);
    } finally {
      vi.useRealTimers();
    }
    expect(code).toBe(0);
    expect(io.out()).toContain(`(dry-run) to ${at}, from snapshot `);
    expect(io.out()).toMatch(
      new RegExp(
        `Broker__c: .*\\n    snapshot only: (\\S+) taken \\S+, 0\\.0 hour\\(s\\) before ${at.replace(/\./g, '\\.')}: snapshot \\1 does not mark the object continuous`,
      ),
    );
  });
});
