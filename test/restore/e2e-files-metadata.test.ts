import { createHash } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { MetadataService } from '../../emulator/metadata/service.ts';
import { SalesforceWriter } from '../../lambdas/adapters/salesforce/writer.ts';
import {
  api,
  backup,
  freshStoreDir,
  hardDelete,
  ids,
  restore,
  SAMPLES,
  startSampleOrg,
} from './e2e-support.ts';

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

const LAYOUTS: Record<string, string> = {
  'dreamhouse-lwc': 'Broker__c-Broker Layout',
  'ebikes-lwc': 'Product__c-Product Layout',
};

function components(e: RunningEmulator): string[] {
  return (e.server.metadata as unknown as MetadataService).components().map((c) => `${c.type}:${c.fullName}`);
}

describe.each(SAMPLES)('files and metadata of the $org sample org', (sample) => {
  it('brings back deleted files as new versions shared with their records', async () => {
    emu = await startSampleOrg(sample.org);
    const [parent] = await ids(emu, sample.parent);
    const bytes = Buffer.from(`contract for ${sample.org}\n${'x'.repeat(2000)}`);
    const created = await api<{ id: string }>(emu, 'POST', '/sobjects/ContentVersion', {
      Title: 'Signed contract',
      PathOnClient: 'contract.txt',
      VersionData: bytes.toString('base64'),
      FirstPublishLocationId: parent,
    });
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    const version = await api<{ ContentDocumentId: string }>(
      emu,
      'GET',
      `/sobjects/ContentVersion/${created.id}`,
    );
    await hardDelete(emu, [version.ContentDocumentId]);
    expect(await ids(emu, 'ContentVersion', "Title = 'Signed contract'")).toEqual([]);

    const dry = await restore(emu, dir, { objects: [sample.parent] });
    expect(dry.summary.message).toContain('1 to make again');
    const done = await restore(emu, dir, {
      objects: [sample.parent],
      mode: 'restore-deleted',
      confirmOrgId: emu.orgId,
    });
    expect(done.summary.status).toBe('SUCCEEDED');
    const [restored] = await ids(emu, 'ContentVersion', "Title = 'Signed contract'");
    const row = await api<{ Checksum: string; FirstPublishLocationId: string; PathOnClient: string }>(
      emu,
      'GET',
      `/sobjects/ContentVersion/${restored}`,
    );
    expect(row.Checksum).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(row.FirstPublishLocationId.slice(0, 15)).toBe(parent!.slice(0, 15));
    expect(row.PathOnClient).toBe('contract.txt');

    // Running it again uploads nothing twice.
    await restore(emu, dir, { objects: [sample.parent], mode: 'restore-deleted', confirmOrgId: emu.orgId });
    expect(await ids(emu, 'ContentVersion', "Title = 'Signed contract'")).toHaveLength(1);
  });

  it('brings back a deleted metadata component by a deploy validated first', async () => {
    emu = await startSampleOrg(sample.org);
    const layout = `Layout:${LAYOUTS[sample.org]}`;
    expect(components(emu)).toContain(layout);
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    const writer = new SalesforceWriter(
      { kind: 'access-token', instanceUrl: emu.instanceUrl, accessToken: emu.accessToken },
      '62.0',
    );
    const destructive = zipSync({
      'package.xml': strToU8(
        '<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><version>62.0</version></Package>',
      ),
      'destructiveChanges.xml': strToU8(
        `<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>${LAYOUTS[sample.org]}</members><name>Layout</name></types><version>62.0</version></Package>`,
      ),
    });
    const id = await writer.deploy(destructive, false);
    for (let i = 0; i < 50 && !(await writer.deployStatus(id)).done; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(components(emu)).not.toContain(layout);

    const dry = await restore(emu, dir, { metadata: [layout] });
    expect(dry.summary.message).toContain(`1 component(s) to deploy, validated first (checkOnly): ${layout}`);
    expect(dry.summary.message).toContain(
      `The metadata validation (checkOnly) passed for ${layout}; nothing was saved.`,
    );
    expect(components(emu)).not.toContain(layout);
    const done = await restore(emu, dir, { metadata: [layout], mode: 'full', confirmOrgId: emu.orgId });
    expect(done.summary.status, done.summary.message).toBe('SUCCEEDED');
    expect(components(emu)).toContain(layout);
    expect(done.summary.message).toContain(
      `Metadata deployed and read back equal to the snapshot: ${layout}.`,
    );
  });

  it('names an unknown metadata component in the input and deploys nothing', async () => {
    emu = await startSampleOrg(sample.org);
    const dir = freshStoreDir();
    await backup(emu, dir, 'full');
    const refused = await restore(emu, dir, {
      metadata: ['Layout:No Such Layout'],
      mode: 'full',
      confirmOrgId: emu.orgId,
    });
    expect(refused.summary.status).toBe('FAILED');
    expect(refused.summary.error).toBe('InvalidRestoreRequestError');
    expect(refused.summary.message).toContain('holds no metadata component "Layout:No Such Layout"');
  });
});
