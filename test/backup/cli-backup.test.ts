import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/commands/backup.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { onTerminal, progressLines } from '../support/run-cli.ts';
import { freshStoreDir, startSampleOrg } from './e2e-support.ts';

async function capture(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    return { code: await run(args), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('sfbackup backup', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startSampleOrg('ebikes-lwc');
  });
  afterAll(async () => {
    await emu?.stop();
  });
  /** The options that name the emulator's org and the vault. */
  const connection = (store: string) => [
    '--instance-url',
    emu.instanceUrl,
    '--access-token',
    emu.accessToken,
    '--store',
    store,
  ];

  it('prints one JSON summary last and exits 0 when the snapshot is complete', async () => {
    const store = freshStoreDir();
    const args = [...connection(store), '--mode', 'full', '--json'];
    const { code, out } = await capture([...args, '--settings', '{"pollIntervalMs":50}']);
    expect(code).toBe(0);
    const summary = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ status: 'complete', org: emu.orgId.toLowerCase() });
    expect(summary.snapshotId).toMatch(/^\d{8}T\d{9}Z-/);
    for (const key of ['objects', 'rows', 'metadataComponents', 'apiCalls'])
      expect(summary[key]).toBeGreaterThan(0);
    expect(summary.files).toBe(0);
  });

  it('exits non-zero and prints the alert when the run fails', async () => {
    const store = freshStoreDir();
    await fetch(`${emu.instanceUrl}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ spec: 'bulk-query:bulk-fail' }),
    });
    try {
      const { code, out, err } = await capture([
        ...connection(store),
        '--json',
        '--settings',
        '{"pollIntervalMs":50,"metadata":false}',
      ]);
      expect(code).toBe(1);
      expect(JSON.parse(out.trim().split('\n').at(-1)!).status).toBe('failed');
      expect(err).toMatch(/\[SNS .*incomplete\]/);
    } finally {
      await fetch(`${emu.instanceUrl}/__emulator/faults`, {
        method: 'POST',
        body: JSON.stringify({ spec: '' }),
      });
    }
  });

  it('on a terminal, says it starts a new chain, naming the vault and the orgs it holds, and draws live progress to N of N objects', async () => {
    const store = freshStoreDir();
    await new LocalDirectoryStore(store).put('orgs/acme-old/catalog/x.json', '{}');
    const args = [...connection(store), '--settings', '{"pollIntervalMs":50,"metadata":false}'];
    const first = await onTerminal(() => capture(args));
    expect(first.code).toBe(0);
    expect(first.err).toContain(
      `Starting a new backup chain for org ${emu.orgId} in ${resolve(store)}: the vault holds no snapshot of it. ` +
        'It holds org acme-old: if you meant one of them, check --store and --org.',
    );
    const lines = progressLines(first.err);
    const counts = lines
      .map((l) => /^backup: (\d+) of (\d+) objects/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [Number(m[1]), Number(m[2])]);
    expect(counts.length).toBeGreaterThan(0);
    const [done, total] = counts.at(-1)!;
    expect(total).toBeGreaterThan(0);
    expect(done).toBe(total);
    // The rate shows once a second has passed, which a warm run may not reach.
    expect(lines.at(-1)).toMatch(/ \d+ rows · [\d.]+ [KMG]?B · (\d+ rows\/s · )?\d+:\d\d$/);
    expect(first.out).toContain(`of org ${emu.orgId}: COMPLETE`);

    // The same run with standard error redirected: the summary, and no progress or notice.
    const second = await capture(args);
    expect(second.code).toBe(0);
    expect(second.err).not.toContain('\r');
    expect(second.err).not.toMatch(/objects|new backup chain/);
    expect(second.out).toContain(`of org ${emu.orgId}: COMPLETE`);
  });

  it('refuses missing options with exit code 2, naming each', async () => {
    const { code, err } = await capture(['--mode', 'weekly']);
    expect(code).toBe(2);
    expect(err).toMatch(/--instance-url is required/);
    expect(err).toMatch(/--mode is "weekly"/);
  });
});
