import { describe, expect, it } from 'vitest';
import { InvalidEraseRequestError } from '../../lambdas/core/erase/errors.ts';
import { parseEraseInput, refuseLockedVault } from '../../lambdas/core/erase/input.ts';

const problems = (raw: unknown): string => {
  try {
    parseEraseInput(raw);
  } catch (error) {
    if (error instanceof InvalidEraseRequestError) return error.message;
    throw error;
  }
  throw new Error('the input was accepted');
};

describe('the erase input', () => {
  it('is a dry run unless it says erase, and takes an 18-character id in any case as Salesforce cases it', () => {
    const request = parseEraseInput({ ids: ['0035G000000000PAAQ'], requestedBy: 'dpo@example.com' });
    expect(request.mode).toBe('dry-run');
    expect(request.ids).toEqual([{ input: '0035G000000000PAAQ', id15: '0035g000000000P', exact: true }]);
  });

  it('takes a 15-character id as a case to match whatever its case, and JSON text as the console sends it', () => {
    const request = parseEraseInput(
      '{"ids": ["0035g000000000p"], "requestedBy": "request 42", "reason": "art. 17"}',
    );
    expect(request.ids).toEqual([{ input: '0035g000000000p', id15: '0035g000000000p', exact: false }]);
    expect(request.reason).toBe('art. 17');
  });

  it('takes an object and a filter, and an erase confirmed with the org id in any case', () => {
    const request = parseEraseInput({
      object: 'Contact',
      where: { Email: 'jane@example.com', LastName: 'Doe' },
      requestedBy: 'dpo@example.com',
      mode: 'erase',
      confirmOrgId: '00d5G000004EXAMEAK',
    });
    expect(request).toMatchObject({ object: 'Contact', mode: 'erase', confirmOrgId: '00D5g000004ExAmEAK' });
  });

  it.each([
    ['no requestedBy', { ids: ['0035g000000000PAAQ'] }, /requestedBy is missing/],
    ['neither ids nor a filter', { requestedBy: 'x' }, /nothing to erase/],
    [
      'ids and a filter',
      { ids: ['0035g000000000PAAQ'], object: 'Contact', where: { Email: 'a@b.c' }, requestedBy: 'x' },
      /either ids or an object with a filter/,
    ],
    ['a filter without its object', { where: { Email: 'a@b.c' }, requestedBy: 'x' }, /needs the object/],
    [
      'an id of 16 characters',
      { ids: ['0035g000000000PA'], requestedBy: 'x' },
      /15- or 18-character record id/,
    ],
    [
      'an erase without confirmOrgId',
      { ids: ['0035g000000000PAAQ'], requestedBy: 'x', mode: 'erase' },
      /confirmOrgId is missing/,
    ],
    [
      'a confirmOrgId that is no org id',
      { ids: ['0035g000000000PAAQ'], requestedBy: 'x', mode: 'erase', confirmOrgId: '001000000000001' },
      /not an org id/,
    ],
    [
      'a misspelt field',
      { ids: ['0035g000000000PAAQ'], requestedBy: 'x', requestedby: 'y' },
      /"requestedby" \(did you mean "requestedBy"\?\)/,
    ],
    [
      'an unknown mode',
      { ids: ['0035g000000000PAAQ'], requestedBy: 'x', mode: 'delete' },
      /mode.*"dry-run" \(the default\) or "erase"/,
    ],
    ['text that is not JSON', '{ids: [}', /not valid JSON/],
    [
      'a kept field without its object',
      { ids: ['0035g000000000PAAQ'], requestedBy: 'x', keepCopiesIn: ['Phone'] },
      /keepCopiesIn\.0: a field as Object\.Field.*Fix: list the fields whose copies/,
    ],
  ])('refuses %s, naming the field and the fix', (_what, raw, message) => {
    expect(problems(raw)).toMatch(message);
  });

  it('takes the fields whose copies stay, each once, in order', () => {
    const request = parseEraseInput({
      ids: ['0035g000000000PAAQ'],
      requestedBy: 'x',
      keepCopiesIn: ['Account.Phone', 'Account.Fax', 'Account.Phone'],
    });
    expect(request.keepCopiesIn).toEqual(['Account.Fax', 'Account.Phone']);
  });

  it('refuses a vault locked in COMPLIANCE mode, saying why and what to configure, and accepts GOVERNANCE or none', () => {
    expect(() => refuseLockedVault('COMPLIANCE')).toThrow(
      /no one.*can remove a locked version.*"GOVERNANCE".*no longer than the time within which erasure requests must be answered/,
    );
    expect(() => refuseLockedVault('GOVERNANCE')).not.toThrow();
    expect(() => refuseLockedVault(undefined)).not.toThrow();
  });
});
