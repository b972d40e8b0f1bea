import {
  ArnFormat,
  DefaultStackSynthesizer,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  BACKUP_RUN_RECORDS_DAYS,
  BACKUP_RUN_RECORDS_PREFIX,
  orgNameProblem,
  orgPrefixOf,
  type RetentionPolicy,
  eraseRemovalPatternsOf,
  ERASURES_FOLDER,
  SWEEP_PLANNING_RECORDS,
  SWEEPER_DELETE_FOLDERS,
} from '../contract/workflow-contract.ts';
import type { RetentionConfig } from './config.ts';
import { policyConflicts, policyProblem } from './retention-policy.ts';
import { DUTY_TAG, ORG_TAG, RoleDuty } from './workflow-role-tags.ts';

/**
 * Bucket actions that could destroy backups, weaken their protection or remove the policy that
 * denies them; only the deploying role and the break-glass role may call them. Replication,
 * logging, public access, ownership and ACLs are here because each is a way to copy backups out
 * or to stop recording who read them; the bucket policy itself, because replacing it would undo
 * every other line.
 */
export const PROTECTED_BUCKET_ACTIONS = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:DeleteBucket',
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:PutBucketVersioning',
  's3:PutLifecycleConfiguration',
  's3:PutBucketObjectLockConfiguration',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:BypassGovernanceRetention',
  's3:PutEncryptionConfiguration',
  's3:PutReplicationConfiguration',
  's3:PutBucketLogging',
  's3:PutBucketPublicAccessBlock',
  's3:PutBucketOwnershipControls',
  's3:PutBucketAcl',
  's3:PutObjectAcl',
  's3:PutObjectVersionAcl',
] as const;

/**
 * Key actions that would make every backup unreadable or hand the key to someone else; only the
 * deploying role and the break-glass role may call them.
 */
export const PROTECTED_KEY_ACTIONS = [
  'kms:DisableKey',
  'kms:ScheduleKeyDeletion',
  'kms:PutKeyPolicy',
  'kms:DisableKeyRotation',
  'kms:DeleteImportedKeyMaterial',
] as const;

/** Key policy actions for administering the key; none of them encrypts or decrypts. */
const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/**
 * The bucket actions that remove a version for good, through an Object Lock in GOVERNANCE mode
 * too. Besides the trusted roles, each org's erase role may call them, under its own org's prefix
 * only (see `Vault.allowVersionRemovalToEraseRoles`).
 */
export const VERSION_REMOVAL_ACTIONS = ['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention'] as const;

/** An org's erase role, which the bucket policy lets remove versions under that org's prefix. */
export interface EraseRoleGrant {
  /** The org's config name, which is its vault prefix `orgs/<name>/`. */
  readonly orgName: string;
  /** The role's ARN, named before the role exists (see `eraseRoleArnOf`). */
  readonly roleArn: string;
}

/** The retention sweeper of one org, which the bucket policy lets remove under that org only. */
export interface VaultSweeper {
  /** The org, by its config name (its vault prefix). */
  readonly orgName: string;
  /** The sweeper role's name, known before the org's stack creates it (`sweeperRoleNameOf`). */
  readonly roleName: string;
  /** The org's retention policy, checked against the vault's own retention. */
  readonly policy: RetentionPolicy;
}

