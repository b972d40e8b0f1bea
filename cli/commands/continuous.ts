/**
 * `sfbackup continuous check`: reads an org's Event Relay, its channel's objects and the objects
 * the backup exports, and the vault's journal, and prints what `checkContinuous` finds
 * (docs/continuous.md, "The platform engineer", step 4). Exits 1 on any problem.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvName } from '../../contract/workflow-contract.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { createStore, type StoreSpec } from '../../lambdas/adapters/create-store.ts';
import { credentialsFromSecret, type SalesforceCredentials } from '../../lambdas/adapters/salesforce/auth.ts';
import { HttpSalesforceSource } from '../../lambdas/adapters/salesforce/source.ts';
import { decideObject } from '../../lambdas/core/backup/special-objects.ts';
import { type CheckFinding, checkContinuous, hasProblem } from '../../lambdas/core/continuous/check.ts';
import { newestJournalWrite } from '../../lambdas/core/continuous/journal-newest.ts';
import type { SalesforceSource } from '../../lambdas/core/salesforce.ts';
import { type OrgConfig, parseConfig } from '../../lib/config.ts';
import { describeProblems, orgKeyOf, type OptionSpecs, parseCommandLine } from './options.ts';

const USAGE = `Usage: sfbackup continuous check [--org NAME --config FILE] [--instance-url URL --access-token TOKEN] [--store DIR] [--json]

Checks an org's continuous protection and prints each finding; exits 1 on any problem:
  - the Event Relay whose partner event source is the configured one (EventRelayConfig,
    EventRelayFeedback): RUN, no error, ReplayRecovery EARLIEST, the same RemoteResource;
  - its channel's objects (PlatformEventChannelMember) against the objects the backup exports:
    a channel object the backup leaves out is a problem, a backed-up object not on the channel
    is snapshot-only (information);
  - the journal in the vault: its newest batch must not be older than the relay's last relayed
    event by more than the writer's batching window (5 minutes) plus 1, and a relay that relayed
    must have written one.
The AWS side (the event source's state, the queue and dead-letter queues) is not read here: the
org's dashboard and alarms show it.

With no org given, the check runs against a built-in local emulator, as a new org looks (its
relay stopped, nothing selected).

Options:
  --org NAME                     the org's name in the config, and its key in the vault
  --config FILE                  the deployment config: the org's continuous.partnerEventSource,
                                 objects.include/exclude, and its secret (read from AWS Secrets
                                 Manager to sign in, unless --instance-url is given)
  --instance-url URL             the org's instance URL (e.g. the emulator's)...
  --access-token TOKEN           ...and an access token for it (or ${EnvName.LocalAccessToken})
  --partner-event-source NAME    the relay's source, when there is no config (or to override it)
  --store DIR                    local directory of the vault (the journal is read from it)
  --s3-endpoint URL              use an S3-compatible server instead of a directory...
  --bucket NAME                  ...and this bucket in it (with --s3-endpoint, or AWS S3 without it)
  --json                         print one JSON object
  -h, --help                     show this help
`;

const OWN = {
  config: { type: 'string' },
  'partner-event-source': { type: 'string' },
} as const satisfies OptionSpecs;

const PARTNER_SOURCE = /^aws\.partner\/salesforce\.com\/[^/]+\/[^/]+$/;

/** What `sfbackup continuous check --json` prints. */
export interface ContinuousCheckReport {
  readonly org: string;
  /** `emulator` when the check ran against the built-in emulator. */
  readonly target: 'org' | 'emulator';
  readonly partnerEventSource: string | null;
  readonly findings: readonly CheckFinding[];
  readonly problems: number;
}

/** A checked command line. */
interface CheckRequest {
  readonly org?: string;
  readonly orgConfig?: OrgConfig;
  readonly connection?: { readonly instanceUrl: string; readonly accessToken: string };
  readonly partnerEventSource?: string;
  readonly store?: StoreSpec;
  readonly json: boolean;
}

