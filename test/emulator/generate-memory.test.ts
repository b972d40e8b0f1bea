import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { generateOrg } from '../../emulator/generate/generate.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const GB = 1024 ** 3;

describe('generated org memory', () => {
  it('holds a 1,000,000-row org in well under 2 GB of heap and still answers queries over it', () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const { org, summary } = generateOrg('objects=10,rows=100000,files=0,seed=5,activities=0,accounts=100');
    gc();
    const used = process.memoryUsage().heapUsed - before;
    const rows = Object.values(summary.rows).reduce((a, b) => a + b, 0);
    expect(rows).toBeGreaterThanOrEqual(1_000_000);
    expect(org.query(`SELECT COUNT() FROM ${summary.objects[9]}`).totalSize()).toBe(100_000);
    expect(used).toBeLessThan(2 * GB);
  }, 900_000);
});
