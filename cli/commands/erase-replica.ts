/**
 * `sfbackup erase-replica`: removes from the vault's replica every version the org's erasures
 * removed from the vault (replication never carries a removal). A dry run unless --confirm.
 */
import { displayOrg, orgKeyOfId } from '../../contract/org-id.ts';
import { orgNameProblem } from '../../contract/workflow-contract.ts';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import {
  cleanReplica,
  failed,
  NAMED_VERSIONS,
  type ReplicaCleaning,
  ReplicaCleaningFailedError,
  ReplicaListUnusableError,
} from '../../lambdas/core/erase/replica.ts';
import { describeProblems, parseCommandLine } from './options.ts';
import { alignColumns } from './text-table.ts';
import { heldOrgKey, holdsAnything, otherOrgsHint } from './vault-read.ts';

const OWN_OPTIONS = {
  'replica-bucket': { type: 'string' },
  'replica-region': { type: 'string' },
  'replica-endpoint': { type: 'string' },
  'bypass-governance': { type: 'boolean' },
  confirm: { type: 'boolean' },
} as const;

const USAGE = `Usage: sfbackup erase-replica --bucket VAULT --org NAME --replica-bucket NAME --replica-region REGION [--confirm]

Removes from the replica of the vault every version that the org's erasures removed from the
vault itself: S3 replication keeps version ids but never carries a removal, so those versions,
which held the erased person, stay in the replica until they are removed there. It reads the
lists each erasure execution wrote before removing anything (orgs/<org>/erasures/*/removed/),
failed and stopped executions included, and removes only versions the vault no longer holds, of
keys an erasure of that org may remove. Run it with the role the replica trusts for removals
(the break-glass role), once replication has caught up.

A dry run unless --confirm: it names the executions it read (how each ended, who asked), how
many listed versions the replica holds, and which a lock would keep. With --confirm it removes
them, lists the replica again, and names every version still there and why. Running it again
removes what is left and nothing else. Exit code 0 when nothing it may remove is left in the
replica (or after a dry run; a listed version the vault still holds stays, named); 1 when one
is left, or a list cannot be used, or the vault or the replica cannot be read; 2 for bad options.

Options:
  --bucket NAME          the vault bucket (its versions say what erasures removed)
  --s3-endpoint URL      an S3-compatible server holding the vault instead of AWS S3
  --org NAME             the org whose erasures to carry to the replica: its key in the vault,
                         or its org id in 15 or 18 characters, any case (required)
  --replica-bucket NAME  the replica bucket (required)
  --replica-region REGION  the replica's region (required on AWS)
  --replica-endpoint URL   an S3-compatible server holding the replica instead of AWS S3
  --bypass-governance    remove versions under GOVERNANCE retention (needs s3:BypassGovernanceRetention)
  --confirm              remove; without it, only report
  --json                 print one JSON object
  -h, --help             show this help
`;

