import { describe, expect, it } from 'vitest';
import { CopyTally, Copies } from '../../lambdas/core/erase/copies.ts';
import { parseCsv } from '../../lambdas/core/erase/find.ts';
import { ValueCollector, ValueMatcher } from '../../lambdas/core/erase/values.ts';
import type { JournalLine } from '../../lambdas/core/continuous/journal.ts';

const collect = (...records: Record<string, unknown>[]) => {
  const collector = new ValueCollector();
  for (const r of records) collector.addRecord(r);
  return collector;
};

const jane = collect(
  {
    Id: '0035g000000000PAAQ',
    FirstName: 'Jane',
    LastName: 'Doe',
    Email: 'Jane.Doe@Example.com',
    Phone: '(415) 555-0100',
  },
  { Id: '0035g000000000PAAQ', MobilePhone: '415.555.0101', Title: 'VP', LeadSource: 'Web' },
);

describe('her values, as a plan keeps them and a scan finds them', () => {
  it('collects her e-mail, phone numbers and full name, and nothing of her other fields', () => {
    expect(jane.size).toBe(4);
    const digests = jane.digests();
    // The key is random base64, which may spell anything; the digests are hex.
    const text = JSON.stringify(digests.digests);
    // Hex digests hold digits, so the numbers are looked for whole.
    for (const value of ['jane', 'doe', 'example', '4155550100', '4155550101', 'vp', 'web'])
      expect(text.toLowerCase()).not.toContain(value);
    expect(digests.nameWords).toEqual([2]);
    expect(digests.phoneDigits).toEqual([10]);
  });

  it('finds each value in any spelling a copy gives it: case, spacing, punctuation, a country code', () => {
    const m = new ValueMatcher(jane.digests());
    const found = (text: string) => m.find(text).map((h) => text.slice(h.start, h.end));
    expect(found('write to JANE.DOE@example.COM today')).toEqual(['JANE.DOE@example.COM']);
    expect(found('call +1 (415) 555-0100 or 415 555 0101')).toEqual(['+1 (415) 555-0100', '415 555 0101']);
    expect(found('call 4155550100 on 2026-12-04')).toEqual(['4155550100']);
    expect(found('met jane   DOE at the fair')).toEqual(['jane   DOE']);
    // Her first name alone, her last name alone, another Jane, another number: none is hers.
    expect(found('Jane called; Doe & Co; Jane Roe; 415 555 0199; 555-0100; Jane, Doe')).toEqual([]);
  });

  it('blanks a field that is only her value, and her value inside a longer text', () => {
    const m = new ValueMatcher(jane.digests());
    expect(m.scrub('jane.doe@example.com')).toBe('');
    expect(m.scrub(' 415-555-0100 ')).toBe('');
    // A field that was only her name keeps a value: it may be required (an Account's Name).
    expect(m.scrub(' Jane Doe ')).toBe(' [erased] ');
    expect(m.scrub('Jane Doe <jane.doe@example.com>')).toBe('[erased] <[erased]>');
    expect(m.scrub('no copy here')).toBeUndefined();
  });

  it("finds what a copy wraps around her values: quotes, a possessive, a sentence's next word", () => {
    const m = new ValueMatcher(jane.digests());
    const found = (text: string) => m.find(text).map((h) => text.slice(h.start, h.end));
    expect(found("mail to 'jane.doe@example.com' bounced")).toEqual(['jane.doe@example.com']);
    expect(found('wrote jane.doe@example.com.Thanks')).toEqual(['jane.doe@example.com']);
    expect(found("call Jane Doe's office")).toEqual(['Jane Doe']);
  });

  it('finds a number she wrote with a country code in a copy without it', () => {
    const m = new ValueMatcher(collect({ MobilePhone: '+44 20 7946 0958' }).digests());
    const found = (text: string) => m.find(text).map((h) => text.slice(h.start, h.end));
    expect(found('ring 20 7946 0958 or 0044 20 7946 0958')).toEqual(['20 7946 0958', '0044 20 7946 0958']);
  });

  it('never takes a number without its first digits for hers, but the country code set apart', () => {
    const m = new ValueMatcher(
      collect({ MobilePhone: '+1 212 555 0112', Phone: '1-617-555-0199' }).digests(),
    );
    const found = (text: string) => m.find(text).map((h) => text.slice(h.start, h.end));
    expect(found('312-555-0112, 7125550112, 2555-0112, 25550112, 917-555-0199')).toEqual([]);
    expect(found('212-555-0112 or 1-617-555-0199')).toEqual(['212-555-0112', '1-617-555-0199']);
  });

  it("cuts an address at a sentence's next word only, and finds a name in quotes", () => {
    const m = new ValueMatcher(collect({ Email: 'john@company.co', Name: 'Jane Doe' }).digests());
    const found = (text: string) => m.find(text).map((h) => text.slice(h.start, h.end));
    expect(found('write to john@company.co.uk')).toEqual([]);
    expect(found("signed 'Jane Doe', -john@company.co")).toEqual(['Jane Doe', 'john@company.co']);
  });

  it('takes an address in any field of hers whose name is not someone else', () => {
    expect(
      collect({ Username: 'jane@x.example', Courriel__c: 'j@y.example', Mobile__pc: '415 555 0100' }).size,
    ).toBe(3);
  });

  it("leaves out the numbers and addresses on her row that are someone else's, and what an event shares", () => {
    const row = collect({
      AssistantPhone: '415-555-0177',
      Manager_Email__c: 'boss@example.com',
      Description: 'reach me at other@example.com',
    });
    expect(row.size).toBe(0);
  });

  it('matches nothing without digests, and under another key', () => {
    expect(new ValueMatcher(collect().digests()).find('jane.doe@example.com')).toEqual([]);
    const other = new ValueMatcher({ ...jane.digests(), key: Buffer.alloc(32, 7).toString('base64') });
    expect(other.find('jane.doe@example.com')).toEqual([]);
  });

  it("takes a change event's compound name", () => {
    const m = new ValueMatcher(collect({ Name: { FirstName: 'Ana', LastName: 'de la Cruz' } }).digests());
    expect(m.find('Ana de la Cruz').length).toBe(1);
  });
});

