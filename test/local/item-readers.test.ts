import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { describe, expect, it } from 'vitest';
import { runSynthesizedWorkflow } from '../../cli/local/index.ts';
import { WorkflowFunction } from '../../lib/function-defaults.ts';
import { MemoryStore } from './fixtures/memory-store.ts';

function buildReadersApp(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'RunnerReaders');
  const bucket = new s3.Bucket(stack, 'Items');
  const count = new WorkflowFunction(stack, 'CountFunction', {
    entry: 'test/local/fixtures/count-handler.ts',
    description: 'the runner test counter',
  });
  const countTask = (id: string) =>
    new tasks.LambdaInvoke(stack, id, { lambdaFunction: count, payloadResponseOnly: true });

  const batched = new sfn.DistributedMap(stack, 'Batched', {
    itemReader: new sfn.S3JsonLItemReader({ bucket, key: sfn.JsonPath.stringAt('$.jsonlKey') }),
    itemBatcher: new sfn.ItemBatcher({ maxItemsPerBatch: 2, batchInput: { 'runId.$': '$.runId' } }),
    toleratedFailureCount: 1,
    resultPath: '$.batched',
  }).itemProcessor(countTask('CountBatch'));
  const fromCsv = new sfn.DistributedMap(stack, 'FromCsv', {
    itemReader: new sfn.S3CsvItemReader({
      bucket,
      key: sfn.JsonPath.stringAt('$.csvKey'),
      csvDelimiter: sfn.CsvDelimiter.SEMICOLON,
    }),
    itemSelector: { 'name.$': '$$.Map.Item.Value.name', 'index.$': '$$.Map.Item.Index' },
    resultPath: '$.csv',
  }).itemProcessor(countTask('CountRow'));
  const listed = new sfn.DistributedMap(stack, 'Listed', {
    itemReader: new sfn.S3ObjectsItemReader({ bucket, prefix: 'listed/' }),
    itemSelector: { 'name.$': '$$.Map.Item.Value.Key' },
    resultPath: '$.listed',
  }).itemProcessor(countTask('CountObject'));

  new sfn.StateMachine(stack, 'Readers', {
    definitionBody: sfn.DefinitionBody.fromChainable(batched.next(fromCsv).next(listed)),
  });
  return stack;
}

interface Output {
  batched: ({ count: number; names: string[]; runId: string } | { Status: string; Error: string })[];
  csv: { names: string[] }[];
  listed: { names: string[] }[];
}

describe('Distributed Map item sources', () => {
  it('reads JSONL, CSV and object listings from the store, batches items and tolerates failures as configured', async () => {
    const store = new MemoryStore();
    const jsonl = ['a', 'b', 'Broken', 'd', 'e'].map((name) => JSON.stringify({ name })).join('\n');
    await store.put('items/objects.jsonl', `${jsonl}\n`);
    await store.put('items/objects.csv', 'name;rows\nAccount;3\nContact;4\n');
    await store.put('listed/one.json', '{}');
    await store.put('listed/two.json', '{}');

    const result = await runSynthesizedWorkflow({
      stack: buildReadersApp(),
      input: { jsonlKey: 'items/objects.jsonl', csvKey: 'items/objects.csv', runId: 'r-7' },
      store,
    });

    expect(result.status).toBe('SUCCEEDED');
    const output = result.output as unknown as Output;
    expect(output.batched[0]).toEqual({ count: 2, names: ['a', 'b'], runId: 'r-7' });
    expect(output.batched[1]).toMatchObject({ Status: 'FAILED', Error: 'PermanentExportError' });
    expect(output.batched[2]).toEqual({ count: 1, names: ['e'], runId: 'r-7' });
    expect(output.csv.map((r) => r.names)).toEqual([['Account'], ['Contact']]);
    expect(output.listed.map((r) => r.names)).toEqual([['listed/one.json'], ['listed/two.json']]);
    expect(result.history.childExecutions).toBe(3 + 2 + 2);
  });
});
