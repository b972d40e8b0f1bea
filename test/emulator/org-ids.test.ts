import { describe, expect, it } from 'vitest';
import {
  base62,
  caseSafeSuffix,
  customKeyPrefix,
  IdFactory,
  requireId18,
  toId18,
} from '../../emulator/org/ids.ts';

describe('record ids', () => {
  it('computes the case-safe suffix Salesforce documents for a known id', () => {
    expect(caseSafeSuffix('001A0000006Vm9r')).toBe('IAC');
    expect(toId18('001A0000006Vm9r')).toBe('001A0000006Vm9rIAC');
  });

  it('accepts an 18-character id whose suffix matches, in either case', () => {
    expect(toId18('001A0000006Vm9rIAC')).toBe('001A0000006Vm9rIAC');
    expect(toId18('001A0000006Vm9riac')).toBe('001A0000006Vm9rIAC');
  });

  it('rejects ids of the wrong length, with bad characters or a wrong suffix', () => {
    expect(toId18('001A0000006Vm9')).toBeUndefined();
    expect(toId18('001A0000006Vm9-')).toBeUndefined();
    expect(toId18('001A0000006Vm9rAAA')).toBeUndefined();
    expect(() => requireId18('nope', 'Account ID')).toThrow(/MALFORMED_ID|id value of incorrect type/);
  });

  it('hands out unique 18-character ids with the key prefix and a valid suffix', () => {
    const ids = new IdFactory();
    const a = ids.next('001');
    const b = ids.next('001');
    expect(a).toHaveLength(18);
    expect(a.startsWith('001')).toBe(true);
    expect(a).not.toBe(b);
    expect(toId18(a.slice(0, 15))).toBe(a);
  });

  it('numbers custom object prefixes a00, a01, ... in base 62', () => {
    expect(customKeyPrefix(0)).toBe('a00');
    expect(customKeyPrefix(1)).toBe('a01');
    expect(customKeyPrefix(62)).toBe('a10');
    expect(base62(61, 2)).toBe('0z');
    expect(() => base62(62 * 62, 2)).toThrow(RangeError);
  });
});
