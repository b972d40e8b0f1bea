import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { connect, raw, start } from './server-support.ts';

type JobInfo = { id: string; state: string; numberRecordsProcessed?: number; errorMessage?: string };

async function createJob(emulator: RunningEmulator, body: Record<string, unknown>): Promise<JobInfo> {
  const conn = connect(emulator);
  return (await conn.request({
    method: 'POST',
    url: '/services/data/v62.0/jobs/query',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  })) as JobInfo;
}

async function waitForJob(emulator: RunningEmulator, id: string): Promise<JobInfo> {
  const conn = connect(emulator);
  for (;;) {
    const info = (await conn.request(`/services/data/v62.0/jobs/query/${id}`)) as JobInfo;
    if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') return info;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function page(emulator: RunningEmulator, id: string, query: string) {
  const response = await fetch(
    `${emulator.instanceUrl}/services/data/v62.0/jobs/query/${id}/results${query}`,
    {
      headers: { authorization: `Bearer ${emulator.accessToken}` },
    },
  );
  return {
    status: response.status,
    locator: response.headers.get('sforce-locator'),
    count: response.headers.get('sforce-numberofrecords'),
    text: await response.text(),
  };
}

describe('the emulator runs Bulk API 2.0 query jobs', () => {
  let emulator: RunningEmulator;
  const total = 1234;
  let tricky: string;
  beforeAll(async () => {
    emulator = await start({ bulkPageSize: 500 });
    for (let i = 0; i < total - 1; i++) {
      emulator.org.insert('Account', { Name: `Account ${String(i).padStart(5, '0')}`, NumberOfEmployees: i });
    }
    tricky = emulator.org.insert('Account', {
      Name: 'Comma, "quote"\nnew line \u00e9\u4e2d',
      Description: null,
      NumberOfEmployees: 7,
    });
  });
  afterAll(async () => emulator.stop());

  it('completes a job with the exact record count and pages results by locator with maxRecords', async () => {
    const job = await createJob(emulator, { operation: 'query', query: 'SELECT Id, Name FROM Account' });
    expect(job.state).toBe('UploadComplete');
    const done = await waitForJob(emulator, job.id);
    expect(done).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: total });
    const seen: string[] = [];
    let locator = '';
    let pages = 0;
    for (;;) {
      const result = await page(emulator, job.id, `?maxRecords=400${locator ? `&locator=${locator}` : ''}`);
      expect(result.status).toBe(200);
      const rows = parse(result.text, { columns: true }) as { Id: string; Name: string }[];
      expect(result.text.startsWith('"Id","Name"\n')).toBe(true);
      expect(Number(result.count)).toBe(rows.length);
      seen.push(...rows.map((r) => r.Id));
      pages++;
      if (result.locator === 'null') break;
      locator = result.locator!;
    }
    expect(pages).toBe(4);
    expect(new Set(seen).size).toBe(total);
  });

  it('uses its own page size without maxRecords and serves a page again by the same locator', async () => {
    const job = await createJob(emulator, { operation: 'query', query: 'SELECT Id FROM Account' });
    await waitForJob(emulator, job.id);
    const first = await page(emulator, job.id, '');
    expect(first.count).toBe('500');
    const second = await page(emulator, job.id, `?locator=${first.locator}`);
    const again = await page(emulator, job.id, `?locator=${first.locator}`);
    expect(again.text).toBe(second.text);
    const third = await page(emulator, job.id, `?locator=${second.locator}`);
    expect(third.locator).toBe('null');
    expect(third.count).toBe(String(total - 1000));
    const bad = await page(emulator, job.id, '?locator=!!!');
    expect(bad.status).toBe(400);
  });

  it("writes Salesforce's CSV: every value quoted, quotes doubled, nulls empty, UTC datetimes, parent fields", async () => {
    const job = await createJob(emulator, {
      operation: 'query',
      query: `SELECT Id, Name, Description, NumberOfEmployees, IsDeleted, CreatedDate, Owner.Name FROM Account WHERE Id = '${tricky}'`,
    });
    await waitForJob(emulator, job.id);
    const result = await page(emulator, job.id, '');
    const [header, row] = result.text.split('\n', 1).concat(result.text.slice(result.text.indexOf('\n') + 1));
    expect(header).toBe(
      '"Id","Name","Description","NumberOfEmployees","IsDeleted","CreatedDate","Owner.Name"',
    );
    expect(row).toMatch(
      new RegExp(
        `^"${tricky}","Comma, ""quote""\\nnew line \u00e9\u4e2d","","7","false","\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z","Admin User"\\n$`,
      ),
    );
  });

  it('honours lineEnding and columnDelimiter', async () => {
    const job = await createJob(emulator, {
      operation: 'query',
      query: `SELECT Id, NumberOfEmployees FROM Account WHERE Id = '${tricky}'`,
      lineEnding: 'CRLF',
      columnDelimiter: 'PIPE',
    });
    await waitForJob(emulator, job.id);
    expect((await page(emulator, job.id, '')).text).toBe(`"Id"|"NumberOfEmployees"\r\n"${tricky}"|"7"\r\n`);
    const bad = await raw(emulator, '/services/data/v62.0/jobs/query', {
      method: 'POST',
      body: JSON.stringify({ operation: 'query', query: 'SELECT Id FROM Account', columnDelimiter: 'SPACE' }),
    });
    expect(bad.status).toBe(400);
  });

  it('includes recycle-bin rows for queryAll only', async () => {
    const gone = emulator.org.insert('Account', { Name: 'deleted one' });
    emulator.org.delete([gone]);
    const query = `SELECT Id, IsDeleted FROM Account WHERE Id = '${gone}'`;
    const live = await createJob(emulator, { operation: 'query', query });
    const all = await createJob(emulator, { operation: 'queryAll', query });
    expect((await waitForJob(emulator, live.id)).numberRecordsProcessed).toBe(0);
    expect((await waitForJob(emulator, all.id)).numberRecordsProcessed).toBe(1);
    expect((await page(emulator, all.id, '')).text).toBe(`"Id","IsDeleted"\n"${gone}","true"\n`);
    expect((await page(emulator, live.id, '')).text).toBe('"Id","IsDeleted"\n');
  });

  it('refuses base64 fields, compound fields, aggregates and bad SOQL when the job is created', async () => {
    const refuse = async (query: string) => {
      const response = await raw(emulator, '/services/data/v62.0/jobs/query', {
        method: 'POST',
        body: JSON.stringify({ operation: 'query', query }),
      });
      expect(response.status).toBe(400);
      return (response.json() as { errorCode: string; message: string }[])[0]!;
    };
    expect((await refuse('SELECT Id, VersionData FROM ContentVersion')).message).toMatch(
      /VersionData|base64|binary/i,
    );
    expect((await refuse('SELECT Id, BillingAddress FROM Account')).message).toMatch(
      /BillingAddress|compound/i,
    );
    expect(await refuse('SELECT COUNT() FROM Account')).toBeDefined();
    expect((await refuse('SELECT Nope__c FROM Account')).errorCode).toBe('INVALID_FIELD');
    expect((await refuse('SELEKT Id FROM Account')).errorCode).toBe('MALFORMED_QUERY');
    const badOp = await raw(emulator, '/services/data/v62.0/jobs/query', {
      method: 'POST',
      body: JSON.stringify({ operation: 'insert', query: 'SELECT Id FROM Account' }),
    });
    expect(badOp.status).toBe(400);
  });

  it('lists, aborts and deletes jobs, and answers 404 for unknown ones', async () => {
    const conn = connect(emulator);
    const hold = (on: boolean) =>
      raw(emulator, '/__emulator/settings', {
        method: 'POST',
        token: null,
        body: JSON.stringify({ holdBulkJobs: on }),
      });
    await hold(true);
    const job = await createJob(emulator, { operation: 'query', query: 'SELECT Id FROM Account' });
    const waiting = (await conn.request(`/services/data/v62.0/jobs/query/${job.id}`)) as JobInfo;
    expect(waiting.state).toBe('UploadComplete');
    expect((await page(emulator, job.id, '')).status).toBe(400);
    const busy = await raw(emulator, `/services/data/v62.0/jobs/query/${job.id}`, { method: 'DELETE' });
    expect(busy.status).toBe(400);
    const aborted = (await conn.request({
      method: 'PATCH',
      url: `/services/data/v62.0/jobs/query/${job.id}`,
      body: JSON.stringify({ state: 'Aborted' }),
      headers: { 'content-type': 'application/json' },
    })) as JobInfo;
    expect(aborted.state).toBe('Aborted');
    await hold(false);
    expect((await waitForJob(emulator, job.id)).state).toBe('Aborted');
    expect((await page(emulator, job.id, '')).status).toBe(400);
    const list = (await conn.request('/services/data/v62.0/jobs/query')) as {
      records: JobInfo[];
      done: boolean;
    };
    expect(list.done).toBe(true);
    expect(list.records.some((j) => j.id === job.id && j.state === 'Aborted')).toBe(true);
    const removed = await raw(emulator, `/services/data/v62.0/jobs/query/${job.id}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    const missing = await raw(emulator, `/services/data/v62.0/jobs/query/${job.id}`);
    expect(missing.status).toBe(404);
  });

  it('works with jsforce bulk2.query for a single-page result', async () => {
    const conn = connect(emulator);
    const records = await (
      await conn.bulk2.query(`SELECT Id, Name FROM Account WHERE Id = '${tricky}'`)
    ).toArray();
    expect(records).toEqual([{ Id: tricky, Name: 'Comma, "quote"\nnew line \u00e9\u4e2d' }]);
  });
});
