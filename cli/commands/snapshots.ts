/** `sfbackup snapshots`: every finished snapshot of an org, newest first, with the one "latest" means marked. */
import { displayOrg } from '../../contract/org-id.ts';
import { listSnapshots, type SnapshotList } from '../../lambdas/core/insight/index.ts';
import { describeProblems, parseCommandLine } from './options.ts';
import { alignColumns } from './text-table.ts';
import { orgToRead, readVaultOptions, VAULT_HELP } from './vault-read.ts';

const USAGE = `Usage: sfbackup snapshots --store DIR [--org NAME] [--json]

Lists every finished snapshot of an org, newest first: its id, mode (full, incremental,
metadata), status (complete, or failed with why), when it finished, the objects, rows and files
it holds itself (an incremental holds only changes), metadata components, and the snapshot it
builds on. "*" marks the one "latest" selects in sfbackup diff, plan and restore.

Options:
${VAULT_HELP}  --json                 print one JSON object
  -h, --help             show this help
`;

/** The list as text: one aligned line per snapshot, newest first. */
export function describeSnapshots(list: SnapshotList, where: string): string {
  const rows = [
    ['', 'SNAPSHOT', 'MODE', 'STATUS', 'FINISHED', 'OBJECTS', 'ROWS', 'FILES', 'METADATA', 'BASE'],
    ...list.snapshots.map((s) => [
      s.latest ? '*' : '',
      s.snapshotId,
      s.mode,
      s.status,
      s.finishedAt,
      String(s.objects ?? '-'),
      String(s.rows ?? '-'),
      String(s.files ?? '-'),
      String(s.metadataComponents ?? '-'),
      s.baseSnapshotId ?? '-',
    ]),
  ];
  const lines = [
    `Snapshots of org ${displayOrg(list.org)} (${list.snapshots.length}, newest first; * = latest):`,
    ...alignColumns(rows),
  ];
  for (const s of list.snapshots) {
    if (s.problems.length > 0) lines.push(`  ${s.snapshotId} failed: ${s.problems.join('; ')}`);
  }
  if (!list.latest) lines.push(`  No snapshot in ${where} is complete: run sfbackup backup again.`);
  return `${lines.join('\n')}\n`;
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, problems } = parseCommandLine('snapshots', {}, args);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const vault = readVaultOptions('snapshots', values, problems);
  if (!vault) {
    process.stderr.write(describeProblems('snapshots', problems, USAGE));
    return 2;
  }
  const list = await listSnapshots(vault.store, await orgToRead(vault), vault.where);
  process.stdout.write(values.json ? `${JSON.stringify(list)}\n` : describeSnapshots(list, vault.where));
  return 0;
}
