import { Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { ORG_NAME_RULE } from '../../contract/workflow-contract.ts';
import { BackupWorkflow } from '../../lib/backup-workflow.ts';
import { RestoreWorkflow } from '../../lib/restore-workflow.ts';
import { appWithoutBundling, configWith } from './fixtures/app-fixture.ts';

function vault() {
  const stack = new Stack(appWithoutBundling(), 'Test');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  return {
    stack,
    bucket: new s3.Bucket(stack, 'Bucket', { encryptionKey: key }),
    key,
    orgSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Secret', 'sfbackup/acme'),
    alertTopic: new sns.Topic(stack, 'Alerts'),
  };
}

describe('the workflow constructs validate their props', () => {
  it('lists every problem of the backup props in one error, each with the value and the fix', () => {
    // GIVEN props with three problems WHEN the construct is built THEN one error names all three
    const { stack, ...refs } = vault();
    const build = () =>
      new BackupWorkflow(stack, 'Backup', {
        ...refs,
        orgName: 'Acme',
        loginUrl: 'https://login.salesforce.com',
        settings: { apiShare: 1.5 },
        filesConcurrency: 0,
      });
    expect(build).toThrow(
      `BackupWorkflow Backup: orgName is "Acme": write ${ORG_NAME_RULE}; ` +
        'settings.apiShare is 1.5: write a number greater than 0 and at most 1, such as 0.5; ' +
        'filesConcurrency is 0: write a whole number from 1 to 1000.',
    );
  });

  it('lists every problem of the restore props in one error', () => {
    const { stack, ...refs } = vault();
    const build = () =>
      new RestoreWorkflow(stack, 'Restore', { ...refs, orgName: '-acme', bulkThreshold: 0.5 });
    expect(build).toThrow(
      `RestoreWorkflow Restore: orgName is "-acme": write ${ORG_NAME_RULE}; bulkThreshold is 0.5: write a whole number of at least 1.`,
    );
  });

  it('accepts exactly the org names the config accepts', () => {
    // The config, the backup and the restore share one rule; a name one accepts, all accept.
    const names = ['acme-prod', '1org', 'ab', 'a', 'Acme', 'acme_prod', 'acme-', 'x'.repeat(33)];
    const accepts = (build: () => unknown) => {
      try {
        build();
        return true;
      } catch {
        return false;
      }
    };
    const byConfig = names.map((name) =>
      accepts(() => configWith({ orgs: [{ name, type: 'production', secretName: 'sfbackup/acme' }] })),
    );
    const byBackup = names.map((name) =>
      accepts(() => {
        const { stack, ...refs } = vault();
        return new BackupWorkflow(stack, 'Backup', { ...refs, orgName: name, loginUrl: 'https://x.example' });
      }),
    );
    const byRestore = names.map((name) =>
      accepts(() => {
        const { stack, ...refs } = vault();
        return new RestoreWorkflow(stack, 'Restore', { ...refs, orgName: name });
      }),
    );
    expect(byConfig).toEqual([true, true, true, false, false, false, false, false]);
    expect(byBackup).toEqual(byConfig);
    expect(byRestore).toEqual(byConfig);
  });
});
