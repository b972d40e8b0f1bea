import { Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';

/** One cdk-nag finding id and why it is accepted. */
export interface Acknowledgement {
  /** The finding, such as 'AwsSolutions-IAM5[Resource::*]'. */
  readonly id: string;
  /** Why the finding is accepted, naming the construct it covers. */
  readonly reason: string;
}

/**
 * How cdk-nag writes an ARN token in a finding id: the export name of an imported ARN,
 * `<LogicalId.Arn>` for a resource of the app, the ARN itself when it is a plain string.
 */
export function nagArnOf(scope: IConstruct, arn: string): string {
  const resolved = Stack.of(scope).resolve(arn) as unknown;
  if (typeof resolved === 'string') return resolved;
  const value = resolved as { 'Fn::ImportValue'?: unknown; 'Fn::GetAtt'?: unknown[] };
  if (typeof value['Fn::ImportValue'] === 'string') return value['Fn::ImportValue'];
  if (Array.isArray(value['Fn::GetAtt'])) return `<${String(value['Fn::GetAtt'][0])}.Arn>`;
  return JSON.stringify(resolved);
}

/**
 * Acknowledges the wildcards of a workflow state machine's role: each function's versions, which
 * CDK grants with a Lambda task, the services without resource-level permissions, and `more`.
 */
export function acknowledgeStateMachineRole(
  stateMachine: sfn.StateMachine,
  functions: readonly lambda.IFunction[],
  more: readonly Acknowledgement[] = [],
): void {
  const policy = stateMachine.role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  const path = stateMachine.node.path;
  for (const f of functions) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArnOf(f, f.functionArn)}:*]`,
      reason: `${path}: invoking ${f.node.id} includes its versions (<arn>:*), as CDK grants for a Lambda task.`,
    });
  }
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `${path}: X-Ray tracing and CloudWatch Logs delivery have no resource-level permissions.`,
  });
  for (const ack of more) Validations.of(policy).acknowledge(ack);
}

/**
 * Acknowledges the policy CDK adds for a state machine's Distributed Maps: they start and stop
 * child executions of the state machine itself, whose names exist only at run time.
 */
export function acknowledgeDistributedMaps(stateMachine: sfn.StateMachine): void {
  const mapPolicy = stateMachine.node.tryFindChild('DistributedMapPolicy');
  if (!mapPolicy) return;
  const stack = Stack.of(stateMachine);
  const name = JSON.stringify(stack.resolve(Fn.select(6, Fn.split(':', stateMachine.stateMachineArn))));
  const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  const base = `arn:<AWS::Partition>:states:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:execution:${name}`;
  for (const suffix of [':*', '/*:*']) {
    Validations.of(mapPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${base}${suffix}]`,
      reason: `${stateMachine.node.path}: the Distributed Maps start and stop child executions of this state machine, whose names are made at run time.`,
    });
  }
}
