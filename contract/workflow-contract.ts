/**
 * The workflow contract: the names that the infrastructure (lib/), the runtime (lambdas/) and the
 * CLI (cli/) must agree on. Renaming one here renames it everywhere; renaming it anywhere else is
 * a type error. This module holds constants, types and pure checks only: it imports nothing and
 * does nothing when loaded, so every layer may depend on it.
 */

// ---------------------------------------------------------------------------------------------
// Error names. Each is the `name` of exactly one error class in lambdas/ (a test proves it), and
// the state machines' Retry and Catch match on them.
// ---------------------------------------------------------------------------------------------

/** Every named error the runtime throws, by the name its class reports. */
export const ErrorName = {
  // Salesforce, translated in one place (lambdas/adapters/salesforce/errors.ts).
  SalesforceError: 'SalesforceError',
  SalesforceRateLimit: 'SalesforceRateLimitError',
  SalesforceSessionExpired: 'SalesforceSessionExpiredError',
  SalesforceTransient: 'SalesforceTransientError',
  SalesforceQuery: 'SalesforceQueryError',
  SalesforceBulkUnsupported: 'SalesforceBulkUnsupportedError',
  SalesforceBulkJobFailed: 'SalesforceBulkJobFailedError',
  SalesforceAuth: 'SalesforceAuthError',
  SalesforceRequest: 'SalesforceRequestError',
  SalesforceAnswerTooLarge: 'SalesforceAnswerTooLargeError',
  BulkIngestFailed: 'BulkIngestFailedError',
  /** Below HTTP (refused, reset, cut body); translated into SalesforceTransientError before it leaves the adapter. */
  TransportFailure: 'TransportFailure',
  InvalidOrgSecret: 'InvalidOrgSecretError',
  // The vault.
  ObjectExists: 'ObjectExistsError',
  ObjectNotFound: 'ObjectNotFoundError',
  PointerChanged: 'PointerChangedError',
  InvalidStoreKey: 'InvalidStoreKeyError',
  InvalidStoreSpec: 'InvalidStoreSpecError',
  InvalidOrgKey: 'InvalidOrgKeyError',
  SnapshotNotFound: 'SnapshotNotFoundError',
  SnapshotCorrupt: 'SnapshotCorruptError',
  // The change-event journal (lambdas/core/continuous/journal.ts).
  UnreadableChangeEvent: 'UnreadableChangeEventError',
  JournalCorrupt: 'JournalCorruptError',
  InvalidJournalBatch: 'InvalidJournalBatchError',
  // A field's unified diff that cannot be read (lambdas/core/continuous/unified-diff.ts).
  InvalidFieldDiff: 'InvalidFieldDiffError',
  InvalidSnapshotManifest: 'InvalidSnapshotManifestError',
  // Configuration of a function (its environment): a missing vault, org name or credentials.
  FunctionConfig: 'FunctionConfigError',
  // Backup.
  InvalidBackupRequest: 'InvalidBackupRequestError',
  InvalidBackupSettings: 'InvalidBackupSettingsError',
  BackupOrgMismatch: 'BackupOrgMismatchError',
  MetadataRetrieve: 'MetadataRetrieveError',
  UnknownBackupObjects: 'UnknownBackupObjectsError',
  IncludedObjectRefused: 'IncludedObjectRefusedError',
  /** A result page sent compressed that does not inflate whole (cut, or not gzip). */
  CompressedPage: 'CompressedPageError',
  /** An object's workers left pages unexported, exported twice, or rows that do not add up. */
  IncompleteExport: 'IncompleteExportError',
  /** An erasure holds the org's vault lease: the run stopped before writing anything. */
  BackupHeldByErasure: 'BackupHeldByErasureError',
  // Restore.
  InvalidRestoreRequest: 'InvalidRestoreRequestError',
  InvalidRestoreState: 'InvalidRestoreStateError',
  UnknownSnapshot: 'UnknownSnapshotError',
  RestoreOrgMismatch: 'OrgMismatchError',
  RestoreVerification: 'RestoreVerificationError',
  MetadataDeploy: 'MetadataDeployError',
  MetadataVerification: 'MetadataVerificationError',
  RestoreInProgress: 'RestoreInProgressError',
  RestoreLeaseLost: 'RestoreLeaseLostError',
  // The engineer's toolkit (lambdas/core/insight/): a listing, diff, history or plan asked of the vault.
  InvalidInsightRequest: 'InvalidInsightRequestError',
  // The diff report workflow: a step handed a state it cannot read.
  InvalidDiffState: 'InvalidDiffStateError',
  // Retention by policy (lambdas/core/retention/): the sweeper could not read the whole catalog.
  RetentionCatalogUnreadable: 'RetentionCatalogUnreadableError',
  InvalidRetentionPolicy: 'InvalidRetentionPolicyError',
  /** A retention plan that would expire the latest snapshot or a base a kept snapshot needs. */
  RetentionPlan: 'RetentionPlanError',
  /** The sweep step was handed a state it cannot read. */
  InvalidSweepState: 'InvalidSweepStateError',
  /** A sweep could not take its org's vault lease, though no other run held it. */
  VaultLeaseUnavailable: 'VaultLeaseUnavailableError',
  /** A removing sweep found its turn given back or lapsed: it stopped as if out of time. */
  SweepTurnLost: 'SweepTurnLostError',
  // Erasure (lambdas/core/erase/): a rejected input, a vault that cannot erase, ids found nowhere,
  // and traces the last scan still found.
  InvalidEraseRequest: 'InvalidEraseRequestError',
  ErasureImpossible: 'ErasureImpossibleError',
  /** A real erasure found its org busy (a backup, a sweep, a restore, another erasure): it waits its turn. */
  ErasureMustWait: 'ErasureMustWaitError',
  ErasureTargetNotFound: 'ErasureTargetNotFoundError',
  ErasureTraceFound: 'ErasureTraceFoundError',
  InvalidEraseState: 'InvalidEraseStateError',
  /** A restore dry run or a diff report found that an erasure began while it read: it wrote nothing more. */
  ErasureDuringStep: 'ErasureDuringStepError',
  /** A list of removed versions that `sfbackup erase-replica` cannot use: nothing was removed. */
  ReplicaListUnusable: 'ReplicaListUnusableError',
  /** `sfbackup erase-replica` could not read the vault or the replica, or remove from it. */
  ReplicaCleaningFailed: 'ReplicaCleaningFailedError',
} as const;

