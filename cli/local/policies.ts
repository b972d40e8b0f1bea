/**
 * The IAM, KMS and resource policies of a synthesized app, and the one question a local run asks
 * of them: may this role make this request? Every policy is read from the templates of all the
 * app's stacks, with its tokens resolved by the same TemplateResolver that names the resources
 * the runner calls, and the request is evaluated by @cloud-copilot/iam-simulate, which applies
 * AWS's evaluation logic: an explicit deny anywhere wins; within the account, an identity policy
 * or the resource's policy may allow; a KMS key is usable only when its key policy allows (itself,
 * or by trusting the account so that identity policies decide).
 *
 * Not evaluated: the AWS managed policies a role attaches by ARN (AWSLambdaBasicExecutionRole,
 * AWSXRayDaemonWriteAccess...), which grant only CloudWatch Logs and X-Ray, and the CloudWatch
 * Logs, X-Ray and CloudWatch metrics calls themselves, which the local run never makes (handlers
 * log to standard output and metrics are disabled). Service control policies, permission
 * boundaries and session policies are not part of the app and are not evaluated.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { getDenialReasons } from '@cloud-copilot/iam-simulate';
import { iamEvaluator } from './iam-evaluator.ts';
import { LOCAL_ACCOUNT, type StackTemplate, type TemplateResolver } from './template.ts';

/** One request as AWS authorizes it. */
export interface AuthorizationRequest {
  /** The role making the request: its local ARN, `arn:aws:iam::000000000000:role/<name>`. */
  readonly principal: string;
  /** The IAM action, e.g. `s3:GetObject`. */
  readonly action: string;
  /** The resource's ARN, e.g. `arn:aws:s3:::<bucket>/<key>`. */
  readonly resource: string;
  /** Request context keys, e.g. `{ 'kms:ViaService': 's3.us-east-1.amazonaws.com' }`. @default - none */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /** The role session's name, shown in the refusal (a function's name, an execution's). @default 'local' */
  readonly session?: string;
}

/** What the evaluator decided, and why in AWS's words when it refused. */
export interface AuthorizationDecision {
  readonly allowed: boolean;
  /** `because no identity-based policy allows the s3:GetObject action`, `with an explicit deny in a resource-based policy`... */
  readonly reason?: string;
}

/**
 * A request the policies refuse. `name` is AWS's error code for the service (`AccessDenied` for
 * S3, `AccessDeniedException` elsewhere), and the message is AWS's: `User: <session ARN> is not
 * authorized to perform: <action> on resource: <ARN> because ...`.
 */
export class AccessDeniedError extends Error {
  constructor(
    readonly request: AuthorizationRequest,
    readonly reason: string,
  ) {
    super(
      `User: ${sessionArn(request)} is not authorized to perform: ${request.action} on resource: ${request.resource} ${reason}`,
    );
    this.name = request.action.startsWith('s3:') ? 'AccessDenied' : 'AccessDeniedException';
  }
}

/** A policy document as the template holds it, resolved. */
type PolicyDocument = Record<string, unknown>;

interface NamedPolicy {
  readonly name: string;
  readonly policy: PolicyDocument;
}

/** The assumed-role session ARN AWS names a role's caller by. */
export function sessionArn(request: Pick<AuthorizationRequest, 'principal' | 'session'>): string {
  const name = request.principal.replace(/^arn:aws:iam::[0-9]*:role\/(?:.*\/)?/, '');
  return `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${name}/${request.session ?? 'local'}`;
}

/** Every role's identity policies and every resource's own policy in the app, resolved. */
export class AppPolicies {
  private readonly identity = new Map<string, NamedPolicy[]>();
  /** Each role's tags, by role ARN: a request carries them as `aws:PrincipalTag/<key>`. */
  private readonly principalTags = new Map<string, Record<string, string>>();
  private readonly resource = new Map<string, PolicyDocument>();
  /** Managed policy ARNs attached by ARN, by role ARN: named in the docs as not evaluated. */
  readonly unevaluatedManagedPolicies = new Map<string, string[]>();
  /** The KMS key ARN of each encrypted topic, secret and bucket default encryption, by resource ARN or name. */
  private readonly keys = new Map<string, string>();
  /** Buckets whose default encryption uses an S3 Bucket Key (the encryption context is the bucket). */
  private readonly bucketKeyBuckets = new Set<string>();

  constructor(
    stacks: readonly StackTemplate[],
    private readonly resolver: TemplateResolver,
    readonly region: string,
  ) {
    for (const stack of stacks) this.read(stack);
  }

  /** The local ARN of a resource's role (`Role` of a function, `RoleArn` of a state machine). */
  roleOf(stackName: string, logicalId: string): string | undefined {
    const stack = this.resolver.stack(stackName);
    const properties = stack?.template.Resources?.[logicalId]?.Properties;
    const role = properties?.Role ?? properties?.RoleArn;
    if (!stack || role === undefined) return undefined;
    return this.resolver.resolveString(role, stack, `${stackName}/${logicalId} role`);
  }