/** Runs `sfbackup continuous <sub-command>`; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub !== 'check') {
    process.stderr.write(
      `sfbackup continuous: ${sub === undefined ? 'name a sub-command' : `unknown sub-command "${sub}"`}: the only one is "check".\n\n${USAGE}`,
    );
    return 2;
  }
  const { values, problems } = parseCommandLine('continuous check', OWN, rest);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const request = readRequest(values, problems);
  if (problems.length > 0 || !request) {
    process.stderr.write(describeProblems('continuous check', problems, USAGE));
    return 2;
  }
  const report = await runCheck(request);
  process.stdout.write(request.json ? `${JSON.stringify(report)}\n` : describeReport(report));
  return report.problems > 0 ? 1 : 0;
}

function readRequest(
  values: ReturnType<typeof parseCommandLine<typeof OWN>>['values'],
  problems: string[],
): CheckRequest | undefined {
  const before = problems.length;
  const instanceUrl = values['instance-url'];
  const accessToken = values['access-token'] ?? process.env[EnvName.LocalAccessToken];
  if (instanceUrl && !accessToken)
    problems.push(
      `--instance-url needs --access-token (or ${EnvName.LocalAccessToken}): give a token for the org`,
    );
  if (values['access-token'] && !instanceUrl)
    problems.push("--access-token needs --instance-url: give the org's instance URL too");
  if (values.config && !values.org)
    problems.push('--config needs --org: name the org of the config to check');
  if (values.org && !values.config && !instanceUrl)
    problems.push(
      "--org needs --config FILE (to sign in with the org's secret) or --instance-url and --access-token: say how to reach the org",
    );
  const source = values['partner-event-source'];
  if (source !== undefined && !PARTNER_SOURCE.test(source))
    problems.push(
      `--partner-event-source is "${source}": write it as aws.partner/salesforce.com/<org id>/<channel id>`,
    );
  if (values.store && values.bucket)
    problems.push('--store and --bucket both name a vault: give one of them');
  if (values['s3-endpoint'] && !values.bucket)
    problems.push('--s3-endpoint needs --bucket: name the bucket on that server');
  const reachesOrg = Boolean(instanceUrl || values.config);
  if (reachesOrg && !values.store && !values.bucket)
    problems.push('--store DIR, or --bucket NAME, is required: name the vault whose journal to check');
  let orgConfig: OrgConfig | undefined;
  if (values.config && values.org) {
    const config = parseConfig(JSON.parse(readFileSync(values.config, 'utf8')), values.config);
    orgConfig = config.orgs.find((o) => o.name === values.org);
    if (!orgConfig)
      problems.push(
        `--org ${values.org} is not an org of ${values.config}: write one of ${config.orgs.map((o) => o.name).join(', ')}`,
      );
  }
  if (problems.length > before) return undefined;
  const endpoint = values['s3-endpoint'];
  const store: StoreSpec | undefined = values.bucket
    ? { s3: { bucket: values.bucket, ...(endpoint ? { endpoint } : {}) } }
    : values.store;
  return {
    ...(values.org ? { org: values.org } : {}),
    ...(orgConfig ? { orgConfig } : {}),
    ...(instanceUrl && accessToken ? { connection: { instanceUrl, accessToken } } : {}),
    ...(source ? { partnerEventSource: source } : {}),
    ...(store ? { store } : {}),
    json: values.json ?? false,
  };
}

/** Reads the org and the vault, and judges them. */
export async function runCheck(request: CheckRequest): Promise<ContinuousCheckReport> {
  let emulator: RunningEmulator | undefined;
  try {
    let connection = request.connection;
    if (!connection && !request.orgConfig) {
      emulator = await startEmulator({ port: 0 });
      connection = { instanceUrl: emulator.instanceUrl, accessToken: emulator.accessToken };
    }
    const source = new HttpSalesforceSource(
      connection
        ? { kind: 'access-token', ...connection }
        : await secretCredentials(request.orgConfig as OrgConfig),
    );
    const org =
      request.org ?? (connection ? await orgKeyOf(connection.instanceUrl, connection.accessToken) : '');
    const partnerEventSource =
      request.partnerEventSource ??
      request.orgConfig?.continuous?.partnerEventSource ??
      emulator?.relay.source ??
      null;
    const store = createStore(request.store ?? mkdtempSync(join(tmpdir(), 'sfbackup-check-')));
    const relay = partnerEventSource ? await source.eventRelay(partnerEventSource) : null;
    const findings = checkContinuous({
      partnerEventSource,
      relay,
      channelEntities: relay ? await source.changeEventEntities(relay.eventChannel) : [],
      backedUp: await backedUpObjects(source, request.orgConfig),
      newestBatchWrittenAt: await newestJournalWrite(store, org),
      now: new Date(),
      ...(emulator
        ? {
            startRelayHint:
              'the built-in emulator starts as a new org does, its relay stopped and no object selected; to check a running relay, start "sfbackup emulator", select objects (POST /__emulator/cdc {"selectedEntities":["Account"]}), start its relay (POST /__emulator/cdc/relay {"state":"RUN","replayRecovery":"EARLIEST"}), and run this check with --instance-url, --access-token and --partner-event-source',
          }
        : {}),
    });
    return {
      org,
      target: emulator ? 'emulator' : 'org',
      partnerEventSource,
      findings,
      problems: findings.filter((f) => f.level === 'problem').length,
    };
  } finally {
    await emulator?.stop();
  }
}

/** The objects a backup run exports now: describeGlobal, the org's objects.include/exclude, and the backup's own rules. */
async function backedUpObjects(source: SalesforceSource, orgConfig?: OrgConfig): Promise<string[]> {
  const include = new Set((orgConfig?.objects.include ?? []).map((n) => n.toLowerCase()));
  const exclude = new Set((orgConfig?.objects.exclude ?? []).map((n) => n.toLowerCase()));
  return (await source.describeGlobal())
    .filter((o) => {
      const lower = o.name.toLowerCase();
      if ((include.size > 0 && !include.has(lower)) || exclude.has(lower)) return false;
      return decideObject(o, include.has(lower)).kind === 'export';
    })
    .map((o) => o.name)
    .sort();
}

/** Signs in as the backups do: the org's secret from AWS Secrets Manager. */
async function secretCredentials(org: OrgConfig): Promise<SalesforceCredentials> {
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const secret = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: org.secretName }),
  );
  if (!secret.SecretString) {
    throw new Error(
      `The secret ${org.secretName} of org ${org.name} holds no text: store the org's credentials in it as JSON, or pass --instance-url and --access-token.`,
    );
  }
  return credentialsFromSecret(secret.SecretString, org.loginUrl);
}

const LABELS: Record<CheckFinding['level'], string> = { ok: 'ok     ', info: 'info   ', problem: 'PROBLEM' };

/** The report as text: one line per finding, its fix below it, then the count of problems. */
export function describeReport(report: ContinuousCheckReport): string {
  const lines = [
    `Continuous check of org ${report.org}${report.target === 'emulator' ? ' (the built-in emulator)' : ''}, partner event source ${report.partnerEventSource ?? '(none)'}:`,
  ];
  for (const f of report.findings) {
    lines.push(`  ${LABELS[f.level]} ${f.what}: ${f.detail}`);
    if (f.fix) lines.push(`          fix: ${f.fix}`);
  }
  lines.push(
    hasProblem(report.findings)
      ? `${report.problems} problem${report.problems === 1 ? '' : 's'}.`
      : 'No problem found.',
  );
  return `${lines.join('\n')}\n`;
}
