import { Duration, Size, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  BACKUP_RETRY_ERRORS,
  BACKUP_WRITE_PATTERNS,
  EnvName,
  LATEST_POINTER,
  METRICS_NAMESPACE,
  orgPrefixOf,
  restorePrefixOf,
} from '../../../contract/workflow-contract.ts';
import { WorkflowFunction } from '../../function-defaults.ts';
import { nagArnOf } from '../support/acknowledgements.ts';
import { vaultEnvironment } from '../support/state-machine.ts';
import type { WorkflowRetry } from '../support/tasks.ts';
import { type BackupWorkflowProps, resolvedSettings } from './props.ts';

/** The handler module of every backup function. */
const HANDLERS = 'lambdas/handlers/backup/handlers.ts';

/** How every backup task retries: a run is long, so waits grow to minutes, spread by jitter. */
export const BACKUP_RETRY: WorkflowRetry = {
  errors: BACKUP_RETRY_ERRORS,
  interval: Duration.seconds(5),
  backoffRate: 2,
  maxAttempts: 6,
  maxDelay: Duration.minutes(5),
  jitterStrategy: sfn.JitterType.FULL,
};

/** The functions of one org's backup workflow, by role. */
export interface BackupFunctions {
  /** Plans a run. */
  readonly plan: WorkflowFunction;
  /** Exports one object, a checkpoint at a time. */
  readonly export: WorkflowFunction;
  /** Compares one exported object with the chain: its changes by kind. */
  readonly compare: WorkflowFunction;
  /** Records an object's or a file batch's permanent failure. */
  readonly recordFailure: WorkflowFunction;
  /** Plans the file downloads. */
  readonly filesPlan: WorkflowFunction;
  /** Downloads one batch of file bodies. */
  readonly files: WorkflowFunction;
  /** Lists the org's metadata. */
  readonly metadataPlan: WorkflowFunction;
  /** Retrieves one chunk of metadata. */
  readonly metadata: WorkflowFunction;
  /** Verifies and completes the snapshot. */
  readonly finish: WorkflowFunction;
}

/**
 * Builds the backup functions in `scope` (their ids are part of their logical ids) with their
 * environment and least-privilege grants on the vault and the org's secret.
 */
export function createBackupFunctions(scope: Construct, props: BackupWorkflowProps): BackupFunctions {
  const org = props.orgName;
  const environment = {
    ...vaultEnvironment(props),
    [EnvName.BackupSettings]: JSON.stringify(resolvedSettings(props.settings)),
    [EnvName.MetricsNamespace]: METRICS_NAMESPACE,
  };
  const fn = (
    id: string,
    handler: string,
    description: string,
    opts: { minutes?: number; salesforce: boolean; tmp?: number },
  ) => {
    const f = new WorkflowFunction(scope, id, {
      entry: HANDLERS,
      handler,
      description: `${description} (org ${org})`,
      timeout: Duration.minutes(opts.minutes ?? 5),
      memorySize: 1769,
      environment,
      ...(opts.tmp ? { ephemeralStorageSize: Size.gibibytes(opts.tmp) } : {}),
    });
    grantVault(f, props);
    if (opts.salesforce) props.orgSecret.grantRead(f);
    return f;
  };
  return {
    plan: fn('PlanFunction', 'plan', 'Plans a Salesforce backup run', { salesforce: true, minutes: 10 }),
    export: fn('ExportFunction', 'exportObjectHandler', 'Exports one Salesforce object', {
      salesforce: true,
      minutes: 15,
    }),
    compare: compareFunction(fn, props),
    recordFailure: fn('RecordFailureFunction', 'recordFailure', 'Records a permanent backup failure', {
      salesforce: false,
    }),
    filesPlan: fn('FilesPlanFunction', 'planFilesHandler', 'Plans file downloads', {
      salesforce: false,
      minutes: 15,
    }),
    files: fn('FilesFunction', 'backupFilesHandler', 'Downloads file bodies', {
      salesforce: true,
      minutes: 15,
      tmp: 10,
    }),
    metadataPlan: fn('MetadataPlanFunction', 'planMetadataHandler', 'Lists Salesforce metadata', {
      salesforce: true,
      minutes: 10,
    }),
    metadata: fn('MetadataFunction', 'retrieveMetadataHandler', 'Retrieves Salesforce metadata', {
      salesforce: true,
      minutes: 15,
    }),
    finish: fn('FinishFunction', 'finishHandler', 'Verifies and completes a snapshot', {
      salesforce: true,
      minutes: 15,
    }),
  };
}

