/** The CDK stack the local restore command synthesizes: the same RestoreWorkflow construct as a deployment. */
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { RestoreWorkflow } from '../../lib/restore-workflow.ts';

/** The synthesized local app. */
export interface LocalRestoreApp {
  readonly stack: Stack;
  readonly workflow: RestoreWorkflow;
  readonly bucket: s3.Bucket;
}

/** Builds one org's restore workflow in a stack of its own, with bundling skipped (handlers run in-process). */
export function buildLocalRestoreApp(
  orgName: string,
  options: { bulkThreshold?: number } = {},
): LocalRestoreApp {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'SfRestoreLocal');
  const key = new kms.Key(stack, 'VaultKey', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'VaultBucket', { encryptionKey: key, versioned: true });
  const workflow = new RestoreWorkflow(stack, 'Restore', {
    orgName,
    bucket,
    key,
    orgSecret: new secretsmanager.Secret(stack, 'OrgSecret'),
    alertTopic: new sns.Topic(stack, 'Alerts'),
    drill: {
      schedule: 'cron(0 6 1 * ? *)',
      sandboxSecret: new secretsmanager.Secret(stack, 'SandboxSecret'),
    },
    ...(options.bulkThreshold !== undefined ? { bulkThreshold: options.bulkThreshold } : {}),
  });
  return { stack, workflow, bucket };
}
