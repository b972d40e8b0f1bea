/** `sfbackup backup`: runs the synthesized backup workflow locally against an org (or the emulator). */
import { parseArgs } from 'node:util';
import type { CfnElement } from 'aws-cdk-lib';
import {
  type LocalHistoryEvent,
  type RunResult,
  runWorkflow,
  type SnsMessage,
  type SynthesizedWorkflow,
  synthesizeDefinition,
} from '../local/index.ts';
import { createStore } from '../../lambdas/adapters/create-store.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import type { FinishOutput } from '../../lambdas/core/backup/types.ts';
import { buildLocalBackupApp } from './backup-app.ts';

const USAGE = `Usage: sfbackup backup --instance-url URL --access-token TOKEN --store DIR [options]

Backs up an org with the backup workflow CDK synthesizes, run locally: the real handlers
in-process, Distributed Map items read from the store, SNS messages printed.

Options:
  --instance-url URL     the org's instance URL (e.g. the emulator's)
  --access-token TOKEN   an access token for it (or SFBACKUP_ACCESS_TOKEN)
  --store DIR            local directory of the vault (default store)
  --s3-endpoint URL      use an S3-compatible server instead of a directory...
  --bucket NAME          ...and this bucket in it (with --s3-endpoint, or AWS S3 without it)
  --mode MODE            full | incremental | metadata (default incremental; the first run is full)
  --org NAME             the org's key in the vault (default: the org id, lower-cased)
  --settings JSON        backup settings (pageSize, excludeObjects, overlapSeconds, ...; see docs)
  --json                 print one summary object last
  --verbose              print handler logs
  -h, --help             show this help
`;

/** Options of one local backup run. */
export interface LocalBackupOptions {
  readonly instanceUrl: string;
  readonly accessToken: string;
  readonly store: string | { s3: { bucket: string; endpoint?: string } };
  readonly mode: 'full' | 'incremental' | 'metadata';
  readonly org?: string;
  readonly settings?: Record<string, unknown>;
  readonly verbose?: boolean;
  /** Multiplies Retry intervals (1 waits as deployed). @default 0.02 */
  readonly retryIntervalScale?: number;
  readonly onSns?: (message: SnsMessage) => void;
  /** Child executions a Distributed Map runs at once locally. @default 8 */
  readonly maxConcurrency?: number;
  /** Receives every interpreter event (tests and diagnostics). */
  readonly onEvent?: (event: LocalHistoryEvent) => void;
}

/** The summary `--json` prints. */
export interface BackupSummary {
  readonly org: string;
  readonly snapshotId: string | null;
  readonly status: 'complete' | 'failed' | 'deferred';
  readonly mode: string;
  readonly objects: number;
  readonly rows: number;
  readonly files: number;
  readonly filesDownloaded: number;
  readonly metadataComponents: number;
  readonly apiCalls: number;
  readonly problems: readonly string[];
  readonly execution: {
    status: string;
    error?: string;
    historyEvents: number;
    largestPayloadBytes: number;
    withinLimits: boolean;
  };
}

