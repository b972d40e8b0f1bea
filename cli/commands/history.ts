/** `sfbackup history --object X --id ID`: every version of one record across the org's snapshots. */
import { displayOrg } from '../../contract/org-id.ts';
import { type RecordHistory, recordHistory } from '../../lambdas/core/insight/index.ts';
import { describeProblems, parseCommandLine } from './options.ts';
import { alignColumns } from './text-table.ts';
import { orgToRead, readVaultOptions, VAULT_HELP } from './vault-read.ts';

const USAGE = `Usage: sfbackup history --object NAME --id ID --store DIR [--org NAME] [--json]

Prints every version of one record across the complete data snapshots of an org, newest first:
the snapshot, when it finished, what happened (created, changed, deleted to the recycle bin,
undeleted, hard-deleted per the delete log, gone from a full read, unchanged) and each field that
changed from the version before, with its value before and after. Audit fields (SystemModstamp,
LastModifiedDate, LastModifiedById) are named apart. Where the org has a change-event journal,
its events for the record follow. The values are the record's own: this prints them to your
terminal only.

Options:
  --object NAME          the object's API name, e.g. Account or Property__c
  --id ID                the record id, 15 or 18 characters
${VAULT_HELP}  --json                 print one JSON object
  -h, --help             show this help

Build a restore input that puts a version back with:
  sfbackup plan --from-history --object NAME --id ID --to SNAPSHOT
`;

const OPTIONS = { object: { type: 'string' }, id: { type: 'string' } } as const;

/** The history as text: one line per version, newest first, each changed field below it. */
export function describeHistory(history: RecordHistory): string {
  const lines = [
    `History of ${history.object} ${history.id} in org ${displayOrg(history.org)} (${history.versions.length} versions in ${history.snapshotsRead} snapshots, newest first):`,
  ];
  const rows: string[][] = [['SNAPSHOT', 'FINISHED', 'EVENT', 'CHANGES']];
  const details: string[][] = [];
  for (const v of [...history.versions].reverse()) {
    const event =
      v.event === 'deleted'
        ? 'deleted (to the recycle bin)'
        : v.inRecycleBin
          ? `${v.event} (in the recycle bin)`
          : v.event;
    const audit = [
      v.auditChanged.length > 0 ? `; audit: ${v.auditChanged.join(', ')}` : '',
      v.computedChanged.length > 0 ? `; computed: ${v.computedChanged.join(', ')}` : '',
      v.fieldsAdded.length > 0 ? `; fields added to the backup: ${v.fieldsAdded.join(', ')}` : '',
      v.fieldsRemoved.length > 0 ? `; fields no longer backed up: ${v.fieldsRemoved.join(', ')}` : '',
    ].join('');
    rows.push([
      v.snapshotId,
      v.finishedAt,
      event,
      `${v.changes.length} field${v.changes.length === 1 ? '' : 's'}${audit}`,
    ]);
    details.push(
      v.changes.map((c) => `${c.field}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`),
    );
  }
  const table = alignColumns(rows);
  lines.push(table[0]!);
  table.slice(1).forEach((line, i) => {
    lines.push(line);
    for (const d of details[i]!) lines.push(`      ${d}`);
  });
  if (history.journal === null) lines.push('No change-event journal: the org is not continuous.');
  else if (history.journal.length === 0) lines.push('Change-event journal: no event for this record.');
  else {
    lines.push(`Change-event journal (${history.journal.length} events, oldest first):`);
    lines.push(
      ...alignColumns(
        history.journal.map((e) => [e.committedAt, e.changeType, e.changedFields.join(', ')]),
        '    ',
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, problems } = parseCommandLine('history', OPTIONS, args);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.object) problems.push("--object NAME is required: the record's object, e.g. --object Account");
  if (!values.id) problems.push('--id ID is required: the record id, 15 or 18 characters');
  const vault = readVaultOptions('history', values, problems);
  if (!vault || problems.length > 0) {
    process.stderr.write(describeProblems('history', problems, USAGE));
    return 2;
  }
  const history = await recordHistory(
    vault.store,
    await orgToRead(vault),
    values.object!,
    values.id!,
    vault.where,
  );
  process.stdout.write(values.json ? `${JSON.stringify(history)}\n` : describeHistory(history));
  return 0;
}
