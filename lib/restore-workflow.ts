import { type CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, type IConstruct } from 'constructs';
import { WorkflowSchedules } from './backup-schedules.ts';
import { type AppConfig, constructIdOf, type OrgConfig } from './config.ts';
import { WorkflowFunction } from './function-defaults.ts';

/** The handler module of every restore function. */
const HANDLERS = 'lambdas/handlers/restore/handlers.ts';
/** The only prefix of the vault the restore may write. */
const RESTORE_PREFIX = 'restores/';
/** Salesforce errors worth retrying with backoff (named by the adapters' error classes). */
const TRANSIENT_ERRORS = [
  'SalesforceRateLimitError',
  'SalesforceSessionExpiredError',
  'SalesforceTransientError',
  'BulkIngestFailedError',
];

/** A scheduled restore drill into a sandbox. */
export interface RestoreDrillProps {
  /** EventBridge Scheduler expression; monthly in the config's default. */
  readonly schedule: string;
  /**
   * IANA time zone of the expression.
   * @default 'UTC'
   */
  readonly timezone?: string;
  /** Credentials of the sandbox the drill restores into. */
  readonly sandboxSecret: secretsmanager.ISecret;
  /**
   * Login URL of the sandbox when its secret names none.
   * @default 'https://test.salesforce.com'
   */
  readonly sandboxLoginUrl?: string;
  /**
   * Objects the drill restores.
   * @default - every custom object and the main standard objects of the latest snapshot
   */
  readonly objects?: readonly string[];
}

/** Props of RestoreWorkflow. */
export interface RestoreWorkflowProps {
  /** The config name of the org whose backups are restored (its vault prefix). */
  readonly orgName: string;
  /** The vault bucket, read everywhere and written under `restores/` only. */
  readonly bucket: s3.IBucket;
  /** The vault key. */
  readonly key: kms.IKey;
  /** Credentials of the org the restore writes to. */
  readonly orgSecret: secretsmanager.ISecret;
  /**
   * Login URL for the org's credentials when the secret names none.
   * @default 'https://login.salesforce.com'
   */
  readonly loginUrl?: string;
  /** Where failed restores and rows that did not come back are reported. */
  readonly alertTopic: sns.ITopic;
  /**
   * A scheduled drill into a sandbox, with its measured recovery time in the execution output.
   * @default - no drill
   */
  readonly drill?: RestoreDrillProps;
  /**
   * Salesforce API version.
   * @default '62.0'
   */
  readonly apiVersion?: string;
  /**
   * From this many rows in a batch, inserts and updates use Bulk API 2.0 ingest.
   * @default 1000
   */
  readonly bulkThreshold?: number;
}

/**
 * The restore workflow of one org: a Standard state machine started from the console with a
 * JSON input (a dry run by default). It validates the input first and ends at once on a bad
 * one, plans against the live org, stops with the plan on a dry run, otherwise deploys metadata
 * (validated first), restores objects level by level (parents first) with a Distributed Map per
 * level, closes cycles in a second pass, restores files, verifies, and alerts on SNS when rows
 * failed. Its functions may read the vault and write only under `restores/`; they can never
 * delete or alter a backup.
 */
export class RestoreWorkflow extends Construct {
  /** The restore state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** Every function of the workflow, for error alarms. */
  readonly functions: lambda.IFunction[];
  /** The drill schedule, when configured. */
  readonly drillSchedules?: WorkflowSchedules;

