import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLocalBackup } from '../../cli/commands/backup.ts';
import { runLocalRestore } from '../../cli/commands/restore.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { FIXTURES, freshStoreDir, TEST_SETTINGS } from '../backup/e2e-support.ts';
import { ids, orgState } from '../restore/e2e-support.ts';

const fixtureRoot = process.env.SFBACKUP_FIXTURES ?? FIXTURES;
const running: RunningEmulator[] = [];

/** An org that signs in with the client credentials flow, as a deployed function does. */
async function orgWithSecret(withData: boolean): Promise<{ emu: RunningEmulator; secret: string }> {
  const dir = join(fixtureRoot, 'dreamhouse-lwc');
  const app = { clientId: 'local-connected-app', clientSecret: 'local-client-secret' };
  const emu = await startEmulator({
    projectDirs: [dir],
    ...(withData ? { planFiles: [join(dir, 'data', 'sample-data-plan.json')] } : {}),
    clientCredentials: app,
  });
  running.push(emu);
  const secret = JSON.stringify({ flow: 'client-credentials', loginUrl: emu.instanceUrl, ...app });
  return { emu, secret };
}

afterAll(async () => {
  await Promise.all(running.map((emu) => emu.stop()));
});

describe('a restore drill with the policies enforced and the credentials read from Secrets Manager', () => {
  it("succeeds: every restore function that signs in to the sandbox may read the sandbox's secret", async () => {
    const production = await orgWithSecret(true);
    const sandbox = await orgWithSecret(false);
    const dir = freshStoreDir();
    const backedUp = await runLocalBackup({
      instanceUrl: production.emu.instanceUrl,
      accessToken: production.emu.accessToken,
      store: dir,
      org: 'sample',
      mode: 'full',
      settings: TEST_SETTINGS,
      retryIntervalScale: 0,
      enforcePolicies: true,
      secrets: { org: production.secret },
    });
    expect(backedUp.result.errorMessage).toBeUndefined();
    expect(backedUp.summary.status).toBe('complete');

    const objects = ['Broker__c', 'Property__c'];
    const drill = await runLocalRestore({
      instanceUrl: production.emu.instanceUrl,
      accessToken: production.emu.accessToken,
      drill: { instanceUrl: sandbox.emu.instanceUrl, accessToken: sandbox.emu.accessToken },
      store: dir,
      org: 'sample',
      input: { drill: true, objects },
      retryIntervalScale: 0,
      enforcePolicies: true,
      secrets: { org: production.secret, drill: sandbox.secret },
    });
    expect(drill.summary.message).not.toMatch(/not authorized/);
    expect(drill.summary.status).toBe('SUCCEEDED');
    expect((await ids(sandbox.emu, 'Broker__c')).length).toBeGreaterThan(0);
    expect(await orgState(sandbox.emu, objects)).toEqual(await orgState(production.emu, objects));
  }, 300_000);
});
