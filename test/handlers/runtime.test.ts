import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EnvName, ErrorName } from '../../contract/workflow-contract.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { S3Store } from '../../lambdas/adapters/s3-store.ts';
import {
  credentialsFromEnv,
  EnvCache,
  orgNameFromEnv,
  storeFromEnv,
} from '../../lambdas/handlers/runtime.ts';

const touched = new Set<string>();
function setEnv(values: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    touched.add(name);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}
afterEach(() => {
  for (const name of touched) delete process.env[name];
  touched.clear();
});

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describe('storeFromEnv', () => {
  it('opens the local directory when one is set, whatever bucket is named', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'sfvault-runtime-'));
    roots.push(root);
    setEnv({ [EnvName.LocalStoreDir]: root, [EnvName.VaultBucket]: 'vault-bucket' });
    expect(storeFromEnv()).toBeInstanceOf(LocalDirectoryStore);
  });

  it('shares one S3 client among the stores of one endpoint, and builds another for another endpoint', () => {
    setEnv({ [EnvName.VaultBucket]: 'vault-bucket', [EnvName.S3Endpoint]: 'http://127.0.0.1:7480' });
    const first = storeFromEnv() as S3Store;
    const second = storeFromEnv() as S3Store;
    setEnv({ [EnvName.S3Endpoint]: 'http://127.0.0.1:7481' });
    const elsewhere = storeFromEnv() as S3Store;
    expect(first).toBeInstanceOf(S3Store);
    expect(first.location).toBe('s3://vault-bucket/');
    const client = (store: S3Store) => (store as unknown as { client: unknown }).client;
    expect(client(second)).toBe(client(first));
    expect(client(elsewhere)).not.toBe(client(first));
  });

  it('names both ways to configure a vault when neither is set', () => {
    setEnv({ [EnvName.LocalStoreDir]: '', [EnvName.VaultBucket]: undefined });
    expect(() => storeFromEnv()).toThrow(
      expect.objectContaining({
        name: ErrorName.FunctionConfig,
        message: expect.stringMatching(/VAULT_BUCKET is not set.*SFBACKUP_STORE_DIR/),
      }),
    );
  });
});

describe('orgNameFromEnv', () => {
  it('accepts a name that follows the contract rule', () => {
    setEnv({ [EnvName.OrgName]: '00d5g000001abcdeaa' });
    expect(orgNameFromEnv()).toBe('00d5g000001abcdeaa');
  });

  it('refuses a missing or unusable org name, quoting the value and the rule', () => {
    setEnv({ [EnvName.OrgName]: undefined });
    expect(() => orgNameFromEnv()).toThrow(/ORG_KEY is not set/);
    setEnv({ [EnvName.OrgName]: 'Acme_Prod' });
    expect(() => orgNameFromEnv()).toThrow(
      expect.objectContaining({
        name: ErrorName.FunctionConfig,
        message: expect.stringContaining('"Acme_Prod"'),
      }),
    );
  });
});

describe('credentialsFromEnv', () => {
  it('reads the local instance and token of the org, and of the drill sandbox apart from it', async () => {
    setEnv({
      [EnvName.LocalInstanceUrl]: 'http://127.0.0.1:1/org',
      [EnvName.LocalAccessToken]: 'org-token',
      [EnvName.LocalDrillInstanceUrl]: 'http://127.0.0.1:1/sandbox',
      [EnvName.LocalDrillAccessToken]: 'sandbox-token',
    });
    await expect(credentialsFromEnv('org')).resolves.toMatchObject({ instanceUrl: 'http://127.0.0.1:1/org' });
    await expect(credentialsFromEnv('drill')).resolves.toMatchObject({
      instanceUrl: 'http://127.0.0.1:1/sandbox',
    });
  });

  it('answers each environment with its own credentials, as concurrent local runs need', async () => {
    setEnv({ [EnvName.LocalInstanceUrl]: 'http://127.0.0.1:1/a', [EnvName.LocalAccessToken]: 'a' });
    const a = await credentialsFromEnv();
    setEnv({ [EnvName.LocalInstanceUrl]: 'http://127.0.0.1:1/b', [EnvName.LocalAccessToken]: 'b' });
    const b = await credentialsFromEnv();
    expect(a).toMatchObject({ instanceUrl: 'http://127.0.0.1:1/a' });
    expect(b).toMatchObject({ instanceUrl: 'http://127.0.0.1:1/b' });
  });

  it('says how to configure the org or the drill when no credentials are set', async () => {
    await expect(credentialsFromEnv('org')).rejects.toMatchObject({
      name: ErrorName.FunctionConfig,
      message: expect.stringContaining('ORG_SECRET_ARN is not set'),
    });
    await expect(credentialsFromEnv('drill')).rejects.toThrow(/no restore drill configured.*restoreDrill/);
  });
});

describe('EnvCache', () => {
  it('builds once per environment and tries again after a failed build', async () => {
    const cache = new EnvCache<number>([EnvName.OrgName]);
    let builds = 0;
    const build = async () => {
      builds += 1;
      if (builds === 1) throw new Error('first build fails');
      return builds;
    };
    setEnv({ [EnvName.OrgName]: 'acme' });
    await expect(cache.get(build)).rejects.toThrow('first build fails');
    expect(await cache.get(build)).toBe(2);
    expect(await cache.get(build)).toBe(2);
    setEnv({ [EnvName.OrgName]: 'other' });
    expect(await cache.get(build)).toBe(3);
  });

  it('builds again once a value is older than its maximum age, so a rotated secret is picked up', async () => {
    let now = 0;
    const cache = new EnvCache<number>([EnvName.OrgName], 1_000, () => now);
    let builds = 0;
    const build = async () => ++builds;
    setEnv({ [EnvName.OrgName]: 'acme' });
    expect(await cache.get(build)).toBe(1);
    now = 999;
    expect(await cache.get(build)).toBe(1);
    now = 1_000;
    expect(await cache.get(build)).toBe(2);
  });
});
