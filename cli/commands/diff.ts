/** `sfbackup diff A B`: what changed in an org between two points in time, per object, and in its metadata. */
import { displayOrg } from '../../contract/org-id.ts';
import { appendFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  DiffCsvWriter,
  type DiffKind,
  InvalidInsightRequestError,
  diffSnapshots,
  type ObjectDiff,
  rowDifferences,
  type SnapshotDiff,
} from '../../lambdas/core/insight/index.ts';
import { describeProblems, parseCommandLine } from './options.ts';
import { alignColumns } from './text-table.ts';
import { orgToRead, readVaultOptions, VAULT_HELP } from './vault-read.ts';

const USAGE = `Usage: sfbackup diff A B --store DIR [--object NAME] [--csv DIR] [--org NAME] [--json]

Compares the org at A (before) with the org at B (after). A and B are each "latest", a snapshot
id (see sfbackup snapshots) or an instant such as 2026-01-31T12:00:00Z (the newest snapshot
finished by then). Per object: rows inserted, deleted to the recycle bin, gone (hard deleted or
purged), purged (already in the bin at A), undeleted, and changed, with which fields changed on how
many rows. Rows whose only differences are SystemModstamp, LastModifiedDate or LastModifiedById
are counted apart as audit-only: a re-read or a save that changed nothing. Objects held on one
side only, and metadata components added, removed and changed (by content), are listed too.
Up to 1000 ids per kind and object are shown; counts are always exact.

Options:
  --object NAME          compare only this object (and skip the metadata)
  --csv DIR              also write one CSV file per object and kind into DIR (a new or empty
                         directory): <Object>.<kind>.csv with the ids; for changed rows
                         Id,Field,Before,After, one line per changed field. The files hold
                         record values: keep them as safe as the vault.
${VAULT_HELP}  --json                 print one JSON object
  -h, --help             show this help

Build a restore input from a diff with: sfbackup plan --from-diff A B ...
`;

const OPTIONS = { object: { type: 'string' }, csv: { type: 'string' } } as const;

const KIND_LABELS: Record<DiffKind, string> = {
  inserted: 'inserted',
  deletedToBin: 'deleted to the recycle bin',
  gone: 'gone (hard deleted or purged)',
  purged: 'purged (in the recycle bin at A)',
  undeleted: 'undeleted',
  changed: 'changed',
};

function differs(o: ObjectDiff): boolean {
  return rowDifferences(o) > 0 || o.fieldsOnlyInA.length + o.fieldsOnlyInB.length > 0;
}

