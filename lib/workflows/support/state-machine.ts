import { Fn, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { DEFAULT_API_VERSION, EnvName } from '../../../contract/workflow-contract.ts';
import { logsKeyOf } from '../../logs-key.ts';

/** The prefix of log groups Step Functions delivers to without the CloudWatch Logs resource policy. */
export const VENDED_STATES_LOGS = '/aws/vendedlogs/states/';

/** What every workflow function needs to reach the vault and the org. */
export interface VaultEnvironmentProps {
  /** The vault bucket. */
  readonly bucket: s3.IBucket;
  /** The vault key. */
  readonly key: kms.IKey;
  /** The org's credentials. */
  readonly orgSecret: secretsmanager.ISecret;
  /** The login URL used when the secret names none. */
  readonly loginUrl: string;
  /** Salesforce API version. @default DEFAULT_API_VERSION */
  readonly apiVersion?: string;
}

/** The environment variables, named by the contract, through which a function finds the vault and the org. */
export function vaultEnvironment(props: VaultEnvironmentProps): Record<string, string> {
  return {
    [EnvName.VaultBucket]: props.bucket.bucketName,
    [EnvName.VaultKeyArn]: props.key.keyArn,
    [EnvName.OrgSecretArn]: props.orgSecret.secretArn,
    [EnvName.LoginUrl]: props.loginUrl,
    [EnvName.ApiVersion]: props.apiVersion ?? DEFAULT_API_VERSION,
  };
}

/**
 * A workflow's Standard state machine, `StateMachine` in `scope`, with X-Ray tracing and every
 * state transition logged to `ExecutionLogs` (kept a year, retained on delete, encrypted with the
 * stack's logs key) without execution data: inputs name records, and states carry keys and counts
 * only.
 *
 * The log group is named under `/aws/vendedlogs/states/`. Step Functions delivers logs through
 * CloudWatch Logs' vended-logs delivery, which adds every other log group's ARN to the account's
 * one CloudWatch Logs resource policy, capped at 5,120 characters: at about two state machines per
 * org that cap is reached near 20 orgs and the next state machine fails to create. Log groups under
 * `/aws/vendedlogs/` need no entry there. The name ends with the stack's UUID, so that a log group
 * retained from a deleted stack of the same name never clashes with the new one.
 */
export function workflowStateMachine(
  scope: Construct,
  props: { readonly definition: sfn.IChainable; readonly comment: string },
): sfn.StateMachine {
  const stackUuid = Fn.select(2, Fn.split('/', Stack.of(scope).stackId));
  const logGroup = new logs.LogGroup(scope, 'ExecutionLogs', {
    logGroupName: Fn.join('', [
      VENDED_STATES_LOGS,
      Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' }),
      '-',
      stackUuid,
    ]),
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
    encryptionKey: logsKeyOf(scope),
  });
  return new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    comment: props.comment,
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });
}
