import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { AppPolicies } from '../../cli/local/policies.ts';
import { LOCAL_ACCOUNT, type StackTemplate, TemplateResolver } from '../../cli/local/template.ts';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { PROTECTED_BUCKET_ACTIONS } from '../../lib/vault.ts';
import { appWithoutBundling, configWith, exampleConfigJson } from './fixtures/app-fixture.ts';

const SOURCE_BUCKET = 'VaultBucket0925C477';
const SOURCE_KEY = 'VaultKeyCB88EF1A';

function replicatedApp(replication: Record<string, unknown> = { region: 'eu-central-1' }) {
  return buildApp(
    configWith({ env: { account: '123456789012', region: 'eu-west-1' }, replication }),
    appWithoutBundling(),
    { nag: false },
  );
}

type Properties = Record<string, unknown>;

function sourceBucket(template: Template): Properties {
  return template.toJSON().Resources[SOURCE_BUCKET].Properties;
}

function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return (
    report.violations as { ruleName: string; violatingResources: { constructPath?: string }[] }[]
  ).flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

describe('the optional second copy of the vault', () => {
  it('is off by default: one vault, no replication rule, no replica stack', () => {
    const built = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
    expect(built.replicaStack).toBeUndefined();
    expect(sourceBucket(Template.fromStack(built.vaultStack))).not.toHaveProperty('ReplicationConfiguration');
  });

  it('builds the replica in its own terminated-protected stack in the replication region, deployed before the vault', () => {
    const { vaultStack, replicaStack } = replicatedApp();
    expect(replicaStack?.stackName).toBe('SfBackup-VaultReplica');
    expect(replicaStack?.region).toBe('eu-central-1');
    expect(replicaStack?.account).toBe('123456789012');
    expect(replicaStack?.terminationProtection).toBe(true);
    expect(vaultStack.dependencies).toContain(replicaStack);
  });

  it('replicates every version and delete marker, encrypted with the replica key, without Replication Time Control by default', () => {
    const { vaultStack } = replicatedApp();
    const template = Template.fromStack(vaultStack);
    const role = Object.keys(template.findResources('AWS::IAM::Role'));
    expect(role).toHaveLength(1);
    expect(sourceBucket(template).ReplicationConfiguration).toEqual({
      Role: { 'Fn::GetAtt': [role[0], 'Arn'] },
      Rules: [
        {
          Id: 'second-copy',
          Status: 'Enabled',
          Priority: 1,
          Filter: { Prefix: '' },
          DeleteMarkerReplication: { Status: 'Enabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: {
            Bucket: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':s3:::sfbackup-replica-',
                  { Ref: 'AWS::AccountId' },
                  '-eu-central-1',
                ],
              ],
            },
            EncryptionConfiguration: {
              ReplicaKmsKeyID: {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':kms:eu-central-1:',
                    { Ref: 'AWS::AccountId' },
                    ':alias/SfBackup-VaultReplica-vault',
                  ],
                ],
              },
            },
          },
        },
      ],
    });
  });

  it('uses Replication Time Control with its metrics when the config asks for it', () => {
    const { vaultStack } = replicatedApp({ region: 'eu-central-1', replicationTimeControl: true });
    const rule = (
      sourceBucket(Template.fromStack(vaultStack)).ReplicationConfiguration as { Rules: Properties[] }
    ).Rules[0] as { Destination: Properties };
    expect(rule.Destination.ReplicationTime).toEqual({ Status: 'Enabled', Time: { Minutes: 15 } });
    expect(rule.Destination.Metrics).toEqual({ Status: 'Enabled', EventThreshold: { Minutes: 15 } });
  });

  it('gives the replication role only what replication needs: read source versions, write replicas and delete markers, remove nothing', () => {
    const { vaultStack } = replicatedApp();
    const template = Template.fromStack(vaultStack);
    const [role] = Object.values(template.findResources('AWS::IAM::Role')) as { Properties: Properties }[];
    expect(role?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
        },
      ],
    });
    expect(role?.Properties).not.toHaveProperty('Policies');
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: Properties;
    }[];
    expect(policies).toHaveLength(1);
    const statements =
      (policies[0]?.Properties.PolicyDocument as { Statement: Properties[] } | undefined)?.Statement ?? [];
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual(
      [
        's3:GetReplicationConfiguration',
        's3:ListBucket',
        's3:GetObjectVersionForReplication',
        's3:GetObjectVersionAcl',
        's3:GetObjectVersionTagging',
        's3:GetObjectRetention',
        's3:GetObjectLegalHold',
        's3:ReplicateObject',
        's3:ReplicateTags',
        's3:ReplicateDelete',
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:GenerateDataKey',
      ].sort(),
    );
    const decrypt = statements.find((s) => s.Sid === 'DecryptSourceThroughS3');
    expect(decrypt?.Resource).toEqual({ 'Fn::GetAtt': [SOURCE_KEY, 'Arn'] });
    expect(decrypt?.Condition).toMatchObject({
      StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' },
    });
    const encrypt = statements.find((s) => s.Sid === 'EncryptReplicasThroughS3');
    expect(encrypt?.Condition).toMatchObject({
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/SfBackup-VaultReplica-vault'] },
      StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' },
    });
  });

  it('keeps the replica as protected as the vault, under a key of its own in its region', () => {
    const { replicaStack } = replicatedApp();
    const template = Template.fromStack(replicaStack as never);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: { 'Fn::Join': ['', ['sfbackup-replica-', { Ref: 'AWS::AccountId' }, '-eu-central-1']] },
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockEnabled: true,
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [SOURCE_KEY, 'Arn'] },
            },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/SfBackup-VaultReplica-vault' });
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find(
      (p) => p.Properties.Bucket.Ref === SOURCE_BUCKET,
    );
    const deny = ((policy?.Properties.PolicyDocument.Statement ?? []) as Properties[]).find(
      (s) => s.Sid === 'DenyProtectedActionsExceptTrustedRoles',
    );
    expect(deny?.Action).toEqual([...PROTECTED_BUCKET_ACTIONS]);
  });

  it("expires what the vault's sweeps remove there as the vault does: the same lifecycle, the same noncurrent days", () => {
    // GIVEN a retention policy, whose sweeps leave delete markers the rule above carries over
    const { vaultStack, replicaStack } = buildApp(
      configWith({
        env: { account: '123456789012', region: 'eu-west-1' },
        replication: { region: 'eu-central-1' },
        retention: { keep: { daily: 7, weekly: 5, monthly: 12, yearly: 7 }, noncurrentDays: 90 },
      }),
      appWithoutBundling(),
      { nag: false },
    );
    const lifecycle = (stack: Stack) => sourceBucket(Template.fromStack(stack)).LifecycleConfiguration;
    // THEN the replica's versions made noncurrent by a replicated marker expire after the same days
    expect(lifecycle(replicaStack as Stack)).toEqual(lifecycle(vaultStack));
    expect(JSON.stringify(lifecycle(vaultStack))).toContain('"NoncurrentDays":90');
    expect(JSON.stringify(lifecycle(vaultStack))).toContain('"ExpiredObjectDeleteMarker":true');
    // AND the backup run records the vault's lifecycle removes (markers it makes are not
    // replicated) the replica's removes by the same rule
    expect(JSON.stringify(lifecycle(replicaStack as Stack))).toContain(
      '"ExpirationInDays":2,"Id":"expire-backup-run-records-acme-prod","Prefix":"orgs/acme-prod/lease/backups"',
    );
  });

  it('passes cdk-nag in both vault stacks', () => {
    const { vaultStack, replicaStack } = replicatedApp();
    expect(nagFindings(vaultStack)).toEqual([]);
    expect(nagFindings(replicaStack as never)).toEqual([]);
  });
});

