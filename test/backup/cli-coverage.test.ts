import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { describeSkipped } from '../../cli/commands/backup.ts';
import { run } from '../../cli/commands/coverage.ts';
import { main } from '../../cli/main.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { SalesforceRequestError } from '../../lambdas/core/salesforce.ts';
import { baseFields, FakeSource } from './fake-source.ts';
import { runCore } from './run-core.ts';

const T0 = '2026-01-01T00:00:00.000Z';

async function capture(
  command: (args: string[]) => Promise<number>,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    return { code: await command(args), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/** A vault directory holding one complete snapshot of org acme, with objects exported and skipped. */
async function vaultWithSnapshot(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sfbackup-coverage-'));
  const row = (id: string) => ({ Id: id, Name: 'one', IsDeleted: 'false', SystemModstamp: T0 });
  const source = new FakeSource([
    { name: 'Account', fields: baseFields, rows: [row('001A'), row('001B')] },
    { name: 'Orders__x', fields: baseFields, rows: [] },
    {
      name: 'Widget__c',
      fields: baseFields,
      rows: [row('a00A')],
      refuse: () =>
        new SalesforceRequestError('queryAll: INVALID_TYPE_FOR_OPERATION', 'INVALID_TYPE_FOR_OPERATION', 400),
    },
    { name: 'Contact', fields: baseFields, rows: [] },
  ]);
  const { finish } = await runCore(
    source,
    { org: 'acme', mode: 'full' },
    { excludeObjects: ['Contact'] },
    new LocalDirectoryStore(dir),
  );
  expect(finish.status).toBe('complete');
  return dir;
}

describe('sfbackup coverage', () => {
  it('prints the objects exported with their rows, and each object skipped grouped by reason with why', async () => {
    const store = await vaultWithSnapshot();
    const { code, out } = await capture(run, ['--store', store]);
    expect(code).toBe(0);
    expect(out).toMatch(/^Coverage of org acme from snapshot \d{8}T\d{9}Z-\w{6} \(full, /);
    expect(out).toContain('1 exported (2 rows), 0 unchanged, 3 skipped');
    expect(out).toContain('    Account: 2 rows (bulk; changes by SystemModstamp)');
    expect(out).toMatch(/skipped, not-stored \(1\):\n {4}Orders__x: an external object/);
    expect(out).toMatch(/skipped, not-queryable \(1\):\n {4}Widget__c: Salesforce refuses to query it/);
    expect(out).toMatch(/skipped, excluded \(1\):\n {4}Contact: excluded by the configuration/);
  });

  it('prints one JSON object with --json, through the sfbackup entry point', async () => {
    const store = await vaultWithSnapshot();
    const { code, out } = await capture(main, ['coverage', '--store', store, '--org', 'acme', '--json']);
    expect(code).toBe(0);
    const coverage = JSON.parse(out);
    expect(coverage).toMatchObject({
      org: 'acme',
      mode: 'full',
      exported: [
        { name: 'Account', rows: 2, api: 'bulk', strategy: 'all', watermarkField: 'SystemModstamp' },
      ],
      unchanged: [],
    });
    expect(coverage.skipped.map((o: { name: string; reasonCode: string }) => [o.name, o.reasonCode])).toEqual(
      [
        ['Contact', 'excluded'],
        ['Orders__x', 'not-stored'],
        ['Widget__c', 'not-queryable'],
      ],
    );
  });

  it('lists every problem with the options, and the usage', async () => {
    const { code, err } = await capture(run, ['--instance-url', 'https://x.example', '--org', 'Bad Name']);
    expect(code).toBe(2);
    expect(err).toContain('--instance-url is not an option of sfbackup coverage');
    expect(err).toContain('--store DIR, or --bucket NAME, is required');
    expect(err).toContain('--org: ');
    expect(err).toContain('Usage: sfbackup coverage');
  });

  it('says what to do when the vault holds no snapshot of the org', async () => {
    const store = await vaultWithSnapshot();
    const { code, err } = await capture(main, ['coverage', '--store', store, '--org', 'other']);
    expect(code).toBe(1);
    expect(err).toContain('The vault holds no complete snapshot with data of org "other"');
  });
});

describe('sfbackup backup, its summary', () => {
  it('lists each skipped object with its reason, marking those not skipped before', () => {
    const text = describeSkipped({
      skippedObjects: [
        { name: 'Orders__x', reasonCode: 'not-stored', reason: 'an external object' },
        { name: 'Vote', reasonCode: 'needs-filter', reason: 'queries need a filter' },
      ],
      newlySkipped: [{ name: 'Vote', reasonCode: 'needs-filter', reason: 'queries need a filter' }],
    });
    expect(text).toBe(
      '  skipped 2 objects, 1 not skipped before ("sfbackup coverage" lists them again):\n' +
        '    Orders__x: not-stored: an external object\n' +
        '    Vote: needs-filter: queries need a filter (new)\n',
    );
    expect(describeSkipped({ skippedObjects: [], newlySkipped: [] })).toBe('');
  });
});
