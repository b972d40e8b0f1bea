import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalRestoreOptions, RestoreSummary } from '../../cli/commands/restore.ts';
import { RestoreRunner } from '../../cli/ui/restore-runner.ts';
import { MemoryStore } from '../backup/memory-store.ts';
import { account, fullSnapshot, ORG } from './vault.ts';

const ORG_ID = '00D5g0000012345EAA';
const SNAPSHOT = '20260101T000000000Z-aaaaaa';
const vault = new MemoryStore();

beforeAll(async () => {
  await fullSnapshot(vault, SNAPSHOT, '2026-01-01T00:10:00.000Z', [account(1)]);
});

/** A runner whose restores are recorded and answer `status`. */
function runner(status: RestoreSummary['status'] = 'SUCCEEDED') {
  const inputs: Record<string, unknown>[] = [];
  const restore = new RestoreRunner({
    connection: { instanceUrl: 'http://127.0.0.1:1', accessToken: 't' },
    store: '/vault',
    vault,
    org: ORG,
    run: async (options: LocalRestoreOptions) => {
      inputs.push(options.input as Record<string, unknown>);
      const input = options.input as { mode: string };
      return {
        summary: {
          org: 'acme',
          status,
          mode: input.mode,
          error: status === 'SUCCEEDED' ? null : 'RestoreFailed',
          message: `planned ${input.mode}`,
          planKey: 'restores/acme/plan.json',
          reportKey: null,
          recoveryTimeSeconds: null,
          snsMessages: 0,
          execution: { historyEvents: 1, largestPayloadBytes: 1, withinLimits: true },
        },
      };
    },
  });
  return { restore, inputs };
}

const INPUT = { snapshot: SNAPSHOT, objects: ['Account'], records: ['001000000000001AAA'], mode: 'dry-run' };

describe('the ui restore runner', () => {
  it('runs any input as a dry run first, and then once for real in the chosen mode with the typed org id', async () => {
    const { restore, inputs } = runner();
    const dry = await restore.dryRun({ ...INPUT, mode: 'full', confirmOrgId: ORG_ID }, 'restore-deleted');
    expect(dry).toMatchObject({ status: 'SUCCEEDED', realMode: 'full', message: 'planned dry-run' });
    expect(inputs[0]).toEqual({ ...INPUT, mode: 'dry-run' });
    const real = await restore.run(dry.dryRunId!, ORG_ID);
    expect(real.mode).toBe('full');
    expect(inputs[1]).toEqual({ ...INPUT, mode: 'full', confirmOrgId: ORG_ID });
    await expect(restore.run(dry.dryRunId!, ORG_ID)).rejects.toThrow(/No succeeded dry run/);
    expect(inputs).toHaveLength(2);
  });

  it('offers no real run after a failed dry run', async () => {
    const { restore } = runner('FAILED');
    const dry = await restore.dryRun(INPUT, 'revert-changes');
    expect(dry.dryRunId).toBeNull();
  });

  it('refuses a dry run without a writing mode for the real run, and an input the console would refuse', async () => {
    const { restore, inputs } = runner();
    await expect(restore.dryRun(INPUT, 'dry-run')).rejects.toThrow(/realMode is "dry-run"/);
    await expect(restore.dryRun({ ...INPUT, objects: ['not an object'] }, 'full')).rejects.toThrow(
      /object API name/,
    );
    expect(inputs).toEqual([]);
  });

  it('keeps the dry run usable when the org id is mistyped', async () => {
    const { restore, inputs } = runner();
    const dry = await restore.dryRun(INPUT, 'restore-deleted');
    await expect(restore.run(dry.dryRunId!, 'acme')).rejects.toThrow(/"acme" is not an org id/);
    expect((await restore.run(dry.dryRunId!, ORG_ID)).status).toBe('SUCCEEDED');
    expect(inputs.map((i) => i.mode)).toEqual(['dry-run', 'restore-deleted']);
  });

  it('accepts the confirming org id in any case, 15 or 18 characters', async () => {
    const { restore, inputs } = runner();
    for (const typed of [ORG_ID.toLowerCase(), ORG_ID.slice(0, 15), ` ${ORG_ID.toUpperCase()} `]) {
      const dry = await restore.dryRun(INPUT, 'restore-deleted');
      expect((await restore.run(dry.dryRunId!, typed)).status).toBe('SUCCEEDED');
      expect(inputs.at(-1)?.confirmOrgId).toBe(typed.trim());
    }
  });

  it('refuses at the dry run an input whose snapshot the real run could resolve to another one', async () => {
    const { restore, inputs } = runner();
    const { snapshot: _, ...unnamed } = INPUT;
    for (const input of [
      unnamed,
      { ...INPUT, snapshot: 'latest' },
      { ...INPUT, snapshot: '2026-01-02T00:00:00Z' },
      { ...unnamed, pointInTime: '2026-01-02T00:00:00Z' },
    ]) {
      await expect(restore.dryRun(input, 'full')).rejects.toThrow(
        /which the real run would resolve again.*name the snapshot by its id/,
      );
    }
    await expect(
      restore.dryRun({ ...INPUT, snapshot: '20260102T000000000Z-bbbbbb' }, 'full'),
    ).rejects.toThrow('Org acme has no complete snapshot 20260102T000000000Z-bbbbbb in this vault');
    expect(inputs).toEqual([]);
  });

  it("runs for real exactly the dry run's input, whatever the caller does to its own copy since", async () => {
    const { restore, inputs } = runner();
    const raw = { ...INPUT, objects: ['Account'], records: ['001000000000001AAA'] };
    const dry = await restore.dryRun(raw, 'restore-deleted');
    raw.objects.push('Contact');
    raw.records[0] = '001000000000002AAA';
    raw.snapshot = 'latest';
    await restore.run(dry.dryRunId!, ORG_ID);
    const [dryInput, realInput] = inputs;
    expect(realInput).toEqual({ ...dryInput, mode: 'restore-deleted', confirmOrgId: ORG_ID });
    expect(realInput).toEqual({ ...INPUT, mode: 'restore-deleted', confirmOrgId: ORG_ID });
  });
});
