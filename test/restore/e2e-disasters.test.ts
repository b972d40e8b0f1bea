import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import {
  backup,
  freshStoreDir,
  hardDelete,
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

describe.each(SAMPLES)('restore of the $org sample org', (sample) => {
  const objects = [sample.parent, sample.child];

  it('brings back a soft mass delete and re-links the children whose lookups were cleared', async () => {
    emu = await startSampleOrg(sample.org);
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    const before = await orgState(emu, objects);
    const parents = await ids(emu, sample.parent);
    await softDelete(emu, parents);
    expect(await ids(emu, sample.child, `${sample.lookup} != null`)).toEqual([]);

    const dry = await restore(emu, dir, { objects: [sample.parent], includeChildren: true });
    expect(dry.summary.status).toBe('SUCCEEDED');
    expect(dry.summary.message).toContain(`${parents.length} to undelete`);
    expect(await ids(emu, sample.parent)).toEqual([]);

    const done = await restore(emu, dir, {
      objects: [sample.parent],
      includeChildren: true,
      mode: 'restore-deleted',
      confirmOrgId: emu.orgId,
    });
    expect(done.summary.status).toBe('SUCCEEDED');
    expect(done.summary.message).toContain('Verified');
    expect(done.summary.message).toContain('Not restorable');
    expect((await ids(emu, sample.parent)).sort()).toEqual([...parents].sort());
    expect(await orgState(emu, objects)).toEqual(before);
  });

  it('inserts hard-deleted rows under new ids and re-links every child to them', async () => {
    emu = await startSampleOrg(sample.org);
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    const before = await orgState(emu, objects);
    const parents = await ids(emu, sample.parent);
    const children = await ids(emu, sample.child);
    await hardDelete(emu, [...parents, ...children.slice(0, 3)]);

    const done = await restore(emu, dir, {
      objects: [sample.parent],
      includeChildren: true,
      mode: 'full',
      confirmOrgId: emu.orgId,
    });
    expect(done.summary.status).toBe('SUCCEEDED');
    const now = await ids(emu, sample.parent);
    expect(now).toHaveLength(parents.length);
    expect(now.some((id) => parents.includes(id))).toBe(false);
    expect(await orgState(emu, objects)).toEqual(before);

    // A second run finds nothing left to do and inserts nothing twice.
    const again = await restore(emu, dir, {
      objects: [sample.parent],
      includeChildren: true,
      mode: 'full',
      confirmOrgId: emu.orgId,
    });
    expect(again.summary.status).toBe('SUCCEEDED');
    expect(await ids(emu, sample.parent)).toHaveLength(parents.length);
    expect(await orgState(emu, objects)).toEqual(before);
  });

  it('reverts only the fields a bad import blanked', async () => {
    emu = await startSampleOrg(sample.org);
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    const before = await orgState(emu, objects);
    const children = await ids(emu, sample.child);
    await update(
      emu,
      sample.child,
      children.map((Id) => ({ Id, ...Object.fromEntries(sample.blanked.map((f) => [f, null])) })),
    );
    expect(await orgState(emu, objects)).not.toEqual(before);

    const done = await restore(emu, dir, {
      objects: [sample.child],
      fields: [...sample.blanked],
      mode: 'revert-changes',
      confirmOrgId: emu.orgId,
    });
    expect(done.summary.status).toBe('SUCCEEDED');
    expect(await orgState(emu, objects)).toEqual(before);
  });

  it('rejects a write to another org than the one confirmed, writing nothing', async () => {
    emu = await startSampleOrg(sample.org);
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const parents = await ids(emu, sample.parent);
    await softDelete(emu, parents);
    const written = async () =>
      ((await (await fetch(`${emu!.instanceUrl}/__emulator/counts`)).json()) as { rowsWritten: unknown })
        .rowsWritten;
    const writesBefore = await written();
    const refused = await restore(emu, dir, {
      objects: [sample.parent],
      mode: 'full',
      confirmOrgId: '00D000000000000AAA',
    });
    expect(refused.summary.status).toBe('FAILED');
    expect(refused.summary.error).toBe('InvalidRestoreRequestError');
    expect(refused.summary.message).toContain('confirmOrgId');
    expect(await ids(emu, sample.parent)).toEqual([]);
    expect(await written()).toEqual(writesBefore);
  });
});
