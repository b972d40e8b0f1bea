/** `sfbackup emulator`: runs the local Salesforce org emulator in the foreground. */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator } from '../../emulator/index.ts';
import { isGzipLevel } from '../../emulator/server/csv-body.ts';

const USAGE = `Usage: sfbackup emulator --project DIR [--plan FILE]... [options]

Runs a local Salesforce org on 127.0.0.1 and prints one JSON line
{"instanceUrl","accessToken","orgId"} on stdout when it is ready. Stops on Ctrl-C (SIGINT) or SIGTERM.

Options:
  --project DIR      sfdx project whose objects, fields and metadata the org starts with (repeatable)
  --plan FILE        sf data tree plan to load into the org (repeatable)
  --generate SPEC    generate a deterministic org for benchmarks (see docs/emulator.md)
  --faults SPEC      inject faults, e.g. "bulk-results:cut@0.3,query:503@0.1,*:latency=50ms"
  --port N           port to listen on (default 0: a free port)
  --tls              serve https with a fresh self-signed CA; its PEM path is printed as caFile
  --api-requests N   daily API request allowance (default 100000)
  --bulk-page-size N rows per Bulk query results page when the client sends no maxRecords (default 50000)
  --gzip-level N     zlib level 0..9 of Bulk results sent gzip-compressed to clients that accept gzip
                     (default 1)
  --catalog NAME     standard objects the org lists: core (default) or production, the long tail of a
                     production org with Salesforce's answers for each kind (see docs/emulator-org.md)
  -h, --help         show this help
`;

/** Thrown for command-line arguments the command cannot use. */
export class EmulatorUsageError extends Error {
  override name = 'EmulatorUsageError';
}

/** Runs the emulator until SIGINT/SIGTERM; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(args).values;
  } catch (error) {
    process.stderr.write(`sfbackup emulator: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new EmulatorUsageError(`--port must be an integer from 0 to 65535, got "${values.port}".`);
  }
  const allowance = values['api-requests'] === undefined ? undefined : Number(values['api-requests']);
  if (allowance !== undefined && (!Number.isInteger(allowance) || allowance < 0)) {
    throw new EmulatorUsageError(
      `--api-requests must be a non-negative integer, got "${values['api-requests']}".`,
    );
  }
  const pageSize = values['bulk-page-size'] === undefined ? undefined : Number(values['bulk-page-size']);
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1)) {
    throw new EmulatorUsageError(
      `--bulk-page-size must be a positive integer, got "${values['bulk-page-size']}".`,
    );
  }
  const gzipLevel = values['gzip-level'] === undefined ? undefined : Number(values['gzip-level']);
  if (gzipLevel !== undefined && !isGzipLevel(gzipLevel)) {
    throw new EmulatorUsageError(
      `--gzip-level must be a whole number from 0 (no compression) to 9 (smallest), got "${values['gzip-level']}".`,
    );
  }
  const catalog = values.catalog ?? 'core';
  if (catalog !== 'core' && catalog !== 'production') {
    throw new EmulatorUsageError(`--catalog must be core or production, got "${catalog}".`);
  }
  const emulator = await startEmulator({
    projectDirs: values.project ?? [],
    planFiles: values.plan ?? [],
    generate: values.generate,
    faults: values.faults,
    port,
    tls: values.tls ?? false,
    dailyApiRequests: allowance,
    bulkPageSize: pageSize,
    gzipLevel,
    catalog,
  });
  const ready: Record<string, string> = {
    instanceUrl: emulator.instanceUrl,
    accessToken: emulator.accessToken,
    orgId: emulator.orgId,
  };
  if (emulator.caCertificate) {
    const caFile = join(tmpdir(), `sf-emulator-ca-${process.pid}.pem`);
    writeFileSync(caFile, emulator.caCertificate);
    ready.caFile = caFile;
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await emulator.stop();
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      project: { type: 'string', multiple: true },
      plan: { type: 'string', multiple: true },
      generate: { type: 'string' },
      faults: { type: 'string' },
      port: { type: 'string' },
      tls: { type: 'boolean' },
      'api-requests': { type: 'string' },
      'bulk-page-size': { type: 'string' },
      'gzip-level': { type: 'string' },
      catalog: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
