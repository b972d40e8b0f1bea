/**
 * Runs Salesforce's own CLI (`sf`, from @salesforce/cli) as an independent client of the
 * emulator: in a throwaway HOME so it never touches a real user's auth files, with telemetry,
 * update checks and log files off, and the access token passed in SF_ACCESS_TOKEN.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One finished `sf` command. */
export interface SfResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON when the command ran with `--json` and printed JSON. */
  readonly json: SfJson | undefined;
}

/** The envelope `sf ... --json` prints. */
export interface SfJson {
  readonly status: number;
  readonly result?: unknown;
  readonly name?: string;
  readonly message?: string;
  readonly warnings?: unknown[];
}

/** Options of `createSfCli`. */
export interface SfCliOptions {
  /** Access token of the org (`00D...!...`), exported as SF_ACCESS_TOKEN. */
  readonly accessToken: string;
  /** PEM of a CA to trust (for an https emulator). @default - none */
  readonly caCertificate?: string;
  /** Milliseconds before a command is killed. @default 180000 */
  readonly timeoutMs?: number;
}

/** A CLI bound to one temporary home. */
export interface SfCli {
  /** The temporary home (also the working directory of every command). */
  readonly home: string;
  /** Runs `sf <args>`; never throws for a non-zero exit code. */
  run(args: readonly string[], cwd?: string): Promise<SfResult>;
  /** Removes the temporary home. */
  cleanup(): void;
}

/** The CLI's entry script (its package exports nothing to resolve), run with the current Node 22. */
function sfEntry(): string {
  const entry = fileURLToPath(new URL('../../node_modules/@salesforce/cli/bin/run.js', import.meta.url));
  if (!existsSync(entry)) throw new Error(`Salesforce CLI not found at ${entry}; run npm install`);
  return entry;
}

/** Creates a CLI runner with its own temporary HOME and XDG folders. */
export function createSfCli(options: SfCliOptions): SfCli {
  const home = mkdtempSync(join(tmpdir(), 'sf-home-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    SF_ACCESS_TOKEN: options.accessToken,
    SF_DISABLE_TELEMETRY: 'true',
    SF_AUTOUPDATE_DISABLE: 'true',
    SF_SKIP_NEW_VERSION_CHECK: 'true',
    SF_USE_GENERIC_UNIX_KEYCHAIN: 'true',
    SF_DISABLE_LOG_FILE: 'true',
    SF_HIDE_RELEASE_NOTES: 'true',
    SF_NO_COLOR: 'true',
    FORCE_COLOR: '0',
  };
  if (options.caCertificate) {
    const caFile = join(home, 'emulator-ca.pem');
    writeFileSync(caFile, options.caCertificate);
    env.NODE_EXTRA_CA_CERTS = caFile;
  }
  const entry = sfEntry();
  const timeoutMs = options.timeoutMs ?? 180_000;
  return {
    home,
    run(args, cwd = home) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [entry, ...args], {
          cwd,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          const stdout = Buffer.concat(out).toString('utf8');
          let json: SfJson | undefined;
          try {
            json = args.includes('--json') ? (JSON.parse(stdout) as SfJson) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ code: code ?? -1, stdout, stderr: Buffer.concat(err).toString('utf8'), json });
        });
      });
    },
    cleanup() {
      rmSync(home, { recursive: true, force: true });
    },
  };
}
