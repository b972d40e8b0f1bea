/**
 * Where jsforce 3.10.26 falls short for this product, shown against the org emulator. Each test
 * names the hand-written path it justifies; when one starts failing, jsforce has been fixed and the
 * path can be dropped in favour of jsforce's own.
 */
import { spawn } from 'node:child_process';
import jsforce from 'jsforce';
import { Transport } from 'jsforce/lib/transport.js';
import type { HttpRequest, HttpRequestOptions, HttpResponse } from 'jsforce/lib/types/common.js';
import type { StreamPromise } from 'jsforce/lib/util/promise.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { SalesforceConnection } from '../../lambdas/adapters/salesforce/connection.ts';
import { HttpSalesforceSource } from '../../lambdas/adapters/salesforce/source.ts';
import { FetchTransport } from '../../lambdas/adapters/salesforce/transport.ts';
import { SalesforceTransientError } from '../../lambdas/core/salesforce.ts';

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, bulkPageSize: 5 });
  for (let i = 0; i < 12; i++) emu.org.insert('Account', { Name: `Account ${i}` });
});

afterAll(async () => {
  await emu.stop();
});

function fault(spec: string): Promise<Response> {
  return fetch(`${emu.instanceUrl}/__emulator/faults`, { method: 'POST', body: JSON.stringify({ spec }) });
}

/** Requests the emulator has served on an endpoint (refused ones included), as Salesforce counts them. */
async function served(endpoint: string): Promise<number> {
  const counts = (await (await fetch(`${emu.instanceUrl}/__emulator/counts`)).json()) as {
    byEndpoint: Record<string, number>;
  };
  return counts.byEndpoint[endpoint] ?? 0;
}

/**
 * jsforce's own transport, unchanged, watched from where a caller of jsforce can watch it: the
 * requests jsforce hands it and the answers it hands back.
 */
class WatchedTransport extends Transport {
  readonly requests: string[] = [];
  readonly answers: HttpResponse[] = [];

  override httpRequest(request: HttpRequest, options?: HttpRequestOptions): StreamPromise<HttpResponse> {
    this.requests.push(request.url);
    const sent = super.httpRequest(request, options);
    sent.then(
      (answer) => this.answers.push(answer),
      () => undefined,
    );
    return sent;
  }
}

function jsforceConnection(): jsforce.Connection {
  return new jsforce.Connection({
    instanceUrl: emu.instanceUrl,
    accessToken: emu.accessToken,
    version: '62.0',
  });
}

/** Runs a jsforce script in its own process, since the failures shown end the process. */
function runJsforce(body: string): Promise<{ status: number | null; output: string }> {
  const script = `import jsforce from 'jsforce';
const conn = new jsforce.Connection({ instanceUrl: process.env.SF_URL, accessToken: process.env.SF_TOKEN, version: '62.0' });
${body}`;
  // Async: the emulator answers from this process, so it must not be blocked while the child runs.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: process.cwd(),
    env: { ...process.env, SF_URL: emu.instanceUrl, SF_TOKEN: emu.accessToken },
    timeout: 60_000,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}

