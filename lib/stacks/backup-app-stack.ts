import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { Alerting } from '../alerting.ts';
import { BackupSchedules } from '../backup-schedules.ts';
import { type AppConfig, constructIdOf, type OrgConfig } from '../config.ts';

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
  /** The vault the workflows read and write. */
  readonly vault: VaultRefs;
}

/** What wiring one org's backup workflow created. */
export interface WiredBackupWorkflow {
  /** The org's schedules. */
  readonly schedules: BackupSchedules;
}

/**
 * The stateless half of the app: alerting, and per org the backup and restore workflows with
 * their schedules and alarms. A workflow joins by being built in this stack for each entry of
 * `config.orgs` and handed to `wireBackupWorkflow` or `wireRestoreWorkflow`, which connect it
 * to the schedules and the alert topic.
 */
export class BackupAppStack extends Stack {
  /** The validated app config. */
  readonly config: AppConfig;
  /** The vault the workflows read and write. */
  readonly vault: VaultRefs;
  /** The alert topic and the rules and alarms that feed it. */
  readonly alerting: Alerting;

  constructor(scope: Construct, id: string, props: BackupAppStackProps) {
    super(scope, id, props);
    this.config = props.config;
    this.vault = props.vault;
    this.alerting = new Alerting(this, 'Alerting', { emails: props.config.alertEmails });
    new CfnOutput(this, 'AlertTopicArn', {
      value: this.alerting.topic.topicArn,
      description: 'SNS topic receiving backup and restore alerts',
    });
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
    const schedules = new BackupSchedules(this, `${constructIdOf(org.name)}Schedules`, {
      org,
      stateMachine,
      alarmTopic: this.alerting.topic,
    });
    this.alerting.monitorWorkflow(stateMachine, { orgName: org.name, workflow: 'backup' });
    this.alerting.noRecentSuccessAlarm(stateMachine, { orgName: org.name, hours: org.noSuccessAlarmHours });
    this.alerting.monitorFunctions(functions);
    new CfnOutput(this, `${constructIdOf(org.name)}BackupStateMachineArn`, {
      value: stateMachine.stateMachineArn,
      description: `Backup workflow of Salesforce org ${org.name}`,
    });
    return { schedules };
  }

  /** Connects an org's restore workflow: an alert for every failed execution and function error alarms. */
  wireRestoreWorkflow(
    org: OrgConfig,
    stateMachine: sfn.IStateMachine,
    functions: readonly lambda.IFunction[] = [],
  ): void {
    this.checkOrg(org);
    this.alerting.monitorWorkflow(stateMachine, { orgName: org.name, workflow: 'restore' });
    this.alerting.monitorFunctions(functions);
    new CfnOutput(this, `${constructIdOf(org.name)}RestoreStateMachineArn`, {
      value: stateMachine.stateMachineArn,
      description: `Restore workflow of Salesforce org ${org.name}`,
    });
  }

  private checkOrg(org: OrgConfig): void {
    if (!this.config.orgs.some((o) => o.name === org.name)) {
      const names = this.config.orgs.map((o) => `"${o.name}"`).join(', ');
      throw new Error(`Org "${org.name}" is not in the config; wire one of ${names}.`);
    }
  }
}