/** The run as text: what was read, what the replica held, what was removed or would be refused. */
export function describeCleaning(report: ReplicaCleaning, replica: string): string {
  const lines = [
    report.confirmed
      ? `Erasures of org ${displayOrg(report.org)} carried to replica ${replica}:`
      : `Dry run for replica ${replica} of org ${displayOrg(report.org)}: nothing was removed.`,
  ];
  if (report.executions.length === 0) {
    lines.push('  No erasure of this org listed a removed version: there is nothing to remove.');
    return `${lines.join('\n')}\n`;
  }
  const named = (versions: readonly { key: string; versionId: string; why?: string }[], count: number) => [
    ...versions.map(
      (v) =>
        `    ${JSON.stringify(v.key)} version ${JSON.stringify(v.versionId)}${v.why ? `: ${v.why}` : ''}`,
    ),
    ...(count > NAMED_VERSIONS ? [`    ... and ${count - NAMED_VERSIONS} more`] : []),
  ];
  lines.push(
    `  Erasure executions whose lists were read (${report.executions.length}):`,
    ...alignColumns([
      ['EXECUTION', 'STATUS', 'REQUESTED BY', 'AT', 'KEYS', 'VERSIONS'],
      ...report.executions.map((e) => [
        e.execution,
        e.status,
        e.requestedBy ?? '-',
        e.at ?? '-',
        String(e.keys),
        String(e.versions),
      ]),
    ]).map((line) => `    ${line}`),
    `  ${report.listedVersions} version(s) of ${report.keys} key(s) listed: the replica held ${report.inReplica} the vault no longer holds; ${report.notInReplica} it does not hold (never received, not received yet, or removed already).`,
  );
  if (report.stillInVault > 0)
    lines.push(
      `  ${report.stillInVault} listed version(s) are still in the vault, so they stay in the replica too (a removal a lock refused, or a list no erasure wrote):`,
      ...named(report.namedStillInVault, report.stillInVault),
    );
  if (!report.confirmed) {
    const removable = report.inReplica - report.leftCount;
    lines.push(
      removable > 0
        ? `  ${removable} would be removed. Run again with --confirm to remove them.`
        : '  None would be removed.',
    );
    if (report.leftCount > 0)
      lines.push(
        `  ${report.leftCount} would be refused by a lock:`,
        ...named(report.left, report.leftCount),
      );
  } else {
    lines.push(`  Removed ${report.removed}.`);
    lines.push(
      report.leftCount > 0
        ? `  ${report.leftCount} are still in the replica: mend what is named, then run again.`
        : '  Nothing the vault no longer holds is left in the replica.',
      ...named(report.left, report.leftCount),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, problems } = parseCommandLine('erase-replica', OWN_OPTIONS, args);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  for (const name of ['store', 'instance-url', 'access-token'] as const) {
    if (values[name] !== undefined)
      problems.push(
        `--${name} is not an option of sfbackup erase-replica: it reads the vault bucket (--bucket), whose versions say what the vault no longer holds`,
      );
  }
  const vaultEndpoint = values['s3-endpoint'];
  const endpoint = values['replica-endpoint'];
  const region = values['replica-region'];
  const bucket = values['replica-bucket'];
  if (values.bucket === undefined) problems.push('--bucket NAME is required: the vault bucket');
  // An org id in any of the spellings Salesforce accepts is read under its one vault key.
  const org = values.org === undefined ? undefined : (orgKeyOfId(values.org) ?? values.org);
  if (org === undefined)
    problems.push('--org NAME is required: name the org whose erasures to carry to the replica');
  else {
    const problem = orgNameProblem(org);
    if (problem) problems.push(`--org: ${problem}`);
  }
  if (!bucket) problems.push('--replica-bucket NAME is required: the bucket the vault replicates into');
  if (bucket && bucket === values.bucket && endpoint === vaultEndpoint)
    problems.push(
      "--replica-bucket names the vault itself: give the replica bucket (<stackPrefix>-replica-<account>-<region>, the config's replication)",
    );
  if (!endpoint && !region)
    problems.push(
      "--replica-region REGION is required for a replica on AWS S3: the config's replication.region",
    );
  for (const [name, url] of [
    ['s3-endpoint', vaultEndpoint],
    ['replica-endpoint', endpoint],
  ] as const) {
    if (url !== undefined && !/^https?:\/\/\S+$/.test(url))
      problems.push(`--${name} is "${url}", which is not an http(s) URL: write e.g. http://127.0.0.1:7480`);
  }
  if (problems.length > 0) {
    process.stderr.write(describeProblems('erase-replica', problems, USAGE));
    return 2;
  }
  const vault = new S3Store({
    bucket: values.bucket!,
    ...(vaultEndpoint ? { endpoint: vaultEndpoint } : {}),
  });
  const replica = new S3Store({
    bucket: bucket!,
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    bypassGovernanceRetention: values['bypass-governance'] ?? false,
  });
  const where = `bucket ${bucket}${endpoint ? ` at ${endpoint}` : region ? ` in ${region}` : ''}`;
  let report: ReplicaCleaning;
  try {
    const held = await heldOrgKey(vault, org!).catch((error: unknown) => {
      throw failed(`looking up org ${org} in vault bucket ${values.bucket}`, error);
    });
    if (!(await holdsAnything(vault, held).catch(() => true))) {
      process.stderr.write(
        `sfbackup erase-replica: vault bucket ${values.bucket} holds nothing of org ${displayOrg(held)}: check --org and --bucket. ${await otherOrgsHint(vault, held)}\n`,
      );
      return 1;
    }
    report = await cleanReplica({
      vault,
      vaultVersions: vault,
      replica,
      org: held,
      confirm: values.confirm ?? false,
      bypassGovernance: values['bypass-governance'] ?? false,
    });
  } catch (error) {
    if (!(error instanceof ReplicaListUnusableError || error instanceof ReplicaCleaningFailedError))
      throw error;
    if (values.json)
      process.stdout.write(`${JSON.stringify({ error: error.name, message: error.message })}\n`);
    process.stderr.write(`sfbackup erase-replica: ${error.message}\n`);
    return 1;
  }
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : describeCleaning(report, where));
  return report.confirmed && report.leftCount > 0 ? 1 : 0;
}
