import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatorUsageError, run as runEmulatorCommand } from '../../cli/commands/emulator.ts';
import { InvalidEmulatorOptionsError, type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { acceptsGzip } from '../../emulator/server/csv-body.ts';
import { connect, raw, setFaults, start } from './server-support.ts';

const PAGE = 5;
const PAGED_ROWS = 27;
const BIG_ROWS = 4000;

/** One GET with exactly the given Accept-Encoding (none when undefined), body bytes as received. */
function get(
  emulator: RunningEmulator,
  path: string,
  acceptEncoding?: string,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  whole: boolean;
}> {
  const url = new URL(emulator.instanceUrl + path);
  const headers: Record<string, string> = { authorization: `Bearer ${emulator.accessToken}` };
  if (acceptEncoding !== undefined) headers['accept-encoding'] = acceptEncoding;
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      let whole = false;
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        whole = res.complete;
      });
      res.on('error', () => undefined);
      res.on('close', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), whole }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function queryJob(emulator: RunningEmulator, soql: string, version = '62.0'): Promise<string> {
  const created = await raw(emulator, `/services/data/v${version}/jobs/query`, {
    method: 'POST',
    body: JSON.stringify({ operation: 'query', query: soql }),
  });
  expect(created.status).toBe(200);
  const { id } = created.json() as { id: string };
  for (;;) {
    const info = (await raw(emulator, `/services/data/v${version}/jobs/query/${id}`)).json() as {
      state: string;
    };
    if (info.state === 'JobComplete') return id;
    if (info.state === 'Failed' || info.state === 'Aborted') throw new Error(`job ${id} ${info.state}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function setSettings(emulator: RunningEmulator, settings: Record<string, unknown>): Promise<void> {
  const answer = await raw(emulator, '/__emulator/settings', {
    method: 'POST',
    token: null,
    body: JSON.stringify(settings),
  });
  expect(answer.status).toBe(200);
}

type ResultPages = { resultPages: { resultUrl: string }[]; nextRecordsUrl: string | null; done: boolean };

function firstError(text: string): { errorCode: string; message: string } {
  return (JSON.parse(text) as { errorCode: string; message: string }[])[0]!;
}

describe('Accept-Encoding parsing', () => {
  it('accepts gzip when listed in any case with a positive or absent q-value, and nothing else', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('GZip')).toBe(true);
    expect(acceptsGzip('gzip, deflate')).toBe(true);
    expect(acceptsGzip('deflate, br;q=1.0, gzip;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=1.0')).toBe(true);
    expect(acceptsGzip(['deflate', 'gzip'])).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('gzip; q=0.000')).toBe(false);
    expect(acceptsGzip('deflate, br')).toBe(false);
    expect(acceptsGzip('*')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip('')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe('the emulator serves Bulk API 2.0 results compressed and in parallel pages', () => {
  let emulator: RunningEmulator;
  let bigJob: string;
  let pagedJob: string;
  let emptyJob: string;
  beforeAll(async () => {
    emulator = await start({ bulkPageSize: PAGE });
    for (let i = 0; i < BIG_ROWS; i++) {
      emulator.org.insert('Account', {
        Name: `Big ${String(i).padStart(5, '0')}`,
        Description: `Row ${i}, "quoted" and repeated text `.repeat(4),
      });
    }
    for (let i = 0; i < PAGED_ROWS; i++) {
      emulator.org.insert('Account', { Name: `Paged ${String(i).padStart(2, '0')}` });
    }
    bigJob = await queryJob(emulator, "SELECT Id, Name, Description FROM Account WHERE Name LIKE 'Big%'");
    pagedJob = await queryJob(emulator, "SELECT Id, Name FROM Account WHERE Name LIKE 'Paged%'");
    emptyJob = await queryJob(emulator, "SELECT Id FROM Account WHERE Name = 'No such account'");
  });
  afterAll(async () => emulator.stop());

  const bigPage = () => `/services/data/v62.0/jobs/query/${bigJob}/results?maxRecords=${BIG_ROWS}`;

  it('gzips results for Accept-Encoding gzip with the same CSV and headers as the plain answer', async () => {
    const plain = await get(emulator, bigPage());
    const zipped = await get(emulator, bigPage(), 'gzip, deflate');
    expect(plain.status).toBe(200);
    expect(zipped.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('Accept-Encoding');
    expect(zipped.headers['content-type']).toBe('text/csv');
    for (const name of ['sforce-locator', 'sforce-numberofrecords']) {
      expect(zipped.headers[name]).toBe(plain.headers[name]);
    }
    expect(zipped.headers['sforce-numberofrecords']).toBe(String(BIG_ROWS));
    expect(zipped.body.length).toBeLessThan(plain.body.length / 3);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    expect(parse(plain.body, { columns: true })).toHaveLength(BIG_ROWS);
  });

  it('reports the result bytes sent and its own CPU and event-loop time on its counts', async () => {
    await get(emulator, bigPage(), 'gzip');
    const counts = (await raw(emulator, '/__emulator/counts', { token: null })).json() as {
      bulk: { resultBytesSent: number; resultMegabytes: number };
      process: { cpuSeconds: number; eventLoopBusySeconds: number };
    };
    expect(counts.bulk.resultBytesSent).toBe(emulator.server.usage.bulkResultBytesSentTotal);
    expect(counts.bulk.resultBytesSent).toBeGreaterThan(0);
    expect(counts.bulk.resultMegabytes).toBe(emulator.server.usage.bulkQueryMegabytesUsed);
    expect(counts.process.cpuSeconds).toBeGreaterThan(0);
    expect(counts.process.eventLoopBusySeconds).toBeGreaterThan(0);
    expect(counts.process.eventLoopBusySeconds).toBeLessThanOrEqual(process.uptime());
  });

  it('answers uncompressed for gzip;q=0 and for codings other than gzip', async () => {
    const plain = await get(emulator, bigPage());
    for (const value of ['gzip;q=0', 'deflate, br', 'identity']) {
      const answer = await get(emulator, bigPage(), value);
      expect(answer.headers['content-encoding']).toBeUndefined();
      expect(answer.body.equals(plain.body)).toBe(true);
    }
  });

  it('counts the CSV bytes for the results limit and the compressed bytes sent separately', async () => {
    const usage = emulator.server.usage;
    const mbBefore = usage.bulkQueryMegabytesUsed;
    const sentBefore = usage.bulkResultBytesSentTotal;
    const zipped = await get(emulator, bigPage(), 'gzip');
    expect(usage.bulkResultBytesSentTotal - sentBefore).toBe(zipped.body.length);
    const csvBytes = gunzipSync(zipped.body).length;
    expect(usage.bulkQueryMegabytesUsed).toBeGreaterThanOrEqual(mbBefore);
    expect(csvBytes).toBeGreaterThan(zipped.body.length);
    const plainBefore = usage.bulkResultBytesSentTotal;
    await get(emulator, bigPage());
    expect(usage.bulkResultBytesSentTotal - plainBefore).toBe(csvBytes);
  });

  it('compresses at the configured level', async () => {
    const before = emulator.server.bulk.gzipLevel;
    try {
      emulator.server.bulk.gzipLevel = 0;
      const stored = await get(emulator, bigPage(), 'gzip');
      emulator.server.bulk.gzipLevel = 9;
      const smallest = await get(emulator, bigPage(), 'gzip');
      expect(gunzipSync(stored.body).equals(gunzipSync(smallest.body))).toBe(true);
      expect(stored.body.length).toBeGreaterThan(gunzipSync(stored.body).length);
      expect(smallest.body.length).toBeLessThan(stored.body.length / 3);
    } finally {
      emulator.server.bulk.gzipLevel = before;
    }
  });

  it('cuts a compressed body mid-stream under bulk-results:cut, leaving a truncated gzip stream', async () => {
    await setFaults(emulator, 'bulk-results:cut=2000#1');
    try {
      const cut = await get(emulator, bigPage(), 'gzip');
      expect(cut.headers['content-encoding']).toBe('gzip');
      expect(cut.whole).toBe(false);
      expect(cut.body.length).toBeLessThanOrEqual(2000);
      expect(() => gunzipSync(cut.body)).toThrow(/unexpected end of file/);
      const again = await get(emulator, bigPage(), 'gzip');
      expect(again.whole).toBe(true);
      expect(parse(gunzipSync(again.body), { columns: true })).toHaveLength(BIG_ROWS);
    } finally {
      await setFaults(emulator, '');
    }
  });

  it("is decoded transparently by Node's fetch", async () => {
    const plain = await get(emulator, bigPage());
    const response = await fetch(emulator.instanceUrl + bigPage(), {
      headers: { authorization: `Bearer ${emulator.accessToken}` },
    });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(Buffer.from(await response.arrayBuffer()).equals(plain.body)).toBe(true);
  });

  it("is decoded transparently by jsforce's bulk2.query", async () => {
    await setSettings(emulator, { bulkPageSize: 50_000 });
    try {
      const usage = emulator.server.usage;
      const sentBefore = usage.bulkResultBytesSentTotal;
      const conn = connect(emulator);
      const records = (await (
        await conn.bulk2.query("SELECT Id, Name, Description FROM Account WHERE Name LIKE 'Big%'")
      ).toArray()) as { Name: string; Description: string }[];
      expect(records).toHaveLength(BIG_ROWS);
      expect(records[7]).toMatchObject({
        Name: 'Big 00007',
        Description: 'Row 7, "quoted" and repeated text '.repeat(4),
      });
      const sent = usage.bulkResultBytesSentTotal - sentBefore;
      const plain = await get(emulator, bigPage());
      // Fewer bytes went out than the CSV holds: jsforce asked for gzip and decoded it.
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThan(plain.body.length / 3);
    } finally {
      await setSettings(emulator, { bulkPageSize: PAGE });
    }
  });

  it('gzips Bulk ingest results for Accept-Encoding gzip', async () => {
    const conn = connect(emulator);
    const job = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'insert',
      input: 'Name,NumberOfEmployees\nIngest one,1\nIngest two,2\n,3\n',
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(job.successfulResults).toHaveLength(2);
    const jobs = (await raw(emulator, '/services/data/v62.0/jobs/ingest')).json() as {
      records: { id: string }[];
    };
    const id = jobs.records.at(-1)!.id;
    for (const kind of ['successfulResults', 'failedResults', 'unprocessedrecords']) {
      const path = `/services/data/v62.0/jobs/ingest/${id}/${kind}`;
      const plain = await get(emulator, path);
      const zipped = await get(emulator, path, 'gzip');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    }
    const successes = await get(emulator, `/services/data/v62.0/jobs/ingest/${id}/successfulResults`, 'gzip');
    expect(parse(gunzipSync(successes.body), { columns: true })).toHaveLength(2);
  });

  async function allResultPages(jobId: string, version = '62.0'): Promise<ResultPages[]> {
    const answers: ResultPages[] = [];
    let next: string | null = `/services/data/v${version}/jobs/query/${jobId}/resultPages`;
    while (next !== null) {
      const answer = await raw(emulator, next);
      expect(answer.status).toBe(200);
      const body = answer.json() as ResultPages;
      answers.push(body);
      next = body.nextRecordsUrl;
      expect(next === null).toBe(body.done);
    }
    return answers;
  }

  it('lists the result pages five at a time; together they hold every row once, in order', async () => {
    const answers = await allResultPages(pagedJob);
    expect(answers.map((a) => a.resultPages.length)).toEqual([5, 1]);
    expect(answers.map((a) => a.done)).toEqual([false, true]);
    expect(answers[0]!.nextRecordsUrl).toMatch(
      new RegExp(`^/services/data/v62\\.0/jobs/query/${pagedJob}/resultPages\\?locator=[A-Za-z0-9+/]+$`),
    );
    const urls = answers.flatMap((a) => a.resultPages.map((p) => p.resultUrl));
    expect(urls[0]).toBe(`/services/data/v62.0/jobs/query/${pagedJob}/results`);
    for (const url of urls.slice(1)) {
      expect(url).toMatch(new RegExp(`^/services/data/v62\\.0/jobs/query/${pagedJob}/results\\?locator=`));
    }

    const sequential: string[] = [];
    let locator = '';
    for (;;) {
      const page = await get(
        emulator,
        `/services/data/v62.0/jobs/query/${pagedJob}/results${locator ? `?locator=${locator}` : ''}`,
      );
      sequential.push(...(parse(page.body, { columns: true }) as { Id: string }[]).map((r) => r.Id));
      if (page.headers['sforce-locator'] === 'null') break;
      locator = String(page.headers['sforce-locator']);
    }
    expect(sequential).toHaveLength(PAGED_ROWS);

    const pages = await Promise.all(urls.map((url) => get(emulator, url, 'gzip')));
    const parallel: string[] = [];
    pages.forEach((page, i) => {
      const rows = parse(gunzipSync(page.body), { columns: true }) as { Id: string }[];
      expect(page.headers['sforce-numberofrecords']).toBe(String(rows.length));
      expect(rows).toHaveLength(i < pages.length - 1 ? PAGE : PAGED_ROWS - PAGE * (pages.length - 1));
      const nextUrl = urls[i + 1];
      expect(page.headers['sforce-locator']).toBe(
        nextUrl === undefined ? 'null' : new URL(nextUrl, 'http://x').searchParams.get('locator'),
      );
      parallel.push(...rows.map((r) => r.Id));
    });
    expect(parallel).toEqual(sequential);

    const first = await get(emulator, urls[0]!);
    const plainFirst = await get(emulator, `/services/data/v62.0/jobs/query/${pagedJob}/results`);
    expect(first.body.equals(plainFirst.body)).toBe(true);
  });

  it('lists one page, with the header only, for a job of no rows', async () => {
    const answers = await allResultPages(emptyJob);
    expect(answers).toEqual([
      {
        resultPages: [{ resultUrl: `/services/data/v62.0/jobs/query/${emptyJob}/results` }],
        nextRecordsUrl: null,
        done: true,
      },
    ]);
    const page = await get(emulator, answers[0]!.resultPages[0]!.resultUrl);
    expect(page.body.toString()).toBe('"Id"\n');
    expect(page.headers['sforce-numberofrecords']).toBe('0');
    expect(page.headers['sforce-locator']).toBe('null');
  });

  it('answers resultPages before API 58.0 as an unknown resource', async () => {
    const old = await raw(emulator, `/services/data/v57.0/jobs/query/${pagedJob}/resultPages`);
    const unknown = await raw(emulator, `/services/data/v57.0/jobs/query/${pagedJob}/noSuchResource`);
    expect(old.status).toBe(404);
    expect(firstError(old.text)).toEqual({
      errorCode: 'NOT_FOUND',
      message: 'The requested resource does not exist',
    });
    expect(old.text).toBe(unknown.text);
    const v58 = await queryJob(emulator, "SELECT Id FROM Account WHERE Name = 'Paged 00'", '58.0');
    expect((await raw(emulator, `/services/data/v58.0/jobs/query/${v58}/resultPages`)).status).toBe(200);
  });

  it('answers 409 to resultPages and results read with another API version than the job', async () => {
    for (const resource of ['resultPages', 'results']) {
      const other = await raw(emulator, `/services/data/v60.0/jobs/query/${pagedJob}/${resource}`);
      expect(other.status).toBe(409);
      expect(firstError(other.text).message).toContain('created with API version 62.0');
      expect(firstError(other.text).message).toContain(`/services/data/v62.0/`);
    }
  });

  it('refuses resultPages for a job that is not JobComplete, an unknown job and a bad locator', async () => {
    await setSettings(emulator, { holdBulkJobs: true });
    try {
      const created = await raw(emulator, '/services/data/v62.0/jobs/query', {
        method: 'POST',
        body: JSON.stringify({ operation: 'query', query: 'SELECT Id FROM Account' }),
      });
      const { id } = created.json() as { id: string };
      const waiting = await raw(emulator, `/services/data/v62.0/jobs/query/${id}/resultPages`);
      expect(waiting.status).toBe(400);
      expect(firstError(waiting.text).errorCode).toBe('INVALIDJOBSTATE');
    } finally {
      await setSettings(emulator, { holdBulkJobs: false });
    }
    const missing = await raw(emulator, '/services/data/v62.0/jobs/query/750000000000000AAA/resultPages');
    const missingResults = await raw(emulator, '/services/data/v62.0/jobs/query/750000000000000AAA/results');
    expect(missing.status).toBe(404);
    expect(missing.text).toBe(missingResults.text);
    for (const locator of ['!!!', Buffer.from('1000').toString('base64')]) {
      const bad = await raw(
        emulator,
        `/services/data/v62.0/jobs/query/${pagedJob}/resultPages?locator=${encodeURIComponent(locator)}`,
      );
      expect(bad.status).toBe(400);
      expect(firstError(bad.text).errorCode).toBe('INVALIDLOCATOR');
    }
  });

  it('has its own fault endpoint, and bulk-results latency delays every result page', async () => {
    await setFaults(emulator, 'bulk-result-pages:503#1');
    try {
      const refused = await raw(emulator, `/services/data/v62.0/jobs/query/${pagedJob}/resultPages`);
      expect(refused.status).toBe(503);
      expect(firstError(refused.text).errorCode).toBe('SERVER_UNAVAILABLE');
      const answers = await allResultPages(pagedJob);
      const urls = answers.flatMap((a) => a.resultPages.map((p) => p.resultUrl));
      await setFaults(emulator, 'bulk-results:latency=50ms');
      for (const url of urls) {
        const started = performance.now();
        const page = await get(emulator, url, 'gzip');
        expect(page.status).toBe(200);
        expect(performance.now() - started).toBeGreaterThanOrEqual(45);
      }
      const counts = emulator.server.usage.counts();
      expect(counts['bulk-result-pages']).toBeGreaterThanOrEqual(3);
    } finally {
      await setFaults(emulator, '');
    }
  });
});

describe('a compressed answer read slowly', () => {
  let wide: RunningEmulator;
  let wideJob: string;
  beforeAll(async () => {
    // Stored, not compressed (level 0), and random: megabytes of body, so the server waits often.
    wide = await start({ bulkPageSize: 2000, gzipLevel: 0 });
    for (let i = 0; i < 1500; i++) {
      wide.org.insert('Account', { Name: `Wide ${i}`, Description: randomBytes(3000).toString('base64') });
    }
    wideJob = await queryJob(wide, "SELECT Id, Description FROM Account WHERE Name LIKE 'Wide%'");
  });
  afterAll(async () => wide.stop());

  it('leaves no listener behind on a compressed answer read slowly, however many times it waits', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const url = new URL(`${wide.instanceUrl}/services/data/v62.0/jobs/query/${wideJob}/results`);
      const waits = await new Promise<number>((resolve, reject) => {
        const req = request(
          url,
          { headers: { authorization: `Bearer ${wide.accessToken}`, 'accept-encoding': 'gzip' } },
          (res) => {
            let pauses = 0;
            // A reader slower than the server: the server waits for the connection many times.
            res.on('data', () => {
              res.pause();
              pauses++;
              setTimeout(() => res.resume(), 2);
            });
            res.on('end', () => resolve(pauses));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(waits).toBeGreaterThan(10);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('the gzip level option', () => {
  it('refuses a level outside 0..9 with a message naming the option', async () => {
    await expect(startEmulator({ gzipLevel: 10 })).rejects.toThrow(InvalidEmulatorOptionsError);
    await expect(startEmulator({ gzipLevel: 1.5 })).rejects.toThrow(
      /gzipLevel must be a whole number from 0 to 9/,
    );
    await expect(runEmulatorCommand(['--gzip-level', '12'])).rejects.toThrow(EmulatorUsageError);
    await expect(runEmulatorCommand(['--gzip-level', 'fast'])).rejects.toThrow(
      /--gzip-level must be a whole number from 0 \(no compression\) to 9 \(smallest\), got "fast"/,
    );
  });

  it('starts the emulator at the given level', async () => {
    const emulator = await startEmulator({ gzipLevel: 9 });
    try {
      expect(emulator.server.bulk.gzipLevel).toBe(9);
    } finally {
      await emulator.stop();
    }
  });
});
