import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { connect, raw, start } from './server-support.ts';

describe('the emulator runs Bulk API 2.0 ingest jobs for jsforce', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await start();
  });
  afterAll(async () => emulator.stop());

  it('inserts rows and reports successful and failed results', async () => {
    const conn = connect(emulator);
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'insert',
      input: 'Name,NumberOfEmployees\n"Bulk, one",10\nBulk two,20\n,30\n',
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(results.successfulResults).toHaveLength(2);
    expect(results.successfulResults[0]).toMatchObject({
      sf__Created: 'true',
      Name: 'Bulk, one',
      NumberOfEmployees: '10',
    });
    expect(results.successfulResults[0]?.sf__Id).toMatch(/^001/);
    expect(results.failedResults).toHaveLength(1);
    expect(results.failedResults[0]?.sf__Error).toMatch(/^REQUIRED_FIELD_MISSING:/);
    expect(results.unprocessedRecords).toHaveLength(0);
    expect((await conn.query("SELECT COUNT() FROM Account WHERE Name LIKE 'Bulk%'")).totalSize).toBe(2);
  });

  it('updates rows, setting a field to null with #N/A and leaving empty cells alone', async () => {
    const conn = connect(emulator);
    const id = emulator.org.insert('Account', { Name: 'Before', NumberOfEmployees: 5, Phone: '123' });
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'update',
      input: `Id,Name,NumberOfEmployees,Phone\n${id},After,,#N/A\n001000000000000AAA,Missing,,\n`,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(results.successfulResults.map((r) => r.sf__Id)).toEqual([id]);
    expect(results.failedResults).toHaveLength(1);
    const row = (await conn.query(`SELECT Name, NumberOfEmployees, Phone FROM Account WHERE Id = '${id}'`))
      .records[0];
    expect(row).toMatchObject({ Name: 'After', NumberOfEmployees: 5, Phone: null });
  });

  it('upserts by an external id field, creating and updating', async () => {
    const conn = connect(emulator);
    const id = emulator.org.insert('Account', { Name: 'Upsert target' });
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'Id',
      input: `Id,Name\n${id},Upsert updated\n`,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(results.successfulResults[0]).toMatchObject({ sf__Id: id, sf__Created: 'false' });
    const refused = await raw(emulator, '/services/data/v62.0/jobs/ingest', {
      method: 'POST',
      body: JSON.stringify({ object: 'Account', operation: 'upsert', externalIdFieldName: 'Name' }),
    });
    expect(refused.status).toBe(400);
  });

  it('deletes to the recycle bin and hard-deletes for good', async () => {
    const conn = connect(emulator);
    const soft = emulator.org.insert('Account', { Name: 'soft' });
    const hard = emulator.org.insert('Account', { Name: 'hard' });
    const deleted = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'delete',
      input: `Id\n${soft}\n`,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(deleted.successfulResults.map((r) => r.sf__Id)).toEqual([soft]);
    const hardDeleted = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'hardDelete',
      input: `Id\n${hard}\n`,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(hardDeleted.successfulResults.map((r) => r.sf__Id)).toEqual([hard]);
    const bin = await conn.query(`SELECT Id FROM Account WHERE Id IN ('${soft}', '${hard}')`, {
      scanAll: true,
    });
    expect(bin.records.map((r) => r.Id)).toEqual([soft]);
  });

  it('reports uploaded rows of an aborted job as unprocessed and refuses bad jobs', async () => {
    const conn = connect(emulator);
    const job = (await conn.request({
      method: 'POST',
      url: '/services/data/v62.0/jobs/ingest',
      body: JSON.stringify({ object: 'Account', operation: 'insert', lineEnding: 'LF' }),
      headers: { 'content-type': 'application/json' },
    })) as { id: string; state: string; contentUrl: string };
    expect(job.state).toBe('Open');
    expect(job.contentUrl).toBe(`services/data/v62.0/jobs/ingest/${job.id}/batches`);
    const upload = await raw(emulator, `/${job.contentUrl}`, {
      method: 'PUT',
      body: 'Name\nNever loaded\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(upload.status).toBe(201);
    const aborted = await raw(emulator, `/services/data/v62.0/jobs/ingest/${job.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ state: 'Aborted' }),
    });
    expect((aborted.json() as { state: string }).state).toBe('Aborted');
    const unprocessed = await raw(emulator, `/services/data/v62.0/jobs/ingest/${job.id}/unprocessedrecords`);
    expect(unprocessed.text).toBe('"Name"\n"Never loaded"\n');
    const late = await raw(emulator, `/${job.contentUrl}`, { method: 'PUT', body: 'Name\nx\n' });
    expect(late.status).toBe(400);
    const unknownObject = await raw(emulator, '/services/data/v62.0/jobs/ingest', {
      method: 'POST',
      body: JSON.stringify({ object: 'Nope__c', operation: 'insert' }),
    });
    expect(unknownObject.status).toBe(400);
    const list = (await conn.request('/services/data/v62.0/jobs/ingest')) as { records: { id: string }[] };
    expect(list.records.some((r) => r.id === job.id)).toBe(true);
    const removed = await raw(emulator, `/services/data/v62.0/jobs/ingest/${job.id}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect((await raw(emulator, `/services/data/v62.0/jobs/ingest/${job.id}`)).status).toBe(404);
  });
});
