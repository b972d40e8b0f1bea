import { describe, expect, it } from 'vitest';
import { SalesforceError } from '../../emulator/org/api.ts';
import type { Literal } from '../../emulator/soql/ast.ts';
import { parseSoql } from '../../emulator/soql/parser.ts';

function malformed(soql: string): SalesforceError {
  try {
    parseSoql(soql);
  } catch (error) {
    if (error instanceof SalesforceError) return error;
    throw error;
  }
  throw new Error(`expected ${soql} to be refused`);
}

describe('SOQL parser', () => {
  it('parses field lists, parent paths, WHERE trees, ORDER BY, LIMIT and OFFSET', () => {
    const q = parseSoql(
      "SELECT Id, Account.Owner.Name FROM Contact c WHERE (Name LIKE 'a%' OR NOT Email = null) AND Id IN ('003000000000001') ORDER BY Name DESC NULLS FIRST, Id LIMIT 10 OFFSET 5",
    );
    expect(q.select.map((s) => (s.kind === 'field' ? s.path.parts.join('.') : s.kind))).toEqual([
      'Id',
      'Account.Owner.Name',
    ]);
    expect(q.from).toMatchObject({ name: 'Contact', alias: 'c' });
    expect(q.where?.kind).toBe('and');
    expect(q.orderBy).toEqual([
      expect.objectContaining({ descending: true, nullsLast: false }),
      expect.objectContaining({ descending: false, nullsLast: false }),
    ]);
    expect([q.limit, q.offset]).toEqual([10, 5]);
  });

  it('reads literals: escaped strings, numbers, booleans, dates, datetimes and date literals', () => {
    const q = parseSoql(
      "SELECT Id FROM Account WHERE Name = 'O\\'Brien\\n' AND AnnualRevenue > -1.5 AND IsDeleted = false AND LastActivityDate = 2024-01-31 AND CreatedDate < 2024-01-31T10:00:00Z AND SystemModstamp = LAST_N_DAYS:30",
    );
    const items = q.where?.kind === 'and' ? q.where.items : [];
    const values = items.map((c) =>
      c.kind === 'compare' && !Array.isArray(c.value) ? (c.value as Literal) : null,
    );
    expect(values.map((v) => v?.kind)).toEqual([
      'string',
      'number',
      'boolean',
      'date',
      'datetime',
      'dateLiteral',
    ]);
    expect(values[0]).toMatchObject({ value: "O'Brien\n" });
    expect(values[1]).toMatchObject({ value: -1.5 });
    expect(values[5]).toMatchObject({ name: 'LAST_N_DAYS', n: 30 });
  });

  it('parses COUNT(), aggregates with aliases, GROUP BY, FIELDS() and subqueries', () => {
    expect(parseSoql('SELECT COUNT() FROM Account').select[0]).toMatchObject({
      kind: 'aggregate',
      fn: 'COUNT',
      arg: null,
    });
    const g = parseSoql('SELECT Industry, COUNT(Id) n FROM Account GROUP BY Industry');
    expect(g.select[1]).toMatchObject({ kind: 'aggregate', alias: 'n' });
    expect(g.groupBy.map((p) => p.parts[0])).toEqual(['Industry']);
    expect(parseSoql('SELECT FIELDS(STANDARD) FROM Account').select[0]).toMatchObject({
      kind: 'fields',
      which: 'STANDARD',
    });
    expect(parseSoql('SELECT Name, (SELECT LastName FROM Contacts) FROM Account').select[1]?.kind).toBe(
      'subquery',
    );
    expect(parseSoql('SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)').where?.kind).toBe(
      'semijoin',
    );
  });

  it('reports syntax errors as MALFORMED_QUERY with the row, column and a caret', () => {
    const e = malformed('SELECT Id FROM Account WHERE Name = ');
    expect(e.errorCode).toBe('MALFORMED_QUERY');
    expect(e.message).toContain('ERROR at Row:1:Column:');
    expect(e.message).toContain('^');
    expect(malformed('SELECT FROM Account').errorCode).toBe('MALFORMED_QUERY');
    expect(malformed('SELECT Id Account').message).toMatch(/expecting FROM|unexpected/);
    expect(malformed("SELECT Id FROM Account WHERE Name = 'open").errorCode).toBe('MALFORMED_QUERY');
    expect(malformed('SELECT Id FROM Account LIMIT x').errorCode).toBe('MALFORMED_QUERY');
  });
});
