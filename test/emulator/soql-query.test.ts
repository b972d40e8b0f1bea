import { describe, expect, it } from 'vitest';
import { SalesforceError } from '../../emulator/org/api.ts';
import { createOrg } from '../../emulator/org/org.ts';

function seeded() {
  const org = createOrg({ now: () => new Date('2024-05-15T12:00:00Z'), setAuditFieldsOnCreate: true });
  const acme = org.insert('Account', {
    Name: 'Acme',
    Industry: 'Banking',
    AnnualRevenue: 100,
    BillingCity: 'Paris',
    CreatedDate: '2024-05-15T01:00:00Z',
  });
  const globex = org.insert('Account', {
    Name: 'Globex',
    Industry: 'Energy',
    AnnualRevenue: 300,
    ParentId: acme,
    CreatedDate: '2024-05-01T00:00:00Z',
  });
  const initech = org.insert('Account', { Name: 'initech', CreatedDate: '2023-01-01T00:00:00Z' });
  const jane = org.insert('Contact', {
    FirstName: 'Jane',
    LastName: 'Doe',
    AccountId: acme,
    Birthdate: '1990-05-14',
  });
  const lead = org.insert('Lead', { LastName: 'Lee', Company: 'LeadCo' });
  org.insert('Task', { Subject: 'Call', WhoId: jane, WhatId: globex, ActivityDate: '2024-05-14' });
  org.insert('Task', { Subject: 'Mail', WhoId: lead });
  return { org, acme, globex, initech, jane, lead };
}

const names = (org: ReturnType<typeof createOrg>, soql: string) =>
  [...org.query(soql).records()].map((r) => r.Name);

function refusal(fn: () => unknown): SalesforceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SalesforceError) return error;
    throw error;
  }
  throw new Error('expected the query to be refused');
}

