import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeErase,
  type EraseSummary,
  readInput,
  reportWait,
  summarize,
} from '../../cli/commands/erase.ts';
import { parseCommandLine } from '../../cli/commands/options.ts';
import type { Json, RunResult } from '../../cli/local/index.ts';
import { runCli } from '../support/run-cli.ts';

const file = (content: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'sfbackup-erase-input-')), 'input.json');
  writeFileSync(path, content);
  return path;
};

/** A directory vault holding a key of org `acme` only. */
const vaultOfAcme = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'sfbackup-erase-vault-'));
  mkdirSync(join(dir, 'orgs', 'acme', 'catalog'), { recursive: true });
  writeFileSync(join(dir, 'orgs', 'acme', 'catalog', 'x.json'), '{}');
  return dir;
};

const result = (
  status: RunResult['status'],
  output?: Json,
  error?: string,
  errorMessage?: string,
): RunResult => ({
  executionName: 'e1',
  status,
  ...(output !== undefined ? { output } : {}),
  ...(error ? { error } : {}),
  ...(errorMessage ? { errorMessage } : {}),
  history: {
    events: 30,
    largestPayloadBytes: 900,
    childExecutions: 0,
    largestChildEvents: 0,
    largestChildPayloadBytes: 0,
  },
  withinLimits: true,
  snsMessages: [],
  failedChildExecutions: 0,
  childFailures: [],
});

const found = {
  ids: 1,
  snapshots: 3,
  parts: 3,
  journalObjects: 1,
  otherKeys: 2,
  versions: 7,
  rowsByObject: { Contact: 3 },
  journalEvents: 2,
  values: 4,
  copiesByField: { 'Property__c.Description__c': 1 },
  keptCopiesByField: { 'Account.Phone': 2 },
  openRestoreBatches: 1,
  unrewritableFiles: 0,
  lockedVersions: 2,
};

describe('sfbackup erase: its options and input', () => {
  it('names every problem of the options, with what to write, and exits 2', async () => {
    const none = await runCli('erase', '--instance-url', 'http://127.0.0.1:1');
    expect(none.code).toBe(2);
    expect(none.err).toContain(
      '--instance-url is not an option of sfbackup erase: it works on the vault alone',
    );
    expect(none.err).toContain('--store DIR, or --bucket NAME, is required');
    expect(none.err).toContain('--input FILE is required');

    const input = file('{"ids": ["003000000000001AAA"], "requestedBy": "dpo@example.com"}');
    const aws = await runCli('erase', '--bucket', 'vault', '--input', input);
    expect(aws.code).toBe(2);
    expect(aws.err).toContain(
      '--bucket without --s3-endpoint names a bucket in AWS: erase the vault in AWS from the console',
    );
    const endpoint = await runCli(
      'erase',
      '--bucket',
      'vault',
      '--s3-endpoint',
      'localhost:7480',
      '--input',
      input,
    );
    expect(endpoint.code).toBe(2);
    expect(endpoint.err).toContain('--s3-endpoint is "localhost:7480", which is not an http(s) URL');
  });

  it('refuses an org the vault holds nothing of, naming the orgs it holds, before running anything', async () => {
    const input = file('{"ids": ["003000000000001AAA"], "requestedBy": "dpo@example.com"}');
    const { code, err } = await runCli(
      'erase',
      '--store',
      vaultOfAcme(),
      '--org',
      'acme-prod',
      '--input',
      input,
    );
    expect(code).toBe(2);
    expect(err).toMatch(/the vault in .+ holds nothing of org acme-prod\. It holds org acme: if you meant/);
  });

  it('takes - as the input file (standard input), not as an option', () => {
    const { values, problems } = parseCommandLine('erase', { input: { type: 'string' } }, ['--input', '-']);
    expect(problems).toEqual([]);
    expect(values.input).toBe('-');
  });

  it('checks the input as the workflow does, every problem with its fix, and an input over 256 KB unread', () => {
    const problems: string[] = [];
    const bad = file('{"ids": ["003x"], "requestedBy": " ", "mode": "erase", "confirmOrgID": "00D"}');
    expect(readInput(bad, problems)).toBeUndefined();
    expect(problems.some((p) => p.startsWith(`--input ${bad}: ids.0: `))).toBe(true);
    expect(problems.some((p) => p.includes('requestedBy'))).toBe(true);
    expect(problems.some((p) => p.includes('"confirmOrgID" (did you mean "confirmOrgId"?)'))).toBe(true);

    const notJson = file('{"ids": [');
    const parseProblems: string[] = [];
    expect(readInput(notJson, parseProblems)).toBeUndefined();
    expect(parseProblems).toEqual([
      expect.stringMatching(/^--input .+: the input is not valid JSON \(.+\)\. Fix: write a JSON object/),
    ]);

    const big = file(JSON.stringify({ requestedBy: 'x', where: { Email: 'a'.repeat(300_000) } }));
    const sizeProblems: string[] = [];
    expect(readInput(big, sizeProblems)).toBeUndefined();
    expect(sizeProblems).toEqual([
      `--input ${big} is 300040 bytes, more than the 262144 an execution input may be. Fix: an erase input names one person: a few ids, or one filter on one object.`,
    ]);

    const good = file('{"ids": ["003000000000001AAA"], "requestedBy": "dpo@example.com"}');
    expect(readInput(good, [])).toEqual({ ids: ['003000000000001AAA'], requestedBy: 'dpo@example.com' });
  });
});

