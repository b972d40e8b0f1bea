import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { createOrg } from '../../emulator/org/org.ts';
import { start } from './server-support.ts';

const JOBS = '/services/data/v62.0/jobs/query';

type Page = { status: number; locator: string | null; count: string | null; text: string };

function headers(emulator: RunningEmulator): Record<string, string> {
  return { authorization: `Bearer ${emulator.accessToken}`, 'content-type': 'application/json' };
}

async function completedJob(
  emulator: RunningEmulator,
  operation: 'query' | 'queryAll',
  query: string,
): Promise<{ id: string; numberRecordsProcessed: number }> {
  const created = await fetch(emulator.instanceUrl + JOBS, {
    method: 'POST',
    headers: headers(emulator),
    body: JSON.stringify({ operation, query }),
  });
  expect(created.status).toBe(200);
  const { id } = (await created.json()) as { id: string };
  for (;;) {
    const info = (await (
      await fetch(`${emulator.instanceUrl}${JOBS}/${id}`, { headers: headers(emulator) })
    ).json()) as {
      state: string;
      numberRecordsProcessed: number;
    };
    if (info.state === 'JobComplete') return { id, numberRecordsProcessed: info.numberRecordsProcessed };
    expect(['UploadComplete', 'InProgress']).toContain(info.state);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function jobCount(emulator: RunningEmulator, id: string): Promise<number> {
  const info = (await (
    await fetch(`${emulator.instanceUrl}${JOBS}/${id}`, { headers: headers(emulator) })
  ).json()) as {
    numberRecordsProcessed: number;
  };
  return info.numberRecordsProcessed;
}

async function page(
  emulator: RunningEmulator,
  id: string,
  locator: string,
  maxRecords: number,
): Promise<Page> {
  const query = `?maxRecords=${maxRecords}${locator ? `&locator=${locator}` : ''}`;
  const response = await fetch(`${emulator.instanceUrl}${JOBS}/${id}/results${query}`, {
    headers: headers(emulator),
  });
  return {
    status: response.status,
    locator: response.headers.get('sforce-locator'),
    count: response.headers.get('sforce-numberofrecords'),
    text: await response.text(),
  };
}

/** Every page of a job, keyed by the locator that fetched it ('' for the first). */
async function allPages(
  emulator: RunningEmulator,
  id: string,
  maxRecords: number,
): Promise<Map<string, Page>> {
  const pages = new Map<string, Page>();
  let locator = '';
  for (;;) {
    const result = await page(emulator, id, locator, maxRecords);
    expect(result.status).toBe(200);
    pages.set(locator, result);
    if (result.locator === 'null') return pages;
    locator = result.locator!;
  }
}

function rowsOf(pages: Map<string, Page>): Record<string, string>[] {
  return [...pages.values()].flatMap((p) => parse(p.text, { columns: true }) as Record<string, string>[]);
}

describe('Bulk API 2.0 query results are a snapshot taken when the job completes', () => {
  let emulator: RunningEmulator;
  let accounts: string[];
  let contacts: string[];
  beforeEach(async () => {
    emulator = await start();
    accounts = Array.from({ length: 3 }, (_, i) => emulator.org.insert('Account', { Name: `Parent ${i}` }));
    contacts = Array.from({ length: 40 }, (_, i) =>
      emulator.org.insert('Contact', {
        LastName: `Contact ${String(i).padStart(2, '0')}`,
        AccountId: accounts[i % accounts.length],
      }),
    );
  });
  afterEach(async () => emulator.stop());

  it('serves the same pages and total after rows are updated, deleted and hard-deleted mid-paging', async () => {
    const job = await completedJob(emulator, 'query', 'SELECT Id, LastName, Account.Name FROM Contact');
    expect(job.numberRecordsProcessed).toBe(40);
    const first = await page(emulator, job.id, '', 7);
    expect(first.count).toBe('7');

    emulator.org.update('Contact', contacts[10]!, { LastName: 'Renamed' });
    emulator.org.update('Account', accounts[0]!, { Name: 'Renamed parent' });
    emulator.org.delete([contacts[20]!, contacts[21]!]);
    emulator.org.hardDelete([contacts[30]!, accounts[1]!]);
    emulator.org.emptyRecycleBin();
    emulator.org.insert('Contact', { LastName: 'Late arrival' });

    const before = await allPages(emulator, job.id, 7);
    expect(before.get('')!.text).toBe(first.text);
    expect(before.size).toBe(6);
    const rows = rowsOf(before);
    expect(rows).toHaveLength(40);
    expect(rows.map((r) => r.Id)).toEqual(contacts);
    expect(rows.map((r) => r.LastName)).not.toContain('Renamed');
    expect(rows.map((r) => r.LastName)).not.toContain('Late arrival');
    expect(rows.filter((r) => r['Account.Name'] === 'Parent 0')).toHaveLength(14);
    expect(rows.filter((r) => r['Account.Name'] === 'Parent 1')).toHaveLength(13);
    expect(rows.some((r) => r['Account.Name'] === 'Renamed parent')).toBe(false);
    expect(await jobCount(emulator, job.id)).toBe(40);
  });

  it('answers byte-identical pages when a locator is fetched again, in any order, after more writes', async () => {
    const job = await completedJob(emulator, 'query', 'SELECT Id, LastName, Account.Name FROM Contact');
    const pages = await allPages(emulator, job.id, 9);
    emulator.org.update('Contact', contacts[0]!, { LastName: 'Changed' });
    emulator.org.hardDelete(contacts.slice(5, 35));
    const locators = [...pages.keys()].reverse();
    for (const locator of locators) {
      const again = await page(emulator, job.id, locator, 9);
      const original = pages.get(locator)!;
      expect(again).toEqual(original);
      expect(Buffer.from(again.text).equals(Buffer.from(original.text))).toBe(true);
    }
    expect(await jobCount(emulator, job.id)).toBe(40);
  });

  it('keeps recycle-bin rows of a queryAll job after they are emptied or undeleted', async () => {
    emulator.org.delete(contacts.slice(0, 4));
    const job = await completedJob(
      emulator,
      'queryAll',
      'SELECT Id, IsDeleted, LastName FROM Contact WHERE IsDeleted = true',
    );
    expect(job.numberRecordsProcessed).toBe(4);
    const before = await allPages(emulator, job.id, 3);
    emulator.org.undelete([contacts[0]!]);
    emulator.org.emptyRecycleBin();
    const after = await allPages(emulator, job.id, 3);
    expect([...after.entries()]).toEqual([...before.entries()]);
    expect(rowsOf(after).map((r) => [r.Id, r.IsDeleted])).toEqual(
      contacts.slice(0, 4).map((id) => [id, 'true']),
    );
  });

  it('shows the changes to a job created after them', async () => {
    const old = await completedJob(emulator, 'query', 'SELECT Id, LastName, Account.Name FROM Contact');
    emulator.org.update('Contact', contacts[1]!, { LastName: 'Renamed' });
    emulator.org.update('Account', accounts[2]!, { Name: 'Renamed parent' });
    emulator.org.delete([contacts[3]!]);
    emulator.org.hardDelete([contacts[4]!]);
    const fresh = await completedJob(emulator, 'query', 'SELECT Id, LastName, Account.Name FROM Contact');
    expect(fresh.numberRecordsProcessed).toBe(38);
    const rows = rowsOf(await allPages(emulator, fresh.id, 10));
    expect(rows.map((r) => r.Id)).toEqual(contacts.filter((_, i) => i !== 3 && i !== 4));
    expect(rows.find((r) => r.Id === contacts[1])).toMatchObject({ LastName: 'Renamed' });
    expect(rows.filter((r) => r['Account.Name'] === 'Renamed parent')).toHaveLength(13);
    expect(rowsOf(await allPages(emulator, old.id, 10))).toHaveLength(40);
  });
});

describe("the org's query snapshot", () => {
  it('hands out the rows of any range as they were when it was taken', () => {
    const org = createOrg();
    const ids = Array.from({ length: 5 }, (_, i) =>
      org.insert('Account', { Name: `A${i}`, NumberOfEmployees: i }),
    );
    const snapshot = org
      .query('SELECT Id, Name, NumberOfEmployees, Owner.Name FROM Account ORDER BY Name')
      .snapshot();
    org.update('Account', ids[2]!, { Name: 'Z', NumberOfEmployees: 99 });
    org.hardDelete([ids[0]!]);
    expect(snapshot.size).toBe(5);
    expect(snapshot.columns.map((c) => c.path)).toEqual(['Id', 'Name', 'NumberOfEmployees', 'Owner.Name']);
    expect([...snapshot.rows(1, 3)]).toEqual([
      [ids[1], 'A1', 1, 'Admin User'],
      [ids[2], 'A2', 2, 'Admin User'],
    ]);
    expect([...snapshot.rows(3, 100)].map((r) => r[1])).toEqual(['A3', 'A4']);
    expect([...snapshot.rows(0, 1)]).toEqual([[ids[0], 'A0', 0, 'Admin User']]);
    expect(org.query('SELECT Id FROM Account').snapshot().size).toBe(4);
  });
});
