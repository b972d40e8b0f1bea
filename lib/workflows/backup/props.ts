import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { ChangeAlertRules } from '../../config.ts';
import { PropsProblems } from '../../validation.ts';

/** What one org's backups take and how they alert; mirrors the org's config. */
export interface BackupWorkflowSettings {
  /** Only these objects. @default - every object the org lets the backup read */
  readonly includeObjects?: readonly string[];
  /** Objects never backed up. @default - none */
  readonly excludeObjects?: readonly string[];
  /** Back up file bodies. @default true */
  readonly files?: boolean;
  /** Share of the daily API allowance one run may spend. @default 0.5 */
  readonly apiShare?: number;
  /** Alert when updates, deletes or hard deletes pass this percentage of an object's rows. @default 5 */
  readonly anomalyPercent?: number;
  /** ...or this many rows. @default 1000 */
  readonly anomalyRows?: number;
  /**
   * Change alert rules per kind, per object, for fields and for the learned baseline (the org's
   * `changeAlert` without `percent` and `rows`). @default - the defaults of docs/config.md
   */
  readonly changeAlerts?: ChangeAlertRules;
  /** Seconds of overlap subtracted from the last watermark. @default 300 */
  readonly overlapSeconds?: number;
  /**
   * Continuous protection: the org's Event Relay partner event source, whose relay each data run
   * checks for a break in the journal. @default - the org is not continuous
   */
  readonly continuous?: { readonly partnerEventSource: string };
}

/** Props of BackupWorkflow. */
export interface BackupWorkflowProps {
  /** The org's name in the config; also its prefix in the vault (`orgs/<name>/`). */
  readonly orgName: string;
  /** The vault bucket. */
  readonly bucket: s3.IBucket;
  /** The vault's KMS key. */
  readonly key: kms.IKey;
  /** The secret with the org's credentials (JWT bearer or client credentials). */
  readonly orgSecret: secretsmanager.ISecret;
  /** Where failure, deferral and anomaly messages go. */
  readonly alertTopic: sns.ITopic;
  /** The org's login URL, used when the secret does not name one. */
  readonly loginUrl: string;
  /** What to back up and when to alert. @default - the defaults of BackupWorkflowSettings */
  readonly settings?: BackupWorkflowSettings;
  /** Salesforce API version. @default DEFAULT_API_VERSION of the workflow contract */
  readonly apiVersion?: string;
  /** Objects exported at once. @default 10 */
  readonly exportConcurrency?: number;
  /** File batches fetched at once. @default 4 */
  readonly filesConcurrency?: number;
}

/** Throws one error listing every problem of `props`, or returns when there is none. */
export function validateBackupWorkflowProps(id: string, props: BackupWorkflowProps): void {
  new PropsProblems(`BackupWorkflow ${id}`)
    .orgName('orgName', props.orgName)
    .share('settings.apiShare', props.settings?.apiShare)
    .wholeNumber('exportConcurrency', props.exportConcurrency, 1, 1000)
    .wholeNumber('filesConcurrency', props.filesConcurrency, 1, 1000)
    .throwIfAny();
}

/** The settings with every default applied, as the functions read them from their environment. */
export function resolvedSettings(settings: BackupWorkflowSettings = {}) {
  return {
    includeObjects: [...(settings.includeObjects ?? [])],
    excludeObjects: [...(settings.excludeObjects ?? [])],
    files: settings.files ?? true,
    apiShare: settings.apiShare ?? 0.5,
    anomalyPercent: settings.anomalyPercent ?? 5,
    anomalyRows: settings.anomalyRows ?? 1000,
    // Written only when set, so the environment of a deployment without rules stays as it was.
    ...(settings.changeAlerts && Object.keys(settings.changeAlerts).length > 0
      ? { changeAlerts: settings.changeAlerts }
      : {}),
    overlapSeconds: settings.overlapSeconds ?? 300,
    // Written only when set, so the environment of an org that is not continuous stays as it was.
    ...(settings.continuous
      ? { continuous: { partnerEventSource: settings.continuous.partnerEventSource } }
      : {}),
  };
}
