import { describe, expect, it } from 'vitest';
import { idLists, SOQL_MAX_CHARS } from '../../lambdas/adapters/salesforce/reader-bulk.ts';

const id = (n: number) => `a01${String(n).padStart(12, '0')}AAA`;

describe('the id lists of a Bulk read by id', () => {
  it('keep every statement within the SOQL length limit, each id once, in 15-character form', () => {
    const ids = Array.from({ length: 12_000 }, (_, n) => id(n));
    const prefix = 'SELECT Id, IsDeleted, Name FROM Broker__c WHERE Id IN ()';
    const lists = idLists(ids, prefix.length);
    expect(lists).toHaveLength(3);
    for (const list of lists) expect(prefix.length + list.length).toBeLessThanOrEqual(SOQL_MAX_CHARS);
    const sent = lists.flatMap((l) => l.split(',').map((quoted) => quoted.slice(1, -1)));
    expect(sent).toEqual(ids.map((i) => i.slice(0, 15)));
  });

  it('drop anything but letters and digits from an id, so nothing can end the quoted value', () => {
    expect(idLists(["a01000000000001'OR'1'='1"], 10)).toEqual(["'a01000000000001'"]);
  });

  it('make no statement for no ids', () => {
    expect(idLists([], 10)).toEqual([]);
  });
});
