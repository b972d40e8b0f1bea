/** `sfbackup restore`: runs the synthesized restore workflow locally with the same input JSON as the console. */
import { readFileSync, statSync } from 'node:fs';
import { displayOrg } from '../../contract/org-id.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { type InputProblem, InvalidRestoreRequestError } from '../../lambdas/core/restore/errors.ts';
import {
  inputShapeProblem,
  inputSizeProblem,
  parseRestoreInput,
  pointInTimeProblem,
} from '../../lambdas/core/restore/input.ts';
import type { Json, RunResult } from '../local/index.ts';
import {
  executionFigures,
  type LocalRunOptions,
  runCommand,
  runLocalWorkflow,
  type WorkflowCommand,
} from './local-run.ts';
import { otherOrgsHint } from './vault-read.ts';
import { CONNECTION_HELP, describeStore, type OrgConnection, OUTPUT_HELP } from './options.ts';

const USAGE = `Usage: sfbackup restore --instance-url URL --access-token TOKEN --store DIR --input FILE [options]

Restores an org from its backups with the restore workflow CDK synthesizes, run locally: the
real handlers in-process, the same input JSON as the console (see docs/restore.md). A dry run
(the default mode) prints the plan and writes nothing to the org.

Options:
${CONNECTION_HELP}  --input FILE           the restore input JSON ("-" reads standard input)
  --point-in-time ISO    restore the org as of this instant (with its time zone, e.g.
                         2026-01-31T12:00:05Z): sets the input's "pointInTime"; the dry-run plan
                         says per object whether it is continuous to then or snapshot only
  --drill-instance-url URL, --drill-access-token TOKEN
                         the sandbox a {"drill": true} input restores into
${OUTPUT_HELP}`;

/** The vault holds nothing to restore the org from; the message names the vault and what it holds. */
export class NothingToRestoreError extends Error {
  override readonly name = 'NothingToRestore';
}

