import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client, type S3StoreOptions } from '../../lambdas/adapters/s3-store.ts';

/** Set to 1 to skip the tests that need radosgw on a machine where Ceph cannot be installed. */
export const RADOSGW_OPT_OUT_ENV = 'SFVAULT_SKIP_RADOSGW_TESTS';

/** The binaries the cluster needs, with the Debian package that ships each. */
const REQUIRED_BINARIES: Record<string, string> = {
  'ceph-mon': 'ceph-mon',
  'ceph-osd': 'ceph-osd',
  radosgw: 'radosgw',
  'radosgw-admin': 'ceph-common',
  ceph: 'ceph-common',
  monmaptool: 'ceph-base',
  timeout: 'coreutils',
};
const SYSTEM_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const START_TIMEOUT_MS = 120_000;
const execFileAsync = promisify(execFile);
const CLUSTER_SCRIPT = fileURLToPath(new URL('./radosgw-cluster.sh', import.meta.url));

/** A running radosgw, reachable on 127.0.0.1 with path-style S3 requests. */
export interface Radosgw {
  /** e.g. `http://127.0.0.1:41234` */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The cluster's temporary directory (configuration, daemon data and logs); removed by stop(). */
  readonly directory: string;
  /** The key id of the "testing" KMS backend, for SSE-KMS writes. */
  readonly kmsKeyId: string;
  /** Variables that let a child process (e.g. the CLI) reach it through the SDK's default chain. */
  readonly env: Readonly<Record<string, string>>;
  /** A new S3 client for this server. */
  client(): S3Client;
  /**
   * Creates a bucket with versioning enabled, like the vault, and returns its name; with
   * `objectLock`, one with S3 Object Lock enabled (no default retention).
   */
  createBucket(namePrefix?: string, options?: { readonly objectLock?: boolean }): Promise<string>;
  /** S3Store options for a bucket on this server, with its KMS key. */
  storeOptions(bucket: string, extra?: Partial<S3StoreOptions>): S3StoreOptions;
  /**
   * Runs the buckets' lifecycle rules now, as S3 does once a day; on this server a rule's day is
   * `LIFECYCLE_DAY_SECONDS`.
   */
  processLifecycle(): Promise<void>;
  /** Stops every daemon and removes the cluster's directory. */
  stop(): Promise<void>;
}

/** How many seconds a lifecycle rule's day lasts on the test server. */
export const LIFECYCLE_DAY_SECONDS = 2;

/**
 * Points this process's SDK default credential chain at the server (the handlers and the runner
 * reach a bucket that way, as in Lambda); answers how to put the environment back.
 */
