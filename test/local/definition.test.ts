import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  InvalidDefinitionError,
  runWorkflow,
  StateMachineNotFoundError,
  type SynthesizedWorkflow,
  synthesizeDefinition,
} from '../../cli/local/index.ts';
import { MemoryStore } from './fixtures/memory-store.ts';
import { buildTestApp, type TestApp } from './fixtures/test-app.ts';

describe('synthesizing a definition for the local runner', () => {
  let testApp: TestApp;
  let workflow: SynthesizedWorkflow;

  beforeAll(() => {
    testApp = buildTestApp();
    workflow = synthesizeDefinition(testApp.flowStack, testApp.stateMachine);
  });

  function withDefinition(change: (definition: AslDefinition) => void): SynthesizedWorkflow {
    const definition = structuredClone(workflow.definition);
    change(definition);
    return { ...workflow, definition };
  }

  it('resolves every token of the synthesized definition to a local name the runner can look up', () => {
    const text = JSON.stringify(workflow.definition);
    expect(text).not.toMatch(/Fn::|"Ref"/);
    const plan = workflow.definition.States.Plan;
    const functionArn = String((plan?.Parameters as { FunctionName?: string } | undefined)?.FunctionName);
    expect(workflow.findFunction(functionArn)).toMatchObject({
      entry: 'test/local/fixtures/plan-handler.ts',
      handler: 'plan',
      environment: expect.objectContaining({ GREETING: 'hello from plan' }),
    });
    const reader = workflow.definition.States.ExportEach?.ItemReader as { Parameters: { Bucket: string } };
    expect(workflow.resolver.lookup(reader.Parameters.Bucket)?.kind).toBe('bucket');
  });

  it('finds the state machine by construct, logical id or construct id, and names those it has when asked for another', () => {
    const byId = synthesizeDefinition(testApp.flowStack, 'Workflow');
    expect(byId.stateMachineLogicalId).toBe(workflow.stateMachineLogicalId);
    expect(synthesizeDefinition(testApp.flowStack, workflow.stateMachineLogicalId).definition).toEqual(
      workflow.definition,
    );
    expect(() => synthesizeDefinition(testApp.flowStack, 'Restore')).toThrow(StateMachineNotFoundError);
    expect(() => synthesizeDefinition(testApp.flowStack, 'Restore')).toThrow(workflow.stateMachineLogicalId);
  });

  it('rejects a definition asl-validator finds invalid, listing each problem', async () => {
    const broken = withDefinition((d) => {
      const plan = d.States.Plan;
      if (plan) plan.Next = 'Nowhere';
    });
    const running = runWorkflow({ workflow: broken, input: {}, store: new MemoryStore() });

    await expect(running).rejects.toThrow(InvalidDefinitionError);
    await expect(runWorkflow({ workflow: broken, input: {}, store: new MemoryStore() })).rejects.toThrow(
      /not a valid state machine[\s\S]*Nowhere/,
    );
  });

  it('rejects a Task the runner cannot perform, naming the state and its resource', async () => {
    const unsupported = withDefinition((d) => {
      const plan = d.States.Plan;
      if (plan) plan.Next = 'SaveRun';
      d.States.SaveRun = {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:putItem',
        Parameters: { TableName: 'runs' },
        Next: 'ExportEach',
      };
    });

    const error = await runWorkflow({ workflow: unsupported, input: {}, store: new MemoryStore() }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    expect((error as InvalidDefinitionError).problems).toEqual([
      expect.stringMatching(/"SaveRun".*dynamodb:putItem/),
    ]);
  });

  it('rejects a Lambda task whose function has no entry metadata, saying how to fix it', async () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Plain');
    const fn = new lambda.Function(stack, 'Inline', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.LambdaInvoke(stack, 'Call', { lambdaFunction: fn }),
      ),
    });

    const running = runWorkflow({
      workflow: synthesizeDefinition(stack),
      input: {},
      store: new MemoryStore(),
    });
    await expect(running).rejects.toThrow(/Task "Call".*WorkflowFunction/);
  });
});
