import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { StreamingMessage } from '../../emulator/org/cdc/bus.ts';
import { connect, raw, start } from './server-support.ts';

const START = new Date('2026-03-01T10:00:00.000Z');

describe('the emulator publishes Change Data Capture events for every write path', () => {
  let emulator: RunningEmulator;
  let mark = 0;
  beforeAll(async () => {
    emulator = await start({ clock: START });
    emulator.cdc.select(['Account', 'Contact']);
  });
  afterAll(async () => emulator.stop());
  beforeEach(() => {
    mark = emulator.cdc.bus.latestReplayId;
  });

  /** The events published since the test started. */
  const published = (): StreamingMessage[] => emulator.cdc.events(mark);
  const header = (m: StreamingMessage | undefined) => m!.payload.ChangeEventHeader;

  it('starts a new org with no entity selected, so nothing is published', async () => {
    const fresh = await start({ clock: START });
    try {
      expect(fresh.cdc.selectedEntities()).toEqual([]);
      await connect(fresh).sobject('Account').create({ Name: 'Quiet' });
      expect(fresh.cdc.bus.latestReplayId).toBe(0);
    } finally {
      await fresh.stop();
    }
  });

  it('publishes a CREATE with every field, compound fields nested and no Id, IsDeleted or SystemModstamp', async () => {
    const conn = connect(emulator);
    const created = await conn.sobject('Account').create({
      Name: 'Acme',
      BillingCity: 'San Francisco',
      BillingStreet: '415 Mission Street',
    });
    const [event, ...rest] = published();
    expect(rest).toHaveLength(0);
    expect(event!.schema).toMatch(/^[\w-]{22}$/);
    expect(event!.event.replayId).toBe(mark + 1);
    const h = header(event);
    expect(Object.keys(h)).toEqual([
      'entityName',
      'recordIds',
      'changeType',
      'changeOrigin',
      'transactionKey',
      'sequenceNumber',
      'commitTimestamp',
      'commitNumber',
      'commitUser',
      'nulledFields',
      'diffFields',
      'changedFields',
    ]);
    expect(h).toMatchObject({
      entityName: 'Account',
      recordIds: [created.id],
      changeType: 'CREATE',
      changeOrigin: 'com/salesforce/api/rest/62.0',
      sequenceNumber: 1,
      commitTimestamp: START.getTime(),
      commitUser: emulator.org.user.id,
      nulledFields: [],
      diffFields: [],
      changedFields: [],
    });
    expect(h.transactionKey).toMatch(/^[0-9a-f-]{36}$/);
    const p = event!.payload;
    expect(p.Name).toBe('Acme');
    expect(p.BillingAddress).toMatchObject({
      Street: '415 Mission Street',
      City: 'San Francisco',
      State: null,
    });
    expect(p.ShippingAddress).toBeNull();
    expect(p.Phone).toBeNull();
    expect(p.CreatedDate).toBe('2026-03-01T10:00:00.000Z');
    expect(p.OwnerId).toBe(emulator.org.user.id);
    for (const absent of ['Id', 'IsDeleted', 'SystemModstamp', 'BillingCity'])
      expect(p).not.toHaveProperty(absent);
  });

  it("nests a contact's Name and names changed components as Compound.Component", async () => {
    const conn = connect(emulator);
    const c = await conn.sobject('Contact').create({ FirstName: 'Ada', LastName: 'Lovelace' });
    expect(published()[0]!.payload.Name).toMatchObject({ FirstName: 'Ada', LastName: 'Lovelace' });
    mark = emulator.cdc.bus.latestReplayId;
    await conn.sobject('Contact').update({ Id: c.id as string, LastName: 'King', MailingCity: 'London' });
    const [update] = published();
    expect(header(update).changedFields).toEqual([
      'Name.LastName',
      'MailingAddress.City',
      'LastModifiedDate',
    ]);
    expect(update!.payload.Name).toEqual({ LastName: 'King' });
    expect(update!.payload.MailingAddress).toEqual({ City: 'London' });
  });

  it('publishes an UPDATE with only the changed fields and LastModifiedDate, and lists nulled fields', async () => {
    const conn = connect(emulator);
    const a = await conn
      .sobject('Account')
      .create({ Name: 'Before', Phone: '555-0100', Description: 'x'.repeat(1500) });
    mark = emulator.cdc.bus.latestReplayId;
    emulator.server.clock.advance(60_000);
    await conn
      .sobject('Account')
      .update({ Id: a.id as string, Name: 'After', Phone: null, Description: 'y'.repeat(1500) });
    const [event] = published();
    const h = header(event);
    expect(h.changeType).toBe('UPDATE');
    expect(h.changedFields).toEqual(['Name', 'Phone', 'Description', 'LastModifiedDate']);
    expect(h.nulledFields).toEqual(['Phone']);
    expect(h.diffFields).toEqual([]);
    expect(event!.payload).toEqual({
      ChangeEventHeader: h,
      Name: 'After',
      Phone: null,
      Description: 'y'.repeat(1500),
      LastModifiedDate: '2026-03-01T10:01:00.000Z',
    });
  });

  it('publishes a DELETE with the header alone and an UNDELETE (SOAP) with every field', async () => {
    const conn = connect(emulator);
    const a = await conn.sobject('Account').create({ Name: 'Round trip' });
    mark = emulator.cdc.bus.latestReplayId;
    await conn.sobject('Account').destroy(a.id as string);
    await conn.soap.undelete([a.id as string]);
    const [deleted, undeleted] = published();
    expect(header(deleted)).toMatchObject({ changeType: 'DELETE', recordIds: [a.id] });
    expect(Object.keys(deleted!.payload)).toEqual(['ChangeEventHeader']);
    expect(header(undeleted)).toMatchObject({
      changeType: 'UNDELETE',
      recordIds: [a.id],
      changeOrigin: 'com/salesforce/api/soap/62.0',
    });
    expect(undeleted!.payload.Name).toBe('Round trip');
    expect(header(undeleted).commitNumber).toBeGreaterThan(header(deleted).commitNumber);
  });

  it('merges the same change to many records of one call into one event with every recordId', async () => {
    const conn = connect(emulator);
    const created = await conn.sobject('Account').create([{ Name: 'M1' }, { Name: 'M2' }, { Name: 'M3' }]);
    const ids = created.map((r) => r.id as string);
    mark = emulator.cdc.bus.latestReplayId;
    await conn.sobject('Account').update(ids.map((Id) => ({ Id, Industry: 'Energy' })));
    await conn.sobject('Account').destroy(ids);
    const [update, deletion, ...rest] = published();
    expect(rest).toHaveLength(0);
    expect(header(update)).toMatchObject({ changeType: 'UPDATE', recordIds: ids, sequenceNumber: 1 });
    expect(header(deletion)).toMatchObject({ changeType: 'DELETE', recordIds: ids, sequenceNumber: 1 });
    expect(header(update).transactionKey).not.toBe(header(deletion).transactionKey);
  });

  it('gives one Composite call one transaction, sequence numbers 1..n, and leaves holes for unselected entities', async () => {
    const response = await raw(emulator, '/services/data/v62.0/composite', {
      method: 'POST',
      body: JSON.stringify({
        compositeRequest: [
          {
            method: 'POST',
            url: '/services/data/v62.0/sobjects/Account',
            referenceId: 'acc',
            body: { Name: 'Comp' },
          },
          {
            method: 'POST',
            url: '/services/data/v62.0/sobjects/Lead',
            referenceId: 'lead',
            body: { LastName: 'L', Company: 'C' },
          },
          {
            method: 'POST',
            url: '/services/data/v62.0/sobjects/Contact',
            referenceId: 'con',
            body: { LastName: 'Child', AccountId: '@{acc.id}' },
          },
        ],
      }),
      headers: { 'sforce-call-options': 'client=Tester' },
    });
    expect(response.status).toBe(200);
    const events = published();
    expect(events.map((e) => [header(e).entityName, header(e).sequenceNumber])).toEqual([
      ['Account', 1],
      ['Contact', 3],
    ]);
    expect(new Set(events.map((e) => header(e).transactionKey)).size).toBe(1);
    expect(header(events[0]).changeOrigin).toBe('com/salesforce/api/rest/62.0;client=Tester');
  });

  it('publishes nothing for an allOrNone Composite or Collections call that rolls back', async () => {
    const composite = await raw(emulator, '/services/data/v62.0/composite', {
      method: 'POST',
      body: JSON.stringify({
        allOrNone: true,
        compositeRequest: [
          {
            method: 'POST',
            url: '/services/data/v62.0/sobjects/Account',
            referenceId: 'ok',
            body: { Name: 'Gone' },
          },
          { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'bad', body: {} },
        ],
      }),
    });
    expect(composite.status).toBe(200);
    const conn = connect(emulator);
    const existing = await conn.sobject('Account').create({ Name: 'Stays' });
    mark = emulator.cdc.bus.latestReplayId;
    const collections = await raw(emulator, '/services/data/v62.0/composite/sobjects', {
      method: 'PATCH',
      body: JSON.stringify({
        allOrNone: true,
        records: [
          { attributes: { type: 'Account' }, Id: existing.id, Name: 'Renamed' },
          { attributes: { type: 'Account' }, Id: existing.id, Name: '' },
        ],
      }),
    });
    expect((collections.json() as { success: boolean }[]).every((r) => !r.success)).toBe(true);
    expect(published()).toEqual([]);
  });

  it('publishes a Collections call without allOrNone for the records that succeeded', async () => {
    const response = await raw(emulator, '/services/data/v62.0/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify({
        records: [{ attributes: { type: 'Account' }, Name: 'Kept' }, { attributes: { type: 'Account' } }],
      }),
    });
    const results = response.json() as { id: string | null; success: boolean }[];
    expect(results.map((r) => r.success)).toEqual([true, false]);
    expect(published().map((e) => header(e).recordIds)).toEqual([[results[0]!.id]]);
  });

  it('publishes DELETE for the cascaded children and UPDATE for lookups the delete cleared, in one transaction', async () => {
    const conn = connect(emulator);
    const parent = await conn.sobject('Account').create({ Name: 'Parent' });
    const child = await conn.sobject('Account').create({ Name: 'Child', ParentId: parent.id });
    const contact = await conn.sobject('Contact').create({ LastName: 'Cascade', AccountId: parent.id });
    mark = emulator.cdc.bus.latestReplayId;
    await conn.sobject('Account').destroy(parent.id as string);
    const events = published();
    expect(events.map((e) => [header(e).entityName, header(e).changeType, header(e).recordIds])).toEqual(
      expect.arrayContaining([
        ['Account', 'DELETE', [parent.id]],
        ['Contact', 'DELETE', [contact.id]],
        ['Account', 'UPDATE', [child.id]],
      ]),
    );
    expect(events).toHaveLength(3);
    const cleared = events.find((e) => header(e).changeType === 'UPDATE')!;
    expect(header(cleared).nulledFields).toEqual(['ParentId']);
    expect(new Set(events.map((e) => header(e).transactionKey)).size).toBe(1);
    expect(events.map((e) => header(e).sequenceNumber).sort()).toEqual([1, 2, 3]);
  });

  it('publishes DELETE for a hard delete of a live record and nothing for a purge from the recycle bin', async () => {
    const conn = connect(emulator);
    const binned = await conn.sobject('Account').create({ Name: 'Binned' });
    await conn.sobject('Account').destroy(binned.id as string);
    const live = await conn.sobject('Account').create({ Name: 'Live' });
    mark = emulator.cdc.bus.latestReplayId;
    emulator.org.emptyRecycleBin([binned.id as string]);
    expect(published()).toEqual([]);
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'hardDelete',
      input: `Id\n${live.id}\n`,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(results.successfulResults).toHaveLength(1);
    const [event] = published();
    expect(header(event)).toMatchObject({
      changeType: 'DELETE',
      recordIds: [live.id],
      changeOrigin: 'com/salesforce/api/bulkapi/62.0',
    });
  });

  it('publishes Bulk ingest insert, update, upsert and delete in transactions of 200 records', async () => {
    const conn = connect(emulator);
    const rows = Array.from({ length: 450 }, (_, i) => `Bulk ${i},B-${i}`).join('\n');
    const inserted = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'insert',
      input: `Name,AccountNumber\n${rows}\n`,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(inserted.successfulResults).toHaveLength(450);
    const creates = published();
    expect(creates.every((e) => header(e).changeType === 'CREATE')).toBe(true);
    expect(creates.flatMap((e) => header(e).recordIds)).toHaveLength(450);
    const transactions = new Map<string, number>();
    for (const e of creates) {
      const key = header(e).transactionKey;
      transactions.set(key, (transactions.get(key) ?? 0) + header(e).recordIds.length);
    }
    expect([...transactions.values()]).toEqual([200, 200, 50]);
    const ids = inserted.successfulResults.map((r) => r.sf__Id as string);
    mark = emulator.cdc.bus.latestReplayId;
    await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'update',
      input: `Id,Industry\n${ids[0]},Retail\n${ids[1]},Retail\n`,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'Id',
      input: `Id,Name\n${ids[2]},Upserted\n`,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'delete',
      input: `Id\n${ids[3]}\n`,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(published().map((e) => [header(e).changeType, header(e).recordIds])).toEqual([
      ['UPDATE', [ids[0], ids[1]]],
      ['UPDATE', [ids[2]]],
      ['DELETE', [ids[3]]],
    ]);
  });

  it('publishes a SOAP delete and a composite tree import', async () => {
    const conn = connect(emulator);
    const a = await conn.sobject('Account').create({ Name: 'Soap' });
    mark = emulator.cdc.bus.latestReplayId;
    const envelope = `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Header><SessionHeader><sessionId>${emulator.accessToken}</sessionId></SessionHeader></soapenv:Header><soapenv:Body><delete><ids>${a.id}</ids></delete></soapenv:Body></soapenv:Envelope>`;
    const soap = await raw(emulator, '/services/Soap/u/62.0', {
      method: 'POST',
      body: envelope,
      headers: { 'content-type': 'text/xml', soapaction: 'delete' },
    });
    expect(soap.status).toBe(200);
    const tree = await raw(emulator, '/services/data/v62.0/composite/tree/Account', {
      method: 'POST',
      body: JSON.stringify({
        records: [
          {
            attributes: { type: 'Account', referenceId: 'ref1' },
            Name: 'Tree',
            Contacts: {
              records: [{ attributes: { type: 'Contact', referenceId: 'ref2' }, LastName: 'Leaf' }],
            },
          },
        ],
      }),
    });
    expect(tree.status).toBe(201);
    expect(
      published().map((e) => [header(e).entityName, header(e).changeType, header(e).sequenceNumber]),
    ).toEqual([
      ['Account', 'DELETE', 1],
      ['Account', 'CREATE', 1],
      ['Contact', 'CREATE', 2],
    ]);
  });

  it('keeps concurrent API calls in transactions of their own', async () => {
    const conn = connect(emulator);
    const created = await Promise.all(
      Array.from({ length: 5 }, (_, i) => conn.sobject('Account').create({ Name: `Parallel ${i}` })),
    );
    const events = published();
    expect(events.map((e) => header(e).recordIds[0]).sort()).toEqual(created.map((c) => c.id).sort());
    expect(new Set(events.map((e) => header(e).transactionKey)).size).toBe(5);
    expect(events.every((e) => header(e).sequenceNumber === 1)).toBe(true);
  });

  it('refuses to select an unknown object or one without change events, naming each', () => {
    expect(() => emulator.cdc.select(['Account', 'Nope__c', 'AccountChangeEvent'])).toThrow(
      /"Nope__c" is not an object of this org; AccountChangeEvent has no change events/,
    );
    expect(emulator.cdc.selectedEntities()).toEqual(['Account', 'Contact']);
  });
});