describe("the replication role as the local app's policy evaluator decides", () => {
  // GIVEN the vault and replica stacks of a replicated config, synthesized and resolved as the
  // policy-enforced local run resolves them
  const { app } = buildApp(
    configWith({
      env: { account: LOCAL_ACCOUNT, region: 'eu-west-1' },
      replication: { region: 'eu-central-1' },
    }),
    appWithoutBundling(),
    { nag: false },
  );
  const stacks: StackTemplate[] = app
    .synth()
    .stacks.filter((s) => s.stackName === 'SfBackup-Vault' || s.stackName === 'SfBackup-VaultReplica')
    .map((s) => ({ stackName: s.stackName, template: s.template }));
  const resolver = new TemplateResolver(stacks, 'eu-west-1');
  const policies = new AppPolicies(stacks, resolver, 'eu-west-1');
  const vault = stacks.find((s) => s.stackName === 'SfBackup-Vault') as StackTemplate;
  const replica = stacks.find((s) => s.stackName === 'SfBackup-VaultReplica') as StackTemplate;
  const roleId = Object.entries(vault.template.Resources ?? {}).find(
    ([, r]) => r.Type === 'AWS::IAM::Role',
  )?.[0];
  const role = String(resolver.resolve({ 'Fn::GetAtt': [roleId, 'Arn'] }, vault));
  const source = String(resolver.resolve({ 'Fn::GetAtt': [SOURCE_BUCKET, 'Arn'] }, vault));
  const destination = String(resolver.resolve({ 'Fn::GetAtt': [SOURCE_BUCKET, 'Arn'] }, replica));
  const object = 'acme-prod/snapshots/2026-12-01/Account.csv';

  it('names the replica bucket the same way in both stacks', () => {
    expect(destination).toBe(`arn:aws:s3:::sfbackup-replica-${LOCAL_ACCOUNT}-eu-central-1`);
    const configuration = vault.template.Resources?.[SOURCE_BUCKET]?.Properties?.ReplicationConfiguration as
      | { Rules: { Destination: { Bucket: unknown } }[] }
      | undefined;
    const replicated = configuration?.Rules[0]?.Destination.Bucket;
    expect(resolver.resolve(replicated, vault)).toBe(destination);
  });

  it('allows reading source versions for replication and writing replicas and their delete markers', async () => {
    for (const [action, resource] of [
      ['s3:GetReplicationConfiguration', source],
      ['s3:GetObjectVersionForReplication', `${source}/${object}`],
      ['s3:GetObjectRetention', `${source}/${object}`],
      ['s3:ReplicateObject', `${destination}/${object}`],
      ['s3:ReplicateTags', `${destination}/${object}`],
      ['s3:ReplicateDelete', `${destination}/${object}`],
    ] as const) {
      expect(await policies.check({ principal: role, action, resource }), action).toEqual({ allowed: true });
    }
    // The KMS statements are held by the template test above: the evaluator does not read the
    // kms:EncryptionContext:aws:s3:arn key from a request's context, so it cannot decide them.
  });

  it('refuses it deletes of its own, version removals, uploads and reads of current objects', async () => {
    for (const [action, resource] of [
      ['s3:DeleteObject', `${destination}/${object}`],
      ['s3:DeleteObject', `${source}/${object}`],
      ['s3:DeleteObjectVersion', `${destination}/${object}`],
      ['s3:DeleteObjectVersion', `${source}/${object}`],
      ['s3:PutObject', `${destination}/${object}`],
      ['s3:GetObject', `${source}/${object}`],
    ] as const) {
      expect((await policies.check({ principal: role, action, resource })).allowed, action).toBe(false);
    }
  });
});
