import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct, IConstruct } from 'constructs';

/** Construct id of the logs key, a direct child of its stack. */
const LOGS_KEY_ID = 'LogsKey';

/** Whether `c` is a KMS key, made in its stack or imported into it. */
function isKey(c: IConstruct | undefined): c is kms.IKey {
  return c !== undefined && 'keyArn' in c && 'keyId' in c && 'grantEncryptDecrypt' in c;
}

/**
 * Makes the stack of `scope` encrypt its log groups with the logs key of another stack (the
 * alerting stack's, which all the app's stacks share) instead of creating one of its own. Call it
 * before the first construct of the stack asks for the logs key.
 */
export function importLogsKey(scope: Construct, keyArn: string): kms.IKey {
  const stack = Stack.of(scope);
  if (stack.node.tryFindChild(LOGS_KEY_ID)) {
    throw new Error(
      `Stack ${stack.stackName} already has a logs key; import the shared one before building anything that logs.`,
    );
  }
  return kms.Key.fromKeyArn(stack, LOGS_KEY_ID, keyArn);
}

/**
 * The customer managed key that encrypts every log group of the stack `scope` is in: the one
 * imported by importLogsKey, or one created the first time a construct of that stack asks for
 * it. A key of its own rather than the vault key:
 * the vault key may be used only through S3 and lives in the vault stack, whose key policy a
 * stack of workflows cannot extend, and logs need a different service allowed. `description` is
 * the key's description when this call creates it.
 */
export function logsKeyOf(scope: Construct, description?: string): kms.IKey {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(LOGS_KEY_ID);
  if (isKey(existing)) return existing;
  const key = new kms.Key(stack, LOGS_KEY_ID, {
    description: description ?? `Encrypts the log groups of ${stack.stackName}`,
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
