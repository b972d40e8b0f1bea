import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { connect, failure, raw, start } from './server-support.ts';

describe('the emulator serves the REST API to jsforce', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await start();
  });
  afterAll(async () => emulator.stop());

  it('describes the org and its objects', async () => {
    const conn = connect(emulator);
    const global = await conn.describeGlobal();
    const names = global.sobjects.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['Account', 'Contact', 'ContentVersion', 'Attachment']));
    expect(global.sobjects.find((s) => s.name === 'Account')?.keyPrefix).toBe('001');
    const account = await conn.describe('Account');
    const owner = account.fields.find((f) => f.name === 'OwnerId');
    expect(owner?.type).toBe('reference');
    expect(owner?.referenceTo).toEqual(['User']);
    expect(owner?.relationshipName).toBe('Owner');
    const name = account.fields.find((f) => f.name === 'Name');
    expect(name).toMatchObject({ nillable: false, createable: true, updateable: true });
    expect(
      account.childRelationships.some((c) => c.childSObject === 'Contact' && c.field === 'AccountId'),
    ).toBe(true);
    const unknown = await failure(conn.describe('NoSuchObject__c'));
    expect(unknown.name).toBe('NOT_FOUND');
  });

  it('describes audit fields as createable only while "Set Audit Fields upon Record Creation" is on', async () => {
    const conn = connect(emulator);
    const createable = async () =>
      Object.fromEntries(
        (await conn.describe('Account')).fields
          .filter((f) =>
            ['CreatedDate', 'CreatedById', 'LastModifiedDate', 'SystemModstamp'].includes(f.name),
          )
          .map((f) => [f.name, f.createable]),
      );
    expect(await createable()).toEqual({
      CreatedDate: false,
      CreatedById: false,
      LastModifiedDate: false,
      SystemModstamp: false,
    });
    emulator.org.settings.setAuditFieldsOnCreate = true;
    try {
      expect(await createable()).toEqual({
        CreatedDate: true,
        CreatedById: true,
        LastModifiedDate: true,
        SystemModstamp: false,
      });
    } finally {
      emulator.org.settings.setAuditFieldsOnCreate = false;
    }
  });

  it('creates, reads, updates and deletes a record', async () => {
    const conn = connect(emulator);
    const created = await conn.sobject('Account').create({ Name: 'Acme, "Inc"', NumberOfEmployees: 12 });
    expect(created.success).toBe(true);
    const id = created.id as string;
    expect(id).toMatch(/^001[A-Za-z0-9]{15}$/);
    const read = (await conn.sobject('Account').retrieve(id)) as Record<string, unknown>;
    expect(read.Name).toBe('Acme, "Inc"');
    expect(read.CreatedById).toBe(emulator.org.user.id);
    expect(read.IsDeleted).toBe(false);
    await conn.sobject('Account').update({ Id: id, Name: 'Acme 2' });
    const some = await raw(
      emulator,
      `/services/data/v62.0/sobjects/Account/${id}?fields=Name,NumberOfEmployees`,
    );
    expect(some.json()).toMatchObject({ Name: 'Acme 2', NumberOfEmployees: 12 });
    await conn.sobject('Account').destroy(id);
    const gone = await failure(conn.sobject('Account').retrieve(id));
    expect(['ENTITY_IS_DELETED', 'NOT_FOUND']).toContain(gone.name);
  });

  it('answers validation errors with Salesforce error codes', async () => {
    const conn = connect(emulator);
    const missing = await raw(emulator, '/services/data/v62.0/sobjects/Account', {
      method: 'POST',
      body: '{}',
    });
    expect(missing.status).toBe(400);
    expect((missing.json() as { errorCode: string }[])[0]?.errorCode).toBe('REQUIRED_FIELD_MISSING');
    const badField = await failure(conn.sobject('Account').create({ Name: 'x', NoSuchField__c: 1 }));
    expect(badField.name).toBe('INVALID_FIELD');
    const badJson = await raw(emulator, '/services/data/v62.0/sobjects/Account', {
      method: 'POST',
      body: '{nope',
    });
    expect(badJson.status).toBe(400);
    expect((badJson.json() as { errorCode: string }[])[0]?.errorCode).toBe('JSON_PARSER_ERROR');
    const wrongMethod = await raw(emulator, '/services/data/v62.0/sobjects', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
  });

  it('upserts by external id and reads by it', async () => {
    const conn = connect(emulator);
    const first = await raw(emulator, '/services/data/v62.0/sobjects/Account/Id/001000000000000', {
      method: 'PATCH',
      body: JSON.stringify({ Name: 'x' }),
    });
    expect(first.status).toBeGreaterThanOrEqual(400);
    const account = await conn.sobject('Account').create({ Name: 'Upsert parent' });
    const result = await raw(emulator, `/services/data/v62.0/sobjects/Account/Id/${account.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ Name: 'Upserted' }),
    });
    expect(result.status).toBe(200);
    expect(result.json()).toMatchObject({ id: account.id, created: false, success: true });
    const read = await raw(emulator, `/services/data/v62.0/sobjects/Account/Id/${account.id}`);
    expect(read.json()).toMatchObject({ Name: 'Upserted' });
    const notExternal = await raw(emulator, '/services/data/v62.0/sobjects/Account/Name/whatever', {
      method: 'PATCH',
      body: JSON.stringify({ Name: 'x' }),
    });
    expect(notExternal.status).toBe(404);
  });

  it('stores a ContentVersion sent as base64 and serves its bytes and checksum', async () => {
    const conn = connect(emulator);
    const bytes = Buffer.from('hello, file \u00e9\n'.repeat(100));
    const created = await conn.sobject('ContentVersion').create({
      Title: 'hello',
      PathOnClient: 'hello.txt',
      VersionData: bytes.toString('base64'),
    });
    const id = created.id as string;
    const row = (await conn.sobject('ContentVersion').retrieve(id)) as Record<string, unknown>;
    expect(row.Checksum).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(row.VersionData).toBe(`/services/data/v62.0/sobjects/ContentVersion/${id}/VersionData`);
    const blob = await fetch(
      `${emulator.instanceUrl}/services/data/v62.0/sobjects/ContentVersion/${id}/VersionData`,
      {
        headers: { authorization: `Bearer ${emulator.accessToken}` },
      },
    );
    expect(blob.status).toBe(200);
    expect(Buffer.from(await blob.arrayBuffer()).equals(bytes)).toBe(true);
    const notBlob = await raw(emulator, `/services/data/v62.0/sobjects/ContentVersion/${id}/Title`);
    expect(notBlob.status).toBe(404);
  });

  it('inserts a ContentVersion sent as multipart/form-data with a binary part', async () => {
    const bytes = Buffer.from([0, 255, 13, 10, 45, 45, 1, 2, 3]);
    const form = new FormData();
    form.append(
      'entity_content',
      new Blob([JSON.stringify({ Title: 'binary', PathOnClient: 'b.bin' })], { type: 'application/json' }),
    );
    form.append('VersionData', new Blob([bytes], { type: 'application/octet-stream' }), 'b.bin');
    const response = await fetch(`${emulator.instanceUrl}/services/data/v62.0/sobjects/ContentVersion`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator.accessToken}` },
      body: form,
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    expect(Buffer.from(emulator.org.getBlob('ContentVersion', id, 'VersionData')).equals(bytes)).toBe(true);
  });

  it('serves an Attachment body', async () => {
    const conn = connect(emulator);
    const parent = await conn.sobject('Account').create({ Name: 'With attachment' });
    const body = Buffer.from([0, 1, 2, 250, 251, 252]);
    const att = await conn
      .sobject('Attachment')
      .create({ Name: 'a.bin', ParentId: parent.id, Body: body.toString('base64') });
    const blob = await fetch(
      `${emulator.instanceUrl}/services/data/v62.0/sobjects/Attachment/${att.id}/Body`,
      {
        headers: { authorization: `Bearer ${emulator.accessToken}` },
      },
    );
    expect(Buffer.from(await blob.arrayBuffer()).equals(body)).toBe(true);
  });
});

