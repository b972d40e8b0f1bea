import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { RestoreWorkflow, type RestoreWorkflowProps } from '../../lib/restore-workflow.ts';
import { RESTORE_INPUT_REJECTED_ERRORS } from '../../contract/workflow-contract.ts';

function build(extra: Partial<RestoreWorkflowProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'VaultKey', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'VaultBucket', { encryptionKey: key });
  const workflow = new RestoreWorkflow(stack, 'Restore', {
    orgName: 'acme-prod',
    bucket,
    key,
    orgSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'OrgSecret', 'sfbackup/acme-prod'),
    alertTopic: new sns.Topic(stack, 'Alerts', { masterKey: key }),
    ...extra,
  });
  return { stack, workflow, template: Template.fromStack(stack) };
}

function definitionOf(template: Template): {
  States: Record<string, Record<string, unknown>>;
  StartAt: string;
} {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines);
  if (!machine) throw new Error('the stack has no state machine');
  const body = (machine.Properties as { DefinitionString: { 'Fn::Join': [string, unknown[]] } })
    .DefinitionString;
  const text = body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'x')).join('');
  return JSON.parse(text);
}

describe('RestoreWorkflow', () => {
  it('builds a Standard state machine that validates the input before anything else', () => {
    // GIVEN a restore workflow WHEN synthesized THEN the first state is the validation
    const { template } = build();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
    const definition = definitionOf(template);
    expect(definition.StartAt).toBe('ReadInput');
    expect(definition.States.ReadInput).toMatchObject({ Type: 'Pass', Next: 'ValidateInput' });
    const catches = definition.States.ValidateInput?.Catch as { ErrorEquals: string[]; Next: string }[];
    expect(catches[0]).toMatchObject({
      ErrorEquals: [...RESTORE_INPUT_REJECTED_ERRORS],
      Next: 'InputRejected',
    });
    expect(definition.States.InputRejected?.Type).toBe('Fail');
  });

  it('stops a dry run with the plan, and fans out over objects with Distributed Maps otherwise', () => {
    const { template } = build();
    const definition = definitionOf(template);
    const choice = definition.States.IsDryRun as {
      Choices: { Variable?: string; And?: { Variable: string }[]; Next: string }[];
    };
    // A dry run with metadata validates it first (checkOnly); without, it ends with the plan.
    expect(choice.Choices[0]?.Next).toBe('StartMetadataValidation');
    expect(choice.Choices[0]?.And?.map((c) => c.Variable)).toEqual(['$.run.dryRun', '$.run.metadata']);
    expect(choice.Choices[1]).toMatchObject({ Variable: '$.run.dryRun', Next: 'DryRunPlan' });
    expect(definition.States.MetadataValidated).toBeDefined();
    const level = definition.States.RestoreLevel as {
      ItemProcessor: { ProcessorConfig: { Mode: string } };
      ItemsPath: string;
    };
    expect(level.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(level.ItemsPath).toBe('$.level.objects');
    expect(definition.States.RestoreSecondPass).toBeDefined();
    expect(definition.States.OrgMatchesSnapshot).toBeDefined();
    expect(definition.States.NotifyMismatch?.Resource).toMatch(/sns:publish/);
  });

  it('lets the functions read their own backups and restore records, write only under restores/<org name>/, and never delete or alter a backup', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'WriteRestoreRecords',
            Action: 's3:PutObject',
            Resource: {
              'Fn::Join': [
                '',
                [{ 'Fn::GetAtt': [Match.stringLikeRegexp('VaultBucket'), 'Arn'] }, '/restores/acme-prod/*'],
              ],
            },
          }),
          Match.objectLike({
            Sid: 'NeverAlterBackups',
            Effect: 'Deny',
            Action: Match.arrayWith(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention']),
          }),
        ]),
      },
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('/restores/*');
    expect(policies).not.toMatch(/"s3:DeleteObject[^"]*"[^}]*"Effect":"Allow"/);
    expect(policies).not.toContain('"s3:*"');
  });

  it('schedules a monthly drill into the sandbox when one is configured', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Drill');
    const key = new kms.Key(stack, 'K', { enableKeyRotation: true });
    new RestoreWorkflow(stack, 'Restore', {
      orgName: 'acme-prod',
      bucket: new s3.Bucket(stack, 'B'),
      key,
      orgSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'sfbackup/acme-prod'),
      alertTopic: new sns.Topic(stack, 'T', { masterKey: key }),
      drill: {
        schedule: 'cron(0 6 1 * ? *)',
        sandboxSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Sandbox', 'sfbackup/acme-uat'),
      },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 1 * ? *)',
      Target: Match.objectLike({ Input: '{"drill":true,"snapshot":"latest"}' }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DRILL_SECRET_ARN: Match.anyValue() }) },
    });
  });

  it('refuses an org name that cannot be a vault prefix, naming the fix', () => {
    expect(() => build({ orgName: 'acme prod' })).toThrow(
      /orgName is "acme prod": write 2 to 32 lower-case letters/,
    );
  });

  it('passes the AwsSolutions checks with every acknowledgement reasoned', () => {
    const { stack } = build();
    const report = new AwsSolutionsChecks().validateScope(stack.node.findChild('Restore'));
    const findings = (
      report.violations as { ruleName: string; violatingResources: { constructPath?: string }[] }[]
    ).flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(findings).toEqual([]);
    expect(Validations).toBeDefined();
  });
});
