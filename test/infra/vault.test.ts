import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { type AppConfig, parseConfig } from '../../lib/config.ts';
import { VaultStack } from '../../lib/stacks/vault-stack.ts';
import { PROTECTED_BUCKET_ACTIONS, Vault, VERSION_REMOVAL_ACTIONS } from '../../lib/vault.ts';
import { eraseRemovalPatternsOf } from '../../contract/workflow-contract.ts';
import { appWithoutBundling, configWith, exampleConfigJson } from './fixtures/app-fixture.ts';

// The vault stack alone, built as buildApp builds it, so these tests do not synthesize the workflows.
function vaultStackOf(config: AppConfig): VaultStack {
  return new VaultStack(appWithoutBundling(), `${config.stackPrefix}-Vault`, { config });
}

function vaultTemplate(config: AppConfig = parseConfig(exampleConfigJson())): Template {
  return Template.fromStack(vaultStackOf(config));
}

/** The CDK bootstrap's CloudFormation execution role, as the default synthesizer names it. */
const BOOTSTRAP_EXEC_ROLE = {
  'Fn::Sub':
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub template, not a JavaScript one
    'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}',
};
const BUCKET = 'VaultBucket0925C477';
const KEY = 'VaultKeyCB88EF1A';
const ACCESS_LOGS = 'VaultAccessLogsC5E11DDC';