  /** The customer managed key that encrypts a topic, a secret or a bucket by default, if any. */
  keyOf(resourceArnOrName: string): string | undefined {
    return this.keys.get(resourceArnOrName);
  }

  /**
   * The full ARN Secrets Manager authorizes a `SecretId` as. A secret of the app keeps the ARN
   * its `Ref` resolved to; a secret imported by name (`arn:...:secret:<name>`, as
   * `Secret.fromSecretNameV2` names it) gets the `-` and six characters AWS appends to every
   * secret's name, here `-000000`, so that grants written for it (`<name>-??????`) apply.
   */
  secretArn(secretId: string): string {
    if (this.resolver.lookup(secretId)?.kind === 'secret') return secretId;
    return secretId.startsWith('arn:') ? `${secretId}-000000` : secretId;
  }

  /** Whether a bucket's default encryption uses an S3 Bucket Key. */
  usesBucketKey(bucket: string): boolean {
    return this.bucketKeyBuckets.has(bucket);
  }

  /** Evaluates `request` against the role's identity policies and the resource's policy. */
  async check(request: AuthorizationRequest): Promise<AuthorizationDecision> {
    const identityPolicies = this.identity.get(request.principal) ?? [];
    const resourcePolicy = this.resourcePolicyOf(request.resource);
    const evaluator = await iamEvaluator();
    const result = await evaluator.runSimulation(
      {
        request: {
          principal: sessionArn(request),
          action: request.action,
          resource: { resource: request.resource, accountId: LOCAL_ACCOUNT },
          contextVariables: {
            'aws:PrincipalArn': request.principal,
            'aws:PrincipalAccount': LOCAL_ACCOUNT,
            'aws:SecureTransport': 'true',
            ...Object.fromEntries(
              Object.entries(this.principalTags.get(request.principal) ?? {}).map(([k, v]) => [
                `aws:PrincipalTag/${k}`,
                v,
              ]),
            ),
            ...(request.action.startsWith('kms:') ? { 'kms:CallerAccount': LOCAL_ACCOUNT } : {}),
            ...(Object.fromEntries(
              Object.entries(request.context ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : [...v]]),
            ) as Record<string, string | string[]>),
          },
        },
        identityPolicies: identityPolicies.map((p) => ({ name: p.name, policy: p.policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy ? { resourcePolicy } : {}),
      },
      {},
    );
    if (result.resultType === 'error') {
      throw new Error(
        `The policies for ${request.action} on ${request.resource} could not be evaluated: ${result.errors.message} ${JSON.stringify(result.errors)}`,
      );
    }
    if (result.overallResult === 'Allowed') return { allowed: true };
    const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
    return {
      allowed: false,
      reason: describeDenial(request, evaluator.getDenialReasons, analysis, resourcePolicy !== undefined),
    };
  }

  /** Evaluates `request` and throws AccessDeniedError when the policies refuse it. */
  async authorize(request: AuthorizationRequest): Promise<void> {
    const decision = await this.check(request);
    if (!decision.allowed) throw new AccessDeniedError(request, decision.reason ?? '');
  }

  private resourcePolicyOf(resource: string): PolicyDocument | undefined {
    if (resource.startsWith('arn:aws:s3:::')) {
      return this.resource.get(`arn:aws:s3:::${resource.slice('arn:aws:s3:::'.length).split('/')[0]}`);
    }
    return this.resource.get(resource);
  }

  private read(stack: StackTemplate): void {
    const resolve = (value: unknown) => this.resolver.resolve(value, stack);
    for (const [logicalId, r] of Object.entries(stack.template.Resources ?? {})) {
      const p = r.Properties ?? {};
      switch (r.Type) {
        case 'AWS::IAM::Role': {
          const arn = String(this.resolver.resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] }, stack));
          const tags = (p.Tags as { Key: unknown; Value: unknown }[] | undefined) ?? [];
          if (tags.length > 0) {
            this.principalTags.set(
              arn,
              Object.fromEntries(tags.map((t) => [String(resolve(t.Key)), String(resolve(t.Value))])),
            );
          }
          for (const inline of (p.Policies as { PolicyName: unknown; PolicyDocument: unknown }[]) ?? []) {
            this.addIdentity(arn, String(resolve(inline.PolicyName)), resolve(inline.PolicyDocument));
          }
          for (const managed of (p.ManagedPolicyArns as unknown[]) ?? []) {
            const resolved = String(resolve(managed));
            const local = this.resolver.lookup(resolved);
            if (local?.type === 'AWS::IAM::ManagedPolicy') continue; // read with its own resource
            this.unevaluatedManagedPolicies.set(arn, [
              ...(this.unevaluatedManagedPolicies.get(arn) ?? []),
              resolved,
            ]);
          }
          break;
        }
        case 'AWS::IAM::Policy':
        case 'AWS::IAM::ManagedPolicy':
          for (const role of (p.Roles as unknown[]) ?? []) {
            const name = String(resolve(role));
            this.addIdentity(
              `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}`,
              `${stack.stackName}/${logicalId}`,
              resolve(p.PolicyDocument),
            );
          }
          break;
        case 'AWS::S3::BucketPolicy':
          this.resource.set(
            `arn:aws:s3:::${String(resolve(p.Bucket))}`,
            resolve(p.PolicyDocument) as PolicyDocument,
          );
          break;
        case 'AWS::S3::Bucket': {
          const name = String(resolve({ Ref: logicalId }));
          const rules =
            (p.BucketEncryption as { ServerSideEncryptionConfiguration?: unknown[] } | undefined)
              ?.ServerSideEncryptionConfiguration ?? [];
          for (const rule of rules as {
            ServerSideEncryptionByDefault?: { KMSMasterKeyID?: unknown };
            BucketKeyEnabled?: boolean;
          }[]) {
            const key = rule.ServerSideEncryptionByDefault?.KMSMasterKeyID;
            if (key !== undefined) this.keys.set(name, this.keyArn(String(resolve(key))));
            if (rule.BucketKeyEnabled) this.bucketKeyBuckets.add(name);
          }
          break;
        }
        case 'AWS::KMS::Key':
          this.resource.set(
            String(resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] })),
            resolve(p.KeyPolicy) as PolicyDocument,
          );
          break;
        case 'AWS::SNS::Topic':
          if (p.KmsMasterKeyId !== undefined) {
            this.keys.set(
              String(resolve({ Ref: logicalId })),
              this.keyArn(String(resolve(p.KmsMasterKeyId))),
            );
          }
          break;
        case 'AWS::SNS::TopicPolicy':
          for (const topic of (p.Topics as unknown[]) ?? []) {
            this.resource.set(String(resolve(topic)), resolve(p.PolicyDocument) as PolicyDocument);
          }
          break;
        case 'AWS::SNS::TopicInlinePolicy':
          this.resource.set(String(resolve(p.TopicArn)), resolve(p.PolicyDocument) as PolicyDocument);
          break;
        case 'AWS::SecretsManager::Secret':
          if (p.KmsKeyId !== undefined) {
            this.keys.set(String(resolve({ Ref: logicalId })), this.keyArn(String(resolve(p.KmsKeyId))));
          }
          break;
        case 'AWS::SecretsManager::ResourcePolicy':
          this.resource.set(String(resolve(p.SecretId)), resolve(p.ResourcePolicy) as PolicyDocument);
          break;
      }
    }
  }

  /** A key named by id (its `Ref`) or ARN, as its ARN. */
  private keyArn(idOrArn: string): string {
    if (idOrArn.startsWith('arn:')) return idOrArn;
    return `arn:aws:kms:${this.region}:${LOCAL_ACCOUNT}:key/${idOrArn}`;
  }

  private addIdentity(roleArn: string, name: string, document: unknown): void {
    const list = this.identity.get(roleArn) ?? [];
    list.push({ name, policy: document as PolicyDocument });
    this.identity.set(roleArn, list);
  }
}

