import { describe, expect, it } from 'vitest';
import { runSynthesizedWorkflow } from '../../cli/local/index.ts';
import { buildControlFlowApp } from './fixtures/control-flow-app.ts';
import { MemoryStore } from './fixtures/memory-store.ts';

interface Output {
  parallel: [{ value: number; tag: string }, unknown];
  doubled: { value: number }[];
  loaded: { body: { value: number }[] };
  caught?: { Error: string; Cause: string };
}

describe('the local runner on the other states a workflow uses', () => {
  const stack = buildControlFlowApp();

  async function run(fail: boolean) {
    const store = new MemoryStore();
    const result = await runSynthesizedWorkflow({
      stack,
      input: { values: [1, 2, 3], key: `doubled/${fail}.json`, fail },
      store,
      waitScale: 0,
    });
    return { result, store, output: result.output as unknown as Output };
  }

  it('runs Parallel branches, inline Map iterations and S3 tasks against the store', async () => {
    const { result, store, output } = await run(false);

    expect(result.status).toBe('SUCCEEDED');
    expect(output.parallel[0]).toEqual({ value: 2, tag: 'doubled' });
    expect(output.doubled.map((d) => d.value)).toEqual([2, 4, 6]);
    expect(await store.json('doubled/false.json')).toEqual(output.doubled);
    expect(output.loaded.body).toEqual(output.doubled);
  });

  it('counts the events of each state type as Step Functions records them', async () => {
    const { result } = await run(false);

    const parallel = 2 + 5 + (2 + 2) + 2;
    const inlineMap = 2 + 3 * (2 + 5) + 2;
    const tasks = 3 * 5;
    const choiceAndSucceed = 2 + 2;
    expect(result.history.events).toBe(1 + parallel + inlineMap + tasks + choiceAndSucceed + 1);
    expect(result.history.childExecutions).toBe(0);
  });

  it('hands a caught Lambda error to the next state as Error and the Lambda-shaped Cause', async () => {
    const { result, output } = await run(true);

    expect(result.status).toBe('SUCCEEDED');
    expect(output.caught?.Error).toBe('SalesforceRateLimitError');
    const cause = JSON.parse(output.caught?.Cause ?? '{}') as { errorType: string; errorMessage: string };
    expect(cause).toMatchObject({
      errorType: 'SalesforceRateLimitError',
      errorMessage: 'REQUEST_LIMIT_EXCEEDED while doubling 1',
    });
    // A caught attempt: entered, scheduled, started, failed, exited; then Recovered instead of Fine.
    const parallel = 2 + 5 + (2 + 2) + 2;
    const inlineMap = 2 + 3 * (2 + 5) + 2;
    expect(result.history.events).toBe(1 + parallel + inlineMap + 2 * 5 + 5 + 2 + 2 + 1);
  });
});
