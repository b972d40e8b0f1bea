/**
 * What a sweep holds of the newest backup's names in a process of its own: `keys` holds them as a
 * set of body keys (as a sweep does up to a million), `filter` adds them to the sweep's filter
 * (past a million). Then every body is looked up once, as the listing of the bodies does, half of
 * them not named. Prints one JSON line: the heap held after a collection, seconds to add and to
 * look up, and how many unnamed bodies were taken for named.
 * Usage: sweep-child.ts keys|filter NAMES
 */
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NameFilter } from '../lambdas/core/retention/name-filter.ts';

const [mode, namesText] = process.argv.slice(2);
const names = Number(namesText);
if ((mode !== 'keys' && mode !== 'filter') || !Number.isSafeInteger(names) || names < 1)
  throw new Error('Usage: sweep-child.ts keys|filter NAMES');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = () => {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

/** The n-th body key of a kind, as backups store them. */
const body = (kind: string, n: number): string => {
  const sha = createHash('sha256').update(`${kind}-${n}`).digest('hex');
  return `orgs/acme/files/sha256/${sha.slice(0, 2)}/${sha}`;
};

const before = heap();
let t = performance.now();
const held =
  mode === 'keys' ? new Set<string>() : NameFilter.sized(names, 'bench-sweep@2026-12-05T00:00:00.000Z');
for (let n = 0; n < names; n++) held.add(body('named', n));
const addSeconds = (performance.now() - t) / 1000;
const heldBytes = heap() - before;
t = performance.now();
let wrong = 0;
for (let n = 0; n < names; n++) {
  if (!held.has(body('named', n))) throw new Error(`named body ${n} taken for unnamed`);
  if (held.has(body('unnamed', n))) wrong++;
}
const lookupSeconds = (performance.now() - t) / 1000;
process.stdout.write(`${JSON.stringify({ names, heldBytes, addSeconds, lookupSeconds, wrong })}\n`);
