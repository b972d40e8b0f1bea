import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { run as runBackup } from '../../cli/commands/backup.ts';
import { run as runRestore } from '../../cli/commands/restore.ts';
import { parseCommandLine, readCommonOptions } from '../../cli/commands/options.ts';
import {
  heldOrg,
  heldOrgKey,
  heldOrgToRead,
  orgToRead,
  readVaultOptions,
} from '../../cli/commands/vault-read.ts';
import { orgKeyOfId } from '../../contract/org-id.ts';
import { EnvName } from '../../contract/workflow-contract.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';

const OWN = { mode: { type: 'string' }, verbose: { type: 'boolean' } } as const;

function stderrOf(): { text: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  return { text: () => chunks.join('') };
}

describe('parseCommandLine', () => {
  it('lists every syntax problem instead of stopping at the first', () => {
    const { problems } = parseCommandLine('backup', OWN, [
      '--colour',
      'stray',
      '--verbose=yes',
      '--mode',
      '--store',
    ]);
    expect(problems).toEqual([
      expect.stringContaining('--colour is not an option of sfbackup backup'),
      expect.stringContaining('"stray" is not an option'),
      '--verbose takes no value: write --verbose alone',
      expect.stringMatching(/^--mode is followed by "--store", which looks like an option/),
    ]);
  });

  it('keeps as many arguments as the command declares, in order, and names each one more', () => {
    const { positionals, problems, values } = parseCommandLine(
      'diff',
      OWN,
      ['A1', '--mode', 'full', 'B1', 'C1'],
      { positionals: ['A', 'B'] },
    );
    expect(positionals).toEqual(['A1', 'B1']);
    expect(values.mode).toBe('full');
    expect(problems).toEqual([
      expect.stringContaining('"C1" is one argument too many: sfbackup diff takes A B'),
    ]);
  });

  it("reads the common options and the command's own", () => {
    const { values, problems } = parseCommandLine('backup', OWN, [
      '--store',
      'dir',
      '--mode=full',
      '--json',
      '-h',
    ]);
    expect(problems).toEqual([]);
    expect(values).toEqual({ store: 'dir', mode: 'full', json: true, help: true });
  });
});

describe('readCommonOptions', () => {
  it('takes the access token from the environment when the option is absent', () => {
    const problems: string[] = [];
    const request = readCommonOptions(
      { 'instance-url': 'https://acme.my.salesforce.com', store: './vault' },
      problems,
      { [EnvName.LocalAccessToken]: '00Dx!token' },
    );
    expect(problems).toEqual([]);
    expect(request).toEqual({
      connection: { instanceUrl: 'https://acme.my.salesforce.com', accessToken: '00Dx!token' },
      store: './vault',
      json: false,
    });
  });

  it.each(['00DA0000000Zhe1', '00DA0000000Zhe1MAC', '00da0000000zhe1mac', '00DA0000000ZHE1MAC'])(
    'files --org %s under the one vault key of that org id',
    (org) => {
      const problems: string[] = [];
      const request = readCommonOptions(
        { 'instance-url': 'https://acme.my.salesforce.com', 'access-token': 't', store: './vault', org },
        problems,
      );
      expect(problems).toEqual([]);
      expect(request?.org).toBe('00da0000000zhe1mac');
    },
  );

  it('names an S3 bucket, with its endpoint, as the store', () => {
    const request = readCommonOptions(
      {
        'instance-url': 'http://127.0.0.1:1',
        'access-token': 't',
        bucket: 'vault',
        's3-endpoint': 'http://127.0.0.1:7480',
        org: 'acme-prod',
      },
      [],
      {},
    );
    expect(request?.store).toEqual({ s3: { bucket: 'vault', endpoint: 'http://127.0.0.1:7480' } });
    expect(request?.org).toBe('acme-prod');
  });

  it('collects every problem, each saying what to write instead', () => {
    const problems: string[] = [];
    const request = readCommonOptions(
      { 'instance-url': 'acme', store: 'a', bucket: 'b', 's3-endpoint': 'nowhere', org: 'Acme Prod' },
      problems,
      {},
    );
    expect(request).toBeUndefined();
    expect(problems).toEqual([
      '--instance-url is "acme", which is not an http(s) URL: write e.g. https://acme.my.salesforce.com',
      expect.stringMatching(
        /^--access-token \(or SFBACKUP_ACCESS_TOKEN\) is required: .*export SFBACKUP_ACCESS_TOKEN=TOKEN$/,
      ),
      '--store and --bucket both name a vault: give one of them',
      '--s3-endpoint is "nowhere", which is not an http(s) URL: write e.g. http://127.0.0.1:7480',
      expect.stringMatching(/^--org: "Acme Prod" is not a valid org name: write 2 to 32 lower-case/),
    ]);
  });
});

