import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Alerting } from './alerting.ts';

/**
 * CloudTrail event names of the calls that disable the vault key, delete it or change its policy
 * or rotation. Each takes the key by id or ARN only, never by alias, so the rule can match them.
 */
export const KEY_TAMPER_EVENTS = [
  'DisableKey',
  'ScheduleKeyDeletion',
  'PutKeyPolicy',
  'DisableKeyRotation',
  'DeleteImportedKeyMaterial',
] as const;

/**
 * CloudTrail event names of the calls that change the vault bucket's policy, versioning,
 * replication, lifecycle, logging, Object Lock, encryption, public access, ownership or ACL, or
 * delete it. These are management events; CloudTrail names some differently from the IAM action
 * (PutBucketLifecycle for s3:PutLifecycleConfiguration, PutBucketReplication for
 * s3:PutReplicationConfiguration).
 */
export const BUCKET_TAMPER_EVENTS = [
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'PutBucketVersioning',
  'PutBucketReplication',
  'DeleteBucketReplication',
  'PutBucketLifecycle',
  'DeleteBucketLifecycle',
  'PutBucketLogging',
  'PutObjectLockConfiguration',
  'PutBucketEncryption',
  'DeleteBucketEncryption',
  'PutBucketPublicAccessBlock',
  'DeleteBucketPublicAccessBlock',
  'PutBucketOwnershipControls',
  'DeleteBucketOwnershipControls',
  'PutBucketAcl',
  'DeleteBucket',
] as const;

/** Props of TamperAlerts. */
export interface TamperAlertsProps {
  /** The vault bucket whose protection is watched. */
  readonly bucket: s3.IBucket;
  /** The vault key that is watched. */
  readonly key: kms.IKey;
  /** Where the alerts go: its topic, and its dead-letter queue for alerts the topic refused. */
  readonly alerting: Alerting;
}

/**
 * Alerts on every attempt, allowed or denied, to disable or delete the vault key or to change
 * the key policy or the bucket's protection. EventBridge receives these calls as "AWS API Call
 * via CloudTrail" events only while a CloudTrail trail logs the account's management events in
 * the vault's region; a denied call arrives with its `errorCode`.
 */
export class TamperAlerts extends Construct {
  /** The rule watching the vault key. */
  readonly keyRule: events.Rule;
  /** The rule watching the vault bucket. */
  readonly bucketRule: events.Rule;

  constructor(scope: Construct, id: string, props: TamperAlertsProps) {
    super(scope, id);
    this.keyRule = new events.Rule(this, 'KeyChanged', {
      description:
        'Alerts on any attempt to disable or delete the vault key or to change its policy or rotation',
      eventPattern: {
        source: ['aws.kms'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          eventName: [...KEY_TAMPER_EVENTS],
          requestParameters: { keyId: [props.key.keyArn, props.key.keyId] },
        },
      },
    });
    this.bucketRule = new events.Rule(this, 'BucketChanged', {
      description: "Alerts on any attempt to change the vault bucket's policy or protection settings",
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['s3.amazonaws.com'],
          eventName: [...BUCKET_TAMPER_EVENTS],
          requestParameters: { bucketName: [props.bucket.bucketName] },
        },
      },
    });
    this.alertTo(this.keyRule, props.alerting, 'the vault key');
    this.alertTo(this.bucketRule, props.alerting, 'the vault bucket');
  }

  private alertTo(rule: events.Rule, alerting: Alerting, what: string): void {
    const field = (path: string) => events.EventField.fromPath(path);
    const message = events.RuleTargetInput.fromMultilineText(
      [
        `Someone called ${field('$.detail.eventName')} on ${what}.`,
        '',
        `Caller: ${field('$.detail.userIdentity.arn')}`,
        `Time: ${field('$.detail.eventTime')}`,
        `Region: ${field('$.region')}`,
        `Source address: ${field('$.detail.sourceIPAddress')}`,
        `Error code (empty when the call succeeded): ${field('$.detail.errorCode')}`,
        `Event id: ${field('$.detail.eventID')}`,
        '',
        'The vault policies deny this call to everyone but the deploying role and the break-glass role.',
        'If it was not a deployment of the vault stack or a planned break-glass change, treat it as an',
        'attack on the backups: look the event id up in CloudTrail and review the caller.',
      ].join('\n'),
    );
    rule.addTarget(
      new targets.SnsTopic(alerting.topic, {
        message,
        deadLetterQueue: alerting.deadLetterQueue(),
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      }),
    );
  }
}
