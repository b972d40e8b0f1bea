import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { nextSecond } from '../backup/e2e-support.ts';
import {
  backup,
  freshStoreDir,
  ids,
  orgState,
  restore,
  SAMPLES,
  softDelete,
  startSampleOrg,
  update,
} from './e2e-support.ts';

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

describe.each(SAMPLES)('point-in-time restore of the $org sample org', (sample) => {
  it('undoes corruption spread over several incremental runs by restoring to before it began', async () => {
    emu = await startSampleOrg(sample.org);
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    const objects = [sample.parent, sample.child];
    const before = await orgState(emu, objects);
    await nextSecond();
    const beforeCorruption = new Date().toISOString();
    await nextSecond();

    // Day 1: a faulty integration rewrites a field on some children; the nightly incremental captures it.
    const children = await ids(emu, sample.child);
    await update(
      emu,
      sample.child,
      children.slice(0, 4).map((Id) => ({ Id, [sample.blanked[0]]: 'corrupted by the integration' })),
    );
    await nextSecond();
    expect((await backup(emu, dir, 'incremental')).summary.status).toBe('complete');
    // Day 2: it spreads: more rows rewritten, a parent deleted; the next incremental captures that too.
    await update(
      emu,
      sample.child,
      children.slice(4).map((Id) => ({ Id, [sample.blanked[0]]: 'corrupted again' })),
    );
    const [parent] = await ids(emu, sample.parent);
    await softDelete(emu, [parent!]);
    await nextSecond();
    expect((await backup(emu, dir, 'incremental')).summary.status).toBe('complete');

    // Restoring "latest" would bring the corruption back: the plan has nothing to revert.
    const latest = await restore(emu, dir, { snapshot: 'latest', objects });
    expect(latest.summary.message).toContain('0 to update');

    const done = await restore(emu, dir, {
      snapshot: beforeCorruption,
      objects,
      mode: 'full',
      confirmOrgId: emu.orgId,
    });
    expect(done.summary.status).toBe('SUCCEEDED');
    expect(await orgState(emu, objects)).toEqual(before);
  });
});
