/** `sfbackup ui`: a point-in-time browser of the vault, served on 127.0.0.1 to the user's own browser. */
import { displayOrg } from '../../contract/org-id.ts';
import { EnvName } from '../../contract/workflow-contract.ts';
import { RestoreRunner } from '../ui/restore-runner.ts';
import { type RunningUi, startUiServer } from '../ui/server.ts';
import {
  describeProblems,
  type LocalStoreSpec,
  type OrgConnection,
  parseCommandLine,
  resolveOrgKey,
} from './options.ts';
import { runLocalRestore } from './restore.ts';
import { orgToRead, readVaultOptions, VAULT_HELP, type VaultRead } from './vault-read.ts';

const USAGE = `Usage: sfbackup ui (--store DIR | --bucket NAME [--s3-endpoint URL]) [options]

Serves a browser of the vault on 127.0.0.1: the org's snapshots, the objects and records of each,
a record's history, the difference between two snapshots, and a restore-input builder (see
docs/ui.md). It reads the vault only, with your own AWS credentials for a bucket. It prints a URL
with a random token; only that URL opens it.

Options:
${VAULT_HELP}                         (with an org connection, the default is its org id, lower-cased)
  --port N               the port to listen on, 1 to 65535; 0 or none: an open port
  --instance-url URL     with --access-token: the org a dry run plans against, so the page can
  --access-token TOKEN   run the dry run and, once confirmed with the org id, the restore
                         (the token may also come from ${EnvName.LocalAccessToken})
  -h, --help             show this help
`;

const OPTIONS = { port: { type: 'string' } } as const;

/** What the command line asks for, once checked. */
export interface UiRequest {
  readonly vault: VaultRead;
  /** The vault as a local run names it, for the restore runner. */
  readonly store: LocalStoreSpec;
  readonly port: number;
  readonly connection?: OrgConnection;
}

/** Checks the command line; returns the request, or the problems, each with what to write instead. */
export function readUiOptions(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): { request?: UiRequest; problems: string[]; help: boolean } {
  const { values, problems } = parseCommandLine('ui', OPTIONS, args);
  if (values.json) problems.push('--json is not an option of sfbackup ui: it prints only its URL');
  const instanceUrl = values['instance-url'];
  const accessToken = values['access-token'] ?? (instanceUrl ? env[EnvName.LocalAccessToken] : undefined);
  // The vault options are checked as every vault-reading command checks them; the org connection,
  // which those refuse, is the ui's own.
  const vault = readVaultOptions(
    'ui',
    { ...values, 'instance-url': undefined, 'access-token': undefined },
    problems,
  );
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(
      `--port is "${values.port}": give a port number from 1 to 65535, or 0 (or leave it out) for an open one`,
    );
  }
  if (instanceUrl && !accessToken) {
    problems.push(
      `--instance-url needs --access-token (or ${EnvName.LocalAccessToken}): give a token for the org, or leave both out to browse only`,
    );
  }
  if (!instanceUrl && values['access-token']) {
    problems.push("--access-token needs --instance-url: give the org's instance URL too");
  }
  const help = values.help ?? false;
  if (problems.length > 0 || !vault) return { problems, help };
  const bucket = values.bucket;
  const endpoint = values['s3-endpoint'];
  return {
    problems,
    help,
    request: {
      vault,
      store: bucket ? { s3: { bucket, ...(endpoint ? { endpoint } : {}) } } : (values.store ?? ''),
      port,
      ...(instanceUrl && accessToken ? { connection: { instanceUrl, accessToken } } : {}),
    },
  };
}

/** Starts the ui for a checked request and resolves once it listens. */
export async function startUi(request: UiRequest, log?: (line: string) => void): Promise<RunningUi> {
  const { vault, connection } = request;
  const org = vault.org ?? (connection ? await resolveOrgKey(connection) : await orgToRead(vault));
  const restore = connection
    ? new RestoreRunner({ connection, store: request.store, vault: vault.store, org, run: runLocalRestore })
    : undefined;
  return startUiServer({
    store: vault.store,
    org,
    port: request.port,
    ...(restore ? { restore } : {}),
    ...(log ? { log } : {}),
  });
}

/** Runs the command: serves until the process is interrupted; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { request, problems, help } = readUiOptions(args);
  if (help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!request) {
    process.stderr.write(describeProblems('ui', problems, USAGE));
    return 2;
  }
  const ui = await startUi(request, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(
    `sfbackup ui: browsing org ${displayOrg(ui.org)} of the vault on ${ui.origin}\nOpen this URL (it holds this launch's token; keep it private):\n  ${ui.url}\nPress Ctrl+C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void ui.stop().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
