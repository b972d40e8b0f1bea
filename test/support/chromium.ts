/**
 * Debian's Chromium driven by playwright-core, for the browser tests of `sfbackup ui`. Playwright's
 * own browser download needs the internet, so the system package is launched by its path, with
 * a fresh profile per launch and everything that would reach the network switched off.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';

/** Where the browser is; SFVAULT_CHROMIUM overrides it. */
export const CHROMIUM = process.env.SFVAULT_CHROMIUM ?? '/usr/bin/chromium';
const INSTALL_SCRIPT = fileURLToPath(new URL('./install-chromium.sh', import.meta.url));

/** Chromium is missing and could not be installed here; the message gives the command that installs it. */
export class ChromiumNotInstalledError extends Error {
  override readonly name = 'ChromiumNotInstalledError';
}

/** Installs Chromium with test/support/install-chromium.sh when it is missing; throws when it still is. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const result = spawnSync('bash', [INSTALL_SCRIPT], {
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status === 0 && existsSync(CHROMIUM)) return;
  const error = new ChromiumNotInstalledError(
    result.stderr.trim() ||
      `${INSTALL_SCRIPT} ended with ${result.error?.message ?? `exit ${result.status}`}.`,
  );
  error.stack = `${error.name}: ${error.message}`;
  throw error;
}

/** A headless browser context with a 1280x800 viewport; `close` also removes its profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'sfvault-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
