import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate authority and a server certificate it signed for 127.0.0.1 and localhost. */
export interface TlsMaterial {
  /** PEM of the CA: point NODE_EXTRA_CA_CERTS at a file holding it. */
  readonly caCertificate: string;
  readonly certificate: string;
  readonly privateKey: string;
}

/** Thrown when the machine's openssl cannot make the certificates. */
export class TlsSetupError extends Error {
  override name = 'TlsSetupError';
}

/** Makes a fresh CA and server certificate with the machine's openssl (valid two days). */
export function createTlsMaterial(): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'sf-emulator-tls-'));
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Salesforce emulator local CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    ]);
    writeFileSync(
      join(dir, 'server.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    );
    run([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ]);
    return {
      caCertificate: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      certificate: readFileSync(join(dir, 'server.pem'), 'utf8'),
      privateKey: readFileSync(join(dir, 'server.key'), 'utf8'),
    };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new TlsSetupError(
      `Could not create TLS certificates with openssl (is it installed?): ${(error as Error).message} ${stderr}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