  constructor(scope: Construct, id: string, props: RestoreWorkflowProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(props.orgName)) {
      throw new Error(
        `RestoreWorkflow ${id}: orgName is "${props.orgName}"; use the config's org name (letters, digits, "-" or "_").`,
      );
    }
    if (
      props.bulkThreshold !== undefined &&
      (!Number.isInteger(props.bulkThreshold) || props.bulkThreshold < 1)
    ) {
      throw new Error(
        `RestoreWorkflow ${id}: bulkThreshold is ${props.bulkThreshold}; use a whole number of at least 1, such as 1000.`,
      );
    }
    const environment: Record<string, string> = {
      ORG_KEY: props.orgName,
      VAULT_BUCKET: props.bucket.bucketName,
      VAULT_KEY_ARN: props.key.keyArn,
      ORG_SECRET_ARN: props.orgSecret.secretArn,
      SALESFORCE_LOGIN_URL: props.loginUrl ?? 'https://login.salesforce.com',
      SALESFORCE_API_VERSION: props.apiVersion ?? '62.0',
      BULK_THRESHOLD: String(props.bulkThreshold ?? 1000),
      ...(props.drill
        ? {
            DRILL_SECRET_ARN: props.drill.sandboxSecret.secretArn,
            DRILL_LOGIN_URL: props.drill.sandboxLoginUrl ?? 'https://test.salesforce.com',
          }
        : {}),
      ...(props.drill?.objects ? { DRILL_OBJECTS: JSON.stringify(props.drill.objects) } : {}),
    };
    const fn = (name: string, handler: string, description: string, long: boolean) =>
      new WorkflowFunction(this, `${name}Function`, {
        entry: HANDLERS,
        handler,
        description: `the restore of org ${props.orgName}: ${description}`,
        memorySize: long ? 3008 : 1024,
        timeout: long ? Duration.minutes(15) : Duration.minutes(5),
        environment,
      });
    const validateFn = fn(
      'Validate',
      'validate',
      'validates the input against the org and the snapshot',
      false,
    );
    const planFn = fn('Plan', 'plan', 'plans against the live org', true);
    const levelFn = fn('Level', 'level', 'lists the objects of one restore level', false);
    const objectFn = fn('RestoreObject', 'restoreObject', 'restores one object', true);
    const filesFn = fn('RestoreFiles', 'restoreFiles', 'restores files', true);
    const metadataFn = fn('RestoreMetadata', 'restoreMetadata', 'deploys metadata, validated first', false);
    const verifyFn = fn('Verify', 'verify', 'verifies the org against the snapshot', true);
    this.functions = [validateFn, planFn, levelFn, objectFn, filesFn, metadataFn, verifyFn];
    this.grantRestoreAccess(props);