/** The diff as text: a summary table of objects that differ, then each one's ids and fields. */
export function describeDiff(diff: SnapshotDiff): string {
  const lines = [
    `Diff of org ${displayOrg(diff.org)}:`,
    `  A (before): ${diff.a.snapshotId}, finished ${diff.a.finishedAt}${diff.a.selector === diff.a.snapshotId ? '' : ` (${diff.a.selector})`}`,
    `  B (after):  ${diff.b.snapshotId}, finished ${diff.b.finishedAt}${diff.b.selector === diff.b.snapshotId ? '' : ` (${diff.b.selector})`}`,
  ];
  const changed = diff.objects.filter(differs);
  const same = diff.objects.filter((o) => !differs(o));
  if (changed.length > 0) {
    lines.push('');
    lines.push(
      ...alignColumns([
        [
          'OBJECT',
          'INSERTED',
          'TO BIN',
          'GONE',
          'PURGED',
          'UNDELETED',
          'CHANGED',
          'AUDIT-ONLY',
          'COMPUTED-ONLY',
          'UNCHANGED',
        ],
        ...changed.map((o) => [
          o.object,
          String(o.inserted.count),
          String(o.deletedToBin.count),
          String(o.gone.count),
          String(o.purged.count),
          String(o.undeleted.count),
          String(o.changed.count),
          String(o.auditOnly),
          String(o.computedOnly),
          String(o.unchanged),
        ]),
      ]),
    );
  }
  for (const o of changed) {
    lines.push('', `${o.object}:`);
    if (o.changed.fields.length > 0) {
      lines.push(
        `  fields changed: ${o.changed.fields.map((f) => `${f.field} (${f.rows} row${f.rows === 1 ? '' : 's'})`).join(', ')}`,
      );
    }
    for (const kind of ['inserted', 'deletedToBin', 'gone', 'purged', 'undeleted', 'changed'] as const) {
      const s = o[kind];
      if (s.count === 0) continue;
      const more = s.truncated ? ` ... and ${s.count - s.sample.length} more (use --csv DIR for all)` : '';
      lines.push(`  ${KIND_LABELS[kind]} (${s.count}): ${s.sample.join(', ')}${more}`);
    }
    if (o.fieldsOnlyInA.length > 0)
      lines.push(`  fields only at A (not compared): ${o.fieldsOnlyInA.join(', ')}`);
    if (o.fieldsOnlyInB.length > 0)
      lines.push(`  fields only at B (not compared): ${o.fieldsOnlyInB.join(', ')}`);
  }
  lines.push('');
  if (same.length > 0) {
    const audit = same.reduce((n, o) => n + o.auditOnly, 0);
    const computed = same.reduce((n, o) => n + o.computedOnly, 0);
    const apart = [audit > 0 ? `${audit} audit-only` : '', computed > 0 ? `${computed} computed-only` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(
      `No row differences in ${same.length} object${same.length === 1 ? '' : 's'}${apart ? ` (${apart})` : ''}: ${same.map((o) => o.object).join(', ')}`,
    );
  }
  if (diff.objectsOnlyInA.length > 0) lines.push(`Objects only at A: ${diff.objectsOnlyInA.join(', ')}`);
  if (diff.objectsOnlyInB.length > 0) lines.push(`Objects only at B: ${diff.objectsOnlyInB.join(', ')}`);
  const m = diff.metadata;
  if (!m.compared) lines.push(`Metadata: not compared (${m.reason ?? 'no retrieve'}).`);
  else {
    lines.push(
      `Metadata: ${m.added.length} added, ${m.removed.length} removed, ${m.changed.length} changed, ${m.unchanged} unchanged.`,
    );
    for (const [label, list] of [
      ['added', m.added],
      ['removed', m.removed],
      ['changed', m.changed],
    ] as const) {
      if (list.length > 0) lines.push(`  ${label}: ${list.join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals, problems } = parseCommandLine('diff', OPTIONS, args, {
    positionals: ['A', 'B'],
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length < 2) {
    problems.push(
      'give the two points in time to compare, A (before) then B (after): e.g. sfbackup diff <snapshot id> latest (sfbackup snapshots lists them)',
    );
  }
  const csvDir = values.csv;
  if (csvDir !== undefined && existsSync(csvDir) && readdirSync(csvDir).length > 0) {
    problems.push(
      `--csv ${csvDir}: the directory is not empty: name a new or empty directory for the CSV files`,
    );
  }
  const vault = readVaultOptions('diff', values, problems);
  if (!vault || problems.length > 0) {
    process.stderr.write(describeProblems('diff', problems, USAGE));
    return 2;
  }
  const org = await orgToRead(vault);
  let csv: DiffCsvWriter | undefined;
  if (csvDir !== undefined) {
    mkdirSync(csvDir, { recursive: true });
    const dir = resolve(csvDir);
    csv = new DiffCsvWriter({
      append: (file, text) => {
        // The writer checks object names; this keeps any other name from leaving --csv DIR too.
        const path = resolve(dir, file);
        if (dirname(path) !== dir || basename(path) !== file) {
          throw new InvalidInsightRequestError(
            `the CSV file name ${JSON.stringify(file)} would leave --csv ${csvDir}.`,
          );
        }
        appendFileSync(path, text);
      },
    });
  }
  const diff = await diffSnapshots(vault.store, org, positionals[0]!, positionals[1]!, {
    ...(values.object !== undefined ? { object: values.object } : {}),
    ...(csv ? { onRow: (row) => csv.add(row) } : {}),
    where: vault.where,
  });
  const files = csv
    ? [...csv.files].map(([file, rows]) => ({ file: join(resolve(csvDir!), file), rows }))
    : [];
  if (values.json) process.stdout.write(`${JSON.stringify(csv ? { ...diff, csvFiles: files } : diff)}\n`);
  else {
    process.stdout.write(describeDiff(diff));
    if (csv) {
      process.stdout.write(
        files.length === 0
          ? `No CSV file written: nothing differs.\n`
          : `CSV files in ${resolve(csvDir!)}: ${files.map((f) => `${f.file.split('/').pop()} (${f.rows})`).join(', ')}\n`,
      );
    }
  }
  return 0;
}