export function useRadosgwEnv(rgw: Radosgw): () => void {
  const saved = Object.keys(rgw.env).map((key) => [key, process.env[key]] as const);
  Object.assign(process.env, rgw.env);
  return () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/** radosgw cannot run here: a binary is missing. The message says what to install. */
export class RadosgwUnavailableError extends Error {
  override readonly name = 'RadosgwUnavailableError';
}

/** True when the developer chose, through RADOSGW_OPT_OUT_ENV, to skip the radosgw tests. */
export function radosgwOptedOut(): boolean {
  return process.env[RADOSGW_OPT_OUT_ENV] === '1';
}

/**
 * Starts a single-node Ceph cluster with radosgw in a temporary directory (about 3 s). Nothing is
 * installed here: the `s3` test project's global setup runs install-ceph.sh first, so a missing
 * binary means that setup was skipped. Each call starts its own cluster on free ports, so test files
 * running in parallel never share state. The cluster also stops when this process ends.
 */
export async function startRadosgw(): Promise<Radosgw> {
  const searchPath = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SYSTEM_BIN_DIRS];
  await checkRadosgwBinaries(searchPath);
  const dir = await mkdtemp(path.join(tmpdir(), 'sfvault-radosgw-'));
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const credentials = { accessKeyId: `SFV${randomHex(8)}`.toUpperCase(), secretAccessKey: randomHex(20) };
  const kmsKeyId = 'sfvault-test-key';
  const child = spawn('bash', [CLUSTER_SCRIPT], {
    env: {
      ...process.env,
      PATH: searchPath.join(':'),
      RGW_DIR: dir,
      RGW_MON_PORT: String(monPort),
      RGW_PORT: String(rgwPort),
      RGW_ACCESS_KEY: credentials.accessKeyId,
      RGW_SECRET_KEY: credentials.secretAccessKey,
      RGW_KMS_KEY_ID: kmsKeyId,
      RGW_KMS_KEY: randomBytes(32).toString('base64'),
      RGW_LC_DAY_SECONDS: String(LIFECYCLE_DAY_SECONDS),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, so that stop() can end the daemons even if the script hangs.
    detached: true,
  });
  await waitForReady(child);
  // Let this process exit without stop(): the closed stdin then stops the cluster.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  const endpoint = `http://127.0.0.1:${rgwPort}`;
  const region = 'us-east-1';
  const client = () => createS3Client({ endpoint, region, credentials });
  await waitForS3(client());
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    region,
    directory: dir,
    kmsKeyId,
    ...credentials,
    env: {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: region,
    },
    client,
    async createBucket(namePrefix = 'vault', options = {}) {
      const s3 = client();
      const bucket = `${namePrefix}-${randomHex(6)}`.toLowerCase();
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(options.objectLock ? { ObjectLockEnabledForBucket: true } : {}),
        }),
      );
      await s3.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
      );
      s3.destroy();
      return bucket;
    },
    storeOptions(bucket, extra = {}) {
      return { bucket, endpoint, region, credentials, kmsKeyId, ...extra };
    },
    async processLifecycle() {
      await execFileAsync('radosgw-admin', ['-c', path.join(dir, 'ceph.conf'), 'lc', 'process'], {
        env: { ...process.env, PATH: searchPath.join(':') },
        timeout: 60_000,
      });
    },
    stop() {
      stopped ??= stopCluster(child);
      return stopped;
    },
  };
}

/** Fails with RadosgwUnavailableError, naming the packages to install, if a binary is not in `searchPath`. */
export async function checkRadosgwBinaries(searchPath: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const binary of Object.keys(REQUIRED_BINARIES)) {
    if (!(await findExecutable(binary, searchPath))) missing.push(binary);
  }
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((binary) => REQUIRED_BINARIES[binary]))];
  throw new RadosgwUnavailableError(
    `The S3 tests need a local Ceph radosgw, but ${missing.join(', ')} ` +
      `${missing.length === 1 ? 'is' : 'are'} not installed (Debian package${packages.length === 1 ? '' : 's'} ` +
      `${packages.join(', ')}). Install them with:\n` +
      '  sudo apt-get update && sudo apt-get install -y radosgw ceph-mon ceph-osd ceph-common\n' +
      '(test/support/install-ceph.sh does this as root or with password-less sudo; `npm test` runs it).\n' +
      'To skip these tests on purpose instead, set ' +
      `${RADOSGW_OPT_OUT_ENV}=1.`,
  );
}

async function findExecutable(binary: string, searchPath: readonly string[]): Promise<string | undefined> {
  for (const dir of searchPath) {
    const candidate = path.join(dir, binary);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`radosgw did not start within ${START_TIMEOUT_MS / 1000} s.\n${stderr}`));
    }, START_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.split('\n').includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `The radosgw cluster script stopped during start-up (${signal ?? `exit ${code}`}):\n${stderr}`,
        ),
      );
    });
  });
}

/** The script says "ready" once radosgw listens; this waits until it also answers signed S3 calls. */
async function waitForS3(s3: S3Client): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await s3.send(new ListBucketsCommand({}));
      s3.destroy();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        s3.destroy();
        throw new Error(`radosgw listens but does not answer S3 requests: ${String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function stopCluster(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      killGroup(child);
      resolve();
    }, 20_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // Closing stdin is the script's signal to stop the daemons and remove its directory.
    child.stdin?.end();
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group has already gone
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
