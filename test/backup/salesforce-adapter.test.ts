import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { credentialsFromSecret, InvalidOrgSecretError } from '../../lambdas/adapters/salesforce/auth.ts';
import { translateHttpError, translateSoapFault } from '../../lambdas/adapters/salesforce/errors.ts';
import { HttpSalesforceSource } from '../../lambdas/adapters/salesforce/source.ts';

describe('Salesforce error translation', () => {
  it('names each kind of failure the way the workflow retries or catches it', () => {
    const body = (code: string) => JSON.stringify([{ errorCode: code, message: 'm' }]);
    expect(translateHttpError(403, body('REQUEST_LIMIT_EXCEEDED'), 'x').name).toBe(
      'SalesforceRateLimitError',
    );
    expect(translateHttpError(401, body('INVALID_SESSION_ID'), 'x').name).toBe(
      'SalesforceSessionExpiredError',
    );
    expect(translateHttpError(503, '<html>down</html>', 'x').name).toBe('SalesforceTransientError');
    expect(translateHttpError(400, body('UNABLE_TO_LOCK_ROW'), 'x').name).toBe('SalesforceTransientError');
    expect(translateHttpError(400, body('INVALID_FIELD'), 'x').name).toBe('SalesforceQueryError');
    // An external object's data source that does not answer may answer on a later try.
    expect(translateHttpError(400, body('EXTERNAL_OBJECT_CONNECTION_EXCEPTION'), 'x').name).toBe(
      'SalesforceTransientError',
    );
    expect(translateHttpError(400, body('EXTERNAL_OBJECT_EXCEPTION'), 'x').name).toBe(
      'SalesforceTransientError',
    );
    expect(translateHttpError(404, body('NOT_FOUND'), 'x').name).toBe('SalesforceRequestError');
    expect(translateSoapFault('sf:INVALID_SESSION_ID', 'expired', 'x').name).toBe(
      'SalesforceSessionExpiredError',
    );
    expect(translateSoapFault('sf:INVALID_TYPE', 'bad', 'x').name).toBe('SalesforceRequestError');
  });
});

