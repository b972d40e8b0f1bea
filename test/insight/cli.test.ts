/** The toolkit's commands over a vault of real snapshots: text and --json output, and every bad input's message. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseRestoreInput } from '../../lambdas/core/restore/input.ts';
import { freshStoreDir } from '../backup/e2e-support.ts';
import { runCli } from '../support/run-cli.ts';
import { buildScenario, descriptionRevert, type Scenario } from './scenario.ts';

let s: Scenario;
beforeAll(async () => {
  s = await buildScenario();
}, 120_000);
afterAll(async () => {
  await s?.emu.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const sfbackup = runCli;

const where = (): string => `${resolve(s.dir)} (--store)`;

describe('sfbackup snapshots', () => {
  it('prints an aligned table, newest first, with the latest marked', async () => {
    const { code, out } = await sfbackup('snapshots', '--store', s.dir);
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('Snapshots of org sample (3, newest first; * = latest):');
    expect(lines[1]).toMatch(/^ {5}SNAPSHOT +MODE +STATUS +FINISHED +OBJECTS +ROWS +FILES +METADATA +BASE$/);
    expect(lines[2]).toMatch(new RegExp(`^  \\*  ${s.s3}  incremental  complete  `));
    expect(lines[2]).toMatch(new RegExp(`${s.s2}$`));
    expect(lines[3]).toMatch(new RegExp(`^ {5}${s.s2}  full +complete  `));
    expect(lines[4]).toMatch(new RegExp(`^ {5}${s.s1}  full +complete  .* -$`));
    // Columns line up: each snapshot's FINISHED starts where the header's does.
    const at = lines[1]!.indexOf('FINISHED');
    for (const line of lines.slice(2, 5)) expect(line.slice(at, at + 4)).toMatch(/^\d{4}$/);
  });

  it('prints one JSON object with --json', async () => {
    const { code, out } = await sfbackup('snapshots', '--store', s.dir, '--json');
    expect(code).toBe(0);
    const list = JSON.parse(out) as { latest: string; snapshots: { snapshotId: string }[] };
    expect(list.latest).toBe(s.s3);
    expect(list.snapshots.map((x) => x.snapshotId)).toEqual([s.s3, s.s2, s.s1]);
  });

  it('names the org and the store when the org has no snapshot, and the store when it holds nothing', async () => {
    const other = await sfbackup('snapshots', '--store', s.dir, '--org', 'other');
    expect(other.code).toBe(1);
    expect(other.err).toContain(`no snapshot of org other in ${where()}: run sfbackup backup first`);
    const empty = freshStoreDir();
    const none = await sfbackup('snapshots', '--store', empty);
    expect(none.code).toBe(1);
    expect(none.err).toContain(`The vault holds no org in ${resolve(empty)} (--store)`);
    const missing = await sfbackup('snapshots', '--store', join(empty, 'nope'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`there is no directory ${join(resolve(empty), 'nope')}`);
  });
});

describe('sfbackup diff', () => {
  it('prints a table of the objects that differ, then their ids and fields', async () => {
    const { code, out } = await sfbackup('diff', s.s1, s.s2, '--store', s.dir);
    expect(code).toBe(0);
    expect(out).toContain(`  A (before): ${s.s1}, finished `);
    expect(out).toMatch(
      /\n {2}OBJECT +INSERTED +TO BIN +GONE +PURGED +UNDELETED +CHANGED +AUDIT-ONLY +COMPUTED-ONLY +UNCHANGED\n/,
    );
    expect(out).toMatch(/\n {2}Property__c +1 +1 +1 +0 +0 +1 +\d+ +\d+ +\d+\n/);
    expect(out).toContain('  fields changed: Description__c (1 row)\n');
    expect(out).toContain(`  gone (hard deleted or purged) (1): ${s.hardDeleted}\n`);
    expect(out).toContain(`  deleted to the recycle bin (1): ${s.binned}\n`);
    expect(out).toMatch(/No row differences in \d+ objects.*Broker__c/);
    expect(out).toMatch(/\nMetadata: 1 added, 1 removed, 1 changed, \d+ unchanged\.\n/);
    expect(out).toContain(`  changed: ${s.metadata.changed}\n`);
  });

  it('prints one JSON object with --json, and writes CSV files with --csv', async () => {
    const csv = join(mkdtempSync(join(tmpdir(), 'insight-csv-')), 'out');
    const { code, out } = await sfbackup(
      'diff',
      s.s1,
      s.s2,
      '--object',
      'Property__c',
      '--csv',
      csv,
      '--json',
      '--store',
      s.dir,
    );
    expect(code).toBe(0);
    const diff = JSON.parse(out) as {
      objects: { changed: { sample: string[] } }[];
      csvFiles: { file: string }[];
    };
    expect(diff.objects[0]!.changed.sample).toEqual([s.changed]);
    expect(diff.csvFiles.map((f) => f.file.split('/').pop()).sort()).toEqual([
      'Property__c.changed.csv',
      'Property__c.deletedToBin.csv',
      'Property__c.gone.csv',
      'Property__c.inserted.csv',
    ]);
    expect(readFileSync(join(csv, 'Property__c.inserted.csv'), 'utf8')).toBe(`Id\r\n${s.inserted}\r\n`);
    const again = await sfbackup('diff', s.s1, s.s2, '--csv', csv, '--store', s.dir);
    expect(again.code).toBe(2);
    expect(again.err).toContain(`--csv ${csv}: the directory is not empty`);
  });

  it('names the valid snapshots, the nearest object, and a missing or extra argument', async () => {
    const snap = await sfbackup('diff', `${s.s1}x`, 'latest', '--store', s.dir);
    expect(snap.code).toBe(1);
    expect(snap.err).toContain(`org sample in ${where()} has no snapshot ${s.s1}x (did you mean ${s.s1}?)`);
    const object = await sfbackup('diff', s.s1, s.s2, '--object', 'Proprety__c', '--store', s.dir);
    expect(object.err).toContain('holds no object Proprety__c (did you mean Property__c?)');
    const one = await sfbackup('diff', s.s1, '--store', s.dir);
    expect(one.code).toBe(2);
    expect(one.err).toContain('give the two points in time to compare, A (before) then B (after)');
    const three = await sfbackup('diff', s.s1, s.s2, s.s3, '--store', s.dir);
    expect(three.err).toContain(`"${s.s3}" is one argument too many: sfbackup diff takes A B and options`);
  });

  it('answers a failure with --json as one JSON object too, naming the error', async () => {
    const { code, out, err } = await sfbackup('diff', `${s.s1}x`, 'latest', '--store', s.dir, '--json');
    expect(code).toBe(1);
    expect(err).toContain('has no snapshot');
    const failure = JSON.parse(out) as { error: string; message: string };
    expect(failure.error).toBe('InvalidInsightRequestError');
    expect(failure.message).toContain(`did you mean ${s.s1}?`);
  });
});

describe('sfbackup history', () => {
  it('prints the versions newest first with the changed values', async () => {
    const { code, out } = await sfbackup(
      'history',
      '--object',
      'Property__c',
      '--id',
      s.changed.slice(0, 15),
      '--store',
      s.dir,
    );
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe(
      `History of Property__c ${s.changed} in org sample (3 versions in 3 snapshots, newest first):`,
    );
    expect(lines[1]).toMatch(/^ {2}SNAPSHOT +FINISHED +EVENT +CHANGES$/);
    expect(lines[2]).toMatch(new RegExp(`^  ${s.s3}  \\S+  changed +1 field`));
    expect(lines[3]).toBe(`      Description__c: ${JSON.stringify(s.descriptions[1])} -> "Third version"`);
    expect(out).toContain(`  ${s.s1}  `);
    expect(out).toContain('No change-event journal: the org is not continuous.');
  });

  it('prints one JSON object with --json', async () => {
    const { out } = await sfbackup(
      'history',
      '--object',
      'Property__c',
      '--id',
      s.binned,
      '--store',
      s.dir,
      '--json',
    );
    const history = JSON.parse(out) as { versions: { event: string }[] };
    expect(history.versions.map((v) => v.event)).toEqual(['created', 'deleted', 'undeleted']);
  });

  it('names a missing option, an unknown object and an unknown id', async () => {
    const missing = await sfbackup('history', '--store', s.dir);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--object NAME is required');
    expect(missing.err).toContain('--id ID is required');
    const object = await sfbackup('history', '--object', 'Brokr__c', '--id', s.changed, '--store', s.dir);
    expect(object.err).toContain('did you mean Broker__c?');
    const id = await sfbackup(
      'history',
      '--object',
      'Property__c',
      '--id',
      'a0X000000000000AAA',
      '--store',
      s.dir,
    );
    expect(id.code).toBe(1);
    expect(id.err).toContain(`no snapshot of org sample in ${where()} holds Property__c a0X000000000000AAA`);
  });
});

describe('sfbackup plan', () => {
  it('writes a dry-run input from a diff to a file, which the restore accepts', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'insight-plan-')), 'plan.json');
    const r = await sfbackup(
      'plan',
      '--from-diff',
      s.s1,
      s.s2,
      '--changed',
      '--object',
      'Property__c',
      '--out',
      out,
      '--store',
      s.dir,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(
      `Wrote a dry-run restore input to ${out}: from snapshot ${s.s1}, put back Property__c.Description__c on 1 record of Property__c.`,
    );
    const input = JSON.parse(readFileSync(out, 'utf8'));
    expect(input).toEqual(descriptionRevert(s));
    expect(parseRestoreInput(input).mode).toBe('dry-run');
    const again = await sfbackup(
      'plan',
      '--from-diff',
      s.s1,
      s.s2,
      '--changed',
      '--out',
      out,
      '--store',
      s.dir,
    );
    expect(again.err).toContain(`--out ${out}: the file exists`);
  });

  it('prints the input of a record history to standard output, and one JSON object with --json', async () => {
    const r = await sfbackup(
      'plan',
      '--from-history',
      '--object',
      'Property__c',
      '--id',
      s.hardDeleted,
      '--to',
      s.s1,
      '--store',
      s.dir,
    );
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      snapshot: s.s1,
      objects: ['Property__c'],
      records: [s.hardDeleted],
      mode: 'dry-run',
    });
    const j = await sfbackup(
      'plan',
      '--from-diff',
      s.s1,
      s.s2,
      '--deleted',
      '--ids',
      s.binned,
      '--json',
      '--store',
      s.dir,
    );
    expect(JSON.parse(j.out)).toEqual({
      input: { snapshot: s.s1, objects: ['Property__c'], records: [s.binned], mode: 'dry-run' },
      out: null,
    });
  });

  it('names what is missing or contradictory, and asks for the org id before a writing mode', async () => {
    const none = await sfbackup('plan', '--store', s.dir);
    expect(none.code).toBe(2);
    expect(none.err).toContain('give --from-diff A B');
    const both = await sfbackup('plan', '--from-diff', s.s1, s.s2, '--store', s.dir);
    expect(both.code).toBe(1);
    expect(both.err).toContain('found both deleted and changed rows: choose one plan');
    const history = await sfbackup('plan', '--from-history', '--object', 'Property__c', '--store', s.dir);
    expect(history.err).toContain('--from-history needs --id ID');
    expect(history.err).toContain('--from-history needs --to SNAPSHOT');
    const write = await sfbackup(
      'plan',
      '--from-diff',
      s.s1,
      s.s2,
      '--deleted',
      '--mode',
      'restore-deleted',
      '--store',
      s.dir,
    );
    expect(write.code).toBe(1);
    expect(write.err).toContain(
      "mode restore-deleted writes to the org, so the plan needs the target org's id",
    );
    const mode = await sfbackup('plan', '--from-diff', s.s1, s.s2, '--mode', 'undo', '--store', s.dir);
    expect(mode.err).toContain('--mode undo: write one of dry-run, restore-deleted, revert-changes, full');
    expect(existsSync(join(s.dir, 'plan.json'))).toBe(false);
  });
});