/** The name of one of the runtime's named errors. */
export type ErrorNameValue = (typeof ErrorName)[keyof typeof ErrorName];

/** Lambda's own transient failures of an invocation, as Step Functions reports them. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * A Lambda that died (crashed, ran out of memory) or timed out, as Step Functions reports it: retried
 * only where a step's writes make a second run harmless (an export worker's share).
 */
export const LAMBDA_CRASH_ERRORS = ['Lambda.Unknown', 'Sandbox.Timedout', 'States.Timeout'] as const;

/** Salesforce's answers that the same call may outlive: limits, an expired session, 5xx and cut connections. */
export const SALESFORCE_TRANSIENT_ERRORS = [
  ErrorName.SalesforceRateLimit,
  ErrorName.SalesforceSessionExpired,
  ErrorName.SalesforceTransient,
] as const;

/** What a backup step retries with backoff: a failed Bulk query job is started anew. */
export const BACKUP_RETRY_ERRORS = [
  ...SALESFORCE_TRANSIENT_ERRORS,
  ErrorName.SalesforceBulkJobFailed,
  ...LAMBDA_SERVICE_ERRORS,
] as const;

/** What a restore step retries with backoff: a failed ingest job is safe to run again (the id map). */
export const RESTORE_RETRY_ERRORS = [
  ...SALESFORCE_TRANSIENT_ERRORS,
  ErrorName.BulkIngestFailed,
  ...LAMBDA_SERVICE_ERRORS,
] as const;

/**
 * What ends a restore at once as a rejected input, with nothing written and without the failure
 * path (no lease to free; the failed execution raises the workflow's alert): a bad input, or
 * another restore of the same org still holding the org's restore lease.
 */
export const RESTORE_INPUT_REJECTED_ERRORS = [
  ErrorName.InvalidRestoreRequest,
  ErrorName.RestoreInProgress,
] as const;

/** The error a restore's state machine fails with when the org does not match the snapshot afterwards. */
export const RESTORE_MISMATCH_ERROR = ErrorName.RestoreVerification;

/**
 * The errors a backup execution ends with (its Fail states), which the CLI and the alerts read to
 * tell a deferred run from a failed one.
 */
export const BackupFailure = {
  /** The run itself failed unexpectedly; the alert carries the cause. */
  Failed: 'BackupFailed',
  /** The API allowance share was not enough to start; nothing was exported. */
  Deferred: 'BackupDeferred',
  /** The snapshot misses data and was not marked complete. */
  Incomplete: 'BackupIncomplete',
} as const;

