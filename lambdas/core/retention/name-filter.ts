/**
 * A Bloom filter of body keys. It never says a key added to it is absent; it says a key it was not
 * given is present about once in 2,000 (at 16 bits a key and 11 hashes: (1 - e^(-11/16))^11, some
 * 0.05%). A sweep holds in it what a very large backup names, two bytes a name where a set of the
 * keys takes some 130: a body it wrongly takes as named is only kept, and the next sweep, whose
 * filter is salted differently, almost surely removes it.
 */
import { createHash } from 'node:crypto';

/** Bits a name. */
const BITS_PER_NAME = 16;
/** Hashes a name sets: the best count for 16 bits a name is 16 ln 2, about 11. */
const FILTER_HASHES = 11;
/** The smallest filter, in bytes. */
export const SMALLEST_FILTER = 1024;

export class NameFilter {
  readonly bits: Uint8Array;
  readonly salt: string;
  readonly #size: number;

  private constructor(bits: Uint8Array, salt: string) {
    this.bits = bits;
    this.salt = salt;
    this.#size = bits.length * 8;
  }

  /** An empty filter for about `names` keys, salted with `salt`. */
  static sized(names: number, salt: string): NameFilter {
    return new NameFilter(
      new Uint8Array(Math.max(SMALLEST_FILTER, Math.ceil((names * BITS_PER_NAME) / 8))),
      salt,
    );
  }

  /**
   * A filter from a copy of bits a filter of the same salt wrote (adding to it leaves them as they
   * were). Fewer bits than any filter has would take every name for one never added.
   */
  static of(bits: Uint8Array, salt: string): NameFilter {
    if (bits.length < SMALLEST_FILTER)
      throw new RangeError(`A filter has at least ${SMALLEST_FILTER} bytes, not ${bits.length}.`);
    return new NameFilter(Uint8Array.from(bits), salt);
  }

  add(name: string): void {
    const [first, step] = this.#hashes(name);
    for (let i = 0, bit = first; i < FILTER_HASHES; i++, bit = (bit + step) % this.#size)
      this.bits[bit >>> 3]! |= 1 << (bit & 7);
  }

  /** False when `name` was surely never added. */
  has(name: string): boolean {
    const [first, step] = this.#hashes(name);
    for (let i = 0, bit = first; i < FILTER_HASHES; i++, bit = (bit + step) % this.#size)
      if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
    return true;
  }

  /**
   * Where `name` sets its first bit and how far apart the others are (double hashing), from the
   * SHA-256 of the salt, a newline and the name: the first of two 53-bit words (digest bytes 0-5
   * and the top 5 bits of byte 6, big-endian) modulo the filter's bits, and one more than the
   * second (bytes 8-13 and the top of 14) modulo one less; bit n is bit n % 8 of byte n / 8.
   */
  #hashes(name: string): [number, number] {
    const digest = createHash('sha256').update(this.salt).update('\n').update(name).digest();
    const word = (at: number) => digest.readUInt32BE(at) * 2 ** 21 + (digest.readUInt32BE(at + 4) >>> 11);
    return [word(0) % this.#size, 1 + (word(8) % (this.#size - 1))];
  }
}
