import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { WorkflowFunction } from '../../lib/function-defaults.ts';
import { importLogsKey } from '../../lib/logs-key.ts';
import { workflowStateMachine } from '../../lib/workflows/support/state-machine.ts';
import { appWithoutBundling, ECHO_HANDLER_ENTRY, exampleConfigJson } from './fixtures/app-fixture.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The statement CloudWatch Logs needs to use a key, limited to log groups of this account and region. */
const LOGS_SERVICE_STATEMENT = {
  Sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
  Effect: 'Allow',
  Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
  Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
  Resource: '*',
  Condition: {
    ArnLike: {
      'kms:EncryptionContext:aws:logs:arn': {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':logs:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':log-group:*',
          ],
        ],
      },
    },
  },
};

function logsKeysOf(resources: Resources): [string, Record<string, unknown>][] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::KMS::Key')
    .filter(([, r]) =>
      JSON.stringify(r.Properties.KeyPolicy).includes('AllowCloudWatchLogsForThisAccountsLogGroups'),
    )
    .map(([id, r]) => [id, r.Properties]);
}

describe('log group encryption', () => {
  it("encrypts a function's and a state machine's log groups with one customer managed logs key per stack", () => {
    // GIVEN a function and a workflow state machine in one stack
    const stack = new Stack(appWithoutBundling(), 'LogsTest');
    new WorkflowFunction(stack, 'Echo', { entry: ECHO_HANDLER_ENTRY });
    workflowStateMachine(stack, { definition: new sfn.Pass(stack, 'Start'), comment: 'test' });
    // WHEN synthesized
    const resources = Template.fromStack(stack).toJSON().Resources as Resources;
    // THEN one rotated logs key encrypts both log groups
    const keys = logsKeysOf(resources);
    expect(keys).toHaveLength(1);
    const [keyId, key] = keys[0] as [string, Record<string, unknown>];
    expect(key.EnableKeyRotation).toBe(true);
    expect((key.KeyPolicy as { Statement: unknown[] }).Statement).toContainEqual(LOGS_SERVICE_STATEMENT);
    const logGroups = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(2);
    for (const group of logGroups)
      expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it('keeps the logs key when its stack is deleted, since the retained log groups need it to be read', () => {
    const stack = new Stack(appWithoutBundling(), 'LogsTest');
    new WorkflowFunction(stack, 'Echo', { entry: ECHO_HANDLER_ENTRY });
    const template = Template.fromStack(stack).toJSON();
    const keyId = logsKeysOf(template.Resources as Resources)[0]?.[0] as string;
    expect(template.Resources[keyId]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('encrypts every log group of the deployed app with the one logs key of the alerting stack, which the org stacks import', () => {
    // GIVEN the example app WHEN synthesized
    const { alertingStack, orgStacks } = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), {
      nag: false,
    });
    // THEN the alerting stack holds the one logs key, rotated and retained, and exports its ARN
    const shared = Template.fromStack(alertingStack).toJSON();
    const keys = logsKeysOf(shared.Resources as Resources);
    expect(keys).toHaveLength(1);
    const [keyId, key] = keys[0] as [string, Record<string, unknown>];
    expect(key.EnableKeyRotation).toBe(true);
    expect((key.KeyPolicy as { Statement: unknown[] }).Statement).toContainEqual(LOGS_SERVICE_STATEMENT);
    expect(shared.Resources[keyId]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(shared.Outputs.LogsKeyArn).toEqual({
      Description: expect.any(String),
      Value: { 'Fn::GetAtt': [keyId, 'Arn'] },
      Export: { Name: 'SfBackup-Alerting-LogsKeyArn' },
    });
    // AND every log group of every org stack is encrypted with it, none left without, no other key made
    for (const stack of orgStacks) {
      const resources = Template.fromStack(stack).toJSON().Resources as Resources;
      expect(Object.values(resources).filter((r) => r.Type === 'AWS::KMS::Key')).toEqual([]);
      const logGroups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup');
      expect(logGroups.length).toBeGreaterThan(2);
      expect(
        logGroups
          .filter(
            ([, r]) =>
              JSON.stringify(r.Properties.KmsKeyId) !==
              JSON.stringify({ 'Fn::ImportValue': 'SfBackup-Alerting-LogsKeyArn' }),
          )
          .map(([id]) => id),
      ).toEqual([]);
    }
  });

  it('refuses to import a shared logs key into a stack that already made its own', () => {
    const stack = new Stack(appWithoutBundling(), 'LogsTest');
    new WorkflowFunction(stack, 'Echo', { entry: ECHO_HANDLER_ENTRY });
    expect(() => importLogsKey(stack, 'arn:aws:kms:eu-west-1:123456789012:key/shared')).toThrow(
      'Stack LogsTest already has a logs key; import the shared one before building anything that logs.',
    );
  });
});