/**
 * The comparison reads the org's snapshots and, to tell a restore's re-inserted rows from new ones,
 * the id maps its restores keep (`restores/<org>/<org id>/id-map/`): read only, and no Salesforce.
 */
function compareFunction(
  fn: (
    id: string,
    handler: string,
    description: string,
    opts: { minutes?: number; salesforce: boolean },
  ) => WorkflowFunction,
  props: BackupWorkflowProps,
): WorkflowFunction {
  const f = fn('CompareFunction', 'compareObjectHandler', 'Compares an exported object with its backups', {
    salesforce: false,
    minutes: 15,
  });
  const idMaps = `${restorePrefixOf(props.orgName)}*/id-map/*`;
  const releases = `${restorePrefixOf(props.orgName)}*/lease/released/*`;
  f.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [props.bucket.arnForObjects(idMaps), props.bucket.arnForObjects(releases)],
    }),
  );
  f.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [props.bucket.bucketArn],
      conditions: {
        StringLike: {
          's3:prefix': [
            `${restorePrefixOf(props.orgName)}*/id-map/*`,
            `${restorePrefixOf(props.orgName)}*/lease/*`,
          ],
        },
      },
    }),
  );
  const policy = f.role?.node.tryFindChild('DefaultPolicy');
  if (policy) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArnOf(f, props.bucket.bucketArn)}/${idMaps}]`,
      reason: `${f.node.path}: reads the id maps the org's restores keep under ${restorePrefixOf(props.orgName)}<org id>/id-map/, to link re-inserted rows to the ids they replace; the org id is known only at run time. Read only.`,
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArnOf(f, props.bucket.bucketArn)}/${releases}]`,
      reason: `${f.node.path}: reads when the org's restores released their lease (${restorePrefixOf(props.orgName)}<org id>/lease/released/), to tell the rows a restore wrote back from other writes; the org id is known only at run time. Read only.`,
    });
  }
  return f;
}

/** Read anything under the org's prefix, add new objects there; never delete, never overwrite. */
function grantVault(f: WorkflowFunction, props: BackupWorkflowProps): void {
  const prefix = orgPrefixOf(props.orgName);
  f.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:AbortMultipartUpload'],
      resources: [props.bucket.arnForObjects(`${prefix}*`)],
    }),
  );
  // Parts, manifests and file bodies are written with If-None-Match: *, so S3 refuses to replace
  // one. Denying every object creation without that header makes it a rule rather than a habit.
  // CreateMultipartUpload and UploadPart take no conditional header (ObjectCreationOperation is
  // false for them); CompleteMultipartUpload does. The one mutable key is the latest pointer.
  f.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'DenyUnconditionalObjectCreation',
      effect: iam.Effect.DENY,
      actions: ['s3:PutObject'],
      notResources: [props.bucket.arnForObjects(`${prefix}${LATEST_POINTER}`)],
      conditions: {
        Null: { 's3:if-none-match': 'true' },
        Bool: { 's3:ObjectCreationOperation': 'true' },
      },
    }),
  );
  // The org's prefix holds other workflows' records too (the vault lease's claims, the retention
  // log, the journal): a backup writes only its own keys, so it cannot plant a lease claim that
  // would hold the org's sweeps, erasures and restore dry runs off.
  f.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'DenyWritesOutsideBackupKeys',
      effect: iam.Effect.DENY,
      actions: ['s3:PutObject'],
      notResources: BACKUP_WRITE_PATTERNS.map((pattern) => props.bucket.arnForObjects(`${prefix}${pattern}`)),
    }),
  );
  f.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [props.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    }),
  );
  f.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [props.key.keyArn],
    }),
  );
  const policy = f.role?.node.tryFindChild('DefaultPolicy');
  if (policy) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArnOf(f, props.bucket.bucketArn)}/${prefix}*]`,
      reason: `${f.node.path}: reads and adds snapshot objects only under its org's prefix ${prefix}; their keys are made per run. No delete is granted.`,
    });
  }
}
