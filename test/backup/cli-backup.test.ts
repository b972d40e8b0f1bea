import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/commands/backup.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
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

  it('prints one JSON summary last and exits 0 when the snapshot is complete', async () => {
    const store = freshStoreDir();
    const args = [
      '--instance-url',
      emu.instanceUrl,
      '--access-token',
      emu.accessToken,
      '--store',
      store,
      '--mode',
      'full',
      '--json',
    ];
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
        '--instance-url',
        emu.instanceUrl,
        '--access-token',
        emu.accessToken,
        '--store',
        store,
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

  it('refuses missing options with exit code 2, naming each', async () => {
    const { code, err } = await capture(['--mode', 'weekly']);
    expect(code).toBe(2);
    expect(err).toMatch(/--instance-url is required/);
    expect(err).toMatch(/--mode is "weekly"/);
  });
});
