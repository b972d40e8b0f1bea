/**
 * What a sweep holds of the newest backup's names in a process of its own: `keys` holds them as a
 * set of body keys (as a sweep does up to a million), `filter` adds them to the sweep's filter
 * (past a million), `none` makes the same keys and holds none (what making them costs). Then every
 * body is looked up once, as the listing of the bodies does, half of them not named. Prints one
 * JSON line: the heap held after a collection, seconds to add and to look up, and how many
 * unnamed bodies were taken for named.
 * Usage: sweep-child.ts keys|filter|none NAMES
 */
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NameFilter } from '../lambdas/core/retention/name-filter.ts';

const [mode, namesText] = process.argv.slice(2);
const names = Number(namesText);
if ((mode !== 'keys' && mode !== 'filter' && mode !== 'none') || !Number.isSafeInteger(names) || names < 1)
  throw new Error('Usage: sweep-child.ts keys|filter|none NAMES');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = () => {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

/**
 * The n-th body key of a kind, as backups store them, as one flat string: a sweep's keys come
 * from JSON.parse, not from joining parts (which V8 would hold as a chain of them).
 */
const body = (kind: string, n: number): string => {
  const sha = createHash('sha256').update(`${kind}-${n}`).digest('hex');
  return JSON.parse(`"orgs/acme/files/sha256/${sha.slice(0, 2)}/${sha}"`) as string;
};

/** Holds nothing: what making and looking up the keys costs alone. */
const nothing = { add: (_name: string) => undefined, has: (_name: string) => false };

const before = heap();
let t = performance.now();
const held =
  mode === 'keys'
    ? new Set<string>()
    : mode === 'filter'
      ? NameFilter.sized(names, 'bench-sweep@2026-12-05T00:00:00.000Z')
      : nothing;
for (let n = 0; n < names; n++) held.add(body('named', n));
const addSeconds = (performance.now() - t) / 1000;
const heldBytes = heap() - before;
t = performance.now();
let wrong = 0;
for (let n = 0; n < names; n++) {
  if (!held.has(body('named', n)) && mode !== 'none') throw new Error(`named body ${n} taken for unnamed`);
  if (held.has(body('unnamed', n))) wrong++;
}
const lookupSeconds = (performance.now() - t) / 1000;
process.stdout.write(`${JSON.stringify({ names, heldBytes, addSeconds, lookupSeconds, wrong })}\n`);
