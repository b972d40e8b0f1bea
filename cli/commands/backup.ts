/** `sfbackup backup`: runs the synthesized backup workflow locally against an org (or the emulator). */
import { displayOrg } from '../../contract/org-id.ts';
import { BACKUP_MODES, BackupFailure, type BackupMode, EnvName } from '../../contract/workflow-contract.ts';
import { checkBackupSettings } from '../../lambdas/core/backup/settings.ts';
import type { FinishOutput } from '../../lambdas/core/backup/types.ts';
import type { SkippedObject } from '../../lambdas/core/snapshot/manifest.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import type { RunResult } from '../local/index.ts';
import {
  executionFigures,
  type LocalRunOptions,
  runCommand,
  runLocalWorkflow,
  type WorkflowCommand,
} from './local-run.ts';
import { otherOrgsHint } from './vault-read.ts';
import { CONNECTION_HELP, describeStore, OUTPUT_HELP } from './options.ts';

const USAGE = `Usage: sfbackup backup --instance-url URL --access-token TOKEN --store DIR [options]

Backs up an org with the backup workflow CDK synthesizes, run locally: the real handlers
in-process, Distributed Map items read from the store, SNS messages printed.

Options:
${CONNECTION_HELP}  --mode MODE            full | incremental | metadata (default incremental; the first run is full)
  --settings JSON        backup settings (pageSize, excludeObjects, overlapSeconds, ...; see docs)
  --verbose              print handler logs
${OUTPUT_HELP}`;

/** Options of one local backup run. */
export interface LocalBackupOptions extends LocalRunOptions {
  readonly mode: BackupMode;
  readonly settings?: Record<string, unknown>;
  readonly verbose?: boolean;
}

/** The summary `--json` prints. */
export interface BackupSummary {
  readonly org: string;
  readonly snapshotId: string | null;
  readonly status: 'complete' | 'failed' | 'deferred';
  readonly mode: string;
  /** Why a run asked to be incremental ran as a full one; absent when it did not. */
  readonly fullReason?: string;
  /** What the run could not check and did not fail for (an unreadable Event Relay); absent when none. */
  readonly warnings?: readonly string[];
  readonly objects: number;
  readonly rows: number;
  readonly files: number;
  readonly filesDownloaded: number;
  readonly metadataComponents: number;
  readonly apiCalls: number;
  readonly problems: readonly string[];
  /** Objects the snapshot leaves out, each with its reason. */
  readonly skippedObjects: readonly SkippedObject[];
  /** Those the previous complete snapshot did not leave out: said once. */
  readonly newlySkipped: readonly SkippedObject[];
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
  const { buildLocalBackupApp } = await import('./local-app.ts');
  const { org, store, result, startedAt } = await runLocalWorkflow({
    ...options,
    app: (key) => buildLocalBackupApp(key),
    appKey: 'backup',
    input: (key) => ({ org: key, mode: options.mode }),
    beforeSynthesis: async (key, vault) => {
      if ((await new SnapshotReader(vault).catalog(key)).length > 0) return;
      options.onNotice?.(
        `Starting a new backup chain for org ${displayOrg(key)} in ${describeStore(options.store)}: ` +
          `the vault holds no snapshot of it. ${await otherOrgsHint(vault, key)}`,
      );
    },
    env: { [EnvName.BackupSettings]: JSON.stringify(options.settings ?? {}) },
  });
  const finish = result.status === 'SUCCEEDED' ? (result.output as unknown as FinishOutput) : undefined;
  let snapshotId = finish?.snapshotId ?? null;
  let problems: string[] = finish ? [...finish.problems] : [];
  if (!finish) {
    // A failed execution: the catalog says which snapshot it was and what is missing, if it got that far.
    const entry = (await new SnapshotReader(store).catalog(org))
      .filter((e) => e.startedAt >= startedAt.slice(0, 19))
      .at(-1);
    snapshotId = entry?.snapshotId ?? null;
    problems = entry ? entry.problems : [failureOf(result)];
  }
  // The lists stay out of the workflow's state: the manifest has them.
  const skippedObjects =
    finish && finish.objectsSkipped > 0
      ? (await new SnapshotReader(store).manifest(org, finish.snapshotId)).skippedObjects
      : [];
  const summary: BackupSummary = {
    org,
    snapshotId,
    status:
      finish?.status === 'complete'
        ? 'complete'
        : result.error === BackupFailure.Deferred
          ? 'deferred'
          : 'failed',
    mode: finish?.mode ?? options.mode,
    ...(finish?.fullReason ? { fullReason: finish.fullReason } : {}),
    ...(finish?.warnings && finish.warnings.length > 0 ? { warnings: finish.warnings } : {}),
    objects: finish?.objects ?? 0,
    rows: finish?.rows ?? 0,
    files: finish?.files ?? 0,
    filesDownloaded: finish?.filesDownloaded ?? 0,
    metadataComponents: finish?.metadataComponents ?? 0,
    apiCalls: finish?.apiCalls ?? 0,
    problems,
    skippedObjects,
    newlySkipped: skippedObjects.filter((o) => o.firstTime === true),
    execution: {
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
      ...executionFigures(result),
    },
  };
  return { summary, result };
}

