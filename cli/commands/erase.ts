/**
 * `sfbackup erase`: runs the synthesized erase workflow locally, under its own IAM and bucket
 * policies, with the same input JSON as the console. A dry run unless the input says
 * `"mode": "erase"` with the org id in `confirmOrgId`.
 */
import { readFileSync } from 'node:fs';
import { displayOrg } from '../../contract/org-id.ts';
import { InvalidEraseRequestError } from '../../lambdas/core/erase/errors.ts';
import { parseEraseInput } from '../../lambdas/core/erase/input.ts';
import type { ErasureSummary } from '../../lambdas/core/erase/plan.ts';
import type { Json, RunResult } from '../local/index.ts';
import { executionFigures, runLocalWorkflow } from './local-run.ts';
import { describeProblems, type LocalStoreSpec, parseCommandLine } from './options.ts';
import { alignColumns } from './text-table.ts';
import { orgToRead, readVaultOptions, VAULT_HELP } from './vault-read.ts';

/** An erase input is at most what a state machine's input may be. */
const MAX_INPUT_BYTES = 256 * 1024;

const USAGE = `Usage: sfbackup erase --store DIR --input FILE [--org NAME] [--json]

Erases one person from every backup of an org with the erase workflow CDK synthesizes, run
locally: the real handler in-process, each call checked against the workflow's own IAM and
bucket policies, the same input JSON as the console (see docs/erasure.md). It works on the vault
alone: no connection to the org.

A dry run unless the input says "mode": "erase" with the org id in "confirmOrgId": it names how
many snapshots, parts and rows hold the person, where copies of her values are, and what would
refuse a real run, and writes only its plan. A real run rewrites every affected object without
her, removes the earlier versions, scans every version of the org for a trace and logs the
erasure (ids, who asked, when, counts; never a value).

Input (a JSON file, or - for standard input), e.g.
  {"ids": ["0035g000000000PAAQ"], "requestedBy": "dpo@example.com"}
  {"object": "Contact", "where": {"Email": "jane@example.com"}, "requestedBy": "DSR-2026-114",
   "mode": "erase", "confirmOrgId": "00D5g0000000001EAA"}

Options:
${VAULT_HELP}  --input FILE           the erase input JSON (required)
  --json                 print one JSON object
  -h, --help             show this help

Exit code 0 when the execution succeeded (a dry run, or an erasure whose scan found no trace);
1 when it failed (the error names why, nothing is half-done: a re-run continues); 2 for bad
options or input.
`;

/** The summary `--json` prints. */
export interface EraseSummary {
  readonly org: string;
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
    readonly versionsRemoved: number;
    readonly versionsScanned: number;
    readonly traces: number;
    readonly logKey: string;
    readonly removedVersionsListedIn: string;
  } | null;
  readonly execution: { historyEvents: number; largestPayloadBytes: number; withinLimits: boolean };
}

/** Options of one local erasure. */
export interface LocalEraseOptions {
  readonly store: LocalStoreSpec;
  /** The org's key in the vault. */
  readonly org: string;
  /** The input as the console takes it. */
  readonly input: unknown;
  /** @default - `local-erase-<timestamp>` */
  readonly executionName?: string;
  readonly onSns?: (message: { subject?: string; message: string }) => void;
}

