/**
 * `sfbackup erase`: runs the synthesized erase workflow on a local vault, under the workflow's own
 * IAM and bucket policies, with the same input JSON as the console. A dry run unless the input
 * says `"mode": "erase"` with the org id in `confirmOrgId`.
 */
import { readFileSync, statSync } from 'node:fs';
import { displayOrg } from '../../contract/org-id.ts';
import { ERASURE_WAIT } from '../../contract/workflow-contract.ts';
import { InvalidEraseRequestError } from '../../lambdas/core/erase/errors.ts';
import { parseEraseInput } from '../../lambdas/core/erase/input.ts';
import type { ErasureOutcome } from '../../lambdas/core/erase/execute.ts';
import type { ErasureSummary } from '../../lambdas/core/erase/plan.ts';
import type { EraseFinished, EraseStarted } from '../../lambdas/core/erase/workflow.ts';
import { MAX_INPUT_BYTES } from '../../lambdas/core/restore/input.ts';
import type { Json, LocalHistoryEvent, RunResult, TaskStep } from '../local/index.ts';
import { executionFigures, runLocalWorkflow } from './local-run.ts';
import { describeProblems, type LocalStoreSpec, parseCommandLine } from './options.ts';
import { alignColumns } from './text-table.ts';
import { withProgressLine } from './progress.ts';
import { heldOrgToRead, otherOrgsHint, readVaultOptions, VAULT_HELP } from './vault-read.ts';

/** A local run waits this fraction of the deployed wait between tries of a busy org. */
const WAIT_SCALE = 0.05;

const USAGE = `Usage: sfbackup erase --store DIR --input FILE [--org NAME] [--json]

Erases one person from every backup of an org with the erase workflow CDK synthesizes, run
locally: the real handler in-process, each call checked against the workflow's own IAM and
bucket policies, the same input JSON as the console (see docs/erasure.md). It works on the vault
alone (a directory, or a bucket on an S3-compatible server): no connection to the org. The vault
in AWS is erased from the console, by the org's erase workflow.

A dry run unless the input says "mode": "erase" with the org id in "confirmOrgId": it names how
many snapshots, parts and rows hold the person, where copies of her values are, what would
refuse a real run, and the org id to confirm with; it writes its plan (and the list of the
versions of its own progress it removed). A real run rewrites every affected object without her,
removes the earlier versions, scans every version of the org for a trace and logs the erasure
(ids, who asked, when, counts; never a value).

Input, e.g.
  {"ids": ["0035g000000000PAAQ"], "requestedBy": "dpo@example.com"}
  {"object": "Contact", "where": {"Email": "jane@example.com"}, "requestedBy": "DSR-2026-114",
   "mode": "erase", "confirmOrgId": "00D5g0000000001EAA"}

Options:
${VAULT_HELP}  --input FILE           the erase input JSON ("-" reads standard input; required)
  --json                 print one JSON object
  -h, --help             show this help

Exit code 0 when the execution succeeded (a dry run, or an erasure whose scan found no trace);
1 when it failed (the error says why; run it again, as a new execution, once that is fixed: it
finds what is left); 2 for bad options or input.
`;

/** The summary `--json` prints. */
export interface EraseSummary {
  readonly org: string;
  /**
   * The Salesforce org id(s) the vault's snapshots of the org name, as the start step answers them
   * (what `confirmOrgId` takes); empty when the execution failed before it answered.
   */
  readonly orgIds: readonly string[];
  readonly executionName: string;
  readonly status: RunResult['status'];
  readonly mode: 'dry-run' | 'erase' | null;
  readonly error: string | null;
  /** The error's message when the execution failed. */
  readonly message: string | null;
  readonly planKey: string | null;
  /** What the plan found (both modes). */
  readonly found: ErasureSummary | null;
  /** What a real run did, and where it logged it. */
  readonly erased: {
    readonly keysRewritten: number;
    readonly rowsRemoved: number;
    readonly journalEventsRemoved: number;
    readonly copiesBlanked: number;
    readonly manifestsRewritten: number;
    readonly catalogEntriesRewritten: number;
    readonly versionsRemoved: number;
    readonly versionsScanned: number;
    readonly traces: number;
    readonly logKey: string;
    readonly removedVersionsListedIn: string;
    /** Other executions whose plan or progress may still hold digests of her values (the first 20). */
    readonly digestsLeftIn: readonly string[];
    /** True when the finish could not look at the other executions (it no longer held the org). */
    readonly digestsNotChecked: boolean;
  } | null;
  readonly execution: ReturnType<typeof executionFigures>;
}