describe('the emulator pages REST queries like Salesforce', () => {
  let emulator: RunningEmulator;
  const total = 2345;
  beforeAll(async () => {
    emulator = await start();
    for (let i = 0; i < total; i++)
      emulator.org.insert('Account', { Name: `Account ${String(i).padStart(5, '0')}` });
  });
  afterAll(async () => emulator.stop());

  it('follows nextRecordsUrl with queryMore until done', async () => {
    const conn = connect(emulator);
    const first = await conn.query('SELECT Id, Name FROM Account');
    expect(first.totalSize).toBe(total);
    expect(first.done).toBe(false);
    expect(first.records).toHaveLength(2000);
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v62\.0\/query\/01g[A-Za-z0-9]{15}-2000$/);
    const second = await conn.queryMore(first.nextRecordsUrl!);
    expect(second.done).toBe(true);
    expect(second.records).toHaveLength(total - 2000);
    const ids = new Set([...first.records, ...second.records].map((r) => r.Id));
    expect(ids.size).toBe(total);
  });

  it('honours Sforce-Query-Options batchSize and lets a page be fetched again', async () => {
    const response = await raw(
      emulator,
      `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id FROM Account')}`,
      {
        headers: { 'sforce-query-options': 'batchSize=500' },
      },
    );
    const page = response.json() as { records: { Id: string }[]; nextRecordsUrl: string };
    expect(page.records).toHaveLength(500);
    const next1 = (await raw(emulator, page.nextRecordsUrl)).json() as { records: { Id: string }[] };
    const again = (await raw(emulator, page.nextRecordsUrl)).json() as { records: { Id: string }[] };
    expect(again.records.map((r) => r.Id)).toEqual(next1.records.map((r) => r.Id));
    const tiny = await raw(
      emulator,
      `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id FROM Account')}`,
      {
        headers: { 'sforce-query-options': 'batchSize=5' },
      },
    );
    expect((tiny.json() as { records: unknown[] }).records).toHaveLength(200);
    const bad = await raw(emulator, '/services/data/v62.0/query/01gXXXXXXXXXXXXXXX-2000');
    expect(bad.status).toBe(400);
    expect((bad.json() as { errorCode: string }[])[0]?.errorCode).toBe('INVALID_QUERY_LOCATOR');
  });

  it('answers COUNT(), queryAll with deleted rows, and columnMetadata', async () => {
    const conn = connect(emulator);
    const victim = emulator.org.insert('Account', { Name: 'to delete' });
    emulator.org.delete([victim]);
    const count = await conn.query('SELECT COUNT() FROM Account');
    expect(count.totalSize).toBe(total);
    expect(count.records).toEqual([]);
    const all = await conn.query(`SELECT Id, IsDeleted FROM Account WHERE Id = '${victim}'`, {
      scanAll: true,
    });
    expect(all.records[0]).toMatchObject({ Id: victim, IsDeleted: true });
    const live = await conn.query(`SELECT Id FROM Account WHERE Id = '${victim}'`);
    expect(live.totalSize).toBe(0);
    const columns = (await conn.request(
      `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id, Name, Owner.Name, Owner.Email FROM Account')}&columns=true`,
    )) as {
      columnMetadata: { columnName: string; joinColumns: { columnName: string }[] }[];
      entityName: string;
    };
    expect(columns.entityName).toBe('Account');
    expect(columns.columnMetadata.map((c) => c.columnName)).toEqual(['Id', 'Name', 'Owner']);
    expect(columns.columnMetadata[2]?.joinColumns.map((c) => c.columnName)).toEqual(['Name', 'Email']);
  });

  it('answers MALFORMED_QUERY, INVALID_FIELD and INVALID_TYPE for bad SOQL', async () => {
    const conn = connect(emulator);
    expect((await failure(conn.query('SELECT FROM Account'))).name).toBe('MALFORMED_QUERY');
    expect((await failure(conn.query('SELECT Nope__c FROM Account'))).name).toBe('INVALID_FIELD');
    expect((await failure(conn.query('SELECT Id FROM ScratchOrgInfo'))).name).toBe('INVALID_TYPE');
    const empty = await raw(emulator, '/services/data/v62.0/query?q=');
    expect(empty.status).toBe(400);
  });
});
