/**
 * Turns a state machine of a CDK app built in this process into the ASL the runner executes,
 * plus what it needs to stand in for the resources the definition names.
 */
import { type Stack, Stage } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { AslDefinition } from './asl.ts';
import {
  type CfnTemplate,
  type StackTemplate,
  TemplateResolver,
  UnresolvableTokenError,
} from './template.ts';

/** Metadata key naming a function's entry file, relative to the project root. */
export const ENTRY_METADATA = 'sfbackup:entry';
/** Metadata key naming the export of the entry file that is the handler. */
export const HANDLER_METADATA = 'sfbackup:handler';

/** A Lambda function of the app as the runner calls it in-process. */
export interface LocalFunction {
  readonly logicalId: string;
  readonly stackName: string;
  /** The local ARN the definition refers to it by. */
  readonly arn: string;
  /** Entry file relative to the project root, from the `sfbackup:entry` metadata. */
  readonly entry: string;
  /** Export name of the handler, from the `sfbackup:handler` metadata. */
  readonly handler: string;
  /** The function's environment from the template, with references resolved to local names. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
}

/** A synthesized state machine, resolved for local execution. */
export interface SynthesizedWorkflow {
  readonly stateMachineLogicalId: string;
  readonly stackName: string;
  readonly definition: AslDefinition;
  /** Finds the function a local ARN or name (as the definition holds it) stands for. */
  findFunction(nameOrArn: string): LocalFunction | undefined;
  /** Every function of the app that carries entry metadata, by logical id. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /** What a local name or ARN of the definition stands for (topic, bucket, function...). */
  readonly resolver: TemplateResolver;
  /** Every stack of the app, as synthesized: where the policies a run may enforce are read from. */
  readonly stacks: readonly StackTemplate[];
}

/** Options for `synthesizeDefinition`. */
export interface SynthesizeOptions {
  /** Region the local ARNs pretend to be in. @default 'us-east-1' */
  readonly region?: string;
  /**
   * Local names for buckets, by logical id (e.g. `{ VaultBucketABC123: 'vault' }`).
   * @default - the lower-cased `<stack name>-<logical id>`
   */
  readonly bucketNames?: Readonly<Record<string, string>>;
}

/** The app could not be synthesized. */
export class SynthesisFailedError extends Error {
  override readonly name = 'SynthesisFailedError';
}

/** The state machine named could not be found in the stack. */
export class StateMachineNotFoundError extends Error {
  override readonly name = 'StateMachineNotFoundError';
}

/**
 * What a synthesis leaves that the runner needs, as plain JSON: the app's templates and which
 * state machine to run. It is what the CLI keeps on disk, since synthesis takes seconds and
 * `workflowFromTemplates` turns it back into a workflow in milliseconds.
 */
export interface SynthesizedTemplates {
  readonly stacks: readonly StackTemplate[];
  /** The stack that holds the state machine. */
  readonly stackName: string;
  readonly stateMachineLogicalId: string;
  readonly region: string;
  readonly bucketNames: Readonly<Record<string, string>>;
}

/**
 * Synthesizes the app `stack` belongs to (build it with the context `aws:cdk:bundling-stacks`
 * set to `[]` so no function is bundled) and returns the named state machine's definition with
 * every token resolved to a local name. `stateMachine` is the construct, its logical id, or its
 * construct id; it may be omitted when the stack holds exactly one state machine.
 */
export function synthesizeDefinition(
  stack: Stack,
  stateMachine?: IConstruct | string,
  options: SynthesizeOptions = {},
): SynthesizedWorkflow {
  return workflowFromTemplates(synthesizeTemplates(stack, stateMachine, options));
}

/** Synthesizes the app `stack` belongs to and names the state machine to run (see `synthesizeDefinition`). */
export function synthesizeTemplates(
  stack: Stack,
  stateMachine?: IConstruct | string,
  options: SynthesizeOptions = {},
): SynthesizedTemplates {
  const stage = Stage.of(stack);
  if (!stage) throw new StateMachineNotFoundError(`Stack ${stack.stackName} is not part of an app.`);
  let assembly: ReturnType<Stage['synth']>;
  try {
    assembly = stage.synth();
  } catch (error) {
    throw new SynthesisFailedError(
      `The app of stack ${stack.stackName} did not synthesize: ${(error as Error).message}. ` +
        'For a local run, build the app without validation plugins such as cdk-nag (buildApp(config, app, { nag: false })).',
    );
  }
  const stacks: StackTemplate[] = assembly.stacks.map((artifact) => ({
    stackName: artifact.stackName,
    template: artifact.template as CfnTemplate,
  }));
  const own = stacks.find((s) => s.stackName === stack.stackName);
  if (!own) throw new StateMachineNotFoundError(`The cloud assembly holds no stack ${stack.stackName}.`);
  return {
    stacks,
    stackName: own.stackName,
    stateMachineLogicalId: findStateMachine(stack, own, stateMachine),
    region: options.region ?? 'us-east-1',
    bucketNames: options.bucketNames ?? {},
  };
}

/** The workflow the runner executes, from a synthesis' templates (fresh or read back from disk). */
export function workflowFromTemplates(synthesized: SynthesizedTemplates): SynthesizedWorkflow {
  const { stacks, stateMachineLogicalId: logicalId } = synthesized;
  const own = stacks.find((s) => s.stackName === synthesized.stackName);
  if (!own) throw new StateMachineNotFoundError(`The templates hold no stack ${synthesized.stackName}.`);
  const resolver = new TemplateResolver(stacks, synthesized.region, synthesized.bucketNames);
  const properties = own.template.Resources?.[logicalId]?.Properties ?? {};
  const definition = readDefinition(resolver, own, properties, logicalId);

  const functions = new Map<string, LocalFunction>();
  for (const s of stacks) {
    for (const [id, resource] of Object.entries(s.template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const entry = resource.Metadata?.[ENTRY_METADATA];
      if (typeof entry !== 'string') continue;
      const props = resource.Properties ?? {};
      const variables = (props.Environment as { Variables?: unknown } | undefined)?.Variables ?? {};
      const environment = resolver.resolve(variables, s) as Record<string, unknown>;
      functions.set(id, {
        logicalId: id,
        stackName: s.stackName,
        arn: resolver.functionArn(s, id),
        entry,
        handler: String(resource.Metadata?.[HANDLER_METADATA] ?? 'handler'),
        environment: Object.fromEntries(
          Object.entries(environment)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [k, String(v)]),
        ),
        timeoutSeconds: Number(props.Timeout ?? 3),
        memorySize: Number(props.MemorySize ?? 128),
      });
      resolver.resolve({ Ref: id }, s);
    }
  }

  return {
    stateMachineLogicalId: logicalId,
    stackName: own.stackName,
    definition,
    functions,
    resolver,
    stacks,
    findFunction(nameOrArn) {
      // A qualified ARN (`...:function:name:alias`) or a bare name both lead to the function.
      const unqualified = nameOrArn.replace(/^(arn:aws:lambda:[^:]*:[^:]*:function:[^:]+):.+$/, '$1');
      const resource = resolver.lookup(unqualified);
      if (resource?.kind !== 'function') return undefined;
      return functions.get(resource.logicalId);
    },
  };
}

function findStateMachine(stack: Stack, template: StackTemplate, wanted?: IConstruct | string): string {
  const machines = Object.entries(template.template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map(([id]) => id);
  if (wanted === undefined) {
    const [only] = machines;
    if (machines.length === 1 && only) return only;
    throw new StateMachineNotFoundError(
      `Stack ${stack.stackName} holds ${machines.length} state machines (${machines.join(', ') || 'none'}); name the one to run.`,
    );
  }
  if (typeof wanted !== 'string') {
    const resource = wanted.node.defaultChild ?? wanted;
    const id = stack.getLogicalId(resource as Parameters<Stack['getLogicalId']>[0]);
    if (machines.includes(id)) return id;
    throw new StateMachineNotFoundError(
      `${wanted.node.path} is not a state machine of stack ${stack.stackName}.`,
    );
  }
  if (machines.includes(wanted)) return wanted;
  const byConstructId = stack.node.tryFindChild(wanted);
  if (byConstructId) return findStateMachine(stack, template, byConstructId);
  throw new StateMachineNotFoundError(
    `Stack ${stack.stackName} has no state machine "${wanted}"; it has: ${machines.join(', ') || 'none'}.`,
  );
}

function readDefinition(
  resolver: TemplateResolver,
  stack: StackTemplate,
  properties: Record<string, unknown>,
  logicalId: string,
): AslDefinition {
  const where = `${stack.stackName}/${logicalId}`;
  let text: string;
  if (properties.DefinitionString !== undefined) {
    text = resolver.resolveString(properties.DefinitionString, stack, `${where} DefinitionString`);
  } else if (properties.Definition !== undefined) {
    text = JSON.stringify(resolver.resolve(properties.Definition, stack));
  } else {
    throw new UnresolvableTokenError(`${where} has neither DefinitionString nor Definition.`);
  }
  const substitutions = resolver.resolve(properties.DefinitionSubstitutions ?? {}, stack) as Record<
    string,
    unknown
  >;
  for (const [key, value] of Object.entries(substitutions)) {
    text = text.split(`\${${key}}`).join(String(value));
  }
  try {
    return JSON.parse(text) as AslDefinition;
  } catch (error) {
    throw new UnresolvableTokenError(`${where} did not resolve to JSON: ${(error as Error).message}`);
  }
}
