import { type CfnElement, Duration, Fn, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { type AppConfig, constructIdOf, type OrgConfig } from './config.ts';
import { WorkflowFunction } from './function-defaults.ts';

const HANDLERS = 'lambdas/handlers/backup/handlers.ts';
/** The org's one mutable vault key, relative to its prefix (the runtime names it in lambdas/core/snapshot/keys.ts). */
export const LATEST_POINTER = 'latest-complete.json';

/** Error names retried with backoff: Salesforce's transient answers and Lambda's own hiccups. */
export const TRANSIENT_ERRORS = [
  'SalesforceRateLimitError',
  'SalesforceSessionExpiredError',
  'SalesforceTransientError',
  'SalesforceBulkJobFailedError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** What one org's backups take and how they alert; mirrors the org's config. */
export interface BackupWorkflowSettings {
  /** Only these objects. @default - every object the org lets the backup read */
  readonly includeObjects?: readonly string[];
  /** Objects never backed up. @default - none */
  readonly excludeObjects?: readonly string[];
  /** Back up file bodies. @default true */
  readonly files?: boolean;
  /** Share of the daily API allowance one run may spend. @default 0.5 */
  readonly apiShare?: number;
  /** Alert when deletes or changes pass this percentage of an object's rows. @default 5 */
  readonly anomalyPercent?: number;
  /** ...or this many rows. @default 1000 */
  readonly anomalyRows?: number;
  /** Seconds of overlap subtracted from the last watermark. @default 300 */
  readonly overlapSeconds?: number;
}

/** Props of BackupWorkflow. */
export interface BackupWorkflowProps {
  /** The org's name in the config; also its prefix in the vault (`orgs/<name>/`). */
  readonly orgName: string;
  /** The vault bucket. */
  readonly bucket: s3.IBucket;
  /** The vault's KMS key. */
  readonly key: kms.IKey;
  /** The secret with the org's credentials (JWT bearer or client credentials). */
  readonly orgSecret: secretsmanager.ISecret;
  /** Where failure, deferral and anomaly messages go. */
  readonly alertTopic: sns.ITopic;
  /** The org's login URL, used when the secret does not name one. */
  readonly loginUrl: string;
  /** What to back up and when to alert. @default - the defaults of BackupWorkflowSettings */
  readonly settings?: BackupWorkflowSettings;
  /** Salesforce API version. @default '62.0' */
  readonly apiVersion?: string;
  /** Objects exported at once. @default 10 */
  readonly exportConcurrency?: number;
  /** File batches fetched at once. @default 4 */
  readonly filesConcurrency?: number;
}

/**
 * One org's backup workflow: a Step Functions Standard state machine (plan, a Distributed Map
 * exporting every object with checkpoints, files by content hash, metadata retrieves, a verified
 * finish), its functions with least-privilege roles, and a CloudWatch dashboard.
 */
export class BackupWorkflow extends Construct {
  /** The state machine the schedules start with `{org, mode}`. */
  readonly stateMachine: sfn.StateMachine;
  /** Every function of the workflow, for error alarms. */
  readonly functions: WorkflowFunction[];
  /** The org's dashboard. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BackupWorkflowProps) {
    super(scope, id);
    const problems: string[] = [];
    if (!/^[a-z0-9][a-z0-9-]{1,31}$/.test(props.orgName)) {
      problems.push(`orgName is "${props.orgName}": write a lowercase slug such as "acme-prod"`);
    }
    const share = props.settings?.apiShare;
    if (share !== undefined && !(share > 0 && share <= 1))
      problems.push(`settings.apiShare is ${share}: write a number in (0, 1]`);
    for (const [name, value] of [
      ['exportConcurrency', props.exportConcurrency],
      ['filesConcurrency', props.filesConcurrency],
    ] as const) {
      if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 1000)) {
        problems.push(`${name} is ${value}: write a whole number from 1 to 1000`);
      }
    }
    if (problems.length > 0) throw new Error(`BackupWorkflow ${id}: ${problems.join('; ')}.`);

    const org = props.orgName;
    const prefix = `orgs/${org}/`;
    const settings = {
      includeObjects: [...(props.settings?.includeObjects ?? [])],
      excludeObjects: [...(props.settings?.excludeObjects ?? [])],
      files: props.settings?.files ?? true,
      apiShare: props.settings?.apiShare ?? 0.5,
      anomalyPercent: props.settings?.anomalyPercent ?? 5,
      anomalyRows: props.settings?.anomalyRows ?? 1000,
      overlapSeconds: props.settings?.overlapSeconds ?? 300,
    };
    const environment = {
      VAULT_BUCKET: props.bucket.bucketName,
      VAULT_KEY_ARN: props.key.keyArn,
      ORG_SECRET_ARN: props.orgSecret.secretArn,
      SALESFORCE_LOGIN_URL: props.loginUrl,
      SALESFORCE_API_VERSION: props.apiVersion ?? '62.0',
      BACKUP_SETTINGS: JSON.stringify(settings),
      POWERTOOLS_METRICS_NAMESPACE: 'SfBackup',
    };

    const fn = (
      fid: string,
      handler: string,
      description: string,
      opts: { minutes?: number; salesforce: boolean; tmp?: number },
    ) => {
      const f = new WorkflowFunction(this, fid, {
        entry: HANDLERS,
        handler,
        description: `${description} (org ${org})`,
        timeout: Duration.minutes(opts.minutes ?? 5),
        memorySize: 1769,
        environment,
        ...(opts.tmp ? { ephemeralStorageSize: Size.gibibytes(opts.tmp) } : {}),
      });
      this.grantVault(f, props, prefix);
      if (opts.salesforce) props.orgSecret.grantRead(f);
      return f;
    };
    const planFn = fn('PlanFunction', 'plan', 'Plans a Salesforce backup run', {
      salesforce: true,
      minutes: 10,
    });
    const exportFn = fn('ExportFunction', 'exportObjectHandler', 'Exports one Salesforce object', {
      salesforce: true,
      minutes: 15,
    });
    const failureFn = fn('RecordFailureFunction', 'recordFailure', 'Records a permanent backup failure', {
      salesforce: false,
    });
    const filesPlanFn = fn('FilesPlanFunction', 'planFilesHandler', 'Plans file downloads', {
      salesforce: false,
      minutes: 10,
    });
    const filesFn = fn('FilesFunction', 'backupFilesHandler', 'Downloads file bodies', {
      salesforce: true,
      minutes: 15,
      tmp: 10,
    });
    const metadataPlanFn = fn('MetadataPlanFunction', 'planMetadataHandler', 'Lists Salesforce metadata', {
      salesforce: true,
      minutes: 10,
    });
    const metadataFn = fn('MetadataFunction', 'retrieveMetadataHandler', 'Retrieves Salesforce metadata', {
      salesforce: true,
      minutes: 15,
    });
    const finishFn = fn('FinishFunction', 'finishHandler', 'Verifies and completes a snapshot', {
      salesforce: true,
      minutes: 15,
    });
    this.functions = [
      planFn,
      exportFn,
      failureFn,
      filesPlanFn,
      filesFn,
      metadataPlanFn,
      metadataFn,
      finishFn,
    ];

    const invoke = (
      sid: string,
      f: WorkflowFunction,
      payload: Record<string, unknown> | 'state',
      resultPath?: string,
    ) => {
      const task = new tasks.LambdaInvoke(this, sid, {
        lambdaFunction: f,
        // Without a payload the task passes its whole input, which is what 'state' asks for.
        ...(payload === 'state' ? {} : { payload: sfn.TaskInput.fromObject(payload) }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        ...(resultPath ? { resultPath } : {}),
      });
      task.addRetry({
        errors: TRANSIENT_ERRORS,
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 6,
        maxDelay: Duration.minutes(5),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };
    const ref = { 'org.$': '$.org', 'snapshotId.$': '$.snapshotId' };
    const alert = (sid: string, subject: string, message: sfn.TaskInput) =>
      new tasks.SnsPublish(this, sid, {
        topic: props.alertTopic,
        subject,
        message,
        resultPath: sfn.JsonPath.DISCARD,
      });

    // Unexpected failures of the run itself: alert with the cause, then fail the execution.
    const unexpected = alert(
      'AlertRunFailed',
      `Backup of Salesforce org ${org} failed`,
      sfn.TaskInput.fromJsonPathAt(
        "States.Format('Backup of org {} failed: {} {}', $.org, $.failure.Error, $.failure.Cause)",
      ),
    ).next(
      new sfn.Fail(this, 'RunFailed', {
        error: 'BackupFailed',
        cause: 'The backup run failed; see the alert for the cause.',
      }),
    );

    const plan = invoke('Plan', planFn, {
      'org.$': '$.org',
      'mode.$': '$.mode',
      'runId.$': '$$.Execution.Id',
    });
    plan.addCatch(unexpected, { errors: ['States.ALL'], resultPath: '$.failure' });

    const deferred = alert(
      'AlertDeferred',
      `Backup of Salesforce org ${org} deferred`,
      sfn.TaskInput.fromJsonPathAt('$.deferredReason'),
    ).next(
      new sfn.Fail(this, 'RunDeferred', {
        error: 'BackupDeferred',
        cause: 'The API allowance share was not enough; see the alert.',
      }),
    );

    // Per object: export, looping on checkpoints; a permanent failure is recorded, not thrown, so the others go on.
    // The whole state goes in: the first time {org, snapshotId, object}, then the previous output with its checkpoint.
    const exportTask = invoke('ExportObject', exportFn, 'state');
    const recordObject = invoke('RecordObjectFailure', failureFn, {
      'org.$': '$.org',
      'snapshotId.$': '$.snapshotId',
      'object.$': '$.object',
      'error.$': '$.error',
    }).next(new sfn.Pass(this, 'ObjectFailed', { result: sfn.Result.fromObject({}) }));
    exportTask.addCatch(recordObject, { errors: ['States.ALL'], resultPath: '$.error' });
    const exportLoop = exportTask.next(
      new sfn.Choice(this, 'ObjectDone?')
        .when(
          sfn.Condition.booleanEquals('$.done', true),
          new sfn.Pass(this, 'ObjectExported', { result: sfn.Result.fromObject({}) }),
        )
        .otherwise(exportTask),
    );
    const exportMap = new sfn.DistributedMap(this, 'ExportObjects', {
      itemReader: new sfn.S3JsonItemReader({ bucket: props.bucket, key: sfn.JsonPath.stringAt('$.planKey') }),
      itemSelector: {
        'org.$': '$.org',
        'snapshotId.$': '$.snapshotId',
        'object.$': '$$.Map.Item.Value.object',
      },
      maxConcurrency: props.exportConcurrency ?? 10,
      toleratedFailurePercentage: 100,
      resultPath: sfn.JsonPath.DISCARD,
    });
    exportMap.itemProcessor(exportLoop);

    const planFiles = invoke('PlanFiles', filesPlanFn, ref, '$.files');
    const filesTask = invoke('BackupFiles', filesFn, {
      'org.$': '$.org',
      'snapshotId.$': '$.snapshotId',
      'batch.$': '$.batch',
    });
    const recordFiles = invoke('RecordFilesFailure', failureFn, {
      'org.$': '$.org',
      'snapshotId.$': '$.snapshotId',
      'batch.$': '$.batch',
      'error.$': '$.error',
    }).next(new sfn.Pass(this, 'FilesBatchFailed', { result: sfn.Result.fromObject({}) }));
    filesTask.addCatch(recordFiles, { errors: ['States.ALL'], resultPath: '$.error' });
    const filesMap = new sfn.DistributedMap(this, 'BackupFileBatches', {
      itemReader: new sfn.S3JsonItemReader({
        bucket: props.bucket,
        key: sfn.JsonPath.stringAt('$.files.filesPlanKey'),
      }),
      itemSelector: {
        'org.$': '$.org',
        'snapshotId.$': '$.snapshotId',
        'batch.$': '$$.Map.Item.Value.batch',
      },
      maxConcurrency: props.filesConcurrency ?? 4,
      toleratedFailurePercentage: 100,
      resultPath: sfn.JsonPath.DISCARD,
    });
    filesMap.itemProcessor(
      filesTask.next(new sfn.Pass(this, 'FilesBatchDone', { result: sfn.Result.fromObject({}) })),
    );

    const planMetadata = invoke('PlanMetadata', metadataPlanFn, ref, '$.metadata');
    const retrieve = invoke(
      'RetrieveMetadata',
      metadataFn,
      {
        'org.$': '$.metadata.org',
        'snapshotId.$': '$.metadata.snapshotId',
        'chunk.$': '$.metadata.chunk',
        'chunks.$': '$.metadata.chunks',
        'done.$': '$.metadata.done',
      },
      '$.metadata',
    );

    const finish = invoke('Finish', finishFn, ref, '$.result');
    finish.addCatch(unexpected, { errors: ['States.ALL'], resultPath: '$.failure' });
    // A step after the exports that fails still reaches Finish, which records the run as failed with what is missing.
    for (const step of [planFiles, filesMap, planMetadata, retrieve]) {
      step.addCatch(finish, { errors: ['States.ALL'], resultPath: '$.stepFailure' });
    }

    const incomplete = alert(
      'AlertIncomplete',
      `Backup of Salesforce org ${org} incomplete`,
      sfn.TaskInput.fromJsonPathAt('$.result.failureMessage'),
    ).next(
      new sfn.Fail(this, 'SnapshotIncomplete', {
        error: 'BackupIncomplete',
        cause: 'The snapshot is missing data and was not marked complete; see the alert.',
      }),
    );
    const succeeded = new sfn.Succeed(this, 'SnapshotComplete', { outputPath: '$.result' });
    const anomalies = alert(
      'AlertAnomalies',
      `Unusual changes in Salesforce org ${org}`,
      sfn.TaskInput.fromJsonPathAt('$.result.anomalyMessage'),
    ).next(succeeded);

    const metadataLoop = new sfn.Choice(this, 'MetadataDone?')
      .when(sfn.Condition.booleanEquals('$.metadata.done', true), finish)
      .otherwise(retrieve);
    retrieve.next(metadataLoop);

    const definition = plan.next(
      new sfn.Choice(this, 'Deferred?')
        .when(sfn.Condition.booleanEquals('$.deferred', true), deferred)
        .otherwise(
          exportMap
            .next(planFiles)
            .next(
              new sfn.Choice(this, 'FilesToFetch?')
                .when(sfn.Condition.numberGreaterThan('$.files.batches', 0), filesMap.next(planMetadata))
                .otherwise(planMetadata),
            ),
        ),
    );
    planMetadata.next(metadataLoop);
    finish.next(
      new sfn.Choice(this, 'Complete?')
        .when(
          sfn.Condition.stringEquals('$.result.status', 'complete'),
          new sfn.Choice(this, 'Anomalies?')
            .when(sfn.Condition.booleanEquals('$.result.hasAnomalies', true), anomalies)
            .otherwise(succeeded),
        )
        .otherwise(incomplete),
    );

    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', { retention: logs.RetentionDays.ONE_YEAR });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      tracingEnabled: true,
      // Every state transition is logged, without execution data: states carry only keys and counts anyway.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: `Backs up Salesforce org ${org} into the vault`,
    });
    // Distributed Map reads its items (the plans) from the org's prefix.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [props.bucket.arnForObjects(`${prefix}*`)],
      }),
    );
    props.key.grantDecrypt(this.stateMachine);
    this.acknowledge(org, props.bucket);
    this.dashboard = this.buildDashboard(org);
  }

  /** Read anything under the org's prefix, add new objects there; never delete, never overwrite. */
  private grantVault(f: WorkflowFunction, props: BackupWorkflowProps, prefix: string): void {
    f.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [props.bucket.arnForObjects(`${prefix}*`)],
      }),
    );
    // Parts, manifests and file bodies are written with If-None-Match: *, so S3 refuses to replace
    // one. Denying every object creation without that header makes it a rule rather than a habit.
    // CreateMultipartUpload and UploadPart take no conditional header (ObjectCreationOperation is
    // false for them); CompleteMultipartUpload does. The one mutable key is the latest pointer.
    f.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUnconditionalObjectCreation',
        effect: iam.Effect.DENY,
        actions: ['s3:PutObject'],
        notResources: [props.bucket.arnForObjects(`${prefix}${LATEST_POINTER}`)],
        conditions: {
          Null: { 's3:if-none-match': 'true' },
          Bool: { 's3:ObjectCreationOperation': 'true' },
        },
      }),
    );
    f.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    );
    f.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.key.keyArn],
      }),
    );
  }

  /** Acknowledges, finding by finding, the wildcards this construct needs, each with its reason. */
  private acknowledge(org: string, bucket: s3.IBucket): void {
    const stack = Stack.of(this);
    const bucketArn = arnOf(stack, bucket.bucketArn);
    for (const f of this.functions) {
      const policy = f.role?.node.tryFindChild('DefaultPolicy');
      if (!policy) continue;
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/orgs/${org}/*]`,
        reason: `${f.node.path}: reads and adds snapshot objects only under its org's prefix orgs/${org}/; their keys are made per run. No delete is granted.`,
      });
    }
    const policy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      for (const f of this.functions) {
        const logicalId = stack.getLogicalId(f.node.defaultChild as CfnElement);
        Validations.of(policy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
          reason: `${this.node.path}/StateMachine: invoking ${f.node.id} includes its versions (<arn>:*), as CDK grants for a Lambda task.`,
        });
      }
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/orgs/${org}/*]`,
        reason: `${this.node.path}/StateMachine: the Distributed Maps read their items from plans under orgs/${org}/, whose keys are made per run.`,
      });
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${JSON.stringify(stack.resolve(bucket.bucketName))}/*]`,
        reason: `${this.node.path}/StateMachine: CDK's S3JsonItemReader grants s3:GetObject on the vault's objects for the Distributed Map's ItemReader; the plans' keys are made per run.`,
      });
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${this.node.path}/StateMachine: X-Ray tracing and CloudWatch Logs delivery have no resource-level permissions.`,
      });
    }
    const mapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (mapPolicy) {
      const machine = JSON.stringify(
        stack.resolve(Fn.select(6, Fn.split(':', this.stateMachine.stateMachineArn))),
      );
      const part = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
      const base = `arn:<AWS::Partition>:states:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:execution:${machine}`;
      for (const suffix of [':*', '/*:*']) {
        Validations.of(mapPolicy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${base}${suffix}]`,
          reason: `${this.node.path}/StateMachine: the Distributed Maps start and stop child executions of this state machine, whose names are made at run time.`,
        });
      }
    }
  }

  private buildDashboard(org: string): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `sfbackup-${org}-${Stack.of(this).stackName}`.slice(0, 255),
      defaultInterval: Duration.days(7),
    });
    const metric = (name: string, stat = 'Sum') =>
      new cloudwatch.Metric({
        namespace: 'SfBackup',
        metricName: name,
        dimensionsMap: { org, service: 'sfbackup-backup' },
        statistic: stat,
        period: Duration.hours(1),
      });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Backup runs of ${org}`,
        left: [
          this.stateMachine.metricSucceeded(),
          this.stateMachine.metricFailed(),
          this.stateMachine.metricTimedOut(),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Snapshots complete / failed',
        left: [metric('SnapshotComplete'), metric('SnapshotFailed')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Rows and bytes exported',
        left: [metric('ExportRows')],
        right: [metric('ExportBytes')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Rows and files per run',
        left: [metric('RunRows')],
        right: [metric('RunFiles'), metric('FilesDownloaded')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API calls',
        left: [
          metric('RunApiCalls'),
          metric('PlanApiCalls'),
          metric('ExportApiCalls'),
          metric('FilesApiCalls'),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Run duration',
        left: [this.stateMachine.metricTime({ statistic: 'Maximum' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: this.functions.map((f) => f.metricErrors({ period: Duration.hours(1) })),
        width: 12,
      }),
    );
    return dashboard;
  }
}

/** What `addBackupWorkflows` needs of the app stack. */
export interface BackupWorkflowHost extends Construct {
  readonly config: AppConfig;
  readonly vault: { readonly bucket: s3.IBucket; readonly key: kms.IKey };
  readonly alerting: { readonly topic: sns.ITopic };
  wireBackupWorkflow(
    org: OrgConfig,
    stateMachine: sfn.IStateMachine,
    functions?: readonly lambda.IFunction[],
  ): unknown;
}

/** Builds one backup workflow per org of the config and wires each to its schedules and alerting. */
export function addBackupWorkflows(host: BackupWorkflowHost): BackupWorkflow[] {
  return host.config.orgs.map((org) => {
    const id = constructIdOf(org.name);
    const workflow = new BackupWorkflow(host, `${id}Backup`, {
      orgName: org.name,
      bucket: host.vault.bucket,
      key: host.vault.key,
      orgSecret: secretsmanager.Secret.fromSecretNameV2(host, `${id}BackupOrgSecret`, org.secretName),
      alertTopic: host.alerting.topic,
      loginUrl: org.loginUrl,
      settings: {
        ...(org.objects.include ? { includeObjects: org.objects.include } : {}),
        excludeObjects: org.objects.exclude,
        files: org.files,
        apiShare: org.apiShare,
        anomalyPercent: org.changeAlert.percent,
        anomalyRows: org.changeAlert.rows,
      },
    });
    host.wireBackupWorkflow(org, workflow.stateMachine, workflow.functions);
    return workflow;
  });
}

/** How cdk-nag writes an ARN token in a finding id: an import's name, or `<LogicalId.Arn>`. */
function arnOf(stack: Stack, arn: string): string {
  const resolved = stack.resolve(arn) as unknown;
  if (typeof resolved === 'string') return resolved;
  const value = resolved as { 'Fn::ImportValue'?: unknown; 'Fn::GetAtt'?: unknown[] };
  if (typeof value['Fn::ImportValue'] === 'string') return value['Fn::ImportValue'];
  if (Array.isArray(value['Fn::GetAtt'])) return `<${String(value['Fn::GetAtt'][0])}.Arn>`;
  return JSON.stringify(resolved);
}
