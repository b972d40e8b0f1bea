import { describe, expect, it } from 'vitest';
import { canonicalOrgId, displayOrg, orgKeyOfId, sameOrgId } from '../../contract/org-id.ts';
import { toId18 } from '../../emulator/org/ids.ts';

describe('org ids', () => {
  // Ids with their 18-character forms as Salesforce prints them.
  const known: [string, string][] = [
    ['00D000000000062', '00D000000000062EAA'],
    ['00D5g0000012345', '00D5g0000012345EAA'],
    ['00DA0000000Zhe1', '00DA0000000Zhe1MAC'],
    ['00Dxx0000001gPL', '00Dxx0000001gPLEAY'],
  ];

  it.each(known)('turns %s into %s', (id15, id18) => {
    expect(canonicalOrgId(id15)).toBe(id18);
    expect(canonicalOrgId(id18)).toBe(id18);
  });

  it('agrees with the emulator, which issues ids as Salesforce does', () => {
    for (const [id15] of known) expect(canonicalOrgId(id15)).toBe(toId18(id15));
  });

  it.each(known)('re-cases the 18-character form of %s in any case from its suffix', (_id15, id18) => {
    expect(canonicalOrgId(id18.toLowerCase())).toBe(id18);
    expect(canonicalOrgId(id18.toUpperCase())).toBe(id18);
  });

  it('gives every spelling of an org the same vault key: the 18-character id, lower-cased', () => {
    const key = '00da0000000zhe1mac';
    for (const spelling of [
      '00DA0000000Zhe1',
      '00DA0000000Zhe1MAC',
      '00da0000000zhe1mac',
      '00DA0000000ZHE1MAC',
    ]) {
      expect(orgKeyOfId(spelling)).toBe(key);
    }
  });

  it('is undefined for what is not an org id', () => {
    for (const text of [
      'acme-prod',
      '001A0000006Vm9rIAC',
      '00D12345',
      '00DA0000000Zhe1MA',
      '00DA0000000Zhe1MA9',
      '',
    ]) {
      expect(orgKeyOfId(text)).toBeUndefined();
    }
  });

  it('matches a 15-character id in any case to its org, and tells different orgs apart', () => {
    expect(sameOrgId('00da0000000zhe1', '00DA0000000Zhe1MAC')).toBe(true);
    expect(sameOrgId('00da0000000zhe1mac', '00DA0000000Zhe1')).toBe(true);
    expect(sameOrgId('00DA0000000Zhe2', '00DA0000000Zhe1MAC')).toBe(false);
    expect(sameOrgId('acme-prod', 'acme-prod')).toBe(false);
  });

  it('prints an org key as the id in Salesforce casing, and a name as it is', () => {
    expect(displayOrg('00da0000000zhe1mac')).toBe('00DA0000000Zhe1MAC');
    expect(displayOrg('acme-prod')).toBe('acme-prod');
  });
});
