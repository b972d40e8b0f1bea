/**
 * What the commands that only read the vault share (`coverage`, `snapshots`, `diff`, `history`,
 * `plan`): the vault options and their checks, the org to read when --org is not given, and how a
 * message names the vault that was searched.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ORGS_PREFIX, orgNameProblem } from '../../contract/workflow-contract.ts';
import { createStore, type StoreSpec } from '../../lambdas/adapters/create-store.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
import type { COMMON_OPTIONS, OptionValues } from './options.ts';

/** Help lines for the vault options of a command that reads only the vault. */
export const VAULT_HELP = `  --store DIR            local directory of the vault
  --s3-endpoint URL      use an S3-compatible server instead of a directory...
  --bucket NAME          ...and this bucket in it (with --s3-endpoint, or AWS S3 without it)
  --org NAME             the org's key in the vault (default: the only org the vault holds)
`;

/** Options of the workflow commands that mean nothing to a command reading only the vault. */
const NOT_HERE = ['instance-url', 'access-token'] as const;

/** The vault a command reads, opened, with a description of it for messages. */
export interface VaultRead {
  readonly store: BackupStore;
  /** The vault as the user named it: `/abs/dir (--store)` or `bucket NAME (--bucket)`. */
  readonly where: string;
  readonly org?: string;
}

/**
 * Checks the vault options, pushing each problem (and what to write instead) onto `problems`;
 * answers the vault to read when there is none.
 */
export function readVaultOptions(
  command: string,
  values: OptionValues<typeof COMMON_OPTIONS>,
  problems: string[],
): VaultRead | undefined {
  const before = problems.length;
  for (const name of NOT_HERE) {
    if (values[name] !== undefined)
      problems.push(`--${name} is not an option of sfbackup ${command}: it reads only the vault`);
  }
  if (!values.store && !values.bucket)
    problems.push('--store DIR, or --bucket NAME, is required: name the vault, e.g. --store ./backups');
  if (values.store && values.bucket)
    problems.push('--store and --bucket both name a vault: give one of them');
  if (values['s3-endpoint'] && !values.bucket)
    problems.push('--s3-endpoint needs --bucket: name the bucket on that server');
  if (values.store && !values.bucket && !isDirectory(values.store))
    problems.push(
      `--store ${values.store}: there is no directory ${resolve(values.store)}: give the vault's directory (the --store a backup wrote to)`,
    );
  const orgProblem = values.org === undefined ? undefined : orgNameProblem(values.org);
  if (orgProblem) problems.push(`--org: ${orgProblem}`);
  if (problems.length > before) return undefined;
  const endpoint = values['s3-endpoint'];
  const spec: StoreSpec = values.bucket
    ? { s3: { bucket: values.bucket, ...(endpoint ? { endpoint } : {}) } }
    : (values.store ?? '');
  return {
    store: createStore(spec),
    where: values.bucket
      ? `bucket ${values.bucket}${endpoint ? ` at ${endpoint}` : ''} (--bucket)`
      : `${resolve(values.store ?? '')} (--store)`,
    ...(values.org !== undefined ? { org: values.org } : {}),
  };
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The org given with --org, else the only org the vault holds; fails naming the vault otherwise. */
export async function orgToRead(vault: VaultRead): Promise<string> {
  return vault.org ?? (await onlyOrg(vault.store, vault.where));
}

/** The one org the vault holds; fails when it holds none or several, naming `where`. */
export async function onlyOrg(store: BackupStore, where: string = store.location): Promise<string> {
  const orgs = new Set<string>();
  for await (const entry of store.list(ORGS_PREFIX)) {
    const name = entry.key.slice(ORGS_PREFIX.length).split('/')[0];
    if (name) orgs.add(name);
  }
  if (orgs.size === 1) return [...orgs][0]!;
  throw new Error(
    orgs.size === 0
      ? `The vault holds no org in ${where}: check --store (or --bucket), or run "sfbackup backup" first.`
      : `The vault in ${where} holds several orgs (${[...orgs].sort().join(', ')}): name one with --org.`,
  );
}