describe('VaultStack', () => {
  it('keeps the logical ids of the key, the buckets and the bucket policy, so a refactor cannot replace the vault', () => {
    // GIVEN the example config WHEN the app is built as `cdk synth` builds it
    const { vaultStack } = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
    const template = Template.fromStack(vaultStack);
    // THEN the stateful resources keep their ids and types
    const ids = (type: string) => Object.keys(template.findResources(type)).sort();
    expect(ids('AWS::KMS::Key')).toEqual([KEY]);
    expect(ids('AWS::S3::Bucket')).toEqual([ACCESS_LOGS, BUCKET]);
    expect(ids('AWS::S3::BucketPolicy')).toEqual([
      'VaultAccessLogsPolicyFC1BA26B',
      'VaultBucketPolicyACD50CAD',
    ]);
  });

  it('turns termination protection on', () => {
    expect(vaultStackOf(configWith()).terminationProtection).toBe(true);
    expect(
      buildApp(configWith(), appWithoutBundling(), { nag: false }).vaultStack.terminationProtection,
    ).toBe(true);
  });

  it('retains the key and both buckets when the stack or resource is deleted', () => {
    const template = vaultTemplate();
    for (const id of [KEY, BUCKET, ACCESS_LOGS, 'VaultBucketPolicyACD50CAD']) {
      expect(template.toJSON().Resources[id]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  it('rotates the key and lets account principals use it only through S3 in this region', () => {
    const template = vaultTemplate();
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: [
          Match.objectLike({ Sid: 'DenyKeyTamperingExceptTrustedRoles', Effect: 'Deny' }),
          Match.objectLike({
            Sid: 'KeyAdministrationByAccount',
            Effect: 'Allow',
            Principal: {
              AWS: { 'Fn::Join': ['', Match.arrayWith([':iam::', { Ref: 'AWS::AccountId' }, ':root'])] },
            },
            Action: Match.arrayWith(['kms:Create*', 'kms:ScheduleKeyDeletion']),
          }),
          Match.objectLike({
            Sid: 'UseThroughS3ByAccountPrincipals',
            Effect: 'Allow',
            Action: [
              'kms:Encrypt',
              'kms:Decrypt',
              'kms:ReEncrypt*',
              'kms:GenerateDataKey*',
              'kms:DescribeKey',
            ],
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
                'kms:CallerAccount': { Ref: 'AWS::AccountId' },
              },
            },
          }),
        ],
      },
    });
    // No statement grants crypto operations outside S3.
    const policy = template.toJSON().Resources[KEY].Properties.KeyPolicy;
    const admin = policy.Statement.find((s: { Sid: string }) => s.Sid === 'KeyAdministrationByAccount');
    expect(admin.Action.some((a: string) => /Encrypt|Decrypt|GenerateDataKey|^kms:\*$/.test(a))).toBe(false);
  });

  it('versions the bucket, encrypts it with the vault key and a bucket key, blocks public access and logs access', () => {
    vaultTemplate().hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [KEY, 'Arn'] },
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: ACCESS_LOGS }, LogFilePrefix: 'vault/' },
      ObjectLockEnabled: true,
    });
  });

  it('moves noncurrent versions to colder storage and expires them after the configured retention', () => {
    const template = vaultTemplate(
      configWith({
        retention: {
          noncurrentDays: 400,
          coldAfterDays: 45,
          coldStorageClass: 'DEEP_ARCHIVE',
          currentDays: 800,
        },
      }),
    );
    const bucket = template.toJSON().Resources[BUCKET].Properties;
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'noncurrent-versions-to-cold-then-expire',
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        ExpirationInDays: 800,
        NoncurrentVersionExpiration: { NoncurrentDays: 400 },
        NoncurrentVersionTransitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 45 }],
      },
      { Id: 'remove-expired-delete-markers', Status: 'Enabled', ExpiredObjectDeleteMarker: true },
      {
        Id: 'expire-backup-run-records-acme-prod',
        Status: 'Enabled',
        Prefix: 'orgs/acme-prod/lease/backups',
        ExpirationInDays: 2,
      },
    ]);
  });

  it("removes each org's backup run records after two days, and refuses more orgs than S3 has lifecycle rules for", () => {
    const org = (name: string) => ({ ...configWith().orgs[0]!, name });
    const config = configWith();
    const rules = vaultTemplate({ ...config, orgs: [org('acme-prod'), org('acme-uat')] }).toJSON().Resources[
      BUCKET
    ].Properties.LifecycleConfiguration.Rules;
    expect(rules.filter((r: { Prefix?: string }) => r.Prefix)).toEqual([
      expect.objectContaining({ Prefix: 'orgs/acme-prod/lease/backups', ExpirationInDays: 2 }),
      expect.objectContaining({ Prefix: 'orgs/acme-uat/lease/backups', ExpirationInDays: 2 }),
    ]);
    // No other rule expires current versions without retention.currentDays.
    expect(rules.filter((r: { ExpirationInDays?: number }) => r.ExpirationInDays)).toHaveLength(2);

    // A name that is no vault prefix, or one given twice, is refused before any rule is made.
    const vault = (orgNames: string[]) => () =>
      new Vault(new Stack(appWithoutBundling(), 'V'), 'Vault', { retention: config.retention, orgNames });
    expect(vault(['acme', 'Acme/x', 'acme'])).toThrow(
      /Vault Vault: 2 problems:\n {2}- orgNames\[1\]: .+\n {2}- orgNames\[2\]: acme is named twice; name each org once/,
    );
    const many = Array.from({ length: 999 }, (_, i) => org(`org${i}`));
    expect(() => vaultStackOf({ ...config, orgs: many })).toThrow(
      /999 orgs need 1001 lifecycle rules, more than the 1000 S3 holds in one bucket; back up at most 998 orgs into one vault/,
    );
  });

  it('never expires current versions of backup data unless retention.currentDays is set', () => {
    const bucket = vaultTemplate(configWith()).toJSON().Resources[BUCKET].Properties;
    expect(bucket.LifecycleConfiguration.Rules[0]).not.toHaveProperty('ExpirationInDays');
    expect(bucket.LifecycleConfiguration.Rules[0].NoncurrentVersionTransitions).toEqual([
      { StorageClass: 'GLACIER_IR', TransitionInDays: 30 },
    ]);
  });

  it('sets no default Object Lock retention unless the config asks for one', () => {
    const bucket = vaultTemplate(configWith()).toJSON().Resources[BUCKET].Properties;
    expect(bucket.ObjectLockEnabled).toBe(true);
    expect(bucket).not.toHaveProperty('ObjectLockConfiguration');
  });

  it('applies the configured Object Lock mode and days as the default retention', () => {
    const template = vaultTemplate(
      configWith({ retention: { objectLock: { mode: 'COMPLIANCE', days: 90 } } }),
    );
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 90 } },
      },
    });
  });

  it('denies requests without TLS and uploads encrypted any other way than with the vault key', () => {
    const template = vaultTemplate();
    const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, '/*']] };
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: BUCKET },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          {
            Sid: 'DenyUploadsNotEncryptedWithKms',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:PutObject',
            Resource: objects,
            Condition: {
              StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
              Null: { 's3:x-amz-server-side-encryption': 'false' },
            },
          },
          {
            Sid: 'DenyUploadsWithAnotherKey',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:PutObject',
            Resource: objects,
            Condition: {
              StringNotEquals: {
                's3:x-amz-server-side-encryption-aws-kms-key-id': { 'Fn::GetAtt': [KEY, 'Arn'] },
              },
              Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
            },
          },
        ]),
      },
    });
  });

  it('denies deleting versions and changing versioning, lifecycle, lock, encryption or the policy to all but the deploying and break-glass roles', () => {
    const roleArn = 'arn:aws:iam::123456789012:role/vault-break-glass';
    const template = vaultTemplate(configWith({ breakGlassRoleArn: roleArn }));
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: BUCKET },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'DenyProtectedActionsExceptTrustedRoles',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: PROTECTED_BUCKET_ACTIONS.filter(
              (a) => !(VERSION_REMOVAL_ACTIONS as readonly string[]).includes(a),
            ),
            Resource: [
              { 'Fn::GetAtt': [BUCKET, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, '/*']] },
            ],
            Condition: {
              ArnNotEquals: {
                'aws:PrincipalArn': [BOOTSTRAP_EXEC_ROLE, roleArn],
              },
            },
          },
          // Version removal: denied to all but the trusted roles and the org's erase role.
          {
            Sid: 'DenyEraseRolesActionsToOthers',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: [...VERSION_REMOVAL_ACTIONS],
            Resource: [
              { 'Fn::GetAtt': [BUCKET, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, '/*']] },
            ],
            Condition: {
              ArnNotEquals: {
                'aws:PrincipalArn': [
                  BOOTSTRAP_EXEC_ROLE,
                  roleArn,
                  {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        ':iam::',
                        { Ref: 'AWS::AccountId' },
                        ':role/SfBackup-Erase-AcmeProd',
                      ],
                    ],
                  },
                ],
              },
            },
          },
          // Only a role tagged with the erase duty and an org, and only under that org's prefix.
          {
            Sid: 'DenyEraseRolesActionsWithoutDutyTag',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: [...VERSION_REMOVAL_ACTIONS],
            Resource: [
              { 'Fn::GetAtt': [BUCKET, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, '/*']] },
            ],
            Condition: {
              ArnNotEquals: { 'aws:PrincipalArn': [BOOTSTRAP_EXEC_ROLE, roleArn] },
              StringNotEquals: { 'aws:PrincipalTag/sfbackup-duty': 'erase' },
            },
          },
          {
            Sid: 'DenyEraseRolesActionsWithoutOrgTag',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: [...VERSION_REMOVAL_ACTIONS],
            Resource: [
              { 'Fn::GetAtt': [BUCKET, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, '/*']] },
            ],
            Condition: {
              ArnNotEquals: { 'aws:PrincipalArn': [BOOTSTRAP_EXEC_ROLE, roleArn] },
              Null: { 'aws:PrincipalTag/sfbackup-org': 'true' },
            },
          },
          {
            Sid: 'DenyEraseRolesActionsOutsideOwnOrg',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: [...VERSION_REMOVAL_ACTIONS],
            // The folders an erasure rewrites and its plans: never the erasure or retention log.
            // The policy variable S3 fills in with the role's tag, not a template placeholder.
            // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
            NotResource: eraseRemovalPatternsOf('${aws:PrincipalTag/sfbackup-org}').map((pattern) => ({
              'Fn::Join': ['', [{ 'Fn::GetAtt': [BUCKET, 'Arn'] }, `/${pattern}`]],
            })),
            Condition: {
              ArnNotEquals: { 'aws:PrincipalArn': [BOOTSTRAP_EXEC_ROLE, roleArn] },
              StringEquals: { 'aws:PrincipalTag/sfbackup-duty': 'erase' },
            },
          },
        ]),
      },
    });
    for (const action of [
      's3:DeleteObjectVersion',
      's3:PutBucketVersioning',
      's3:PutLifecycleConfiguration',
      's3:PutBucketObjectLockConfiguration',
      's3:PutBucketPolicy',
    ]) {
      expect(PROTECTED_BUCKET_ACTIONS).toContain(action);
    }
  });

  it('leaves those changes to the deploying role alone when no break-glass role is configured', () => {
    const statements = vaultTemplate(configWith()).toJSON().Resources.VaultBucketPolicyACD50CAD.Properties
      .PolicyDocument.Statement as {
      Sid?: string;
      Condition?: { ArnNotEquals: Record<string, unknown[]> };
    }[];
    const deny = statements.find((s) => s.Sid === 'DenyProtectedActionsExceptTrustedRoles');
    expect(deny?.Condition?.ArnNotEquals['aws:PrincipalArn']).toEqual([BOOTSTRAP_EXEC_ROLE]);
  });

  it('keeps access logs in their own locked-down bucket for the configured days', () => {
    vaultTemplate(configWith({ retention: { accessLogDays: 400 } })).hasResourceProperties(
      'AWS::S3::Bucket',
      {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [Match.objectLike({ Id: 'expire-access-logs', ExpirationInDays: 400 })],
        },
      },
    );
  });

  it('outputs the bucket name, access log bucket name, and exports the bucket and key ARNs under stable names', () => {
    const template = vaultTemplate();
    template.hasOutput('VaultBucketName', { Value: { Ref: BUCKET } });
    template.hasOutput('VaultKeyArn', {
      Value: { 'Fn::GetAtt': [KEY, 'Arn'] },
      Export: { Name: 'SfBackup-Vault-KeyArn' },
    });
    template.hasOutput('VaultBucketArn', {
      Value: { 'Fn::GetAtt': [BUCKET, 'Arn'] },
      Export: { Name: 'SfBackup-Vault-BucketArn' },
    });
    template.hasOutput('AccessLogsBucketName', { Value: { Ref: ACCESS_LOGS } });
  });
});
