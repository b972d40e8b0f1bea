import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readUiOptions } from '../../cli/commands/ui.ts';

const vaultDir = mkdtempSync(join(tmpdir(), 'sfbackup-ui-options-'));

describe('sfbackup ui options', () => {
  it('browses a directory vault read-only on an open port when only --store is given', () => {
    const { request, problems } = readUiOptions(['--store', vaultDir], {});
    expect(problems).toEqual([]);
    expect(request?.store).toBe(vaultDir);
    expect(request?.vault.org).toBeUndefined();
    expect(request?.port).toBe(0);
    expect(request?.connection).toBeUndefined();
  });

  it('reads a bucket on an S3-compatible server, an org, a port and an org connection', () => {
    const { request, problems } = readUiOptions(
      [
        '--bucket',
        'my-vault',
        '--s3-endpoint',
        'http://127.0.0.1:7480',
        '--org',
        'acme',
        '--port',
        '8123',
        '--instance-url',
        'https://acme.my.salesforce.com',
      ],
      { SFBACKUP_ACCESS_TOKEN: 'from-env' },
    );
    expect(problems).toEqual([]);
    expect(request?.store).toEqual({ s3: { bucket: 'my-vault', endpoint: 'http://127.0.0.1:7480' } });
    expect(request?.vault.org).toBe('acme');
    expect(request?.vault.where).toContain('bucket my-vault');
    expect(request?.port).toBe(8123);
    expect(request?.connection).toEqual({
      instanceUrl: 'https://acme.my.salesforce.com',
      accessToken: 'from-env',
    });
  });

  it('takes port 0 as an open port, as the help says', () => {
    expect(readUiOptions(['--store', vaultDir, '--port', '0'], {}).request?.port).toBe(0);
    expect(readUiOptions(['--store', vaultDir, '--port=-1'], {}).problems).toEqual([
      '--port is "-1": give a port number from 1 to 65535, or 0 (or leave it out) for an open one',
    ]);
  });

  it('ignores a token in the environment when no instance URL asks for a connection', () => {
    const { request } = readUiOptions(['--store', vaultDir], { SFBACKUP_ACCESS_TOKEN: 'from-env' });
    expect(request?.connection).toBeUndefined();
  });

  it('names every problem at once, each with what to write instead', () => {
    const { request, problems } = readUiOptions(
      ['--port', '70000', '--instance-url', 'https://x.example', '--s3-endpoint', 'http://h', '--json'],
      {},
    );
    expect(request).toBeUndefined();
    expect(problems).toEqual([
      '--json is not an option of sfbackup ui: it prints only its URL',
      '--store DIR, or --bucket NAME, is required: name the vault, e.g. --store ./backups',
      '--s3-endpoint needs --bucket: name the bucket on that server',
      '--port is "70000": give a port number from 1 to 65535, or 0 (or leave it out) for an open one',
      '--instance-url needs --access-token (or SFBACKUP_ACCESS_TOKEN): give a token for the org, or leave both out to browse only',
    ]);
  });

  it('refuses a token without the instance URL it is for, and a vault directory that is not there', () => {
    const { problems } = readUiOptions(['--store', join(vaultDir, 'missing'), '--access-token', 't'], {});
    expect(problems).toEqual([
      expect.stringContaining('there is no directory'),
      "--access-token needs --instance-url: give the org's instance URL too",
    ]);
  });
});
