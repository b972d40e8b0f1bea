import { runSimulation } from '@cloud-copilot/iam-simulate';
import { CliCredentialsStackSynthesizer, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../lib/config.ts';
import { VaultStack } from '../../lib/stacks/vault-stack.ts';
import {
  PROTECTED_BUCKET_ACTIONS,
  PROTECTED_KEY_ACTIONS,
  VERSION_REMOVAL_ACTIONS,
  Vault,
} from '../../lib/vault.ts';
import { AppPolicies } from '../../cli/local/policies.ts';
import { LOCAL_ACCOUNT, type StackTemplate, TemplateResolver } from '../../cli/local/template.ts';
import { appWithoutBundling, configWith } from './fixtures/app-fixture.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const BUCKET_NAME = 'sfbackup-vault-bucket';
const ACCESS_LOGS_NAME = 'sfbackup-vault-access-logs';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/vault-break-glass`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/AccountAdmin`;
const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`;

/** The CDK bootstrap's CloudFormation execution role, as the default synthesizer names it. */
const BOOTSTRAP_EXEC_ROLE = {
  'Fn::Sub':
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub template, not a JavaScript one
    'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}',
};
const BUCKET = 'VaultBucket0925C477';
const KEY = 'VaultKeyCB88EF1A';
const ACCESS_LOGS = 'VaultAccessLogsC5E11DDC';

/** An identity policy as broad as AdministratorAccess. */
const ADMINISTRATOR_ACCESS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

function vaultTemplate(config: AppConfig): Template {
  return Template.fromStack(new VaultStack(appWithoutBundling(), `${config.stackPrefix}-Vault`, { config }));
}

/**
 * Replaces the intrinsic functions of a synthesized policy by the values CloudFormation would
 * give them in one account and region, so a policy evaluator can read it.
 */
function resolve(value: unknown): unknown {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const refs: Record<string, string> = {
    [BUCKET]: BUCKET_NAME,
    [ACCESS_LOGS]: ACCESS_LOGS_NAME,
    [KEY]: KEY_ID,
  };
  const arns: Record<string, string> = {
    [BUCKET]: `arn:aws:s3:::${BUCKET_NAME}`,
    [ACCESS_LOGS]: `arn:aws:s3:::${ACCESS_LOGS_NAME}`,
    [KEY]: KEY_ARN,
  };
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1) {
    const [fn] = keys as [string];
    const arg = object[fn];
    if (fn === 'Ref') {
      const name = String(arg);
      const resolved = pseudo[name] ?? refs[name];
      if (resolved === undefined) throw new Error(`No value for Ref ${name}`);
      return resolved;
    }
    if (fn === 'Fn::GetAtt') {
      const [id, attribute] = arg as [string, string];
      const resolved = attribute === 'Arn' ? arns[id] : undefined;
      if (resolved === undefined) throw new Error(`No value for GetAtt ${id}.${attribute}`);
      return resolved;
    }
    if (fn === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((p) => String(resolve(p))).join(separator);
    }
    if (fn === 'Fn::Sub') {
      return String(arg).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const resolved = pseudo[name];
        if (resolved === undefined) throw new Error(`No value for \${${name}} in Fn::Sub`);
        return resolved;
      });
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolve(object[k])]));
}

interface Policies {
  readonly bucketPolicy: unknown;
  readonly accessLogsPolicy: unknown;
  readonly keyPolicy: unknown;
}

function policiesOf(config: AppConfig): Policies {
  const resources = vaultTemplate(config).toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const bucketPolicyOf = (bucket: string) =>
    Object.values(resources).find(
      (r) => r.Type === 'AWS::S3::BucketPolicy' && (r.Properties.Bucket as { Ref?: string }).Ref === bucket,
    )?.Properties.PolicyDocument;
  return {
    bucketPolicy: resolve(bucketPolicyOf(BUCKET)),
    accessLogsPolicy: resolve(bucketPolicyOf(ACCESS_LOGS)),
    keyPolicy: resolve(resources[KEY]?.Properties.KeyPolicy),
  };
}

/** What IAM decides when `principal`, whose only identity policy allows everything, calls `action` on `resource`. */
async function decide(
  principal: string,
  action: string,
  resource: string,
  resourcePolicy: unknown,
  /** The role's tags, which a request carries as `aws:PrincipalTag/<key>`. */
  tags: Readonly<Record<string, string>> = {},
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: {
          'aws:PrincipalArn': principal,
          'aws:PrincipalAccount': ACCOUNT,
          'aws:SecureTransport': 'true',
          ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
        },
      },
      identityPolicies: [{ name: 'AdministratorAccess', policy: ADMINISTRATOR_ACCESS }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

const BUCKET_ARN = `arn:aws:s3:::${BUCKET_NAME}`;
const ACCESS_LOGS_ARN = `arn:aws:s3:::${ACCESS_LOGS_NAME}`;

const BUCKET_BYPASSES = [
  ['s3:PutBucketPolicy', BUCKET_ARN],
  ['s3:DeleteBucketPolicy', BUCKET_ARN],
  ['s3:PutReplicationConfiguration', BUCKET_ARN],
  ['s3:PutBucketLogging', BUCKET_ARN],
  ['s3:PutBucketVersioning', BUCKET_ARN],
  ['s3:PutLifecycleConfiguration', BUCKET_ARN],
  ['s3:PutBucketObjectLockConfiguration', BUCKET_ARN],
  ['s3:PutEncryptionConfiguration', BUCKET_ARN],
  ['s3:PutBucketPublicAccessBlock', BUCKET_ARN],
  ['s3:PutBucketOwnershipControls', BUCKET_ARN],
  ['s3:PutBucketAcl', BUCKET_ARN],
  ['s3:DeleteBucket', BUCKET_ARN],
  ['s3:DeleteObject', `${BUCKET_ARN}/acme-prod/data/Account.csv`],
  ['s3:DeleteObjectVersion', `${BUCKET_ARN}/acme-prod/data/Account.csv`],
  ['s3:PutObjectAcl', `${BUCKET_ARN}/acme-prod/data/Account.csv`],
  ['s3:PutObjectRetention', `${BUCKET_ARN}/acme-prod/data/Account.csv`],
  ['s3:BypassGovernanceRetention', `${BUCKET_ARN}/acme-prod/data/Account.csv`],
] as const;

const KEY_BYPASSES = [
  'kms:DisableKey',
  'kms:ScheduleKeyDeletion',
  'kms:PutKeyPolicy',
  'kms:DisableKeyRotation',
];

describe('the vault cannot be got around by an account administrator', () => {
  const config = configWith({ breakGlassRoleArn: BREAK_GLASS, env: { region: REGION } });
  const { bucketPolicy, accessLogsPolicy, keyPolicy } = policiesOf(config);

  it.each(BUCKET_BYPASSES)(
    'refuses %s on the vault bucket to a role allowed every action',
    async (action, resource) => {
      expect(await decide(ADMIN, action, resource, bucketPolicy)).toBe('ExplicitlyDenied');
    },
  );

  it.each(BUCKET_BYPASSES)(
    'allows %s on the vault bucket to the break-glass role',
    async (action, resource) => {
      expect(await decide(BREAK_GLASS, action, resource, bucketPolicy)).toBe('Allowed');
    },
  );

  it.each(BUCKET_BYPASSES)(
    'allows %s on the vault bucket to the CDK bootstrap execution role, so stack updates still work',
    async (action, resource) => {
      expect(await decide(DEPLOY_ROLE, action, resource, bucketPolicy)).toBe('Allowed');
    },
  );

  it.each(KEY_BYPASSES)('refuses %s on the vault key to a role allowed every action', async (action) => {
    expect(await decide(ADMIN, action, KEY_ARN, keyPolicy)).toBe('ExplicitlyDenied');
  });

  it.each(KEY_BYPASSES)(
    'allows %s on the vault key to the break-glass and the deploying role',
    async (action) => {
      expect(await decide(BREAK_GLASS, action, KEY_ARN, keyPolicy)).toBe('Allowed');
      expect(await decide(DEPLOY_ROLE, action, KEY_ARN, keyPolicy)).toBe('Allowed');
    },
  );

  it('still lets the administrator read the key and the workflows read and write backups', async () => {
    expect(await decide(ADMIN, 'kms:DescribeKey', KEY_ARN, keyPolicy)).toBe('Allowed');
    const object = `${BUCKET_ARN}/acme-prod/data/Account.csv`;
    const workflow = `arn:aws:iam::${ACCOUNT}:role/SfBackup-Org-AcmeProd-AcmeProdBackupExportRole`;
    expect(await decide(workflow, 's3:PutObject', object, bucketPolicy)).toBe('Allowed');
    expect(await decide(workflow, 's3:GetObject', object, bucketPolicy)).toBe('Allowed');
    expect(await decide(workflow, 's3:GetObjectVersion', object, bucketPolicy)).toBe('Allowed');
    expect(await decide(workflow, 's3:ListBucket', BUCKET_ARN, bucketPolicy)).toBe('Allowed');
  });

  it('refuses the administrator a change of the access log bucket policy or its log versions', async () => {
    expect(await decide(ADMIN, 's3:PutBucketPolicy', ACCESS_LOGS_ARN, accessLogsPolicy)).toBe(
      'ExplicitlyDenied',
    );
    expect(
      await decide(ADMIN, 's3:DeleteObjectVersion', `${ACCESS_LOGS_ARN}/vault/log`, accessLogsPolicy),
    ).toBe('ExplicitlyDenied');
    expect(await decide(BREAK_GLASS, 's3:PutBucketPolicy', ACCESS_LOGS_ARN, accessLogsPolicy)).toBe(
      'Allowed',
    );
  });

  it('keeps the protections for the deploying role alone when no break-glass role is configured', async () => {
    const alone = policiesOf(configWith({ env: { region: REGION } }));
    expect(await decide(ADMIN, 's3:PutBucketPolicy', BUCKET_ARN, alone.bucketPolicy)).toBe(
      'ExplicitlyDenied',
    );
    expect(await decide(BREAK_GLASS, 's3:PutBucketPolicy', BUCKET_ARN, alone.bucketPolicy)).toBe(
      'ExplicitlyDenied',
    );
    expect(await decide(DEPLOY_ROLE, 's3:PutBucketPolicy', BUCKET_ARN, alone.bucketPolicy)).toBe('Allowed');
    expect(await decide(ADMIN, 'kms:ScheduleKeyDeletion', KEY_ARN, alone.keyPolicy)).toBe('ExplicitlyDenied');
  });

  it('trusts the configured deploy role instead of the bootstrap one', async () => {
    const pipeline = `arn:aws:iam::${ACCOUNT}:role/platform/vault-deployer`;
    const custom = policiesOf(configWith({ deployRoleArn: pipeline, env: { region: REGION } }));
    expect(await decide(pipeline, 's3:PutBucketPolicy', BUCKET_ARN, custom.bucketPolicy)).toBe('Allowed');
    expect(await decide(pipeline, 'kms:PutKeyPolicy', KEY_ARN, custom.keyPolicy)).toBe('Allowed');
    expect(await decide(DEPLOY_ROLE, 's3:PutBucketPolicy', BUCKET_ARN, custom.bucketPolicy)).toBe(
      'ExplicitlyDenied',
    );
  });
});

describe('the vault policies as synthesized', () => {
  it('deny every protected bucket action on the bucket and its objects to all but the deploying and break-glass roles', () => {
    const template = vaultTemplate(configWith({ breakGlassRoleArn: BREAK_GLASS }));
    for (const bucket of [BUCKET, ACCESS_LOGS]) {
      const statements = Object.values(template.findResources('AWS::S3::BucketPolicy')).find(
        (r) => r.Properties.Bucket.Ref === bucket,
      )?.Properties.PolicyDocument.Statement as { Sid?: string }[];
      // The vault bucket leaves version removal to statements of its own (erasure, below).
      const actions =
        bucket === BUCKET
          ? PROTECTED_BUCKET_ACTIONS.filter(
              (a) => !(VERSION_REMOVAL_ACTIONS as readonly string[]).includes(a),
            )
          : [...PROTECTED_BUCKET_ACTIONS];
      expect(statements.find((s) => s.Sid === 'DenyProtectedActionsExceptTrustedRoles')).toEqual({
        Sid: 'DenyProtectedActionsExceptTrustedRoles',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: actions,
        Resource: [
          { 'Fn::GetAtt': [bucket, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] },
        ],
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [BOOTSTRAP_EXEC_ROLE, BREAK_GLASS] } },
      });
    }
    for (const action of [
      's3:PutBucketPolicy',
      's3:DeleteBucketPolicy',
      's3:PutReplicationConfiguration',
      's3:PutBucketLogging',
      's3:PutBucketPublicAccessBlock',
      's3:PutBucketOwnershipControls',
      's3:PutBucketAcl',
      's3:DeleteObject',
    ]) {
      expect(PROTECTED_BUCKET_ACTIONS).toContain(action);
    }
  });

  it('deny disabling, deleting or re-policying the key to all but the deploying and break-glass roles', () => {
    const template = vaultTemplate(configWith({ breakGlassRoleArn: BREAK_GLASS }));
    const statements = template.toJSON().Resources[KEY].Properties.KeyPolicy.Statement as { Sid?: string }[];
    expect(statements[0]).toEqual({
      Sid: 'DenyKeyTamperingExceptTrustedRoles',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: [...PROTECTED_KEY_ACTIONS],
      Resource: '*',
      Condition: {
        ArnNotEquals: {
          'aws:PrincipalArn': [BOOTSTRAP_EXEC_ROLE, BREAK_GLASS],
        },
      },
    });
    for (const action of ['kms:DisableKey', 'kms:ScheduleKeyDeletion', 'kms:PutKeyPolicy']) {
      expect(PROTECTED_KEY_ACTIONS).toContain(action);
    }
  });

  it('refuses to build a vault whose stack synthesizer names no execution role unless the deploy role is configured', () => {
    const stack = new Stack(appWithoutBundling(), 'NoExecRole', {
      synthesizer: new CliCredentialsStackSynthesizer(),
    });
    const retention = configWith().retention;
    expect(() => new Vault(stack, 'Vault', { retention })).toThrow(
      /CliCredentialsStackSynthesizer, which names no CloudFormation execution role.*set deployRoleArn/,
    );
    const other = new Stack(appWithoutBundling(), 'Named', {
      synthesizer: new CliCredentialsStackSynthesizer(),
    });
    expect(
      () => new Vault(other, 'Vault', { retention, deployRoleArn: `arn:aws:iam::${ACCOUNT}:role/deployer` }),
    ).not.toThrow();
  });
});

describe("the vault's policies as the local app's policy evaluator decides", () => {
  // GIVEN the vault stack and, beside it, roles allowed every action: an account administrator,
  // the break-glass role the config names, and the bootstrap's CloudFormation execution role
  const region = 'us-east-1';
  const role = (name: string) => `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}`;
  const admin = 'AccountAdmin';
  const breakGlass = 'vault-break-glass';
  const deployer = `cdk-hnb659fds-cfn-exec-role-${LOCAL_ACCOUNT}-${region}`;
  const app = appWithoutBundling();
  const config = configWith({ breakGlassRoleArn: role(breakGlass), env: { account: LOCAL_ACCOUNT, region } });
  new VaultStack(app, 'SfBackup-Vault', { config, env: { account: LOCAL_ACCOUNT, region } });
  const principals = new Stack(app, 'Principals', { env: { account: LOCAL_ACCOUNT, region } });
  for (const name of [admin, breakGlass, deployer]) {
    new iam.Role(principals, name, {
      roleName: name,
      assumedBy: new iam.AccountRootPrincipal(),
      inlinePolicies: { everything: iam.PolicyDocument.fromJson(ADMINISTRATOR_ACCESS) },
    });
  }
  const assembly = app.synth();
  const stacks: StackTemplate[] = assembly.stacks.map((s) => ({
    stackName: s.stackName,
    template: s.template,
  }));
  const resolver = new TemplateResolver(stacks, region);
  const policies = new AppPolicies(stacks, resolver, region);
  const vault = stacks.find((s) => s.stackName === 'SfBackup-Vault') as StackTemplate;
  const bucketArn = String(resolver.resolve({ 'Fn::GetAtt': [BUCKET, 'Arn'] }, vault));
  const keyArn = String(resolver.resolve({ 'Fn::GetAtt': [KEY, 'Arn'] }, vault));
  const requests = [
    ['s3:PutBucketPolicy', bucketArn],
    ['s3:DeleteBucketPolicy', bucketArn],
    ['s3:PutReplicationConfiguration', bucketArn],
    ['kms:DisableKey', keyArn],
    ['kms:ScheduleKeyDeletion', keyArn],
  ] as const;

  it.each(requests)(
    'refuses %s to an account administrator with an explicit deny',
    async (action, resource) => {
      const decision = await policies.check({ principal: role(admin), action, resource });
      expect(decision.allowed).toBe(false);
      expect(decision.reason).toMatch(/^with an explicit deny in a resource-based policy/);
    },
  );

  it.each(requests)('allows %s to the break-glass role and the deploying role', async (action, resource) => {
    expect(await policies.check({ principal: role(breakGlass), action, resource })).toEqual({
      allowed: true,
    });
    expect(await policies.check({ principal: role(deployer), action, resource })).toEqual({ allowed: true });
  });
});

describe("version removal, left to each org's erase role under its own prefix", () => {
  const config = configWith({
    breakGlassRoleArn: BREAK_GLASS,
    env: { region: REGION },
    orgs: [
      { name: 'acme-prod', type: 'production', secretName: 'sfbackup/acme-prod' },
      { name: 'acme-uat', type: 'sandbox', secretName: 'sfbackup/acme-uat' },
    ],
  });
  const { bucketPolicy } = policiesOf(config);
  const eraseRole = (org: string) => `arn:aws:iam::${ACCOUNT}:role/SfBackup-Erase-${org}`;
  const orgNames: Record<string, string> = { AcmeProd: 'acme-prod', AcmeUat: 'acme-uat' };
  // Each erase role is tagged with its org and duty where the org stack creates it.
  const asEraseRole = (org: string, action: string, resource: string) =>
    decide(eraseRole(org), action, resource, bucketPolicy, {
      'sfbackup-org': orgNames[org] ?? org,
      'sfbackup-duty': 'erase',
    });
  const part = (org: string) =>
    `${BUCKET_ARN}/orgs/${org}/snapshots/20260101T000000000Z-abcdef/objects/Contact/part-00001-aaaaaaaa.csv.gz`;

  it("allows s3:DeleteObjectVersion to an org's erase role under its own prefix only", async () => {
    const action = 's3:DeleteObjectVersion';
    expect(await asEraseRole('AcmeProd', action, part('acme-prod'))).toBe('Allowed');
    expect(await asEraseRole('AcmeUat', action, part('acme-uat'))).toBe('Allowed');
    expect(await asEraseRole('AcmeProd', action, part('acme-uat'))).toBe('ExplicitlyDenied');
    expect(await asEraseRole('AcmeUat', action, part('acme-prod'))).toBe('ExplicitlyDenied');
    // Its org's restore records and diff reports hold her too; another org's do not concern it.
    for (const folder of ['restores', 'reports']) {
      expect(await asEraseRole('AcmeProd', action, `${BUCKET_ARN}/${folder}/acme-prod/x.json`)).toBe(
        'Allowed',
      );
      expect(await asEraseRole('AcmeProd', action, `${BUCKET_ARN}/${folder}/acme-uat/x.json`)).toBe(
        'ExplicitlyDenied',
      );
    }
    // Never the erasure log, the retention log or the latest pointer.
    for (const rest of ['erasures/log/x.json', 'retention/x.json', 'latest-complete.json'])
      expect(await asEraseRole('AcmeProd', action, `${BUCKET_ARN}/orgs/acme-prod/${rest}`), rest).toBe(
        'ExplicitlyDenied',
      );
  });

  it('refuses version removal to an erase role whose tags are missing, name another duty, or name another org', async () => {
    // GIVEN the named erase role of acme-prod, allowed every action by its own policy
    const action = 's3:DeleteObjectVersion';
    const role = eraseRole('AcmeProd');
    // WHEN its tags are missing or wrong THEN the bucket policy refuses, whatever its name
    expect(await decide(role, action, part('acme-prod'), bucketPolicy)).toBe('ExplicitlyDenied');
    expect(await decide(role, action, part('acme-prod'), bucketPolicy, { 'sfbackup-duty': 'erase' })).toBe(
      'ExplicitlyDenied',
    );
    expect(
      await decide(role, action, part('acme-prod'), bucketPolicy, {
        'sfbackup-org': 'acme-prod',
        'sfbackup-duty': 'retention-sweep',
      }),
    ).toBe('ExplicitlyDenied');
    expect(
      await decide(role, action, part('acme-prod'), bucketPolicy, {
        'sfbackup-org': 'acme-uat',
        'sfbackup-duty': 'erase',
      }),
    ).toBe('ExplicitlyDenied');
    // AND a role tagged as an erase role but not named in the vault's list is refused too
    expect(
      await decide(`arn:aws:iam::${ACCOUNT}:role/SomeOtherRole`, action, part('acme-prod'), bucketPolicy, {
        'sfbackup-org': 'acme-prod',
        'sfbackup-duty': 'erase',
      }),
    ).toBe('ExplicitlyDenied');
  });

  it('allows s3:BypassGovernanceRetention to the erase roles, which can remove a version under their own org only', async () => {
    // Bypassing a lock changes nothing by itself: retention changes are denied to all, and removal
    // is bounded per org above.
    const action = 's3:BypassGovernanceRetention';
    expect(await asEraseRole('AcmeProd', action, part('acme-prod'))).toBe('Allowed');
    expect(await asEraseRole('AcmeProd', action, part('acme-uat'))).toBe('ExplicitlyDenied');
  });

  it.each(VERSION_REMOVAL_ACTIONS)(
    'still refuses %s to every other role, however broad its own policy',
    async (action) => {
      const backupRole = `arn:aws:iam::${ACCOUNT}:role/SfBackup-Org-AcmeProd-AcmeProdBackupExportRole`;
      expect(await decide(ADMIN, action, part('acme-prod'), bucketPolicy)).toBe('ExplicitlyDenied');
      expect(await decide(backupRole, action, part('acme-prod'), bucketPolicy)).toBe('ExplicitlyDenied');
      expect(await decide(BREAK_GLASS, action, part('acme-prod'), bucketPolicy)).toBe('Allowed');
    },
  );

  it('never lets an erase role delete an object, change its lock or touch the bucket policy', async () => {
    for (const action of ['s3:DeleteObject', 's3:PutObjectRetention', 's3:PutObjectLegalHold']) {
      expect(await asEraseRole('AcmeProd', action, part('acme-prod'))).toBe('ExplicitlyDenied');
    }
    expect(await asEraseRole('AcmeProd', 's3:PutBucketPolicy', BUCKET_ARN)).toBe('ExplicitlyDenied');
  });
});
