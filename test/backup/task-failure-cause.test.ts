import { describe, expect, it } from 'vitest';
import { recordObjectFailure } from '../../lambdas/core/backup/export-object.ts';
import { taskFailureCause, withoutSalesforceText } from '../../lambdas/core/backup/failure-cause.ts';
import { recordFilesFailure } from '../../lambdas/core/backup/files.ts';
import { SalesforceError, SalesforceTransientError } from '../../lambdas/core/salesforce.ts';
import { telemetry } from '../../lambdas/handlers/runtime.ts';
import { ServiceName } from '../../contract/workflow-contract.ts';
import { baseFields, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

const VALUE = 'Jane Customer <jane@example.com>';

/** The error document Step Functions catches from a Lambda function that threw. */
const lambdaFailure = (name: string, message: string) => ({
  Error: name,
  Cause: JSON.stringify({
    errorType: name,
    errorMessage: message,
    trace: [`${name}: ${message}`, '    at x'],
  }),
});

describe('the cause of a task that failed for good', () => {
  it("keeps the error name and the call its message names, never the message's text", () => {
    const cause = taskFailureCause(
      lambdaFailure('SalesforceBulkJobFailedError', `Bulk query job 7503x: InvalidBatch: near '${VALUE}'`),
    );
    expect(cause).toBe('SalesforceBulkJobFailedError in Bulk query job 7503x');
    expect(cause).not.toContain('Jane');
  });

  it('keeps only the name when the message starts with text that is not a call label', () => {
    const cause = taskFailureCause(lambdaFailure('Error', `${VALUE} is not a valid value: for field Email`));
    expect(cause).toBe('Error');
  });

  it('keeps the cause Step Functions or Lambda wrote, which quotes no data', () => {
    expect(taskFailureCause({ Error: 'States.Timeout', Cause: 'Task timed out after 900.00 seconds' })).toBe(
      'States.Timeout: Task timed out after 900.00 seconds',
    );
    expect(taskFailureCause({ Error: 'MyError', Cause: `plain text ${VALUE}` })).toBe('MyError');
    expect(taskFailureCause({ Error: `not a name ${VALUE}`, Cause: '' })).toBe('Error');
    expect(taskFailureCause(undefined)).toBe('failed without an error');
  });

  it('records a failed object and a failed files batch with the value-free cause', async () => {
    const store = new MemoryStore();
    const deps = { store, source: new FakeSource([]), clock: () => new Date(), sleep: async () => {} };
    const error = lambdaFailure('SalesforceError', `REST query Contact: MALFORMED_QUERY: '${VALUE}'`);
    await recordObjectFailure(deps, { org: 'acme', snapshotId: 's1', object: 'Contact', error });
    await recordFilesFailure(deps, { org: 'acme', snapshotId: 's1', batch: 1, error });
    const written = [...store.objects.keys()];
    expect(written.length).toBe(2);
    for (const key of written) {
      const text = store.text(key);
      expect(text).toContain('SalesforceError in REST query Contact');
      expect(text).not.toContain('Jane');
    }
  });

  it("fails the run naming the object and the error, and the alert quotes none of Salesforce's text", async () => {
    const source = new FakeSource([
      {
        name: 'Account',
        fields: baseFields,
        rows: [
          { Id: '001000000000001AAA', Name: 'a', IsDeleted: 'false', SystemModstamp: '2026-01-01T00:00:00Z' },
        ],
      },
    ]);
    source.createBulkQuery = async () => {
      throw new SalesforceError(`Bulk query Account: INVALID_FIELD: ${VALUE}`, 'INVALID_FIELD', 400);
    };
    const { finish } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('failed');
    expect(finish.failureMessage).toMatch(/Account: SalesforceError in Bulk query Account/);
    expect(finish.failureMessage).not.toContain('Jane');
  });
});

describe('an error a function lets out', () => {
  it("keeps a Salesforce error's name, code, status and call, without Salesforce's message", async () => {
    const error = new SalesforceTransientError(
      `REST query Contact: UNKNOWN_EXCEPTION: near ${VALUE}`,
      'UNKNOWN_EXCEPTION',
      503,
    );
    const { instrumented } = telemetry(ServiceName.Restore);
    const thrown = await instrumented('Plan', 'acme', async () => {
      throw error;
    }).catch((e: unknown) => e as Error);
    expect(thrown.name).toBe('SalesforceTransientError');
    expect(thrown.message).toMatch(
      /^SalesforceTransientError UNKNOWN_EXCEPTION \(HTTP 503\) in REST query Contact/,
    );
    expect(thrown.message).not.toContain('Jane');
  });

  it('lets any other error through unchanged, since its message is the fix for the engineer', () => {
    const error = new Error(
      'Restore input: snapshot "2026-01-01" is not in the vault; write one of the ids the error lists',
    );
    expect(withoutSalesforceText(error)).toBe(error);
  });
});
