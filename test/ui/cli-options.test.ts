import { describe, expect, it } from 'vitest';
import { readUiOptions } from '../../cli/commands/ui.ts';

describe('sfbackup ui options', () => {
  it('browses a directory vault read-only on an open port when only --store is given', () => {
    const { request, problems } = readUiOptions(['--store', './backups'], {});
    expect(problems).toEqual([]);
    expect(request).toEqual({ store: './backups', port: 0 });
  });

  it('reads a bucket on an S3-compatible server, an org, a port and an org connection', () => {
    const { request } = readUiOptions(
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
    expect(request).toEqual({
      store: { s3: { bucket: 'my-vault', endpoint: 'http://127.0.0.1:7480' } },
      org: 'acme',
      port: 8123,
      connection: { instanceUrl: 'https://acme.my.salesforce.com', accessToken: 'from-env' },
    });
  });

  it('ignores a token in the environment when no instance URL asks for a connection', () => {
    const { request } = readUiOptions(['--store', 'v'], { SFBACKUP_ACCESS_TOKEN: 'from-env' });
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
      '--s3-endpoint needs --bucket: name the bucket on that server, e.g. --bucket my-vault',
      '--port is "70000": give a port number from 1 to 65535, or leave it out for an open one',
      '--instance-url needs --access-token (or SFBACKUP_ACCESS_TOKEN): give a token for the org, or leave both out to browse only',
    ]);
  });

  it('refuses a token without the instance URL it is for', () => {
    const { problems } = readUiOptions(['--store', 'v', '--access-token', 't'], {});
    expect(problems).toEqual(["--access-token needs --instance-url: give the org's instance URL too"]);
  });
});
