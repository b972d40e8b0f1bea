import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { backup, freshStoreDir, hardDelete, ids, orgState, restore, startSampleOrg } from './e2e-support.ts';

const running: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

describe('objects of one restore level', () => {
  it('are restored by concurrent child executions of the level map', async () => {
    const emu = await startSampleOrg('dreamhouse-lwc');
    running.push(emu);
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const objects = ['Broker__c', 'Account'];
    const before = await orgState(emu, objects);
    await hardDelete(emu, [
      ...(await ids(emu, 'Broker__c')).slice(0, 2),
      ...(await ids(emu, 'Account')).slice(0, 2),
    ]);
    let inFlight = 0;
    let most = 0;
    const executions = new Set<string>();
    const done = await restore(
      emu,
      dir,
      { objects, mode: 'restore-deleted', confirmOrgId: emu.orgId },
      {
        onTask: (step) => {
          if (step.state !== 'RestoreLevelObject') return;
          if (step.phase === 'before') {
            executions.add(step.execution);
            inFlight += 1;
            most = Math.max(most, inFlight);
          } else inFlight -= 1;
        },
      },
    );
    expect(done.summary.status).toBe('SUCCEEDED');
    // Both objects sit on the first level (neither refers to the other): two child executions, at once.
    expect(executions.size).toBe(2);
    expect(most).toBe(2);
    expect(await orgState(emu, objects)).toEqual(before);
  });
});
