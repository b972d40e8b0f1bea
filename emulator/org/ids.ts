import { SalesforceError } from './api.ts';

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_CHARS = /^[0-9A-Za-z]+$/;

/**
 * Salesforce's case-safe suffix: for each 5-character chunk of a 15-character id, a bit per
 * upper-case letter, read least-significant first, picks a character of A-Z0-5.
 */
export function caseSafeSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET[bits];
  }
  return suffix;
}

/** Turns a 15- or 18-character id into its 18-character form; undefined if it is not an id. */
export function toId18(id: string): string | undefined {
  if ((id.length !== 15 && id.length !== 18) || !ID_CHARS.test(id)) return undefined;
  const id15 = id.slice(0, 15);
  const suffix = caseSafeSuffix(id15);
  if (id.length === 18 && id.slice(15).toUpperCase() !== suffix) return undefined;
  return id15 + suffix;
}

/** Like `toId18`, but throws Salesforce's `MALFORMED_ID` naming the field. */
export function requireId18(id: string, fieldLabel = 'Id'): string {
  const id18 = toId18(id);
  if (id18 === undefined) {
    throw new SalesforceError('MALFORMED_ID', `${fieldLabel}: id value of incorrect type: ${id}`, {
      fields: [fieldLabel],
    });
  }
  return id18;
}

/** Encodes a counter as base-62 digits, left-padded with zeros to `width`. */
export function base62(n: number, width: number): string {
  let out = '';
  let rest = n;
  while (rest > 0) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  if (out.length > width) throw new RangeError(`Counter ${n} does not fit in ${width} base-62 digits`);
  return out.padStart(width, '0');
}

/**
 * Makes ids shaped like a real org's: key prefix, a two-character pod, a reserved `0`, then a
 * nine-digit base-62 counter, plus the case-safe suffix. One counter per org keeps ids unique
 * across objects and sortable by creation.
 */
export class IdFactory {
  private counter: number;

  constructor(
    private readonly pod = '5g',
    start = 1,
  ) {
    this.counter = start;
  }

  /** A fresh 18-character id with the given key prefix. */
  next(keyPrefix: string): string {
    const id15 = keyPrefix + this.pod + '0' + base62(this.counter++, 9);
    return id15 + caseSafeSuffix(id15);
  }
}

/** Key prefix for the n-th custom object (a00, a01, ... a0z, a10, ...), as orgs hand them out. */
export function customKeyPrefix(n: number): string {
  return 'a' + base62(n, 2);
}