describe('the org secret', () => {
  it('reads the JWT bearer and client credentials shapes, and names missing fields without echoing values', () => {
    const jwt = credentialsFromSecret(
      JSON.stringify({ clientId: 'id', username: 'u@x', privateKey: '-----BEGIN PRIVATE KEY-----\nabc' }),
      'https://login.salesforce.com',
    );
    expect(jwt).toMatchObject({
      kind: 'jwt-bearer',
      loginUrl: 'https://login.salesforce.com',
      clientId: 'id',
    });
    const cc = credentialsFromSecret(
      JSON.stringify({
        flow: 'client-credentials',
        loginUrl: 'https://acme.my.salesforce.com',
        clientId: 'id',
        clientSecret: 's3cr3t',
      }),
    );
    expect(cc).toMatchObject({ kind: 'client-credentials', loginUrl: 'https://acme.my.salesforce.com' });
    const bad = () =>
      credentialsFromSecret(
        JSON.stringify({ flow: 'client-credentials', clientId: 'id', clientSecret: 'hunter2' }),
      );
    expect(bad).toThrow(InvalidOrgSecretError);
    expect(bad).toThrow(/login URL/);
    try {
      credentialsFromSecret(JSON.stringify({ clientId: 'id', privateKey: 'hunter2' }));
    } catch (error) {
      expect((error as Error).message).toMatch(/username|privateKey/);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('the HTTP source against the org emulator', () => {
  let emu: RunningEmulator;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  beforeAll(async () => {
    emu = await startEmulator({
      jwt: {
        clientId: 'backup-app',
        certificate: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    });
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('signs in with the JWT bearer flow and reads identity, limits and objects', async () => {
    const source = new HttpSalesforceSource({
      kind: 'jwt-bearer',
      loginUrl: emu.instanceUrl,
      clientId: 'backup-app',
      username: emu.username,
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    expect((await source.identity()).orgId).toBe(emu.orgId);
    expect((await source.limits()).dailyApiRequests.max).toBeGreaterThan(0);
    expect((await source.describeGlobal()).map((o) => o.name)).toContain('Account');
    expect(source.apiCalls()).toBe(3);
  });

  it('refuses a wrong signing key with an error that says to fix the secret', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const source = new HttpSalesforceSource({
      kind: 'jwt-bearer',
      loginUrl: emu.instanceUrl,
      clientId: 'backup-app',
      username: emu.username,
      privateKey: other.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    await expect(source.identity()).rejects.toMatchObject({ name: 'SalesforceAuthError' });
  });

  it('signs in again once when Salesforce reports an expired session', async () => {
    const source = new HttpSalesforceSource({
      kind: 'access-token',
      instanceUrl: emu.instanceUrl,
      accessToken: emu.accessToken,
    });
    await fetch(`${emu.instanceUrl}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ spec: 'limits:expired-session#1' }),
    });
    expect((await source.limits()).dailyApiRequests.remaining).toBeGreaterThan(0);
    await fetch(`${emu.instanceUrl}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ spec: 'limits:expired-session#2' }),
    });
    await expect(source.limits()).rejects.toMatchObject({ name: 'SalesforceSessionExpiredError' });
  });

  it('sends COUNT() queries 25 to a Composite call', async () => {
    const source = new HttpSalesforceSource({
      kind: 'access-token',
      instanceUrl: emu.instanceUrl,
      accessToken: emu.accessToken,
    });
    const objects = (await source.describeGlobal())
      .filter((o) => o.queryable)
      .map((o) => o.name)
      .slice(0, 26);
    const before = source.apiCalls();
    const counts = await source.countRows(
      objects.map((name) => ({ key: name, soql: `SELECT COUNT() FROM ${name}` })),
    );
    expect(source.apiCalls() - before).toBe(Math.ceil(objects.length / 25));
    expect(counts.get('User')).toBe(1);
  });
});

describe("the HTTP source reads an Event Relay's state and its channel's entities from the emulator", () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ clock: new Date('2026-03-01T10:00:00.000Z') });
  });
  afterAll(async () => {
    await emu?.stop();
  });
  const source = () =>
    new HttpSalesforceSource({
      kind: 'access-token',
      instanceUrl: emu.instanceUrl,
      accessToken: emu.accessToken,
    });

  it('reports the relay matched on its partner event source, with its feedback and recovery option', async () => {
    emu.cdc.select(['Account', 'Contact']);
    emu.relay.configure({ state: 'RUN', replayRecovery: 'EARLIEST' });
    emu.org.insert('Account', { Name: 'Relayed' });
    emu.server.clock.advance(60_000);
    emu.relay.outage(5 * 60_000);
    const report = await source().eventRelay(emu.relay.source);
    expect(report).toEqual({
      id: emu.relay.relayId,
      developerName: 'Emulator_Relay',
      state: 'RUN',
      eventChannel: 'ChangeEvents',
      replayRecovery: 'EARLIEST',
      status: 'ERROR',
      errorCode: 'sfdc.platform.eventbus.relay.aws.partner.eventsource.connect.error',
      errorMessage: 'The configured event relay encountered an error while connecting to Amazon EventBridge.',
      errorTime: '2026-03-01T10:01:00.000Z',
      lastRelayedEventTime: '2026-03-01T10:00:00.000Z',
      remoteResource: emu.relay.source,
    });
    expect(
      await source().eventRelay('aws.partner/salesforce.com/00D000000000001/0YL000000000001'),
    ).toBeNull();
    expect((await source().changeEventEntities(report!.eventChannel)).sort()).toEqual(['Account', 'Contact']);
    expect(await source().changeEventEntities('/data/ChangeEvents')).toHaveLength(2);
    expect(await source().changeEventEntities('SomeOther__chn')).toEqual([]);
  });

  it("matches a custom channel's members, which report the channel's id, to the channel's name", async () => {
    const offline = new HttpSalesforceSource({
      kind: 'access-token',
      instanceUrl: 'http://127.0.0.1:9',
      accessToken: 'unused',
    });
    const asked: string[] = [];
    vi.spyOn(offline.connection, 'json').mockImplementation(async (path: string) => {
      const soql = decodeURIComponent(path.split('?q=')[1] ?? '');
      asked.push(soql);
      const records = soql.includes('FROM PlatformEventChannelMember')
        ? [
            { EventChannel: '0YLRM0000004Dfg', SelectedEntity: 'AccountChangeEvent' },
            { EventChannel: '0YLRM0000004Dfg4AE', SelectedEntity: 'Invoice__ChangeEvent' },
            { EventChannel: '0YLRM0000009Zzz4AE', SelectedEntity: 'CaseChangeEvent' },
            { EventChannel: 'ChangeEvents', SelectedEntity: 'LeadChangeEvent' },
          ]
        : [
            { Id: '0YLRM0000004Dfg4AE', DeveloperName: 'SfVault', NamespacePrefix: null },
            { Id: '0YLRM0000009Zzz4AE', DeveloperName: 'Other', NamespacePrefix: null },
          ];
      return { records } as never;
    });
    expect(await offline.changeEventEntities('SfVault__chn')).toEqual(['Account', 'Invoice__c']);
    expect(asked[0]).toBe('SELECT Id, DeveloperName, NamespacePrefix FROM PlatformEventChannel');
    expect(await offline.changeEventEntities('ChangeEvents')).toEqual(['Lead']);
    expect(await offline.changeEventEntities('0YLRM0000009Zzz4AE')).toEqual(['Case']);
  });
});

describe('a metadata retrieve answer over the bound the source is given', () => {
  let emu: RunningEmulator | undefined;
  afterAll(async () => {
    await emu?.stop();
  });

  it('stops reading it and fails as too large, while a retrieve within the bound reads whole', async () => {
    emu = await startEmulator({ port: 0 });
    const credentials = {
      kind: 'access-token' as const,
      instanceUrl: emu.instanceUrl,
      accessToken: emu.accessToken,
    };
    const members = new Map([['CustomObject', ['Account']]]);
    const roomy = new HttpSalesforceSource(credentials);
    let status = await roomy.checkRetrieveStatus(await roomy.retrieve(members));
    for (let polls = 0; !status.done && polls < 50; polls++)
      status = await roomy.checkRetrieveStatus(status.id);
    expect(status.zip?.byteLength).toBeGreaterThan(0);

    const tight = new HttpSalesforceSource(credentials, undefined, { retrieveAnswerLimitBytes: 256 });
    const id = await tight.retrieve(members);
    const failure = await (async () => {
      for (let polls = 0; polls < 50; polls++) {
        if ((await tight.checkRetrieveStatus(id)).done) return undefined;
      }
      return undefined;
    })().catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'SalesforceAnswerTooLargeError' });
    expect(String((failure as Error).message)).toMatch(/passed 256 bytes/);
  });
});