// ---------------------------------------------------------------------------------------------
// Workflow inputs.
// ---------------------------------------------------------------------------------------------

/**
 * How long the queue gathers change events before the journal writer writes them (its event source
 * mapping's batching window). A restore to an instant waits this long past it, and a minute for
 * the relay, before it trusts the journal to hold every change up to that instant.
 */
export const JOURNAL_BATCHING_WINDOW_SECONDS = 300;

/** What a backup run takes: changed rows, every row, or the metadata only. */
export const BACKUP_MODES = ['incremental', 'full', 'metadata'] as const;

/** One of BACKUP_MODES. */
export type BackupMode = (typeof BACKUP_MODES)[number];

// ---------------------------------------------------------------------------------------------
// Environment variables the deployed functions read (set by lib/, read by lambdas/), and the ones
// the local runner sets instead (set by cli/).
// ---------------------------------------------------------------------------------------------

/** Environment variable names, by role. */
export const EnvName = {
  /** The vault bucket's name. */
  VaultBucket: 'VAULT_BUCKET',
  /** The vault key's ARN; objects are written with SSE-KMS under it. */
  VaultKeyArn: 'VAULT_KEY_ARN',
  /** The org's credentials in Secrets Manager. */
  OrgSecretArn: 'ORG_SECRET_ARN',
  /** Login URL used when the secret names none. */
  LoginUrl: 'SALESFORCE_LOGIN_URL',
  /** Salesforce API version, such as 62.0. */
  ApiVersion: 'SALESFORCE_API_VERSION',
  /** The org's backup settings, JSON (lambdas/core/backup/settings.ts parses them). */
  BackupSettings: 'BACKUP_SETTINGS',
  /** CloudWatch namespace of the metrics. */
  MetricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /** The org name whose backups a restore reads (its vault prefix). */
  OrgName: 'ORG_KEY',
  /** Rows from which a restore writes with Bulk API 2.0 ingest. */
  BulkThreshold: 'BULK_THRESHOLD',
  /** The drill sandbox's credentials in Secrets Manager. */
  DrillSecretArn: 'DRILL_SECRET_ARN',
  /** The drill sandbox's login URL. */
  DrillLoginUrl: 'DRILL_LOGIN_URL',
  /** The objects a drill restores, a JSON list. */
  DrillObjects: 'DRILL_OBJECTS',
  /** The vault's Object Lock mode (GOVERNANCE or COMPLIANCE), or empty when the vault has no lock. */
  ObjectLockMode: 'VAULT_OBJECT_LOCK_MODE',
  /** Local runs: a directory that stands in for the vault bucket. */
  LocalStoreDir: 'SFBACKUP_STORE_DIR',
  /** Local runs: an S3-compatible endpoint for the vault bucket. */
  S3Endpoint: 'SFBACKUP_S3_ENDPOINT',
  /** Local runs: the org's instance URL, with an access token instead of a secret. */
  LocalInstanceUrl: 'SFBACKUP_INSTANCE_URL',
  /** Local runs: the org's access token. */
  LocalAccessToken: 'SFBACKUP_ACCESS_TOKEN',
  /** Local drills: the sandbox's instance URL. */
  LocalDrillInstanceUrl: 'SFBACKUP_DRILL_INSTANCE_URL',
  /** Local drills: the sandbox's access token. */
  LocalDrillAccessToken: 'SFBACKUP_DRILL_ACCESS_TOKEN',
  /** The org's retention policy, JSON `{"daily": N, "weekly": N, "monthly": N, "yearly": N}`. */
  RetentionPolicy: 'RETENTION_POLICY',
} as const;

/** The CloudWatch namespace every function publishes its metrics in. */
export const METRICS_NAMESPACE = 'SfBackup';

/**
 * The success of one backup run, published by the finish step (1 for a complete snapshot, else 0)
 * under two dimension sets, `{org, service, mode}` and `{org, service, kind}`, and watched per kind
 * by the no-recent-success alarm: a metadata run that succeeds says nothing about the records.
 */
export const BackupSuccessMetric = {
  Name: 'BackupSucceeded',
  ModeDimension: 'mode',
  KindDimension: 'kind',
  DataKind: 'data',
  MetadataKind: 'metadata',
} as const;

/** The service names the functions log and publish metrics under. */
export const ServiceName = {
  Backup: 'sfbackup-backup',
  Restore: 'sfbackup-restore',
  Continuous: 'sfbackup-continuous',
  Report: 'sfbackup-report',
  Retention: 'sfbackup-retention',
  Erase: 'sfbackup-erase',
} as const;

