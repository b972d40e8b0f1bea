import type { CfnElement } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalHistoryEvent,
  type RunResult,
  runSynthesizedWorkflow,
  type SnsMessage,
} from '../../cli/local/index.ts';
import { MemoryStore } from './fixtures/memory-store.ts';
import { buildTestApp, type TestApp } from './fixtures/test-app.ts';

interface ExportResult {
  name: string;
  rows: number;
  attempts: number;
  mode: string | null;
  exportOnly: string | null;
  greeting: string | null;
}

interface RunOutput {
  seen: Record<string, string | null>;
  exports: ExportResult[];
}

describe('the local workflow runner', () => {
  let testApp: TestApp;
  let exportLogicalId: string;

  beforeAll(() => {
    testApp = buildTestApp();
    exportLogicalId = testApp.flowStack.getLogicalId(testApp.exportFunction.node.defaultChild as CfnElement);
  });

  async function run(
    runId: string,
    objects: unknown[],
    extra: { env?: Record<string, string>; functionEnv?: Record<string, Record<string, string>> } = {},
  ) {
    const store = new MemoryStore();
    const itemsKey = `plans/${runId}/objects.json`;
    await store.put(itemsKey, JSON.stringify(objects));
    const events: LocalHistoryEvent[] = [];
    const published: SnsMessage[] = [];
    const result: RunResult = await runSynthesizedWorkflow({
      stack: testApp.flowStack,
      stateMachine: testApp.stateMachine,
      input: { itemsKey, runId },
      store,
      retryIntervalScale: 0,
      onEvent: (event) => events.push(event),
      onSns: (message) => {
        published.push(message);
      },
      ...extra,
    });
    return { result, store, events, published, output: result.output as unknown as RunOutput };
  }

  it('runs each Lambda task with its real handler in-process, under the environment CDK gave that function', async () => {
    const { result, output } = await run('env', [{ name: 'Account', rows: 3 }], {
      env: { SHARED_OVERRIDE: 'local' },
      functionEnv: { [exportLogicalId]: { EXPORT_ONLY: 'only the export sees this' } },
    });

    expect(result.status).toBe('SUCCEEDED');
    // The vault lives in another stack; its name reaches the function through an import.
    const bucketId = testApp.dataStack.getLogicalId(testApp.bucket.node.defaultChild as CfnElement);
    const bucketName = `RunnerData-${bucketId}`.toLowerCase();
    expect(output.seen).toEqual({
      vaultBucket: bucketName,
      greeting: 'hello from plan',
      greetingAtLoad: 'hello from plan',
      sharedOverride: 'local',
      exportOnly: null,
      functionName: expect.stringContaining('PlanFunction'),
    });
    expect(output.exports[0]).toMatchObject({
      name: 'Account',
      mode: 'bulk',
      exportOnly: 'only the export sees this',
    });
    // One function's variables never leak into another's invocation, nor into the process.
    expect(output.exports[0]?.greeting).toBeNull();
    expect(process.env.GREETING).toBeUndefined();
  });

  it('feeds a Distributed Map the items its ItemReader names in the store, one child execution each', async () => {
    const objects = [
      { name: 'Account', rows: 3 },
      { name: 'Contact', rows: 5 },
      { name: 'Opportunity', rows: 0 },
    ];
    const { result, output } = await run('items', objects);

    expect(result.status).toBe('SUCCEEDED');
    expect(output.exports.map((e) => [e.name, e.rows])).toEqual([
      ['Account', 3],
      ['Contact', 5],
      ['Opportunity', 0],
    ]);
    expect(result.history.childExecutions).toBe(3);
  });

  it('retries a named handler error as the Retry field says, then continues', async () => {
    const { result, output, events } = await run('retry', [{ name: 'Flaky', rows: 1, failTimes: 2 }]);

    expect(result.status).toBe('SUCCEEDED');
    expect(output.exports[0]).toMatchObject({ name: 'Flaky', attempts: 3 });
    const failures = events.filter((e) => e.type === 'StateFailed' && e.state === 'ExportObject');
    expect(failures.map((e) => e.error)).toEqual(['SalesforceRateLimitError', 'SalesforceRateLimitError']);
  });

  it('routes a permanent handler error to the Catch, which publishes an alert on SNS, and fails the run', async () => {
    const { result, published, events } = await run('catch', [
      { name: 'Account', rows: 1 },
      { name: 'Broken', rows: 1 },
    ]);

    expect(result).toMatchObject({ status: 'FAILED', error: 'BackupFailed', cause: 'An export failed' });
    expect(result.snsMessages).toEqual(published);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ subject: 'Backup failed', stateName: 'AlertFailure' });
    expect(published[0]?.topic).toMatch(/^Alerts/);
    expect(JSON.parse(published[0]?.message ?? '{}')).toEqual({
      error: 'States.ExceedToleratedFailureThreshold',
      runId: 'catch',
    });
    // The handler's error name is the ASL error, so a Retry or Catch on it matches.
    const failed = events.find((e) => e.type === 'StateFailed' && e.state === 'ExportObject');
    expect(failed?.error).toBe('PermanentExportError');
    expect(result.failedChildExecutions).toBe(1);
    expect(result.childFailures[0]).toMatchObject({
      execution: expect.stringMatching(/ExportEach\/1$/),
      error: 'PermanentExportError',
    });
    expect(JSON.parse(result.childFailures[0]?.cause ?? '{}')).toMatchObject({
      errorType: 'PermanentExportError',
      errorMessage: 'Broken cannot be exported',
    });
  });

  it('stops retrying after MaxAttempts and lets the Catch handle the error', async () => {
    const { result, published } = await run('exhausted', [{ name: 'Flaky', rows: 1, failTimes: 10 }]);

    expect(result.status).toBe('FAILED');
    expect(published).toHaveLength(1);
  });

  it('counts history events the way Step Functions records them, child executions apart', async () => {
    const { result } = await run('events', [
      { name: 'Account', rows: 1 },
      { name: 'Flaky', rows: 1, failTimes: 2 },
    ]);

    // Started + Plan (entered, scheduled, started, succeeded, exited) + Distributed Map (entered,
    // started, map run started and succeeded, succeeded, exited) + Done (entered, exited) + Succeeded.
    expect(result.history.events).toBe(1 + 5 + 6 + 2 + 1);
    // The retried child: started, entered, three attempts of three events, exited, succeeded.
    expect(result.history.largestChildEvents).toBe(1 + 1 + 3 * 3 + 1 + 1);
    expect(result.history.childExecutions).toBe(2);
    expect(result.withinLimits).toBe(true);
  });

  it('reports the largest state payload, and fails a task whose result passes 256 KB as Step Functions does', async () => {
    const fits = await run('payload-fits', [{ name: 'Wide', rows: 1, resultBytes: 20_000 }]);
    expect(fits.result.status).toBe('SUCCEEDED');
    expect(fits.result.history.largestChildPayloadBytes).toBeGreaterThan(20_000);
    expect(fits.result.history.largestChildPayloadBytes).toBeLessThan(21_000);
    expect(fits.result.history.largestChildPayloadState).toBe('ExportObject');
    // The map's output carries the item's result back into the parent execution.
    expect(fits.result.history.largestPayloadBytes).toBeGreaterThan(20_000);

    const tooBig = await run('payload-too-big', [{ name: 'Huge', rows: 1, resultBytes: 300_000 }]);
    expect(tooBig.result.status).toBe('FAILED');
    expect(tooBig.result.history.largestChildPayloadBytes).toBeGreaterThan(256 * 1024);
    expect(tooBig.result.withinLimits).toBe(false);
    expect(tooBig.events.find((e) => e.type === 'StateFailed' && e.state === 'ExportObject')?.error).toBe(
      'States.DataLimitExceeded',
    );
  });

  it('writes the child results to the store when the Distributed Map has a ResultWriter', async () => {
    const withWriter = buildTestApp({ withResultWriter: true });
    const store = new MemoryStore();
    await store.put('plans/w/objects.json', JSON.stringify([{ name: 'Account', rows: 2 }]));
    const result = await runSynthesizedWorkflow({
      stack: withWriter.flowStack,
      input: { itemsKey: 'plans/w/objects.json', runId: 'writer' },
      store,
      retryIntervalScale: 0,
    });

    expect(result.status).toBe('SUCCEEDED');
    const details = (result.output as { exports: { ResultWriterDetails: { Key: string } } }).exports
      .ResultWriterDetails;
    expect(details.Key).toMatch(/^map-results\/.+\/manifest\.json$/);
    const manifest = (await store.json(details.Key)) as { ResultFiles: { SUCCEEDED: { Key: string }[] } };
    const [file] = manifest.ResultFiles.SUCCEEDED;
    const records = (await store.json(file?.Key ?? '')) as { Status: string; Output: string }[];
    expect(records).toHaveLength(1);
    expect(records[0]?.Status).toBe('SUCCEEDED');
    expect(JSON.parse(records[0]?.Output ?? '{}')).toMatchObject({ name: 'Account', rows: 2 });
  });

  it('ends the run in the Catch when the ItemReader names an object the store does not hold', async () => {
    const store = new MemoryStore();
    const result = await runSynthesizedWorkflow({
      stack: testApp.flowStack,
      input: { itemsKey: 'plans/missing/objects.json', runId: 'missing' },
      store,
      retryIntervalScale: 0,
    });

    expect(result.status).toBe('FAILED');
    expect(JSON.parse(result.snsMessages[0]?.message ?? '{}')).toMatchObject({
      error: 'States.ItemReaderFailed',
    });
  });
});
