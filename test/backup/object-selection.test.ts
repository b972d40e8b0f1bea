import { describe, expect, it } from 'vitest';
import { ErrorName } from '../../contract/workflow-contract.ts';
import { catalogPrefix, latestPointerKey } from '../../lambdas/core/snapshot/keys.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { baseFields, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

const T0 = '2026-01-01T00:00:00.000Z';

function org(): FakeSource {
  const object = (name: string) => ({
    name,
    fields: baseFields,
    rows: [{ Id: `${name}-1`, Name: 'one', IsDeleted: 'false', SystemModstamp: T0 }],
  });
  return new FakeSource([object('Account'), object('Contact'), object('Invoice__c')]);
}

async function keysUnder(store: MemoryStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys;
}

describe('objects named in the backup settings', () => {
  it('fails the run, naming each included object the org lacks and the nearest real name, and leaves the pointer where it was', async () => {
    const store = new MemoryStore();
    const first = await runCore(org(), { org: 'acme', mode: 'full' }, {}, store);
    expect(first.finish.status).toBe('complete');
    const pointer = new TextDecoder().decode(await store.get(latestPointerKey('acme')));
    const catalog = await keysUnder(store, catalogPrefix('acme'));

    const run = runCore(
      org(),
      { org: 'acme', mode: 'full' },
      { includeObjects: ['Acount', 'Contact', 'Invoice', 'Shipment__c'] },
      store,
    );
    await expect(run).rejects.toMatchObject({ name: ErrorName.UnknownBackupObjects });
    const message = await run.catch((error: Error) => error.message);
    expect(message).toContain('Acount (did you mean Account?)');
    expect(message).toContain('Invoice (did you mean Invoice__c?)');
    expect(message).toMatch(/Shipment__c(?! \(did you mean)/);
    expect(message).not.toMatch(/Contact/);

    expect(new TextDecoder().decode(await store.get(latestPointerKey('acme')))).toBe(pointer);
    expect(await keysUnder(store, catalogPrefix('acme'))).toEqual(catalog);
  });

  it('fails the run when an excluded name is a misspelling of a real object, which would be backed up', async () => {
    const run = runCore(org(), { org: 'acme', mode: 'full' }, { excludeObjects: ['Contcat'] });
    await expect(run).rejects.toMatchObject({ name: ErrorName.UnknownBackupObjects });
    await expect(run).rejects.toThrow(/excluded but not in the org.*Contcat \(did you mean Contact\?\)/);
  });

  it('notes an excluded object the org no longer has, with nothing close, and backs up the rest', async () => {
    const { finish, store } = await runCore(
      org(),
      { org: 'acme', mode: 'full' },
      { excludeObjects: ['RetiredThing__c', 'Contact'] },
    );
    expect(finish.status).toBe('complete');
    const manifest = await new SnapshotReader(store).manifest('acme', finish.snapshotId);
    expect(manifest.skippedObjects).toContainEqual({
      name: 'RetiredThing__c',
      reason: 'excluded by the configuration; the org has no such object',
      reasonCode: 'excluded',
    });
    expect(manifest.objects.map((o) => o.name)).toEqual(['Account', 'Invoice__c']);
  });
});
