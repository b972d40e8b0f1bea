/**
 * The calls that run on jsforce's own APIs over the shared connection (Metadata API and partner
 * undelete on its SOAP client, Bulk API 2.0 ingest on `bulk2`): sessions renewed mid-call, faults
 * named, every request counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import type { SalesforceCredentials } from '../../lambdas/adapters/salesforce/auth.ts';
import { SalesforceConnection } from '../../lambdas/adapters/salesforce/connection.ts';
import { describeMetadata, listMetadata } from '../../lambdas/adapters/salesforce/metadata-soap.ts';
import { FetchTransport } from '../../lambdas/adapters/salesforce/transport.ts';
import { SalesforceHttp } from '../../lambdas/adapters/salesforce/writer-http.ts';
import { bulkIngest } from '../../lambdas/adapters/salesforce/writer-bulk.ts';
import { undeleteIds } from '../../lambdas/adapters/salesforce/writer-soap.ts';
import {
  SalesforceRequestError,
  SalesforceSessionExpiredError,
  SalesforceTransientError,
} from '../../lambdas/core/salesforce.ts';

const APP = { clientId: 'soap-test-app', clientSecret: 'soap-test-secret' };
let emu: RunningEmulator;
let signIn: SalesforceCredentials;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, clientCredentials: APP });
  signIn = { kind: 'client-credentials', loginUrl: emu.instanceUrl, ...APP };
});

afterAll(async () => {
  await emu.stop();
});

const noSleep = async () => undefined;

/** API requests the emulator has served (refused ones included), sign-ins excluded. */
async function served(): Promise<number> {
  const counts = (await (await fetch(`${emu.instanceUrl}/__emulator/counts`)).json()) as {
    byEndpoint: Record<string, number>;
  };
  return Object.entries(counts.byEndpoint)
    .filter(([endpoint]) => endpoint !== 'oauth')
    .reduce((sum, [, n]) => sum + n, 0);
}

describe('SOAP calls over the jsforce connection', () => {
  it('recover from a session that expires before a Metadata API call, resending it with the renewed session id', async () => {
    const connection = new SalesforceConnection(signIn, '62.0', noSleep);
    const before = (await connection.current()).accessToken;
    emu.server.sessions.revoke(before);

    const types = await describeMetadata(connection);

    expect(types.map((t) => t.xmlName)).toContain('ApexClass');
    expect((await connection.current()).accessToken).not.toBe(before);
    // The refused call and the same call resent; the sign-in is not an API call.
    expect(connection.apiCalls()).toBe(2);
  });

  it('recover from a session that expires before an undelete, which then brings the row back', async () => {
    const id = emu.org.insert('Account', { Name: 'Undeleted by SOAP' });
    emu.org.delete([id]);
    const http = new SalesforceHttp(signIn, '62.0');
    emu.server.sessions.revoke((await http.connection.current()).accessToken);

    const [result] = await undeleteIds(http, [id]);

    expect(result).toEqual({ id, success: true, errors: [] });
    expect(emu.org.rowCounts().Account?.deleted ?? 0).toBe(0);
    expect(http.calls).toBe(2);
  });

  it('fail as an expired session, without looping, when the renewed session is refused too', async () => {
    const connection = new SalesforceConnection(
      { kind: 'access-token', instanceUrl: emu.instanceUrl, accessToken: 'revoked-token' },
      '62.0',
      noSleep,
    );

    const before = await served();

    const failure = await describeMetadata(connection).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SalesforceSessionExpiredError);
    // The refused call and the same call resent with the token tried once more, each counted once.
    expect(connection.apiCalls()).toBe((await served()) - before);
    expect(connection.apiCalls()).toBe(2);
  });

  it('sign in again on the next refusal when renewing the session failed for a moment', async () => {
    const connection = new SalesforceConnection(signIn, '62.0', noSleep);
    const before = (await connection.current()).accessToken;
    emu.server.sessions.revoke(before);
    await fetch(`${emu.instanceUrl}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ spec: 'oauth:503#1' }),
    });

    const types = await describeMetadata(connection);

    expect(types.map((t) => t.xmlName)).toContain('ApexClass');
    expect((await connection.current()).accessToken).not.toBe(before);
    // Refused, its renewal failing; repeated, refused again and renewed; resent.
    expect(connection.apiCalls()).toBe(3);
  });

  it('name a SOAP fault by its Salesforce code, neither repeating it nor echoing the session', async () => {
    const connection = new SalesforceConnection(signIn, '62.0', noSleep);

    const failure = await listMetadata(connection, [{ type: 'NoSuchMetadataType' }]).catch(
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(SalesforceRequestError);
    expect(failure).toMatchObject({ errorCode: 'INVALID_TYPE' });
    expect(String((failure as Error).message)).not.toContain((await connection.current()).accessToken);
    expect(connection.apiCalls()).toBe(1);
  });
});

describe('failures with no Salesforce error code', () => {
  it('are permanent when jsforce refuses a call itself, so an idempotent call is not repeated', async () => {
    const connection = new SalesforceConnection(signIn, '62.0', noSleep);
    let runs = 0;

    const failure = await connection
      .api(
        'Account update',
        (conn) => {
          runs++;
          return conn.sobject('Account').update({ Id: '', Name: 'No id' });
        },
        { idempotent: true },
      )
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SalesforceRequestError);
    expect(failure).not.toBeInstanceOf(SalesforceTransientError);
    expect(runs).toBe(1);
    expect(connection.apiCalls()).toBe(0);
  });

  it('are transient when the answer is cut, so an idempotent call is repeated and succeeds', async () => {
    const connection = new SalesforceConnection(signIn, '62.0', noSleep);
    await connection.current();
    await fetch(`${emu.instanceUrl}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ spec: 'metadata:cut=10#1' }),
    });
    const before = await served();

    const types = await describeMetadata(connection);

    expect(types.map((t) => t.xmlName)).toContain('ApexClass');
    expect(connection.apiCalls()).toBe(2);
    expect((await served()) - before).toBe(2);
  });
});

