import { describe, expect, it } from 'vitest';
import { SalesforceTransientError } from '../../lambdas/core/salesforce.ts';
import { baseFields, FakeSource } from './fake-source.ts';
import { runCore } from './run-core.ts';

const SECRET_VALUE = 'Jane Customer <jane@example.com>';

function org(): FakeSource {
  const source = new FakeSource([
    {
      name: 'Account',
      fields: baseFields,
      rows: [
        { Id: '001000000000001AAA', Name: 'a', IsDeleted: 'false', SystemModstamp: '2026-01-01T00:00:00Z' },
      ],
    },
  ]);
  source.metadata = [{ type: 'ApexClass', fullName: 'Hello' }];
  return source;
}

const serverError = (what: string) =>
  new SalesforceTransientError(
    `${what}: UNKNOWN_EXCEPTION: An unexpected error occurred near ${SECRET_VALUE}`,
    'UNKNOWN_EXCEPTION',
    500,
  );

describe('a metadata step that keeps failing', () => {
  it('fails the run with the cause of the failed listing: error name, code and status, no values', async () => {
    const source = org();
    source.listMetadata = async () => {
      throw serverError('Metadata API listMetadata');
    };
    const { finish } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('failed');
    expect(finish.failureMessage).toMatch(
      /metadata was never listed: SalesforceTransientError UNKNOWN_EXCEPTION \(HTTP 500\) in Metadata API listMetadata, 3 attempts/,
    );
    expect(finish.failureMessage).not.toContain('Jane');
  });

  it('names the cause of a retrieve that never finished', async () => {
    const source = org();
    source.retrieve = async () => {
      throw serverError('Metadata API retrieve');
    };
    const { finish } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('failed');
    expect(finish.failureMessage).toMatch(
      /retrieve 1: the retrieve never finished: SalesforceTransientError UNKNOWN_EXCEPTION \(HTTP 500\) in Metadata API retrieve, 3 attempts/,
    );
    expect(finish.failureMessage).not.toContain('Jane');
  });
});