describe('the backup and restore command lines', () => {
  it('answer a bad backup command line with every problem at once and exit 2', async () => {
    const stderr = stderrOf();
    try {
      expect(await runBackup(['--mode', 'weekly', '--settings', '[1]', '--colour'])).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
    const text = stderr.text();
    expect(text).toMatch(/^sfbackup backup: 6 problems with the options:\n/);
    for (const expected of [
      '--colour is not an option of sfbackup backup',
      '--instance-url is required',
      '--access-token (or SFBACKUP_ACCESS_TOKEN) is required',
      '--store DIR, or --bucket NAME, is required',
      '--mode is "weekly": write full, incremental or metadata',
      '--settings: (root): Invalid input: expected object, received array',
    ])
      expect(text).toContain(expected);
    expect(text).toContain('Usage: sfbackup backup');
  });

  it('refuse bad backup settings and a bad restore input before the workflow is synthesized, naming every problem', async () => {
    // The synthesized-definition cache is written by the first synthesis of an app: a directory
    // that stays absent proves that none happened. --org spares the identity call, so without
    // the early checks the run would go straight on to the synthesis.
    const cache = join(mkdtempSync(join(tmpdir(), 'sfbackup-early-')), 'cache');
    vi.stubEnv('SFBACKUP_CACHE_DIR', cache);
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-early-input-'));
    const common = [
      '--instance-url',
      'http://127.0.0.1:1',
      '--access-token',
      't',
      '--store',
      dir,
      '--org',
      'early',
    ];
    const inputs: [string, string[]][] = [
      ['{"objects": ["Account"], "mode": "dry-run",', ['the input is not valid JSON']],
      ['["Account"]', ['the input must be a JSON object, received an array']],
      [
        JSON.stringify({ objects: 'Account', mode: 'everything', colour: 'red' }),
        ['objects: ', 'mode: ', 'unknown input field(s) "colour"'],
      ],
      [
        JSON.stringify({ objects: ['Account'], mode: 'full', confirmOrgId: '00Dshort' }),
        ['confirmOrgId: "00Dshort" is not an org id'],
      ],
    ];
    for (const [text, expected] of inputs) {
      const file = join(dir, 'input.json');
      writeFileSync(file, text);
      const stderr = stderrOf();
      try {
        expect(await runRestore([...common, '--input', file])).toBe(2);
      } finally {
        vi.restoreAllMocks();
      }
      for (const problem of expected) expect(stderr.text()).toContain(problem);
      expect(stderr.text()).toContain('Fix: ');
    }
    const stderr = stderrOf();
    try {
      expect(await runBackup([...common, '--settings', '{"pageSize":"big","colour":1}'])).toBe(2);
    } finally {
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
    }
    expect(stderr.text()).toMatch(/^sfbackup backup: 2 problems with the options:\n/);
    expect(stderr.text()).toContain('--settings: pageSize: ');
    expect(stderr.text()).toContain('--settings: unknown key "colour"');
    expect(existsSync(cache)).toBe(false);
  });

  it('refuse half a drill connection in a restore', async () => {
    const stderr = stderrOf();
    try {
      expect(
        await runRestore([
          '--instance-url',
          'http://127.0.0.1:1',
          '--access-token',
          't',
          '--store',
          '.',
          '--input',
          '/nonexistent/input.json',
          '--drill-instance-url',
          'http://127.0.0.1:2',
        ]),
      ).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
    expect(stderr.text()).toContain('--input /nonexistent/input.json cannot be read');
    expect(stderr.text()).toContain('--drill-instance-url needs --drill-access-token');
  });

  it('print the help with exit 0, whatever else the line holds', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      expect(await runRestore(['--bogus', '--help'])).toBe(0);
    } finally {
      vi.restoreAllMocks();
    }
    expect(out.join('')).toContain('--drill-instance-url URL');
    expect(out.join('')).toContain(
      '--access-token TOKEN   an access token for it (or SFBACKUP_ACCESS_TOKEN)',
    );
  });
});

