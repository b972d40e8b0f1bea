import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
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

/**
 * CloudTrail event names of the calls that change a retention sweeper function's code or
 * configuration (its environment holds the org's policy). CloudTrail names Lambda's calls with the
 * API version appended.
 */
export const SWEEPER_FUNCTION_TAMPER_EVENTS = [
  'UpdateFunctionCode20150331v2',
  'UpdateFunctionConfiguration20150331v2',
] as const;

/** CloudTrail event names of the calls that change who may assume a sweeper role or what it may do. */
export const SWEEPER_ROLE_TAMPER_EVENTS = [
  'UpdateAssumeRolePolicy',
  'PutRolePolicy',
  'AttachRolePolicy',
  'DetachRolePolicy',
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
    const vaultAdvice = [
      'The vault policies deny this call to everyone but the deploying role and the break-glass role.',
      'If it was not a deployment of the vault stack or a planned break-glass change, treat it as an',
      'attack on the backups: look the event id up in CloudTrail and review the caller.',
    ];
    alertTo(this.keyRule, props.alerting, 'the vault key', vaultAdvice);
    alertTo(this.bucketRule, props.alerting, 'the vault bucket', vaultAdvice);
  }
}

/** Props of WorkflowRoleTamperAlerts. */
export interface WorkflowRoleTamperAlertsProps {
  /** The function that holds the exception: the org's retention sweeper or its erase function. */
  readonly fn: lambda.IFunction;
  /** The function's role. */
  readonly role: iam.IRole;
  /** Which exception it holds. */
  readonly duty: 'sweeper' | 'erase';
  /** Where the alerts go. */
  readonly alerting: Alerting;
}

const DUTIES = {
  sweeper: {
    ids: ['SweeperFunctionChanged', 'SweeperRoleChanged'],
    what: 'retention sweeper',
    advice: [
      'The retention sweeper is the one function that may add delete markers in the vault.',
      'If it was not a deployment of the org stack, treat it as an attack on the backups: look the',
      "event id up in CloudTrail, review the caller, and check the org's retention log and delete",
      'markers; the break-glass role can remove them until noncurrentDays have passed.',
    ],
  },
  erase: {
    ids: ['EraseFunctionChanged', 'EraseRoleChanged'],
    what: 'erase function',
    advice: [
      'The erase function is the one workflow function that may remove versions from the vault.',
      'If it was not a deployment of the org stack, treat it as an attack on the backups: look the',
      "event id up in CloudTrail, review the caller, and check the org's erasure log; a removed",
      'version cannot be brought back, except from the replica bucket if there is one.',
    ],
  },
} as const;

/**
 * Alerts on every attempt, allowed or denied, to change the code or configuration of a function
 * that holds one of the vault's exceptions (the retention sweeper: delete markers; the erase
 * function: version removal), or its role's trust or permissions. An account administrator can
 * make those calls (IAM allows them), so a tampered function cannot remove backups unnoticed. IAM
 * sends its CloudTrail events to EventBridge in us-east-1 only, so the role rule fires only when
 * the org stack is deployed there; the function rule fires in any region a trail logs management
 * events in.
 */
export class WorkflowRoleTamperAlerts extends Construct {
  /** The rule watching the function. */
  readonly functionRule: events.Rule;
  /** The rule watching the role. */
  readonly roleRule: events.Rule;

  constructor(scope: Construct, id: string, props: WorkflowRoleTamperAlertsProps) {
    super(scope, id);
    const duty = DUTIES[props.duty];
    this.functionRule = new events.Rule(this, duty.ids[0], {
      description: `Alerts on any attempt to change the ${duty.what}'s code or configuration`,
      eventPattern: {
        source: ['aws.lambda'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['lambda.amazonaws.com'],
          eventName: [...SWEEPER_FUNCTION_TAMPER_EVENTS],
          requestParameters: { functionName: [props.fn.functionName, props.fn.functionArn] },
        },
      },
    });
    this.roleRule = new events.Rule(this, duty.ids[1], {
      description: `Alerts on any attempt to change who may assume the ${duty.what}'s role or what it may do`,
      eventPattern: {
        source: ['aws.iam'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['iam.amazonaws.com'],
          eventName: [...SWEEPER_ROLE_TAMPER_EVENTS],
          requestParameters: { roleName: [props.role.roleName] },
        },
      },
    });
    alertTo(this.functionRule, props.alerting, `the org's ${duty.what}`, duty.advice);
    alertTo(this.roleRule, props.alerting, `the org's ${duty.what} role`, duty.advice);
  }
}

function alertTo(rule: events.Rule, alerting: Alerting, what: string, advice: readonly string[]): void {
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
      ...advice,
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