    const failed = new sfn.Fail(this, 'RestoreFailed', {
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    const notifyFailure = new tasks.SnsPublish(this, 'NotifyFailure', {
      topic: props.alertTopic,
      subject: `Restore of Salesforce org ${props.orgName} failed`,
      message: sfn.TaskInput.fromJsonPathAt(
        sfn.JsonPath.format(
          `The restore {} of org ${props.orgName} failed: {}: {}`,
          sfn.JsonPath.stringAt('$$.Execution.Name'),
          sfn.JsonPath.stringAt('$.error.Error'),
          sfn.JsonPath.stringAt('$.error.Cause'),
        ),
      ),
      resultPath: sfn.JsonPath.DISCARD,
    }).next(failed);

    const invoke = (
      stateId: string,
      f: lambda.IFunction,
      payload: Record<string, unknown>,
      resultPath: string,
    ) => {
      const task = new tasks.LambdaInvoke(this, stateId, {
        lambdaFunction: f,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        // "$" is the default; left out, since some interpreters read an explicit "$" as a field name.
        ...(resultPath === '$' ? {} : { resultPath }),
      });
      task.addRetry({
        errors: TRANSIENT_ERRORS,
        interval: Duration.seconds(10),
        maxAttempts: 5,
        backoffRate: 2,
      });
      return task;
    };
    const catchAll = (task: tasks.LambdaInvoke | sfn.DistributedMap) =>
      task.addCatch(notifyFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    const run = sfn.JsonPath.objectAt('$.run');
    // The input is wrapped first so that any input, even one that is not an object, reaches the
    // validation and its rejection can be recorded next to it.
    const readInput = new sfn.Pass(this, 'ReadInput', { parameters: { input: sfn.JsonPath.entirePayload } });
    const validate = invoke(
      'ValidateInput',
      validateFn,
      { input: sfn.JsonPath.objectAt('$.input'), executionName: sfn.JsonPath.stringAt('$$.Execution.Name') },
      '$',
    );
    validate.addCatch(
      new sfn.Fail(this, 'InputRejected', { errorPath: '$.error.Error', causePath: '$.error.Cause' }),
      {
        errors: ['InvalidRestoreRequestError', 'ZodError'],
        resultPath: '$.error',
      },
    );
    catchAll(validate);
    const plan = catchAll(invoke('PlanRestore', planFn, { run }, '$.plan'));

    const dryRunDone = new sfn.Pass(this, 'DryRunPlan', {
      parameters: {
        mode: 'dry-run',
        planKey: sfn.JsonPath.stringAt('$.plan.planKey'),
        totals: sfn.JsonPath.objectAt('$.plan.totals'),
        summary: sfn.JsonPath.stringAt('$.plan.summary'),
      },
    });

    // A dry run with metadata validates it (checkOnly, nothing saved) and reports what it found.
    const startValidation = new sfn.Pass(this, 'StartMetadataValidation', {
      result: sfn.Result.fromObject({ done: false }),
      resultPath: '$.metadata',
    });
    const validateMetadata = catchAll(
      invoke(
        'ValidateMetadata',
        metadataFn,
        { run, progress: sfn.JsonPath.objectAt('$.metadata') },
        '$.metadata',
      ),
    );
    const dryRunValidated = new sfn.Pass(this, 'DryRunPlanValidated', {
      parameters: {
        mode: 'dry-run',
        planKey: sfn.JsonPath.stringAt('$.plan.planKey'),
        totals: sfn.JsonPath.objectAt('$.plan.totals'),
        summary: sfn.JsonPath.format(
          '{}\n  {}',
          sfn.JsonPath.stringAt('$.plan.summary'),
          sfn.JsonPath.stringAt('$.metadata.report'),
        ),
      },
    });
    validateMetadata.next(
      new sfn.Choice(this, 'MetadataValidated')
        .when(sfn.Condition.booleanEquals('$.metadata.done', true), dryRunValidated)
        .otherwise(
          new sfn.Wait(this, 'WaitForValidation', { time: sfn.WaitTime.duration(Duration.seconds(5)) }).next(
            validateMetadata,
          ),
        ),
    );

    // Metadata first: objects and fields must exist before rows can be written into them.
    const startMetadata = new sfn.Pass(this, 'StartMetadata', {
      result: sfn.Result.fromObject({ done: false }),
      resultPath: '$.metadata',
    });
    const metadataStep = catchAll(
      invoke(
        'RestoreMetadata',
        metadataFn,
        { run, progress: sfn.JsonPath.objectAt('$.metadata') },
        '$.metadata',
      ),
    );
    const waitForDeploy = new sfn.Wait(this, 'WaitForDeploy', {
      time: sfn.WaitTime.duration(Duration.seconds(5)),
    });

    const firstLevel = new sfn.Pass(this, 'FirstLevel', {
      result: sfn.Result.fromObject({ level: 0 }),
      resultPath: '$.cursor',
    });
    const nextLevel = catchAll(
      invoke('NextLevel', levelFn, { run, level: sfn.JsonPath.numberAt('$.cursor.level') }, '$.level'),
    );
    const restoreLevel = catchAll(this.objectMap('RestoreLevel', objectFn, '$.level.objects', 'main'));
    const advanceLevel = new sfn.Pass(this, 'AdvanceLevel', {
      parameters: { level: sfn.JsonPath.numberAt('$.level.next') },
      resultPath: '$.cursor',
    });
    const secondPass = catchAll(
      this.objectMap('RestoreSecondPass', objectFn, '$.plan.secondPass', 'second-pass'),
    );
    const files = catchAll(invoke('RestoreFiles', filesFn, { run }, '$.files'));
    const verify = catchAll(invoke('VerifyRestore', verifyFn, { run }, '$.verify'));
    const restored = new sfn.Pass(this, 'Restored', {
      parameters: {
        mode: sfn.JsonPath.stringAt('$.run.mode'),
        planKey: sfn.JsonPath.stringAt('$.plan.planKey'),
        reportKey: sfn.JsonPath.stringAt('$.verify.reportKey'),
        recoveryTimeSeconds: sfn.JsonPath.numberAt('$.verify.recoveryTimeSeconds'),
        summary: sfn.JsonPath.stringAt('$.verify.summary'),
      },
    });
    const notifyMismatch = new tasks.SnsPublish(this, 'NotifyMismatch', {
      topic: props.alertTopic,
      subject: `Restore of Salesforce org ${props.orgName} left rows unrestored`,
      message: sfn.TaskInput.fromJsonPathAt(
        sfn.JsonPath.format(
          `The restore {} of org ${props.orgName} did not bring everything back. {}`,
          sfn.JsonPath.stringAt('$$.Execution.Name'),
          sfn.JsonPath.stringAt('$.verify.summary'),
        ),
      ),
      resultPath: sfn.JsonPath.DISCARD,
    });
    const mismatch = new sfn.Fail(this, 'RestoreDidNotMatch', {
      error: 'RestoreVerificationError',
      causePath: '$.verify.summary',
    });

    const dataRestore = firstLevel.next(nextLevel).next(
      new sfn.Choice(this, 'AllLevelsDone')
        .when(
          sfn.Condition.booleanEquals('$.level.done', true),
          secondPass
            .next(files)
            .next(verify)
            .next(
              new sfn.Choice(this, 'OrgMatchesSnapshot')
                .when(sfn.Condition.booleanEquals('$.verify.matches', true), restored)
                .otherwise(notifyMismatch.next(mismatch)),
            ),
        )
        .otherwise(restoreLevel.next(advanceLevel).next(nextLevel)),
    );
    metadataStep.next(
      new sfn.Choice(this, 'MetadataDone')
        .when(sfn.Condition.booleanEquals('$.metadata.done', true), dataRestore)
        .otherwise(waitForDeploy.next(metadataStep)),
    );
    const definition = readInput
      .next(validate)
      .next(plan)
      .next(
        new sfn.Choice(this, 'IsDryRun')
          .when(
            sfn.Condition.and(
              sfn.Condition.booleanEquals('$.run.dryRun', true),
              sfn.Condition.numberGreaterThan('$.run.metadata', 0),
            ),
            startValidation.next(validateMetadata),
          )
          .when(sfn.Condition.booleanEquals('$.run.dryRun', true), dryRunDone)
          .when(sfn.Condition.numberGreaterThan('$.run.metadata', 0), startMetadata.next(metadataStep))
          .otherwise(dataRestore),
      );

    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment: `Restores Salesforce org ${props.orgName} from its backups; input documented in docs/restore.md`,
      tracingEnabled: true,
      // Execution data stays out of the logs: inputs name records, and outputs summarise them.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    props.alertTopic.grantPublish(this.stateMachine);

    if (props.drill) {
      this.drillSchedules = new WorkflowSchedules(this, 'Drill', {
        stateMachine: this.stateMachine,
        timezone: props.drill.timezone ?? 'UTC',
        alarmTopic: props.alertTopic,
      });
      this.drillSchedules.add({
        id: 'RestoreDrill',
        expression: props.drill.schedule,
        input: { drill: true, snapshot: 'latest' },
        description: `Restore drill of org ${props.orgName} into its sandbox; the output records the recovery time`,
      });
      props.drill.sandboxSecret.grantRead(validateFn);
    }
    this.acknowledge();
  }

  /** A Distributed Map over object names that restores each object until it reports done. */
  private objectMap(
    id: string,
    objectFn: lambda.IFunction,
    itemsPath: string,
    phase: string,
  ): sfn.DistributedMap {
    const step = new tasks.LambdaInvoke(this, `${id}Object`, {
      lambdaFunction: objectFn,
      payloadResponseOnly: true,
    });
    step.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(10),
      maxAttempts: 5,
      backoffRate: 2,
    });
    const done = new sfn.Succeed(this, `${id}ObjectDone`);
    const loop = step.next(
      new sfn.Choice(this, `${id}ObjectFinished`)
        .when(sfn.Condition.booleanEquals('$.done', true), done)
        .otherwise(step),
    );
    const map = new sfn.DistributedMap(this, id, {
      itemsPath,
      itemSelector: {
        run: sfn.JsonPath.objectAt('$.run'),
        object: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
        phase,
        cursor: 0,
      },
      maxConcurrency: 10,
      resultPath: sfn.JsonPath.DISCARD,
    });
    map.itemProcessor(loop);
    return map;
  }