/** Runs one erasure locally under the workflow's policies; answers its summary and the runner's result. */
export async function runLocalErase(
  options: LocalEraseOptions,
): Promise<{ summary: EraseSummary; result: RunResult }> {
  const { buildLocalEraseApp } = await import('./local-app.ts');
  const execution = options.executionName ?? `local-erase-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const { org, result } = await runLocalWorkflow({
    store: options.store,
    org: options.org,
    app: (key) => buildLocalEraseApp(key),
    appKey: 'erase',
    input: () => options.input as Json,
    executionName: execution,
    enforcePolicies: true,
    // A real erasure that finds its org busy waits 5 minutes a try, as deployed; a twentieth here.
    waitScale: 0.05,
    ...(options.onSns ? { onSns: options.onSns } : {}),
  });
  return { summary: summarize(org, execution, result), result };
}

function summarize(org: string, execution: string, result: RunResult): EraseSummary {
  const output = (result.output ?? {}) as Record<string, unknown>;
  const mode = output.mode === 'dry-run' || output.mode === 'erase' ? output.mode : null;
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  const outcome = (output.outcome ?? {}) as Record<string, unknown>;
  const log = (output.log ?? {}) as Record<string, unknown>;
  return {
    org,
    executionName: execution,
    status: result.status,
    mode,
    error: result.error ?? null,
    message: result.status === 'SUCCEEDED' ? null : (result.errorMessage ?? null),
    planKey: typeof output.planKey === 'string' ? output.planKey : null,
    found: mode ? (foundOf(output) ?? null) : null,
    erased:
      mode === 'erase' && typeof log.logKey === 'string'
        ? {
            keysRewritten: number(outcome.keysRewritten),
            rowsRemoved: number(outcome.rowsRemoved),
            journalEventsRemoved: number(outcome.journalEventsRemoved),
            copiesBlanked: number(outcome.copiesBlanked),
            versionsRemoved: number(outcome.versionsRemoved),
            versionsScanned: number(log.versionsScanned),
            traces: number(log.traces),
            logKey: log.logKey,
            removedVersionsListedIn: String(log.removedVersionsListedIn ?? ''),
          }
        : null,
    execution: executionFigures(result),
  };
}

/** The plan's counts from the start step's answer, which the state carries at its top. */
function foundOf(output: Record<string, unknown>): ErasureSummary | undefined {
  if (typeof output.ids !== 'number') return undefined;
  const n = (key: string) => (typeof output[key] === 'number' ? (output[key] as number) : 0);
  const counts = (key: string) => (output[key] ?? {}) as Record<string, number>;
  return {
    ids: n('ids'),
    snapshots: n('snapshots'),
    parts: n('parts'),
    journalObjects: n('journalObjects'),
    otherKeys: n('otherKeys'),
    versions: n('versions'),
    rowsByObject: counts('rowsByObject'),
    journalEvents: n('journalEvents'),
    values: n('values'),
    copiesByField: counts('copiesByField'),
    keptCopiesByField: counts('keptCopiesByField'),
    openRestoreBatches: n('openRestoreBatches'),
    unrewritableFiles: n('unrewritableFiles'),
    lockedVersions: n('lockedVersions'),
  };
}

/** The summary as text, for a person. */
export function describeErase(summary: EraseSummary, directory = false): string {
  const org = displayOrg(summary.org);
  const lines: string[] = [];
  if (summary.status !== 'SUCCEEDED') {
    lines.push(
      `Erasure ${summary.executionName} of org ${org}: ${summary.status}${summary.error ? ` (${summary.error})` : ''}`,
      summary.message ?? '',
    );
    return `${lines.filter((l) => l !== '').join('\n')}\n`;
  }
  const found = summary.found;
  lines.push(
    summary.mode === 'erase'
      ? `Erasure ${summary.executionName} of org ${org}: SUCCEEDED`
      : `Dry run ${summary.executionName} of an erasure from org ${org}: nothing was erased.`,
  );
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
      lines.push(...alignColumns([['FIELD', 'COPIES', ''], ...copies]).map((l) => `    ${l}`));
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
      `  Erased: ${erased.keysRewritten} object(s) rewritten, ${erased.rowsRemoved} row(s) and ${erased.journalEventsRemoved} journal event(s) removed, ${erased.copiesBlanked} copy(ies) blanked, ${erased.versionsRemoved} earlier version(s) removed${directory ? ' (a directory vault keeps one version of each key)' : ''}.`,
      `  Scan: ${erased.versionsScanned} version(s) read, ${erased.traces} trace(s).`,
      `  Log: ${erased.logKey}`,
      `  Removed versions listed in ${erased.removedVersionsListedIn} (for sfbackup erase-replica).`,
    );
  } else if (summary.mode === 'dry-run') {
    lines.push('  To erase, run again with "mode": "erase" and the org id in "confirmOrgId" in the input.');
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
  const input = readInput(values.input, problems);
  if (!vault || problems.length > 0 || input === undefined) {
    process.stderr.write(describeProblems('erase', problems, USAGE));
    return 2;
  }
  const { summary } = await runLocalErase({
    store: vault.spec,
    org: await orgToRead(vault),
    input,
    onSns: (message) => process.stderr.write(`[SNS ${message.subject ?? ''}] ${message.message}\n`),
  });
  process.stdout.write(
    values.json ? `${JSON.stringify(summary)}\n` : describeErase(summary, typeof vault.spec === 'string'),
  );
  return summary.status === 'SUCCEEDED' ? 0 : 1;
}

/**
 * The input, parsed and checked as the workflow's first step checks it (the workflow checks it
 * again): every problem goes onto `problems` with what to write instead.
 */
function readInput(file: string | undefined, problems: string[]): unknown {
  if (!file) {
    problems.push('--input FILE is required (the erase input JSON, as in docs/erasure.md)');
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    problems.push(
      `--input ${file} cannot be read (${(error as Error).message}): name a JSON file, or - for standard input`,
    );
    return undefined;
  }
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
    problems.push(
      `--input ${file} is ${Buffer.byteLength(text)} bytes, more than the ${MAX_INPUT_BYTES} an execution input may be: name fewer ids`,
    );
    return undefined;
  }
  try {
    parseEraseInput(text);
  } catch (error) {
    if (!(error instanceof InvalidEraseRequestError)) throw error;
    for (const p of error.problems) problems.push(`--input ${file}: ${p.field}: ${p.problem} Fix: ${p.fix}`);
    return undefined;
  }
  return JSON.parse(text);
}
