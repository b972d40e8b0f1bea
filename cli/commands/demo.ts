/**
 * `sfbackup demo`: the whole product in one command. It starts the emulator with a sample org,
 * backs it up with the synthesized backup workflow, causes a disaster through the org's APIs (a
 * mass delete, a hard delete, an import that blanks fields), backs up the damage as the next
 * scheduled run would, shows the dry-run plan, restores from the snapshot before the disaster
 * with the synthesized restore workflow, verifies, and prints what happened and how long each
 * step took. It exits 0 only when the org is back to its state before the disaster.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { displayOrg, orgKeyOfId } from '../../contract/org-id.ts';
import { SAMPLE_ORGS_DIR } from '../../emulator/fixtures/samples.ts';
import { runLocalBackup } from './backup.ts';
import { deleteRows, hardDeleteRows, importRows, liveIds, orgState, stateDifference } from './demo-org.ts';
import { ProgressLine } from './progress.ts';
import { runLocalRestore } from './restore.ts';

const USAGE = `Usage: sfbackup demo [--sample NAME] [--fixtures DIR] [--store DIR] [--json]

Backs up a sample org in the local emulator, causes a disaster, restores it and verifies.

Options:
  --sample NAME     dreamhouse-lwc (default) or ebikes-lwc
  --fixtures DIR    folder holding the sample orgs (default: $SFBACKUP_FIXTURES, or
                    the bundled fixtures/salesforce)
  --store DIR       vault directory to keep (default: .sfbackup in the current directory)
  --json            print one summary object last
  -h, --help        show this help
`;

/** Where `sfbackup demo` keeps its vault unless --store says otherwise, relative to the current directory. */
export const DEFAULT_DEMO_STORE = '.sfbackup';

/** The objects each sample org's disaster hits: a parent, its child, and text fields an import blanks. */
export const DEMO_SAMPLES: Record<
  string,
  { parent: string; child: string; lookup: string; blanked: string[] }
> = {
  'dreamhouse-lwc': {
    parent: 'Broker__c',
    child: 'Property__c',
    lookup: 'Broker__c',
    blanked: ['Description__c', 'Address__c'],
  },
  'ebikes-lwc': {
    parent: 'Product_Family__c',
    child: 'Product__c',
    lookup: 'Product_Family__c',
    blanked: ['Description__c', 'Level__c'],
  },
};

/** One timed step of the demo. */
export interface DemoStep {
  readonly step: string;
  readonly seconds: number;
  readonly detail: string;
}

/** What the demo did and whether the org came back. */
export interface DemoResult {
  readonly sample: string;
  /** The emulated org's id, as the commands print it and take it with --org. */
  readonly org: string;
  /** The snapshot taken before the disaster and the one taken after it. */
  readonly snapshots: { readonly before: string; readonly after: string };
  readonly restored: boolean;
  readonly steps: DemoStep[];
  readonly store: string;
  /** Rows per object that still differed from the state before the disaster (empty when restored). */
  readonly difference: Record<string, number>;
}

