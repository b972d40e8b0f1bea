import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import {
  EnvName,
  orgPrefixOf,
  RESTORE_RETRY_ERRORS,
  restorePrefixOf,
  PRODUCTION_LOGIN_URL,
  SANDBOX_LOGIN_URL,
} from '../../../contract/workflow-contract.ts';
import { WorkflowFunction } from '../../function-defaults.ts';
import { nagArnOf } from '../support/acknowledgements.ts';
import { vaultEnvironment } from '../support/state-machine.ts';
import { denyBackupChanges, useVaultKey, type WorkflowRetry } from '../support/tasks.ts';
import type { RestoreWorkflowProps } from './props.ts';

/** The handler module of every restore function. */
const HANDLERS = 'lambdas/handlers/restore/handlers.ts';

/** How every restore task retries. */
export const RESTORE_RETRY: WorkflowRetry = {
  errors: RESTORE_RETRY_ERRORS,
  interval: Duration.seconds(10),
  maxAttempts: 5,
  backoffRate: 2,
};

/** The functions of one org's restore workflow, by role. */
export interface RestoreFunctions {
  /** Validates the input against the org and the snapshot. */
  readonly validate: WorkflowFunction;
  /** Plans against the live org. */
  readonly plan: WorkflowFunction;
  /** Lists the objects of one level. */
  readonly level: WorkflowFunction;
  /** Restores one object. */
  readonly object: WorkflowFunction;
  /** Restores files. */
  readonly files: WorkflowFunction;
  /** Deploys metadata, or only validates it on a dry run. */
  readonly metadata: WorkflowFunction;
  /** Verifies the org against the snapshot. */
  readonly verify: WorkflowFunction;
  /** Frees the org's restore lease when a restore fails. */
  readonly release: WorkflowFunction;
}

/**
 * Builds the restore functions in `scope` (their ids are part of their logical ids) with their
 * environment, and grants them the vault and the org's secret.
 */
export function createRestoreFunctions(scope: Construct, props: RestoreWorkflowProps): RestoreFunctions {
  const environment: Record<string, string> = {
    [EnvName.OrgName]: props.orgName,
    ...vaultEnvironment({ ...props, loginUrl: props.loginUrl ?? PRODUCTION_LOGIN_URL }),
    [EnvName.BulkThreshold]: String(props.bulkThreshold ?? 1000),
    ...(props.drill
      ? {
          [EnvName.DrillSecretArn]: props.drill.sandboxSecret.secretArn,
          [EnvName.DrillLoginUrl]: props.drill.sandboxLoginUrl ?? SANDBOX_LOGIN_URL,
        }
      : {}),
    ...(props.drill?.objects ? { [EnvName.DrillObjects]: JSON.stringify(props.drill.objects) } : {}),
  };
  const fn = (name: string, handler: string, description: string, long: boolean) =>
    new WorkflowFunction(scope, `${name}Function`, {
      entry: HANDLERS,
      handler,
      description: `the restore of org ${props.orgName}: ${description}`,
      memorySize: long ? 3008 : 1024,
      timeout: long ? Duration.minutes(15) : Duration.minutes(5),
      environment,
    });
  const functions: RestoreFunctions = {
    validate: fn('Validate', 'validate', 'validates the input against the org and the snapshot', false),
    plan: fn('Plan', 'plan', 'plans against the live org', true),
    level: fn('Level', 'level', 'lists the objects of one restore level', false),
    object: fn('RestoreObject', 'restoreObject', 'restores one object', true),
    files: fn('RestoreFiles', 'restoreFiles', 'restores files', true),
    metadata: fn('RestoreMetadata', 'restoreMetadata', 'deploys metadata, validated first', false),
    verify: fn('Verify', 'verify', 'verifies the org against the snapshot', true),
    release: fn(
      'ReleaseLease',
      'releaseRestoreLease',
      "frees the org's restore lease when a restore fails",
      false,
    ),
  };
  grantRestoreAccess(scope, Object.values(functions), props);
  // A drill signs in to the sandbox at every step that reads or writes the org: each of those
  // functions reads the sandbox's secret. Releasing the lease touches only the vault.
  if (props.drill) {
    const { release: _release, ...sandboxUsers } = functions;
    for (const f of Object.values(sandboxUsers)) props.drill.sandboxSecret.grantRead(f);
  }
  return functions;
}

/**
 * Read the org's own backups and its own restore records, write only those records, decrypt and
 * encrypt with the vault's key, read the secrets. Another configured org's restore records are
 * out of reach: one org's restore can neither read nor forge another's id map or lease.
 */
function grantRestoreAccess(
  scope: Construct,
  functions: readonly WorkflowFunction[],
  props: RestoreWorkflowProps,
): void {
  const roles = functions.map((f) => f.role).filter((r): r is iam.IRole => r !== undefined);
  const orgPrefix = orgPrefixOf(props.orgName);
  const restorePrefix = restorePrefixOf(props.orgName);
  const policy = new iam.Policy(scope, 'VaultAccess', {
    roles,
    statements: [
      // Its own org's backups only, and its own org's restore records.
      new iam.PolicyStatement({
        sid: 'ReadBackups',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [
          props.bucket.arnForObjects(`${orgPrefix}*`),
          props.bucket.arnForObjects(`${restorePrefix}*`),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'ListBackups',
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${orgPrefix}*`, `${restorePrefix}*`] } },
      }),
      new iam.PolicyStatement({
        sid: 'WriteRestoreRecords',
        actions: ['s3:PutObject'],
        resources: [props.bucket.arnForObjects(`${restorePrefix}*`)],
      }),
      denyBackupChanges(props.bucket),
      useVaultKey(props.key),
    ],
  });
  for (const f of functions) props.orgSecret.grantRead(f);
  const bucket = nagArnOf(scope, props.bucket.bucketArn);
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${bucket}/${orgPrefix}*]`,
    reason: `${policy.node.path}: a restore reads any snapshot of its own org, under ${orgPrefix}, whose keys are made at backup time; deletes and lock, lifecycle or versioning changes are explicitly denied.`,
  });
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${bucket}/*]`,
    reason: `${policy.node.path}: the explicit deny of deletes and lock, lifecycle or versioning changes covers every object of the vault.`,
  });
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${bucket}/${restorePrefix}*]`,
    reason: `${policy.node.path}: a restore of org ${props.orgName} reads and writes its requests, plans, id map, outcomes, reports and lease under ${restorePrefix} only (one folder per Salesforce org it restores into), with keys made at run time; other orgs' restore records are out of reach.`,
  });
}