const OPTIONS = {
  mode: { type: 'string' },
  settings: { type: 'string' },
  verbose: { type: 'boolean' },
} as const;

/** The command line of `sfbackup backup`. */
const backupCommand: WorkflowCommand<
  typeof OPTIONS,
  Pick<LocalBackupOptions, 'mode' | 'settings' | 'verbose'>,
  BackupSummary
> = {
  name: 'backup',
  usage: USAGE,
  options: OPTIONS,
  read(values, problems) {
    const mode = values.mode ?? 'incremental';
    if (!isMode(mode)) problems.push(`--mode is "${mode}": write full, incremental or metadata`);
    // Checked here, before anything slow (the org, the synthesis), with the schema the handlers
    // use, so that every bad field comes back at once; the handlers still check them as deployed.
    let settings: Record<string, unknown> = {};
    if (values.settings !== undefined) {
      const checked = checkBackupSettings(values.settings);
      if ('settings' in checked) {
        settings = JSON.parse(values.settings) as Record<string, unknown>;
      } else {
        for (const problem of checked.problems) {
          problems.push(
            `--settings: ${problem}; see docs/local-runner.md for the keys, e.g. '{"pageSize":50000}'`,
          );
        }
      }
    }
    return { mode: isMode(mode) ? mode : 'incremental', settings, verbose: values.verbose ?? false };
  },
  run: runLocalBackup,
  exitCode: (summary) => (summary.status === 'complete' ? 0 : 1),
  describe: describeBackup,
};

/** The human summary of a run that `sfbackup backup` prints. */
export function describeBackup(summary: BackupSummary): string {
  return (
    `Backup ${summary.snapshotId ?? '(none)'} of org ${displayOrg(summary.org)}: ${summary.status.toUpperCase()} (${summary.mode})\n` +
    (summary.fullReason ? `  ran in full instead of incremental: ${summary.fullReason}\n` : '') +
    `  objects ${summary.objects}, rows ${summary.rows}, files ${summary.files} (${summary.filesDownloaded} downloaded), ` +
    `metadata components ${summary.metadataComponents}, API calls ${summary.apiCalls}\n` +
    `  execution ${summary.execution.status}: ${summary.execution.historyEvents} history events, largest payload ${summary.execution.largestPayloadBytes} bytes\n` +
    summary.problems.map((p) => `  - ${p}\n`).join('') +
    (summary.warnings ?? []).map((w) => `  warning: ${w}\n`).join('') +
    describeSkipped(summary)
  );
}

/** The objects left out, each with its reason; those left out for the first time are marked. */
export function describeSkipped(summary: Pick<BackupSummary, 'skippedObjects' | 'newlySkipped'>): string {
  if (summary.skippedObjects.length === 0) return '';
  const fresh = new Set(summary.newlySkipped.map((o) => o.name));
  const lines = summary.skippedObjects.map(
    (o) => `    ${o.name}: ${o.reasonCode ?? 'skipped'}: ${o.reason}${fresh.has(o.name) ? ' (new)' : ''}`,
  );
  const heading =
    fresh.size > 0
      ? `  skipped ${summary.skippedObjects.length} objects, ${fresh.size} not skipped before ("sfbackup coverage" lists them again):`
      : `  skipped ${summary.skippedObjects.length} objects ("sfbackup coverage" lists them again):`;
  return `${heading}\n${lines.join('\n')}\n`;
}

function isMode(mode: string): mode is LocalBackupOptions['mode'] {
  return (BACKUP_MODES as readonly string[]).includes(mode);
}

/** Runs the command; resolves to the exit code (non-zero when the run failed). */
export function run(args: string[]): Promise<number> {
  return runCommand(backupCommand, args);
}

/**
 * Why a run that wrote no catalog entry failed: the run-failed alert names the step's error and
 * message (the execution's own error only says to read that alert).
 */
function failureOf(result: RunResult): string {
  for (const { message } of result.snsMessages) {
    const match = /^Backup of org \S+ failed: (\S+) ([\s\S]*)$/.exec(message);
    if (!match) continue;
    try {
      const cause = JSON.parse(match[2]!) as { errorMessage?: unknown };
      if (typeof cause.errorMessage === 'string') return `${match[1]}: ${cause.errorMessage}`;
    } catch {
      // Not a Lambda's cause: the alert's text as it is.
    }
    return `${match[1]}: ${match[2]}`;
  }
  return `${result.error ?? 'Error'}: ${result.errorMessage ?? ''}`;
}
