import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { connect, raw, start } from './server-support.ts';

type Result = { id: string | null; success: boolean; created?: boolean; errors: { statusCode: string }[] };

describe('the emulator serves sObject Collections, Composite, composite tree and SOAP undelete', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await start();
  });
  afterAll(async () => emulator.stop());

  it('creates, updates and deletes up to 200 records per collections call', async () => {
    const conn = connect(emulator);
    const records = Array.from({ length: 200 }, (_, i) => ({ Name: `Bulk ${i}` }));
    const created = await conn.sobject('Account').create(records, { allOrNone: true });
    expect(created).toHaveLength(200);
    expect(created.every((r) => r.success)).toBe(true);
    const ids = created.map((r) => r.id as string);
    const updated = await conn.sobject('Account').update(ids.map((Id) => ({ Id, Name: `Renamed ${Id}` })));
    expect(updated.every((r) => r.success)).toBe(true);
    const read = await conn.query(`SELECT Name FROM Account WHERE Id = '${ids[0]}'`);
    expect(read.records[0]?.Name).toBe(`Renamed ${ids[0]}`);
    const deleted = await conn.sobject('Account').destroy(ids);
    expect(deleted.every((r) => r.success)).toBe(true);
    expect((await conn.query('SELECT COUNT() FROM Account')).totalSize).toBe(0);
  });

  it('refuses more than 200 records in one collections call', async () => {
    const records = Array.from({ length: 201 }, (_, i) => ({
      attributes: { type: 'Account' },
      Name: `x${i}`,
    }));
    const response = await raw(emulator, '/services/data/v62.0/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify({ records }),
    });
    expect(response.status).toBe(400);
    expect((response.json() as { errorCode: string }[])[0]?.errorCode).toBe('EXCEEDED_ID_LIMIT');
  });

  it('rolls back every row of an allOrNone call when one row fails', async () => {
    const records = [{ attributes: { type: 'Account' }, Name: 'kept?' }, { attributes: { type: 'Account' } }];
    const response = await raw(emulator, '/services/data/v62.0/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify({ allOrNone: true, records }),
    });
    const results = response.json() as Result[];
    expect(results[0]).toMatchObject({
      success: false,
      errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK' }],
    });
    expect(results[1]).toMatchObject({ success: false, errors: [{ statusCode: 'REQUIRED_FIELD_MISSING' }] });
    expect(
      (await connect(emulator).query("SELECT COUNT() FROM Account WHERE Name = 'kept?'")).totalSize,
    ).toBe(0);

    const partial = await raw(emulator, '/services/data/v62.0/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify({ allOrNone: false, records }),
    });
    const partialResults = partial.json() as Result[];
    expect(partialResults.map((r) => r.success)).toEqual([true, false]);
  });

  it('upserts a collection by an external id field', async () => {
    const conn = connect(emulator);
    const existing = await conn.sobject('Account').create({ Name: 'Existing' });
    const response = await raw(emulator, '/services/data/v62.0/composite/sobjects/Account/Id', {
      method: 'PATCH',
      body: JSON.stringify({
        allOrNone: false,
        records: [{ attributes: { type: 'Account' }, Id: existing.id, Name: 'Existing, upserted' }],
      }),
    });
    const results = response.json() as Result[];
    expect(results[0]).toMatchObject({ id: existing.id, success: true, created: false });
    const notExternal = await raw(emulator, '/services/data/v62.0/composite/sobjects/Account/Name', {
      method: 'PATCH',
      body: JSON.stringify({ records: [] }),
    });
    expect(notExternal.status).toBe(400);
  });

  it('retrieves a collection of records by id', async () => {
    const conn = connect(emulator);
    const a = await conn.sobject('Account').create({ Name: 'Retrieve me' });
    const records = (await conn.request(
      `/services/data/v62.0/composite/sobjects/Account?ids=${a.id},001000000000000AAA&fields=Id,Name`,
    )) as (Record<string, unknown> | null)[];
    expect(records[0]).toMatchObject({ Id: a.id, Name: 'Retrieve me' });
    expect(records[1]).toBeNull();
  });

  it('runs composite subrequests with references between them', async () => {
    const conn = connect(emulator);
    const response = (await conn.request({
      method: 'POST',
      url: '/services/data/v62.0/composite',
      body: JSON.stringify({
        allOrNone: true,
        compositeRequest: [
          {
            method: 'POST',
            url: '/services/data/v62.0/sobjects/Account',
            referenceId: 'acct',
            body: { Name: 'Parent' },
          },
          {
            method: 'POST',
            url: '/services/data/v62.0/sobjects/Contact',
            referenceId: 'ct',
            body: { LastName: 'Child', AccountId: '@{acct.id}' },
          },
          {
            method: 'GET',
            url: '/services/data/v62.0/sobjects/Contact/@{ct.id}?fields=AccountId',
            referenceId: 'read',
          },
          {
            method: 'GET',
            url: "/services/data/v62.0/query?q=SELECT+Id+FROM+Contact+WHERE+LastName='Child'",
            referenceId: 'q',
          },
        ],
      }),
      headers: { 'content-type': 'application/json' },
    })) as {
      compositeResponse: { httpStatusCode: number; body: Record<string, unknown>; referenceId: string }[];
    };
    const [acct, ct, read, q] = response.compositeResponse;
    expect(acct?.httpStatusCode).toBe(201);
    expect(ct?.httpStatusCode).toBe(201);
    expect(read?.body.AccountId).toBe(acct?.body.id);
    expect(q?.body.totalSize).toBe(1);
  });

  it('halts and rolls back an allOrNone composite when a subrequest fails, and caps subrequests at 25', async () => {
    const conn = connect(emulator);
    const response = (await conn.request({
      method: 'POST',
      url: '/services/data/v62.0/composite',
      body: JSON.stringify({
        allOrNone: true,
        compositeRequest: [
          {
            method: 'POST',
            url: '/services/data/v62.0/sobjects/Account',
            referenceId: 'a',
            body: { Name: 'Rolled back' },
          },
          { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'b', body: {} },
          {
            method: 'POST',
            url: '/services/data/v62.0/sobjects/Account',
            referenceId: 'c',
            body: { Name: 'Never' },
          },
        ],
      }),
      headers: { 'content-type': 'application/json' },
    })) as { compositeResponse: { httpStatusCode: number; body: { errorCode: string }[] }[] };
    expect(response.compositeResponse.map((r) => r.httpStatusCode)).toEqual([400, 400, 400]);
    expect(response.compositeResponse[0]?.body[0]?.errorCode).toBe('PROCESSING_HALTED');
    expect(response.compositeResponse[1]?.body[0]?.errorCode).toBe('REQUIRED_FIELD_MISSING');
    expect((await conn.query("SELECT COUNT() FROM Account WHERE Name = 'Rolled back'")).totalSize).toBe(0);

    const many = Array.from({ length: 26 }, (_, i) => ({
      method: 'GET',
      url: '/services/data/v62.0/limits',
      referenceId: `r${i}`,
    }));
    const tooMany = await raw(emulator, '/services/data/v62.0/composite', {
      method: 'POST',
      body: JSON.stringify({ compositeRequest: many }),
    });
    expect(tooMany.status).toBe(400);
  });

  it('inserts record trees as sf data import tree sends them', async () => {
    const response = await raw(emulator, '/services/data/v62.0/composite/tree/Account', {
      method: 'POST',
      body: JSON.stringify({
        records: [
          {
            attributes: { type: 'Account', referenceId: 'AccountRef1' },
            Name: 'Tree parent',
            Contacts: {
              records: [{ attributes: { type: 'Contact', referenceId: 'ContactRef1' }, LastName: 'Leaf' }],
            },
          },
          { attributes: { type: 'Account', referenceId: 'AccountRef2' }, Name: 'Second' },
        ],
      }),
    });
    expect(response.status).toBe(201);
    const body = response.json() as { hasErrors: boolean; results: { referenceId: string; id: string }[] };
    expect(body.hasErrors).toBe(false);
    expect(body.results.map((r) => r.referenceId)).toEqual(['AccountRef1', 'ContactRef1', 'AccountRef2']);
    const contact = await connect(emulator).query(
      `SELECT AccountId FROM Contact WHERE Id = '${body.results[1]?.id}'`,
    );
    expect(contact.records[0]?.AccountId).toBe(body.results[0]?.id);

    const failed = await raw(emulator, '/services/data/v62.0/composite/tree/Account', {
      method: 'POST',
      body: JSON.stringify({
        records: [
          { attributes: { type: 'Account', referenceId: 'ok' }, Name: 'Not kept' },
          { attributes: { type: 'Account', referenceId: 'bad' } },
        ],
      }),
    });
    expect(failed.status).toBe(400);
    expect(failed.json()).toMatchObject({ hasErrors: true, results: [{ referenceId: 'bad' }] });
    expect(
      (await connect(emulator).query("SELECT COUNT() FROM Account WHERE Name = 'Not kept'")).totalSize,
    ).toBe(0);
  });

  it('undeletes recycle-bin rows with their ids through the SOAP partner API', async () => {
    const conn = connect(emulator);
    const a = await conn.sobject('Account').create({ Name: 'Come back' });
    await conn.sobject('Account').destroy(a.id as string);
    expect((await conn.query(`SELECT COUNT() FROM Account WHERE Id = '${a.id}'`)).totalSize).toBe(0);
    const results = (await conn.soap.undelete([a.id as string, '001000000000000AAA'])) as unknown as {
      id: string | null;
      success: string | boolean;
    }[];
    expect(String(results[0]?.success)).toBe('true');
    expect(results[0]?.id).toBe(a.id);
    expect(String(results[1]?.success)).toBe('false');
    expect((await conn.query(`SELECT Name FROM Account WHERE Id = '${a.id}'`)).records[0]?.Name).toBe(
      'Come back',
    );
  });

  it('answers a SOAP fault for a missing session', async () => {
    const envelope =
      '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Body><undelete><ids>001000000000000AAA</ids></undelete></soapenv:Body></soapenv:Envelope>';
    const response = await raw(emulator, '/services/Soap/u/62.0', {
      method: 'POST',
      token: null,
      body: envelope,
      headers: { 'content-type': 'text/xml', soapaction: 'undelete' },
    });
    expect(response.status).toBe(500);
    expect(response.text).toContain('<faultcode>sf:INVALID_SESSION_ID</faultcode>');
  });
});