  /** Read the vault, write only the restore prefix, decrypt and encrypt with its key, read the secrets. */
  private grantRestoreAccess(props: RestoreWorkflowProps): void {
    const roles = this.functions.map((f) => f.role).filter((r): r is iam.IRole => r !== undefined);
    const policy = new iam.Policy(this, 'VaultAccess', {
      roles,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadBackups',
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [props.bucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'ListBackups',
          actions: ['s3:ListBucket'],
          resources: [props.bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'WriteRestoreRecords',
          actions: ['s3:PutObject'],
          resources: [props.bucket.arnForObjects(`${RESTORE_PREFIX}*`)],
        }),
        new iam.PolicyStatement({
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
          resources: [props.bucket.bucketArn, props.bucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'UseVaultKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.key.keyArn],
        }),
      ],
    });
    for (const f of this.functions) props.orgSecret.grantRead(f);
    const bucket = arnOf(props.bucket as s3.IBucket & IConstruct);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/*]`,
      reason: `${this.node.path}/VaultAccess: a restore reads any snapshot of its org, whose keys are made at backup time; deletes and lock, lifecycle or versioning changes are explicitly denied.`,
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucket}/${RESTORE_PREFIX}*]`,
      reason: `${this.node.path}/VaultAccess: the restore writes its plans, id map and reports under ${RESTORE_PREFIX} only, with keys made at run time.`,
    });
  }

  private acknowledge(): void {
    const policy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      for (const f of this.functions) {
        Validations.of(policy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${arnOf(f)}:*]`,
          reason: `${this.node.path}/StateMachine: invoking ${f.node.id} includes its versions (<arn>:*), as CDK grants for a Lambda task.`,
        });
      }
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${this.node.path}/StateMachine: X-Ray tracing (PutTraceSegments, GetSamplingRules) has no resource-level permissions.`,
      });
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: `${this.node.path}/StateMachine: publishing to the KMS-encrypted alert topic needs the topic key's GenerateDataKey* actions, scoped to that key.`,
      });
    }
    const mapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (mapPolicy) {
      const stack = Stack.of(this);
      const part = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
      const machine = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${stack.getLogicalId(this.stateMachine.node.defaultChild as CfnElement)}"}]}]}`;
      const base = `arn:<AWS::Partition>:states:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:execution:${machine}`;
      for (const suffix of [':*', '/*:*']) {
        Validations.of(mapPolicy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${base}${suffix}]`,
          reason: `${this.node.path}/StateMachine: the Distributed Maps start and stop child executions of this state machine, whose names are made at run time.`,
        });
      }
    }
  }
}

/**
 * How cdk-nag names an ARN in its findings: `<LogicalId.Arn>` for a resource of the app, the
 * export name for one imported with `Fn::ImportValue`.
 */
function arnOf(
  resource: IConstruct & { readonly bucketArn?: string; readonly functionArn?: string },
): string {
  const arn = resource.bucketArn ?? resource.functionArn;
  const resolved = arn === undefined ? undefined : (Stack.of(resource).resolve(arn) as unknown);
  if (typeof resolved === 'string') return resolved;
  const value = resolved as { 'Fn::ImportValue'?: unknown; 'Fn::GetAtt'?: unknown[] } | undefined;
  if (typeof value?.['Fn::ImportValue'] === 'string') return value['Fn::ImportValue'];
  if (Array.isArray(value?.['Fn::GetAtt'])) return `<${String(value['Fn::GetAtt'][0])}.Arn>`;
  const element = resource.node.defaultChild as CfnElement | undefined;
  return element ? `<${Stack.of(element).getLogicalId(element)}.Arn>` : resource.node.path;
}

/** What `addRestoreWorkflows` needs of the app stack. */
export interface RestoreWorkflowHost extends Construct {
  readonly config: AppConfig;
  readonly vault: { readonly bucket: s3.IBucket; readonly key: kms.IKey };
  readonly alerting: { readonly topic: sns.ITopic };
  wireRestoreWorkflow(
    org: OrgConfig,
    stateMachine: sfn.IStateMachine,
    functions?: readonly lambda.IFunction[],
  ): void;
}

/**
 * Builds one restore workflow per org of the config in the app stack, with its drill when the
 * org's config has one, and wires each to the alerting.
 */
export function addRestoreWorkflows(host: RestoreWorkflowHost): RestoreWorkflow[] {
  return host.config.orgs.map((org) => {
    const id = constructIdOf(org.name);
    const secret = (name: string, suffix: string) =>
      secretsmanager.Secret.fromSecretNameV2(host, `${id}${suffix}`, name);
    const sandbox = org.restoreDrill
      ? host.config.orgs.find((o) => o.name === org.restoreDrill?.sandboxOrg)
      : undefined;
    const workflow = new RestoreWorkflow(host, `${id}Restore`, {
      orgName: org.name,
      bucket: host.vault.bucket,
      key: host.vault.key,
      orgSecret: secret(org.secretName, 'RestoreOrgSecret'),
      loginUrl: org.loginUrl,
      alertTopic: host.alerting.topic,
      ...(org.restoreDrill && sandbox
        ? {
            drill: {
              schedule: org.restoreDrill.schedule,
              timezone: org.schedules.timezone,
              sandboxSecret: secret(sandbox.secretName, 'RestoreDrillSecret'),
              sandboxLoginUrl: sandbox.loginUrl,
              ...(org.restoreDrill.objects ? { objects: org.restoreDrill.objects } : {}),
            },
          }
        : {}),
    });
    host.wireRestoreWorkflow(org, workflow.stateMachine, workflow.functions);
    return workflow;
  });
}
