import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NameFilter } from '../../lambdas/core/retention/name-filter.ts';

/** `count` body keys as backups write them, the n-th of a seed always the same. */
const bodies = (seed: string, count: number): string[] =>
  Array.from({ length: count }, (_, n) => {
    const sha = createHash('sha256').update(`${seed}-${n}`).digest('hex');
    return `orgs/acme/files/sha256/${sha.slice(0, 2)}/${sha}`;
  });

const NAMED = bodies('named', 50_000);
const OTHERS = bodies('other', 100_000);

function filterOf(salt: string): NameFilter {
  const filter = NameFilter.sized(NAMED.length, salt);
  for (const name of NAMED) filter.add(name);
  return filter;
}

describe('a filter of the names a backup holds', () => {
  it('never says a name it was given is absent', () => {
    const filter = filterOf('exec-1@2026-11-03T04:00:00.000Z');
    expect(NAMED.filter((name) => !filter.has(name))).toEqual([]);
  });

  it('takes about one name in 2,000 it was not given for one it was, in two bytes a name', () => {
    const filter = filterOf('exec-1@2026-11-03T04:00:00.000Z');
    expect(filter.bits.length).toBe(NAMED.length * 2);
    const wrong = OTHERS.filter((name) => filter.has(name)).length;
    // (1 - e^(-11/16))^11 of 100,000: some 46
    expect(wrong).toBeGreaterThan(0);
    expect(wrong).toBeLessThan(OTHERS.length / 1000);
  });

  it('errs on other names under another salt, so that a body kept wrongly once is not kept again', () => {
    const first = filterOf('exec-1@2026-11-03T04:00:00.000Z');
    const second = filterOf('exec-2@2026-11-04T04:00:00.000Z');
    const wrongFirst = OTHERS.filter((name) => first.has(name));
    const wrongSecond = new Set(OTHERS.filter((name) => second.has(name)));
    expect(wrongSecond.size).toBeGreaterThan(0);
    expect(wrongFirst.filter((name) => wrongSecond.has(name))).toEqual([]);
  });

  it('answers the same from its stored bits, and only under the salt it was made with', () => {
    const filter = filterOf('exec-1@2026-11-03T04:00:00.000Z');
    const again = NameFilter.of(Uint8Array.from(filter.bits), filter.salt);
    const sample = [...NAMED.slice(0, 1000), ...OTHERS.slice(0, 20_000)];
    expect(sample.map((name) => again.has(name))).toEqual(sample.map((name) => filter.has(name)));
    const otherSalt = NameFilter.of(Uint8Array.from(filter.bits), 'exec-2@2026-11-04T04:00:00.000Z');
    expect(NAMED.slice(0, 1000).filter((name) => !otherSalt.has(name)).length).toBeGreaterThan(900);
  });

  it('is never smaller than a kilobyte, and is not made from fewer bits, which would name nothing', () => {
    expect(NameFilter.sized(3, 'salt').bits.length).toBe(1024);
    expect(NameFilter.sized(0, 'salt').bits.length).toBe(1024);
    expect(() => NameFilter.of(new Uint8Array(0), 'salt')).toThrow(
      'A filter has at least 1024 bytes, not 0.',
    );
    expect(() => NameFilter.of(new Uint8Array(1023), 'salt')).toThrow('not 1023');
  });

  it('leaves the bits it was made from as they were when names are added', () => {
    const stored = Uint8Array.from(NameFilter.sized(10, 'salt').bits);
    const before = Uint8Array.from(stored);
    NameFilter.of(stored, 'salt').add(OTHERS[0]!);
    expect(stored).toEqual(before);
  });
});
