import { describe, expect, it } from 'vitest';
import { SalesforceAnswerTooLargeError } from '../../lambdas/adapters/salesforce/transport.ts';
import { planMetadata, retrieveMetadata } from '../../lambdas/core/backup/metadata.ts';
import { planBackup } from '../../lambdas/core/backup/plan.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import type { BackupDeps } from '../../lambdas/core/backup/types.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

function org(classes: number): FakeSource {
  const source = new FakeSource([]);
  source.metadata = Array.from({ length: classes }, (_, i) => ({ type: 'ApexClass', fullName: `Class${i}` }));
  return source;
}

describe('the size of a metadata retrieve', () => {
  it('splits a retrieve whose zip passes the bound until every zip is within it', async () => {
    const source = org(9);
    const { finish, store } = await runCore(
      source,
      { org: 'acme', mode: 'metadata' },
      { componentsPerRetrieve: 9, maxRetrieveZipBytes: 40 },
    );
    expect(finish.status).toBe('complete');
    expect(finish.metadataComponents).toBe(9);
    const parts = (await new SnapshotReader(store).manifest('acme', finish.snapshotId)).metadata.parts;
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.bytes <= 40)).toBe(true);
  });

  it('splits a retrieve whose answer the adapter stopped reading past its limit', async () => {
    const source = org(8);
    const check = source.checkRetrieveStatus.bind(source);
    const sizes: number[] = [];
    source.checkRetrieveStatus = async (id) => {
      const status = await check(id);
      const components = (new TextDecoder().decode(status.zip).match(/Class\d/g) ?? []).length;
      sizes.push(components);
      if (components > 2) {
        throw new SalesforceAnswerTooLargeError(
          'Metadata API checkRetrieveStatus: the answer passed 10 bytes',
        );
      }
      return status;
    };
    const { finish } = await runCore(source, { org: 'acme', mode: 'metadata' }, { componentsPerRetrieve: 8 });
    expect(finish.status).toBe('complete');
    expect(finish.metadataComponents).toBe(8);
    expect(sizes).toEqual([8, 4, 2, 2, 4, 2, 2]);
  });

  it('fails the run, saying which bound and how to raise it, when one component alone passes the bound', async () => {
    const { finish } = await runCore(org(2), { org: 'acme', mode: 'metadata' }, { maxRetrieveZipBytes: 10 });
    expect(finish.status).toBe('failed');
    expect(finish.failureMessage).toMatch(/retrieve 1: the retrieve never finished: MetadataRetrieveError/);

    const store = new MemoryStore();
    const deps: BackupDeps = { store, source: org(1), clock: () => new Date(), sleep: async () => {} };
    const settings = parseBackupSettings({ pollIntervalMs: 0, maxRetrieveZipBytes: 10 });
    const plan = await planBackup(deps, { org: 'acme', mode: 'metadata' }, settings);
    const state = await planMetadata(deps, { org: 'acme', snapshotId: plan.snapshotId });
    await expect(retrieveMetadata(deps, state)).rejects.toThrow(
      /one component alone came back as a zip of \d+ bytes over the bound of 10 bytes.*Raise maxRetrieveZipBytes/,
    );
  });
});
