import { describe, expect, it } from 'vitest';
import { DEFAULT_DEMO_STORE, DEMO_SAMPLES, describeDemo, runDemo } from '../../cli/commands/demo.ts';
import { orgKeyOfId } from '../../contract/org-id.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { diffSnapshots } from '../../lambdas/core/insight/diff.ts';
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
        'Back up the org after the disaster (incremental, as the next scheduled run)',
        'Dry run: the restore plan (nothing written)',
        'Restore (mode full) and verify',
        'Compare the org with its state before the disaster',
      ]);
      const output = lines.join('\n');
      expect(output).toMatch(/rows that now differ from before: \{"/);
      expect(output).toMatch(/\d+ to undelete \(keep their ids\), 2 to insert \(new ids\)/);
      expect(output).toContain('Verified: the restored scope matches snapshot');
      // The two snapshots it leaves tell the disaster, as "sfbackup diff" prints it.
      const { parent, child, blanked } = DEMO_SAMPLES[sample]!;
      const diff = await diffSnapshots(
        new LocalDirectoryStore(result.store),
        orgKeyOfId(result.org)!,
        result.snapshots.before,
        result.snapshots.after,
      );
      const of = (name: string) => diff.objects.find((o) => o.object === name);
      expect(of(parent)?.deletedToBin.count).toBeGreaterThan(0);
      expect(of(parent)?.inserted.count).toBe(0);
      expect(of(child)?.gone.count).toBe(2);
      expect(of(child)?.changed.fields.map((f) => f.field)).toEqual(expect.arrayContaining(blanked));
    },
    180_000,
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
    const result = {
      sample: 'ebikes-lwc',
      org: '00D5g0000012345EAA',
      snapshots: { before: '20261203T100000000Z-aaaaaa', after: '20261203T100100000Z-bbbbbb' },
      restored: true,
      steps: [],
      difference: {},
    };
    expect(describeDemo({ ...result, store: '/home/ann/work/.sfbackup' }, '/home/ann/work')).toContain(
      'The vault is in /home/ann/work/.sfbackup. See what it holds, and what the disaster changed:\n' +
        '  npx sfbackup snapshots --store .sfbackup --org 00D5g0000012345EAA\n' +
        '  npx sfbackup diff 20261203T100000000Z-aaaaaa 20261203T100100000Z-bbbbbb --store .sfbackup --org 00D5g0000012345EAA\n' +
        '  npx sfbackup ui --store .sfbackup --org 00D5g0000012345EAA\n',
    );
    expect(describeDemo({ ...result, store: '/srv/my vault' }, '/home/ann')).toContain(
      "  npx sfbackup snapshots --store '/srv/my vault' --org 00D5g0000012345EAA\n",
    );
  });

  it('names the folder to pass when the sample org is not there', async () => {
    await expect(runDemo({ sample: 'dreamhouse-lwc', fixtures: '/nonexistent' })).rejects.toThrow(
      /pass --fixtures DIR/,
    );
  });
});
