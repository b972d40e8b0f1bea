import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { SalesforceWriter } from '../../lambdas/adapters/salesforce/writer.ts';
import { bulkQueryAll, DEFAULT_BULK_READ, parseCsv } from '../../lambdas/adapters/salesforce/reader-bulk.ts';
import type { Row } from '../../lambdas/core/restore/model.ts';
import { SalesforceTransientError } from '../../lambdas/core/salesforce.ts';
import { emulatorControl } from '../backup/e2e-support.ts';

async function byEndpoint(emu: RunningEmulator): Promise<Record<string, number>> {
  return (
    (await (await fetch(`${emu.instanceUrl}/__emulator/counts`)).json()) as {
      byEndpoint: Record<string, number>;
    }
  ).byEndpoint;
}

function writer(emu: RunningEmulator, options: ConstructorParameters<typeof SalesforceWriter>[2] = {}) {
  return new SalesforceWriter(
    { kind: 'access-token', instanceUrl: emu.instanceUrl, accessToken: emu.accessToken },
    '62.0',
    options,
  );
}

const byId = (rows: Row[]) => [...rows].sort((a, b) => String(a.Id).localeCompare(String(b.Id)));
const noSleep = { sleep: async () => {}, pageRows: 7 };

describe('the restore reads the live org through Bulk API 2.0 when it reads many rows', () => {
  let emu: RunningEmulator;
  let ids: string[];
  let deleted: string[];
  beforeAll(async () => {
    emu = await startEmulator({ port: 0 });
    ids = Array.from({ length: 30 }, (_, i) =>
      emu.org.insert('Account', { Name: `Read ${i}`, NumberOfEmployees: i % 3 === 0 ? null : i }),
    );
    deleted = ids.slice(0, 4);
    emu.org.delete(deleted);
  });
  afterAll(async () => emu.stop());
  beforeEach(async () => {
    await emulatorControl(emu, 'faults', { spec: '' });
    await emulatorControl(emu, 'settings', { holdBulkJobs: false });
  });

  it('reads rows by id with one queryAll job, paging its results, as REST reads them', async () => {
    const fields = ['Name', 'NumberOfEmployees'];
    const rest = await writer(emu, { bulkReadThreshold: 1000 }).fetchByIds('Account', ids, fields);
    const before = await byEndpoint(emu);
    const bulk = await writer(emu, { bulkReadThreshold: 10, bulkRead: noSleep }).fetchByIds(
      'Account',
      ids,
      fields,
    );
    const after = await byEndpoint(emu);
    expect(byId(bulk)).toEqual(byId(rest));
    expect(bulk).toHaveLength(30);
    expect(
      bulk
        .filter((r) => r.IsDeleted === 'true')
        .map((r) => r.Id)
        .sort(),
    ).toEqual([...deleted].sort());
    expect(bulk.find((r) => r.Name === 'Read 0')?.NumberOfEmployees).toBeNull();
    // One job over 30 ids, its 30 rows in pages of 7: five result pages, no REST query.
    expect((after['bulk-results'] ?? 0) - (before['bulk-results'] ?? 0)).toBe(5);
    expect((after.query ?? 0) - (before.query ?? 0)).toBe(0);
  });

  it('reads below the threshold through REST only', async () => {
    const before = await byEndpoint(emu);
    const rows = await writer(emu, { bulkReadThreshold: 31 }).fetchByIds('Account', ids, ['Name']);
    const after = await byEndpoint(emu);
    expect(rows).toHaveLength(30);
    expect((after['bulk-query'] ?? 0) - (before['bulk-query'] ?? 0)).toBe(0);
  });

  it('polls a job from 100 ms, doubling up to the longest interval', async () => {
    await emulatorControl(emu, 'settings', { holdBulkJobs: true });
    const sleeps: number[] = [];
    const read = writer(emu, {
      bulkReadThreshold: 1,
      bulkRead: {
        firstPollMs: 100,
        maxPollMs: 500,
        sleep: async (ms) => {
          sleeps.push(ms);
          if (sleeps.length === 5) await emulatorControl(emu, 'settings', { holdBulkJobs: false });
          await new Promise((resolve) => setTimeout(resolve, 5));
        },
      },
    }).fetchByIds('Account', ids.slice(0, 3), ['Name']);
    const rows = await read;
    expect(rows).toHaveLength(3);
    expect(sleeps.slice(0, 5)).toEqual([100, 200, 400, 500, 500]);
  });

  it('asks again for a result page cut mid-body, and reads every row', async () => {
    await emulatorControl(emu, 'faults', { spec: 'bulk-results:cut=300#1' });
    const rows = await writer(emu, { bulkReadThreshold: 1, bulkRead: noSleep }).fetchByIds('Account', ids, [
      'Name',
    ]);
    expect(rows).toHaveLength(30);
    const { rules } = (await (await fetch(`${emu.instanceUrl}/__emulator/faults`)).json()) as {
      rules: { remaining: number | null }[];
    };
    expect(rules.map((r) => r.remaining)).toEqual([0]);
  });

  it('reads through REST a query Bulk refuses at creation with a query error', async () => {
    const answer = await bulkQueryAll(writer(emu).http, 'SELECT NoSuchField__c FROM Account', {
      ...DEFAULT_BULK_READ,
      sleep: async () => {},
    });
    expect(answer).toBe('refused');
  });

  it('aborts a job that does not complete in time and reads through REST', async () => {
    await emulatorControl(emu, 'settings', { holdBulkJobs: true });
    const before = await byEndpoint(emu);
    const rows = await writer(emu, {
      bulkReadThreshold: 1,
      bulkRead: { sleep: async () => {}, firstPollMs: 100, maxPollMs: 100, maxWaitMs: 300 },
    }).fetchByIds('Account', ids, ['Name']);
    const after = await byEndpoint(emu);
    expect(rows).toHaveLength(30);
    expect((after.query ?? 0) - (before.query ?? 0)).toBe(1);
    const jobs = [...emu.server.bulk.query.values()];
    expect(jobs.at(-1)?.state).toBe('Aborted');
  });

  it('names the line and the problem of an answer that is not CSV, never its values', () => {
    let message = '';
    try {
      parseCsv('"Id","Name"\n"001","Secret Customer "x\n', 'Bulk query results of 750x');
    } catch (error) {
      expect(error).toBeInstanceOf(SalesforceTransientError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/Bulk query results of 750x: the answer is not CSV \(CSV_\w+ at line 2\)/);
    expect(message).not.toContain('Secret');
  });

  it('falls back to REST when the Bulk job fails', async () => {
    await emulatorControl(emu, 'faults', { spec: 'bulk-query:bulk-fail#1' });
    const before = await byEndpoint(emu);
    const rows = await writer(emu, { bulkReadThreshold: 1, bulkRead: noSleep }).fetchByIds('Account', ids, [
      'Name',
    ]);
    const after = await byEndpoint(emu);
    expect(rows).toHaveLength(30);
    expect((after.query ?? 0) - (before.query ?? 0)).toBe(1);
  });

  it('reads the rows created since an instant through Bulk once REST would need several pages', async () => {
    for (let i = 0; i < 2100; i++) emu.org.insert('Account', { Name: `Many ${i}` });
    const identity = await writer(emu).identity();
    const rest = await writer(emu, { bulkReadThreshold: 1000 }).fetchCreatedSince(
      'Account',
      '2000-01-01T00:00:00.000Z',
      identity.userId,
      ['Name'],
    );
    const before = await byEndpoint(emu);
    const bulk = await writer(emu, {
      bulkReadThreshold: 2,
      bulkRead: { sleep: async () => {} },
    }).fetchCreatedSince('Account', '2000-01-01T00:00:00.000Z', identity.userId, ['Name']);
    const after = await byEndpoint(emu);
    expect(byId(bulk)).toEqual(byId(rest));
    expect(bulk.length).toBeGreaterThanOrEqual(2126);
    expect((after['bulk-query'] ?? 0) - (before['bulk-query'] ?? 0)).toBeGreaterThan(0);
  });
  it('answers a Bulk update of rows that all succeed from the job counts, and reads failures when there are some', async () => {
    const w = writer(emu, { bulkThreshold: 1 });
    const live = ids.slice(10, 13);
    const good = await w.update(
      'Account',
      live.map((id, i) => ({ Id: id, Name: `Renamed ${i}` })),
    );
    expect(good.map((r) => [r.id, r.success])).toEqual(live.map((id) => [id, true]));
    expect((await w.fetchByIds('Account', live, ['Name'])).map((r) => r.Name).sort()).toEqual([
      'Renamed 0',
      'Renamed 1',
      'Renamed 2',
    ]);
    const mixed = await w.update('Account', [
      { Id: live[0]!, Name: 'Again' },
      { Id: '001000000000000AAA', Name: 'Missing' },
    ]);
    expect(mixed[0]).toMatchObject({ id: live[0], success: true });
    expect(mixed[1]?.success).toBe(false);
    expect(mixed[1]?.errors[0]?.statusCode).toMatch(/[A-Z_]+/);
  });
});
