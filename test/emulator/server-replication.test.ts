import { XMLParser } from 'fast-xml-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator, StartEmulatorOptions } from '../../emulator/index.ts';
import { DEFAULT_REPLICATION_ID_LIMIT } from '../../emulator/org/replication.ts';
import { API_VERSION, connect, failure, raw, start } from './server-support.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The org clock starts here, 40 seconds into a minute, so that truncation shows. */
const T0 = Date.parse('2026-03-01T10:00:40.000Z');
const DATA = `/services/data/v${API_VERSION}`;

/** Salesforce's REST datetime form. */
const sfDate = (ms: number) => `${new Date(ms).toISOString().slice(0, 23)}+0000`;
const floorMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });

interface DeletedBody {
  deletedRecords: { id: string; deletedDate: string }[];
  earliestDateAvailable: string;
  latestDateCovered: string;
}

describe('getDeleted and getUpdated over REST, SOAP, jsforce and Composite', () => {
  let emulator: RunningEmulator;
  const now = () => emulator.server.clock.now().getTime();
  const advance = (ms: number) => emulator.server.clock.advance(ms);

  async function boot(options: StartEmulatorOptions = {}): Promise<void> {
    emulator = await start({ clock: new Date(T0), password: 'pw', ...options });
  }
  beforeEach(async () => boot());
  afterEach(async () => emulator.stop());

  function replication(
    kind: 'deleted' | 'updated',
    object: string,
    from: number | string,
    to: number | string,
  ) {
    const param = (v: number | string) =>
      encodeURIComponent(typeof v === 'number' ? new Date(v).toISOString() : v);
    return raw(emulator, `${DATA}/sobjects/${object}/${kind}/?start=${param(from)}&end=${param(to)}`);
  }
  async function deleted(object: string, from: number, to: number): Promise<DeletedBody> {
    const response = await replication('deleted', object, from, to);
    expect(response.status, response.text).toBe(200);
    return response.json() as DeletedBody;
  }
  const deletedIds = async (object: string, from: number, to: number) =>
    (await deleted(object, from, to)).deletedRecords.map((r) => r.id);

  async function soap(
    operation: string,
    inner: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const envelope =
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">' +
      `<soapenv:Header><urn:SessionHeader><urn:sessionId>${emulator.accessToken}</urn:sessionId></urn:SessionHeader></soapenv:Header>` +
      `<soapenv:Body><urn:${operation}>${inner}</urn:${operation}></soapenv:Body></soapenv:Envelope>`;
    const response = await raw(emulator, `/services/Soap/u/${API_VERSION}`, {
      method: 'POST',
      token: null,
      body: envelope,
      headers: { 'content-type': 'text/xml', soapaction: operation },
    });
    const doc = parser.parse(response.text) as { Envelope: { Body: Record<string, unknown> } };
    return { status: response.status, body: doc.Envelope.Body };
  }
  const soapWindow = (object: string, from: number | string, to: number | string) => {
    const text = (v: number | string) => (typeof v === 'number' ? new Date(v).toISOString() : v);
    return `<urn:sObjectType>${object}</urn:sObjectType><urn:startDate>${text(from)}</urn:startDate><urn:endDate>${text(to)}</urn:endDate>`;
  };
  const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

  it('lists a REST soft delete with its instant, and getUpdated the live rows changed in the window', async () => {
    const conn = connect(emulator);
    const kept = (await conn.sobject('Account').create({ Name: 'kept' })).id as string;
    const gone = (await conn.sobject('Account').create({ Name: 'gone' })).id as string;
    advance(MINUTE);
    const deletedAt = now();
    expect((await raw(emulator, `${DATA}/sobjects/Account/${gone}`, { method: 'DELETE' })).status).toBe(204);
    advance(5 * MINUTE);
    const body = await deleted('Account', T0, now());
    expect(body).toEqual({
      deletedRecords: [{ id: gone, deletedDate: sfDate(deletedAt) }],
      earliestDateAvailable: sfDate(floorMinute(now()) - 15 * DAY),
      latestDateCovered: sfDate(floorMinute(now())),
    });
    const updated = await replication('updated', 'Account', T0, now());
    expect(updated.json()).toEqual({ ids: [kept], latestDateCovered: sfDate(floorMinute(now())) });
  });

  it('answers jsforce deleted() and updated()', async () => {
    const conn = connect(emulator);
    const a = (await conn.sobject('Account').create({ Name: 'a' })).id as string;
    const b = (await conn.sobject('Account').create({ Name: 'b' })).id as string;
    advance(MINUTE);
    await conn.sobject('Account').destroy(b);
    advance(2 * MINUTE);
    const window = [new Date(T0 - MINUTE), new Date(now())] as const;
    const del = await conn.sobject('Account').deleted(...window);
    expect(del.deletedRecords.map((r) => r.id)).toEqual([b]);
    expect(del.latestDateCovered).toBe(sfDate(floorMinute(now())));
    const upd = await conn.sobject('Account').updated(...window);
    expect(upd.ids).toEqual([a]);
  });

  it('logs the deletes of every path: Collections, Composite, Bulk delete and hardDelete, SOAP, cascades', async () => {
    const conn = connect(emulator);
    const ids = emulator.org;
    const viaCollections = ids.insert('Account', { Name: 'collections' });
    const viaComposite = ids.insert('Account', { Name: 'composite' });
    const viaBulk = ids.insert('Account', { Name: 'bulk' });
    const viaHard = ids.insert('Account', { Name: 'hard' });
    const viaSoap = ids.insert('Account', { Name: 'soap' });
    const child = ids.insert('Contact', { LastName: 'child', AccountId: viaSoap });
    advance(MINUTE);
    const collections = await raw(emulator, `${DATA}/composite/sobjects?ids=${viaCollections}`, {
      method: 'DELETE',
    });
    expect(collections.status).toBe(200);
    const composite = await raw(emulator, `${DATA}/composite`, {
      method: 'POST',
      body: JSON.stringify({
        compositeRequest: [
          { method: 'DELETE', url: `${DATA}/sobjects/Account/${viaComposite}`, referenceId: 'd' },
        ],
      }),
    });
    expect(
      (composite.json() as { compositeResponse: { httpStatusCode: number }[] }).compositeResponse[0]
        ?.httpStatusCode,
    ).toBe(204);
    for (const [operation, id] of [
      ['delete', viaBulk],
      ['hardDelete', viaHard],
    ] as const) {
      const job = await conn.bulk2.loadAndWaitForResults({
        object: 'Account',
        operation,
        input: `Id\n${id}\n`,
        pollInterval: 10,
        pollTimeout: 10_000,
      });
      expect(job.successfulResults.map((r) => r.sf__Id)).toEqual([id]);
    }
    const soapDelete = await soap('delete', `<urn:ids>${viaSoap}</urn:ids>`);
    expect(soapDelete.status).toBe(200);
    advance(2 * MINUTE);
    expect((await deletedIds('Account', T0, now())).sort()).toEqual(
      [viaCollections, viaComposite, viaBulk, viaHard, viaSoap].sort(),
    );
    expect(await deletedIds('Contact', T0, now())).toEqual([child]);
    const dump = emulator.org.dumpObject('Account');
    expect(dump.has(viaHard)).toBe(false);
    expect(dump.get(viaBulk)?.IsDeleted).toBe('true');
  });

  it('takes the entry away on undelete, and getUpdated reports the row again', async () => {
    const id = emulator.org.insert('Account', { Name: 'back' });
    advance(MINUTE);
    emulator.org.delete([id]);
    advance(5 * MINUTE);
    const undeleteAt = now();
    const undone = await soap('undelete', `<urn:ids>${id}</urn:ids>`);
    expect(JSON.stringify(undone.body)).toContain('"success":"true"');
    advance(2 * MINUTE);
    expect(await deletedIds('Account', T0, now())).toEqual([]);
    const updated = await replication('updated', 'Account', floorMinute(undeleteAt), now());
    expect((updated.json() as { ids: string[] }).ids).toEqual([id]);
  });

  it('keeps the delete entry of a purged row and moves earliestDateAvailable to the purge, over REST and SOAP', async () => {
    const id = emulator.org.insert('Account', { Name: 'purged' });
    advance(MINUTE);
    const deletedAt = now();
    emulator.org.delete([id]);
    advance(10 * MINUTE);
    const purgedAt = now();
    const purge = await soap('emptyRecycleBin', `<urn:ids>${id}</urn:ids>`);
    expect(JSON.stringify(purge.body)).toContain('"success":"true"');
    expect(emulator.org.dumpObject('Account').has(id)).toBe(false);
    advance(10 * MINUTE);
    const body = await deleted('Account', T0, now());
    expect(body.deletedRecords).toEqual([{ id, deletedDate: sfDate(deletedAt) }]);
    expect(body.earliestDateAvailable).toBe(sfDate(purgedAt));
    expect(Date.parse(body.earliestDateAvailable.replace('+0000', 'Z'))).toBeGreaterThan(T0);
    expect((await deleted('Contact', T0, now())).earliestDateAvailable).toBe(
      sfDate(floorMinute(now()) - 15 * DAY),
    );
    const viaSoap = await soap('getDeleted', soapWindow('Account', T0, now()));
    expect(viaSoap.status).toBe(200);
    expect(viaSoap.body.getDeletedResponse).toEqual({
      result: {
        deletedRecords: { deletedDate: new Date(deletedAt).toISOString(), id },
        earliestDateAvailable: new Date(purgedAt).toISOString(),
        latestDateCovered: new Date(floorMinute(now())).toISOString(),
      },
    });
  });

  it('purges recycle-bin rows after 15 days on the clock, as a job at that instant would', async () => {
    const id = emulator.org.insert('Account', { Name: 'aging' });
    const deletedAt = now();
    emulator.org.delete([id]);
    const move = async (iso: string) =>
      raw(emulator, '/__emulator/settings', {
        method: 'POST',
        token: null,
        body: JSON.stringify({ clock: iso }),
      });
    await move(new Date(deletedAt + 15 * DAY - MINUTE).toISOString());
    expect(emulator.org.dumpObject('Account').get(id)?.IsDeleted).toBe('true');
    await move(new Date(deletedAt + 15 * DAY + 3 * MINUTE).toISOString());
    const dump = (await (await fetch(`${emulator.instanceUrl}/__emulator/dump`)).json()) as { id: string }[];
    expect(dump.map((r) => r.id)).not.toContain(id);
    const body = await deleted('Account', now() - 10 * MINUTE, now());
    expect(body.earliestDateAvailable).toBe(sfDate(deletedAt + 15 * DAY));
  });

  it('drops log entries after 15 days', async () => {
    const id = emulator.org.insert('Account', { Name: 'old' });
    advance(MINUTE);
    emulator.org.hardDelete([id]);
    advance(14 * DAY);
    expect(await deletedIds('Account', now() - 15 * DAY + MINUTE, now())).toEqual([id]);
    advance(DAY + 2 * MINUTE);
    const body = await deleted('Account', floorMinute(now()) - 15 * DAY, now());
    expect(body.deletedRecords).toEqual([]);
    expect(body.earliestDateAvailable).toBe(sfDate(floorMinute(now()) - 15 * DAY));
  });

  it('applies the one-minute rule, the age limits and the end bound, with Salesforce error shapes', async () => {
    advance(40 * DAY);
    const t = now();
    const tooShort = await replication('deleted', 'Account', t - 50_000, t);
    expect(tooShort.status).toBe(400);
    expect(tooShort.json()).toEqual([
      {
        errorCode: 'INVALID_REPLICATION_DATE',
        message: 'startDate must be at least one minute greater than endDate',
      },
    ]);
    expect((await replication('deleted', 'Account', t - 30_000, t + DAY)).status).toBe(400);
    const ok = await replication('deleted', 'Account', '2026-04-10T09:58:59Z', '2026-04-10T10:00:05Z');
    expect((ok.json() as DeletedBody).latestDateCovered).toBe('2026-04-10T10:00:00.000+0000');
    const future = await replication('updated', 'Account', t - 10 * MINUTE, t + DAY);
    expect((future.json() as { latestDateCovered: string }).latestDateCovered).toBe(sfDate(floorMinute(t)));
    const tooOld = await replication('deleted', 'Account', t - 16 * DAY, t);
    expect(tooOld.status).toBe(400);
    expect((tooOld.json() as { errorCode: string }[])[0]?.errorCode).toBe('INVALID_REPLICATION_DATE');
    expect((await replication('updated', 'Account', t - 20 * DAY, t)).status).toBe(200);
    expect((await replication('updated', 'Account', t - 31 * DAY, t)).status).toBe(400);
    const fault = await soap('getUpdated', soapWindow('Account', t - 31 * DAY, t));
    expect(fault.status).toBe(500);
    expect(JSON.stringify(fault.body)).toContain('sf:INVALID_REPLICATION_DATE');
    const jsforceRefusal = await failure(
      connect(emulator)
        .sobject('Account')
        .deleted(new Date(t - 30_000), new Date(t)),
    );
    expect(jsforceRefusal.name).toBe('INVALID_REPLICATION_DATE');
  });

  it('refuses missing and malformed dates, unknown and non-replicable objects', async () => {
    const t = now();
    const missing = await raw(
      emulator,
      `${DATA}/sobjects/Account/deleted/?end=${encodeURIComponent(new Date(t).toISOString())}`,
    );
    expect(missing.status).toBe(400);
    expect(missing.json()).toEqual([
      { errorCode: 'MISSING_ARGUMENT', message: 'start not specified', fields: ['start'] },
    ]);
    const malformed = await replication('updated', 'Account', 'yesterday', t);
    expect(malformed.status).toBe(400);
    expect((malformed.json() as { errorCode: string; message: string }[])[0]).toMatchObject({
      errorCode: 'MALFORMED_QUERY',
      message: expect.stringContaining('start date is not in the correct format'),
    });
    const unknown = await replication('deleted', 'NoSuch__c', t - 10 * MINUTE, t);
    expect(unknown.status).toBe(404);
    expect((unknown.json() as { errorCode: string }[])[0]?.errorCode).toBe('NOT_FOUND');
    const notReplicable = await replication('deleted', 'CaseStatus', t - 10 * MINUTE, t);
    expect(notReplicable.status).toBe(400);
    expect(notReplicable.json()).toEqual([
      { errorCode: 'INVALID_TYPE', message: 'sObject type CaseStatus is not replicable' },
    ]);
    const soapUnknown = await soap('getDeleted', soapWindow('NoSuch__c', t - 10 * MINUTE, t));
    expect(JSON.stringify(soapUnknown.body)).toContain('sf:INVALID_TYPE');
    const soapMalformed = await soap('getDeleted', soapWindow('Account', 'soon', t));
    expect(JSON.stringify(soapMalformed.body)).toContain('sf:INVALID_REPLICATION_DATE');
    const global = (await raw(emulator, `${DATA}/sobjects`)).json() as {
      sobjects: { name: string; replicateable: boolean }[];
    };
    const flag = (name: string) => global.sobjects.find((s) => s.name === name)?.replicateable;
    expect([flag('Account'), flag('Contact'), flag('CaseStatus'), flag('AccountChangeEvent')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('serves both resources inside Composite, 25 subrequests at a time', async () => {
    const ids = Array.from({ length: 3 }, (_, i) => emulator.org.insert('Account', { Name: `c${i}` }));
    advance(MINUTE);
    emulator.org.delete([ids[0]!]);
    advance(2 * MINUTE);
    const window = `start=${encodeURIComponent(new Date(T0).toISOString())}&end=${encodeURIComponent(new Date(now()).toISOString())}`;
    const compositeRequest = Array.from({ length: 25 }, (_, i) => ({
      method: 'GET',
      url: `${DATA}/sobjects/${i === 24 ? 'Account/updated' : i % 2 ? 'Contact/deleted' : 'Account/deleted'}/?${window}`,
      referenceId: `r${i}`,
    }));
    const response = await raw(emulator, `${DATA}/composite`, {
      method: 'POST',
      body: JSON.stringify({ compositeRequest }),
    });
    expect(response.status).toBe(200);
    const results = (response.json() as { compositeResponse: { httpStatusCode: number; body: unknown }[] })
      .compositeResponse;
    expect(results).toHaveLength(25);
    expect(results.every((r) => r.httpStatusCode === 200)).toBe(true);
    const body = (i: number) => results[i]!.body;
    expect((body(0) as DeletedBody).deletedRecords.map((r) => r.id)).toEqual([ids[0]]);
    expect((body(1) as DeletedBody).deletedRecords).toEqual([]);
    expect((body(24) as { ids: string[] }).ids.sort()).toEqual([ids[1], ids[2]].sort());
  });

  it('leaves no entry for a record a rolled-back Composite request created', async () => {
    const response = await raw(emulator, `${DATA}/composite`, {
      method: 'POST',
      body: JSON.stringify({
        allOrNone: true,
        compositeRequest: [
          { method: 'POST', url: `${DATA}/sobjects/Account`, referenceId: 'made', body: { Name: 'made' } },
          {
            method: 'POST',
            url: `${DATA}/sobjects/Account`,
            referenceId: 'bad',
            body: { NoSuchField__c: 1 },
          },
        ],
      }),
    });
    const results = (response.json() as { compositeResponse: { httpStatusCode: number }[] })
      .compositeResponse;
    expect(results.map((r) => r.httpStatusCode)).toEqual([400, 400]);
    expect(emulator.org.dumpObject('Account').size).toBe(0);
    advance(2 * MINUTE);
    expect(await deletedIds('Account', T0, now())).toEqual([]);
  });

  it('answers EXCEEDED_ID_LIMIT past the id limit, 600,000 unless lowered', async () => {
    expect(DEFAULT_REPLICATION_ID_LIMIT).toBe(600_000);
    await expect(start({ replicationIdLimit: 0 })).rejects.toThrow(/replicationIdLimit must be a positive/);
    await emulator.stop();
    await boot({ replicationIdLimit: 2 });
    const ids = Array.from({ length: 3 }, (_, i) => emulator.org.insert('Account', { Name: `l${i}` }));
    emulator.org.delete(ids.slice(0, 2));
    advance(2 * MINUTE);
    expect(await deletedIds('Account', T0, now())).toHaveLength(2);
    emulator.org.delete([ids[2]!]);
    advance(2 * MINUTE);
    const over = await replication('deleted', 'Account', T0, now());
    expect(over.status).toBe(400);
    expect((over.json() as { errorCode: string }[])[0]?.errorCode).toBe('EXCEEDED_ID_LIMIT');
    const soapOver = await soap('getDeleted', soapWindow('Account', T0, now()));
    expect(JSON.stringify(soapOver.body)).toContain('sf:EXCEEDED_ID_LIMIT');
  });

  it('lists updated ids over SOAP', async () => {
    const id = emulator.org.insert('Account', { Name: 'soap' });
    advance(2 * MINUTE);
    const result = await soap('getUpdated', soapWindow('Account', T0, now()));
    expect(result.status).toBe(200);
    const body = result.body.getUpdatedResponse as {
      result: { ids: string | string[]; latestDateCovered: string };
    };
    expect(asArray(body.result.ids)).toEqual([id]);
    expect(body.result.latestDateCovered).toBe(new Date(floorMinute(now())).toISOString());
  });

  it('serves the resources from API 29.0 only', async () => {
    await emulator.stop();
    await boot({ apiVersions: { min: 28, max: 62 } });
    const t = now() + 2 * MINUTE;
    advance(2 * MINUTE);
    const q = `start=${encodeURIComponent(new Date(T0).toISOString())}&end=${encodeURIComponent(new Date(t).toISOString())}`;
    expect((await raw(emulator, `/services/data/v28.0/sobjects/Account/deleted/?${q}`)).status).toBe(404);
    expect((await raw(emulator, `/services/data/v29.0/sobjects/Account/deleted/?${q}`)).status).toBe(200);
  });
});
