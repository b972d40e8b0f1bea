/** `sfbackup restore`: runs the synthesized restore workflow locally with the same input JSON as the console. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CfnElement } from 'aws-cdk-lib';
import { createStore } from '../../lambdas/adapters/create-store.ts';
import {
  type LocalHistoryEvent,
  type RunResult,
  runSynthesizedWorkflow,
  type SnsMessage,
} from '../local/index.ts';
import { orgKeyOf } from './backup.ts';
import { buildLocalRestoreApp } from './restore-app.ts';

const USAGE = `Usage: sfbackup restore --instance-url URL --access-token TOKEN --store DIR --input FILE [options]

Restores an org from its backups with the restore workflow CDK synthesizes, run locally: the
real handlers in-process, the same input JSON as the console (see docs/restore.md). A dry run
(the default mode) prints the plan and writes nothing to the org.

Options:
  --instance-url URL     the org's instance URL (e.g. the emulator's)
  --access-token TOKEN   an access token for it (or SFBACKUP_ACCESS_TOKEN)
  --store DIR            local directory of the vault
  --s3-endpoint URL      use an S3-compatible server instead of a directory...
  --bucket NAME          ...and this bucket in it
  --input FILE           the restore input JSON ("-" reads standard input)
  --org NAME             the org's key in the vault (default: the org id, lower-cased, as the backup uses)
  --drill-instance-url URL, --drill-access-token TOKEN
                         the sandbox a {"drill": true} input restores into
  --json                 print one summary object last
  -h, --help             show this help
`;

/** Options of one local restore. */
export interface LocalRestoreOptions {
  readonly instanceUrl: string;
  readonly accessToken: string;
  readonly store: string | { s3: { bucket: string; endpoint?: string } };
  /** The input as the console takes it: an object, or JSON text. */
  readonly input: unknown;
  readonly org?: string;
  readonly drill?: { instanceUrl: string; accessToken: string };
  /** Rows from which Bulk API 2.0 ingest is used. @default 1000 */
  readonly bulkThreshold?: number;
  readonly executionName?: string;
  readonly retryIntervalScale?: number;
  readonly onSns?: (message: SnsMessage) => void;
  readonly onEvent?: (event: LocalHistoryEvent) => void;
}

/** The summary `--json` prints. */
export interface RestoreSummary {
  readonly org: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly mode: string | null;
  readonly error: string | null;
  /** The plan or verification summary, or the error's message. */
  readonly message: string;
  readonly planKey: string | null;
  readonly reportKey: string | null;
  readonly recoveryTimeSeconds: number | null;
  readonly snsMessages: number;
  readonly execution: { historyEvents: number; largestPayloadBytes: number; withinLimits: boolean };
}

/** Runs one restore locally and returns its summary and the runner's result. */
export async function runLocalRestore(
  options: LocalRestoreOptions,
): Promise<{ summary: RestoreSummary; result: RunResult }> {
  const org = options.org ?? (await orgKeyOf(options.instanceUrl, options.accessToken));
  const { stack, workflow, bucket } = buildLocalRestoreApp(org, {
    ...(options.bulkThreshold !== undefined ? { bulkThreshold: options.bulkThreshold } : {}),
  });
  const store = createStore(options.store);
  const s3 = typeof options.store === 'string' ? undefined : options.store.s3;
  const env: Record<string, string> = {
    SFBACKUP_INSTANCE_URL: options.instanceUrl,
    SFBACKUP_ACCESS_TOKEN: options.accessToken,
    ...(options.drill
      ? {
          SFBACKUP_DRILL_INSTANCE_URL: options.drill.instanceUrl,
          SFBACKUP_DRILL_ACCESS_TOKEN: options.drill.accessToken,
        }
      : {}),
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...(typeof options.store === 'string' ? { SFBACKUP_STORE_DIR: options.store } : {}),
    ...(s3?.endpoint ? { SFBACKUP_S3_ENDPOINT: s3.endpoint, VAULT_KEY_ARN: '' } : {}),
  };
  const bucketId = stack.getLogicalId(bucket.node.defaultChild as CfnElement);
  const result = await runSynthesizedWorkflow({
    stack,
    stateMachine: workflow.stateMachine,
    input: options.input as never,
    store,
    env,
    ...(s3 ? { bucketNames: { [bucketId]: s3.bucket } } : {}),
    retryIntervalScale: options.retryIntervalScale ?? 0.02,
    waitScale: 0.05,
    ...(options.executionName ? { executionName: options.executionName } : {}),
    ...(options.onSns ? { onSns: options.onSns } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  const output = (result.output ?? {}) as Record<string, unknown>;
  const text = (key: string): string | null =>
    typeof output[key] === 'string' ? (output[key] as string) : null;
  const summary: RestoreSummary = {
    org,
    status: result.status,
    mode: text('mode'),
    error: result.error ?? null,
    message: text('summary') ?? result.errorMessage ?? '',
    planKey: text('planKey'),
    reportKey: text('reportKey'),
    recoveryTimeSeconds: typeof output.recoveryTimeSeconds === 'number' ? output.recoveryTimeSeconds : null,
    snsMessages: result.snsMessages.length,
    execution: {
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

/** Runs the command; resolves to the exit code (0 only when the execution succeeded). */
export async function run(args: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(args).values;
  } catch (error) {
    process.stderr.write(`sfbackup restore: ${(error as Error).message}\n\n${USAGE}`);
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
  if (!values.input)
    problems.push('--input FILE is required (the restore input JSON, as in docs/restore.md)');
  let input: string | undefined;
  if (values.input) {
    try {
      input = readFileSync(values.input === '-' ? 0 : values.input, 'utf8');
    } catch (error) {
      problems.push(`--input ${values.input} cannot be read (${(error as Error).message})`);
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`sfbackup restore: ${problems.join('; ')}.\n\n${USAGE}`);
    return 2;
  }
  // The text goes to the workflow as it is: malformed JSON is rejected there, as the console's input would be.
  let parsed: unknown = input;
  try {
    parsed = JSON.parse(input ?? '');
  } catch {
    parsed = input;
  }
  const { summary } = await runLocalRestore({
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
    input: parsed,
    ...(values.org ? { org: values.org } : {}),
    ...(values['drill-instance-url'] && values['drill-access-token']
      ? { drill: { instanceUrl: values['drill-instance-url'], accessToken: values['drill-access-token'] } }
      : {}),
    onSns: (message) => process.stderr.write(`[SNS ${message.subject ?? ''}] ${message.message}\n`),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `Restore of org ${summary.org}: ${summary.status}${summary.error ? ` (${summary.error})` : ''}\n${summary.message}\n` +
        (summary.reportKey ? `Report: ${summary.reportKey}\n` : '') +
        (summary.planKey ? `Plan: ${summary.planKey}\n` : ''),
    );
  }
  return summary.status === 'SUCCEEDED' ? 0 : 1;
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
      input: { type: 'string' },
      org: { type: 'string' },
      'drill-instance-url': { type: 'string' },
      'drill-access-token': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
