import { Annotations, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { Alerting } from '../alerting.ts';
import { BackupSchedules } from '../backup-schedules.ts';
import { BackupWorkflow } from '../backup-workflow.ts';
import {
  type AppConfig,
  changeAlertRulesOf,
  constructIdOf,
  type OrgConfig,
  retentionPolicyOf,
} from '../config.ts';
import { ContinuousJournal } from '../continuous-journal.ts';
import { DiffReportWorkflow } from '../diff-report-workflow.ts';
import { EraseWorkflow, eraseRoleNameOf } from '../erase-workflow.ts';
import { importLogsKey } from '../logs-key.ts';
import { RestoreWorkflow } from '../restore-workflow.ts';
import { sweeperRoleNameOf } from '../retention-policy.ts';
import { RetentionWorkflow } from '../retention-workflow.ts';
import { WorkflowRoleTamperAlerts } from '../tamper-alerts.ts';
import type { AlertingExports } from './alerting-stack.ts';
import { importVault, type VaultExports, type VaultRefs } from './vault-stack.ts';

/** The name of the stack of `org` in the app of `stackPrefix`. */
export function orgStackNameOf(stackPrefix: string, org: Pick<OrgConfig, 'name'>): string {
  return `${stackPrefix}-Org-${constructIdOf(org.name)}`;
}

/** Props of OrgStack. */
export interface OrgStackProps extends StackProps {
  /** The validated app config; the org's restore drill reads its sandbox org from it. */
  readonly config: AppConfig;
  /** The org this stack serves, one of `config.orgs`. */
  readonly org: OrgConfig;
  /** The exports of the vault stack, which the workflows read and write. */
  readonly vaultExports: VaultExports;
  /** The exports of the alerting stack: the alert topic and the logs key. */
  readonly alertingExports: AlertingExports;
}

/**
 * One org of the config: its backup and restore workflows, the schedules that start them, the
 * rules and alarms that report them to the shared alert topic, and their outputs. Nothing in it
 * depends on the other orgs but the drill's sandbox org, by its secret and login URL, so adding
 * or removing an org leaves the other org stacks as they are.
 */
export class OrgStack extends Stack {
  /** The validated app config. */
  readonly config: AppConfig;
  /** The org, as the config describes it. */
  readonly org: OrgConfig;
  /** The vault the workflows read and write, imported from the vault stack's exports. */
  readonly vault: VaultRefs;
  /** The export names the vault is imported by; IAM findings on vault paths name them. */
  readonly vaultExports: VaultExports;
  /** The org's failure rules and alarms, reporting to the shared alert topic. */
  readonly alerting: Alerting;
  /** Its backup workflow. */
  readonly backup: BackupWorkflow;
  /** The schedules that start its backups. */
  readonly schedules: BackupSchedules;
  /** Its restore workflow. */
  readonly restore: RestoreWorkflow;
  /** Its diff report: two snapshots compared inside AWS, started from the console. */
  readonly diffReport: DiffReportWorkflow;
  /** Its erase workflow: a person erased from every backup, started from the console. */
  readonly erase: EraseWorkflow;
  /** Its change-event journal, when the config names the org's Event Relay source. */
  readonly continuous?: ContinuousJournal;
  /** Its retention sweeps, when a retention policy applies to the org. */
  readonly retention?: RetentionWorkflow;

  /**
   * Every construct id below is part of logical ids (`<Org>Backup`, `<Org>Schedules`,
   * `<Org>Restore`, ...): renaming one replaces its resources. They hold the org's name only, so
   * an org's template does not change when other orgs come or go.
   */
  constructor(scope: Construct, id: string, props: OrgStackProps) {
    super(scope, id, props);
    const { config, org } = props;
    this.config = config;
    this.org = org;
    this.vaultExports = props.vaultExports;
    this.vault = importVault(this, props.vaultExports);
    importLogsKey(this, Fn.importValue(props.alertingExports.logsKeyArn));
    const topic = sns.Topic.fromTopicAttributes(this, 'AlertTopic', {
      topicArn: Fn.importValue(props.alertingExports.topicArn),
      keyArn: Fn.importValue(props.alertingExports.topicKeyArn),
    });
    const orgId = constructIdOf(org.name);
    this.alerting = new Alerting(this, `${orgId}Alerting`, { topic });
    const secret = (name: string, idSuffix: string) =>
      secretsmanager.Secret.fromSecretNameV2(this, `${orgId}${idSuffix}`, name);

    // Backup: the workflow, its incremental, full and metadata schedules, an alert for every
    // failed execution, an alarm when no backup succeeded for a while, function error alarms.
    this.backup = new BackupWorkflow(this, `${orgId}Backup`, {
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
        changeAlerts: changeAlertRulesOf(org.changeAlert),
        ...(org.continuous ? { continuous: { partnerEventSource: org.continuous.partnerEventSource } } : {}),
      },
    });
    this.schedules = new BackupSchedules(this, `${orgId}Schedules`, {
      org,
      stateMachine: this.backup.stateMachine,
      alarmTopic: topic,
    });
    this.alerting.monitorWorkflow(this.backup.stateMachine, { orgName: org.name, workflow: 'backup' });
    this.alerting.noRecentSuccessAlarm(this.backup.stateMachine, {
      orgName: org.name,
      hours: org.noSuccessAlarmHours,
    });
    this.alerting.monitorFunctions(`${orgId}Backup`, this.backup.functions, {
      orgName: org.name,
      workflow: 'backup',
    });
    new CfnOutput(this, `${orgId}BackupStateMachineArn`, {
      value: this.backup.stateMachine.stateMachineArn,
      description: `Backup workflow of Salesforce org ${org.name}`,
    });

    // Restore: the workflow with its drill when the config names a sandbox, an alert for every
    // failed execution, function error alarms. Restores start by hand, so no schedule.
    const sandbox = org.restoreDrill
      ? config.orgs.find((o) => o.name === org.restoreDrill?.sandboxOrg)
      : undefined;
    this.restore = new RestoreWorkflow(this, `${orgId}Restore`, {
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
    this.alerting.monitorWorkflow(this.restore.stateMachine, { orgName: org.name, workflow: 'restore' });
    this.alerting.monitorFunctions(`${orgId}Restore`, this.restore.functions, {
      orgName: org.name,
      workflow: 'restore',
    });
    new CfnOutput(this, `${orgId}RestoreStateMachineArn`, {
      value: this.restore.stateMachine.stateMachineArn,
      description: `Restore workflow of Salesforce org ${org.name}`,
    });

    // Diff report: two snapshots compared from the console, read-only on the backups.
    this.diffReport = new DiffReportWorkflow(this, `${orgId}DiffReport`, {
      orgName: org.name,
      bucket: this.vault.bucket,
      key: this.vault.key,
    });
    this.alerting.monitorWorkflow(this.diffReport.stateMachine, {
      orgName: org.name,
      workflow: 'diff report',
    });
    this.alerting.monitorFunctions(`${orgId}DiffReport`, this.diffReport.functions, {
      orgName: org.name,
      workflow: 'diff report',
    });
    new CfnOutput(this, `${orgId}DiffReportStateMachineArn`, {
      value: this.diffReport.stateMachine.stateMachineArn,
      description: `Diff report of Salesforce org ${org.name}: compares two snapshots (docs/restore.md)`,
    });

    // Retention by policy: a sweep after each successful backup and daily, when a policy applies.
    const policy = retentionPolicyOf(config, org);
    if (policy) {
      this.retention = new RetentionWorkflow(this, `${orgId}Retention`, {
        orgName: org.name,
        bucket: this.vault.bucket,
        key: this.vault.key,
        policy,
        roleName: sweeperRoleNameOf(config.stackPrefix, org.name),
        backupStateMachine: this.backup.stateMachine,
        vaultRetention: {
          ...(config.retention.currentDays !== undefined
            ? { currentDays: config.retention.currentDays }
            : {}),
          ...(config.retention.objectLock ? { objectLockDays: config.retention.objectLock.days } : {}),
        },
        alarmTopic: topic,
      });
      this.alerting.monitorWorkflow(this.retention.stateMachine, {
        orgName: org.name,
        workflow: 'retention',
      });
      this.alerting.monitorFunctions(`${orgId}Retention`, this.retention.functions, {
        orgName: org.name,
        workflow: 'retention',
      });
      new WorkflowRoleTamperAlerts(this, `${orgId}SweeperTamperAlerts`, {
        fn: this.retention.functions[0]!,
        role: this.retention.role,
        duty: 'sweeper',
        alerting: this.alerting,
      });
      new CfnOutput(this, `${orgId}RetentionStateMachineArn`, {
        value: this.retention.stateMachine.stateMachineArn,
        description: `Retention sweeps of Salesforce org ${org.name}: expire the snapshots its policy no longer keeps`,
      });
    }
    // Erasure: a person removed from every version of the org's backups, from the console.
    const lockMode = config.retention.objectLock?.mode;
    this.erase = new EraseWorkflow(this, `${orgId}Erase`, {
      orgName: org.name,
      bucket: this.vault.bucket,
      key: this.vault.key,
      roleName: eraseRoleNameOf(config.stackPrefix, org.name),
      ...(lockMode ? { objectLockMode: lockMode } : {}),
    });
    if (lockMode === 'COMPLIANCE') {
      Annotations.of(this.erase).addWarningV2(
        'sfbackup:erasure-impossible',
        `The vault is locked in COMPLIANCE mode for ${config.retention.objectLock?.days} days: the erase workflow of org ${org.name} refuses every erasure, since no one can remove a locked version before it expires. Use retention.objectLock.mode "GOVERNANCE", or a lock period no longer than the time within which erasure requests must be answered.`,
      );
    }
    this.alerting.monitorWorkflow(this.erase.stateMachine, { orgName: org.name, workflow: 'erase' });
    this.alerting.monitorFunctions(`${orgId}Erase`, this.erase.functions, {
      orgName: org.name,
      workflow: 'erase',
    });
    new WorkflowRoleTamperAlerts(this, `${orgId}EraseTamperAlerts`, {
      fn: this.erase.functions[0]!,
      role: this.erase.functions[0]!.role!,
      duty: 'erase',
      alerting: this.alerting,
    });
    new CfnOutput(this, `${orgId}EraseStateMachineArn`, {
      value: this.erase.stateMachine.stateMachineArn,
      description: `Erase workflow of Salesforce org ${org.name}: removes a person from every backup (docs/erasure.md)`,
    });

    // Continuous protection: the org's change events, relayed by Salesforce, written to its journal.
    if (org.continuous) {
      this.continuous = new ContinuousJournal(this, `${orgId}Continuous`, {
        orgName: org.name,
        partnerEventSource: org.continuous.partnerEventSource,
        bucket: this.vault.bucket,
        key: this.vault.key,
        alarmTopic: topic,
      });
      this.alerting.monitorFunctions(`${orgId}Continuous`, [this.continuous.writer], {
        orgName: org.name,
        workflow: 'continuous',
      });
      this.backup.dashboard.addWidgets(...this.continuous.dashboardWidgets());
    }
  }
}