/** Runs the demo and reports each step as it finishes. */
export async function runDemo(options: {
  sample: string;
  fixtures: string;
  store?: string;
  log?: (line: string) => void;
  /** A live progress line for a workflow step (backup, restore), on a terminal. @default - none */
  progress?: (label: string) => ProgressLine;
}): Promise<DemoResult> {
  const log = options.log ?? (() => undefined);
  const sample = DEMO_SAMPLES[options.sample];
  if (!sample)
    throw new Error(`Unknown sample "${options.sample}": use ${Object.keys(DEMO_SAMPLES).join(' or ')}.`);
  const dir = join(options.fixtures, options.sample);
  if (!existsSync(join(dir, 'sfdx-project.json'))) {
    throw new Error(
      `No sample org at ${dir}: pass --fixtures DIR (the folder holding ${options.sample}) or set SFBACKUP_FIXTURES.`,
    );
  }
  const store = options.store ?? mkdtempSync(join(tmpdir(), 'sfbackup-demo-'));
  const steps: DemoStep[] = [];
  const timed = async <T>(step: string, body: () => Promise<T>, detail: (t: T) => string): Promise<T> => {
    const started = performance.now();
    const result = await body();
    const entry = {
      step,
      seconds: Math.round((performance.now() - started) / 10) / 100,
      detail: detail(result),
    };
    steps.push(entry);
    log(`\n== ${step} (${entry.seconds.toFixed(2)} s)\n${entry.detail}`);
    return result;
  };
  // A workflow step draws its progress line while it runs, and ends it before the step's log.
  const withProgress = async <T>(
    label: string,
    body: (hooks: Pick<ProgressLine, 'onEvent' | 'onTask'> | object) => Promise<T>,
  ) => {
    const line = options.progress?.(label);
    line?.start();
    try {
      return await body(line ? { onEvent: line.onEvent, onTask: line.onTask } : {});
    } finally {
      line?.finish();
    }
  };
  const objects = [sample.parent, sample.child];
  let emu: RunningEmulator | undefined;
  try {
    emu = await timed(
      'Start the emulator with the sample org',
      () =>
        startEmulator({
          projectDirs: [dir],
          planFiles: [join(dir, 'data', 'sample-data-plan.json')],
          // A new org id per run: the emulator issues the same record ids every run, so a second
          // demo into the same vault must not meet the first one's snapshots and restore id map.
          orgId: `00D5g${String(Date.now() % 10_000_000_000).padStart(10, '0')}`,
        }),
      (e) => `${options.sample} at ${e.instanceUrl}, org ${e.orgId}`,
    );
    const org = emu;
    // Filed under its own org id, as "sfbackup backup" files an org by default: a vault binds an
    // org key to one Salesforce org, and each demo run is an org of its own.
    const key = orgKeyOfId(org.orgId) ?? 'demo';
    const backUp = (mode: 'full' | 'incremental') =>
      withProgress('backup', (hooks) =>
        runLocalBackup({
          instanceUrl: org.instanceUrl,
          accessToken: org.accessToken,
          store,
          mode,
          org: key,
          retryIntervalScale: 0,
          ...hooks,
        }),
      );
    const backup = await timed(
      'Back up the org (full)',
      () => backUp('full'),
      ({ summary: s }) =>
        `snapshot ${s.snapshotId} ${s.status}: ${s.objects} objects, ${s.rows} rows, ${s.metadataComponents} metadata components, ${s.apiCalls} API calls`,
    );
    if (backup.summary.status !== 'complete')
      throw new Error(`The backup did not complete: ${backup.summary.problems.join('; ')}`);
    const before = await orgState(org, objects);

    await timed(
      'Disaster: a mass delete, a hard delete and an import that blanks fields',
      async () => {
        const parents = await liveIds(org, sample.parent);
        const children = await liveIds(org, sample.child);
        const hard = children.slice(0, 2);
        await deleteRows(org, parents);
        await hardDeleteRows(org, hard);
        const rest = children.filter((id) => !hard.includes(id));
        await importRows(
          org,
          sample.child,
          rest.map((Id) => ({ Id, ...Object.fromEntries(sample.blanked.map((f) => [f, null])) })),
        );
        return { parents: parents.length, hard: hard.length, blanked: rest.length };
      },
      (d) =>
        `deleted all ${d.parents} ${sample.parent} rows (their ${sample.child} lookups cleared), hard-deleted ${d.hard} ${sample.child} rows, ` +
        `blanked ${sample.blanked.join(' and ')} on ${d.blanked} ${sample.child} rows`,
    );
    const damaged = stateDifference(before, await orgState(org, objects));
    log(`   rows that now differ from before: ${JSON.stringify(damaged)}`);

    // The next scheduled run backs up the damage too: "latest" is now the broken org, and the
    // restore names the snapshot taken before it, as an engineer would after "sfbackup diff".
    const after = await timed(
      'Back up the org after the disaster (incremental, as the next scheduled run)',
      () => backUp('incremental'),
      ({ summary: s }) =>
        `snapshot ${s.snapshotId} ${s.status}: ${s.rows} changed rows, ${s.apiCalls} API calls`,
    );
    if (after.summary.status !== 'complete')
      throw new Error(`The backup after the disaster did not complete: ${after.summary.problems.join('; ')}`);

    const input = {
      snapshot: String(backup.summary.snapshotId),
      objects: [sample.parent],
      includeChildren: true,
    };
    const dry = await timed(
      'Dry run: the restore plan (nothing written)',
      () =>
        withProgress('dry run', (hooks) =>
          runLocalRestore({
            instanceUrl: org.instanceUrl,
            accessToken: org.accessToken,
            store,
            org: key,
            input,
            retryIntervalScale: 0,
            ...hooks,
          }),
        ),
      ({ summary: s }) => `${s.status}\n${s.message}`,
    );
    if (dry.summary.status !== 'SUCCEEDED') throw new Error(`The dry run failed: ${dry.summary.message}`);
    const restore = await timed(
      'Restore (mode full) and verify',
      () =>
        withProgress('restore', (hooks) =>
          runLocalRestore({
            instanceUrl: org.instanceUrl,
            accessToken: org.accessToken,
            store,
            org: key,
            input: { ...input, mode: 'full', confirmOrgId: org.orgId },
            retryIntervalScale: 0,
            ...hooks,
          }),
        ),
      ({ summary: s }) => `${s.status}${s.error ? ` (${s.error})` : ''}\n${s.message}`,
    );
    const difference = await timed(
      'Compare the org with its state before the disaster',
      async () => stateDifference(before, await orgState(org, objects)),
      (d) =>
        Object.keys(d).length === 0
          ? `every restorable field of ${objects.join(' and ')} is back as it was`
          : `rows still different: ${JSON.stringify(d)}`,
    );
    return {
      sample: options.sample,
      org: displayOrg(key),
      snapshots: { before: String(backup.summary.snapshotId), after: String(after.summary.snapshotId) },
      restored: restore.summary.status === 'SUCCEEDED' && Object.keys(difference).length === 0,
      steps,
      store,
      difference,
    };
  } finally {
    await emu?.stop();
  }
}