/** Props of the Vault. */
export interface VaultProps {
  /** How long versions are kept and where they go when they age. */
  readonly retention: RetentionConfig;
  /**
   * The one role that may delete versions, suspend versioning or change lifecycle, lock and
   * encryption settings, for example to deploy a retention change with `cdk deploy --role-arn`.
   * @default - no principal may call those actions; only the account root can remove the policy
   */
  readonly breakGlassRoleArn?: string;
  /**
   * The role CloudFormation deploys the vault stack as. It keeps the protected actions, so that a
   * stack update can still change the bucket and key it owns.
   * @default - the CloudFormation execution role of the CDK bootstrap, read from the stack's
   *   DefaultStackSynthesizer; a stack with another synthesizer must name the role
   */
  readonly deployRoleArn?: string;
  /**
   * The backup bucket's name, for a bucket another stack must name before it exists (the
   * destination of replication).
   * @default - a name CloudFormation generates
   */
  readonly bucketName?: string;
  /**
   * The orgs' retention sweepers. Each may call s3:DeleteObject (a delete marker, never a
   * version) under its own org's snapshots, catalog and files only.
   * @default - no sweeper: s3:DeleteObject stays with the trusted roles alone
   */
  readonly sweepers?: readonly VaultSweeper[];
  /**
   * The erase roles, one per org: each may remove versions (and bypass a GOVERNANCE lock) under
   * its own org's prefix, and nowhere else.
   * @default - no erase role: only the trusted roles may remove versions
   */
  readonly eraseRoles?: readonly EraseRoleGrant[];
  /**
   * The orgs backed up into this bucket, by config name. Each gets a lifecycle rule that removes
   * its backup runs' heartbeats and end records (`orgs/<org>/lease/backups*`) after
   * `BACKUP_RUN_RECORDS_DAYS`, when no decision reads them any more; without it they would pile
   * up, a few per run, for good.
   * @default - no org: those records are kept
   */
  readonly orgNames?: readonly string[];
}

/** S3 holds at most this many rules in one bucket's lifecycle configuration. */
const MAX_LIFECYCLE_RULES = 1000;

/**
 * The backup vault: a customer-managed key and a versioned, encrypted, access-logged bucket
 * whose history no ordinary principal can shorten.
 */
