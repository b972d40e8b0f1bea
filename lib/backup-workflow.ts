import * as iam from 'aws-cdk-lib/aws-iam';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { orgPrefixOf } from '../contract/workflow-contract.ts';
import type { WorkflowFunction } from './function-defaults.ts';
import { backupDashboard } from './workflows/backup/dashboard.ts';
import { BackupExportPhase } from './workflows/backup/export-phase.ts';
import { BackupFailurePhase } from './workflows/backup/failure-phase.ts';
import { BackupFilesPhase } from './workflows/backup/files-phase.ts';
import { BackupFinishPhase } from './workflows/backup/finish-phase.ts';
import { createBackupFunctions } from './workflows/backup/functions.ts';
import { BackupMetadataPhase } from './workflows/backup/metadata-phase.ts';
import { BackupPlanPhase } from './workflows/backup/plan-phase.ts';
import { type BackupWorkflowProps, validateBackupWorkflowProps } from './workflows/backup/props.ts';
import { workflowStateMachine } from './workflows/support/state-machine.ts';
import { denyReadsOutside } from './workflows/support/tasks.ts';
import {
  acknowledgeDistributedMaps,
  acknowledgeStateMachineRole,
  nagArnOf,
} from './workflows/support/acknowledgements.ts';

export type { BackupWorkflowProps, BackupWorkflowSettings } from './workflows/backup/props.ts';

/**
 * One org's backup workflow: a Step Functions Standard state machine (plan, a Distributed Map
 * exporting every object with checkpoints, files by content hash, metadata retrieves, a verified
 * finish), its functions with least-privilege roles, and a CloudWatch dashboard.
 */
export class BackupWorkflow extends Construct {
  /** The state machine the schedules start with `{org, mode}`. */
  readonly stateMachine: sfn.StateMachine;
  /** Every function of the workflow, for error alarms. */
  readonly functions: WorkflowFunction[];
  /** The org's dashboard. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BackupWorkflowProps) {
    super(scope, id);
    validateBackupWorkflowProps(id, props);
    const org = props.orgName;
    const fns = createBackupFunctions(this, props);
    this.functions = Object.values(fns);

    // Phases are built last to first, since each names the state it goes on to. Only states live
    // in them: every resource stays a child of this construct, so no logical id depends on them.
    const failure = new BackupFailurePhase(this, 'RunFailurePhase', {
      orgName: org,
      alertTopic: props.alertTopic,
    });
    const finish = new BackupFinishPhase(this, 'FinishPhase', {
      orgName: org,
      finishFunction: fns.finish,
      alertTopic: props.alertTopic,
      onFailure: failure,
    });
    const metadata = new BackupMetadataPhase(this, 'MetadataPhase', {
      metadataPlanFunction: fns.metadataPlan,
      metadataFunction: fns.metadata,
      onFailure: finish,
      next: finish,
    });
    const files = new BackupFilesPhase(this, 'FilesPhase', {
      bucket: props.bucket,
      filesPlanFunction: fns.filesPlan,
      filesFunction: fns.files,
      recordFailureFunction: fns.recordFailure,
      maxConcurrency: props.filesConcurrency ?? 4,
      onFailure: finish,
      next: metadata,
    });
    const exports = new BackupExportPhase(this, 'ExportPhase', {
      bucket: props.bucket,
      exportFunction: fns.export,
      compareFunction: fns.compare,
      recordFailureFunction: fns.recordFailure,
      maxConcurrency: props.exportConcurrency ?? 10,
    });
    const plan = new BackupPlanPhase(this, 'PlanPhase', {
      orgName: org,
      planFunction: fns.plan,
      alertTopic: props.alertTopic,
      onFailure: failure,
      next: exports.next(files),
    });

    this.stateMachine = workflowStateMachine(this, {
      definition: plan,
      comment: `Backs up Salesforce org ${org} into the vault`,
    });
    // Distributed Map reads its items (the plans) from the org's prefix.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [props.bucket.arnForObjects(`${orgPrefixOf(org)}*`)],
      }),
    );
    // CDK's ItemReaders grant s3:GetObject on the whole vault; a backup reads only its own org.
    this.stateMachine.addToRolePolicy(denyReadsOutside(props.bucket, [`${orgPrefixOf(org)}*`]));
    props.key.grantDecrypt(this.stateMachine);
    // The alerts published from inside the run (deferred, incomplete, anomaly, failure) go to a
    // topic encrypted with a customer key: publishing needs that key's GenerateDataKey* and Decrypt.
    props.alertTopic.grantPublish(this.stateMachine);
    this.acknowledge(props);
    this.dashboard = backupDashboard(this, {
      orgName: org,
      stateMachine: this.stateMachine,
      functions: this.functions,
    });
  }

  /** Acknowledges, finding by finding, the wildcards this construct needs, each with its reason. */
  private acknowledge(props: BackupWorkflowProps): void {
    const org = props.orgName;
    const prefix = orgPrefixOf(org);
    const bucketArn = nagArnOf(this, props.bucket.bucketArn);
    const machine = `${this.node.path}/StateMachine`;
    const bucketName = JSON.stringify(this.stateMachine.stack.resolve(props.bucket.bucketName));
    acknowledgeStateMachineRole(this.stateMachine, this.functions, [
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`,
        reason: `${machine}: the Distributed Maps read their items from plans under ${prefix}, whose keys are made per run.`,
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: `${machine}: publishing to the KMS-encrypted alert topic needs the topic key's GenerateDataKey* actions, scoped to that key.`,
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucketName}/*]`,
        reason: `${machine}: CDK's S3JsonItemReader grants s3:GetObject on the vault's objects for the Distributed Map's ItemReader; the plans' keys are made per run.`,
      },
    ]);
    acknowledgeDistributedMaps(this.stateMachine);
  }
}
