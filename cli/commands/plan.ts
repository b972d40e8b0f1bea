/**
 * `sfbackup plan`: a restore input built from a diff or from a record's history, ready for the
 * console or `sfbackup restore --input FILE`. A dry run unless a writing mode is asked for.
 */
import { existsSync, writeFileSync } from 'node:fs';
import {
  diffSnapshots,
  planFromDiff,
  planFromHistory,
  recordHistory,
  type RestoreInput,
} from '../../lambdas/core/insight/index.ts';
import { MAX_RECORD_IDS, RESTORE_MODES, type RestoreMode } from '../../lambdas/core/restore/input.ts';
import { describeProblems, parseCommandLine } from './options.ts';
import { orgToRead, readVaultOptions, VAULT_HELP } from './vault-read.ts';

const USAGE = `Usage: sfbackup plan --from-diff A B [--object NAME] [--deleted | --changed]
                     [--fields F,...] [--ids ID,...] --store DIR [options]
       sfbackup plan --from-history --object NAME --id ID --to SNAPSHOT --store DIR [options]

Writes a restore input (docs/restore.md) to --out FILE, or to standard output, ready for the
console or "sfbackup restore --input FILE". It is a dry run unless --mode names a writing mode.

--from-diff A B: restore from A what changed by B (A and B as in sfbackup diff):
  --deleted              the rows deleted since A (to the recycle bin, or gone), whole
  --changed              the changed fields of the changed rows, put back to their values at A
                         (one of the two is required when the diff found both)
  --object NAME          only this object
  --fields F,...         only these fields (Field or Object.Field), with --changed
  --ids ID,...           only these record ids (15 or 18 characters)
--from-history: put one record back as it was at --to:
  --object NAME, --id ID the record (as in sfbackup history)
  --to SNAPSHOT          the snapshot whose version to restore: the fields that differ from the
                         newest version, or the whole row when it was deleted since
  --fields F,...         only these fields

Options:
  --mode MODE            dry-run (default), restore-deleted, revert-changes or full
  --confirm-org-id ID    the target org's id (00D...), required by every mode but dry-run
  --out FILE             write the input here (a new file) instead of standard output
${VAULT_HELP}  --json                 print one JSON object: {"input": ..., "out": FILE or null}
  -h, --help             show this help

A restore input lists at most ${MAX_RECORD_IDS} record ids: narrow a larger plan with --object,
--fields or --ids and restore in several runs.
`;

const OPTIONS = {
  'from-diff': { type: 'boolean' },
  'from-history': { type: 'boolean' },
  object: { type: 'string' },
  id: { type: 'string' },
  to: { type: 'string' },
  deleted: { type: 'boolean' },
  changed: { type: 'boolean' },
  fields: { type: 'string' },
  ids: { type: 'string' },
  mode: { type: 'string' },
  'confirm-org-id': { type: 'string' },
  out: { type: 'string' },
} as const;

const list = (text: string | undefined): string[] | undefined =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/** The input in words, for a person who wrote it to a file. */
export function describePlan(input: RestoreInput, out: string): string {
  const what = input.fields ? `put back ${input.fields.join(', ')}` : 'restore the rows whole';
  return (
    `Wrote a ${input.mode} restore input to ${out}: from snapshot ${input.snapshot}, ${what} on ` +
    `${input.records?.length ?? 0} record${input.records?.length === 1 ? '' : 's'} of ${input.objects.join(', ')}.\n` +
    `Run it with: sfbackup restore --input ${out} --instance-url URL --store DIR` +
    (input.mode === 'dry-run' ? ' (a dry run: it writes nothing to the org)\n' : '\n')
  );
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals, problems } = parseCommandLine('plan', OPTIONS, args, {
    positionals: ['A', 'B'],
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const fromDiff = values['from-diff'] === true;
  const fromHistory = values['from-history'] === true;
  if (fromDiff === fromHistory) {
    problems.push(
      'give --from-diff A B (restore what a diff found) or --from-history --object NAME --id ID --to SNAPSHOT (one record)',
    );
  }
  if (fromDiff && positionals.length < 2)
    problems.push(
      '--from-diff needs the two points in time, A (restored from) then B: e.g. --from-diff <snapshot id> latest',
    );
  if (fromHistory) {
    if (positionals.length > 0)
      problems.push(`"${positionals[0]}": --from-history takes no A B; name the version with --to SNAPSHOT`);
    if (!values.object) problems.push('--from-history needs --object NAME');
    if (!values.id) problems.push('--from-history needs --id ID');
    if (!values.to)
      problems.push(
        '--from-history needs --to SNAPSHOT: the snapshot whose version to put back (see sfbackup history)',
      );
    for (const name of ['deleted', 'changed', 'ids'] as const)
      if (values[name] !== undefined) problems.push(`--${name} goes with --from-diff, not --from-history`);
  }
  if (fromDiff) {
    if (values.deleted && values.changed) problems.push('--deleted and --changed: choose one plan at a time');
    for (const name of ['id', 'to'] as const)
      if (values[name] !== undefined) problems.push(`--${name} goes with --from-history, not --from-diff`);
    if (values.fields !== undefined && values.deleted)
      problems.push('--fields goes with --changed: deleted rows come back whole');
  }
  const mode = (values.mode ?? 'dry-run') as RestoreMode;
  if (!RESTORE_MODES.includes(mode))
    problems.push(`--mode ${values.mode}: write one of ${RESTORE_MODES.join(', ')}`);
  if (values.out !== undefined && existsSync(values.out))
    problems.push(`--out ${values.out}: the file exists: name a new file (a plan never overwrites one)`);
  const vault = readVaultOptions('plan', values, problems);
  if (!vault || problems.length > 0) {
    process.stderr.write(describeProblems('plan', problems, USAGE));
    return 2;
  }
  const org = await orgToRead(vault);
  const choice = {
    mode,
    ...(values['confirm-org-id'] ? { confirmOrgId: values['confirm-org-id'] } : {}),
    ...(values.fields !== undefined ? { fields: list(values.fields)! } : {}),
  };
  let input: RestoreInput;
  if (fromDiff) {
    const diff = await diffSnapshots(vault.store, org, positionals[0]!, positionals[1]!, {
      ...(values.object !== undefined ? { object: values.object } : {}),
      // One more than an input takes is enough to say the plan is too large.
      sampleLimit: MAX_RECORD_IDS,
      skipMetadata: true,
      where: vault.where,
    });
    input = planFromDiff(diff, {
      ...choice,
      ...(values.deleted ? { kind: 'deleted' as const } : values.changed ? { kind: 'changed' as const } : {}),
      ...(values.ids !== undefined ? { ids: list(values.ids)! } : {}),
    });
  } else {
    const history = await recordHistory(vault.store, org, values.object!, values.id!, vault.where);
    input = planFromHistory(history, { ...choice, to: values.to! });
  }
  const text = `${JSON.stringify(input, null, 2)}\n`;
  if (values.out !== undefined) writeFileSync(values.out, text, { flag: 'wx' });
  if (values.json) process.stdout.write(`${JSON.stringify({ input, out: values.out ?? null })}\n`);
  else process.stdout.write(values.out !== undefined ? describePlan(input, values.out) : text);
  return 0;
}
