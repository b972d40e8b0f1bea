import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EraseSummary } from '../../cli/commands/erase.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { onTerminal, progressLines, runCli } from '../support/run-cli.ts';
import { copyOfVault, eraseHerByEmail, erasureScenario } from './scenario.ts';
import { everyVersion, findPerson } from './vault-scan.ts';

describe('sfbackup erase', () => {
  const sc = erasureScenario();

  /** A copy of the scenario's vault, and a file holding `input`. */
  const vaultWith = (input: unknown): { dir: string; file: string } => {
    const dir = copyOfVault(sc, 'sfbackup-erase-cli-');
    const file = join(mkdtempSync(join(tmpdir(), 'sfbackup-erase-input-')), 'input.json');
    writeFileSync(file, typeof input === 'string' ? input : JSON.stringify(input));
    return { dir, file };
  };

  it('reports a dry run by default, naming what holds her and how to erase, and writes only its plan; on a terminal, with a live line of its steps', async () => {
    const { dir, file } = vaultWith({ ids: [sc.person], requestedBy: 'dpo@example.com' });
    const before = await everyVersion(new LocalDirectoryStore(dir), '');
    const { code, out, err } = await onTerminal(() => runCli('erase', '--store', dir, '--input', file));
    expect(code, out).toBe(0);
    // The line names the step the workflow is at, and the time so far.
    const lines = progressLines(err);
    expect(lines[0]).toMatch(/^erase: starting · 0:\d\d$/);
    expect(lines).toContainEqual(expect.stringMatching(/^erase: PlanErasure · \d+:\d\d$/));
    expect(lines.at(-1)).toMatch(/^erase: \w+ · \d+:\d\d$/);
    expect(out).toMatch(/^Dry run local-erase-\S+ of an erasure from org sample: nothing was erased\.\n/);
    expect(out).toContain('  Found: 1 id(s) in 4 snapshot(s), 4 part(s) (rows: Contact 4)');
    // The property's description and the broker's mobile phone copied her values.
    expect(out).toMatch(/Property__c\.Description__c\s+1\s+blanked/);
    expect(out).toMatch(/Broker__c\.Mobile_Phone__c\s+1\s+blanked/);
    expect(out).toContain(
      `  To erase, run again with "mode": "erase" and "confirmOrgId": "${sc.orgId}" in the input.`,
    );
    const after = await everyVersion(new LocalDirectoryStore(dir), '');
    // Its plan, and the list of the versions it removed of its own progress records (which held
    // digests of her values), for a replica.
    const added = [...after.keys()].filter((k) => !before.has(k));
    const execution = /^Dry run (\S+) /.exec(out)![1]!;
    expect(added.filter((k) => !k.startsWith(`orgs/sample/erasures/${execution}/removed/`))).toEqual([
      `orgs/sample/erasures/${execution}/plan.json`,
    ]);
    for (const key of added.filter((k) => k.includes('/removed/')))
      expect(JSON.parse(after.get(key)!).key).toMatch(
        new RegExp(`^orgs/sample/erasures/${execution}/progress/plan\\.json$`),
      );
    for (const [key, text] of before) expect(after.get(key), key).toBe(text);
  }, 180_000);

  it('erases her when confirmed with the org id, scanning every version for a trace, and refuses a second erasure of no one', async () => {
    const input = eraseHerByEmail(sc);
    const { dir, file } = vaultWith(input);
    const { code, out } = await runCli('erase', '--store', dir, '--input', file);
    expect(code, out).toBe(0);
    const execution = /^Erasure (\S+) of org sample: SUCCEEDED\n/.exec(out)?.[1];
    expect(execution, out).toBeDefined();
    expect(out).toContain('  Found: 1 id(s) in 4 snapshot(s), 4 part(s) (rows: Contact 4)');
    // A directory vault keeps one version a key: none was left to remove.
    expect(out).toContain(
      '  Erased: 10 object(s) rewritten, 4 row(s) and 0 journal event(s) removed, 2 copy(ies) blanked, 4 manifest(s) and 4 catalog entry(ies) made true again, 0 earlier version(s) removed (a directory vault keeps one version of each key).',
    );
    expect(out).toMatch(/\n {2}Scan: \d+ version\(s\) read, 0 trace\(s\)\.\n/);
    expect(out).toContain(`  Log: orgs/sample/erasures/log/`);
    expect(out).toContain(`  Removed versions listed in orgs/sample/erasures/${execution}/removed/`);
    // No version under the org's prefix holds her id or a value of hers (the test's own scan).
    expect(await findPerson(new LocalDirectoryStore(dir), sc, 'orgs/sample/')).toEqual([]);

    // A second run finds no one to erase: it fails, naming why, and exits 1.
    const again = await onTerminal(() => runCli('erase', '--store', dir, '--input', file, '--json'));
    expect(again.code).toBe(1);
    // --json draws no line, on a terminal too.
    expect(again.err).not.toContain('\r');
    const summary = JSON.parse(again.out) as EraseSummary;
    expect(summary).toMatchObject({
      org: 'sample',
      status: 'FAILED',
      error: 'ErasureTargetNotFoundError',
      found: null,
      erased: null,
    });
    expect(summary.message).toMatch(/Email/);
    expect(summary.message).not.toContain(sc.email);
  }, 300_000);

  it('fails a real run whose confirmOrgId is another org, erasing nothing, and exits 1', async () => {
    const { dir, file } = vaultWith({
      ids: [sc.person],
      requestedBy: 'dpo@example.com',
      mode: 'erase',
      confirmOrgId: '00D000000000001AAA',
    });
    const before = await everyVersion(new LocalDirectoryStore(dir), '');
    const { code, out } = await runCli('erase', '--store', dir, '--input', file);
    expect(code).toBe(1);
    expect(out).toContain('FAILED (InvalidEraseRequestError)');
    expect(out).toContain('confirmOrgId');
    expect(await everyVersion(new LocalDirectoryStore(dir), '')).toEqual(before);
  }, 180_000);
});
