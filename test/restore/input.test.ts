import { describe, expect, it } from 'vitest';
import { InvalidRestoreRequestError } from '../../lambdas/core/restore/errors.ts';
import { MAX_INPUT_BYTES, parseRestoreInput } from '../../lambdas/core/restore/input.ts';
import { runRestore, world } from './scenario.ts';

const WRITES = /^(create|update|undelete)/;

async function rejected(input: unknown): Promise<{ error: InvalidRestoreRequestError; writes: string[] }> {
  const { org, deps } = world();
  org.hardDelete('Broker__c', 'a01000000000001AAA');
  const error = await runRestore(deps, input).then(
    () => {
      throw new Error('the restore was expected to be rejected');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidRestoreRequestError);
  return { error: error as InvalidRestoreRequestError, writes: org.calls.filter((c) => WRITES.test(c)) };
}

describe('restore input', () => {
  it('defaults to a dry run of the latest snapshot', () => {
    const r = parseRestoreInput({ objects: ['Account'] });
    expect(r.mode).toBe('dry-run');
    expect(r.snapshot).toEqual({ kind: 'latest' });
    expect(r.includeChildren).toBe(false);
  });

  it('reads a point in time and a snapshot id apart', () => {
    expect(parseRestoreInput({ objects: ['A'], snapshot: '2026-01-31T12:00:00Z' }).snapshot).toEqual({
      kind: 'pointInTime',
      at: '2026-01-31T12:00:00.000Z',
    });
    expect(parseRestoreInput({ objects: ['A'], snapshot: '20260131T120000Z-abc123' }).snapshot).toEqual({
      kind: 'id',
      id: '20260131T120000Z-abc123',
    });
  });

  it('rejects malformed JSON, naming the input and the fix, and writes nothing', async () => {
    const { error, writes } = await rejected('{"objects": ["Broker__c"], "mode": ');
    expect(error.problems[0]?.field).toBe('(input)');
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.message).toMatch(/Fix: write a JSON object/);
    expect(writes).toEqual([]);
  });

  it('rejects an unknown snapshot and writes nothing', async () => {
    const { error, writes } = await rejected({
      snapshot: '20200101T000000Z-zzzzzz',
      objects: ['Broker__c'],
      mode: 'full',
      confirmOrgId: '00D000000000001AAA',
    });
    expect(error.problems[0]?.field).toBe('snapshot');
    expect(error.message).toMatch(/No snapshot matches/);
    expect(writes).toEqual([]);
  });

  it('rejects a point in time before the first snapshot', async () => {
    const { error } = await rejected({ snapshot: '2020-01-01T00:00:00Z', objects: ['Broker__c'] });
    expect(error.problems[0]?.field).toBe('snapshot');
  });

  it('rejects an unknown object, suggesting the close name', async () => {
    const { error, writes } = await rejected({
      objects: ['Broker_c'],
      mode: 'full',
      confirmOrgId: '00D000000000001AAA',
    });
    expect(error.problems[0]?.field).toBe('objects');
    expect(error.message).toContain('did you mean "Broker__c"');
    expect(writes).toEqual([]);
  });

  it('rejects an unknown field and a field of an object not listed', async () => {
    const { error, writes } = await rejected({
      objects: ['Broker__c'],
      fields: ['Emial__c', 'Property__c.Price__c'],
      mode: 'revert-changes',
      confirmOrgId: '00D000000000001AAA',
    });
    const fields = error.problems.map((p) => p.field);
    expect(fields).toEqual(['fields']);
    expect(error.message).toContain('Property__c, which is not in objects');
    const { error: unknown } = await rejected({
      objects: ['Broker__c'],
      fields: ['Emial__c'],
      mode: 'revert-changes',
      confirmOrgId: '00D000000000001AAA',
    });
    expect(unknown.message).toContain('did you mean "Email__c"');
    expect(writes).toEqual([]);
  });

  it('rejects conflicting options: a field list with restore-deleted, or with includeChildren', async () => {
    const { error, writes } = await rejected({
      objects: ['Broker__c'],
      fields: ['Email__c'],
      includeChildren: true,
      mode: 'restore-deleted',
      confirmOrgId: '00D000000000001AAA',
    });
    expect(error.problems.map((p) => p.field)).toEqual(['fields', 'includeChildren']);
    expect(error.message).toContain('use mode "revert-changes"');
    expect(writes).toEqual([]);
  });

  it('rejects a writing mode without confirmOrgId, and one with a wrong org id', async () => {
    const missing = await rejected({ objects: ['Broker__c'], mode: 'restore-deleted' });
    expect(missing.error.problems[0]?.field).toBe('confirmOrgId');
    expect(missing.error.message).toContain('use mode "dry-run"');
    expect(missing.writes).toEqual([]);
    const malformed = await rejected({ objects: ['Broker__c'], mode: 'full', confirmOrgId: 'acme' });
    expect(malformed.error.message).toContain('"acme" is not an org id');
    const wrong = await rejected({
      objects: ['Broker__c'],
      mode: 'full',
      confirmOrgId: '00D000000000002AAA',
    });
    expect(wrong.error.problems[0]?.field).toBe('confirmOrgId');
    expect(wrong.writes).toEqual([]);
  });

  it('rejects unknown input fields and wrong types, naming each', () => {
    const error = (() => {
      try {
        parseRestoreInput({ objects: 'Account', mode: 'everything', dryRun: true });
      } catch (e) {
        return e as InvalidRestoreRequestError;
      }
      throw new Error('expected a rejection');
    })();
    expect(error.problems.map((p) => p.field).sort()).toEqual(['dryRun', 'mode', 'objects']);
    expect(error.message).toContain('write one of "dry-run", "restore-deleted", "revert-changes", "full"');
  });

  it('rejects record ids the snapshot does not hold', async () => {
    const { error } = await rejected({ objects: ['Broker__c'], records: ['a01000000000099AAA'] });
    expect(error.problems[0]?.field).toBe('records');
  });

  it('refuses an input larger than a state machine input may be, before parsing it, in one problem', () => {
    const big = JSON.stringify({ objects: Array(600_000).fill('Account__c') });
    expect(big.length).toBeGreaterThan(MAX_INPUT_BYTES);
    const error = (() => {
      try {
        parseRestoreInput(big);
      } catch (e) {
        return e as InvalidRestoreRequestError;
      }
      throw new Error('expected a rejection');
    })();
    expect(error).toBeInstanceOf(InvalidRestoreRequestError);
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('256 KB');
    expect(error.message.length).toBeLessThan(1_000);
  });

  it('refuses an input nested deeper than any restore request is, without walking it recursively', () => {
    let deep: unknown = 'Account';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(() => parseRestoreInput({ objects: deep })).toThrow(
      /nested 200,00\d levels deep; a restore input is nested at most 10 levels/,
    );
  });

  it('reports the first problems of an input with thousands, and how many more there are', () => {
    const input: Record<string, unknown> = { objects: Array(2_000).fill('not an API name!') };
    for (let i = 0; i < 3_000; i++) input[`unknown${i}`] = i;
    const error = (() => {
      try {
        parseRestoreInput(input);
      } catch (e) {
        return e as InvalidRestoreRequestError;
      }
      throw new Error('expected a rejection');
    })();
    expect(error.message.length).toBeLessThan(8_000);
    expect(error.message).toMatch(/and \d+ more problem\(s\)/);
  });

  it('bounds the lists of an input, naming the list and its limit', () => {
    expect(() => parseRestoreInput({ objects: Array(5_000).fill('Account') })).toThrow(
      /objects.*at most 2000/,
    );
  });
});
