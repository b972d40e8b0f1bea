import type { Prng } from './prng.ts';

/** Text that trips naive CSV, JSON and encoding code. */
export const NASTY_STRINGS: readonly string[] = [
  'plain value',
  'comma, separated, value',
  'double "quoted" value',
  "single 'quoted' value",
  'line one\nline two',
  'carriage\r\nreturn',
  'tab\tseparated',
  'Zürich — Straße — 東京 — Ελληνικά — 🚲',
  '  leading and trailing spaces  ',
  '=SUM(A1:A2)',
  'back\\slash',
  'null',
  '"',
  ',',
  'x'.repeat(255),
];

/** Long texts (1 KB to 32 KB) with newlines, quotes and non-ASCII, built once per seed. */
export function longTexts(prng: Prng): string[] {
  const words = ['lorem', 'ipsum', '"dolor"', 'sit,', 'amet\n', 'élan', '数据', '🚲', "it's", 'a\r\nb'];
  return [1000, 4000, 16000, 32000].map((size) => {
    let out = '';
    while (out.length < size) out += `${prng.pick(words)} `;
    return out.slice(0, size);
  });
}

const DAYS = 40 * 365;
const EPOCH_1990 = Date.UTC(1990, 0, 1);
// One shared string per day: a million generated dates then cost a pointer each, not a string each.
const DATE_STRINGS = Array.from({ length: DAYS }, (_, i) =>
  new Date(EPOCH_1990 + i * 86_400_000).toISOString().slice(0, 10),
);

/** A date between 1990 and 2030 as `YYYY-MM-DD`. */
export function randomDate(prng: Prng): string {
  return DATE_STRINGS[prng.int(DAYS)]!;
}

/** A datetime between 1990 and 2030 in whole seconds, as epoch milliseconds. */
export function randomDateTime(prng: Prng): number {
  return EPOCH_1990 + prng.int(DAYS * 86_400) * 1000;
}

/** Deterministic file bytes of the given size. */
export function fileBytes(prng: Prng, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = prng.int(256);
  return bytes;
}
