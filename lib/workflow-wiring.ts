import { CfnOutput } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { Alerting } from './alerting.ts';
import { BackupSchedules } from './backup-schedules.ts';
import { constructIdOf, type OrgConfig } from './config.ts';

/** What wiring one org's backup workflow created. */
export interface WiredBackupWorkflow {
  /** The org's schedules. */
  readonly schedules: BackupSchedules;
}

/**
 * Connects an org's backup workflow in `scope`: its incremental, full and metadata schedules, an
 * alert for every failed execution, a "no successful backup" alarm, error alarms on its
 * functions, and an output with the state machine's ARN.
 */
export function wireBackupWorkflow(
  scope: Construct,
  alerting: Alerting,
  org: OrgConfig,
  stateMachine: sfn.IStateMachine,
  functions: readonly lambda.IFunction[] = [],
): WiredBackupWorkflow {
  const id = constructIdOf(org.name);
  const schedules = new BackupSchedules(scope, `${id}Schedules`, {
    org,
    stateMachine,
    alarmTopic: alerting.topic,
  });
  alerting.monitorWorkflow(stateMachine, { orgName: org.name, workflow: 'backup' });
  alerting.noRecentSuccessAlarm(stateMachine, { orgName: org.name, hours: org.noSuccessAlarmHours });
  alerting.monitorFunctions(functions);
  new CfnOutput(scope, `${id}BackupStateMachineArn`, {
    value: stateMachine.stateMachineArn,
    description: `Backup workflow of Salesforce org ${org.name}`,
  });
  return { schedules };
}

/**
 * Connects an org's restore workflow in `scope`: an alert for every failed execution, error
 * alarms on its functions, and an output with the state machine's ARN.
 */
export function wireRestoreWorkflow(
  scope: Construct,
  alerting: Alerting,
  org: OrgConfig,
  stateMachine: sfn.IStateMachine,
  functions: readonly lambda.IFunction[] = [],
): void {
  alerting.monitorWorkflow(stateMachine, { orgName: org.name, workflow: 'restore' });
  alerting.monitorFunctions(functions);
  new CfnOutput(scope, `${constructIdOf(org.name)}RestoreStateMachineArn`, {
    value: stateMachine.stateMachineArn,
    description: `Restore workflow of Salesforce org ${org.name}`,
  });
}
