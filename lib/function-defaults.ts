import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { logsKeyOf } from './logs-key.ts';

/** The repository root; handler entries are given relative to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** CloudFormation metadata key holding a function's entry file, relative to the repository root. */
export const ENTRY_METADATA_KEY = 'sfbackup:entry';
/** CloudFormation metadata key holding the name of a function's exported handler. */
export const HANDLER_METADATA_KEY = 'sfbackup:handler';

/** Gives an ESM bundle a `require` for the CommonJS dependencies esbuild leaves in it. */
export const REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** Props of WorkflowFunction. */
export interface WorkflowFunctionProps {
  /** The handler's source file relative to the repository root, such as 'lambdas/handlers/backup/plan.ts'. */
  readonly entry: string;
  /**
   * The handler's export name.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * What the function does, shown in the console.
   * @default - the entry file and export
   */
  readonly description?: string;
  /**
   * Memory in MB.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * How long one invocation may run.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * Environment variables.
   * @default - only NODE_OPTIONS for source maps
   */
  readonly environment?: Record<string, string>;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Ephemeral /tmp storage.
   * @default - Lambda's default of 512 MiB
   */
  readonly ephemeralStorageSize?: import('aws-cdk-lib').Size;
  /**
   * The name of the function's role, for a role another stack must name before it exists (the
   * vault's bucket policy names the erase roles).
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * The one way this app builds a Lambda function: Node.js 22 on ARM, X-Ray tracing, its own log
 * group with retention, encrypted with the stack's logs key, a role that starts with only its log permissions, and an ESM bundle
 * that leaves the AWS SDK to the runtime. The entry and export are recorded as CloudFormation
 * metadata so the local runner can call the same handler in-process. Its log group, role and
 * tracing policy are created beside it in the same scope, as `<id>Logs`, `<id>Role` and
 * `<id>Tracing`.
 */
export class WorkflowFunction extends nodejs.NodejsFunction {
  /** The entry file relative to the repository root. */
  readonly entryPath: string;
  /** The handler export name. */
  readonly handlerExport: string;

  constructor(scope: Construct, id: string, props: WorkflowFunctionProps) {
    const entry = WorkflowFunction.checkEntry(id, props.entry);
    const handlerExport = props.handler ?? 'handler';
    const description = props.description ?? `${entry} (${handlerExport})`;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: logsKeyOf(scope),
    });
    const role = new iam.Role(scope, `${id}Role`, {
      ...(props.roleName ? { roleName: props.roleName } : {}),
      description: `Runs ${description}`.slice(0, 1000),
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        logs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    const xray = new iam.Policy(scope, `${id}Tracing`, {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    // Kept apart from the role's other policies so this acknowledgement cannot cover a wildcard added later.
    Validations.of(xray).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `${id}Tracing: X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.`,
    });

    super(scope, id, {
      entry: path.join(REPO_ROOT, entry),
      handler: handlerExport,
      description,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(5),
      ephemeralStorageSize: props.ephemeralStorageSize,
      role,
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        platform: 'node',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        banner: REQUIRE_BANNER,
        externalModules: ['@aws-sdk/*'],
      },
    });
    this.node.addDependency(xray);
    this.entryPath = entry;
    this.handlerExport = handlerExport;

    // Tracing is set on the L1 so that its IAM statement stays in the separate policy above.
    const cfn = this.node.defaultChild as lambda.CfnFunction;
    cfn.tracingConfig = { mode: 'Active' };
    cfn.addMetadata(ENTRY_METADATA_KEY, entry);
    cfn.addMetadata(HANDLER_METADATA_KEY, handlerExport);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `${id}: pinned to nodejs22.x, the Node.js the project builds and tests on locally; it moves to a newer runtime together with that toolchain.`,
    });
  }

  /** Normalises the entry and rejects one outside the repository, naming what to write instead. */
  private static checkEntry(id: string, entry: string): string {
    const normalised = path.posix.normalize(entry.replaceAll('\\', '/'));
    if (path.isAbsolute(entry) || normalised.startsWith('..') || !/\.(ts|mts|js|mjs)$/.test(normalised)) {
      throw new Error(
        `WorkflowFunction ${id}: entry is "${entry}"; write a .ts or .js file path relative to the repository root, such as "lambdas/handlers/backup/plan.ts".`,
      );
    }
    return normalised;
  }
}