/**
 * The closing lines of the demo for a person: whether the org came back, the time of each step,
 * and the vault it left, with the commands that show what the vault holds.
 */
export function describeDemo(result: DemoResult, cwd: string): string {
  const total = result.steps.reduce((a, s) => a + s.seconds, 0);
  // The path as the person would type it: relative when the vault is under the current directory.
  const near = relative(cwd, result.store);
  const path = near && !near.startsWith('..') && !isAbsolute(near) ? near : result.store;
  const quoted = /^[\w./-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
  return (
    `\n${result.restored ? 'RESTORED' : 'NOT RESTORED'}: ${result.sample} ${result.restored ? 'is back to its state before the disaster' : 'still differs from its state before the disaster'}.\n` +
    `Steps: ${result.steps.map((s) => `${s.step.split(':')[0]} ${s.seconds.toFixed(2)} s`).join(' | ')}\nTotal ${total.toFixed(2)} s.\n` +
    `\nThe vault is in ${result.store}. See what it holds, and what the disaster changed:\n` +
    `  npx sfbackup snapshots --store ${quoted} --org ${result.org}\n` +
    `  npx sfbackup diff ${result.snapshots.before} ${result.snapshots.after} --store ${quoted} --org ${result.org}\n` +
    `  npx sfbackup ui --store ${quoted} --org ${result.org}\n`
  );
}

/** Runs the command; 0 only when the org is back to its state before the disaster. */
export async function run(args: string[]): Promise<number> {
  let values: { sample?: string; fixtures?: string; store?: string; json?: boolean; help?: boolean };
  try {
    values = parseArgs({
      args,
      strict: true,
      options: {
        sample: { type: 'string' },
        fixtures: { type: 'string' },
        store: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`sfbackup demo: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const result = await runDemo({
    sample: values.sample ?? 'dreamhouse-lwc',
    fixtures: values.fixtures ?? process.env.SFBACKUP_FIXTURES ?? SAMPLE_ORGS_DIR,
    store: resolve(values.store ?? DEFAULT_DEMO_STORE),
    log: values.json ? undefined : (line) => process.stdout.write(`${line}\n`),
    ...(!values.json && process.stderr.isTTY
      ? { progress: (label: string) => new ProgressLine(label, process.stderr) }
      : {}),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(describeDemo(result, process.cwd()));
  }
  return result.restored ? 0 : 1;
}