/** Runs one backup locally and returns its summary and the runner's result. */
export async function runLocalBackup(
  options: LocalBackupOptions,
): Promise<{ summary: BackupSummary; result: RunResult }> {
  const org = options.org ?? (await orgKeyOf(options.instanceUrl, options.accessToken));
  const store = createStore(typeof options.store === 'string' ? options.store : options.store);
  const s3 = typeof options.store === 'string' ? undefined : options.store.s3;
  const workflow = synthesized(org, s3?.bucket);
  const env: Record<string, string> = {
    SFBACKUP_INSTANCE_URL: options.instanceUrl,
    SFBACKUP_ACCESS_TOKEN: options.accessToken,
    BACKUP_SETTINGS: JSON.stringify(options.settings ?? {}),
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: options.verbose ? 'INFO' : 'SILENT',
    ...(typeof options.store === 'string' ? { SFBACKUP_STORE_DIR: options.store } : {}),
    ...(s3?.endpoint ? { SFBACKUP_S3_ENDPOINT: s3.endpoint, VAULT_KEY_ARN: '' } : {}),
  };
  const started = new Date().toISOString();
  const result = await runWorkflow({
    workflow,
    input: { org, mode: options.mode },
    store,
    env,
    retryIntervalScale: options.retryIntervalScale ?? 0.02,
    ...(options.onSns ? { onSns: options.onSns } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
  });
  const finish = result.status === 'SUCCEEDED' ? (result.output as unknown as FinishOutput) : undefined;
  let snapshotId = finish?.snapshotId ?? null;
  let problems: string[] = finish ? [...finish.problems] : [];
  if (!finish) {
    // A failed execution: the catalog says which snapshot it was and what is missing, if it got that far.
    const entry = (await new SnapshotReader(store).catalog(org))
      .filter((e) => e.startedAt >= started.slice(0, 19))
      .at(-1);
    snapshotId = entry?.snapshotId ?? null;
    problems = entry ? entry.problems : [`${result.error ?? 'Error'}: ${result.errorMessage ?? ''}`];
  }
  const summary: BackupSummary = {
    org,
    snapshotId,
    status:
      finish?.status === 'complete' ? 'complete' : result.error === 'BackupDeferred' ? 'deferred' : 'failed',
    mode: finish?.mode ?? options.mode,
    objects: finish?.objects ?? 0,
    rows: finish?.rows ?? 0,
    files: finish?.files ?? 0,
    filesDownloaded: finish?.filesDownloaded ?? 0,
    metadataComponents: finish?.metadataComponents ?? 0,
    apiCalls: finish?.apiCalls ?? 0,
    problems,
    execution: {
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
      historyEvents: Math.max(result.history.events, result.history.largestChildEvents),
      largestPayloadBytes: Math.max(
        result.history.largestPayloadBytes,
        result.history.largestChildPayloadBytes,
      ),
      withinLimits: result.withinLimits,
    },
  };
  return { summary, result };
}

const synthesizedByOrg = new Map<string, SynthesizedWorkflow>();

/** Synthesizes the org's workflow once per process (synthesis takes seconds; the definition never changes). */
function synthesized(org: string, bucketName: string | undefined): SynthesizedWorkflow {
  const cacheKey = `${org}\n${bucketName ?? ''}`;
  let workflow = synthesizedByOrg.get(cacheKey);
  if (!workflow) {
    const app = buildLocalBackupApp(org);
    const bucketId = app.stack.getLogicalId(app.bucket.node.defaultChild as CfnElement);
    workflow = synthesizeDefinition(
      app.stack,
      app.workflow.stateMachine,
      bucketName ? { bucketNames: { [bucketId]: bucketName } } : {},
    );
    synthesizedByOrg.set(cacheKey, workflow);
  }
  return workflow;
}

/** The default org key: the org id, lower-cased, from the identity endpoint. */
export async function orgKeyOf(instanceUrl: string, accessToken: string): Promise<string> {
  const response = await fetch(`${instanceUrl.replace(/\/+$/, '')}/services/oauth2/userinfo`, {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
  });
  if (!response.ok) {
    throw new Error(
      `Could not read the org id from ${instanceUrl} (HTTP ${response.status}); pass --org NAME or check the token.`,
    );
  }
  const info = (await response.json()) as { organization_id?: string };
  if (!info.organization_id) throw new Error('The identity answer has no organization_id; pass --org NAME.');
  return info.organization_id.toLowerCase();
}

/** Runs the command; resolves to the exit code (non-zero when the run failed). */
export async function run(args: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(args).values;
  } catch (error) {
    process.stderr.write(`sfbackup backup: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const token = values['access-token'] ?? process.env.SFBACKUP_ACCESS_TOKEN;
  const problems: string[] = [];
  if (!values['instance-url']) problems.push('--instance-url is required');
  if (!token) problems.push('--access-token (or SFBACKUP_ACCESS_TOKEN) is required');
  if (!values.store && !values.bucket) problems.push('--store DIR, or --bucket NAME, is required');
  if (values['s3-endpoint'] && !values.bucket) problems.push('--s3-endpoint needs --bucket');
  const mode = values.mode ?? 'incremental';
  if (!['full', 'incremental', 'metadata'].includes(mode))
    problems.push(`--mode is "${mode}": write full, incremental or metadata`);
  let settings: Record<string, unknown> = {};
  if (values.settings) {
    try {
      settings = JSON.parse(values.settings) as Record<string, unknown>;
    } catch {
      problems.push('--settings is not JSON, e.g. \'{"pageSize":50000}\'');
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`sfbackup backup: ${problems.join('; ')}.\n\n${USAGE}`);
    return 2;
  }
  const { summary } = await runLocalBackup({
    instanceUrl: values['instance-url']!,
    accessToken: token!,
    store: values.bucket
      ? {
          s3: {
            bucket: values.bucket,
            ...(values['s3-endpoint'] ? { endpoint: values['s3-endpoint'] } : {}),
          },
        }
      : values.store!,
    mode: mode as LocalBackupOptions['mode'],
    ...(values.org ? { org: values.org } : {}),
    settings,
    verbose: values.verbose ?? false,
    onSns: (message) => process.stderr.write(`[SNS ${message.subject ?? ''}] ${message.message}\n`),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `Backup ${summary.snapshotId ?? '(none)'} of org ${summary.org}: ${summary.status.toUpperCase()} (${summary.mode})\n` +
        `  objects ${summary.objects}, rows ${summary.rows}, files ${summary.files} (${summary.filesDownloaded} downloaded), ` +
        `metadata components ${summary.metadataComponents}, API calls ${summary.apiCalls}\n` +
        `  execution ${summary.execution.status}: ${summary.execution.historyEvents} history events, largest payload ${summary.execution.largestPayloadBytes} bytes\n` +
        summary.problems.map((p) => `  - ${p}\n`).join(''),
    );
  }
  return summary.status === 'complete' ? 0 : 1;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    options: {
      'instance-url': { type: 'string' },
      'access-token': { type: 'string' },
      store: { type: 'string' },
      's3-endpoint': { type: 'string' },
      bucket: { type: 'string' },
      mode: { type: 'string' },
      org: { type: 'string' },
      settings: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
