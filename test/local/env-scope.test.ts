import { describe, expect, it } from 'vitest';
import { runWithEnv, withScopedEnv } from '../../cli/local/env-scope.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('per-invocation environment', () => {
  it('lets concurrent invocations each read and write only their own variables', async () => {
    const seen = await withScopedEnv(() =>
      Promise.all(
        ['one', 'two', 'three'].map((name) =>
          runWithEnv({ FUNCTION_TAG: name }, async () => {
            await tick();
            const before = process.env.FUNCTION_TAG;
            process.env.WRITTEN_BY = name;
            await tick();
            return {
              before,
              written: process.env.WRITTEN_BY,
              listed: Object.keys(process.env).includes('FUNCTION_TAG'),
            };
          }),
        ),
      ),
    );

    expect(seen).toEqual([
      { before: 'one', written: 'one', listed: true },
      { before: 'two', written: 'two', listed: true },
      { before: 'three', written: 'three', listed: true },
    ]);
    expect(process.env.FUNCTION_TAG).toBeUndefined();
    expect(process.env.WRITTEN_BY).toBeUndefined();
  });

  it('shows the real environment beneath an invocation and restores process.env afterwards', async () => {
    const original = process.env;
    const path = await withScopedEnv(() => runWithEnv({}, async () => process.env.PATH));

    expect(path).toBe(original.PATH);
    expect(process.env).toBe(original);
  });
});
