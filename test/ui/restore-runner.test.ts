import { describe, expect, it } from 'vitest';
import type { LocalRestoreOptions, RestoreSummary } from '../../cli/commands/restore.ts';
import { RestoreRunner } from '../../cli/ui/restore-runner.ts';

const ORG_ID = '00D5g0000012345EAA';

/** A runner whose restores are recorded and answer `status`. */
function runner(status: RestoreSummary['status'] = 'SUCCEEDED') {
  const inputs: Record<string, unknown>[] = [];
  const restore = new RestoreRunner({
    connection: { instanceUrl: 'http://127.0.0.1:1', accessToken: 't' },
    store: '/vault',
    org: 'acme',
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

const INPUT = { snapshot: 'latest', objects: ['Account'], records: ['001000000000001AAA'], mode: 'dry-run' };

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
});
