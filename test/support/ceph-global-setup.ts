/**
 * Vitest global setup of the `s3` project: before any S3 test starts radosgw, make sure Ceph is
 * installed, installing it when that can happen unattended (test/support/install-ceph.sh decides).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { radosgwOptedOut } from './radosgw.ts';

const INSTALL_SCRIPT = fileURLToPath(new URL('./install-ceph.sh', import.meta.url));

/** Ceph is missing and could not be installed here; the message gives the command that installs it. */
export class CephNotInstalledError extends Error {
  override readonly name = 'CephNotInstalledError';
}

/** Runs the install script unless the S3 tests are skipped on purpose; throws when Ceph is still missing. */
export default function setup(): void {
  if (radosgwOptedOut()) return;
  const result = spawnSync('bash', [INSTALL_SCRIPT], {
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status === 0) return;
  const message =
    result.stderr.trim() ||
    `${INSTALL_SCRIPT} ended with ${result.error?.message ?? `exit ${result.status ?? result.signal}`}.`;
  const error = new CephNotInstalledError(message);
  // The message is the whole story: a stack trace of this setup would only bury it.
  error.stack = `${error.name}: ${message}`;
  throw error;
}