/** The Salesforce API version used when none is configured. */
export const DEFAULT_API_VERSION = '62.0';

/** Where a production org's users sign in, used when neither the config nor the secret names a URL. */
export const PRODUCTION_LOGIN_URL = 'https://login.salesforce.com';

/** Where a sandbox's users sign in, used when neither the config nor the secret names a URL. */
export const SANDBOX_LOGIN_URL = 'https://test.salesforce.com';

// ---------------------------------------------------------------------------------------------
// The vault's layout, as far as permissions depend on it.
// ---------------------------------------------------------------------------------------------

/** Prefix under which each org's backups live: `orgs/<org name>/`. */
export const ORGS_PREFIX = 'orgs/';

/** The org's one mutable vault key, relative to its prefix; every other backup object is written once. */
export const LATEST_POINTER = 'latest-complete.json';

/** The only prefix a restore may write: its plans, id maps, reports and leases, per configured org. */
export const RESTORES_PREFIX = 'restores/';

/** Where the diff reports of each org go: `reports/<org name>/`, written by the org's report workflow only. */
export const REPORTS_PREFIX = 'reports/';

/**
 * The tiers of a retention policy, shortest first: how many of the newest daily, weekly (ISO),
 * monthly and yearly snapshots (UTC calendar) an org keeps.
 */
export const RETENTION_TIERS = ['daily', 'weekly', 'monthly', 'yearly'] as const;

/** One tier of a retention policy. */
export type RetentionTier = (typeof RETENTION_TIERS)[number];

/** A retention policy: snapshots kept per tier (0 keeps none by that tier). */
export type RetentionPolicy = Readonly<Record<RetentionTier, number>>;

/**
 * The folders under an org's prefix that the org's retention sweeper may delete from (a delete
 * marker: the versions stay, noncurrent), relative to `orgs/<org name>/`.
 */
export const SWEEPER_DELETE_FOLDERS = ['snapshots/', 'catalog/', 'files/'] as const;

/** Where the sweeper writes its log, relative to `orgs/<org name>/`: one entry per sweep, written first. */
export const RETENTION_LOG_FOLDER = 'retention/';
/**
 * A sweep's planning records and filters, relative to `orgs/<org name>/`: kept beside its log entry
 * (`retention/<time>-<execution>/planning-*`) while it plans over several invocations, and removed
 * by the sweep itself (a delete marker) once it has ended. No log entry matches: an entry's key
 * holds no `/` past the folder.
 */
export const SWEEP_PLANNING_RECORDS = `${RETENTION_LOG_FOLDER}*/planning-*`;
/** Under an org's prefix, where erasure records go: `orgs/<org>/erasures/` (plans and the log). */
export const ERASURES_FOLDER = 'erasures/';

/**
 * Under an erasure's folder, where its steps keep their progress between invocations (a plan, an
 * erase or a scan too long for one); removed when the step, or the execution, ends.
 */
export const ERASURE_PROGRESS_FOLDER = 'progress/';

/**
 * Under an erasure's folder, the list of every version it removed, each record written once before
 * the removal it names: a replica of the vault is cleaned from it, so no one may replace a record.
 */
export const ERASURE_REMOVED_FOLDER = 'removed/';

/** The vault prefix of one org's backups. */
export function orgPrefixOf(orgName: string): string {
  return `${ORGS_PREFIX}${orgName}/`;
}

/**
 * The vault prefix of one configured org's restore records, `restores/<org name>/`: the only
 * prefix that org's restore functions may read, list or write besides its backups. Below it, one
 * folder per Salesforce org restored into (the org itself, or the sandbox of its drill).
 */
export function restorePrefixOf(orgName: string): string {
  return `${RESTORES_PREFIX}${orgName}/`;
}

/**
 * How the run id begins under which an erasure holds an org's restore leases (`erasure-<execution>`),
 * so that lease readers tell its windows from restores'.
 */
export const ERASURE_LEASE_PREFIX = 'erasure-';

/**
 * How a real erasure waits for its org when a backup runs or another run holds a lease: its first
 * step answers that it waits, the state machine waits `intervalSeconds` and runs it again, until
 * `forSeconds` after the execution started; then the step fails.
 */
export const ERASURE_WAIT = { intervalSeconds: 300, forSeconds: 12 * 3600 } as const;

