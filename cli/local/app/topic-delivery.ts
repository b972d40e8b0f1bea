/**
 * Whether an AWS service may deliver to an encrypted SNS topic of the app: EventBridge for a
 * rule's target, CloudWatch for an alarm's action. AWS lets a service principal publish only
 * when the topic's policy allows it `sns:Publish`, and lets it encrypt for the topic only when
 * the topic key's policy allows it `kms:GenerateDataKey*` and `kms:Decrypt`. Both are evaluated
 * with @cloud-copilot/iam-simulate (the evaluator the local policies use), with the request
 * context the service sends: EventBridge's publish carries `aws:SourceArn` (the rule) and
 * `aws:SourceAccount`; its KMS calls for SNS carry neither; CloudWatch's carry both.
 */
import { iamEvaluator } from '../iam-evaluator.ts';
import { LOCAL_ACCOUNT, type StackTemplate, type TemplateResolver } from '../template.ts';

/** A service's delivery to a topic. */
export interface TopicDeliveryRequest {
  readonly service: 'events.amazonaws.com' | 'cloudwatch.amazonaws.com';
  readonly topicArn: string;
  /** The rule's or alarm's ARN. */
  readonly sourceArn: string;
}

type PolicyDocument = Record<string, unknown>;

/** The topic policies and key policies of an app, resolved, and the one question asked of them. */
export class TopicDeliveryPolicies {
  private readonly topicPolicies = new Map<string, PolicyDocument>();
  private readonly topicKeys = new Map<string, string>();
  private readonly keyPolicies = new Map<string, PolicyDocument>();

  constructor(stacks: readonly StackTemplate[], resolver: TemplateResolver) {
    for (const stack of stacks) {
      const resolve = (value: unknown) => resolver.resolve(value, stack);
      for (const [logicalId, r] of Object.entries(stack.template.Resources ?? {})) {
        const p = r.Properties ?? {};
        if (r.Type === 'AWS::SNS::TopicPolicy') {
          for (const topic of (p.Topics as unknown[]) ?? []) {
            this.topicPolicies.set(String(resolve(topic)), resolve(p.PolicyDocument) as PolicyDocument);
          }
        } else if (r.Type === 'AWS::SNS::Topic' && p.KmsMasterKeyId !== undefined) {
          this.topicKeys.set(String(resolve({ Ref: logicalId })), String(resolve(p.KmsMasterKeyId)));
        } else if (r.Type === 'AWS::KMS::Key') {
          this.keyPolicies.set(
            String(resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] })),
            resolve(p.KeyPolicy) as PolicyDocument,
          );
        }
      }
    }
  }

  /** Why AWS would refuse the delivery, in its terms, or undefined when it would go through. */
  async refusal(request: TopicDeliveryRequest): Promise<string | undefined> {
    const sourceContext = { 'aws:SourceArn': request.sourceArn, 'aws:SourceAccount': LOCAL_ACCOUNT };
    const publish = await this.allowed(
      request.service,
      'sns:Publish',
      request.topicArn,
      this.topicPolicies.get(request.topicArn),
      sourceContext,
    );
    if (!publish)
      return `the topic policy does not allow ${request.service} to call sns:Publish on ${request.topicArn}`;
    const key = this.topicKeys.get(request.topicArn);
    if (key === undefined || !key.startsWith('arn:aws:kms:')) return undefined;
    const keyContext = request.service === 'events.amazonaws.com' ? {} : sourceContext;
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      if (!(await this.allowed(request.service, action, key, this.keyPolicies.get(key), keyContext))) {
        return `the key policy of ${key} does not allow ${request.service} to call ${action}, so the topic cannot encrypt the message`;
      }
    }
    return undefined;
  }

  private async allowed(
    principal: string,
    action: string,
    resource: string,
    resourcePolicy: PolicyDocument | undefined,
    context: Record<string, string>,
  ): Promise<boolean> {
    if (!resourcePolicy) return false;
    const { runSimulation } = await iamEvaluator();
    const result = await runSimulation(
      {
        request: {
          principal,
          action,
          resource: { resource, accountId: LOCAL_ACCOUNT },
          contextVariables: { 'aws:SecureTransport': 'true', ...context },
        },
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy,
      },
      {},
    );
    if (result.resultType === 'error') {
      throw new Error(
        `The policies for ${action} on ${resource} could not be evaluated: ${JSON.stringify(result.errors)}`,
      );
    }
    return result.overallResult === 'Allowed';
  }
}
