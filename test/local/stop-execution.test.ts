import { beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, runSynthesizedWorkflow, type TaskStep } from '../../cli/local/index.ts';
import { MemoryStore } from './fixtures/memory-store.ts';
import { buildTestApp, type TestApp } from './fixtures/test-app.ts';

/** A Lambda that crashed or timed out, as Step Functions names it. */
class LambdaCrash extends Error {
  override readonly name = 'Lambda.Unknown';
}

describe('stopping a local execution at a task, as StopExecution or a crashed Lambda would', () => {
  let testApp: TestApp;

  beforeAll(() => {
    testApp = buildTestApp();
  });

  async function run(
    runId: string,
    objects: unknown[],
    onTask: (step: TaskStep, controller: AbortController) => void,
  ): Promise<{ result: RunResult; steps: (TaskStep & { stopped: boolean })[] }> {
    const store = new MemoryStore();
    const itemsKey = `plans/${runId}/objects.json`;
    await store.put(itemsKey, JSON.stringify(objects));
    const controller = new AbortController();
    const steps: (TaskStep & { stopped: boolean })[] = [];
    const result = await runSynthesizedWorkflow({
      stack: testApp.flowStack,
      stateMachine: testApp.stateMachine,
      input: { itemsKey, runId },
      store,
      retryIntervalScale: 0,
      signal: controller.signal,
      onTask: (step) => {
        steps.push({ ...step, stopped: controller.signal.aborted });
        onTask(step, controller);
      },
    });
    return { result, steps };
  }

  it('performs no task once stopped before one: the run ends ABORTED and the task never ran', async () => {
    const { result, steps } = await run('before', [{ name: 'Account', rows: 1 }], (step, controller) => {
      if (step.state === 'Plan' && step.phase === 'before') controller.abort();
    });

    expect(result.status).toBe('ABORTED');
    expect(result.snsMessages).toEqual([]);
    expect(steps.filter((s) => !s.stopped)).toEqual([
      { execution: result.executionName, state: 'Plan', phase: 'before', stopped: false },
    ]);
    expect(steps.some((s) => s.phase === 'after')).toBe(false);
  });

  it('drops the result of a task stopped after it ran, stops the other children, and returns once every task in flight has returned', async () => {
    const objects = ['Account', 'Contact', 'Lead', 'Case', 'Opportunity', 'Task'].map((name) => ({
      name,
      rows: 1,
    }));
    const { result, steps } = await run('after', objects, (step, controller) => {
      if (step.state === 'ExportObject' && step.phase === 'after') controller.abort();
    });

    expect(result.status).toBe('ABORTED');
    expect(result.output).toBeUndefined();
    expect(result.snsMessages).toEqual([]);
    // Every export that started before the stop had returned by the time the run did.
    const started = steps.filter((s) => s.state === 'ExportObject' && s.phase === 'before' && !s.stopped);
    const returned = steps.filter((s) => s.state === 'ExportObject' && s.phase === 'after');
    expect(started.length).toBeGreaterThan(0);
    expect(started.length).toBeLessThan(objects.length);
    expect(new Set(returned.map((s) => s.execution))).toEqual(new Set(started.map((s) => s.execution)));
    // Nothing started after the stop.
    expect(steps.filter((s) => s.phase === 'before' && s.stopped && s.state !== 'ExportObject')).toEqual([]);
  });

  it('fails the task with what the hook throws, before or after its work, so Retry and Catch treat it as a crashed Lambda', async () => {
    const { result, steps } = await run('crash', [{ name: 'Account', rows: 1 }], (step) => {
      if (step.state === 'ExportObject' && step.phase === 'after') throw new LambdaCrash('timed out');
    });

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('BackupFailed');
    expect(result.snsMessages).toHaveLength(1);
    expect(result.childFailures[0]).toMatchObject({ error: 'Lambda.Unknown' });
    expect(steps.filter((s) => s.state === 'ExportObject' && s.phase === 'after')).toHaveLength(1);
  });
});
