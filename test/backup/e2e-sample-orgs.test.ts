import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import {
  apiCallsUsed,
  backup,
  dumpRows,
  expectLatestRowsEqualOrg,
  FIXTURES,
  freshStoreDir,
  latest,
  nextSecond,
  snapshotRows,
  startSampleOrg,
} from './e2e-support.ts';

/** Metadata file names a project's source maps to in a Metadata API zip. */
function expectedMetadataFiles(project: string): string[] {
  const root = join(FIXTURES, project, 'force-app', 'main', 'default');
  const out: string[] = [];
  for (const dir of readdirSync(root)) {
    for (const entry of readdirSync(join(root, dir))) {
      if (dir === 'objects') out.push(`objects/${entry}.object`);
      else if (entry.endsWith('-meta.xml')) out.push(`${dir}/${entry.replace(/-meta\.xml$/, '')}`);
    }
  }
  return out;
}

describe.each(['dreamhouse-lwc', 'ebikes-lwc'])('backing up the %s sample org end to end', (project) => {
  let emu: RunningEmulator;
  const dir = freshStoreDir();
  let fileId = '';

  beforeAll(async () => {
    emu = await startSampleOrg(project);
    const account = emu.org.insert('Account', { Name: 'Files, "Quoted" & Co' });
    fileId = emu.org.insert('ContentVersion', {
      Title: 'contract',
      PathOnClient: 'contract.txt',
      VersionData: Buffer.from('the signed contract, version 1').toString('base64'),
      FirstPublishLocationId: account,
    });
    emu.org.insert('Attachment', {
      Name: 'note.txt',
      ParentId: account,
      Body: Buffer.from('an attachment body').toString('base64'),
    });
    emu.org.insert('Document', {
      Name: 'logo.png',
      FolderId: emu.org.user.id,
      Type: 'png',
      Body: Buffer.from('document body bytes').toString('base64'),
    });
    // Rows loaded above must fall in an earlier second than the full run's watermark.
    await nextSecond();
  });

  afterAll(async () => {
    await emu?.stop();
  });

  it('takes a full snapshot whose rows, files and metadata match the org exactly', async () => {
    const { summary } = await backup(emu, dir, 'full');
    expect(summary.status).toBe('complete');
    expect(summary.problems).toEqual([]);
    expect(summary.execution.withinLimits).toBe(true);

    const pit = await latest(dir);
    await expectLatestRowsEqualOrg(emu, dir);
    const planned = pit.objectNames();
    expect(planned).toContain(project === 'dreamhouse-lwc' ? 'Property__c' : 'Product__c');

    const files = await pit.files();
    const version = files.find((f) => f.recordId === fileId)!;
    expect(version.downloaded).toBe(true);
    expect(Buffer.from(await pit.readFile(version)).toString()).toBe('the signed contract, version 1');
    expect(files.map((f) => f.object).sort()).toEqual(['Attachment', 'ContentVersion', 'Document']);
    for (const file of files) {
      const body = emu.org.getBlob(file.object, file.recordId, file.field);
      expect(file.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    }

    const zipped = new Set<string>();
    for (const part of pit.metadataParts()) {
      for (const name of Object.keys(unzipSync(await pit.readMetadataPart(part))))
        zipped.add(name.replace(/^unpackaged\//, ''));
    }
    const expected = expectedMetadataFiles(project);
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.filter((name) => !zipped.has(name))).toEqual([]);
  });

  it('takes an incremental snapshot holding exactly the rows edited and deleted since, and no file body again', async () => {
    const blobsBefore = (await apiCallsUsed(emu)).byEndpoint.blob ?? 0;
    await nextSecond();
    const dumpBefore = await dumpRows(emu);
    const object = project === 'dreamhouse-lwc' ? 'Property__c' : 'Product__c';
    const ids = [...dumpBefore.get(object)!.keys()];
    emu.org.update(object, ids[0]!, { Name: 'Renamed, with "quotes"\nand a newline' });
    emu.org.delete([ids[1]!]);
    emu.org.update('ContentVersion', fileId, { Title: 'contract (renamed)' });
    // SOQL compares whole seconds: edits in the second the next run starts would be taken again by the run after.
    await nextSecond();

    const { summary, sns } = await backup(emu, dir, 'incremental');
    expect(summary.status).toBe('complete');
    expect(summary.mode).toBe('incremental');
    // One delete and one edit of a handful of rows are counted by kind, and are too few to alert.
    expect(sns).toEqual([]);

    const pit = await latest(dir);
    const manifest = pit.target;
    const exported = manifest.objects.filter((o) => o.status === 'exported');
    // ContentDocumentLink keeps no delete log, so every run reads it whole.
    expect(exported.map((o) => o.name).sort()).toEqual(
      ['ContentDocumentLink', 'ContentVersion', object].sort(),
    );
    const entry = exported.find((o) => o.name === object)!;
    expect(entry.rows).toBe(2);
    expect(entry.deletedRows).toBe(1);
    expect(entry.changes).toEqual({
      inserted: 0,
      updated: 1,
      deleted: 1,
      undeleted: 0,
      hardDeleted: 0,
      restored: 0,
    });

    const rows = await snapshotRows(dir, object);
    expect(rows.get(ids[0]!)?.Name).toBe('Renamed, with "quotes"\nand a newline');
    expect(rows.get(ids[1]!)?.IsDeleted).toBe('true');
    expect(rows.size).toBe(ids.length);
    expect((await pit.files()).find((f) => f.recordId === fileId)?.downloaded).toBe(false);
    expect((await apiCallsUsed(emu)).byEndpoint.blob ?? 0).toBe(blobsBefore);
  });

  it('spends only a handful of API calls on an incremental of an unchanged org', async () => {
    await nextSecond();
    const before = (await apiCallsUsed(emu)).used;
    const { summary } = await backup(emu, dir, 'incremental');
    expect(summary.status).toBe('complete');
    const spent = (await apiCallsUsed(emu)).used - before;
    // Every object found unchanged but ContentDocumentLink, which keeps no delete log and is read
    // whole on every run so that a removed link leaves the snapshot.
    const links = emu.org.query('SELECT COUNT() FROM ContentDocumentLink').totalSize();
    expect(links).toBeGreaterThan(0);
    expect(summary.rows).toBe(links);
    // identity (uncounted), limits, describeGlobal, one Composite call of counts and one of delete
    // logs, ContentDocumentLink's parent ids and one query of its links.
    expect(spent).toBeLessThanOrEqual(7);
    // The run's own count also has the identity call, which the org does not count against its allowance.
    expect(summary.apiCalls).toBeLessThanOrEqual(spent + 1);
  });
});
