import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { Alerting } from '../alerting.ts';
import { BackupSchedules } from '../backup-schedules.ts';
import { BackupWorkflow } from '../backup-workflow.ts';
import { type AppConfig, constructIdOf, type OrgConfig } from '../config.ts';
import { RestoreWorkflow } from '../restore-workflow.ts';
import { TamperAlerts } from '../tamper-alerts.ts';
import type { VaultExports } from './vault-stack.ts';

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

/** What the stack built for one org of the config. */
export interface OrgWorkflows {
  /** The org, as the config describes it. */
  readonly org: OrgConfig;
  /** Its backup workflow. */
  readonly backup: BackupWorkflow;
  /** The schedules that start its backups. */
  readonly schedules: BackupSchedules;
  /** Its restore workflow. */
  readonly restore: RestoreWorkflow;
}

/**
 * The stateless half of the app: alerting, and per org of the config the backup and restore
 * workflows with their schedules, alerts, alarms and outputs.
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
  /** The workflows of each org, in the config's order. */
  readonly orgs: readonly OrgWorkflows[];

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
    new TamperAlerts(this, 'TamperAlerts', { bucket, key, alerting: this.alerting });
    new CfnOutput(this, 'AlertTopicArn', {
      value: this.alerting.topic.topicArn,
      description: 'SNS topic receiving backup and restore alerts',
    });
    this.orgs = props.config.orgs.map((org) => this.addOrg(org));
  }

  /**
   * Builds one org's workflows in this stack. Every construct id here is part of logical ids
   * (`<Org>Backup`, `<Org>Schedules`, `<Org>Restore`, ...): renaming one replaces its resources.
   */
  private addOrg(org: OrgConfig): OrgWorkflows {
    const id = constructIdOf(org.name);
    const topic = this.alerting.topic;
    const secret = (name: string, idSuffix: string) =>
      secretsmanager.Secret.fromSecretNameV2(this, `${id}${idSuffix}`, name);

    // Backup: the workflow, its incremental, full and metadata schedules, an alert for every
    // failed execution, an alarm when no backup succeeded for a while, function error alarms.
    const backup = new BackupWorkflow(this, `${id}Backup`, {
      orgName: org.name,
      bucket: this.vault.bucket,
      key: this.vault.key,
      orgSecret: secret(org.secretName, 'BackupOrgSecret'),
      alertTopic: topic,
      loginUrl: org.loginUrl,
      settings: {
        ...(org.objects.include ? { includeObjects: org.objects.include } : {}),
        excludeObjects: org.objects.exclude,
        files: org.files,
        apiShare: org.apiShare,
        anomalyPercent: org.changeAlert.percent,
        anomalyRows: org.changeAlert.rows,
      },
    });
    const schedules = new BackupSchedules(this, `${id}Schedules`, {
      org,
      stateMachine: backup.stateMachine,
      alarmTopic: topic,
    });
    this.alerting.monitorWorkflow(backup.stateMachine, { orgName: org.name, workflow: 'backup' });
    this.alerting.noRecentSuccessAlarm(backup.stateMachine, {
      orgName: org.name,
      hours: org.noSuccessAlarmHours,
    });
    this.alerting.monitorFunctions(backup.functions);
    new CfnOutput(this, `${id}BackupStateMachineArn`, {
      value: backup.stateMachine.stateMachineArn,
      description: `Backup workflow of Salesforce org ${org.name}`,
    });

    // Restore: the workflow with its drill when the config names a sandbox, an alert for every
    // failed execution, function error alarms. Restores start by hand, so no schedule.
    const sandbox = org.restoreDrill
      ? this.config.orgs.find((o) => o.name === org.restoreDrill?.sandboxOrg)
      : undefined;
    const restore = new RestoreWorkflow(this, `${id}Restore`, {
      orgName: org.name,
      bucket: this.vault.bucket,
      key: this.vault.key,
      orgSecret: secret(org.secretName, 'RestoreOrgSecret'),
      loginUrl: org.loginUrl,
      alertTopic: topic,
      ...(org.restoreDrill && sandbox
        ? {
            drill: {
              schedule: org.restoreDrill.schedule,
              timezone: org.schedules.timezone,
              sandboxSecret: secret(sandbox.secretName, 'RestoreDrillSecret'),
              sandboxLoginUrl: sandbox.loginUrl,
              ...(org.restoreDrill.objects ? { objects: org.restoreDrill.objects } : {}),
            },
          }
        : {}),
    });
    this.alerting.monitorWorkflow(restore.stateMachine, { orgName: org.name, workflow: 'restore' });
    this.alerting.monitorFunctions(restore.functions);
    new CfnOutput(this, `${id}RestoreStateMachineArn`, {
      value: restore.stateMachine.stateMachineArn,
      description: `Restore workflow of Salesforce org ${org.name}`,
    });
    return { org, backup, schedules, restore };
  }
}
