/**
 * Runs `work` over `items`, at most `limit` at once; results in the order of `items`. When one
 * fails, no further item starts and the failure is thrown once every started item has settled:
 * nothing keeps writing behind the caller's back while it retries or records the failure.
 */
export async function inTurns<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`inTurns needs a limit that is a whole number of 1 or more, not ${limit}.`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
