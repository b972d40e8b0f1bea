/**
 * The CDK apps the local commands synthesize: the same BackupWorkflow and RestoreWorkflow
 * constructs as a deployment, each in a stack of its own beside the vault resources they need.
 * Bundling is skipped because the local runner calls the handlers in-process.
 */
import { PRODUCTION_LOGIN_URL, type RetentionPolicy } from '../../contract/workflow-contract.ts';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { BackupWorkflow, type BackupWorkflowSettings } from '../../lib/backup-workflow.ts';
import { DiffReportWorkflow } from '../../lib/diff-report-workflow.ts';
import { EraseWorkflow, eraseRoleArnOf, eraseRoleNameOf } from '../../lib/erase-workflow.ts';
import { Vault } from '../../lib/vault.ts';
import { RestoreWorkflow } from '../../lib/restore-workflow.ts';
import { RetentionWorkflow } from '../../lib/retention-workflow.ts';

/** What the local runner needs of a workflow construct. */
export interface LocalWorkflowConstruct {
  readonly stateMachine: sfn.StateMachine;
}

/** A synthesizable local app: its stack, the workflow to run, and the bucket that stands for the vault. */
export interface LocalApp<W extends LocalWorkflowConstruct = LocalWorkflowConstruct> {
  readonly stack: Stack;
  readonly workflow: W;
  readonly bucket: s3.Bucket;
}

/** The resources every workflow construct takes from the vault and alerting stacks. */
interface LocalVault {
  readonly stack: Stack;
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly orgSecret: secretsmanager.Secret;
  readonly alertTopic: sns.Topic;
}

function localVault(stackId: string): LocalVault {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, stackId);
  const key = new kms.Key(stack, 'VaultKey', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'VaultBucket', { encryptionKey: key, versioned: true });
  return {
    stack,
    key,
    bucket,
    orgSecret: new secretsmanager.Secret(stack, 'OrgSecret'),
    alertTopic: new sns.Topic(stack, 'Alerts'),
  };
}

function localApp<W extends LocalWorkflowConstruct>(
  stackId: string,
  build: (vault: LocalVault, scope: Construct) => W,
): LocalApp<W> {
  const vault = localVault(stackId);
  return { stack: vault.stack, workflow: build(vault, vault.stack), bucket: vault.bucket };
}

/** Builds one org's backup workflow as `sfbackup backup` runs it. */
export function buildLocalBackupApp(
  orgName: string,
  settings: BackupWorkflowSettings = {},
): LocalApp<BackupWorkflow> {
  return localApp('SfBackupLocal', ({ key, bucket, orgSecret, alertTopic }, scope) => {
    return new BackupWorkflow(scope, 'Backup', {
      orgName,
      bucket,
      key,
      orgSecret,
      alertTopic,
      loginUrl: PRODUCTION_LOGIN_URL,
      settings,
    });
  });
}

/** Builds one org's restore workflow as `sfbackup restore` runs it, with a drill sandbox configured. */
export function buildLocalRestoreApp(
  orgName: string,
  options: { readonly bulkThreshold?: number } = {},
): LocalApp<RestoreWorkflow> {
  return localApp('SfRestoreLocal', ({ key, bucket, orgSecret, alertTopic }, scope) => {
    return new RestoreWorkflow(scope, 'Restore', {
      orgName,
      bucket,
      key,
      orgSecret,
      alertTopic,
      drill: {
        schedule: 'cron(0 6 1 * ? *)',
        sandboxSecret: new secretsmanager.Secret(scope, 'SandboxSecret'),
      },
      ...(options.bulkThreshold !== undefined ? { bulkThreshold: options.bulkThreshold } : {}),
    });
  });
}

/** Builds one org's diff report workflow as a local run of the console's report runs it. */
export function buildLocalDiffReportApp(orgName: string): LocalApp<DiffReportWorkflow> {
  return localApp('SfDiffReportLocal', ({ key, bucket }, scope) => {
    return new DiffReportWorkflow(scope, 'DiffReport', { orgName, bucket, key });
  });
}

/** Builds one org's retention workflow as its schedule and its backups' successes start it. */
export function buildLocalRetentionApp(
  orgName: string,
  policy: RetentionPolicy,
): LocalApp<RetentionWorkflow> {
  return localApp('SfRetentionLocal', ({ key, bucket }, scope) => {
    return new RetentionWorkflow(scope, 'Retention', { orgName, bucket, key, policy });
  });
}

/** The stack prefix the local erase app names its erase role with. */
const LOCAL_ERASE_PREFIX = 'SfEraseLocal';

/**
 * Builds one org's erase workflow as a local run of the console's erasure runs it, beside the real
 * Vault construct, so that its bucket policy (who may remove versions, and where) is enforced too.
 */
export function buildLocalEraseApp(
  orgName: string,
  options: { readonly objectLockMode?: 'GOVERNANCE' | 'COMPLIANCE' } = {},
): LocalApp<EraseWorkflow> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, LOCAL_ERASE_PREFIX);
  const vault = new Vault(stack, 'Vault', {
    retention: {
      noncurrentDays: 365,
      coldAfterDays: 30,
      coldStorageClass: 'GLACIER_IR',
      accessLogDays: 365,
      ...(options.objectLockMode ? { objectLock: { mode: options.objectLockMode, days: 30 } } : {}),
    },
    eraseRoles: [{ orgName, roleArn: eraseRoleArnOf(LOCAL_ERASE_PREFIX, orgName) }],
  });
  const workflow = new EraseWorkflow(stack, 'Erase', {
    orgName,
    bucket: vault.bucket,
    key: vault.key,
    roleName: eraseRoleNameOf(LOCAL_ERASE_PREFIX, orgName),
    ...(options.objectLockMode ? { objectLockMode: options.objectLockMode } : {}),
  });
  return { stack, workflow, bucket: vault.bucket };
}
