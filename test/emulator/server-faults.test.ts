import jsforce from 'jsforce';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidEmulatorOptionsError, type RunningEmulator, parseFaultSpec } from '../../emulator/index.ts';
import { API_VERSION, connect, failure, raw, start } from './server-support.ts';

async function setFaults(emulator: RunningEmulator, spec: string) {
  return raw(emulator, '/__emulator/faults', { method: 'POST', token: null, body: JSON.stringify({ spec }) });
}

async function bulkJob(emulator: RunningEmulator, query: string): Promise<{ id: string }> {
  return (
    await raw(emulator, '/services/data/v62.0/jobs/query', {
      method: 'POST',
      body: JSON.stringify({ operation: 'query', query }),
    })
  ).json() as { id: string };
}

async function jobState(
  emulator: RunningEmulator,
  path: string,
): Promise<{ state: string; errorMessage?: string }> {
  for (;;) {
    const info = (await raw(emulator, path)).json() as { state: string; errorMessage?: string };
    if (!['Open', 'UploadComplete', 'InProgress'].includes(info.state)) return info;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('fault specs', () => {
  it('parse endpoint patterns, kinds, amounts, probabilities, counts and a seed', () => {
    const spec = parseFaultSpec(
      'seed=42, bulk-results:cut@0.3, query:503@0.1#2, *:latency=50ms, limits:cut=100',
    );
    expect(spec.seed).toBe(42);
    expect(spec.rules.map((r) => [r.pattern, r.kind, r.amount, r.probability, r.remaining])).toEqual([
      ['bulk-results', 'cut', 16384, 0.3, Number.POSITIVE_INFINITY],
      ['query', '503', 0, 0.1, 2],
      ['*', 'latency', 50, 1, Number.POSITIVE_INFINITY],
      ['limits', 'cut', 100, 1, Number.POSITIVE_INFINITY],
    ]);
  });

  it('are refused with a message naming the entry and the fix', async () => {
    expect(() => parseFaultSpec('query')).toThrow(/Invalid fault "query": missing "ENDPOINT:"/);
    expect(() => parseFaultSpec('nowhere:500')).toThrow(/matches no endpoint/);
    expect(() => parseFaultSpec('query:explode')).toThrow(/unknown fault kind "explode"/);
    expect(() => parseFaultSpec('query:500@2')).toThrow(/probability "2" must be a number from 0 to 1/);
    expect(() => parseFaultSpec('query:latency')).toThrow(/latency needs a duration/);
    expect(() => parseFaultSpec('seed=x')).toThrow(/seed must be an integer/);
    await expect(start({ faults: 'query:boom' })).rejects.toBeInstanceOf(InvalidEmulatorOptionsError);
  });
});

describe('the emulator injects faults by endpoint', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await start({ faults: 'limits:503#1' });
  });
  afterEach(async () => {
    await setFaults(emulator, '');
  });
  afterAll(async () => emulator.stop());

  it('applies the --faults spec given at start', async () => {
    expect((await raw(emulator, '/services/data/v62.0/limits')).status).toBe(503);
    expect((await raw(emulator, '/services/data/v62.0/limits')).status).toBe(200);
  });

  it('answers rate limits, 500 and 503 with Salesforce error bodies', async () => {
    const conn = connect(emulator);
    await setFaults(emulator, 'query:rate-limit#1');
    expect((await failure(conn.query('SELECT Id FROM Organization'))).name).toBe('REQUEST_LIMIT_EXCEEDED');
    expect((await conn.query('SELECT Id FROM Organization')).totalSize).toBe(1);
    await setFaults(emulator, 'describe:500#1');
    const internal = await raw(emulator, '/services/data/v62.0/sobjects/Account/describe');
    expect(internal.status).toBe(500);
    expect((internal.json() as { errorCode: string }[])[0]?.errorCode).toBe('UNKNOWN_EXCEPTION');
    await setFaults(emulator, 'sobject:503#1');
    const unavailable = await raw(emulator, '/services/data/v62.0/sobjects/Account', {
      method: 'POST',
      body: JSON.stringify({ Name: 'not written' }),
    });
    expect(unavailable.status).toBe(503);
    expect((await conn.query("SELECT COUNT() FROM Account WHERE Name = 'not written'")).totalSize).toBe(0);
  });

  it('cuts the connection mid-body, and the same Bulk page can be fetched again', async () => {
    for (let i = 0; i < 300; i++) emulator.org.insert('Account', { Name: `Cut ${i}` });
    const job = await bulkJob(emulator, 'SELECT Id, Name FROM Account');
    await jobState(emulator, `/services/data/v62.0/jobs/query/${job.id}`);
    await setFaults(emulator, 'bulk-results:cut=1000#1');
    const url = `${emulator.instanceUrl}/services/data/v62.0/jobs/query/${job.id}/results?maxRecords=200`;
    const headers = { authorization: `Bearer ${emulator.accessToken}` };
    const cut = await fetch(url, { headers });
    await expect(cut.text()).rejects.toThrow();
    const whole = await fetch(url, { headers });
    const text = await whole.text();
    expect(text.split('\n').length).toBe(202);
    expect(whole.headers.get('sforce-numberofrecords')).toBe('200');

    await setFaults(emulator, 'query:cut=10#1');
    const queryUrl = `${emulator.instanceUrl}/services/data/v62.0/query?q=SELECT+Id+FROM+Account`;
    const cutQuery = await fetch(queryUrl, { headers });
    await expect(cutQuery.text()).rejects.toThrow();
    const query = (await (await fetch(queryUrl, { headers })).json()) as { totalSize: number };
    expect(query.totalSize).toBeGreaterThanOrEqual(300);
  });

  it('delays matching requests so that others overtake them', async () => {
    await setFaults(emulator, 'limits:latency=300ms');
    const order: string[] = [];
    const slow = raw(emulator, '/services/data/v62.0/limits').then((r) => order.push(`limits ${r.status}`));
    const fast = raw(emulator, '/services/data/v62.0/sobjects').then((r) =>
      order.push(`sobjects ${r.status}`),
    );
    await Promise.all([slow, fast]);
    expect(order).toEqual(['sobjects 200', 'limits 200']);
  });

  it('expires a session once, which jsforce survives by refreshing its token', async () => {
    await setFaults(emulator, 'query:expired-session#1');
    const conn = new jsforce.Connection({
      instanceUrl: emulator.instanceUrl,
      accessToken: emulator.accessToken,
      refreshToken: emulator.refreshToken,
      version: API_VERSION,
      oauth2: { loginUrl: emulator.instanceUrl, clientId: 'any' },
    });
    let refreshed = false;
    conn.on('refresh', () => {
      refreshed = true;
    });
    expect((await conn.query('SELECT Id FROM Organization')).totalSize).toBe(1);
    expect(refreshed).toBe(true);
  });

  it('fails Bulk query and ingest jobs with an error message', async () => {
    await setFaults(emulator, 'bulk-query:bulk-fail#1,bulk-ingest:bulk-fail#1');
    const job = await bulkJob(emulator, 'SELECT Id FROM Account');
    const info = await jobState(emulator, `/services/data/v62.0/jobs/query/${job.id}`);
    expect(info.state).toBe('Failed');
    expect(info.errorMessage).toMatch(/InternalServerError/);
    expect((await raw(emulator, `/services/data/v62.0/jobs/query/${job.id}/results`)).status).toBe(400);

    const ingest = (
      await raw(emulator, '/services/data/v62.0/jobs/ingest', {
        method: 'POST',
        body: JSON.stringify({ object: 'Account', operation: 'insert' }),
      })
    ).json() as { id: string };
    const base = `/services/data/v62.0/jobs/ingest/${ingest.id}`;
    await raw(emulator, `${base}/batches`, {
      method: 'PUT',
      body: 'Name\nnever\n',
      headers: { 'content-type': 'text/csv' },
    });
    await raw(emulator, base, { method: 'PATCH', body: JSON.stringify({ state: 'UploadComplete' }) });
    const ingestInfo = await jobState(emulator, base);
    expect(ingestInfo.state).toBe('Failed');
    expect(ingestInfo.errorMessage).toMatch(/InternalServerError/);
    expect((await raw(emulator, `${base}/unprocessedrecords`)).text).toBe('"Name"\n"never"\n');

    await setFaults(emulator, 'bulk-ingest:bulk-fail#1');
    const error = await failure(
      connect(emulator).bulk2.loadAndWaitForResults({
        object: 'Account',
        operation: 'insert',
        input: 'Name\nnever\n',
        pollInterval: 10,
        pollTimeout: 10_000,
      }),
    );
    expect(error.message).toMatch(/InternalServerError|failed/i);
  });

  it('rolls seeded dice: the same spec gives the same sequence of faults', async () => {
    const run = async () => {
      await setFaults(emulator, 'seed=7,limits:503@0.5');
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await raw(emulator, '/services/data/v62.0/limits')).status);
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first).toContain(200);
    expect(first).toContain(503);
  });

  it('refuses a bad spec on the control surface', async () => {
    const bad = await setFaults(emulator, 'query:boom');
    expect(bad.status).toBe(400);
    expect((bad.json() as { message: string }[])[0]?.message).toMatch(/unknown fault kind "boom"/);
  });
});

