import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { emulatorControl } from '../backup/e2e-support.ts';
import { api, backup, freshStoreDir, hardDelete, ids, restore, startSampleOrg } from './e2e-support.ts';

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

async function body(e: RunningEmulator, object: string, id: string): Promise<string> {
  const response = await fetch(`${e.instanceUrl}/services/data/v62.0/sobjects/${object}/${id}/Body`, {
    headers: { authorization: `Bearer ${e.accessToken}` },
  });
  if (!response.ok) throw new Error(`GET ${object} body: ${response.status} ${await response.text()}`);
  return Buffer.from(await response.arrayBuffer()).toString('utf8');
}

describe('attachment and document bodies', () => {
  it('re-inserts a hard-deleted attachment with the body the backup kept', async () => {
    emu = await startSampleOrg('dreamhouse-lwc');
    const account = await api<{ id: string }>(emu, 'POST', '/sobjects/Account', { Name: 'Body Holder' });
    const text = 'signed terms, page 1 of 1';
    const created = await api<{ id: string }>(emu, 'POST', '/sobjects/Attachment', {
      ParentId: account.id,
      Name: 'terms.txt',
      ContentType: 'text/plain',
      Body: Buffer.from(text).toString('base64'),
    });
    const dir = freshStoreDir();
    const run = await backup(emu, dir, 'full');
    expect(run.summary.status).toBe('complete');
    await hardDelete(emu, [created.id]);
    expect(await ids(emu, 'Attachment')).toEqual([]);

    const done = await restore(emu, dir, { objects: ['Attachment'], mode: 'full', confirmOrgId: emu.orgId });
    expect(done.summary.status, done.summary.message).toBe('SUCCEEDED');
    const now = await ids(emu, 'Attachment');
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(created.id);
    expect(await body(emu, 'Attachment', now[0]!)).toBe(text);
  });

  it('re-inserts a hard-deleted document with its body, and the body of an undeleted one is its own', async () => {
    emu = await startSampleOrg('ebikes-lwc');
    // A document filed in a user's personal folder: the folder id is the user's id.
    const users = await api<{ records: { Id: string }[] }>(
      emu,
      'GET',
      `/query?q=${encodeURIComponent('SELECT Id FROM User')}`,
    );
    const me = { user_id: users.records[0]!.Id };
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 10, 13]);
    const gone = await api<{ id: string }>(emu, 'POST', '/sobjects/Document', {
      FolderId: me.user_id,
      Name: 'Price list',
      Body: bytes.toString('base64'),
    });
    const binned = await api<{ id: string }>(emu, 'POST', '/sobjects/Document', {
      FolderId: me.user_id,
      Name: 'Brochure',
      Body: Buffer.from('brochure').toString('base64'),
    });
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    await hardDelete(emu, [gone.id]);
    await api(emu, 'DELETE', `/sobjects/Document/${binned.id}`);

    const done = await restore(emu, dir, { objects: ['Document'], mode: 'full', confirmOrgId: emu.orgId });
    expect(done.summary.status, done.summary.message).toBe('SUCCEEDED');
    const rows = await api<{ records: { Id: string; Name: string }[] }>(
      emu,
      'GET',
      `/query?q=${encodeURIComponent('SELECT Id, Name FROM Document')}`,
    );
    const byName = new Map(rows.records.map((r) => [r.Name, r.Id]));
    expect(byName.get('Brochure')).toBe(binned.id);
    expect(await body(emu, 'Document', binned.id)).toBe('brochure');
    const back = byName.get('Price list');
    expect(back).toBeDefined();
    expect(back).not.toBe(gone.id);
    const response = await fetch(`${emu.instanceUrl}/services/data/v62.0/sobjects/Document/${back}/Body`, {
      headers: { authorization: `Bearer ${emu.accessToken}` },
    });
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('inserts no attachment twice when the answer to its insert is lost and the step is retried', async () => {
    emu = await startSampleOrg('dreamhouse-lwc');
    const account = await api<{ id: string }>(emu, 'POST', '/sobjects/Account', { Name: 'Body Holder' });
    const texts = ['first body', 'second body', 'third body, longer than the others'];
    const created: string[] = [];
    for (const [i, text] of texts.entries()) {
      const row = await api<{ id: string }>(emu, 'POST', '/sobjects/Attachment', {
        ParentId: account.id,
        Name: `page-${i}.txt`,
        ContentType: 'text/plain',
        Body: Buffer.from(text).toString('base64'),
      });
      created.push(row.id);
    }
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    await hardDelete(emu, created);
    // The org saves the attachments, then the connection drops before the answer arrives.
    await emulatorControl(emu, 'faults', { spec: 'collections:cut=5#1' });

    // Under the synthesized policies: the step that inserts the rows reads their bodies itself.
    const done = await restore(
      emu,
      dir,
      { objects: ['Attachment'], mode: 'full', confirmOrgId: emu.orgId },
      { enforcePolicies: true },
    );
    expect(done.summary.status, done.summary.message).toBe('SUCCEEDED');
    const now = await ids(emu, 'Attachment');
    expect(now).toHaveLength(3);
    expect((await Promise.all(now.map((id) => body(emu!, 'Attachment', id)))).sort()).toEqual(
      [...texts].sort(),
    );
    const store = new LocalDirectoryStore(dir);
    const sources: string[] = [];
    for await (const entry of store.list(`restores/sample/${emu.orgId}/id-map/Attachment/`)) {
      sources.push(
        (JSON.parse(Buffer.from(await store.get(entry.key)).toString()) as { source: string }).source,
      );
    }
    expect(sources).toEqual(['reconciled']);
  });
});
