import { describe, expect, it } from 'vitest';
import { propertyId, runRestore, world } from './scenario.ts';

const INPUT = { objects: ['Property__c'], mode: 'restore-deleted', confirmOrgId: '00D000000000001AAA' };

describe("Salesforce's error text in what a restore reports", () => {
  it('keeps the error code, the fields and the row id of a refused row, never a value its message quotes', async () => {
    // GIVEN a validation rule whose message quotes the row's price and name
    const { org, deps, store } = world();
    org.hardDelete('Property__c', propertyId(3));
    const quoted = ['300000', 'House 3'];
    org.rejectInsert = (_o, row) =>
      row.Name === 'House 3'
        ? `Price ${String(row.Price__c)} of "${String(row.Name)}" needs a broker`
        : undefined;
    // WHEN the restore runs
    const { verify } = await runRestore(deps, INPUT, 'run-quoted');
    // THEN the summary (which the alert carries) names the row and the code, and no value
    expect(verify?.matches).toBe(false);
    expect(verify?.summary).toContain(propertyId(3));
    expect(verify?.summary).toContain('FIELD_CUSTOM_VALIDATION_EXCEPTION');
    for (const value of quoted) expect(verify?.summary).not.toContain(value);
    expect(verify?.summary).not.toContain('needs a broker');
    // AND nothing the restore recorded about the run holds the message either
    for (const [key, bytes] of store.objects) {
      if (!key.includes('/runs/run-quoted/') || key.endsWith('/plan/Property__c.json')) continue;
      const text = new TextDecoder().decode(bytes);
      expect(text, key).not.toContain('needs a broker');
    }
  });
});
