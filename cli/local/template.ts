/**
 * Resolves the CloudFormation intrinsic functions of a synthesized CDK app into plain values that
 * name local stand-ins, so that a state machine definition and a function's environment can be
 * used without an AWS account.
 */

/** A CloudFormation template as the cloud assembly holds it. */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { readonly Default?: unknown }>;
  readonly Outputs?: Record<
    string,
    { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }
  >;
}

/** One resource of a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** A stack template with the name the assembly knows it by. */
export interface StackTemplate {
  readonly stackName: string;
  readonly template: CfnTemplate;
}

/** The account and region the local names pretend to live in. */
export const LOCAL_ACCOUNT = '000000000000';

/** Resource kinds whose local names the runner needs to recognise. */
export type LocalResourceKind =
  | 'function'
  | 'topic'
  | 'bucket'
  | 'role'
  | 'key'
  | 'secret'
  | 'state-machine'
  | 'other';

const KINDS: Readonly<Record<string, LocalResourceKind>> = {
  'AWS::Lambda::Function': 'function',
  'AWS::SNS::Topic': 'topic',
  'AWS::S3::Bucket': 'bucket',
  'AWS::IAM::Role': 'role',
  'AWS::KMS::Key': 'key',
  'AWS::SecretsManager::Secret': 'secret',
  'AWS::StepFunctions::StateMachine': 'state-machine',
};

/** A resource a resolved value referred to. */
export interface LocalResource {
  readonly kind: LocalResourceKind;
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
}

/** A reference the resolver cannot turn into a value. */
export class UnresolvableTokenError extends Error {
  override readonly name = 'UnresolvableTokenError';
}

/**
 * Turns intrinsic functions into local values: a Lambda function's ARN becomes
 * `arn:aws:lambda:<region>:000000000000:function:<stack>-<logicalId>`, a topic's ARN
 * `arn:aws:sns:<region>:000000000000:<stack>-<logicalId>`, a bucket's name its lower-cased
 * `<stack>-<logicalId>` (or the name given in `bucketNames`). Roles, KMS keys, secrets and state
 * machines get the names and ARNs AWS gives them (a role's ARN `arn:aws:iam::000000000000:role/<name>`,
 * a key's `arn:aws:kms:<region>:000000000000:key/<id>`, a secret's and a state machine's ARN as
 * their `Ref`), so that the policies of the template name the same resources the runner calls.
 * Every value resolved to a local name is remembered in `resources`, so a later lookup by ARN or
 * name finds the resource.
 */
export class TemplateResolver {
  /** Every local name or ARN handed out, to the resource it stands for. */
  readonly resources = new Map<string, LocalResource>();
  private readonly exports = new Map<string, { stack: StackTemplate; value: unknown }>();
  private readonly stacks = new Map<string, StackTemplate>();

  constructor(
    stacks: readonly StackTemplate[],
    private readonly region: string,
    private readonly bucketNames: Readonly<Record<string, string>> = {},
  ) {
    for (const stack of stacks) {
      this.stacks.set(stack.stackName, stack);
      for (const output of Object.values(stack.template.Outputs ?? {})) {
        const name = output.Export?.Name;
        if (typeof name === 'string') this.exports.set(name, { stack, value: output.Value });
      }
    }
  }

