import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, parseConfig } from '../../lib/config.ts';
import { REPO_ROOT } from '../../lib/function-defaults.ts';
import { configWith, exampleConfigJson } from './fixtures/app-fixture.ts';

function problemsOf(json: unknown): readonly string[] {
  try {
    parseConfig(json);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('parseConfig', () => {
  it('accepts the example config shipped in config/example.json', () => {
    // GIVEN the example config WHEN it is parsed
    const config = parseConfig(exampleConfigJson());
    // THEN its orgs are there with their settings
    expect(config.orgs.map((o) => o.name)).toEqual(['dreamhouse-prod', 'dreamhouse-uat']);
    expect(config.orgs[0]?.restoreDrill?.sandboxOrg).toBe('dreamhouse-uat');
  });

  it('accepts the complete example in docs/config.md', () => {
    // GIVEN the JSON example of the config reference
    const doc = readFileSync(path.join(REPO_ROOT, 'docs/config.md'), 'utf8');
    const block = /## A complete example\s+```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    // WHEN it is parsed THEN it is valid and keeps what it says
    const config = parseConfig(JSON.parse(block!));
    expect(config.orgs[0]?.restoreDrill?.sandboxOrg).toBe('acme-uat');
    expect(config.retention.objectLock).toEqual({ mode: 'COMPLIANCE', days: 90 });
  });

  it('fills in every default a minimal config leaves out', () => {
    // GIVEN a config naming only an org and an alert address
    const config = configWith();
    const org = config.orgs[0]!;
    // THEN schedules, objects, files, API share and alarms take their documented defaults
    expect(org.loginUrl).toBe('https://login.salesforce.com');
    expect(org.schedules).toEqual({
      incremental: 'cron(0 2 ? * MON-SAT *)',
      full: 'cron(0 2 ? * SUN *)',
      metadata: 'cron(0 5 * * ? *)',
      timezone: 'UTC',
    });
    expect(org.objects).toEqual({ exclude: [] });
    expect(org.files).toBe(true);
    expect(org.apiShare).toBe(0.5);
    expect(org.noSuccessAlarmHours).toBe(36);
    expect(org.changeAlert).toEqual({ percent: 5, rows: 1000 });
    expect(config.retention).toEqual({
      noncurrentDays: 365,
      coldAfterDays: 30,
      coldStorageClass: 'GLACIER_IR',
      accessLogDays: 365,
    });
    expect(config.stackPrefix).toBe('SfBackup');
  });

  it('defaults a sandbox to the sandbox login URL', () => {
    const config = configWith({
      orgs: [{ name: 'acme-uat', type: 'sandbox', secretName: 'sfbackup/acme-uat' }],
    });
    expect(config.orgs[0]?.loginUrl).toBe('https://test.salesforce.com');
  });

  it('rejects a bad config with one error that lists every problem with its path, value and fix', () => {
    // GIVEN a config with many independent mistakes
    const json = {
      orgs: [
        {
          name: 'Acme Prod',
          type: 'prod',
          loginUrl: 'http://login.salesforce.com',
          schedules: { incremental: 'every day', full: 'cron(0 2 * * * *)' },
          apiShare: 1.5,
          noSuccessAlarmHours: 400,
        },
      ],
      retention: { noncurrentDays: 0, coldStorageClass: 'TAPE' },
      alertEmails: ['not-an-address'],
      breakGlassRoleArn: 'admin',
      colour: 'blue',
    };
    // WHEN it is parsed
    let error: unknown;
    try {
      parseConfig(json, 'config/bad.json');
    } catch (e) {
      error = e;
    }
    // THEN one InvalidConfigError carries every problem
    expect(error).toBeInstanceOf(InvalidConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^The config in config\/bad\.json has \d+ problems:/);
    const expected = [
      'orgs[0].name: received "Acme Prod"; write 2 to 32 lower-case letters, digits or "-"',
      'orgs[0].type: received "prod"; write "production" or "sandbox"',
      'orgs[0].loginUrl: received "http://login.salesforce.com"; write an https URL',
      'orgs[0].secretName: received nothing; write the name of a Secrets Manager secret',
      'orgs[0].schedules.incremental: received "every day"; write an EventBridge Scheduler expression',
      'orgs[0].schedules.full: received "cron(0 2 * * * *)"; write an EventBridge Scheduler expression',
      'orgs[0].apiShare: received 1.5; write a number greater than 0 and at most 1',
      'orgs[0].noSuccessAlarmHours: received 400; write a whole number of hours from 1 to 168',
      'retention.noncurrentDays: received 0; write a whole number of days, at least 1',
      'retention.coldStorageClass: received "TAPE"; write one of STANDARD_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE',
      'alertEmails[0]: received "not-an-address"; write an e-mail address',
      'breakGlassRoleArn: received "admin"; write an IAM role ARN',
      '(top level): unknown key colour',
    ];
    for (const line of expected) expect(message).toContain(line);
    expect((error as InvalidConfigError).problems.length).toBeGreaterThanOrEqual(expected.length);
  });

  it('reports a missing org list and alert list instead of failing on the first', () => {
    const problems = problemsOf({});
    expect(problems).toEqual([
      'orgs: received nothing; write a list of orgs, such as [{"name": "acme-prod", ...}]',
      'alertEmails: received nothing; write a list of e-mail addresses, such as ["ops@example.com"]',
    ]);
  });

  it('rejects two orgs with the same name', () => {
    const problems = problemsOf({
      orgs: [
        { name: 'acme', type: 'production', secretName: 's1' },
        { name: 'acme', type: 'sandbox', secretName: 's2' },
      ],
      alertEmails: [],
    });
    expect(problems).toEqual([
      'orgs[1].name: received "acme"; orgs[0] is already named "acme", which reads the same without hyphens; give each org its own name',
    ]);
  });

  it('rejects org names that collide once hyphens are dropped', () => {
    const problems = problemsOf({
      orgs: [
        { name: 'acme-1', type: 'production', secretName: 's1' },
        { name: 'acme1', type: 'sandbox', secretName: 's2' },
      ],
      alertEmails: [],
    });
    expect(problems[0]).toContain('orgs[1].name: received "acme1"; orgs[0] is already named "acme-1"');
  });

  it('rejects an object that is both included and excluded', () => {
    const problems = problemsOf({
      orgs: [
        {
          name: 'acme',
          type: 'production',
          secretName: 's1',
          objects: { include: ['Account', 'Contact'], exclude: ['Contact', 'Lead'] },
        },
      ],
      alertEmails: [],
    });
    expect(problems).toEqual([
      'orgs[0].objects.exclude: received ["Contact"]; Contact is both included and excluded; remove it from one list',
    ]);
  });

  it('rejects an Object Lock period longer than the retention of noncurrent versions', () => {
    const problems = problemsOf({
      orgs: [{ name: 'acme', type: 'production', secretName: 's1' }],
      retention: { noncurrentDays: 90, objectLock: { mode: 'COMPLIANCE', days: 120 } },
      alertEmails: [],
    });
    expect(problems).toEqual([
      'retention.objectLock.days: received 120; locked versions would outlive retention.noncurrentDays (90); write at most 90 days or raise noncurrentDays',
    ]);
  });

  it('rejects moving versions to cold storage after they have already expired', () => {
    const problems = problemsOf({
      orgs: [{ name: 'acme', type: 'production', secretName: 's1' }],
      retention: { noncurrentDays: 30, coldAfterDays: 30 },
      alertEmails: [],
    });
    expect(problems).toEqual([
      'retention.coldAfterDays: received 30; noncurrent versions expire after 30 days; write fewer days than that',
    ]);
  });

  it('rejects STANDARD_IA earlier than S3 allows', () => {
    const problems = problemsOf({
      orgs: [{ name: 'acme', type: 'production', secretName: 's1' }],
      retention: { coldStorageClass: 'STANDARD_IA', coldAfterDays: 7 },
      alertEmails: [],
    });
    expect(problems[0]).toContain(
      'retention.coldAfterDays: received 7; S3 moves versions to STANDARD_IA after 30 days',
    );
  });

  it('rejects a restore drill into a production org, itself or an unknown org', () => {
    const problems = problemsOf({
      orgs: [
        { name: 'prod', type: 'production', secretName: 's1', restoreDrill: { sandboxOrg: 'other' } },
        { name: 'other', type: 'production', secretName: 's2', restoreDrill: { sandboxOrg: 'other' } },
        { name: 'third', type: 'production', secretName: 's3', restoreDrill: { sandboxOrg: 'nowhere' } },
      ],
      alertEmails: [],
    });
    expect(problems).toEqual([
      'orgs[0].restoreDrill.sandboxOrg: received "other"; this org is not a sandbox; drills overwrite data, so name an org with type "sandbox"',
      'orgs[1].restoreDrill.sandboxOrg: received "other"; a drill must restore into another org; name a sandbox org',
      'orgs[2].restoreDrill.sandboxOrg: received "nowhere"; no org has this name; write one of "prod", "other", "third" with type "sandbox"',
    ]);
  });

  it('rejects a no-success alarm shorter than the gap between incremental runs', () => {
    const problems = problemsOf({
      orgs: [
        {
          name: 'acme',
          type: 'production',
          secretName: 's1',
          schedules: { incremental: 'rate(2 days)' },
          noSuccessAlarmHours: 24,
        },
      ],
      alertEmails: [],
    });
    expect(problems).toEqual([
      'orgs[0].noSuccessAlarmHours: received 24; the incremental schedule runs every 48 hours, so the alarm would fire between runs; write more than 48',
    ]);
  });

  it('accepts rate and cron expressions in the forms EventBridge Scheduler takes', () => {
    for (const expression of ['rate(1 day)', 'rate(6 hours)', 'rate(30 minutes)', 'cron(15 3 ? * MON *)']) {
      expect(() =>
        configWith({
          orgs: [{ name: 'acme', type: 'production', secretName: 's', schedules: { metadata: expression } }],
        }),
      ).not.toThrow();
    }
    for (const expression of [
      'rate(1 days)',
      'rate(2 day)',
      'rate(0 hours)',
      'cron(0 2 * * *)',
      'cron(0 2 1 * MON *)',
    ]) {
      expect(
        problemsOf({
          orgs: [{ name: 'acme', type: 'production', secretName: 's', schedules: { metadata: expression } }],
          alertEmails: [],
        })[0],
      ).toContain(`orgs[0].schedules.metadata: received ${JSON.stringify(expression)}`);
    }
  });
});

describe('parseConfig: the vault deploy role', () => {
  it('accepts a role ARN for deployRoleArn and leaves it unset by default', () => {
    const role = 'arn:aws:iam::123456789012:role/platform/vault-deployer';
    expect(configWith({ deployRoleArn: role }).deployRoleArn).toBe(role);
    expect(configWith().deployRoleArn).toBeUndefined();
  });

  it('rejects a deployRoleArn that is not a role ARN, naming the bootstrap role to write instead', () => {
    const problems = problemsOf({ ...configWithInput(), deployRoleArn: 'cdk-exec' });
    expect(problems).toEqual([
      expect.stringMatching(
        /^deployRoleArn: received "cdk-exec"; write the ARN of the role CloudFormation deploys the vault stack as, such as "arn:aws:iam::123456789012:role\/cdk-hnb659fds-cfn-exec-role-/,
      ),
    ]);
  });
});

function configWithInput(): Record<string, unknown> {
  return {
    orgs: [{ name: 'acme-prod', type: 'production', secretName: 'sfbackup/acme-prod' }],
    alertEmails: ['ops@example.com'],
  };
}

describe('parseConfig: the second copy of the vault', () => {
  it('leaves replication off unless the config asks for it', () => {
    expect(configWith().replication).toBeUndefined();
  });

  it('accepts a replica region other than the vault region, with Replication Time Control off by default', () => {
    const config = configWith({ env: { region: 'eu-west-1' }, replication: { region: 'eu-central-1' } });
    expect(config.replication).toEqual({ region: 'eu-central-1', replicationTimeControl: false });
  });

  it('rejects a replica in the vault region, a missing vault region and a malformed region, saying what to write', () => {
    expect(
      problemsOf({
        ...configWithInput(),
        env: { region: 'eu-west-1' },
        replication: { region: 'eu-west-1' },
      }),
    ).toEqual([
      'replication.region: received "eu-west-1"; the vault is in eu-west-1 already, so a copy there would fail with it; write another region',
    ]);
    expect(problemsOf({ ...configWithInput(), replication: { region: 'eu-central-1' } })).toEqual([
      'env.region: received nothing; replication needs the vault\'s region to put the second copy elsewhere; write the region the vault is deployed to, such as "eu-west-1"',
    ]);
    expect(
      problemsOf({
        ...configWithInput(),
        env: { region: 'eu-west-1' },
        replication: { region: 'Frankfurt', replicationTimeControl: 'yes', deleteMarkers: true },
      }),
    ).toEqual([
      'replication.region: received "Frankfurt"; write the AWS region of the second copy, such as "eu-central-1"',
      'replication.replicationTimeControl: received "yes"; write true or false',
      'replication: unknown key deleteMarkers; remove it or check the spelling (see docs/config.md)',
    ]);
  });

  it('rejects a stack prefix too long for the replica bucket name, naming the length that fits', () => {
    const problems = problemsOf({
      ...configWithInput(),
      stackPrefix: 'SalesforceBackupOfTheWholeCompany',
      env: { region: 'eu-west-1' },
      replication: { region: 'ap-southeast-4' },
    });
    expect(problems).toEqual([
      'stackPrefix: received "SalesforceBackupOfTheWholeCompany"; the replica bucket would be named "salesforcebackupofthewholecompany-replica-123456789012-ap-southeast-4", 6 characters longer than S3 allows; write a stackPrefix of at most 27 characters',
    ]);
  });
});

describe('the example configs in config/', () => {
  it('keep a second copy in another region in config/example-second-copy.json', () => {
    const json = JSON.parse(readFileSync(path.join(REPO_ROOT, 'config/example-second-copy.json'), 'utf8'));
    const config = parseConfig(json, 'config/example-second-copy.json');
    expect(config.replication).toEqual({ region: 'eu-central-1', replicationTimeControl: false });
    expect(config.env.region).toBe('eu-west-1');
  });
});