/** Options of one local restore. */
export interface LocalRestoreOptions extends LocalRunOptions {
  /** The input as the console takes it: an object, or JSON text. */
  readonly input: unknown;
  readonly drill?: OrgConnection;
  /** Rows from which Bulk API 2.0 ingest is used. @default 1000 */
  readonly bulkThreshold?: number;
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
  const { bulkThreshold } = options;
  const { buildLocalRestoreApp } = await import('./local-app.ts');
  const { org, result } = await runLocalWorkflow({
    ...options,
    app: (key) => buildLocalRestoreApp(key, bulkThreshold !== undefined ? { bulkThreshold } : {}),
    appKey: `restore\n${bulkThreshold ?? ''}`,
    input: () => options.input as Json,
    beforeSynthesis: async (key, vault) => {
      if (await new SnapshotReader(vault).latestComplete(key)) return;
      throw new NothingToRestoreError(
        `The vault at ${describeStore(options.store)} holds no complete snapshot of org ${displayOrg(key)}. ` +
          `${await otherOrgsHint(vault, key)} Otherwise run "sfbackup backup" for this org first.`,
      );
    },
    waitScale: 0.05,
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
    execution: executionFigures(result),
  };
  return { summary, result };
}

const OPTIONS = {
  input: { type: 'string' },
  'point-in-time': { type: 'string' },
  'drill-instance-url': { type: 'string' },
  'drill-access-token': { type: 'string' },
} as const;

/** The command line of `sfbackup restore`. */
const restoreCommand: WorkflowCommand<
  typeof OPTIONS,
  Pick<LocalRestoreOptions, 'input' | 'drill'>,
  RestoreSummary
> = {
  name: 'restore',
  usage: USAGE,
  options: OPTIONS,
  read(values, problems) {
    let input: string | undefined;
    if (!values.input) {
      problems.push('--input FILE is required (the restore input JSON, as in docs/restore.md)');
    } else {
      try {
        // A file is measured before it is read: a restore input is at most 256 KB.
        const tooLarge = values.input === '-' ? undefined : inputSizeProblem(statSync(values.input).size);
        if (tooLarge) problems.push(`--input ${values.input}: ${tooLarge.problem} Fix: ${tooLarge.fix}`);
        else input = readFileSync(values.input === '-' ? 0 : values.input, 'utf8');
      } catch (error) {
        problems.push(
          `--input ${values.input} cannot be read (${(error as Error).message}): name a JSON file, or - for standard input`,
        );
      }
    }
    const before = problems.length;
    const parsed = withPointInTime(parseInput(input), values['point-in-time'], problems);
    // Checked here as well as by the workflow, since a deep input would exhaust the stack of the
    // local runner before the workflow could reject it.
    const shape =
      input === undefined
        ? undefined
        : (inputSizeProblem(Buffer.byteLength(input)) ?? inputShapeProblem(parsed));
    if (shape) problems.push(`--input ${values.input}: ${shape.problem} Fix: ${shape.fix}`);
    // Everything the workflow's own validation decides without the org or the vault is decided
    // here too, before the org is contacted and the workflow synthesized; the workflow still
    // checks it, for the console.
    else if (input !== undefined && problems.length === before && !isDrill(parsed)) {
      for (const p of inputProblems(parsed)) {
        problems.push(`--input ${values.input}: ${p.field}: ${p.problem} Fix: ${p.fix}`);
      }
    }
    const drillUrl = values['drill-instance-url'];
    const drillToken = values['drill-access-token'];
    if ((drillUrl === undefined) !== (drillToken === undefined)) {
      problems.push(
        drillUrl === undefined
          ? "--drill-access-token needs --drill-instance-url: give the sandbox's instance URL too"
          : '--drill-instance-url needs --drill-access-token: give an access token for the sandbox too',
      );
    }
    return {
      input: parsed,
      ...(drillUrl && drillToken ? { drill: { instanceUrl: drillUrl, accessToken: drillToken } } : {}),
    };
  },
  run: runLocalRestore,
  exitCode: (summary) => (summary.status === 'SUCCEEDED' ? 0 : 1),
  describe: (summary) =>
    `Restore of org ${displayOrg(summary.org)}: ${summary.status}${summary.error ? ` (${summary.error})` : ''}\n${summary.message}\n` +
    (summary.reportKey ? `Report: ${summary.reportKey}\n` : '') +
    (summary.planKey ? `Plan: ${summary.planKey}\n` : ''),
};

/**
 * The input with `--point-in-time` as its `pointInTime`, checked as the workflow checks the field.
 * An input that already names what to restore from (`pointInTime`, or a `snapshot` other than
 * "latest") is refused rather than overridden.
 */
function withPointInTime(parsed: unknown, pointInTime: string | undefined, problems: string[]): unknown {
  if (pointInTime === undefined) return parsed;
  const problem = pointInTimeProblem(pointInTime);
  if (problem) problems.push(`--point-in-time ${pointInTime}: ${problem.problem} Fix: ${problem.fix}`);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return parsed;
  const input = parsed as Record<string, unknown>;
  for (const field of ['pointInTime', 'snapshot'] as const) {
    if (input[field] === undefined || (field === 'snapshot' && input[field] === 'latest')) continue;
    problems.push(
      `--point-in-time cannot be combined with the input's "${field}" (${JSON.stringify(input[field])}): each names what to restore from. Fix: remove one of them.`,
    );
  }
  return { ...input, pointInTime };
}

/** A drill's input ({"drill": true}) is checked by the workflow against the configured drill. */
function isDrill(input: unknown): boolean {
  return input !== null && typeof input === 'object' && (input as { drill?: unknown }).drill === true;
}

/** Every problem parseRestoreInput finds in the input, none when it accepts it. */
function inputProblems(input: unknown): readonly InputProblem[] {
  try {
    parseRestoreInput(input);
    return [];
  } catch (error) {
    if (error instanceof InvalidRestoreRequestError) return error.problems;
    throw error;
  }
}

/** The text goes to the workflow as it is when it is not JSON: the workflow rejects it, as the console's input would be. */
function parseInput(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return text;
  }
}

/** Runs the command; resolves to the exit code (0 only when the execution succeeded). */
export function run(args: string[]): Promise<number> {
  return runCommand(restoreCommand, args);
}
