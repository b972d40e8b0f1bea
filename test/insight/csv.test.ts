/** The diff's CSV files: values a spreadsheet would run as formulas, and object names that would leave the folder. */
import { describe, expect, it } from 'vitest';
import { csvField, csvFileName, DiffCsvWriter } from '../../lambdas/core/insight/index.ts';

const ID = '001000000000001AAA';

describe('CSV values', () => {
  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
  ])('writes %j with a leading single quote so a spreadsheet shows it as text', (value, written) => {
    expect(csvField(value)).toBe(written);
  });

  it('leaves other values as RFC 4180 writes them', () => {
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField('Roof, "new"')).toBe('"Roof, ""new"""');
    expect(csvField('')).toBe('');
  });

  it('guards the Before and After columns of changed rows', async () => {
    const files = new Map<string, string>();
    const csv = new DiffCsvWriter({ append: (f, t) => void files.set(f, (files.get(f) ?? '') + t) });
    await csv.add({
      object: 'Account',
      kind: 'changed',
      id: ID,
      changes: [{ field: 'Name', before: 'Acme', after: '=1+1' }],
    });
    expect(files.get('Account.changed.csv')).toBe(`Id,Field,Before,After\r\n${ID},Name,Acme,'=1+1\r\n`);
  });
});

describe('CSV file names', () => {
  it('are the object and kind for an API name', () => {
    expect(csvFileName('Property__c', 'gone')).toBe('Property__c.gone.csv');
  });

  it.each(['../../x', 'a/b', '..', '_x', 'Acc ount', ''])(
    'refuse an object named %j, which is no API name, before anything is written',
    async (object) => {
      const files = new Map<string, string>();
      const csv = new DiffCsvWriter({ append: (f, t) => void files.set(f, t) });
      await expect(csv.add({ object, kind: 'inserted', id: ID })).rejects.toThrow(
        'which is not a Salesforce API name',
      );
      expect(files.size).toBe(0);
    },
  );
});
