import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { RetentionWorkflow } from '../../lib/retention-workflow.ts';
import { Vault } from '../../lib/vault.ts';
import { appWithoutBundling, configWith, testStateMachine } from './fixtures/app-fixture.ts';

const GFS = { daily: 7, weekly: 5, monthly: 12, yearly: 7 };

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

type Findings = { ruleName: string; violatingResources: { constructPath?: string }[] }[];

function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return (report.violations as Findings).flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
}

function swept(config = configWith({ retention: { keep: GFS } })) {
  const built = buildApp(config, appWithoutBundling(), { nag: false });
  const org = built.orgStacks[0]!;
  return {
    built,
    org,
    orgTemplate: Template.fromStack(org),
    vaultTemplate: Template.fromStack(built.vaultStack),
  };
}

function bucketPolicyStatements(template: Template): Statement[] {
  const policies = template.findResources('AWS::S3::BucketPolicy');
  const vault = Object.entries(policies).find(([id]) => id.startsWith('VaultBucketPolicy'));
  return (vault?.[1].Properties.PolicyDocument.Statement ?? []) as Statement[];
}

describe('the retention workflow of an org with a policy', () => {
  it('gives the sweeper a role named for the vault, which may delete only under its org and write only its log', () => {
    // GIVEN an org with the default policy WHEN the app is built
    const { orgTemplate } = swept();
    // THEN the sweeper's role has the deterministic name
    orgTemplate.hasResourceProperties('AWS::IAM::Role', { RoleName: 'SfBackup-sweep-acme-prod' });
    const policies = orgTemplate.findResources('AWS::IAM::Policy');
    const access = Object.entries(policies).find(([id]) => id.startsWith('AcmeProdRetentionVaultAccess'));
    const statements = access![1].Properties.PolicyDocument.Statement as Statement[];
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    const resourceText = (s: Statement | undefined) => JSON.stringify(s?.Resource);
    expect(bySid.RemoveExpiredSnapshots?.Action).toBe('s3:DeleteObject');
    const removable = resourceText(bySid.RemoveExpiredSnapshots);
    for (const folder of ['snapshots', 'catalog', 'files'])
      expect(removable).toContain(`/orgs/acme-prod/${folder}/*`);
    expect(removable).not.toContain('retention');
    expect(bySid.RemoveOwnPlanningRecords?.Action).toBe('s3:DeleteObject');
    expect(resourceText(bySid.RemoveOwnPlanningRecords)).toContain('/orgs/acme-prod/retention/*/planning-*');
    expect(bySid.WriteRetentionLog?.Action).toBe('s3:PutObject');
    expect(resourceText(bySid.WriteRetentionLog)).toContain('/orgs/acme-prod/retention/*');
    // No statement allows a version delete; one denies it everywhere.
    const allowed = statements.filter((s) => s.Effect === 'Allow').flatMap(actionsOf);
    expect(allowed).not.toContain('s3:DeleteObjectVersion');
    expect([...new Set(allowed.filter((a) => a.startsWith('s3:Delete')))]).toEqual(['s3:DeleteObject']);
    expect(actionsOf(bySid.NeverDeleteVersionsOrWeakenTheVault!)).toContain('s3:DeleteObjectVersion');
    expect(bySid.NeverDeleteVersionsOrWeakenTheVault?.Effect).toBe('Deny');
  });

  it('starts a sweep on each backup that succeeded and daily, and fails with the refusal named', () => {
    const { orgTemplate } = swept();
    orgTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        detail: {
          status: ['SUCCEEDED'],
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^AcmeProdBackup') }],
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^AcmeProdRetention') } })],
    });
    orgTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 4 * * ? *)',
      Target: Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^AcmeProdRetention') } }),
    });
    const machines = orgTemplate.findResources('AWS::StepFunctions::StateMachine');
    const retention = Object.entries(machines).find(([id]) => id.startsWith('AcmeProdRetention'))!;
    const definition = JSON.stringify(retention[1].Properties.DefinitionString);
    expect(definition).toContain('RetentionCatalogUnreadableError');
    expect(definition).toContain('SweepRefused');
    // Any other failure gives the sweep's turn back before the execution fails.
    const states = (
      JSON.parse(
        (retention[1].Properties.DefinitionString['Fn::Join'][1] as unknown[])
          .map((part) => (typeof part === 'string' ? part : 'ARN'))
          .join(''),
      ) as {
        States: Record<
          string,
          { Catch?: { ErrorEquals: string[]; Next: string }[]; Next?: string; Parameters?: unknown }
        >;
      }
    ).States;
    const caught = (state: string) =>
      states[state]?.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'))?.Next;
    expect(caught('Sweep')).toBe('ReleaseSweepTurn');
    expect(states.ReleaseSweepTurn?.Next).toBe('SweepFailed');
    expect(caught('ReleaseSweepTurn')).toBe('SweepFailed');
    expect(JSON.stringify(states.ReleaseSweepTurn?.Parameters)).toContain('"step":"release"');
    // A sweep that ran out of time is entered again with its own answer, whose cursor it goes on from.
    expect(states.SweepDone).toMatchObject({ Default: 'Sweep' });
    expect(states.Sweep?.Parameters).toMatchObject({ 'state.$': '$' });
    // A failed execution alerts like the other workflows.
    orgTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^AcmeProdRetention') }],
        }),
      }),
      Description: Match.stringLikeRegexp('retention workflow of org acme-prod'),
    });
  });

  it('passes cdk-nag with every acknowledgement specific to the sweeper', () => {
    const { org } = swept();
    expect(nagFindings(org.retention!)).toEqual([]);
    // The acknowledgements name the sweeper's own prefixes, not the whole vault alone.
    const acknowledged = org
      .retention!.node.findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.keys(m.data as Record<string, string>));
    expect(acknowledged.filter((id) => id.includes('/orgs/acme-prod/')).sort()).toEqual([
      expect.stringContaining('/orgs/acme-prod/*]'),
      expect.stringContaining('/orgs/acme-prod/catalog/*]'),
      expect.stringContaining('/orgs/acme-prod/files/*]'),
      expect.stringContaining('/orgs/acme-prod/lease/claims/???????????????-sweep-*]'),
      expect.stringContaining('/orgs/acme-prod/lease/released/sweep-*]'),
      expect.stringContaining('/orgs/acme-prod/lease/renewed/???????????????-???????????????-sweep-*]'),
      expect.stringContaining('/orgs/acme-prod/retention/*/planning-*]'),
      expect.stringContaining('/orgs/acme-prod/retention/*]'),
      expect.stringContaining('/orgs/acme-prod/snapshots/*]'),
    ]);
  });

  it('builds no retention workflow and leaves the bucket policy as it was when no policy applies', () => {
    const none = swept(configWith());
    expect(none.org.retention).toBeUndefined();
    expect(Object.keys(none.orgTemplate.findResources('AWS::StepFunctions::StateMachine'))).toHaveLength(4);
    const statements = bucketPolicyStatements(none.vaultTemplate);
    expect(statements.map((s) => s.Sid)).not.toContain('DenySweepersActionsToOthers');
    const protectedActions = statements.find((s) => s.Sid === 'DenyProtectedActionsExceptTrustedRoles');
    expect(actionsOf(protectedActions!)).toContain('s3:DeleteObject');
    const all = swept(
      configWith({
        orgs: [{ name: 'acme-prod', type: 'production', secretName: 's', keep: 'all' }],
        retention: { keep: GFS },
      }),
    );
    expect(all.org.retention).toBeUndefined();
  });
});