describe('heldOrgKey', () => {
  it('maps an org id typed in the wrong case to the org the vault holds under the same 15 characters', async () => {
    const store = new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'sfbackup-held-')));
    await store.put('orgs/00da0000000zhe1mac/catalog/x.json', '{}');
    await store.put('orgs/acme-prod/catalog/x.json', '{}');
    // 00DA0000000Zhe1 typed in lower case computes another suffix: not the org's key.
    const typed = orgKeyOfId('00da0000000zhe1')!;
    expect(typed).toBe('00da0000000zhe1eaa');
    expect(await heldOrgKey(store, typed)).toBe('00da0000000zhe1mac');
    expect(await heldOrgKey(store, '00da0000000zhe1mac')).toBe('00da0000000zhe1mac');
    // Names, and ids the vault holds nothing like, stay as given.
    expect(await heldOrgKey(store, 'acme-dev')).toBe('acme-dev');
    expect(await heldOrgKey(store, '00d5g0000099999aaa')).toBe('00d5g0000099999aaa');
  });

  it('says with the key whether the vault holds anything of it, listing the org once when it does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-held-'));
    const store = new LocalDirectoryStore(dir);
    await store.put('orgs/00da0000000zhe1mac/catalog/x.json', '{}');
    await store.put('orgs/acme-prod/catalog/x.json', '{}');
    const listed: string[] = [];
    const counted: typeof store = Object.assign(Object.create(store) as typeof store, {
      list: (prefix: string) => {
        listed.push(prefix);
        return store.list(prefix);
      },
    });
    expect(await heldOrg(counted, 'acme-prod')).toEqual({ org: 'acme-prod', holds: true });
    expect(listed).toEqual(['orgs/acme-prod/']);
    expect(await heldOrg(store, 'acme-dev')).toEqual({ org: 'acme-dev', holds: false });
    expect(await heldOrg(store, orgKeyOfId('00da0000000zhe1')!)).toEqual({
      org: '00da0000000zhe1mac',
      holds: true,
    });
    expect(await heldOrg(store, '00d5g0000099999aaa')).toEqual({ org: '00d5g0000099999aaa', holds: false });
    // As the vault-reading commands take it: --org, or the only org the vault holds.
    const acme = readVaultOptions('erase', { store: dir, org: 'acme-prod' }, []);
    expect(await heldOrgToRead(acme!)).toEqual({ org: 'acme-prod', holds: true });
    const only = mkdtempSync(join(tmpdir(), 'sfbackup-held-'));
    await new LocalDirectoryStore(only).put('orgs/solo/catalog/x.json', '{}');
    expect(await heldOrgToRead(readVaultOptions('erase', { store: only }, [])!)).toEqual({
      org: 'solo',
      holds: true,
    });
  });
});

describe('the vault-reading commands', () => {
  it('read an org given by its id in 15 or 18 characters, any case, under its one vault key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-vault-org-'));
    const store = new LocalDirectoryStore(dir);
    await store.put('orgs/00da0000000zhe1mac/catalog/x.json', '{}');
    for (const typed of ['00DA0000000Zhe1', '00DA0000000Zhe1MAC', '00da0000000zhe1mac', '00da0000000zhe1']) {
      const problems: string[] = [];
      const vault = readVaultOptions('snapshots', { store: dir, org: typed }, problems);
      expect(problems, typed).toEqual([]);
      expect(await orgToRead(vault!), typed).toBe('00da0000000zhe1mac');
    }
  });
});