/** Options of one local erasure. */
export interface LocalEraseOptions {
  readonly store: LocalStoreSpec;
  /** The org's key in the vault. */
  readonly org: string;
  /** The input as the console takes it. */
  readonly input: Json;
  /** @default - `local-erase-<timestamp>` */
  readonly executionName?: string;
  /** `org` is the vault's key already (see `heldOrg`): not looked up again. @default false */
  readonly orgHeld?: boolean;
  /** Receives why a real erasure waits, each time it finds its org busy. @default - none */
  readonly onWait?: (reason: string) => void;
  /** Receives every interpreter event (a progress line). @default - none */
  readonly onEvent?: (event: LocalHistoryEvent) => void;
  /** Called before and after each task (a progress line). @default - none */
  readonly onTask?: (step: TaskStep) => void;
}

/** Runs one erasure locally under the workflow's policies; answers its summary and the runner's result. */
export async function runLocalErase(
  options: LocalEraseOptions,
): Promise<{ summary: EraseSummary; result: RunResult }> {
  const { buildLocalEraseApp } = await import('./local-app.ts');
  const execution = options.executionName ?? `local-erase-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const { onWait, onTask, onEvent } = options;
  const tasks = [onTask, onWait && ((step: TaskStep) => reportWait(step, onWait))].filter(
    (f) => f !== undefined,
  );
  const { org, result } = await runLocalWorkflow({
    store: options.store,
    org: options.org,
    ...(options.orgHeld ? { orgHeld: true } : {}),
    app: (key) => buildLocalEraseApp(key),
    appKey: 'erase',
    input: () => options.input,
    executionName: execution,
    enforcePolicies: true,
    waitScale: WAIT_SCALE,
    ...(tasks.length > 0
      ? {
          onTask: (step: TaskStep) => {
            for (const task of tasks) task(step);
          },
        }
      : {}),
    ...(onEvent ? { onEvent } : {}),
  });
  return { summary: summarize(org, execution, result), result };
}

/** Passes on the reason of a start step that found the org busy (it waits and tries again). */
export function reportWait(step: TaskStep, onWait: (reason: string) => void): void {
  if (step.state !== 'PlanErasure' || step.phase !== 'after') return;
  const output = step.output;
  if (output === null || typeof output !== 'object' || Array.isArray(output)) return;
  if (output.waiting === true && typeof output.reason === 'string') onWait(output.reason);
}

/**
 * What an execution of the erase workflow ends with: the start step's answer at the top (a dry run
 * ends there), the erase step's at `outcome` and the finish's at `log` (lib/erase-workflow.ts).
 */
type EraseOutput = Partial<EraseStarted> & {
  readonly outcome?: ErasureOutcome;
  readonly log?: Partial<EraseFinished>;
};

/** The summary of a run, read from the execution's output. */
export function summarize(org: string, executionName: string, result: RunResult): EraseSummary {
  const { done, mode, planKey, execution, orgIds, outcome, log, ...counts } = (result.output ??
    {}) as EraseOutput;
  const succeeded = result.status === 'SUCCEEDED';
  return {
    org,
    orgIds: orgIds ?? [],
    executionName,
    status: result.status,
    mode: mode ?? null,
    error: result.error ?? null,
    message: succeeded ? null : (result.errorMessage ?? null),
    planKey: planKey ?? null,
    found: succeeded && mode ? (counts as ErasureSummary) : null,
    erased:
      succeeded && mode === 'erase' && outcome && log?.logKey
        ? {
            keysRewritten: outcome.keysRewritten,
            rowsRemoved: outcome.rowsRemoved,
            journalEventsRemoved: outcome.journalEventsRemoved,
            copiesBlanked: outcome.copiesBlanked,
            manifestsRewritten: outcome.manifestsRewritten,
            catalogEntriesRewritten: outcome.catalogEntriesRewritten,
            versionsRemoved: outcome.versionsRemoved,
            versionsScanned: log.versionsScanned ?? 0,
            traces: log.traces ?? 0,
            logKey: log.logKey,
            removedVersionsListedIn: log.removedVersionsListedIn ?? '',
            digestsLeftIn: log.digestsLeftIn ?? [],
            digestsNotChecked: log.digestsNotChecked === true,
          }
        : null,
    execution: executionFigures(result),
  };
}

/** The summary as text, for a person; `directory` when the vault is a directory (one version a key). */
export function describeErase(summary: EraseSummary, options: { readonly directory?: boolean } = {}): string {
  const org = displayOrg(summary.org);
  if (summary.status !== 'SUCCEEDED') {
    const head = `Erasure ${summary.executionName} of org ${org}: ${summary.status}${summary.error ? ` (${summary.error})` : ''}`;
    return `${[head, summary.message ?? ''].filter((l) => l !== '').join('\n')}\n`;
  }
  const lines = [
    summary.mode === 'erase'
      ? `Erasure ${summary.executionName} of org ${org}: SUCCEEDED`
      : `Dry run ${summary.executionName} of an erasure from org ${org}: nothing was erased.`,
  ];
  const found = summary.found;
  if (found) {
    const rows = Object.entries(found.rowsByObject).map(([object, count]) => `${object} ${count}`);
    lines.push(
      `  Found: ${found.ids} id(s) in ${found.snapshots} snapshot(s), ${found.parts} part(s)${rows.length > 0 ? ` (rows: ${rows.join(', ')})` : ''}, ${found.journalEvents} journal event(s), ${found.otherKeys} other vault record(s); ${found.versions} stored version(s) hold her; ${found.values} value(s) of hers searched for.`,
    );
    const copies = [
      ...Object.entries(found.copiesByField).map(([field, count]) => [field, String(count), 'blanked']),
      ...Object.entries(found.keptCopiesByField).map(([field, count]) => [field, String(count), 'kept']),
    ];
    if (copies.length > 0) {
      lines.push('  Copies of her values in other records:');
      lines.push(...alignColumns([['FIELD', 'COPIES', ''], ...copies]).map((l) => `  ${l}`));
    }
    const refusals = [
      [found.openRestoreBatches, 'open batch(es) of a stopped restore hold her: let that restore end first'],
      [
        found.unrewritableFiles,
        'file body or metadata archive(s) hold her id or the value: they cannot be rewritten',
      ],
      [found.lockedVersions, 'version(s) to remove are locked (legal hold or retention)'],
    ] as const;
    for (const [count, why] of refusals)
      if (count > 0) lines.push(`  A real run is refused: ${count} ${why}.`);
  }
  if (summary.planKey) lines.push(`  Plan: ${summary.planKey}`);
  const erased = summary.erased;
  if (erased) {
    lines.push(
      `  Erased: ${erased.keysRewritten} object(s) rewritten, ${erased.rowsRemoved} row(s) and ${erased.journalEventsRemoved} journal event(s) removed, ${erased.copiesBlanked} copy(ies) blanked, ${erased.manifestsRewritten} manifest(s) and ${erased.catalogEntriesRewritten} catalog entry(ies) made true again, ${erased.versionsRemoved} earlier version(s) removed${options.directory ? ' (a directory vault keeps one version of each key)' : ''}.`,
      `  Scan: ${erased.versionsScanned} version(s) read, ${erased.traces} trace(s).`,
      `  Log: ${erased.logKey}`,
      `  Removed versions listed in ${erased.removedVersionsListedIn} (for sfbackup erase-replica).`,
    );
    if (erased.digestsLeftIn.length > 0)
      lines.push(
        `  Digests of her values may remain in the plans or progress of: ${erased.digestsLeftIn.join(', ')} (the next erasure's finish forgets them).`,
      );
    if (erased.digestsNotChecked)
      lines.push(
        "  Other executions' plans were not checked for digests of her values (this finish no longer held the org); the next erasure's finish does it.",
      );
  } else if (summary.mode === 'dry-run') {
    const ids = summary.orgIds.map((id) => `"${displayOrg(id)}"`).join(' or ');
    lines.push(
      `  To erase, run again with "mode": "erase" and "confirmOrgId": ${ids || 'the org id'} in the input.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, problems } = parseCommandLine('erase', { input: { type: 'string' } }, args);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const vault = readVaultOptions('erase', values, problems, 'it works on the vault alone');
  if (values.bucket && !values['s3-endpoint'])
    problems.push(
      "--bucket without --s3-endpoint names a bucket in AWS: erase the vault in AWS from the console, with the org's erase workflow (docs/erasure.md); sfbackup erase works on a directory or on an S3-compatible server (--s3-endpoint URL)",
    );
  const input = readInput(values.input, problems);
  if (!vault || problems.length > 0 || input === undefined) {
    process.stderr.write(describeProblems('erase', problems, USAGE));
    return 2;
  }
  const { org, holds } = await heldOrgToRead(vault);
  if (!holds) {
    process.stderr.write(
      `sfbackup erase: the vault in ${vault.where} holds nothing of org ${displayOrg(org)}. ${await otherOrgsHint(vault.store, org)}\n`,
    );
    return 2;
  }
  const waitSeconds = ERASURE_WAIT.intervalSeconds * WAIT_SCALE;
  // A terminal gets a live line on standard error (the step and the time so far, as the workflow
  // commands draw it); --json and a redirected standard error get only the result.
  const { summary } = await withProgressLine('erase', values.json === true, ({ print, hooks }) =>
    runLocalErase({
      store: vault.spec,
      org,
      orgHeld: true,
      input,
      onWait: (reason) =>
        print(
          `Waiting: ${reason} Trying again every ${waitSeconds} s, up to ${ERASURE_WAIT.forSeconds / 3600} hours from the start, as deployed; Ctrl-C gives up.\n`,
        ),
      ...hooks,
    }),
  );
  process.stdout.write(
    values.json
      ? `${JSON.stringify(summary)}\n`
      : describeErase(summary, { directory: typeof vault.spec === 'string' }),
  );
  return summary.status === 'SUCCEEDED' ? 0 : 1;
}

/**
 * The input, parsed and checked as the workflow's first step checks it (the workflow checks it
 * again): every problem goes onto `problems` with what to write instead.
 */
export function readInput(file: string | undefined, problems: string[]): Json | undefined {
  if (!file) {
    problems.push(
      '--input FILE is required (the erase input JSON, as in docs/erasure.md; - reads standard input)',
    );
    return undefined;
  }
  let text: string;
  try {
    // A file is measured before it is read.
    const size = file === '-' ? 0 : statSync(file).size;
    if (size > MAX_INPUT_BYTES) return tooLarge(file, size, problems);
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    problems.push(
      `--input ${file} cannot be read (${(error as Error).message}): name a JSON file, or - for standard input`,
    );
    return undefined;
  }
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES) return tooLarge(file, Buffer.byteLength(text), problems);
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (error) {
    problems.push(
      `--input ${file}: the input is not valid JSON (${(error as Error).message}). Fix: write a JSON object such as {"ids": ["003..."], "requestedBy": "dpo@example.com"}.`,
    );
    return undefined;
  }
  try {
    parseEraseInput(value);
  } catch (error) {
    if (!(error instanceof InvalidEraseRequestError)) throw error;
    for (const p of error.problems) problems.push(`--input ${file}: ${p.field}: ${p.problem} Fix: ${p.fix}`);
    return undefined;
  }
  return value;
}

function tooLarge(file: string, bytes: number, problems: string[]): undefined {
  problems.push(
    `--input ${file} is ${bytes} bytes, more than the ${MAX_INPUT_BYTES} an execution input may be. Fix: an erase input names one person: a few ids, or one filter on one object.`,
  );
  return undefined;
}
