import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { backup, freshStoreDir, hardDelete, ids, restore, startSampleOrg } from './e2e-support.ts';

const running: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function rowsWritten(emu: RunningEmulator): Promise<unknown> {
  const counts = (await (await fetch(`${emu.instanceUrl}/__emulator/counts`)).json()) as {
    rowsWritten: unknown;
  };
  return counts.rowsWritten;
}

function partsOf(dir: string, object: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.includes(`/objects/${object}/part-`) && f.endsWith('.csv.gz'))
    .map((f) => join(dir, f));
}

describe('a restore from a part changed after the backup', () => {
  it('fails before writing anything, naming the part', async () => {
    // GIVEN a backup whose Property__c part was edited in the vault afterwards
    const emu = await startSampleOrg('dreamhouse-lwc');
    running.push(emu);
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const properties = await ids(emu, 'Property__c');
    await hardDelete(emu, properties.slice(0, 3));
    const [part] = partsOf(dir, 'Property__c');
    expect(part).toBeDefined();
    const records = parse(gunzipSync(readFileSync(part!)), { columns: false }) as string[][];
    const name = records[0]!.indexOf('Name');
    // The edit keeps the CSV well-formed: every row's name is replaced by another text.
    for (const record of records.slice(1)) record[name] = 'TAMPERED';
    const csv = records.map((r) => r.map((v) => `"${v.replaceAll('"', '""')}"`).join(',')).join('\n');
    writeFileSync(part!, gzipSync(`${csv}\n`));
    const countsBefore = await rowsWritten(emu);

    // WHEN the deleted properties are restored from it
    const done = await restore(emu, dir, {
      objects: ['Property__c'],
      mode: 'restore-deleted',
      confirmOrgId: emu.orgId,
    });

    // THEN the restore fails naming the part, and the org is as it was
    expect(done.summary.status).toBe('FAILED');
    expect(done.summary.error).toBe('SnapshotCorruptError');
    expect(done.summary.message).toContain(relative(dir, part!));
    expect(await rowsWritten(emu)).toEqual(countsBefore);
    expect(await ids(emu, 'Property__c')).toHaveLength(properties.length - 3);
    const names = await (await fetch(`${emu.instanceUrl}/__emulator/dump`)).text();
    expect(names).not.toContain('TAMPERED');
  });
});
