import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { api, backup, freshStoreDir, hardDelete, ids, restore, startSampleOrg } from './e2e-support.ts';

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

const ORIGINAL = {
  CreatedDate: '2019-03-04T05:06:07.000Z',
  LastModifiedDate: '2020-08-09T10:11:12.000Z',
};

async function setAuditOnCreate(e: RunningEmulator, on: boolean): Promise<void> {
  const response = await fetch(`${e.instanceUrl}/__emulator/settings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ setAuditFieldsOnCreate: on }),
  });
  if (!response.ok) throw new Error(`settings: ${response.status} ${await response.text()}`);
}

interface Audit {
  Id: string;
  Name: string;
  CreatedDate: string;
  CreatedById: string;
  LastModifiedDate: string;
  LastModifiedById: string;
}

async function brokers(e: RunningEmulator): Promise<Audit[]> {
  const q = 'SELECT Id, Name, CreatedDate, CreatedById, LastModifiedDate, LastModifiedById FROM Broker__c';
  const page = await api<{ records: Audit[] }>(e, 'GET', `/query?q=${encodeURIComponent(q)}`);
  return page.records.map(({ Id, Name, CreatedDate, CreatedById, LastModifiedDate, LastModifiedById }) => ({
    Id,
    Name,
    CreatedDate,
    CreatedById,
    LastModifiedDate,
    LastModifiedById,
  }));
}

/**
 * A broker created long ago by another user, so a restore that let Salesforce stamp the audit
 * fields could not pass for one that put the originals back.
 */
async function seedOldBroker(e: RunningEmulator): Promise<{ id: string; creator: string }> {
  const users = await api<{ records: { Id: string }[] }>(
    e,
    'GET',
    `/query?q=${encodeURIComponent('SELECT Id FROM User')}`,
  );
  const me = await api<{ user_id: string }>(e, 'GET', '/chatter/users/me').catch(() => undefined);
  const creator = users.records.map((u) => u.Id).find((u) => u !== me?.user_id) ?? users.records[0]!.Id;
  await setAuditOnCreate(e, true);
  const created = await api<{ id: string }>(e, 'POST', '/sobjects/Broker__c', {
    Name: 'Audit Broker',
    ...ORIGINAL,
    CreatedById: creator,
    LastModifiedById: creator,
  });
  await setAuditOnCreate(e, false);
  return { id: created.id, creator };
}

describe('audit fields of hard-deleted rows', () => {
  it('puts back the original created and last-modified date and user when the org lets the restore set them', async () => {
    emu = await startSampleOrg('dreamhouse-lwc');
    const { creator } = await seedOldBroker(emu);
    const before = (await brokers(emu)).sort((a, b) => a.Name.localeCompare(b.Name));
    expect(before.find((b) => b.Name === 'Audit Broker')?.CreatedDate.slice(0, 19)).toBe(
      '2019-03-04T05:06:07',
    );
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    const parents = await ids(emu, 'Broker__c');
    await hardDelete(emu, parents);
    await setAuditOnCreate(emu, true);

    const dry = await restore(emu, dir, { objects: ['Broker__c'] });
    expect(dry.summary.error ?? '', dry.summary.message).toBe('');
    expect(dry.summary.status).toBe('SUCCEEDED');
    expect(dry.summary.message).toContain(
      'cannot restore CreatedDate, CreatedById, LastModifiedDate, LastModifiedById: audit field: set on inserted rows only',
    );
    expect(dry.summary.message).not.toContain('does not grant');

    const done = await restore(emu, dir, { objects: ['Broker__c'], mode: 'full', confirmOrgId: emu.orgId });
    expect(done.summary.status).toBe('SUCCEEDED');
    const after = (await brokers(emu)).sort((a, b) => a.Name.localeCompare(b.Name));
    expect(after.some((b) => parents.includes(b.Id))).toBe(false);
    const strip = (rows: Audit[]) =>
      rows.map(({ Id: _id, ...rest }) => ({
        ...rest,
        CreatedDate: Date.parse(rest.CreatedDate.replace(/\+0000$/, 'Z')),
        LastModifiedDate: Date.parse(rest.LastModifiedDate.replace(/\+0000$/, 'Z')),
        CreatedById: rest.CreatedById.slice(0, 15),
        LastModifiedById: rest.LastModifiedById.slice(0, 15),
      }));
    expect(strip(after)).toEqual(strip(before));
    const old = after.find((b) => b.Name === 'Audit Broker')!;
    expect(old.CreatedById.slice(0, 15)).toBe(creator.slice(0, 15));
  });

  it('names the audit fields as not restorable and stamps the inserted rows anew when the org does not', async () => {
    emu = await startSampleOrg('dreamhouse-lwc');
    await seedOldBroker(emu);
    const dir = freshStoreDir();
    expect((await backup(emu, dir, 'full')).summary.status).toBe('complete');
    await hardDelete(emu, await ids(emu, 'Broker__c'));

    const dry = await restore(emu, dir, { objects: ['Broker__c'] });
    expect(dry.summary.message).toMatch(
      /cannot restore[^\n]*CreatedDate[^\n]*Set Audit Fields upon Record Creation/,
    );
    const done = await restore(emu, dir, { objects: ['Broker__c'], mode: 'full', confirmOrgId: emu.orgId });
    expect(done.summary.status).toBe('SUCCEEDED');
    expect(done.summary.message).toContain('Broker__c.CreatedDate, Broker__c.CreatedById');
    const old = (await brokers(emu)).find((b) => b.Name === 'Audit Broker')!;
    expect(old.CreatedDate.startsWith('2019')).toBe(false);
  });
});
