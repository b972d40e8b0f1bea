/**
 * What the commands that work on the vault alone share (`coverage`, `snapshots`, `diff`,
 * `history`, `plan`, which only read it, and `erase`): the vault options and their checks, the org
 * to read when --org is not given, and how a message names the vault that was searched.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { displayOrg, orgKeyOfId, sameOrgId } from '../../contract/org-id.ts';
import { orgNameProblem } from '../../contract/workflow-contract.ts';
import { createStore } from '../../lambdas/adapters/create-store.ts';
import { orgPrefix } from '../../lambdas/core/snapshot/keys.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
import { type COMMON_OPTIONS, isHttpUrl, type LocalStoreSpec, type OptionValues } from './options.ts';

/** Help lines for the vault options of a command that reads only the vault. */
export const VAULT_HELP = `  --store DIR            local directory of the vault
  --s3-endpoint URL      use an S3-compatible server instead of a directory...
  --bucket NAME          ...and this bucket in it (with --s3-endpoint, or AWS S3 without it)
  --org NAME             the org's key in the vault, or its org id in 15 or 18 characters, any case
                         (default: the only org the vault holds)
`;

/** Options of the workflow commands that mean nothing to a command reading only the vault. */
const NOT_HERE = ['instance-url', 'access-token'] as const;

/** The vault a command reads, opened, with a description of it for messages. */
export interface VaultRead {
  readonly store: BackupStore;
  /** The vault as `createStore` and a local workflow run take it. */
  readonly spec: LocalStoreSpec;
  /** The vault as the user named it: `/abs/dir (--store)` or `bucket NAME (--bucket)`. */
  readonly where: string;
  readonly org?: string;
}

/**
 * Checks the vault options, pushing each problem (and what to write instead) onto `problems`;
 * answers the vault to read when there is none. `why` says why the connection options mean nothing
 * to the command.
 */
export function readVaultOptions(
  command: string,
  values: OptionValues<typeof COMMON_OPTIONS>,
  problems: string[],
  why = 'it reads only the vault',
): VaultRead | undefined {
  const before = problems.length;
  for (const name of NOT_HERE) {
    if (values[name] !== undefined)
      problems.push(`--${name} is not an option of sfbackup ${command}: ${why}`);
  }
  if (!values.store && !values.bucket)
    problems.push('--store DIR, or --bucket NAME, is required: name the vault, e.g. --store ./backups');
  if (values.store && values.bucket)
    problems.push('--store and --bucket both name a vault: give one of them');
  if (values['s3-endpoint'] && !values.bucket)
    problems.push('--s3-endpoint needs --bucket: name the bucket on that server');
  if (values['s3-endpoint'] && !isHttpUrl(values['s3-endpoint']))
    problems.push(
      `--s3-endpoint is "${values['s3-endpoint']}", which is not an http(s) URL: write e.g. http://127.0.0.1:7480`,
    );
  if (values.store && !values.bucket && !isDirectory(values.store))
    problems.push(
      `--store ${values.store}: there is no directory ${resolve(values.store)}: give the vault's directory (the --store a backup wrote to)`,
    );
  // An org id in any of the spellings Salesforce accepts is read under its one vault key.
  const org = values.org === undefined ? undefined : (orgKeyOfId(values.org) ?? values.org);
  const orgProblem = org === undefined ? undefined : orgNameProblem(org);
  if (orgProblem) problems.push(`--org: ${orgProblem}`);
  if (problems.length > before) return undefined;
  const endpoint = values['s3-endpoint'];
  const spec: LocalStoreSpec = values.bucket
    ? { s3: { bucket: values.bucket, ...(endpoint ? { endpoint } : {}) } }
    : (values.store ?? '');
  return {
    store: createStore(spec),
    spec,
    where: values.bucket
      ? `bucket ${values.bucket}${endpoint ? ` at ${endpoint}` : ''} (--bucket)`
      : `${resolve(values.store ?? '')} (--store)`,
    ...(org !== undefined ? { org } : {}),
  };
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The org given with --org, else the only org the vault holds; fails naming the vault otherwise. */
export async function orgToRead(vault: VaultRead): Promise<string> {
  return vault.org !== undefined
    ? await heldOrgKey(vault.store, vault.org)
    : await onlyOrg(vault.store, vault.where);
}

/**
 * The org to read, as `orgToRead`, and whether the vault holds any key of it: a command that
 * refuses an org the vault holds nothing of lists the org's prefix once, not once more.
 */
export async function heldOrgToRead(vault: VaultRead): Promise<HeldOrg> {
  // The only org the vault holds was found by its keys.
  return vault.org !== undefined
    ? await heldOrg(vault.store, vault.org)
    : { org: await onlyOrg(vault.store, vault.where), holds: true };
}

/** The one org the vault holds; fails when it holds none or several, naming `where`. */
export async function onlyOrg(store: BackupStore, where: string = store.location): Promise<string> {
  const orgs = await new SnapshotReader(store).orgs();
  if (orgs.length === 1) return orgs[0]!;
  throw new Error(
    orgs.length === 0
      ? `The vault holds no org in ${where}: check --store (or --bucket), or run "sfbackup backup" first.`
      : `The vault in ${where} holds several orgs (${orgs.map(displayOrg).join(', ')}): name one with --org.`,
  );
}

/** An org key of the vault, and whether the vault holds any key under it. */
export interface HeldOrg {
  readonly org: string;
  readonly holds: boolean;
}

/**
 * The vault key for `--org`: as given, unless it is an org id the vault holds nothing of while it
 * holds that org under the same 15 characters in another case. A 15-character id is
 * case-sensitive, so one typed in lower case computes another checksum; the vault's key is the
 * org the person meant (two orgs whose ids differ only in case are not a typing mistake).
 */
export async function heldOrgKey(store: BackupStore, org: string): Promise<string> {
  return orgKeyOfId(org) === undefined ? org : (await heldOrg(store, org)).org;
}

/** `heldOrgKey`, and whether the vault holds anything of the key it answers. */
export async function heldOrg(store: BackupStore, org: string): Promise<HeldOrg> {
  const holds = await holdsAnything(store, org);
  if (holds || orgKeyOfId(org) === undefined) return { org, holds };
  const reader = new SnapshotReader(store);
  const same = (await reader.orgs()).filter(
    (held) =>
      held !== org && orgKeyOfId(held) !== undefined && sameOrgId(held.slice(0, 15), org.slice(0, 15)),
  );
  // An org the vault's orgs() names holds keys.
  return same.length === 1 && same[0] !== undefined ? { org: same[0], holds: true } : { org, holds: false };
}

/** True when the vault holds any key under the org's prefix: the first one listed is enough. */
export async function holdsAnything(store: BackupStore, org: string): Promise<boolean> {
  for await (const _held of store.list(orgPrefix(org))) return true;
  return false;
}

/**
 * What else a vault holds, for a message about an org it holds nothing of: a mistyped --store or
 * --org is the likely cause, and the orgs listed show which.
 */
export async function otherOrgsHint(store: BackupStore, org: string): Promise<string> {
  const others = (await new SnapshotReader(store).orgs()).filter((o) => o !== org);
  if (others.length === 0) return 'It holds no other org.';
  const listed = others.slice(0, 10).map(displayOrg).join(', ') + (others.length > 10 ? ', ...' : '');
  return `It holds ${others.length === 1 ? 'org' : 'orgs'} ${listed}: if you meant one of them, check --store and --org.`;
}