type Analysis = Parameters<typeof getDenialReasons>[0] | undefined;

function describeDenial(
  request: AuthorizationRequest,
  denialReasons: typeof getDenialReasons,
  analysis: Analysis,
  hasResourcePolicy: boolean,
): string {
  const denials = analysis ? denialReasons(analysis) : [];
  const explicit = denials.find((d) => d.denialType === 'Explicit');
  if (explicit) {
    const where = explicit.policyType === 'resource' ? 'a resource-based policy' : 'an identity-based policy';
    const sid =
      'statementId' in explicit && explicit.statementId ? ` (statement ${explicit.statementId})` : '';
    return `with an explicit deny in ${where}${sid}`;
  }
  if (request.action.startsWith('kms:') && denials.some((d) => d.policyType === 'resource')) {
    return hasResourcePolicy
      ? `because the key policy does not allow the ${request.action} action`
      : `because the key has no key policy that allows the ${request.action} action`;
  }
  return `because no identity-based policy allows the ${request.action} action`;
}

/** The role an in-process handler runs as, and what its stand-ins need to know of it. */
export interface CallerScope {
  /** The role's local ARN. */
  readonly principal: string;
  /** The session name, as the refusal shows it. */
  readonly session: string;
  /** The policies that decide. */
  readonly policies: AppPolicies;
}

const callers = new AsyncLocalStorage<CallerScope>();

/** Runs `body` as `caller`: every AWS call a stand-in sees inside it is authorized for that role. */
export function runAsCaller<T>(caller: CallerScope, body: () => Promise<T>): Promise<T> {
  return callers.run(caller, body);
}

/** The role the current handler invocation runs as, when a policy-enforced run invoked it. */
export function currentCaller(): CallerScope | undefined {
  return callers.getStore();
}
