import { describe, expect, it } from 'vitest';
import { runDemo } from '../../cli/commands/demo.ts';
import { FIXTURES } from '../backup/e2e-support.ts';

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

  it('names the folder to pass when the sample org is not there', async () => {
    await expect(runDemo({ sample: 'dreamhouse-lwc', fixtures: '/nonexistent' })).rejects.toThrow(
      /pass --fixtures DIR/,
    );
  });
});
