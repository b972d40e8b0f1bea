import { describe, expect, it } from 'vitest';
import { DEFAULT_DEMO_STORE, describeDemo, runDemo } from '../../cli/commands/demo.ts';
import { FIXTURES, freshStoreDir } from '../backup/e2e-support.ts';

describe('sfbackup demo', () => {
  it.each(['dreamhouse-lwc', 'ebikes-lwc'])(
    'backs up %s, causes a disaster, restores it and finds the org as it was',
    async (sample) => {
      const lines: string[] = [];
      const result = await runDemo({
        sample,
        fixtures: process.env.SFBACKUP_FIXTURES ?? FIXTURES,
        log: (l) => lines.push(l),
      });
      expect(result.restored).toBe(true);
      expect(result.difference).toEqual({});
      expect(result.steps.map((s) => s.step)).toEqual([
        'Start the emulator with the sample org',
        'Back up the org (full)',
        'Disaster: a mass delete, a hard delete and an import that blanks fields',
        'Dry run: the restore plan (nothing written)',
        'Restore (mode full) and verify',
        'Compare the org with its state before the disaster',
      ]);
      const output = lines.join('\n');
      expect(output).toMatch(/rows that now differ from before: \{"/);
      expect(output).toMatch(/\d+ to undelete \(keep their ids\), 2 to insert \(new ids\)/);
      expect(output).toContain('Verified: the restored scope matches snapshot');
    },
  );

  it('runs twice into the same vault, as a person re-running the demo into .sfbackup does', async () => {
    const store = freshStoreDir();
    for (const _run of [1, 2]) {
      const result = await runDemo({
        sample: 'ebikes-lwc',
        fixtures: process.env.SFBACKUP_FIXTURES ?? FIXTURES,
        store,
      });
      expect(result.restored).toBe(true);
      expect(result.store).toBe(store);
    }
  });

  it('ends with the vault it wrote (.sfbackup by default) and the commands that show it', () => {
    expect(DEFAULT_DEMO_STORE).toBe('.sfbackup');
    const result = { sample: 'ebikes-lwc', restored: true, steps: [], difference: {} };
    expect(describeDemo({ ...result, store: '/home/ann/work/.sfbackup' }, '/home/ann/work')).toContain(
      'The vault is in /home/ann/work/.sfbackup. See what it holds:\n' +
        '  npx sfbackup snapshots --store .sfbackup\n' +
        '  npx sfbackup ui --store .sfbackup\n',
    );
    expect(describeDemo({ ...result, store: '/srv/my vault' }, '/home/ann')).toContain(
      "  npx sfbackup snapshots --store '/srv/my vault'\n",
    );
  });

  it('names the folder to pass when the sample org is not there', async () => {
    await expect(runDemo({ sample: 'dreamhouse-lwc', fixtures: '/nonexistent' })).rejects.toThrow(
      /pass --fixtures DIR/,
    );
  });
});
