import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
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
    expect(text).toContain('orgs/acme-prod/journal/*');
    expect(text).not.toMatch(/s3:Delete|s3:\*|PutObjectRetention|PutObjectLegalHold/);
    const deny = statements.find((s) => s.Sid === 'DenyUnconditionalObjectCreation');
    expect(deny).toMatchObject({ Effect: 'Deny', Action: 's3:PutObject' });
    for (const s of statements.filter(
      (x) => x.Effect === 'Allow' && JSON.stringify(x.Action).includes('s3:'),
    )) {
      expect(JSON.stringify(s.Resource ?? s.Condition)).toMatch(
        /orgs\/acme-prod\/journal\/\*|<ref>|Fn::|Ref/,
      );
    }
  });

  it('adds nothing to an org the config does not make continuous', () => {
    const plain = orgTemplate();
    expect(Object.keys(plain.findResources('AWS::Events::EventBus'))).toHaveLength(0);
    expect(Object.keys(plain.findResources('AWS::Lambda::EventSourceMapping'))).toHaveLength(0);
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
