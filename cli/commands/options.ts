/**
 * The options every workflow command (`backup`, `restore`) shares: where the org is and how to
 * reach it, where the vault is, which org key to use, and how to print. Each command adds its own
 * options; parsing, checking and reporting problems happen here once, so that a mistyped command
 * line gets every problem back in one answer, each with what to write instead.
 */
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { orgKeyOfId } from '../../contract/org-id.ts';
import { EnvName, orgNameProblem } from '../../contract/workflow-contract.ts';
import { describeUnreachable } from '../../lambdas/adapters/salesforce/unreachable.ts';

/** How parseArgs declares one option. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

/** A command's options by long name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The parsed values of `specs`: a string or a flag per option, undefined when not given. */
export type OptionValues<S extends OptionSpecs> = {
  readonly [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string;
};

/** The options of every workflow command. */
export const COMMON_OPTIONS = {
  'instance-url': { type: 'string' },
  'access-token': { type: 'string' },
  store: { type: 'string' },
  's3-endpoint': { type: 'string' },
  bucket: { type: 'string' },
  org: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

/** Help lines for the connection and vault options, in the order a command's usage lists them. */
export const CONNECTION_HELP = `  --instance-url URL     the org's instance URL (e.g. the emulator's)
  --access-token TOKEN   an access token for it (or ${EnvName.LocalAccessToken})
  --store DIR            local directory of the vault (the default kind of vault)
  --s3-endpoint URL      use an S3-compatible server instead of a directory...
  --bucket NAME          ...and this bucket in it (with --s3-endpoint, or AWS S3 without it)
  --org NAME             the org's key in the vault: a name, or the org id in 15 or 18
                         characters, any case (default: the org id the token belongs to)
`;

/** Help lines for the output options, which close a command's usage. */
export const OUTPUT_HELP = `  --json                 print one summary object last
  -h, --help             show this help
`;

/** How to reach an org: its instance URL and an access token. */
export interface OrgConnection {
  readonly instanceUrl: string;
  readonly accessToken: string;
}

/** The vault a local run reads and writes: a directory, or a bucket on S3 or an S3-compatible server. */
export type LocalStoreSpec =
  | string
  | { readonly s3: { readonly bucket: string; readonly endpoint?: string } };

/** What the common options ask for, once they passed every check. */
export interface CommonRequest {
  readonly connection: OrgConnection;
  readonly store: LocalStoreSpec;
  /** The org key given with --org; the identity endpoint's answer is used when absent. */
  readonly org?: string;
  readonly json: boolean;
}

/** A command line, parsed but not yet checked beyond its syntax. */
export interface ParsedCommandLine<S extends OptionSpecs> {
  readonly values: OptionValues<typeof COMMON_OPTIONS & S>;
  /** The arguments that are not options, in order: only as many as the command declares. */
  readonly positionals: string[];
  /** What is wrong with the syntax: unknown options, missing values, stray arguments. */
  readonly problems: string[];
}

/** What a command takes besides options. */
export interface CommandLineShape {
  /**
   * Names of the arguments the command takes that are not options (`A`, `B`), in order, for
   * messages; more than these is a problem, fewer is for the command to judge. @default - none
   */
  readonly positionals?: readonly string[];
}

/**
 * Parses `args` against the common options and the command's `own`. Unlike parseArgs' strict
 * mode, which throws at the first mistake, this keeps going and lists every syntax problem.
 */
export function parseCommandLine<S extends OptionSpecs>(
  command: string,
  own: S,
  args: readonly string[],
  shape: CommandLineShape = {},
): ParsedCommandLine<S> {
  const specs: OptionSpecs = { ...COMMON_OPTIONS, ...own };
  const { tokens } = parseArgs({
    args: [...args],
    options: specs as ParseArgsConfig['options'],
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const declared = shape.positionals ?? [];
  const problems: string[] = [];
  const help = `run "sfbackup ${command} --help" for its options`;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (positionals.length < declared.length) positionals.push(token.value);
      else if (declared.length > 0)
        problems.push(
          `"${token.value}" is one argument too many: sfbackup ${command} takes ${declared.join(' ')} and options; ${help}`,
        );
      else problems.push(`"${token.value}" is not an option: options start with --; ${help}`);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = specs[token.name];
    if (!spec) {
      problems.push(`${token.rawName} is not an option of sfbackup ${command}: ${help}`);
      continue;
    }
    const name = `--${token.name}`;
    if (spec.type === 'boolean') {
      if (token.value !== undefined) problems.push(`${name} takes no value: write ${name} alone`);
      else values[token.name] = true;
    } else if (token.value === undefined) {
      problems.push(`${name} needs a value: write ${name} VALUE`);
    } else if (!token.inlineValue && token.value.startsWith('-') && token.value !== '-') {
      problems.push(
        `${name} is followed by "${token.value}", which looks like an option: give ${name} its value, ` +
          `or write ${name}=${token.value} if that is the value`,
      );
    } else {
      values[token.name] = token.value;
    }
  }
  return { values: values as OptionValues<typeof COMMON_OPTIONS & S>, positionals, problems };
}

/**
 * Checks the common options, pushing what is wrong (and what to write instead) onto `problems`.
 * The access token falls back to the environment so that it need not appear in the shell history.
 */
export function readCommonOptions(
  values: OptionValues<typeof COMMON_OPTIONS>,
  problems: string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): CommonRequest | undefined {
  const before = problems.length;
  const instanceUrl = values['instance-url'];
  const accessToken = values['access-token'] ?? env[EnvName.LocalAccessToken];
  if (!instanceUrl) {
    problems.push(
      "--instance-url is required: give the org's instance URL, e.g. https://acme.my.salesforce.com",
    );
  } else if (!isHttpUrl(instanceUrl)) {
    problems.push(
      `--instance-url is "${instanceUrl}", which is not an http(s) URL: write e.g. https://acme.my.salesforce.com`,
    );
  }
  if (!accessToken) {
    problems.push(
      `--access-token (or ${EnvName.LocalAccessToken}) is required: give an access token for the org, ` +
        `or export ${EnvName.LocalAccessToken}=TOKEN`,
    );
  }
  if (!values.store && !values.bucket) {
    problems.push('--store DIR, or --bucket NAME, is required: name the vault, e.g. --store ./backups');
  }
  if (values.store && values.bucket) {
    problems.push('--store and --bucket both name a vault: give one of them');
  }
  if (values['s3-endpoint'] && !values.bucket) {
    problems.push('--s3-endpoint needs --bucket: name the bucket on that server, e.g. --bucket my-vault');
  }
  if (values['s3-endpoint'] && !isHttpUrl(values['s3-endpoint'])) {
    problems.push(
      `--s3-endpoint is "${values['s3-endpoint']}", which is not an http(s) URL: write e.g. http://127.0.0.1:7480`,
    );
  }
  // An org id in any of the spellings Salesforce accepts is filed under its one vault key.
  const org = values.org === undefined ? undefined : (orgKeyOfId(values.org) ?? values.org);
  const orgProblem = org === undefined ? undefined : orgNameProblem(org);
  if (orgProblem) problems.push(`--org: ${orgProblem}`);
  if (problems.length > before || !instanceUrl || !accessToken) return undefined;
  const bucket = values.bucket;
  const endpoint = values['s3-endpoint'];
  return {
    connection: { instanceUrl, accessToken },
    store: bucket ? { s3: { bucket, ...(endpoint ? { endpoint } : {}) } } : (values.store ?? ''),
    ...(org !== undefined ? { org } : {}),
    json: values.json ?? false,
  };
}

/** Where a vault is, as a person checks it: a directory's absolute path, or the bucket and its endpoint. */
export function describeStore(store: LocalStoreSpec): string {
  if (typeof store === 'string') return resolve(store);
  return `bucket ${store.s3.bucket} at ${store.s3.endpoint ?? 'AWS S3'}`;
}

/** The whole answer to a command line with problems: each on its own line, then the usage. */
export function describeProblems(command: string, problems: readonly string[], usage: string): string {
  const heading =
    problems.length === 1
      ? `sfbackup ${command}: 1 problem with the options:`
      : `sfbackup ${command}: ${problems.length} problems with the options:`;
  return `${heading}\n${problems.map((p) => `  - ${p}\n`).join('')}\n${usage}`;
}

/** The org key the vault files a local run under: the given one, else the org id, lower-cased. */
export async function resolveOrgKey(connection: OrgConnection, org?: string): Promise<string> {
  return org ?? (await orgKeyOf(connection.instanceUrl, connection.accessToken));
}

/** How long the first call to the org may take before the CLI says it got no answer. */
export const ORG_TIMEOUT_MS = 30_000;

/** The org could not be reached at all; the message names the URL, the cause and what to check. */
export class OrgUnreachableError extends Error {
  override readonly name = 'OrgUnreachable';
}

/** The default org key: the org id, as the vault keys it, from the identity endpoint. */
export async function orgKeyOf(
  instanceUrl: string,
  accessToken: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<string> {
  const url = `${instanceUrl.replace(/\/+$/, '')}/services/oauth2/userinfo`;
  const timeoutMs = options.timeoutMs ?? ORG_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const message = describeUnreachable(instanceUrl, error, timeoutMs);
    if (message) throw new OrgUnreachableError(message, { cause: error });
    throw error;
  }
  if (!response.ok) {
    throw new Error(
      `Could not read the org id from ${instanceUrl} (HTTP ${response.status}); pass --org NAME or check the token.`,
    );
  }
  const info = (await response.json()) as { organization_id?: string };
  if (!info.organization_id) throw new Error('The identity answer has no organization_id; pass --org NAME.');
  return orgKeyOfId(info.organization_id) ?? info.organization_id.toLowerCase();
}

export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
