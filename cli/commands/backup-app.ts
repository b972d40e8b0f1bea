/** The CDK stack the local backup command synthesizes: the same BackupWorkflow construct as a deployment. */
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BackupWorkflow, type BackupWorkflowSettings } from '../../lib/backup-workflow.ts';

/** The synthesized local app. */
export interface LocalBackupApp {
  readonly stack: Stack;
  readonly workflow: BackupWorkflow;
  readonly bucket: s3.Bucket;
}

/** Builds one org's backup workflow in a stack of its own, with bundling skipped (handlers run in-process). */
export function buildLocalBackupApp(orgName: string, settings: BackupWorkflowSettings = {}): LocalBackupApp {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'SfBackupLocal');
  const key = new kms.Key(stack, 'VaultKey', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'VaultBucket', { encryptionKey: key, versioned: true });
  const workflow = new BackupWorkflow(stack, 'Backup', {
    orgName,
    bucket,
    key,
    orgSecret: new secretsmanager.Secret(stack, 'OrgSecret'),
    alertTopic: new sns.Topic(stack, 'Alerts'),
    loginUrl: 'https://login.salesforce.com',
    settings,
  });
  return { stack, workflow, bucket };
}