describe('the control surface', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await start();
  });
  afterAll(async () => emulator.stop());

  it('counts API calls by endpoint and rows written, and resets them', async () => {
    const conn = connect(emulator);
    await conn.sobject('Account').create({ Name: 'Counted' });
    await conn.query('SELECT Id FROM Account');
    const counts = (await raw(emulator, '/__emulator/counts', { token: null })).json() as {
      byEndpoint: Record<string, number>;
      rowsWritten: { inserted: number };
      rows: Record<string, { live: number }>;
    };
    expect(counts.byEndpoint).toMatchObject({ sobject: 1, query: 1 });
    expect(counts.rowsWritten.inserted).toBeGreaterThanOrEqual(1);
    expect(counts.rows.Account?.live).toBe(1);
    const reset = (
      await raw(emulator, '/__emulator/reset-counters', { method: 'POST', token: null })
    ).json() as {
      byEndpoint: Record<string, number>;
    };
    expect(reset.byEndpoint).toEqual({});
  });

  it('dumps every row, deleted ones too, as JSON', async () => {
    const live = emulator.org.insert('Account', { Name: 'Dump live' });
    const gone = emulator.org.insert('Account', { Name: 'Dump deleted' });
    emulator.org.delete([gone]);
    const rows = (await raw(emulator, '/__emulator/dump', { token: null })).json() as {
      object: string;
      id: string;
      isDeleted: boolean;
    }[];
    expect(rows.find((r) => r.id === live)).toMatchObject({ object: 'Account', isDeleted: false });
    expect(rows.find((r) => r.id === gone)).toMatchObject({ object: 'Account', isDeleted: true });
  });

  it('changes org settings and the clock', async () => {
    const conn = connect(emulator);
    const refused = await failure(
      conn.sobject('Account').create({ Name: 'Audit', CreatedDate: '2020-01-02T03:04:05.000+0000' }),
    );
    expect(refused.name).toMatch(/INVALID_FIELD|FIELD_INTEGRITY/);
    const settings = await raw(emulator, '/__emulator/settings', {
      method: 'POST',
      token: null,
      body: JSON.stringify({ setAuditFieldsOnCreate: true, clock: '2030-05-06T07:08:09.000Z' }),
    });
    expect(settings.json()).toMatchObject({ setAuditFieldsOnCreate: true, clock: { fixed: true } });
    const audited = await conn
      .sobject('Account')
      .create({ Name: 'Audit', CreatedDate: '2020-01-02T03:04:05.000+0000' });
    const fresh = await conn.sobject('Account').create({ Name: 'Clocked' });
    const rows = await conn.query(
      `SELECT Id, CreatedDate, SystemModstamp FROM Account WHERE Id IN ('${audited.id}', '${fresh.id}') ORDER BY Name`,
    );
    expect(rows.records[0]?.CreatedDate).toBe('2020-01-02T03:04:05.000+0000');
    expect(rows.records[1]?.CreatedDate).toBe('2030-05-06T07:08:09.000+0000');
    const bad = await raw(emulator, '/__emulator/settings', {
      method: 'POST',
      token: null,
      body: JSON.stringify({ clock: 'yesterday', nope: 1 }),
    });
    expect(bad.status).toBe(400);
    expect((await raw(emulator, '/__emulator/nothing', { token: null })).status).toBe(404);
  });
});
