import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { type AppConfigInput, parseConfig } from '../../lib/config.ts';
import { VENDED_STATES_LOGS } from '../../lib/workflows/support/state-machine.ts';
import { resolvedPolicySize } from './fixtures/policy-size.ts';
import { appWithoutBundling } from './fixtures/app-fixture.ts';

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/**
 * CloudFormation refuses a stack of more than 500 resources and a template of more than 1 MB
 * uploaded through S3, as `cdk deploy` uploads it ("CloudFormation quotas", AWS CloudFormation
 * User Guide). The app keeps every stack below 450 resources, leaving room to grow.
 */
const MAX_RESOURCES = 450;
const MAX_TEMPLATE_BYTES = 1_000_000;

/**
 * 50 orgs as a company might list them: ten production orgs, each with four sandboxes, a drill
 * into its first sandbox on half of them; object lists, files, schedules, API shares and alarm
 * windows varying from org to org; a retention policy on the production orgs and the drill sandboxes.
 */
function fiftyOrgs(): AppConfigInput {
  const orgs: NonNullable<AppConfigInput['orgs']> = [];
  for (let p = 1; p <= 10; p++) {
    const production = `company${p}-prod`;
    orgs.push({
      name: production,
      type: 'production',
      secretName: `sfbackup/${production}`,
      schedules: {
        incremental: p % 2 ? 'cron(0 2 ? * MON-SAT *)' : 'rate(6 hours)',
        full: 'cron(0 3 ? * SUN *)',
        metadata: 'cron(0 5 * * ? *)',
        timezone: p % 3 ? 'UTC' : 'Europe/Berlin',
      },
      objects:
        p % 4 === 0 ? { include: ['Account', 'Contact', 'Opportunity'] } : { exclude: ['LoginHistory'] },
      files: p % 2 === 1,
      apiShare: 0.5,
      noSuccessAlarmHours: 24 + p,
      changeAlert: { percent: 20, rows: 500 * p },
      ...(p % 2
        ? {
            restoreDrill: {
              schedule: 'cron(0 6 1 * ? *)',
              sandboxOrg: `company${p}-sb1`,
              ...(p % 3 === 1 ? { objects: ['Account', 'Contact'] } : {}),
            },
          }
        : {}),
    });
    for (let s = 1; s <= 4; s++) {
      const sandbox = `company${p}-sb${s}`;
      orgs.push({
        name: sandbox,
        type: 'sandbox',
        secretName: `sfbackup/${sandbox}`,
        schedules: { incremental: s % 2 ? 'rate(1 day)' : 'cron(30 1 ? * * *)' },
        ...(s === 3 ? { objects: { exclude: ['Task', 'Event'] } } : {}),
        files: s === 1,
        apiShare: 0.25,
        // Sandboxes other than the drill's keep every snapshot; the drill's keeps two weeks.
        keep: s === 1 ? { daily: 14 } : 'all',
      });
    }
  }
  return {
    stackPrefix: 'ManyOrgs',
    orgs,
    alertEmails: ['salesforce-backup-alerts@example.com'],
    replication: { region: 'eu-central-1' },
    env: { account: '123456789012', region: 'eu-west-1' },
    retention: { keep: { daily: 7, weekly: 5, monthly: 12, yearly: 7 } },
  };
}

describe('an app of 50 orgs', () => {
  it('synthesizes with cdk-nag on, every stack under 450 resources and every template under 1 MB', () => {
    const config = parseConfig(fiftyOrgs());
    expect(config.orgs).toHaveLength(50);
    const started = performance.now();
    // cdk-nag runs on synthesis and fails it on any finding not acknowledged.
    const { app, orgStacks } = buildApp(config, appWithoutBundling(), { nag: true });
    const assembly = app.synth();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `50 orgs: ${assembly.stacks.length} stacks synthesized with cdk-nag in ${seconds.toFixed(1)} s`,
    );

    expect(orgStacks).toHaveLength(50);
    expect(assembly.stacks).toHaveLength(53);
    const sizes = assembly.stacks.map((s) => ({
      stack: s.stackName,
      resources: Object.keys(s.template.Resources ?? {}).length,
      bytes: Buffer.byteLength(JSON.stringify(s.template)),
    }));
    const largest = [...sizes].sort((a, b) => b.resources - a.resources)[0];
    console.log(`largest stack: ${largest?.stack}, ${largest?.resources} resources, ${largest?.bytes} bytes`);
    expect(sizes.filter((s) => s.resources >= MAX_RESOURCES)).toEqual([]);
    expect(sizes.filter((s) => s.bytes >= MAX_TEMPLATE_BYTES)).toEqual([]);
    expect(Math.min(...sizes.map((s) => s.resources))).toBeGreaterThan(0);

    // Step Functions adds the ARN of every log group outside /aws/vendedlogs/ to the account's one
    // CloudWatch Logs resource policy (5,120 characters): 220 state machines (backup, restore, diff
    // report and erase of each org, retention of the 20 swept ones) would overflow it.
    const logGroupsOutsideVended: string[] = [];
    let machines = 0;
    for (const stack of assembly.stacks) {
      const resources = (stack.template.Resources ?? {}) as Record<string, TemplateResource>;
      for (const [id, r] of Object.entries(resources)) {
        if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
        machines++;
        const logging = r.Properties?.LoggingConfiguration as {
          Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[];
        };
        const groupId = logging.Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
        const name = resources[groupId]?.Properties?.LogGroupName as { 'Fn::Join'?: [string, unknown[]] };
        const first = name?.['Fn::Join']?.[1][0];
        if (
          typeof first !== 'string' ||
          !first.startsWith(VENDED_STATES_LOGS) ||
          !JSON.stringify(name).includes('AWS::StackId')
        ) {
          logGroupsOutsideVended.push(`${stack.stackName}/${id}`);
        }
      }
    }
    expect(machines).toBe(220);

    // S3 refuses a bucket policy over 20 KB; each org's erase role and sweeper add their ARN. Sized
    // with the bucket's ARN and the roles' ARNs as long as they resolve to on AWS.
    const vault = assembly.stacks.find((s) => s.stackName === 'ManyOrgs-Vault')!;
    const bucketPolicy = Object.entries(
      (vault.template.Resources ?? {}) as Record<string, TemplateResource>,
    ).find(([id, r]) => r.Type === 'AWS::S3::BucketPolicy' && id.startsWith('VaultBucketPolicy'))![1];
    const size = resolvedPolicySize(bucketPolicy.Properties?.PolicyDocument);
    console.log(`vault bucket policy with 50 erase roles and 20 sweepers: about ${size} bytes`);
    expect(size).toBeLessThan(20 * 1024);
    expect(logGroupsOutsideVended).toEqual([]);
  }, 900_000);
});
