import { describe, expect, it } from 'vitest';
import { InvalidConfigError, parseConfig } from '../../lib/config.ts';

function problemsWith(objects: { include?: unknown; exclude?: unknown }): readonly string[] {
  try {
    parseConfig({
      orgs: [{ name: 'acme', type: 'production', secretName: 's1', objects }],
      alertEmails: [],
    });
  } catch (error) {
    if (error instanceof InvalidConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('object names in the config include and exclude lists', () => {
  it('accepts standard, custom, namespaced and suffixed API names', () => {
    expect(
      problemsWith({
        include: [
          'Account',
          'Invoice__c',
          'acme__Invoice__c',
          'Setting__mdt',
          'Invoice__Share',
          'Line_Item__c',
        ],
        exclude: ['Order_Event__e', 'ns__Big__b'],
      }),
    ).toEqual([]);
  });

  it('rejects names Salesforce cannot have, naming the path and the rule', () => {
    const problems = problemsWith({
      include: ['Account', 'Invoice_', 'Line___Item__c', '_Hidden', 'A__b__c__d'],
      exclude: ['Bad__', 'Two  Words'],
    });
    const rule = /starts with a letter.*letters, digits and single underscores.*no trailing underscore/;
    for (const path of [
      'orgs[0].objects.include[1]: received "Invoice_"',
      'orgs[0].objects.include[2]: received "Line___Item__c"',
      'orgs[0].objects.include[3]: received "_Hidden"',
      'orgs[0].objects.include[4]: received "A__b__c__d"',
      'orgs[0].objects.exclude[0]: received "Bad__"',
      'orgs[0].objects.exclude[1]: received "Two  Words"',
    ]) {
      const problem = problems.find((p) => p.startsWith(path));
      expect(problem, path).toBeDefined();
      expect(problem).toMatch(rule);
    }
    expect(problems).toHaveLength(6);
  });
});