describe('the transport under jsforce', () => {
  it('hands back a large answer without copying it whole into its stream, which still reads the same bytes', async () => {
    const name = `Large answer ${'é'.repeat(200)} 😀`;
    for (let i = 0; i < 1500; i++) emu.org.insert('Account', { Name: `${name} ${i}` });
    const connection = new SalesforceConnection(signIn, '62.0', noSleep);
    const session = await connection.current();
    const transport = new FetchTransport();
    const query = encodeURIComponent(`SELECT Id, Name FROM Account WHERE Name LIKE 'Large answer%'`);

    const sent = transport.httpRequest({
      method: 'GET',
      url: `${session.instanceUrl}/services/data/v62.0/query?q=${query}`,
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    const response = await sent;
    const stream = sent.stream();
    stream.read(0);
    await new Promise((resolve) => setImmediate(resolve));

    // A few slices are encoded ahead of the reader, never the whole answer.
    expect(Buffer.byteLength(response.body)).toBeGreaterThan(500_000);
    expect(stream.readableLength).toBeLessThan(Buffer.byteLength(response.body) / 4);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(response.body);
  });
});

describe('Bulk API 2.0 ingest over jsforce bulk2', () => {
  it('answers one result per row in the order given, a refused row with its error', async () => {
    const http = new SalesforceHttp(signIn, '62.0');
    await http.connection.current();
    const before = await served();

    const results = await bulkIngest(
      http,
      'Account',
      'insert',
      [{ Name: 'Bulk one' }, { Name: null, Phone: '555' }, { Name: 'Bulk, "three"' }],
      noSleep,
    );

    expect(results.map((r) => r.success)).toEqual([true, false, true]);
    expect(results[1]?.errors[0]?.statusCode).toBe('REQUIRED_FIELD_MISSING');
    expect(emu.org.retrieve('Account', results[2]?.id ?? '').Name).toBe('Bulk, "three"');
    // Create, upload, close, the status checks, and the two result lists the job's counts name
    // (successes and failures; every row was processed, so no unprocessed list): each counted once.
    expect(http.calls).toBeGreaterThanOrEqual(6);
    expect(http.calls).toBe((await served()) - before);
  });

  it('resends an upload with its body when the session expires between opening the job and uploading', async () => {
    const connection = new SalesforceConnection(signIn, '62.0', noSleep);
    const conn = await connection.jsforce();
    const before = await served();
    const job = conn.bulk2.createJob({ object: 'Account', operation: 'insert', lineEnding: 'LF' });
    await connection.api('open', () => job.open());
    // An injected expiry, unlike a revoked session, is counted by the server as Salesforce counts it.
    await fetch(`${emu.instanceUrl}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ spec: 'bulk-ingest:expired-session#1' }),
    });

    await connection.api('upload', () => job.uploadData('Name\n"Uploaded after renewal"\n'));
    await connection.api('close', () => job.close());

    expect(connection.apiCalls()).toBe((await served()) - before);
    // Open, the refused upload, the upload resent, close.
    expect(connection.apiCalls()).toBe(4);
  }, 5000);

  it('updates a field to null and leaves a field absent from a row as it was', async () => {
    const id = emu.org.insert('Account', { Name: 'Bulk update', Phone: '555-0100', Website: 'kept.example' });
    const http = new SalesforceHttp(signIn, '62.0');

    const [result] = await bulkIngest(http, 'Account', 'update', [{ Id: id, Phone: null }], noSleep);

    expect(result).toEqual({ id, success: true, errors: [] });
    const row = emu.org.retrieve('Account', id);
    expect(row.Phone).toBeNull();
    expect(row.Website).toBe('kept.example');
  });
});
