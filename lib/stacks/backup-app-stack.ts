import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { Alerting } from '../alerting.ts';
import type { AppConfig, OrgConfig } from '../config.ts';
import type { VaultExports } from './vault-stack.ts';
import { addRestoreWorkflows } from '../restore-workflow.ts';
import { addBackupWorkflows } from '../backup-workflow.ts';
import { type WiredBackupWorkflow, wireBackupWorkflow, wireRestoreWorkflow } from '../workflow-wiring.ts';

/** The vault as other stacks see it. */
export interface VaultRefs {
  /** The bucket that holds the backups. */
  readonly bucket: s3.IBucket;
  /** The key that encrypts the backups. */
  readonly key: kms.IKey;
}

/** Props of BackupAppStack. */
export interface BackupAppStackProps extends StackProps {
  /** The validated app config. */
  readonly config: AppConfig;
  /** The exports of the vault stack, which the workflows read and write. */
  readonly vaultExports: VaultExports;
}

export type { WiredBackupWorkflow };

/**
 * The stateless half of the app: alerting, and per org the backup and restore workflows with
 * their schedules and alarms. A workflow joins by being built in this stack for each entry of
 * `config.orgs` and handed to `wireBackupWorkflow` or `wireRestoreWorkflow`, which connect it
 * to the schedules and the alert topic.
 */
export class BackupAppStack extends Stack {
  /** The validated app config. */
  readonly config: AppConfig;
  /** The vault the workflows read and write, imported from the vault stack's exports. */
  readonly vault: VaultRefs;
  /** The export names the vault is imported by; IAM findings on vault paths name them. */
  readonly vaultExports: VaultExports;
  /** The alert topic and the rules and alarms that feed it. */
  readonly alerting: Alerting;

  constructor(scope: Construct, id: string, props: BackupAppStackProps) {
    super(scope, id, props);
    this.config = props.config;
    this.vaultExports = props.vaultExports;
    const key = kms.Key.fromKeyArn(this, 'VaultKey', Fn.importValue(props.vaultExports.keyArn));
    const bucket = s3.Bucket.fromBucketAttributes(this, 'VaultBucket', {
      bucketArn: Fn.importValue(props.vaultExports.bucketArn),
      encryptionKey: key,
    });
    this.vault = { bucket, key };
    this.alerting = new Alerting(this, 'Alerting', { emails: props.config.alertEmails });
    new CfnOutput(this, 'AlertTopicArn', {
      value: this.alerting.topic.topicArn,
      description: 'SNS topic receiving backup and restore alerts',
    });
    addBackupWorkflows(this);
    addRestoreWorkflows(this);
  }

  /**
   * Connects an org's backup workflow: its incremental, full and metadata schedules, an alert
   * for every failed execution, a "no successful backup" alarm and error alarms on its functions.
   */
  wireBackupWorkflow(
    org: OrgConfig,
    stateMachine: sfn.IStateMachine,
    functions: readonly lambda.IFunction[] = [],
  ): WiredBackupWorkflow {
    this.checkOrg(org);
    return wireBackupWorkflow(this, this.alerting, org, stateMachine, functions);
  }

  /** Connects an org's restore workflow: an alert for every failed execution and function error alarms. */
  wireRestoreWorkflow(
    org: OrgConfig,
    stateMachine: sfn.IStateMachine,
    functions: readonly lambda.IFunction[] = [],
  ): void {
    this.checkOrg(org);
    wireRestoreWorkflow(this, this.alerting, org, stateMachine, functions);
  }

  private checkOrg(org: OrgConfig): void {
    if (!this.config.orgs.some((o) => o.name === org.name)) {
      const names = this.config.orgs.map((o) => `"${o.name}"`).join(', ');
      throw new Error(`Org "${org.name}" is not in the config; wire one of ${names}.`);
    }
  }
}
