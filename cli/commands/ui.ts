/** `sfbackup ui`: a point-in-time browser of the vault, served on 127.0.0.1 to the user's own browser. */
import { EnvName, ORGS_PREFIX, orgNameProblem } from '../../contract/workflow-contract.ts';
import { createStore } from '../../lambdas/adapters/create-store.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
import { RestoreRunner } from '../ui/restore-runner.ts';
import { type RunningUi, startUiServer } from '../ui/server.ts';
import {
  describeProblems,
  type LocalStoreSpec,
  type OrgConnection,
  OUTPUT_HELP,
  parseCommandLine,
  resolveOrgKey,
} from './options.ts';
import { runLocalRestore } from './restore.ts';

const USAGE = `Usage: sfbackup ui (--store DIR | --bucket NAME [--s3-endpoint URL]) [options]

Serves a browser of the vault on 127.0.0.1: the org's snapshots, the objects and records of each,
a record's history, the difference between two snapshots, and a restore-input builder (see
docs/ui.md). It reads the vault only, with your own AWS credentials for a bucket. It prints a URL
with a random token; only that URL opens it.

Options:
  --store DIR            local directory of the vault
  --bucket NAME          ...or this S3 bucket (AWS S3, or --s3-endpoint URL for an S3-compatible server)
  --s3-endpoint URL      an S3-compatible server's URL
  --org NAME             the org's key in the vault (default: the only org in the vault, or the
                         connected org's id, lower-cased)
  --port N               the port to listen on (default: an open port)
  --instance-url URL     with --access-token: the org a dry run plans against, so the page can
  --access-token TOKEN   run the dry run and, once confirmed with the org id, the restore
                         (the token may also come from ${EnvName.LocalAccessToken})
${OUTPUT_HELP}`;

const OPTIONS = { port: { type: 'string' } } as const;

/** What the command line asks for, once checked. */
export interface UiRequest {
  readonly store: LocalStoreSpec;
  readonly org?: string;
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
  if (!values.store && !values.bucket) {
    problems.push('--store DIR, or --bucket NAME, is required: name the vault, e.g. --store ./backups');
  }
  if (values.store && values.bucket)
    problems.push('--store and --bucket both name a vault: give one of them');
  if (values['s3-endpoint'] && !values.bucket) {
    problems.push('--s3-endpoint needs --bucket: name the bucket on that server, e.g. --bucket my-vault');
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(
      `--port is "${values.port}": give a port number from 1 to 65535, or leave it out for an open one`,
    );
  }
  const orgProblem = values.org === undefined ? undefined : orgNameProblem(values.org);
  if (orgProblem) problems.push(`--org: ${orgProblem}`);
  const instanceUrl = values['instance-url'];
  const accessToken = values['access-token'] ?? (instanceUrl ? env[EnvName.LocalAccessToken] : undefined);
  if (instanceUrl && !accessToken) {
    problems.push(
      `--instance-url needs --access-token (or ${EnvName.LocalAccessToken}): give a token for the org, or leave both out to browse only`,
    );
  }
  if (!instanceUrl && values['access-token']) {
    problems.push("--access-token needs --instance-url: give the org's instance URL too");
  }
  if (problems.length > 0) return { problems, help: values.help ?? false };
  const bucket = values.bucket;
  const endpoint = values['s3-endpoint'];
  return {
    problems,
    help: values.help ?? false,
    request: {
      store: bucket ? { s3: { bucket, ...(endpoint ? { endpoint } : {}) } } : (values.store ?? ''),
      ...(values.org ? { org: values.org } : {}),
      port,
      ...(instanceUrl && accessToken ? { connection: { instanceUrl, accessToken } } : {}),
    },
  };
}

/** Starts the ui for a checked request and resolves once it listens. */
export async function startUi(request: UiRequest, log?: (line: string) => void): Promise<RunningUi> {
  const store = createStore(request.store);
  const org =
    request.org ??
    (request.connection ? await resolveOrgKey(request.connection) : await onlyOrgIn(store, request.store));
  const restore = request.connection
    ? new RestoreRunner({ connection: request.connection, store: request.store, org, run: runLocalRestore })
    : undefined;
  return startUiServer({
    store,
    org,
    port: request.port,
    ...(restore ? { restore } : {}),
    ...(log ? { log } : {}),
  });
}

/** The one org the vault holds; with none or several, an error saying what to pass. */
async function onlyOrgIn(store: BackupStore, spec: LocalStoreSpec): Promise<string> {
  const orgs = new Set<string>();
  for await (const entry of store.list(ORGS_PREFIX)) {
    const name = entry.key.slice(ORGS_PREFIX.length).split('/')[0];
    if (name) orgs.add(name);
  }
  const where = typeof spec === 'string' ? spec : `bucket ${spec.s3.bucket}`;
  if (orgs.size === 1) return [...orgs][0]!;
  if (orgs.size === 0) {
    throw new Error(
      `The vault at ${where} holds no org yet: run sfbackup backup first, or check --store/--bucket.`,
    );
  }
  throw new Error(
    `The vault at ${where} holds several orgs (${[...orgs].sort().join(', ')}): choose one with --org NAME.`,
  );
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
    `sfbackup ui: browsing org ${ui.org} of the vault on ${ui.origin}\nOpen this URL (it holds this launch's token; keep it private):\n  ${ui.url}\nPress Ctrl+C to stop.\n`,
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