describe('copies in records that are not hers', () => {
  const copies = (keep: string[] = []) => new Copies(new ValueMatcher(jane.digests()), new Set(keep));

  it("blanks a row's copies but its Id, and counts them per field with the record's id", () => {
    const table = parseCsv(
      '"Id","SuppliedEmail","Description","Subject"\n"500000000000001AAA","jane.doe@example.com","Jane Doe rang","Refund"\n',
    );
    const tally = new CopyTally();
    const row = copies().row(table, table.rows[0]!, 'Case', tally);
    expect(row).toEqual(['500000000000001AAA', '', '[erased] rang', 'Refund']);
    expect(tally.byField).toEqual({ 'Case.SuppliedEmail': 1, 'Case.Description': 1 });
    expect(tally.records).toEqual({
      'Case.SuppliedEmail': ['500000000000001AAA'],
      'Case.Description': ['500000000000001AAA'],
    });
  });

  it('keeps the copies in a field the request keeps, counted apart', () => {
    const table = parseCsv('"Id","Phone","Fax"\n"001000000000001AAA","415-555-0100","415-555-0100"\n');
    const tally = new CopyTally();
    // API names are case-insensitive, so is the list of fields kept.
    const row = copies(['account.phone']).row(table, table.rows[0]!, 'Account', tally);
    expect(row).toEqual(['001000000000001AAA', '415-555-0100', '']);
    expect(tally).toMatchObject({ byField: { 'Account.Fax': 1 }, kept: { 'Account.Phone': 1 } });
  });

  it("blanks a copy in another record's change event, nested fields too, and leaves an event without one as it was", () => {
    const line = (payload: Record<string, unknown>) =>
      ({
        sort: { entityName: 'Lead', recordIds: ['00Q000000000001AAA'], commitTimestamp: 1, sequence: 1 },
        event: { detail: { payload } },
      }) as unknown as JournalLine;
    const tally = new CopyTally();
    const same = line({ Company: 'Acme' });
    expect(copies().event(same, tally)).toBe(same);
    const changed = copies().event(
      line({ Email: 'jane.doe@example.com', Name: { FirstName: 'Jane', LastName: 'Doe' }, Company: 'Acme' }),
      tally,
    );
    expect((changed.event as { detail: { payload: unknown } }).detail.payload).toEqual({
      Email: '',
      Name: { FirstName: 'Jane', LastName: 'Doe' },
      Company: 'Acme',
    });
    expect(tally.byField).toEqual({ 'Lead.Email': 1 });
  });
});