describe('jsforce 3.10.26 against the org emulator', () => {
  it('bulk2.query fails on results over more than one page (jsforce #1546), so Bulk query results are paged by hand', async () => {
    const single = await runJsforce(
      `const rows = await (await conn.bulk2.query("SELECT Id FROM Account WHERE Name = 'Account 1'")).toArray();
console.log('ROWS ' + rows.length);`,
    );
    expect(single.output).toContain('ROWS 1');

    const multi = await runJsforce(
      `const rows = await (await conn.bulk2.query('SELECT Id FROM Account')).toArray();
console.log('ROWS ' + rows.length);`,
    );
    expect(multi.output).not.toMatch(/ROWS 1[2-9]/);
    expect(multi.status).not.toBe(0);
    expect(multi.output).toMatch(/ERR_STREAM_WRITE_AFTER_END|write after end/);
  });

  it('ends the process when an answer is cut mid-body, so the adapters send through their own transport', async () => {
    await fault('describe-global:cut=10#1');
    const cut = await runJsforce(
      `await conn.request('/services/data/v62.0/sobjects').catch((e) => console.log('CAUGHT ' + e.name));
console.log('AFTER');`,
    );
    expect(cut.status).not.toBe(0);
    expect(cut.output).not.toContain('AFTER');
    expect(cut.output).toContain('terminated');

    const connection = new SalesforceConnection(
      { kind: 'access-token', instanceUrl: emu.instanceUrl, accessToken: emu.accessToken },
      '62.0',
      async () => undefined,
    );
    await fault('describe-global:cut=10#1');
    const answer = await connection.json<{ sobjects: unknown[] }>(
      connection.dataPath('/sobjects'),
      'describeGlobal',
      { idempotent: true },
    );
    expect(answer.sobjects.length).toBeGreaterThan(0);
    expect(connection.apiCalls()).toBe(2);
  });

  it('repeats 503 answers itself, unseen by the caller and its call count, so the adapters send through their own transport', async () => {
    const path = '/services/data/v62.0/sobjects';
    const conn = jsforceConnection();

    // Two 503s: jsforce waits 500 ms, then 1 s, and answers the third attempt as if it were the only one.
    const watched = new WatchedTransport();
    let before = await served('describe-global');
    await fault('describe-global:503#2');
    const started = Date.now();
    const answer = await conn.request<{ sobjects: unknown[] }>(path, { transport: watched });
    expect(answer.sobjects.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(watched.requests).toHaveLength(1);
    expect(watched.answers.map((a) => a.statusCode)).toEqual([200]);
    expect((await served('describe-global')) - before).toBe(3);

    // A lasting outage: 5 repeats (500 ms doubling to 8 s, 15.5 s in all; shortened here only in
    // their wait), 6 requests reach Salesforce and the caller sees one failure.
    const persistent = new WatchedTransport();
    before = await served('describe-global');
    await fault('describe-global:503#10');
    const failure = await conn.request(path, { transport: persistent, retry: { minTimeout: 10 } }).then(
      () => undefined,
      (error: unknown) => error as { errorCode?: string },
    );
    expect(failure?.errorCode).toBe('SERVER_UNAVAILABLE');
    expect(persistent.requests).toHaveLength(1);
    expect((await served('describe-global')) - before).toBe(6);
    await fault('');

    // The adapters' transport sends once and lets the failure through for their own retry policy.
    let sent = 0;
    before = await served('describe-global');
    await fault('describe-global:503#2');
    const ours = await conn
      .request(path, { transport: new FetchTransport({ onRequest: () => sent++ }) })
      .then(
        () => undefined,
        (error: unknown) => error as { errorCode?: string },
      );
    expect(ours?.errorCode).toBe('SERVER_UNAVAILABLE');
    expect(sent).toBe(1);
    expect((await served('describe-global')) - before).toBe(1);
    await fault('');

    // Over it the connection names the failure transient, and its count matches the server's.
    const connection = new SalesforceConnection(
      { kind: 'access-token', instanceUrl: emu.instanceUrl, accessToken: emu.accessToken },
      '62.0',
      async () => undefined,
    );
    before = await served('describe-global');
    await fault('describe-global:503#1');
    await expect(connection.json(connection.dataPath('/sobjects'), 'describeGlobal')).rejects.toBeInstanceOf(
      SalesforceTransientError,
    );
    expect(connection.apiCalls()).toBe(1);
    expect((await served('describe-global')) - before).toBe(1);

    await fault('describe-global:503#2');
    await connection.json(connection.dataPath('/sobjects'), 'describeGlobal', { idempotent: true });
    expect(connection.apiCalls()).toBe(4);
    expect((await served('describe-global')) - before).toBe(4);
  });

  it('holds a whole file body in memory as one string, so file bodies are streamed by hand', async () => {
    // 4 MiB of text, so the string jsforce builds is as long as the body is in bytes.
    const size = 4 * 1024 * 1024;
    const bytes = Buffer.alloc(size, 'Id,Name\n0015g00000AbCdEAAV,Account\n');
    const id = emu.org.insert('ContentVersion', {
      Title: 'Large',
      PathOnClient: 'large.csv',
      VersionData: bytes.toString('base64'),
    });
    const path = `/services/data/v62.0/sobjects/ContentVersion/${id}/VersionData`;
    const conn = jsforceConnection();

    // conn.request answers only once the whole body is read, as one string.
    const whole = await conn.request<unknown>(path);
    expect(typeof whole).toBe('string');
    expect((whole as string).length).toBe(size);

    // blob() hands out a stream, but jsforce's transport reads the same answer whole alongside it
    // into one string, however the caller consumes the stream.
    const watched = new WatchedTransport();
    conn._transport = watched;
    const streamed: Buffer[] = [];
    for await (const chunk of conn.sobject('ContentVersion').record(id).blob('VersionData')) {
      streamed.push(Buffer.from(chunk as Buffer));
    }
    expect(Buffer.concat(streamed).equals(bytes)).toBe(true);
    expect(watched.answers).toHaveLength(1);
    expect(typeof watched.answers[0]?.body).toBe('string');
    expect(watched.answers[0]?.body.length).toBe(size);

    // downloadBlob hands the body over in pieces as they arrive.
    const source = new HttpSalesforceSource(
      { kind: 'access-token', instanceUrl: emu.instanceUrl, accessToken: emu.accessToken },
      '62.0',
    );
    const chunks: Uint8Array[] = [];
    for await (const chunk of await source.downloadBlob('ContentVersion', id, 'VersionData')) {
      chunks.push(chunk);
    }
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(size / 4);

    // Cut after 1 MiB, the body never completes, yet the caller already holds its first part.
    await fault('blob:cut=1048576#1');
    let received = 0;
    const cut = async () => {
      for await (const chunk of await source.downloadBlob('ContentVersion', id, 'VersionData')) {
        received += chunk.length;
      }
    };
    await expect(cut()).rejects.toBeInstanceOf(SalesforceTransientError);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(1048576);
  });
});
