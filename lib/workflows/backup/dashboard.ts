import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, ServiceName } from '../../../contract/workflow-contract.ts';

/** Props of backupDashboard. */
export interface BackupDashboardProps {
  /** The org whose backups the dashboard shows. */
  readonly orgName: string;
  /** The org's backup state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** The workflow's functions, whose errors the dashboard graphs. */
  readonly functions: readonly lambda.IFunction[];
}

/** One org's backup dashboard, created in `scope` as `Dashboard`: runs, snapshots, volumes, API calls, errors. */
export function backupDashboard(scope: Construct, props: BackupDashboardProps): cloudwatch.Dashboard {
  const { orgName: org, stateMachine } = props;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: `sfbackup-${org}-${Stack.of(scope).stackName}`.slice(0, 255),
    defaultInterval: Duration.days(7),
  });
  const metric = (name: string, stat = 'Sum') =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { org, service: ServiceName.Backup },
      statistic: stat,
      period: Duration.hours(1),
    });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: `Backup runs of ${org}`,
      left: [stateMachine.metricSucceeded(), stateMachine.metricFailed(), stateMachine.metricTimedOut()],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Snapshots complete / failed',
      left: [metric('SnapshotComplete'), metric('SnapshotFailed')],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Rows and bytes exported',
      left: [metric('ExportRows')],
      right: [metric('ExportBytes')],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Rows and files per run',
      left: [metric('RunRows')],
      right: [metric('RunFiles'), metric('FilesDownloaded')],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'API calls',
      left: [
        metric('RunApiCalls'),
        metric('PlanApiCalls'),
        metric('ExportApiCalls'),
        metric('FilesApiCalls'),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Run duration',
      left: [stateMachine.metricTime({ statistic: 'Maximum' })],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Function errors',
      left: props.functions.map((f) => f.metricErrors({ period: Duration.hours(1) })),
      width: 12,
    }),
  );
  return dashboard;
}