/**
 * Under an org's prefix, the org's vault lease, `orgs/<org>/lease/`: held by whichever run removes
 * or rewrites its backups (a retention sweep, `sweep-<execution>`; an erasure), one at a time, and
 * the heartbeats of its running backups, which an erasure waits for.
 */
export const VAULT_LEASE_FOLDER = 'lease/';

/** How the run id begins under which a retention sweep holds its org's vault lease. */
export const SWEEP_LEASE_PREFIX = 'sweep-';

/** Under the org's vault lease folder: each running backup's heartbeats. */
export const BACKUP_HEARTBEATS_FOLDER = 'backups/';
/** Under the org's vault lease folder: the end of each backup run that ended without a catalog entry. */
export const BACKUP_ENDED_FOLDER = 'backups-ended/';

/**
 * What every record a backup run writes about itself (its heartbeats and its end) begins with,
 * relative to `orgs/<org name>/`. None is read once the run's heartbeats have expired (an hour and
 * ten minutes after its last step at most), so the vault's lifecycle removes them after
 * `BACKUP_RUN_RECORDS_DAYS`; nothing else under the org's prefix begins so.
 */
export const BACKUP_RUN_RECORDS_PREFIX = `${VAULT_LEASE_FOLDER}backups`;
/** Days after which the vault's lifecycle removes a backup run's heartbeats and end record. */
export const BACKUP_RUN_RECORDS_DAYS = 2;

/**
 * Everything a backup of an org writes, relative to `orgs/<org name>/`: its snapshots, catalog
 * entries, file bodies and index, the latest pointer, and its heartbeats and end records. Nothing
 * else under the org's prefix is a backup's to write: the vault lease's claims, renewals and
 * releases, the retention log, the journal and the erasure records belong to other workflows.
 */
export const BACKUP_WRITE_PATTERNS = [
  'snapshots/*',
  'catalog/*',
  'files/*',
  LATEST_POINTER,
  `${VAULT_LEASE_FOLDER}${BACKUP_HEARTBEATS_FOLDER}*`,
  `${VAULT_LEASE_FOLDER}${BACKUP_ENDED_FOLDER}*`,
] as const;

/** The vault prefix of one configured org's diff reports. */
export function reportPrefixOf(orgName: string): string {
  return `${REPORTS_PREFIX}${orgName}/`;
}

/**
 * Every prefix of the vault that holds one configured org's records, which an erasure reads,
 * rewrites and scans: its backups, its restore records and its diff reports.
 */
export function erasePrefixesOf(orgName: string): string[] {
  return [orgPrefixOf(orgName), restorePrefixOf(orgName), reportPrefixOf(orgName)];
}

/**
 * The folders under an org's prefix that hold its records, which an erasure rewrites: never its
 * retention log, its latest pointer or the erasure records themselves.
 */
export const ERASE_FOLDERS = ['snapshots/', 'catalog/', 'files/', 'journal/'] as const;

/**
 * Where one org's erase role may remove versions (and bypass a GOVERNANCE lock), as key patterns:
 * the folders an erasure rewrites (its backups' snapshots, catalog, files and journal, its restore
 * records and diff reports), its own plans, which it rewrites without her values' digests at
 * the end, and the progress its steps keep between invocations, which it removes when they end.
 * Never the erasure log, the retention log or the latest pointer.
 */
export function eraseRemovalPatternsOf(orgName: string): string[] {
  const org = orgPrefixOf(orgName);
  return [
    ...ERASE_FOLDERS.map((folder) => `${org}${folder}*`),
    `${org}${ERASURES_FOLDER}*/plan.json`,
    `${org}${ERASURES_FOLDER}*/${ERASURE_PROGRESS_FOLDER}*`,
    `${restorePrefixOf(orgName)}*`,
    `${reportPrefixOf(orgName)}*`,
  ];
}

// ---------------------------------------------------------------------------------------------
// The org name: the config's name for an org, its vault prefix and, locally, its lower-cased org id.
// ---------------------------------------------------------------------------------------------

/** 2 to 32 lower-case letters, digits or hyphens, starting and ending with a letter or digit. */
export const ORG_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/;

/** What an org name must look like, for error messages. */
export const ORG_NAME_RULE =
  '2 to 32 lower-case letters, digits or "-", starting and ending with a letter or digit, such as "acme-prod"';

/** Why `name` cannot be an org name, or undefined when it can. */
export function orgNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `the org name must be a string: write ${ORG_NAME_RULE}`;
  if (ORG_NAME_PATTERN.test(name)) return undefined;
  return `"${name}" is not a valid org name: write ${ORG_NAME_RULE}`;
}
