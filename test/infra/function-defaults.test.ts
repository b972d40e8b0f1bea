import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  ENTRY_METADATA_KEY,
  HANDLER_METADATA_KEY,
  REPO_ROOT,
  WorkflowFunction,
} from '../../lib/function-defaults.ts';
import { appWithoutBundling, ECHO_HANDLER_ENTRY } from './fixtures/app-fixture.ts';

function functionStack(app: App = appWithoutBundling()) {
  const stack = new Stack(app, 'FunctionTest');
  const fn = new WorkflowFunction(stack, 'Echo', {
    entry: ECHO_HANDLER_ENTRY,
    handler: 'shout',
    description: 'echoes its input',
    memorySize: 512,
    timeout: Duration.minutes(2),
    environment: { STAGE: 'test' },
  });
  return { stack, fn };
}

describe('WorkflowFunction', () => {
  it('runs Node.js 22 on ARM with active tracing, the given sizes and environment', () => {
    // GIVEN a function WHEN synthesized without bundling
    const template = Template.fromStack(functionStack().stack);
    // THEN it carries the defaults every function of the app shares
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.shout',
      MemorySize: 512,
      Timeout: 120,
      Description: 'echoes its input',
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', STAGE: 'test' } },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^EchoLogs') } },
    });
  });

  it('records its entry file and handler export as CloudFormation metadata for the local runner', () => {
    const template = Template.fromStack(functionStack().stack);
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Metadata: Record<string, string>;
    }[];
    expect(fns).toHaveLength(1);
    expect(fns[0]!.Metadata[ENTRY_METADATA_KEY]).toBe('test/infra/fixtures/echo-handler.ts');
    expect(fns[0]!.Metadata[HANDLER_METADATA_KEY]).toBe('shout');
  });

  it('keeps its logs in its own log group for a year by default', () => {
    const template = Template.fromStack(functionStack().stack);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
    });
  });

  it('starts with a role that may only write its own logs and traces', () => {
    const template = Template.fromStack(functionStack().stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.absent(),
      Policies: [
        {
          PolicyName: 'logs',
          PolicyDocument: {
            Statement: [
              {
                Effect: 'Allow',
                Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EchoLogs'), 'Arn'] },
              },
            ],
          },
        },
      ],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
        ],
      },
      Roles: [{ Ref: Match.stringLikeRegexp('^EchoRole') }],
    });
  });

  it('defaults the handler export to "handler"', () => {
    const stack = new Stack(appWithoutBundling(), 'DefaultHandler');
    const fn = new WorkflowFunction(stack, 'Echo', { entry: ECHO_HANDLER_ENTRY, description: 'echo' });
    expect(fn.handlerExport).toBe('handler');
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler' });
  });

  it('rejects an entry outside the repository with a message saying what to write', () => {
    const stack = new Stack(appWithoutBundling(), 'BadEntry');
    expect(
      () => new WorkflowFunction(stack, 'Bad', { entry: '../elsewhere/x.ts', description: 'x' }),
    ).toThrow(
      'WorkflowFunction Bad: entry is "../elsewhere/x.ts"; write a .ts or .js file path relative to the repository root',
    );
  });

  it('bundles the handler into an ES module that runs, with a require shim and the AWS SDK left external', async () => {
    // GIVEN an app that bundles, writing inside the repository so the bundle resolves node_modules
    mkdirSync(path.join(REPO_ROOT, 'cdk.out'), { recursive: true });
    const outdir = mkdtempSync(path.join(REPO_ROOT, 'cdk.out', 'bundle-test-'));
    try {
      // WHEN it is synthesized
      const app = new App({ outdir });
      functionStack(app);
      app.synth();
      // THEN the asset is an .mjs bundle with a source map
      const assetDir = readdirSync(outdir).find((d) => existsSync(path.join(outdir, d, 'index.mjs')));
      expect(assetDir).toBeDefined();
      const bundle = path.join(outdir, assetDir!, 'index.mjs');
      expect(existsSync(`${bundle}.map`)).toBe(true);
      const code = readFileSync(bundle, 'utf8');
      expect(code.startsWith("import { createRequire } from 'node:module';")).toBe(true);
      expect(code).toContain('"@aws-sdk/client-s3"');
      // AND its handlers work when imported, the SDK coming from outside the bundle
      const mod = (await import(pathToFileURL(bundle).href)) as {
        shout: (e: { text: string }) => Promise<string>;
        sdkRegion: () => Promise<string>;
      };
      await expect(mod.shout({ text: 'restore me' })).resolves.toBe('RESTORE ME');
      await expect(mod.sdkRegion()).resolves.toBe('eu-west-1');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
