import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { BUCKET_TAMPER_EVENTS, KEY_TAMPER_EVENTS } from '../../lib/tamper-alerts.ts';
import { appWithoutBundling, exampleConfigJson } from './fixtures/app-fixture.ts';

function alertingTemplate(): Template {
  const { alertingStack } = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
  return Template.fromStack(alertingStack);
}

type Rule = { Properties: { EventPattern: Record<string, unknown>; Targets: Record<string, unknown>[] } };

function ruleFor(template: Template, source: string): Rule {
  const rules = Object.values(template.findResources('AWS::Events::Rule')) as Rule[];
  const matching = rules.filter(
    (r) => JSON.stringify(r.Properties.EventPattern.source) === JSON.stringify([source]),
  );
  expect(matching).toHaveLength(1);
  return matching[0] as Rule;
}

const IMPORTED_KEY_ARN = { 'Fn::ImportValue': 'SfBackup-Vault-KeyArn' };
const IMPORTED_BUCKET_ARN = { 'Fn::ImportValue': 'SfBackup-Vault-BucketArn' };

describe('alerts on attempts to get around the vault', () => {
  const template = alertingTemplate();
  const topic = Object.keys(template.findResources('AWS::SNS::Topic'));

  it('sends every attempt to disable, delete or re-policy the vault key to the alert topic', () => {
    expect(KEY_TAMPER_EVENTS).toEqual(
      expect.arrayContaining(['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy']),
    );
    const rule = ruleFor(template, 'aws.kms');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.kms'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['kms.amazonaws.com'],
        eventName: [...KEY_TAMPER_EVENTS],
        requestParameters: {
          keyId: [
            IMPORTED_KEY_ARN,
            // The key id: the part of the ARN's resource after "key/".
            {
              'Fn::Select': [
                1,
                { 'Fn::Split': ['/', { 'Fn::Select': [5, { 'Fn::Split': [':', IMPORTED_KEY_ARN] }] }] },
              ],
            },
          ],
        },
      },
    });
    // No errorCode filter: a denied attempt alerts as well as a call that succeeded.
    expect(JSON.stringify(rule.Properties.EventPattern)).not.toContain('errorCode');
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { Ref: topic[0] },
        DeadLetterConfig: expect.anything(),
        InputTransformer: expect.objectContaining({
          InputPathsMap: expect.objectContaining({ 'detail-eventName': '$.detail.eventName' }),
        }),
      }),
    ]);
  });

  it('sends every attempt to change the vault bucket policy, versioning, replication or lifecycle to the alert topic', () => {
    expect(BUCKET_TAMPER_EVENTS).toEqual(
      expect.arrayContaining([
        'PutBucketPolicy',
        'DeleteBucketPolicy',
        'PutBucketVersioning',
        'PutBucketReplication',
        'PutBucketLifecycle',
        'PutBucketLogging',
      ]),
    );
    const rule = ruleFor(template, 'aws.s3');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['s3.amazonaws.com'],
        eventName: [...BUCKET_TAMPER_EVENTS],
        requestParameters: {
          bucketName: [
            {
              'Fn::Select': [
                0,
                { 'Fn::Split': ['/', { 'Fn::Select': [5, { 'Fn::Split': [':', IMPORTED_BUCKET_ARN] }] }] },
              ],
            },
          ],
        },
      },
    });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { Ref: topic[0] },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      }),
    ]);
  });

  it('lets EventBridge publish the alerts to the topic', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Principal: { Service: 'events.amazonaws.com' },
            Resource: { Ref: topic[0] },
          }),
        ]),
      },
    });
  });
});