describe('the vault bucket policy with sweepers', () => {
  it("lets each sweeper delete only under its own org's snapshots, catalog and files, and no one else delete", () => {
    const config = parseConfig({
      orgs: [
        { name: 'acme-prod', type: 'production', secretName: 'a' },
        { name: 'acme-uat', type: 'sandbox', secretName: 'b', keep: { daily: 3 } },
        { name: 'acme-dev', type: 'sandbox', secretName: 'c', keep: 'all' },
      ],
      alertEmails: [],
      retention: { keep: GFS },
    });
    const { vaultTemplate } = swept(config);
    const statements = bucketPolicyStatements(vaultTemplate);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    // Object deletes left the protected statement for statements of their own.
    expect(actionsOf(bySid.DenyProtectedActionsExceptTrustedRoles!)).not.toContain('s3:DeleteObject');
    expect(actionsOf(bySid.DenyProtectedActionsExceptTrustedRoles!)).not.toContain('s3:DeleteObjectVersion');
    expect(actionsOf(bySid.DenyEraseRolesActionsToOthers!)).toContain('s3:DeleteObjectVersion');
    const deletes = bySid.DenySweepersActionsToOthers!;
    expect(deletes).toMatchObject({ Effect: 'Deny', Action: 's3:DeleteObject' });
    const exempt = JSON.stringify(deletes.Condition?.ArnNotEquals?.['aws:PrincipalArn']);
    expect(exempt).toContain(':role/SfBackup-sweep-acme-prod');
    expect(exempt).toContain(':role/SfBackup-sweep-acme-uat');
    expect(exempt).not.toContain('acme-dev');
    // A deleting role must carry the sweeper's duty tag and an org tag...
    expect(bySid.DenySweepersActionsWithoutDutyTag).toMatchObject({
      Effect: 'Deny',
      Action: 's3:DeleteObject',
      Condition: { StringNotEquals: { 'aws:PrincipalTag/sfbackup-duty': 'retention-sweep' } },
    });
    expect(bySid.DenySweepersActionsWithoutOrgTag).toMatchObject({
      Effect: 'Deny',
      Action: 's3:DeleteObject',
      Condition: { Null: { 'aws:PrincipalTag/sfbackup-org': 'true' } },
    });
    // ...and deletes only under the folders of the org its tag names: one statement for every org.
    const own = bySid.DenySweepersActionsOutsideOwnOrg!;
    expect(own).toMatchObject({
      Effect: 'Deny',
      Action: 's3:DeleteObject',
      Condition: { StringEquals: { 'aws:PrincipalTag/sfbackup-duty': 'retention-sweep' } },
    });
    const notResources = JSON.stringify(own.NotResource);
    for (const folder of ['snapshots', 'catalog', 'files'])
      expect(notResources).toContain(`/orgs/\${aws:PrincipalTag/sfbackup-org}/${folder}/*`);
    expect(notResources).toContain(`/orgs/\${aws:PrincipalTag/sfbackup-org}/retention/*/planning-*`);
    expect(notResources).not.toContain('acme');
    expect(Object.keys(bySid).filter((sid) => sid?.includes('acme'))).toEqual([]);
  });

  it('tags each sweeper role with its org and duty, which the bucket policy reads', () => {
    const config = parseConfig({
      orgs: [{ name: 'acme-prod', type: 'production', secretName: 'a' }],
      alertEmails: [],
      retention: { keep: GFS },
    });
    const { orgTemplate } = swept(config);
    orgTemplate.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'SfBackup-sweep-acme-prod',
      Tags: Match.arrayWith([
        { Key: 'sfbackup-duty', Value: 'retention-sweep' },
        { Key: 'sfbackup-org', Value: 'acme-prod' },
      ]),
    });
  });
});