export class Vault extends Construct {
  /** The key that encrypts every backup object. */
  readonly key: kms.Key;
  /** The bucket that holds the backups. */
  readonly bucket: s3.Bucket;
  /** The bucket that receives the backup bucket's server access logs. */
  readonly accessLogsBucket: s3.Bucket;
  /** The roles allowed the protected bucket and key actions: the deploying role, then the break-glass role if any. */
  readonly trustedRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: VaultProps) {
    super(scope, id);
    const { retention } = props;
    const stack = Stack.of(this);
    const sweepers = props.sweepers ?? [];
    Vault.validateSweepers(id, retention, sweepers);
    Vault.validateOrgNames(id, props.orgNames ?? []);
    // The stack's own deployments and the break-glass role keep the protected actions.
    this.trustedRoleArns = [
      Vault.deployRoleArnOf(stack, props.deployRoleArn),
      ...(props.breakGlassRoleArn ? [props.breakGlassRoleArn] : []),
    ];

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts Salesforce backups in the vault bucket',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: this.keyPolicy(stack),
    });
    this.key.addAlias(`alias/${stack.stackName}-vault`);

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logs can only be delivered to a bucket encrypted with SSE-S3.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(retention.accessLogDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'AccessLogs is the destination of the vault bucket server access logs; logging it to itself would loop and another log bucket would only move the question.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // Object Lock can only be switched on when a bucket is created, so it is always on; the
      // config only decides whether versions get a default retention period.
      objectLockEnabled: true,
      objectLockDefaultRetention: retention.objectLock
        ? retention.objectLock.mode === 'COMPLIANCE'
          ? s3.ObjectLockRetention.compliance(Duration.days(retention.objectLock.days))
          : s3.ObjectLockRetention.governance(Duration.days(retention.objectLock.days))
        : undefined,
      lifecycleRules: Vault.lifecycleRules(id, retention, props.orgNames ?? []),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.deliverAccessLogs(stack);
    this.denyWeakUploads();
    const eraseRoles = props.eraseRoles ?? [];
    this.denyProtectedActions(this.bucket, [
      ...(sweepers.length > 0 ? ['s3:DeleteObject'] : []),
      ...(eraseRoles.length > 0 ? VERSION_REMOVAL_ACTIONS : []),
    ]);
    this.denyProtectedActions(this.accessLogsBucket);
    this.denyDeletesExceptSweepers(stack, sweepers);
    this.allowVersionRemovalToEraseRoles(eraseRoles);
    this.denyErasureRecordsToOthers();
    this.bucket.policy?.applyRemovalPolicy(RemovalPolicy.RETAIN);
  }

  /**
   * The erasure records (`orgs/<org>/erasures/`: plans, progress, the lists of removed versions and
   * the log) are the erase workflow's alone. A backup function's own policy keeps it to a backup's
   * keys; this is the second layer, for a role widened since: without it such a role could plant a
   * list of removed versions, which `sfbackup erase-replica` would read, or a log entry. Only the trusted roles and roles carrying the erase duty's tag (each
   * kept to its own org by its own policy) may write there.
   */
  private denyErasureRecordsToOthers(): void {
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyErasureRecordsExceptEraseRoles',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${orgPrefixOf('*')}${ERASURES_FOLDER}*`)],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': [...this.trustedRoleArns] },
          StringNotEquals: { [`aws:PrincipalTag/${DUTY_TAG}`]: RoleDuty.Erase },
        },
      }),
    );
  }

  /**
   * The role CloudFormation acts as for this stack: the configured one, or the bootstrap's
   * execution role. Its `${AWS::...}` placeholders become `Fn::Sub`, so the policy names the
   * role of the account and region the stack is deployed to.
   */
  private static deployRoleArnOf(stack: Stack, configured: string | undefined): string {
    if (configured) return configured;
    const synthesizer = stack.synthesizer;
    if (synthesizer instanceof DefaultStackSynthesizer) {
      return Fn.sub(synthesizer.cloudFormationExecutionRoleArn);
    }
    throw new Error(
      `Vault in ${stack.stackName}: the stack uses ${synthesizer.constructor.name}, which names no CloudFormation execution role, so the vault cannot tell its own deployments apart from anyone else; set deployRoleArn (config "deployRoleArn") to the role CloudFormation deploys the vault stack as.`,
    );
  }

  /**
   * Admins of the account manage the key, except that only the trusted roles may disable it,
   * schedule its deletion or change this policy; it encrypts and decrypts only through S3 in
   * this account.
   */
  private keyPolicy(stack: Stack): iam.PolicyDocument {
    return new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'DenyKeyTamperingExceptTrustedRoles',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: [...PROTECTED_KEY_ACTIONS],
          resources: ['*'],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': [...this.trustedRoleArns] } },
        }),
        new iam.PolicyStatement({
          sid: 'KeyAdministrationByAccount',
          principals: [new iam.AccountRootPrincipal()],
          actions: KEY_ADMIN_ACTIONS,
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'UseThroughS3ByAccountPrincipals',
          principals: [new iam.AccountRootPrincipal()],
          actions: [
            'kms:Encrypt',
            'kms:Decrypt',
            'kms:ReEncrypt*',
            'kms:GenerateDataKey*',
            'kms:DescribeKey',
          ],
          resources: ['*'],
          conditions: {
            StringEquals: {
              'kms:ViaService': `s3.${stack.region}.amazonaws.com`,
              'kms:CallerAccount': stack.account,
            },
          },
        }),
      ],
    });
  }

  private static lifecycleRules(
    id: string,
    retention: RetentionConfig,
    orgNames: readonly string[],
  ): s3.LifecycleRule[] {
    const rules: s3.LifecycleRule[] = [
      {
        id: 'noncurrent-versions-to-cold-then-expire',
        noncurrentVersionTransitions: [
          {
            storageClass: new s3.StorageClass(retention.coldStorageClass),
            transitionAfter: Duration.days(retention.coldAfterDays),
          },
        ],
        noncurrentVersionExpiration: Duration.days(retention.noncurrentDays),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        ...(retention.currentDays ? { expiration: Duration.days(retention.currentDays) } : {}),
      },
      // Once every version under a key has expired, its lone delete marker is clutter.
      { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      // A backup run's heartbeats hold erasures off for an hour and ten minutes at most, and its
      // end record is read only while they do: past that they are clutter, a few per run. A
      // lifecycle filter takes no wildcard, so each org has its own rule.
      ...orgNames.map((org) => ({
        id: `expire-backup-run-records-${org}`,
        prefix: `${orgPrefixOf(org)}${BACKUP_RUN_RECORDS_PREFIX}`,
        expiration: Duration.days(BACKUP_RUN_RECORDS_DAYS),
      })),
    ];
    if (rules.length > MAX_LIFECYCLE_RULES) {
      const rulesOfNoOrg = rules.length - orgNames.length;
      throw new Error(
        `Vault ${id}: ${orgNames.length} orgs need ${rules.length} lifecycle rules, more than the ${MAX_LIFECYCLE_RULES} S3 holds in one bucket; back up at most ${MAX_LIFECYCLE_RULES - rulesOfNoOrg} orgs into one vault, and the others from an app with its own stackPrefix.`,
      );
    }
    return rules;
  }

  /**
   * Server access logs go to AccessLogs under `vault/`, delivered by the S3 logging service
   * through a bucket policy (not ACLs), set here explicitly so no feature flag changes it.
   */
  private deliverAccessLogs(stack: Stack): void {
    (this.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: this.accessLogsBucket.bucketName,
      logFilePrefix: 'vault/',
    };
    this.accessLogsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowVaultAccessLogDelivery',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogsBucket.arnForObjects('vault/*')],
        conditions: {
          ArnLike: { 'aws:SourceArn': this.bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
  }

  /** Objects must be encrypted with this vault's key; the bucket default applies when no header is sent. */
  private denyWeakUploads(): void {
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUploadsNotEncryptedWithKms',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: {
          StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
          Null: { 's3:x-amz-server-side-encryption': 'false' },
        },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUploadsWithAnotherKey',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: {
          StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': this.key.keyArn },
          Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
        },
      }),
    );
  }

  /**
   * Denies every way around the bucket's protection to all but the trusted roles. The deploying
   * role stays allowed so that CloudFormation can update the stack's own bucket and policy; the
   * workflows' roles need none of these actions.
   */
  private denyProtectedActions(bucket: s3.Bucket, handledApart: readonly string[] = []): void {
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyProtectedActionsExceptTrustedRoles',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: PROTECTED_BUCKET_ACTIONS.filter((action) => !handledApart.includes(action)),
        resources: [bucket.bucketArn, bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': [...this.trustedRoleArns] } },
      }),
    );
  }

  /**
   * The sweepers' one exception: s3:DeleteObject (a delete marker; the versions stay) leaves the
   * statement above for statements of its own. See `denyOutsideOwnOrg`.
   */
  private denyDeletesExceptSweepers(stack: Stack, sweepers: readonly VaultSweeper[]): void {
    if (sweepers.length === 0) return;
    this.denyOutsideOwnOrg({
      name: 'Sweepers',
      duty: RoleDuty.RetentionSweep,
      actions: ['s3:DeleteObject'],
      roleArns: sweepers.map((sweeper) =>
        stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: sweeper.roleName,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ),
      patterns: (org) => [
        ...SWEEPER_DELETE_FOLDERS.map((folder) => `${orgPrefixOf(org)}${folder}*`),
        `${orgPrefixOf(org)}${SWEEP_PLANNING_RECORDS}`,
      ],
    });
  }

  /**
   * The erase roles' one exception: removing versions for good (through a GOVERNANCE lock too)
   * leaves the statement above for statements of its own. See `denyOutsideOwnOrg`.
   */
  private allowVersionRemovalToEraseRoles(roles: readonly EraseRoleGrant[]): void {
    if (roles.length === 0) return;
    this.denyOutsideOwnOrg({
      name: 'EraseRoles',
      duty: RoleDuty.Erase,
      actions: VERSION_REMOVAL_ACTIONS,
      roleArns: roles.map((role) => role.roleArn),
      patterns: eraseRemovalPatternsOf,
    });
  }

  /**
   * Four denials keep a workflow role's exception to its own org, in statements whose size does
   * not grow with the number of orgs but for the roles' ARNs (a bucket policy holds at most 20 KB):
   * the actions are denied to every principal but the trusted roles and the named roles; to every
   * non-trusted principal that does not carry the duty's tag; to every non-trusted principal
   * without an org tag; and, to the holders of the duty's tag, outside the folders of the org
   * their `sfbackup-org` tag names (`orgs/${aws:PrincipalTag/sfbackup-org}/...`). Each role is
   * tagged with its org and duty where it is created.
   */
  private denyOutsideOwnOrg(exception: {
    readonly name: string;
    readonly duty: string;
    readonly actions: readonly string[];
    readonly roleArns: readonly string[];
    /** The key patterns the actions stay allowed on, for an org name (`orgs/<org>/snapshots/*`). */
    readonly patterns: (orgName: string) => readonly string[];
  }): void {
    const { name, actions } = exception;
    const everywhere = [this.bucket.bucketArn, this.bucket.arnForObjects('*')];
    const trusted = { 'aws:PrincipalArn': [...this.trustedRoleArns] };
    const statement = (sid: string, rest: Partial<iam.PolicyStatementProps>) =>
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: [...actions],
          ...rest,
        }),
      );
    statement(`Deny${name}ActionsToOthers`, {
      resources: everywhere,
      conditions: {
        ArnNotEquals: { 'aws:PrincipalArn': [...this.trustedRoleArns, ...exception.roleArns] },
      },
    });
    statement(`Deny${name}ActionsWithoutDutyTag`, {
      resources: everywhere,
      conditions: {
        ArnNotEquals: trusted,
        StringNotEquals: { [`aws:PrincipalTag/${DUTY_TAG}`]: exception.duty },
      },
    });
    statement(`Deny${name}ActionsWithoutOrgTag`, {
      resources: everywhere,
      conditions: { ArnNotEquals: trusted, Null: { [`aws:PrincipalTag/${ORG_TAG}`]: 'true' } },
    });
    statement(`Deny${name}ActionsOutsideOwnOrg`, {
      notResources: exception
        .patterns(`\${aws:PrincipalTag/${ORG_TAG}}`)
        .map((pattern) => this.bucket.arnForObjects(pattern)),
      conditions: {
        ArnNotEquals: trusted,
        StringEquals: { [`aws:PrincipalTag/${DUTY_TAG}`]: exception.duty },
      },
    });
  }

  /** Every problem of the org names at once: names that are no vault prefix, names given twice. */
  private static validateOrgNames(id: string, orgNames: readonly string[]): void {
    const problems = orgNames.flatMap((name, i) => {
      const problem = orgNameProblem(name);
      if (problem) return [`orgNames[${i}]: ${problem}`];
      return orgNames.indexOf(name) < i ? [`orgNames[${i}]: ${name} is named twice; name each org once`] : [];
    });
    if (problems.length > 0) {
      throw new Error(
        `Vault ${id}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  - ${problems.join('\n  - ')}`,
      );
    }
  }

  /** Every problem of the sweepers at once: names, and each policy against the vault's retention. */
  private static validateSweepers(
    id: string,
    retention: RetentionConfig,
    sweepers: readonly VaultSweeper[],
  ): void {
    const problems: string[] = [];
    const seen = new Set<string>();
    sweepers.forEach((sweeper, i) => {
      const orgProblem = orgNameProblem(sweeper.orgName);
      if (orgProblem) problems.push(`sweepers[${i}].orgName: ${orgProblem}`);
      if (seen.has(sweeper.orgName))
        problems.push(`sweepers[${i}].orgName: ${sweeper.orgName} has a sweeper already; give each org one`);
      seen.add(sweeper.orgName);
      if (!/^[\w+=,.@-]{1,64}$/.test(sweeper.roleName)) {
        problems.push(
          `sweepers[${i}].roleName is ${JSON.stringify(sweeper.roleName)}: write an IAM role name of at most 64 letters, digits or +=,.@_-`,
        );
      }
      const policy = policyProblem(sweeper.policy);
      if (policy) {
        problems.push(`sweepers[${i}].policy: ${policy}`);
        return;
      }
      const vault = {
        ...(retention.currentDays !== undefined ? { currentDays: retention.currentDays } : {}),
        ...(retention.objectLock ? { objectLockDays: retention.objectLock.days } : {}),
      };
      for (const conflict of policyConflicts(sweeper.policy, vault, `the policy of org ${sweeper.orgName}`)) {
        problems.push(
          `retention.${conflict.setting === 'currentDays' ? 'currentDays' : 'objectLock.days'} is ${conflict.value}: ${conflict.message}`,
        );
      }
    });
    if (problems.length > 0) {
      throw new Error(
        `Vault ${id}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  - ${problems.join('\n  - ')}`,
      );
    }
  }
}
