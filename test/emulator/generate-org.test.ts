import { describe, expect, it } from 'vitest';
import { generateOrg } from '../../emulator/generate/generate.ts';
import { InvalidGenerateSpecError, parseGenerateSpec } from '../../emulator/generate/spec.ts';

const CLOCK = { now: () => new Date('2024-01-01T00:00:00Z') };
const SMALL = 'objects=3,rows=200,files=12,seed=42,activities=60,accounts=20';

describe('generate spec', () => {
  it('parses the CLI form and fills defaults', () => {
    expect(parseGenerateSpec('objects=50,rows=20000,files=100,seed=42')).toEqual({
      objects: 50,
      rows: 20000,
      files: 100,
      seed: 42,
      fields: 20,
      activities: 1000,
      accounts: 500,
      longText: 1,
    });
    expect(parseGenerateSpec('').objects).toBe(5);
    expect(parseGenerateSpec('longText=0').longText).toBe(0);
    expect(() => parseGenerateSpec('longText=2')).toThrow(/longText must be a whole number from 0 to 1/);
  });

  it('reports every problem at once with an example of a valid spec', () => {
    let message = '';
    try {
      parseGenerateSpec('objects=-1,rows=abc,colour=red,fields=3');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidGenerateSpecError);
      message = (error as Error).message;
    }
    expect(message).toContain('objects must be a whole number from 0 to 2000, got "-1"');
    expect(message).toContain('rows must be a whole number');
    expect(message).toContain('unknown key "colour"');
    expect(message).toContain('fields must be a whole number from 12');
    expect(message).toContain('Example: objects=50,rows=20000,files=100,seed=42');
  });
});

describe('generated org', () => {
  it('keeps every value short with longText=0, for narrow rows', () => {
    const longest = (spec: string) => {
      let most = 0;
      for (const row of generateOrg(spec, CLOCK).org.dumpRows()) {
        for (const value of Object.values(row.values)) {
          if (typeof value === 'string') most = Math.max(most, value.length);
        }
      }
      return most;
    };
    expect(longest(SMALL.replace('files=12', 'files=0'))).toBeGreaterThan(1000);
    expect(longest(`${SMALL.replace('files=12', 'files=0')},longText=0`)).toBeLessThanOrEqual(255);
  });

  it('is deterministic: the same spec gives the same rows', () => {
    const a = [...generateOrg(SMALL, CLOCK).org.dumpRows()];
    const b = [...generateOrg(SMALL, CLOCK).org.dumpRows()];
    expect(b).toEqual(a);
    const c = [...generateOrg(SMALL.replace('seed=42', 'seed=43'), CLOCK).org.dumpRows()];
    expect(c).not.toEqual(a);
  });

  it('writes the same rows through the checked insert path as through the fast path', () => {
    const fast = [...generateOrg(SMALL, CLOCK).org.dumpRows()];
    const checked = [...generateOrg(SMALL, { ...CLOCK, validate: true }).org.dumpRows()];
    expect(checked).toEqual(fast);
  });

  it('creates the objects, rows, lookups, self-references, activities and files the spec asks for', () => {
    const { org, summary } = generateOrg(SMALL, CLOCK);
    expect(summary.objects).toHaveLength(3);
    for (const name of summary.objects) {
      expect(org.query(`SELECT COUNT() FROM ${name}`).totalSize()).toBe(200);
      const def = org.describe(name);
      expect(def.fields.filter((f) => f.custom).length).toBeGreaterThanOrEqual(20);
      expect(org.query(`SELECT COUNT() FROM ${name} WHERE Parent__c != null`).totalSize()).toBeGreaterThan(0);
      const related = [
        ...org.query(`SELECT Related__r.Name FROM ${name} WHERE Related__c != null LIMIT 1`).rows(),
      ];
      expect(related[0]?.[0]).toEqual(expect.any(String));
    }
    expect(
      org.query('SELECT COUNT() FROM Task').totalSize() + org.query('SELECT COUNT() FROM Event').totalSize(),
    ).toBe(60);
    const whoTypes = new Set(
      [...org.query('SELECT WhoId FROM Task WHERE WhoId != null').rows()].map(
        (r) => org.objectForId(r[0] as string)?.name,
      ),
    );
    expect(whoTypes).toEqual(new Set(['Contact', 'Lead']));
    const whatTypes = new Set(
      [...org.query('SELECT WhatId FROM Event WHERE WhatId != null').rows()].map(
        (r) => org.objectForId(r[0] as string)?.name,
      ),
    );
    expect(whatTypes.size).toBeGreaterThan(1);
    expect(org.query('SELECT COUNT() FROM ContentVersion').totalSize()).toBe(12);
    // Each file is linked to its record and to its owner.
    expect(org.query('SELECT COUNT() FROM ContentDocumentLink').totalSize()).toBe(24);
    expect(org.query('SELECT COUNT() FROM Attachment').totalSize()).toBe(2);
    const version = [...org.query('SELECT Id, ContentSize FROM ContentVersion LIMIT 1').rows()][0]!;
    expect(org.getBlob('ContentVersion', version[0] as string, 'VersionData').length).toBe(version[1]);
  });

  it('includes values that break naive code: separators, quotes, newlines, non-ASCII, long text, nulls', () => {
    const { org, summary } = generateOrg(SMALL, CLOCK);
    const name = summary.objects[0]!;
    const texts = [
      ...org
        .query(`SELECT Text__c, Long_Text__c, Amount__c, Due__c, Happened_At__c, Active__c FROM ${name}`)
        .rows(),
    ];
    const all = texts.flatMap((r) => [r[0], r[1]]).filter((v): v is string => typeof v === 'string');
    expect(all.some((v) => v.includes(','))).toBe(true);
    expect(all.some((v) => v.includes('"'))).toBe(true);
    expect(all.some((v) => v.includes('\n'))).toBe(true);
    expect(all.some((v) => /[^\u0000-\u007f]/.test(v))).toBe(true);
    expect(all.some((v) => v.length > 10_000)).toBe(true);
    expect(texts.some((r) => r[0] === null)).toBe(true);
    expect(texts.some((r) => typeof r[2] === 'number')).toBe(true);
    expect(texts.some((r) => typeof r[3] === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(r[3]))).toBe(true);
    expect(texts.some((r) => typeof r[4] === 'string' && r[4].endsWith('+0000'))).toBe(true);
    expect(new Set(texts.map((r) => r[5]))).toEqual(new Set([true, false]));
  });
});
