import type { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** How a workflow's Lambda tasks retry: the contract's error list and the backoff to retry it with. */
export interface WorkflowRetry {
  /** Error names retried; one of the contract's retry lists. */
  readonly errors: readonly string[];
  /** Wait before the first retry. */
  readonly interval: Duration;
  /** Attempts after the first. */
  readonly maxAttempts: number;
  /** Factor by which the wait grows. */
  readonly backoffRate: number;
  /**
   * Longest wait between two attempts.
   * @default - no limit
   */
  readonly maxDelay?: Duration;
  /**
   * Randomisation of the wait.
   * @default - none: every execution retries at the same moments
   */
  readonly jitterStrategy?: sfn.JitterType;
}

/** Props of invokeTask. */
export interface InvokeTaskProps {
  /** The function the task invokes. */
  readonly lambdaFunction: lambda.IFunction;
  /** What the task retries, and how. */
  readonly retry: WorkflowRetry;
  /**
   * The function's event; `.$` keys are JSONPaths into the state.
   * @default - the task's whole input
   */
  readonly payload?: Record<string, unknown>;
  /**
   * Where the function's result goes in the state.
   * @default '$' - the result replaces the state
   */
  readonly resultPath?: string;
}

/**
 * A task that invokes a workflow function and passes on only its result. The task retries the
 * contract's list itself, Lambda's service errors included, so CDK's own service-exception
 * retry stays off and every task of every workflow retries one way.
 */
export function invokeTask(scope: Construct, id: string, props: InvokeTaskProps): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: props.lambdaFunction,
    ...(props.payload ? { payload: sfn.TaskInput.fromObject(props.payload) } : {}),
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    // An explicit "$" is left out: it is the default, and some interpreters read it as a field name.
    ...(props.resultPath && props.resultPath !== '$' ? { resultPath: props.resultPath } : {}),
  });
  const { errors, ...backoff } = props.retry;
  task.addRetry({ errors: [...errors], ...backoff });
  return task;
}

/** Props of alertTask. */
export interface AlertTaskProps {
  /** The topic people subscribe to for alerts. */
  readonly topic: sns.ITopic;
  /** The e-mail subject. */
  readonly subject: string;
  /** The message, usually a JSONPath or a States.Format of the state. */
  readonly message: sfn.TaskInput;
}

/** A task that publishes an alert and passes its input on unchanged, so a Fail after it can name the cause. */
export function alertTask(scope: Construct, id: string, props: AlertTaskProps): tasks.SnsPublish {
  return new tasks.SnsPublish(scope, id, {
    topic: props.topic,
    subject: props.subject,
    message: props.message,
    resultPath: sfn.JsonPath.DISCARD,
  });
}

/**
 * A deny of every object read of `bucket` outside `prefixes` (key patterns such as
 * `orgs/acme/*`): it narrows what a broader grant allows, such as the `bucket/*` CDK grants a
 * Distributed Map's ItemReader, to one org's keys.
 */
export function denyReadsOutside(bucket: s3.IBucket, prefixes: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadOnlyOwnOrg',
    effect: iam.Effect.DENY,
    actions: ['s3:GetObject', 's3:GetObjectVersion'],
    notResources: prefixes.map((p) => bucket.arnForObjects(p)),
  });
}

/**
 * The explicit deny every role that reads backups carries: no delete, no version delete, no
 * retention, hold, versioning, lifecycle, policy or Object Lock change, anywhere in the vault.
 */
export function denyBackupChanges(bucket: s3.IBucket): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'NeverAlterBackups',
    effect: iam.Effect.DENY,
    actions: [
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:PutObjectRetention',
      's3:PutObjectLegalHold',
      's3:PutBucketVersioning',
      's3:PutLifecycleConfiguration',
      's3:PutBucketPolicy',
      's3:PutBucketObjectLockConfiguration',
    ],
    resources: [bucket.bucketArn, bucket.arnForObjects('*')],
  });
}

/** Decrypt and encrypt with the vault's key, and nothing else of it. */
export function useVaultKey(key: kms.IKey): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'UseVaultKey',
    actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
    resources: [key.keyArn],
  });
}
