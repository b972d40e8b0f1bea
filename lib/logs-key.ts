import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** Construct id of the logs key, a direct child of its stack. */
const LOGS_KEY_ID = 'LogsKey';

/**
 * The customer managed key that encrypts every log group of the stack `scope` is in, created the
 * first time a construct of that stack asks for it. A key of its own rather than the vault key:
 * the vault key may be used only through S3 and lives in the vault stack, whose key policy a
 * stack of workflows cannot extend, and logs need a different service allowed.
 */
export function logsKeyOf(scope: Construct): kms.IKey {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(LOGS_KEY_ID);
  if (existing instanceof kms.Key) return existing;
  const key = new kms.Key(stack, LOGS_KEY_ID, {
    description: `Encrypts the log groups of ${stack.stackName}`,
    enableKeyRotation: true,
    // The log groups are retained when the stack goes; without their key they cannot be read.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // CloudWatch Logs uses the key on behalf of log groups; the encryption context names the log
  // group, so only this account's log groups in this region can have it used for them.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
  return key;
}
