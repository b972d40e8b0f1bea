import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { Org } from '../../emulator/org/org.ts';
import { backup, freshStoreDir, nextSecond, snapshotRows } from './e2e-support.ts';

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
