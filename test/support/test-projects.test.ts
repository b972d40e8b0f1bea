import { spawnSync } from 'node:child_process';
import { existsSync, globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BROWSER_TESTS, EMULATOR_TESTS, S3_TESTS, SERVER_MODULES } from './test-projects.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL_SCRIPT = fileURLToPath(new URL('./install-ceph.sh', import.meta.url));
const INSTALL_CHROMIUM = fileURLToPath(new URL('./install-chromium.sh', import.meta.url));

/** Every project-relative module `file` imports, through the test helpers under test/. */
function importsOf(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const source = readFileSync(path.join(ROOT, file), 'utf8');
  for (const [, specifier] of source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier ?? ''));
    // Import-like text in a fixture string names no file; only real helpers are followed.
    if (target.startsWith('test/') && existsSync(path.join(ROOT, target))) importsOf(target, seen);
    else seen.add(target);
  }
  return seen;
}

function needs(file: string): 'unit' | 'emulator' | 's3' | 'browser' {
  const imports = importsOf(file);
  if (SERVER_MODULES.browser.some((m) => imports.has(m))) return 'browser';
  if (SERVER_MODULES.s3.some((m) => imports.has(m))) return 's3';
  if (SERVER_MODULES.emulator.some((m) => imports.has(m))) return 'emulator';
  return 'unit';
}

describe('the test projects', () => {
  const listed = (patterns: readonly string[]) => new Set(globSync([...patterns], { cwd: ROOT }));
  const emulator = listed(EMULATOR_TESTS);
  const s3 = listed(S3_TESTS);
  const browser = listed(BROWSER_TESTS);

  // One way only: a listed file may start its server without importing a helper (server-cli.test.ts
  // spawns `sfbackup emulator`), but a file that imports one must be listed.
  it('keep every test file that imports a server helper out of the unit project', () => {
    const wrong: string[] = [];
    for (const file of globSync('test/**/*.test.ts', { cwd: ROOT }).sort()) {
      const needed = needs(file);
      if (needed === 's3' && !s3.has(file)) wrong.push(`${file} starts radosgw: list it in S3_TESTS`);
      if (needed === 'browser' && !browser.has(file))
        wrong.push(`${file} drives Chromium: list it in BROWSER_TESTS`);
      if (needed === 'emulator' && !emulator.has(file) && !s3.has(file) && !browser.has(file))
        wrong.push(`${file} starts the emulator or the sf CLI: list it in EMULATOR_TESTS`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('install-ceph.sh', () => {
  const plan = (env: Record<string, string>) =>
    spawnSync('bash', [INSTALL_SCRIPT, '--plan'], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('plans no install when every binary it checks for is present', () => {
    const result = plan({ SFVAULT_CEPH_BINARIES: 'bash' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/is installed/);
    expect(result.stdout).not.toContain('apt-get');
  });

  it('plans apt-get update, then the four packages, when a binary is missing', () => {
    const result = plan({ SFVAULT_CEPH_BINARIES: 'bash sfvault-no-such-binary' });
    const root = process.getuid?.() === 0;
    const sudo = root || spawnSync('sudo', ['-n', 'true']).status === 0;
    if (!sudo) {
      expect(result.status).toBe(3);
      expect(result.stderr).toContain(
        'sudo apt-get update && sudo apt-get install -y radosgw ceph-mon ceph-osd ceph-common',
      );
      return;
    }
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('missing: sfvault-no-such-binary');
    expect(lines[1]).toMatch(/^would run: (sudo -n )?env DEBIAN_FRONTEND=noninteractive apt-get update/);
    expect(lines[2]).toMatch(/apt-get install -y .* radosgw ceph-mon ceph-osd ceph-common$/);
  });

  // setpriv runs the script as nobody, who is not root and has no password-less sudo.
  const canDropToNobody = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
  it.skipIf(!canDropToNobody)(
    'stops at once with the command to run when it has no way to become root',
    () => {
      const result = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', INSTALL_SCRIPT, '--plan'],
        { encoding: 'utf8', env: { ...process.env, SFVAULT_CEPH_BINARIES: 'sfvault-no-such-binary' } },
      );
      expect(result.status).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('installing it needs root');
      expect(result.stderr).toContain(
        'sudo apt-get update && sudo apt-get install -y radosgw ceph-mon ceph-osd ceph-common',
      );
    },
  );
});

describe('install-chromium.sh', () => {
  const plan = (browser: string) =>
    spawnSync('bash', [INSTALL_CHROMIUM, '--plan'], {
      encoding: 'utf8',
      env: { ...process.env, SFVAULT_CHROMIUM: browser },
    });

  it('plans no install when the browser is present', () => {
    const result = plan('/bin/sh');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/is installed \(\/bin\/sh\)/);
    expect(result.stdout).not.toContain('apt-get');
  });

  it('plans apt-get update, then the chromium package, when the browser is missing', () => {
    const result = plan('/nonexistent/sfvault-chromium');
    const root = process.getuid?.() === 0;
    const sudo = root || spawnSync('sudo', ['-n', 'true']).status === 0;
    if (!sudo) {
      expect(result.status).toBe(3);
      expect(result.stderr).toContain('sudo apt-get update && sudo apt-get install -y chromium');
      return;
    }
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('missing: /nonexistent/sfvault-chromium');
    expect(lines[1]).toMatch(/^would run: (sudo -n )?env DEBIAN_FRONTEND=noninteractive apt-get update/);
    expect(lines[2]).toMatch(/apt-get install -y .* chromium$/);
  });
});