describe('props validation of the retention constructs', () => {
  const refs = () => {
    const stack = new Stack(appWithoutBundling(), 'Test', {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const key = new kms.Key(stack, 'Key');
    const bucket = new s3.Bucket(stack, 'Bucket', { encryptionKey: key });
    return { stack, key, bucket };
  };

  it('refuses a RetentionWorkflow whose policy keeps nothing or contradicts the vault, listing every problem', () => {
    const { stack, key, bucket } = refs();
    expect(
      () =>
        new RetentionWorkflow(stack, 'Retention', {
          orgName: 'Acme',
          bucket,
          key,
          policy: GFS,
          vaultRetention: { currentDays: 365, objectLockDays: 30 },
          backupStateMachine: testStateMachine(stack),
        }),
    ).toThrow(
      [
        'RetentionWorkflow Retention: 3 problems:',
        '  - orgName: "Acme" is not a valid org name: write 2 to 32 lower-case letters, digits or "-", starting and ending with a letter or digit, such as "acme-prod"',
        '  - vaultRetention.currentDays is 365: the policy (7 daily, 5 weekly, 12 monthly, 7 yearly) expires snapshots itself; remove retention.currentDays: S3 expiring current versions 365 days after they were written would remove file bodies and bases the policy keeps (a body is written once and reused by later snapshots, and the latest snapshot is kept however old)',
        '  - vaultRetention.objectLockDays is 30: the policy (7 daily, 5 weekly, 12 monthly, 7 yearly) keeps its daily snapshots 7 days, but Object Lock would hold the versions of the snapshots it expired for 30 days; lower retention.objectLock.days to at most 7, or keep more daily snapshots',
      ].join('\n'),
    );
    expect(
      () =>
        new RetentionWorkflow(stack, 'Empty', {
          orgName: 'acme',
          bucket,
          key,
          policy: { daily: 0, weekly: 0, monthly: 0, yearly: 0 },
        }),
    ).toThrow(
      /policy .*: it keeps no snapshot at all: keep at least one daily, weekly, monthly or yearly snapshot/,
    );
  });

  it("refuses a Vault whose sweeper's policy contradicts its Object Lock period, or too many sweepers", () => {
    const retention = configWith({ retention: { objectLock: { mode: 'GOVERNANCE', days: 10 } } }).retention;
    expect(
      () =>
        new Vault(new Stack(appWithoutBundling(), 'V'), 'Vault', {
          retention,
          sweepers: [
            {
              orgName: 'acme',
              roleName: 'SfBackup-sweep-acme',
              policy: { daily: 7, weekly: 0, monthly: 0, yearly: 0 },
            },
          ],
        }),
    ).toThrow(
      'retention.objectLock.days is 10: the policy of org acme (7 daily, 0 weekly, 0 monthly, 0 yearly) keeps its daily snapshots 7 days, but Object Lock would hold the versions of the snapshots it expired for 10 days; lower retention.objectLock.days to at most 7, or keep more daily snapshots',
    );
  });
});

describe('the tamper alerts of the functions that hold an exception of the vault', () => {
  it("alerts on any change to the sweeper's code, configuration, role trust or role permissions", () => {
    const { orgTemplate } = swept();
    const rules = Object.values(orgTemplate.findResources('AWS::Events::Rule')) as {
      Properties: { EventPattern: { detail?: { eventName?: string[]; requestParameters?: unknown } } };
    }[];
    const names = rules.flatMap((r) => r.Properties.EventPattern.detail?.eventName ?? []);
    expect(names).toEqual(
      expect.arrayContaining([
        'UpdateFunctionCode20150331v2',
        'UpdateFunctionConfiguration20150331v2',
        'UpdateAssumeRolePolicy',
        'PutRolePolicy',
        'AttachRolePolicy',
        'DetachRolePolicy',
      ]),
    );
    // One pair of rules for the sweeper and one for the erase function, each naming its own role.
    const described = (text: string) =>
      Object.values(orgTemplate.findResources('AWS::Events::Rule')).filter((r) =>
        String(r.Properties.Description).includes(text),
      ) as { Properties: { EventPattern: { source: string[]; detail: { requestParameters: unknown } } } }[];
    for (const what of ['retention sweeper', 'erase function']) {
      expect(
        described(what)
          .map((r) => r.Properties.EventPattern.source[0])
          .sort(),
      ).toEqual(['aws.iam', 'aws.lambda']);
    }
    const eraseRole = described("erase function's role").map((r) => r.Properties.EventPattern.detail);
    expect(JSON.stringify(eraseRole)).toContain('AcmeProdEraseEraseFunctionRole');
    expect(
      JSON.stringify(described("retention sweeper's role").map((r) => r.Properties.EventPattern.detail)),
    ).not.toContain('Erase');
    orgTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.iam'],
        detail: Match.objectLike({ requestParameters: { roleName: [Match.anyValue()] } }),
      }),
      Targets: [Match.objectLike({ Arn: Match.anyValue() })],
    });
    orgTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.lambda'],
        detail: Match.objectLike({
          requestParameters: { functionName: [Match.anyValue(), Match.anyValue()] },
        }),
      }),
    });
  });
});