  /** Resolves every intrinsic function inside `value`, in the context of `stack`. */
  resolve(value: unknown, stack: StackTemplate): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, stack));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [only] = entries;
    if (entries.length === 1 && only && (only[0] === 'Ref' || only[0].startsWith('Fn::'))) {
      return this.intrinsic(only[0], only[1], stack);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v, stack)]));
  }

  /** Resolves a value that must come out as a string. */
  resolveString(value: unknown, stack: StackTemplate, where: string): string {
    const resolved = this.resolve(value, stack);
    if (typeof resolved !== 'string') {
      throw new UnresolvableTokenError(`${where} resolved to ${JSON.stringify(resolved)}, not a string.`);
    }
    return resolved;
  }

  /** The resource a local ARN or name stands for, if the resolver handed it out. */
  lookup(nameOrArn: string): LocalResource | undefined {
    return this.resources.get(nameOrArn);
  }

  /** The template of a stack by name. */
  stack(stackName: string): StackTemplate | undefined {
    return this.stacks.get(stackName);
  }

  /** The local ARN of a Lambda function resource. */
  functionArn(stack: StackTemplate, logicalId: string): string {
    return this.remember(
      `arn:aws:lambda:${this.region}:${LOCAL_ACCOUNT}:function:${stack.stackName}-${logicalId}`,
      stack,
      logicalId,
    );
  }

  private intrinsic(fn: string, arg: unknown, stack: StackTemplate): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(String(arg), stack);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        return this.getAtt(String(logicalId), String(attribute), stack);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        const resolved = this.resolve(parts, stack);
        if (!Array.isArray(resolved)) throw new UnresolvableTokenError('Fn::Join needs a list of parts.');
        return resolved.map((p) => String(p)).join(separator);
      }
      case 'Fn::Sub':
        return this.sub(arg, stack);
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const resolvedList = this.resolve(list, stack);
        const i = Number(this.resolve(index, stack));
        if (!Array.isArray(resolvedList) || resolvedList[i] === undefined) {
          throw new UnresolvableTokenError(`Fn::Select index ${i} is outside the list.`);
        }
        return resolvedList[i];
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return this.resolveString(source, stack, 'Fn::Split source').split(separator);
      }
      case 'Fn::ImportValue': {
        const name = this.resolveString(arg, stack, 'Fn::ImportValue name');
        const exported = this.exports.get(name);
        if (!exported) {
          throw new UnresolvableTokenError(
            `No stack of the app exports "${name}"; build every stack of the app before resolving its definitions.`,
          );
        }
        return this.resolve(exported.value, exported.stack);
      }
      default:
        throw new UnresolvableTokenError(
          `The intrinsic function ${fn} is not supported by the local runner.`,
        );
    }
  }

  private ref(name: string, stack: StackTemplate): unknown {
    switch (name) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return LOCAL_ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack.stackName;
      case 'AWS::NoValue':
        return undefined;
    }
    const parameter = stack.template.Parameters?.[name];
    if (parameter && !stack.template.Resources?.[name]) {
      if (parameter.Default === undefined) {
        throw new UnresolvableTokenError(
          `Parameter ${name} of stack ${stack.stackName} has no default to run with.`,
        );
      }
      return parameter.Default;
    }
    const resource = this.resourceOf(stack, name);
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        return this.remember(this.declaredName(stack, name, 'RoleName'), stack, name);
      case 'AWS::Lambda::Function':
        return this.remember(`${stack.stackName}-${name}`, stack, name);
      case 'AWS::SNS::Topic':
        return this.topicArn(stack, name);
      case 'AWS::S3::Bucket':
        return this.bucketName(stack, name);
      case 'AWS::Lambda::Version':
      case 'AWS::Lambda::Alias':
        return this.resolve(resource.Properties?.FunctionName, stack);
      case 'AWS::SecretsManager::Secret':
      case 'AWS::StepFunctions::StateMachine':
        return this.getAtt(name, 'Arn', stack);
      default:
        return this.remember(`${stack.stackName}-${name}`, stack, name);
    }
  }

  private getAtt(logicalId: string, attribute: string, stack: StackTemplate): unknown {
    const resource = this.resourceOf(stack, logicalId);
    if (attribute === 'Arn') {
      switch (resource.Type) {
        case 'AWS::Lambda::Function':
          return this.functionArn(stack, logicalId);
        case 'AWS::SNS::Topic':
          return this.topicArn(stack, logicalId);
        case 'AWS::S3::Bucket':
          return `arn:aws:s3:::${this.bucketName(stack, logicalId)}`;
        case 'AWS::IAM::Role':
          return this.remember(
            `arn:aws:iam::${LOCAL_ACCOUNT}:role/${this.declaredName(stack, logicalId, 'RoleName')}`,
            stack,
            logicalId,
          );
        case 'AWS::KMS::Key':
          return this.remember(
            `arn:aws:kms:${this.region}:${LOCAL_ACCOUNT}:key/${this.ref(logicalId, stack)}`,
            stack,
            logicalId,
          );
        case 'AWS::SecretsManager::Secret':
          return this.remember(
            `arn:aws:secretsmanager:${this.region}:${LOCAL_ACCOUNT}:secret:${this.declaredName(stack, logicalId, 'Name')}`,
            stack,
            logicalId,
          );
        case 'AWS::StepFunctions::StateMachine':
          return this.remember(
            `arn:aws:states:${this.region}:${LOCAL_ACCOUNT}:stateMachine:${this.declaredName(stack, logicalId, 'StateMachineName')}`,
            stack,
            logicalId,
          );
      }
      const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'local';
      return this.remember(
        `arn:aws:${service}:${this.region}:${LOCAL_ACCOUNT}:${stack.stackName}-${logicalId}`,
        stack,
        logicalId,
      );
    }
    if (resource.Type === 'AWS::SNS::Topic' && attribute === 'TopicName') {
      return `${stack.stackName}-${logicalId}`;
    }
    return this.remember(`${stack.stackName}-${logicalId}.${attribute}`, stack, logicalId);
  }

  private sub(arg: unknown, stack: StackTemplate): string {
    const [text, variables] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg), {}];
    return text.replace(/\$\{([^}]+)\}/g, (_match, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in variables) return String(this.resolve(variables[name], stack));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) {
        return String(this.getAtt(name.slice(0, dot), name.slice(dot + 1), stack));
      }
      return String(this.ref(name, stack));
    });
  }

  /** The name the template gives a resource in `property`, or `<stack>-<logicalId>`. */
  private declaredName(stack: StackTemplate, logicalId: string, property: string): string {
    const declared = this.resourceOf(stack, logicalId).Properties?.[property];
    return declared !== undefined ? String(this.resolve(declared, stack)) : `${stack.stackName}-${logicalId}`;
  }

  private topicArn(stack: StackTemplate, logicalId: string): string {
    return this.remember(
      `arn:aws:sns:${this.region}:${LOCAL_ACCOUNT}:${stack.stackName}-${logicalId}`,
      stack,
      logicalId,
    );
  }

  private bucketName(stack: StackTemplate, logicalId: string): string {
    // A bucket given an explicit name in the template keeps it, as Ref would return it.
    const declared = this.resourceOf(stack, logicalId).Properties?.BucketName;
    const name =
      this.bucketNames[logicalId] ??
      (declared !== undefined ? String(this.resolve(declared, stack)) : undefined) ??
      `${stack.stackName}-${logicalId}`.toLowerCase();
    return this.remember(name, stack, logicalId);
  }

  private resourceOf(stack: StackTemplate, logicalId: string): CfnResource {
    const resource = stack.template.Resources?.[logicalId];
    if (!resource) {
      throw new UnresolvableTokenError(
        `Stack ${stack.stackName} has no resource or parameter "${logicalId}".`,
      );
    }
    return resource;
  }

  private remember(value: string, stack: StackTemplate, logicalId: string): string {
    const type = this.resourceOf(stack, logicalId).Type;
    const kind = KINDS[type] ?? 'other';
    this.resources.set(value, { kind, stackName: stack.stackName, logicalId, type });
    return value;
  }
}