describe('sfbackup erase: what it prints', () => {
  it('reports a dry run: what holds her, her copies blanked and kept, what refuses a real run, and the org id to confirm with', () => {
    const summary = summarize(
      'acme',
      'e1',
      result('SUCCEEDED', {
        done: true,
        mode: 'dry-run',
        planKey: 'orgs/acme/erasures/e1/plan.json',
        execution: 'e1',
        orgIds: ['00D5g0000000001EAA'],
        ...found,
      }),
    );
    expect(summary).toMatchObject({ status: 'SUCCEEDED', mode: 'dry-run', found, erased: null, error: null });
    expect(describeErase(summary)).toBe(
      [
        'Dry run e1 of an erasure from org acme: nothing was erased.',
        '  Found: 1 id(s) in 3 snapshot(s), 3 part(s) (rows: Contact 3), 2 journal event(s), 2 other vault record(s); 7 stored version(s) hold her; 4 value(s) of hers searched for.',
        '  Copies of her values in other records:',
        '    FIELD                       COPIES',
        '    Property__c.Description__c  1       blanked',
        '    Account.Phone               2       kept',
        '  A real run is refused: 1 open batch(es) of a stopped restore hold her: let that restore end first.',
        '  A real run is refused: 2 version(s) to remove are locked (legal hold or retention).',
        '  Plan: orgs/acme/erasures/e1/plan.json',
        '  To erase, run again with "mode": "erase" and "confirmOrgId": "00D5g0000000001EAA" in the input.',
        '',
      ].join('\n'),
    );
  });

  it('reports an erasure: what it rewrote and removed, the scan, the log, and digests other executions may hold', () => {
    const summary: EraseSummary = summarize(
      'acme',
      'e2',
      result('SUCCEEDED', {
        done: true,
        mode: 'erase',
        planKey: 'orgs/acme/erasures/e2/plan.json',
        orgIds: ['00D5g0000000001EAA'],
        ...found,
        openRestoreBatches: 0,
        lockedVersions: 0,
        outcome: {
          done: true,
          keysRewritten: 6,
          rowsRemoved: 3,
          journalEventsRemoved: 2,
          manifestsRewritten: 3,
          catalogEntriesRewritten: 3,
          versionsRemoved: 9,
          copiesBlanked: 1,
        },
        log: {
          done: true,
          logKey: 'orgs/acme/erasures/log/20261206T000000000Z-e2.json',
          versionsScanned: 120,
          traces: 0,
          removedVersionsListedIn: 'orgs/acme/erasures/e2/removed/',
          digestsLeftIn: ['e0'],
          digestsNotChecked: true,
        },
      }),
    );
    expect(summary.erased).toEqual({
      keysRewritten: 6,
      rowsRemoved: 3,
      journalEventsRemoved: 2,
      copiesBlanked: 1,
      manifestsRewritten: 3,
      catalogEntriesRewritten: 3,
      versionsRemoved: 9,
      versionsScanned: 120,
      traces: 0,
      logKey: 'orgs/acme/erasures/log/20261206T000000000Z-e2.json',
      removedVersionsListedIn: 'orgs/acme/erasures/e2/removed/',
      digestsLeftIn: ['e0'],
      digestsNotChecked: true,
    });
    const text = describeErase(summary);
    expect(text).toMatch(/^Erasure e2 of org acme: SUCCEEDED\n/);
    expect(text).toContain(
      '  Erased: 6 object(s) rewritten, 3 row(s) and 2 journal event(s) removed, 1 copy(ies) blanked, 3 manifest(s) and 3 catalog entry(ies) made true again, 9 earlier version(s) removed.\n',
    );
    expect(text).toContain('  Scan: 120 version(s) read, 0 trace(s).\n');
    expect(text).toContain('  Digests of her values may remain in the plans or progress of: e0');
    expect(text).toContain("  Other executions' plans were not checked for digests of her values");
    expect(text).not.toContain('To erase');
    expect(describeErase(summary, { directory: true })).toContain(
      '9 earlier version(s) removed (a directory vault keeps one version of each key).',
    );
  });

  it('reports a failed execution by its error and message alone', () => {
    const summary = summarize(
      'acme',
      'e3',
      result(
        'FAILED',
        undefined,
        'ErasureTargetNotFoundError',
        'The filter on Contact (Email) matched no row.',
      ),
    );
    expect(summary).toMatchObject({
      found: null,
      erased: null,
      mode: null,
      message: 'The filter on Contact (Email) matched no row.',
    });
    expect(describeErase(summary)).toBe(
      'Erasure e3 of org acme: FAILED (ErasureTargetNotFoundError)\nThe filter on Contact (Email) matched no row.\n',
    );
  });
});

describe('sfbackup erase: a real erasure waiting for its org', () => {
  it('passes on why each try of the start step found the org busy, and nothing else', () => {
    const reasons: string[] = [];
    const onWait = (reason: string) => reasons.push(reason);
    const step = (state: string, phase: 'before' | 'after', output?: Json) => ({
      execution: 'e1',
      state,
      phase,
      ...(output !== undefined ? { output } : {}),
    });
    reportWait(step('PlanErasure', 'before'), onWait);
    reportWait(
      step('PlanErasure', 'after', { waiting: true, reason: 'A backup of org acme is running.' }),
      onWait,
    );
    reportWait(step('PlanErasure', 'after', { done: true, mode: 'erase' }), onWait);
    reportWait(step('EraseVersions', 'after', { waiting: true, reason: 'not a start step' }), onWait);
    expect(reasons).toEqual(['A backup of org acme is running.']);
  });
});
