import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { PropsProblems } from '../../validation.ts';

/** A scheduled restore drill into a sandbox. */
export interface RestoreDrillProps {
  /** EventBridge Scheduler expression; monthly in the config's default. */
  readonly schedule: string;
  /**
   * IANA time zone of the expression.
   * @default 'UTC'
   */
  readonly timezone?: string;
  /** Credentials of the sandbox the drill restores into. */
  readonly sandboxSecret: secretsmanager.ISecret;
  /**
   * Login URL of the sandbox when its secret names none.
   * @default 'https://test.salesforce.com'
   */
  readonly sandboxLoginUrl?: string;
  /**
   * Objects the drill restores.
   * @default - every custom object and the main standard objects of the latest snapshot
   */
  readonly objects?: readonly string[];
}

/** Props of RestoreWorkflow. */
export interface RestoreWorkflowProps {
  /** The config name of the org whose backups are restored (its vault prefix). */
  readonly orgName: string;
  /** The vault bucket, read under `orgs/<org name>/` and `restores/<org name>/`, written under the latter only. */
  readonly bucket: s3.IBucket;
  /** The vault key. */
  readonly key: kms.IKey;
  /** Credentials of the org the restore writes to. */
  readonly orgSecret: secretsmanager.ISecret;
  /**
   * Login URL for the org's credentials when the secret names none.
   * @default 'https://login.salesforce.com'
   */
  readonly loginUrl?: string;
  /** Where failed restores and rows that did not come back are reported. */
  readonly alertTopic: sns.ITopic;
  /**
   * A scheduled drill into a sandbox, with its measured recovery time in the execution output.
   * @default - no drill
   */
  readonly drill?: RestoreDrillProps;
  /**
   * Salesforce API version.
   * @default DEFAULT_API_VERSION of the workflow contract
   */
  readonly apiVersion?: string;
  /**
   * From this many rows in a batch, inserts and updates use Bulk API 2.0 ingest.
   * @default 1000
   */
  readonly bulkThreshold?: number;
}

/** Throws one error listing every problem of `props`, or returns when there is none. */
export function validateRestoreWorkflowProps(id: string, props: RestoreWorkflowProps): void {
  new PropsProblems(`RestoreWorkflow ${id}`)
    .orgName('orgName', props.orgName)
    .wholeNumber('bulkThreshold', props.bulkThreshold, 1)
    .throwIfAny();
}
