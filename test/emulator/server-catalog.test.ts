/**
 * The production catalog over HTTP: describeGlobal and describe through jsforce, REST query and
 * queryAll, composite count queries, Bulk API 2.0 job creation, and Salesforce's own CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { createSfCli, type SfCli } from '../support/sf-cli.ts';
import { connect, failure, raw, start } from './server-support.ts';

const V = '/services/data/v62.0';

function queryPath(soql: string, all = false): string {
  return `${V}/${all ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`;
}

describe('production catalog over HTTP', () => {
  let emulator: RunningEmulator;
  let accountId: string;

  beforeAll(async () => {
    emulator = await start({ catalog: 'production', clock: new Date('2026-03-01T10:00:00.000Z') });
    accountId = emulator.org.insert('Account', { Name: 'Acme' });
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  it('lists the catalog in describeGlobal with the flags jsforce reads', async () => {
    const global = await connect(emulator).describeGlobal();
    expect(global.sobjects.length).toBeGreaterThanOrEqual(450);
    const entry = (name: string) =>
      global.sobjects.find((s) => s.name === name) as unknown as Record<string, unknown>;
    expect(entry('AccountHistory')).toMatchObject({
      queryable: true,
      retrieveable: true,
      replicateable: true,
      createable: false,
      updateable: false,
      deletable: false,
      searchable: false,
      layoutable: false,
      triggerable: false,
      custom: false,
      isInterface: false,
    });
    expect(entry('ActivityHistory')).toMatchObject({ queryable: false });
    expect(entry('Orders__x')).toMatchObject({ queryable: true, custom: true });
    expect(entry('Integration_Settings__c')).toMatchObject({ customSetting: true, custom: true });
    expect(entry('Account')).toMatchObject({ customSetting: false, isInterface: false });
  });

  it("describes a catalog object's fields through jsforce", async () => {
    const history = await connect(emulator).sobject('AccountHistory').describe();
    const names = history.fields.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['Id', 'AccountId', 'Field', 'CreatedDate']));
    expect(names).not.toContain('SystemModstamp');
    const share = await connect(emulator).sobject('AccountShare').describe();
    expect(share.fields.map((f) => f.name)).toContain('LastModifiedDate');
    const account = await connect(emulator).sobject('Account').describe();
    expect(account.childRelationships).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ childSObject: 'AccountHistory', relationshipName: 'Histories' }),
      ]),
    );
  });

  it('answers history and share rows by query and queryAll', async () => {
    const conn = connect(emulator);
    const history = await conn.query(`SELECT AccountId, Field, CreatedDate FROM AccountHistory`);
    expect(history.records).toEqual([
      expect.objectContaining({
        AccountId: accountId,
        Field: 'created',
        CreatedDate: '2026-03-01T10:00:00.000+0000',
      }),
    ]);
    const all = await raw(emulator, queryPath('SELECT Id, RowCause FROM AccountShare', true));
    expect(all.status).toBe(200);
    expect(all.json()).toMatchObject({
      totalSize: 1,
      records: [expect.objectContaining({ RowCause: 'Owner' })],
    });
  });

  it("answers refused queries with HTTP 400 and Salesforce's error array", async () => {
    const cases: Array<[string, string, string]> = [
      [
        'SELECT Id FROM ActivityHistory',
        'INVALID_TYPE_FOR_OPERATION',
        'entity type ActivityHistory does not support query',
      ],
      [
        'SELECT Id FROM ContentDocumentLink',
        'MALFORMED_QUERY',
        'Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId',
      ],
      [
        'SELECT Id FROM KnowledgeArticleVersion',
        'MALFORMED_QUERY',
        'you must filter using the following syntax',
      ],
      ['SELECT Game_Platform__c FROM Customer_Interaction__b', 'MALFORMED_QUERY', 'index fields in order'],
      ['SELECT ExternalId FROM Orders__x', 'EXTERNAL_OBJECT_CONNECTION_EXCEPTION', 'Orders__x'],
    ];
    for (const [soql, errorCode, text] of cases) {
      for (const all of [false, true]) {
        const response = await raw(emulator, queryPath(soql, all));
        expect(response.status, soql).toBe(400);
        const body = response.json() as Array<{ errorCode: string; message: string }>;
        expect(body).toHaveLength(1);
        expect(body[0]?.errorCode, soql).toBe(errorCode);
        expect(body[0]?.message).toContain(text);
      }
    }
    const filtered = await connect(emulator).query(
      `SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '${accountId}'`,
    );
    expect(filtered.totalSize).toBe(0);
    expect((await failure(connect(emulator).query('SELECT Id FROM Order_Event__e'))).name).toBe(
      'INVALID_TYPE_FOR_OPERATION',
    );
  });

  it('answers composite count queries per subrequest', async () => {
    const count = (soql: string, ref: string) => ({
      method: 'GET',
      url: `${V}/query?q=${encodeURIComponent(soql)}`,
      referenceId: ref,
    });
    const response = (await connect(emulator).request({
      method: 'POST',
      url: `${V}/composite`,
      body: JSON.stringify({
        compositeRequest: [
          count('SELECT COUNT() FROM AccountHistory', 'history'),
          count('SELECT COUNT() FROM ContentDocumentLink', 'links'),
          count('SELECT COUNT() FROM TaskPriority', 'priorities'),
        ],
      }),
      headers: { 'content-type': 'application/json' },
    })) as { compositeResponse: Array<{ httpStatusCode: number; body: unknown; referenceId: string }> };
    const [history, links, priorities] = response.compositeResponse;
    expect(history).toMatchObject({ httpStatusCode: 200, body: { totalSize: 1 } });
    expect(links?.httpStatusCode).toBe(400);
    expect(links?.body).toEqual([expect.objectContaining({ errorCode: 'MALFORMED_QUERY' })]);
    expect(priorities).toMatchObject({ httpStatusCode: 200, body: { totalSize: 0 } });
  });

  it('refuses Bulk API 2.0 query jobs as Salesforce does, per kind of object', async () => {
    const create = (query: string) =>
      raw(emulator, `${V}/jobs/query`, {
        method: 'POST',
        body: JSON.stringify({ operation: 'query', query }),
      });
    const refusals: Array<[string, string]> = [
      ['SELECT Id FROM TaskPriority', 'INVALIDENTITY'],
      ['SELECT DeveloperName FROM Support_Tier__mdt', 'INVALIDENTITY'],
      ['SELECT Game_Platform__c FROM Customer_Interaction__b', 'INVALIDENTITY'],
      ['SELECT ExternalId FROM Orders__x', 'INVALIDENTITY'],
      ['SELECT Id FROM ContentDocumentLink', 'MALFORMED_QUERY'],
      ['SELECT Id FROM Knowledge__kav', 'MALFORMED_QUERY'],
      ['SELECT Id FROM AccountChangeEvent', 'INVALID_TYPE_FOR_OPERATION'],
    ];
    for (const [query, errorCode] of refusals) {
      const response = await create(query);
      expect(response.status, query).toBe(400);
      expect(response.json(), query).toEqual([expect.objectContaining({ errorCode })]);
    }
    expect(
      ((await create('SELECT Id FROM TaskPriority')).json() as Array<{ message: string }>)[0]?.message,
    ).toBe("Entity 'TaskPriority' is not supported by the Bulk API.");
    const accepted = await create('SELECT Id, Field FROM AccountHistory');
    expect(accepted.status).toBe(200);
    expect(accepted.json()).toMatchObject({ object: 'AccountHistory', state: 'UploadComplete' });
    const settings = await create('SELECT Id, Name FROM Integration_Settings__c');
    expect(settings.status).toBe(200);
  });
});

describe('production catalog through the sf CLI', () => {
  let emulator: RunningEmulator;
  let sf: SfCli;

  beforeAll(async () => {
    emulator = await start({ catalog: 'production', username: 'catalog@emulated.org' });
    emulator.org.insert('Account', { Name: 'Acme' });
    sf = createSfCli({ accessToken: emulator.accessToken });
    const login = await sf.run([
      'org',
      'login',
      'access-token',
      '--instance-url',
      emulator.instanceUrl,
      '--no-prompt',
      '--alias',
      'cat',
      '--json',
    ]);
    expect(login.json?.status, login.stderr).toBe(0);
  });

  afterAll(async () => {
    sf?.cleanup();
    await emulator?.stop();
  });

  it('lists the catalog with sf sobject list', async () => {
    const result = await sf.run(['sobject', 'list', '--sobject', 'all', '--target-org', 'cat', '--json']);
    expect(result.json?.status, result.stderr).toBe(0);
    const names = result.json?.result as string[];
    expect(names).toEqual(
      expect.arrayContaining(['AccountHistory', 'AccountShare', 'Orders__x', 'TaskPriority']),
    );
    expect(names.length).toBeGreaterThanOrEqual(450);
  });

  it('queries a history object, and shows the refusal of a filter-required one, with sf data query', async () => {
    const ok = await sf.run([
      'data',
      'query',
      '--query',
      'SELECT Id, Field FROM AccountHistory',
      '--target-org',
      'cat',
      '--json',
    ]);
    expect(ok.json?.status, ok.stderr).toBe(0);
    expect(ok.json?.result).toMatchObject({
      totalSize: 1,
      records: [expect.objectContaining({ Field: 'created' })],
    });
    const refused = await sf.run([
      'data',
      'query',
      '--query',
      'SELECT Id FROM ContentDocumentLink',
      '--target-org',
      'cat',
      '--json',
    ]);
    expect(refused.json?.status).not.toBe(0);
    expect(`${refused.json?.name} ${refused.json?.message}`).toContain('Implementation restriction');
  });
});
