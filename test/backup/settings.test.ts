import { describe, expect, it } from 'vitest';
import { ErrorName } from '../../contract/workflow-contract.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import { resolvedSettings } from '../../lib/workflows/backup/props.ts';

function failure(input: unknown): Error {
  try {
    parseBackupSettings(input);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the settings to be refused');
}

describe('backup settings', () => {
  it('refuses a misspelt key, naming it and the nearest known key, instead of dropping it', () => {
    const error = failure(JSON.stringify({ includeObject: ['Account'], excludeObjects: [] }));
    expect(error.name).toBe(ErrorName.InvalidBackupSettings);
    expect(error.message).toContain('unknown key "includeObject" (did you mean "includeObjects"?)');
  });

  it('names every unknown key, with a suggestion only where one is close', () => {
    const error = failure({ pagesize: 10, colour: 'blue', apiShare: 2 });
    expect(error.message).toContain('unknown key "pagesize" (did you mean "pageSize"?)');
    expect(error.message).toMatch(/unknown key "colour"(?! \(did you mean)/);
    expect(error.message).toContain('apiShare:');
  });

  it('accepts every key the deployment writes into the function environment', () => {
    const written = resolvedSettings({
      includeObjects: ['Account'],
      excludeObjects: ['Lead'],
      files: false,
      apiShare: 0.2,
      anomalyPercent: 10,
      anomalyRows: 50,
      overlapSeconds: 60,
    });
    expect(parseBackupSettings(JSON.stringify(written))).toMatchObject(written);
  });

  it('takes the Event Relay source of a continuous org, and refuses one of another shape, saying what to write', () => {
    const source = 'aws.partner/salesforce.com/00DRM000000Fxts2AC/0YLRM0000004Dfg4AE';
    expect(parseBackupSettings({ continuous: { partnerEventSource: source } }).continuous).toEqual({
      partnerEventSource: source,
    });
    expect(parseBackupSettings({}).continuous).toBeUndefined();
    const written = resolvedSettings({ continuous: { partnerEventSource: source } });
    expect(parseBackupSettings(JSON.stringify(written)).continuous).toEqual({ partnerEventSource: source });
    expect(resolvedSettings({})).not.toHaveProperty('continuous');
    expect(failure({ continuous: { partnerEventSource: 'acme' } }).message).toContain(
      'continuous.partnerEventSource: write the partner event source as aws.partner/salesforce.com/<org id>/<channel id>',
    );
    expect(failure({ continuous: { source } }).message).toContain(
      'continuous: unknown key "source" (known here: partnerEventSource)',
    );
  });
});
