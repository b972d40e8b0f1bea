import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { EnvName } from '../../contract/workflow-contract.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import { buildApp } from '../../lib/app.ts';
import { InvalidConfigError, parseConfig } from '../../lib/config.ts';
import { appWithoutBundling, configWith } from './fixtures/app-fixture.ts';

const SOURCE = 'aws.partner/salesforce.com/00DRM000000Fxts2AC/0YLRM0000004Dfg4AE';

function orgTemplate(continuous?: Record<string, unknown>): Template {
  const config = configWith({
    orgs: [
      {
        name: 'acme-prod',
        type: 'production',
        secretName: 'sfbackup/acme-prod',
        ...(continuous ? { continuous } : {}),
      },
    ],
  });
  const { orgStacks } = buildApp(config, appWithoutBundling(), { nag: false });
  return Template.fromStack(orgStacks[0]!);
}

describe('continuous protection of an org', () => {
  const template = orgTemplate({ partnerEventSource: SOURCE });

  it("associates the org's Event Relay source with an event bus and sends its events to an encrypted queue", () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: SOURCE, EventSourceName: SOURCE });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: [SOURCE] },
      Targets: [{ DeadLetterConfig: { Arn: {} }, RetryPolicy: { MaximumRetryAttempts: 185 } }],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 5 },
    });
    // Every queue refuses requests without TLS.
    const policies = template.findResources('AWS::SQS::QueuePolicy');
    expect(Object.keys(policies).length).toBeGreaterThanOrEqual(3);
  });

  it('writes batches with a function that reports failed items, and alarms on both dead-letter queues', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10000,
      MaximumBatchingWindowInSeconds: 300,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.writeJournal' });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      String((a as { Properties: { AlarmDescription?: string } }).Properties.AlarmDescription).includes(
        'are not in the journal',
      ),
    );
    expect(alarms).toHaveLength(2);
  });

  it("lets the writer add objects only under the org's journal, only with If-None-Match, and delete nothing", () => {
    const statements = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.includes('ContinuousWriter'))
      .flatMap(
        ([, p]) =>
          (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties
            .PolicyDocument.Statement,
      );
    const text = JSON.stringify(statements);
    expect(text).not.toMatch(/s3:Delete|s3:\*|PutObjectRetention|PutObjectLegalHold/);
    const journalObjects = {
      'Fn::Join': ['', [{ 'Fn::ImportValue': 'SfBackup-Vault-BucketArn' }, '/orgs/acme-prod/journal/*']],
    };
    // Objects: read and write under the org's journal only.
    const objectStatements = statements.filter(
      (x) => x.Effect === 'Allow' && /s3:(Get|Put)Object/.test(JSON.stringify(x.Action)),
    );
    expect(objectStatements).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: journalObjects },
    ]);
    // Listing: the bucket, with the prefix of the org's journal only.
    expect(statements.filter((x) => JSON.stringify(x.Action).includes('s3:ListBucket'))).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::ImportValue': 'SfBackup-Vault-BucketArn' },
        Condition: { StringLike: { 's3:prefix': ['orgs/acme-prod/journal/*'] } },
      },
    ]);
    // A new object without If-None-Match is refused, so nothing written can be overwritten.
    expect(statements.find((x) => x.Sid === 'DenyUnconditionalObjectCreation')).toEqual({
      Sid: 'DenyUnconditionalObjectCreation',
      Effect: 'Deny',
      Action: 's3:PutObject',
      Resource: journalObjects,
      Condition: { Null: { 's3:if-none-match': 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } },
    });
    expect(statements.filter((x) => JSON.stringify(x.Action).includes('s3:'))).toHaveLength(3);
  });

  it('keeps each message hidden longer than the writer may take with its batching window, and every queue on TLS', () => {
    // The function's 5 minutes, the 5-minute batching window and room for retries (AWS asks for at
    // least six times the function timeout when a queue feeds a function).
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 2100,
      RedrivePolicy: { maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.writeJournal', Timeout: 300 });
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    const guarded = new Set(
      Object.values(template.findResources('AWS::SQS::QueuePolicy')).flatMap((p) =>
        (
          p as {
            Properties: {
              PolicyDocument: {
                Statement: { Effect: string; Condition?: unknown; Resource: { 'Fn::GetAtt': string[] } }[];
              };
            };
          }
        ).Properties.PolicyDocument.Statement.filter(
          (st) =>
            st.Effect === 'Deny' &&
            JSON.stringify(st.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
        ).map((st) => st.Resource['Fn::GetAtt'][0]),
      ),
    );
    expect(queues.filter((q) => q.includes('Continuous')).length).toBe(3);
    for (const queue of queues) expect(guarded.has(queue), queue).toBe(true);
  });

  it("hands the source to every backup function's settings, which the runtime accepts", () => {
    const written = backupSettingsOf(template);
    expect(written.length).toBeGreaterThan(0);
    for (const settings of written) {
      expect(settings).toMatchObject({ continuous: { partnerEventSource: SOURCE } });
      expect(parseBackupSettings(JSON.stringify(settings)).continuous).toEqual({
        partnerEventSource: SOURCE,
      });
    }
  });

  it("adds the journal's widgets to the org's dashboard: writer, queue and both dead-letter queues", () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]);
    const widgets = widgetTitles(body);
    expect(widgets).toEqual(
      expect.arrayContaining([
        'Journal writer invocations and errors',
        'Change events waiting for the journal writer',
        'Change events in the dead-letter queues (not in the journal)',
      ]),
    );
    const writer = logicalIdOf(template, 'AWS::Lambda::Function', 'index.writeJournal');
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    const queue = queues.find((id) => /ContinuousQueue[0-9A-F]{8}$/.test(id));
    const ruleDlq = queues.find((id) => id.includes('ContinuousRuleDeadLetterQueue'));
    const writerDlq = queues.find((id) => id.includes('ContinuousWriterDeadLetterQueue'));
    expect([queue, ruleDlq, writerDlq].every(Boolean)).toBe(true);
    // Each metric names its resource by reference in the dashboard body.
    expect(metricsNaming(body, writer)).toEqual(expect.arrayContaining(['Invocations', 'Errors']));
    expect(metricsNaming(body, queue!, 'QueueName')).toEqual(
      expect.arrayContaining(['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage']),
    );
    expect(metricsNaming(body, ruleDlq!, 'QueueName')).toEqual(['ApproximateNumberOfMessagesVisible']);
    expect(metricsNaming(body, writerDlq!, 'QueueName')).toEqual(['ApproximateNumberOfMessagesVisible']);
  });

  it('adds nothing to an org the config does not make continuous', () => {
    const plain = orgTemplate();
    expect(Object.keys(plain.findResources('AWS::Events::EventBus'))).toHaveLength(0);
    expect(Object.keys(plain.findResources('AWS::Lambda::EventSourceMapping'))).toHaveLength(0);
    for (const settings of backupSettingsOf(plain)) expect(settings).not.toHaveProperty('continuous');
    const body = JSON.stringify(Object.values(plain.findResources('AWS::CloudWatch::Dashboard')));
    expect(body).not.toContain('Journal writer');
    expect(body).not.toContain('dead-letter');
  });

  it('refuses a source that is not an Event Relay partner event source, saying what to write', () => {
    expect(() =>
      parseConfig({
        orgs: [
          {
            name: 'acme-prod',
            type: 'production',
            secretName: 'sfbackup/acme-prod',
            continuous: { partnerEventSource: 'aws.partner/salesforce.com/acme' },
          },
        ],
        alertEmails: ['ops@example.com'],
      }),
    ).toThrow(InvalidConfigError);
    expect(() =>
      parseConfig({
        orgs: [
          {
            name: 'acme-prod',
            type: 'production',
            secretName: 'sfbackup/acme-prod',
            continuous: { partnerEventSource: 'aws.partner/salesforce.com/acme' },
          },
        ],
        alertEmails: ['ops@example.com'],
      }),
    ).toThrow(/aws\.partner\/salesforce\.com\/<org id>\/<channel id>/);
  });
});

