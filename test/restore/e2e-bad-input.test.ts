import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { backup, freshStoreDir, restore, startSampleOrg } from './e2e-support.ts';

let emu: RunningEmulator;
let dir: string;
beforeAll(async () => {
  emu = await startSampleOrg('dreamhouse-lwc');
  dir = freshStoreDir();
  await backup(emu, dir, 'full');
});
afterAll(async () => {
  await emu.stop();
});

describe('restore inputs that are not a restore request', () => {
  for (const [label, input] of [
    ['null', null],
    ['an empty object', {}],
    ['a string', 'restore everything'],
    ['an array', ['Account']],
  ] as const) {
    it(`rejects ${label} at the validation with the input's problem and how to fix it`, async () => {
      const { summary, sns } = await restore(emu, dir, input);
      expect(summary.status).toBe('FAILED');
      expect(summary.error).toBe('InvalidRestoreRequestError');
      expect(summary.message).toContain('nothing was written');
      expect(summary.message).toContain('Fix:');
      expect(sns).toEqual([]);
    });
  }

  it('reports at most a bounded number of problems, with the count of the rest', async () => {
    const input = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`unknown${i}`, i]));
    const { summary } = await restore(emu, dir, { ...input, objects: Array(1500).fill('not an api name!') });
    expect(summary.error).toBe('InvalidRestoreRequestError');
    expect(summary.message.length).toBeLessThan(8_000);
    expect(summary.message).toMatch(/and \d+ more problem/);
  });

  it('alerts a drill with no sandbox configured in one line, with no stack trace', async () => {
    const { summary, sns } = await restore(emu, dir, { drill: true });
    expect(summary.status).toBe('FAILED');
    expect(sns).toHaveLength(1);
    const message = sns[0]?.message ?? '';
    expect(message).toContain('The restore drill has no sandbox it can reach');
    expect(message).not.toMatch(/\n|\s+at\s+\S+\s+\(|"trace"|stack/);
    expect(summary.message).not.toMatch(/"trace"/);
  });
});
