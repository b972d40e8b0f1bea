import { describe, expect, it } from 'vitest';
import { inTurns } from '../../lambdas/core/in-turns.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('inTurns', () => {
  it('runs at most the limit at once and keeps the results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await inTurns([5, 1, 4, 2, 3, 6, 7], 3, async (n) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await pause(n * 3);
      inFlight -= 1;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 60, 70]);
    expect(most).toBe(3);
  });

  it('starts nothing after a failure and throws it once the started work has settled', async () => {
    const finished: number[] = [];
    const started: number[] = [];
    const failing = inTurns([1, 2, 3, 4, 5, 6], 3, async (n) => {
      started.push(n);
      if (n === 2) {
        await pause(1);
        throw new Error('item 2 failed');
      }
      await pause(20);
      finished.push(n);
      return n;
    });
    await expect(failing).rejects.toThrow('item 2 failed');
    expect(started).toEqual([1, 2, 3]);
    expect(finished.sort()).toEqual([1, 3]);
  });

  it('refuses a limit that is not a whole number of 1 or more', async () => {
    await expect(inTurns([1], 0, async (n) => n)).rejects.toThrow(/whole number of 1 or more, not 0/);
    await expect(inTurns([1], 1.5, async (n) => n)).rejects.toThrow(/not 1.5/);
  });
});