describe('SOQL evaluation', () => {
  it('filters with comparisons, LIKE (case-insensitive), IN, NOT IN, NULL, AND/OR/NOT', () => {
    const { org } = seeded();
    expect(names(org, "SELECT Name FROM Account WHERE Name = 'ACME'")).toEqual(['Acme']);
    expect(names(org, "SELECT Name FROM Account WHERE Name LIKE '%EX' ORDER BY Name")).toEqual(['Globex']);
    expect(names(org, 'SELECT Name FROM Account WHERE AnnualRevenue >= 100 AND AnnualRevenue < 300')).toEqual(
      ['Acme'],
    );
    expect(
      names(org, "SELECT Name FROM Account WHERE Industry IN ('Energy', 'Banking') ORDER BY Name"),
    ).toEqual(['Acme', 'Globex']);
    expect(names(org, "SELECT Name FROM Account WHERE Industry NOT IN ('Energy') ORDER BY Name")).toEqual([
      'Acme',
      'initech',
    ]);
    expect(names(org, 'SELECT Name FROM Account WHERE Industry = null')).toEqual(['initech']);
    expect(names(org, "SELECT Name FROM Account WHERE Industry != 'Banking' ORDER BY Name")).toEqual([
      'Globex',
      'initech',
    ]);
    expect(names(org, "SELECT Name FROM Account WHERE NOT (Name = 'Acme' OR Name = 'Globex')")).toEqual([
      'initech',
    ]);
  });

  it('compares datetimes and dates, including date literals relative to the org clock', () => {
    const { org } = seeded();
    expect(names(org, 'SELECT Name FROM Account WHERE CreatedDate = TODAY')).toEqual(['Acme']);
    expect(names(org, 'SELECT Name FROM Account WHERE CreatedDate = LAST_N_DAYS:30 ORDER BY Name')).toEqual([
      'Acme',
      'Globex',
    ]);
    expect(names(org, 'SELECT Name FROM Account WHERE CreatedDate < 2024-01-01T00:00:00Z')).toEqual([
      'initech',
    ]);
    expect(names(org, 'SELECT Name FROM Account WHERE CreatedDate > 2024-05-01T00:00:00.000+0000')).toEqual([
      'Acme',
    ]);
    expect(names(org, 'SELECT Name FROM Contact WHERE Birthdate = LAST_N_YEARS:40')).toEqual(['Jane Doe']);
    const due = [...org.query('SELECT Subject FROM Task WHERE ActivityDate = YESTERDAY').records()];
    expect(due.map((r) => r.Subject)).toEqual(['Call']);
    expect(names(org, 'SELECT Name FROM Contact WHERE Birthdate < 2000-01-01')).toEqual(['Jane Doe']);
    expect(names(org, 'SELECT Name FROM Account WHERE CreatedDate = THIS_YEAR ORDER BY Name')).toEqual([
      'Acme',
      'Globex',
    ]);
  });

  it('orders by several keys with NULLS FIRST/LAST and pages with LIMIT and OFFSET', () => {
    const { org } = seeded();
    expect(names(org, 'SELECT Name FROM Account ORDER BY Industry NULLS LAST, Name')).toEqual([
      'Acme',
      'Globex',
      'initech',
    ]);
    expect(names(org, 'SELECT Name FROM Account ORDER BY Industry DESC NULLS FIRST')).toEqual([
      'initech',
      'Globex',
      'Acme',
    ]);
    expect(names(org, 'SELECT Name FROM Account ORDER BY Name LIMIT 1 OFFSET 1')).toEqual(['Globex']);
    const created = Array.from({ length: 150 }, (_, i) =>
      org.insert('Lead', { LastName: `L${i}`, Company: 'C' }),
    );
    const byId = [...org.query('SELECT Id FROM Lead ORDER BY Id DESC').records()].map((r) => r.Id);
    expect(byId.slice(0, 150)).toEqual([...created].reverse());
    const after = [...org.query(`SELECT Id FROM Lead WHERE Id > '${created[99]}' ORDER BY Id`).records()].map(
      (r) => r.Id,
    );
    expect(after).toEqual(created.slice(100));
    expect(org.query(`SELECT Id FROM Lead WHERE Id = '${created[5]!.slice(0, 15)}'`).totalSize()).toBe(1);
    expect(org.query('SELECT Name FROM Account LIMIT 2').totalSize()).toBe(2);
    expect(refusal(() => org.query('SELECT Name FROM Account OFFSET 2001')).errorCode).toBe(
      'NUMBER_OUTSIDE_VALID_RANGE',
    );
  });

  it('nests parent fields in REST records and flattens them in rows, with null parents', () => {
    const { org, acme, globex } = seeded();
    const cursor = org.query('SELECT Name, Parent.Name, Owner.Username FROM Account ORDER BY Name', {
      apiVersion: '60.0',
    });
    const recs = [...cursor.records()];
    expect(recs[1]).toEqual({
      attributes: { type: 'Account', url: `/services/data/v60.0/sobjects/Account/${globex}` },
      Name: 'Globex',
      Parent: {
        attributes: { type: 'Account', url: `/services/data/v60.0/sobjects/Account/${acme}` },
        Name: 'Acme',
      },
      Owner: expect.objectContaining({ Username: org.user.username }),
    });
    expect(recs[0]?.Parent).toBeNull();
    expect(cursor.columns.map((c) => c.path)).toEqual(['Name', 'Parent.Name', 'Owner.Username']);
    expect([...cursor.rows()][1]).toEqual(['Globex', 'Acme', org.user.username]);
  });

  it('follows polymorphic lookups to whichever object the id belongs to', () => {
    const { org } = seeded();
    const rows = [...org.query('SELECT Subject, Who.Name, What.Name FROM Task ORDER BY Subject').rows()];
    expect(rows).toEqual([
      ['Call', 'Jane Doe', 'Globex'],
      ['Mail', 'Lee', null],
    ]);
  });

  it('exposes the object type of a polymorphic parent as What.Type / Who.Type', () => {
    const { org } = seeded();
    const rows = [
      ...org.query("SELECT Subject, Who.Type, What.Type FROM Task WHERE Who.Type = 'Contact'").rows(),
    ];
    expect(rows).toEqual([['Call', 'Contact', 'Account']]);
  });

  it('answers COUNT() with a size and no records, and COUNT(Id) / GROUP BY as aggregate results', () => {
    const { org } = seeded();
    const count = org.query('SELECT COUNT() FROM Account WHERE AnnualRevenue > 0');
    expect(count.info.countOnly).toBe(true);
    expect(count.totalSize()).toBe(2);
    expect([...count.records()]).toEqual([]);
    expect([...org.query('SELECT COUNT(Id) FROM Account').records()]).toEqual([
      { attributes: { type: 'AggregateResult' }, expr0: 3 },
    ]);
    const grouped = [
      ...org
        .query('SELECT Industry, COUNT(Id) n, MAX(AnnualRevenue) FROM Account GROUP BY Industry')
        .records(),
    ];
    expect(grouped).toContainEqual({
      attributes: { type: 'AggregateResult' },
      Industry: 'Energy',
      n: 1,
      expr0: 300,
    });
    expect(grouped).toHaveLength(3);
  });

  it('supports semi-joins and parent-to-child subqueries', () => {
    const { org } = seeded();
    expect(names(org, 'SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact)')).toEqual([
      'Acme',
    ]);
    const rec = [
      ...org.query("SELECT Name, (SELECT LastName FROM Contacts) FROM Account WHERE Name = 'Acme'").records(),
    ][0];
    expect(rec?.Contacts).toMatchObject({ totalSize: 1, done: true, records: [{ LastName: 'Doe' }] });
  });

  it('returns compound fields as objects and blobs as REST paths', () => {
    const { org, acme } = seeded();
    const rec = [...org.query(`SELECT BillingAddress FROM Account WHERE Id = '${acme}'`).records()][0];
    expect(rec?.BillingAddress).toMatchObject({ city: 'Paris', street: null });
    const att = org.insert('Attachment', { ParentId: acme, Name: 'a', Body: Buffer.from('x') });
    const row = [
      ...org.query(`SELECT Body FROM Attachment WHERE Id = '${att}'`, { apiVersion: '61.0' }).rows(),
    ][0];
    expect(row).toEqual([`/services/data/v61.0/sobjects/Attachment/${att}/Body`]);
  });

  it('expands FIELDS(STANDARD) and requires LIMIT 200 for FIELDS(ALL)', () => {
    const { org } = seeded();
    const cursor = org.query('SELECT FIELDS(STANDARD) FROM Account');
    expect(cursor.columns.map((c) => c.path)).toContain('BillingCity');
    expect(refusal(() => org.query('SELECT FIELDS(ALL) FROM Account')).errorCode).toBe('MALFORMED_QUERY');
    expect(org.query('SELECT FIELDS(ALL) FROM Account LIMIT 200').totalSize()).toBe(3);
  });

  it('answers unknown objects with INVALID_TYPE and unknown fields or relationships with INVALID_FIELD', () => {
    const { org } = seeded();
    const e = refusal(() => org.query('SELECT Id FROM ScratchOrgInfo'));
    expect(e.errorCode).toBe('INVALID_TYPE');
    expect(e.message).toContain("sObject type 'ScratchOrgInfo' is not supported");
    expect(refusal(() => org.query('SELECT Nope FROM Account')).message).toContain(
      "No such column 'Nope' on entity 'Account'",
    );
    expect(refusal(() => org.query('SELECT Foo.Name FROM Account')).message).toContain(
      "Didn't understand relationship 'Foo'",
    );
    expect(refusal(() => org.query("SELECT Id FROM Account WHERE AnnualRevenue = 'x'")).errorCode).toBe(
      'INVALID_FIELD',
    );
    expect(refusal(() => org.query("SELECT Id FROM Account WHERE Id = 'abc'")).errorCode).toBe(
      'INVALID_QUERY_FILTER_OPERATOR',
    );
    expect(refusal(() => org.query('SELECT Id FROM AccountChangeEvent')).errorCode).toBe(
      'INVALID_TYPE_FOR_OPERATION',
    );
    expect(refusal(() => org.query('SELECT Name, COUNT(Id) FROM Account')).errorCode).toBe('MALFORMED_QUERY');
  });

  it('flags what Bulk API 2.0 refuses and throws its error in bulk mode', () => {
    const { org } = seeded();
    expect(org.query('SELECT Id, Name, BillingCity FROM Account').info.bulkRefusal).toBeNull();
    expect(org.query('SELECT Id, BillingAddress FROM Account').info.bulkRefusal?.message).toBe(
      'Selecting compound data not supported in Bulk Query',
    );
    expect(org.query('SELECT Id, Body FROM Attachment').info.bulkRefusal).not.toBeNull();
    expect(org.query('SELECT COUNT() FROM Account').info.bulkRefusal).not.toBeNull();
    expect(org.query('SELECT Id FROM Account LIMIT 1 OFFSET 1').info.bulkRefusal).not.toBeNull();
    expect(org.query('SELECT Id, (SELECT Id FROM Contacts) FROM Account').info.bulkRefusal).not.toBeNull();
    expect(org.query('SELECT Id FROM TaskStatus').info.bulkRefusal?.errorCode).toBe('INVALIDENTITY');
    expect(
      refusal(() => org.query('SELECT TYPEOF What WHEN Account THEN Name END FROM Task', { bulk: true }))
        .message,
    ).toBe('TYPEOF is not supported in Bulk Query');
    expect(refusal(() => org.query('SELECT Id, BillingAddress FROM Account', { bulk: true })).errorCode).toBe(
      'FUNCTIONALITY_NOT_ENABLED',
    );
  });

  it('sees recycle-bin rows only with includeDeleted', () => {
    const { org, initech } = seeded();
    org.delete([initech]);
    expect(org.query('SELECT Id FROM Account').totalSize()).toBe(2);
    expect(org.query('SELECT Id FROM Account', { includeDeleted: true }).totalSize()).toBe(3);
    expect(
      org.query('SELECT Id FROM Account WHERE IsDeleted = true', { includeDeleted: true }).totalSize(),
    ).toBe(1);
  });

  it('streams rows lazily: a row inserted mid-iteration still comes out, so nothing was copied up front', () => {
    const { org } = seeded();
    for (let i = 0; i < 5000; i++) org.insert('Lead', { LastName: `L${i}`, Company: 'C' });
    const iterator = org.query('SELECT Id, LastName FROM Lead').rows();
    expect(iterator.next().done).toBe(false);
    org.insert('Lead', { LastName: 'Late', Company: 'C' });
    let rest = 0;
    let sawLate = false;
    for (const row of iterator) {
      rest++;
      if (row[1] === 'Late') sawLate = true;
    }
    expect(rest).toBe(5001);
    expect(sawLate).toBe(true);
    expect(org.query('SELECT COUNT() FROM Lead').totalSize()).toBe(5002);
  });
});
