import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { Org } from '../../emulator/org/org.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { backup, freshStoreDir, nextSecond, snapshotRows } from './e2e-support.ts';

async function keysUnder(dir: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of new LocalDirectoryStore(dir).list(prefix)) keys.push(entry.key);
  return keys;
}

const DOCUMENTS = 3_000;

// An org with thousands of files: ContentDocumentLink is read per batch of ContentDocument ids, and
// each batch's query must fit the URL Salesforce accepts (16,384 bytes with the headers; the
// emulator answers 414 or 431 past it, as Salesforce does).
describe('backing up the links of thousands of files', () => {
  let emu: RunningEmulator;
  let links: string[];
  beforeAll(async () => {
    emu = await startEmulator({ catalog: 'production' });
    const org = emu.org;
    if (!(org instanceof Org)) throw new Error('the emulator runs an Org: its loadRows loads rows fast');
    const accounts = org.loadRows(
      'Account',
      ['Name'],
      Array.from({ length: 100 }, (_, i) => [`Account ${i}`]),
    );
    const documents = org.loadRows(
      'ContentDocument',
      ['Title'],
      Array.from({ length: DOCUMENTS }, (_, i) => [`file ${i}`]),
    );
    links = org.loadRows(
      'ContentDocumentLink',
      ['ContentDocumentId', 'LinkedEntityId', 'ShareType', 'Visibility'],
      documents.map((document, i) => [document, accounts[i % accounts.length], 'V', 'AllUsers']),
    );
    // Rows loaded above must fall in an earlier second than the full run's watermark.
    await nextSecond();
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('holds every ContentDocumentLink row, read by batches whose queries fit a REST URL', async () => {
    const dir = freshStoreDir();
    const { summary } = await backup(emu, dir, 'full', {
      includeObjects: ['Account', 'ContentDocument', 'ContentDocumentLink'],
    });
    expect(summary.problems).toEqual([]);
    expect(summary.status).toBe('complete');
    const rows = await snapshotRows(dir, 'ContentDocumentLink');
    expect(rows.size).toBe(DOCUMENTS);
    expect([...rows.keys()].sort()).toEqual([...links].sort());
  }, 300_000);
});

// ContentDocumentLink keeps no delete log and a deleted link is gone at once (it has no undelete):
// an incremental must still see a link removed since the full run, and one added to an old file.
describe('backing up the links of files incrementally', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({});
  });
  afterAll(async () => {
    await emu?.stop();
  });

  const live = async (dir: string) =>
    [...(await snapshotRows(dir, 'ContentDocumentLink')).values()]
      .filter((r) => r.IsDeleted !== 'true')
      .map((r) => [r.ContentDocumentId, r.LinkedEntityId, r.ShareType, r.Visibility].join(' '))
      .sort();
  const orgLinks = (documents: string[]) =>
    [
      ...emu.org
        .query(
          `SELECT ContentDocumentId, LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink WHERE ContentDocumentId IN ('${documents.join("','")}')`,
        )
        .records(),
    ]
      .map((r) => [r.ContentDocumentId, r.LinkedEntityId, r.ShareType, r.Visibility].join(' '))
      .sort();

  it('holds every link with its ShareType and Visibility after a full run and after an incremental that added and removed links', async () => {
    const org = emu.org;
    const account = org.insert('Account', { Name: 'Linked' });
    const contact = org.insert('Contact', { LastName: 'Linked' });
    const file = (title: string) => {
      const version = org.insert('ContentVersion', {
        Title: title,
        PathOnClient: `${title}.txt`,
        VersionData: Buffer.from(title).toString('base64'),
        FirstPublishLocationId: account,
      });
      return org.retrieve('ContentVersion', version).ContentDocumentId as string;
    };
    const oldDoc = file('old');
    const otherDoc = file('other');
    const removed = org.insert('ContentDocumentLink', {
      ContentDocumentId: otherDoc,
      LinkedEntityId: contact,
      ShareType: 'C',
      Visibility: 'InternalUsers',
    });
    await nextSecond();
    const dir = freshStoreDir();
    // Run under the synthesized policies: the files step stores bodies and index entries, the
    // finish its catalog entry and pointer, every step its heartbeat, each as only a backup may.
    const objects = ['Account', 'Contact', 'ContentDocument', 'ContentVersion', 'ContentDocumentLink'];
    const full = await backup(emu, dir, 'full', { includeObjects: objects }, undefined, {
      enforcePolicies: true,
    });
    expect(full.summary.status).toBe('complete');
    const stored = (await keysUnder(dir, 'orgs/sample/')).map((k) => k.split('/').slice(2, 4).join('/'));
    expect(new Set(stored)).toEqual(
      new Set([
        `catalog/${full.summary.snapshotId}.json`,
        'files/sha256',
        'files/index',
        'latest-complete.json',
        'lease/backups',
        `snapshots/${full.summary.snapshotId}`,
      ]),
    );
    expect(await live(dir)).toEqual(orgLinks([oldDoc, otherDoc]));
    expect(await live(dir)).toContain(`${otherDoc} ${contact} C InternalUsers`);

    await nextSecond();
    org.insert('ContentDocumentLink', {
      ContentDocumentId: oldDoc,
      LinkedEntityId: contact,
      ShareType: 'V',
      Visibility: 'AllUsers',
    });
    expect(org.delete([removed])[0]?.success).toBe(true);
    await nextSecond();
    const incremental = await backup(emu, dir, 'incremental', { includeObjects: objects }, undefined, {
      enforcePolicies: true,
    });
    expect(incremental.summary.status).toBe('complete');
    const after = await live(dir);
    expect(after).toEqual(orgLinks([oldDoc, otherDoc]));
    expect(after).toContain(`${oldDoc} ${contact} V AllUsers`);
    expect(after).not.toContain(`${otherDoc} ${contact} C InternalUsers`);
  }, 120_000);
});