/** The backup settings each function of the org's stack reads from its environment. */
function backupSettingsOf(template: Template): unknown[] {
  return Object.values(template.findResources('AWS::Lambda::Function'))
    .map((f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties)
    .map((p) => p.Environment?.Variables?.[EnvName.BackupSettings])
    .filter((value): value is string => typeof value === 'string')
    .map((value) => JSON.parse(value));
}

/** The titles of the widgets in a dashboard body (a Fn::Join of strings and references, as text). */
function widgetTitles(body: string): string[] {
  return [...body.matchAll(/\\"title\\":\\"([^\\]+)\\"/g)].map((m) => m[1]!);
}

function logicalIdOf(template: Template, type: string, handler: string): string {
  const found = Object.entries(template.findResources(type)).find(
    ([, r]) => (r as { Properties: { Handler?: string } }).Properties.Handler === handler,
  );
  if (!found) throw new Error(`no ${type} with handler ${handler}`);
  return found[0];
}

/**
 * The metric names the dashboard graphs for the resource `logicalId`: each metric in the body is
 * `["AWS/...", "<metric>", "<dimension>", <reference to the resource>, ...]`.
 */
function metricsNaming(body: string, logicalId: string, attribute?: string): string[] {
  const reference = attribute ? `{"Fn::GetAtt":["${logicalId}","${attribute}"]}` : `{"Ref":"${logicalId}"}`;
  const names: string[] = [];
  for (const m of body.matchAll(
    /\\"(\w+)\\",\\"(?:FunctionName|QueueName)\\",\\"",(\{"(?:Ref|Fn::GetAtt)":[^}]*\})/g,
  )) {
    if (m[2] === reference) names.push(m[1]!);
  }
  return names;
}
