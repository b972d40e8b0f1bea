import { Tags } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';

/**
 * The tag that names the org a workflow role works for (its config name). The bucket policy
 * confines a sweeper's or an erase role's exception to `orgs/<that org>/`.
 */
export const ORG_TAG = 'sfbackup-org';

/** The tag that names a workflow role's duty, which the bucket policy grants its one exception by. */
export const DUTY_TAG = 'sfbackup-duty';

/** The duties the bucket policy makes an exception for, as the roles' `sfbackup-duty` tag holds them. */
export const RoleDuty = {
  /** The retention sweeper: delete markers under its org's snapshots, catalog and files. */
  RetentionSweep: 'retention-sweep',
  /** The erase role: version removal under its org's prefix. */
  Erase: 'erase',
} as const;

/** One of the duties. */
export type RoleDutyName = (typeof RoleDuty)[keyof typeof RoleDuty];

/** Tags a workflow role with its org and duty, which the vault's bucket policy checks. */
export function tagWorkflowRole(role: iam.IRole, orgName: string, duty: RoleDutyName): void {
  Tags.of(role).add(ORG_TAG, orgName);
  Tags.of(role).add(DUTY_TAG, duty);
}
