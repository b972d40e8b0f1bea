/**
 * Restore to any second. Between two scheduled backups, rows of three objects are created,
 * updated (fields set and emptied), deleted, undeleted, purged and hard deleted through REST,
 * sObject Collections, SOAP and Bulk API 2.0; a few more changes follow the second backup. The
 * emulator publishes each change as a Change Data Capture event, its Event Relay puts it on
 * EventBridge, and the synthesized rule, queue and writer journal it. At twenty instants between
 * those changes the org's rows are captured; afterwards, for each instant:
 * - the journal replayed over the snapshot before it equals the captured rows, column by column;
 * - a restore with `pointInTime` into an org that holds none of those rows brings back exactly the
 *   captured state (values, and references between the rows), as Salesforce's own ids differ.
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import {
  type ContinuousOrg,
  type ContinuousSample,
  startContinuousSample,
  instantDifferences,
  liveRows,
} from '../support/continuous.ts';
import type { OrgWriter } from '../support/org-writer.ts';
import { backup, freshStoreDir, orgState, restore, startSampleOrg } from './e2e-support.ts';

const OBJECTS = ['Broker__c', 'Property__c', 'Contact'] as const;
const T0 = Date.parse('2026-04-01T09:00:00.000Z');

interface Instant {
  readonly at: string;
  readonly label: string;
  /** Live rows of each object, as the org held them. */
  readonly rows: Map<string, Map<string, Record<string, string>>>;
  readonly state: Record<string, string[]>;
}

describe('point-in-time restore from the change-event journal', () => {
  let sample: ContinuousSample | undefined;
  let emu: RunningEmulator;
  let writer: OrgWriter;
  let conn: jsforce.Connection;
  let continuous: ContinuousOrg;
  let settings: Record<string, unknown>;
  let later: (seconds: number) => void;
  let columns: ReadonlyMap<string, string[]>;
  const dir = freshStoreDir();
  const instants: Instant[] = [];

  beforeAll(async () => {
    sample = await startContinuousSample('dreamhouse-lwc', OBJECTS, dir, T0);
    ({ emu, writer, conn, continuous, settings, columns, later } = sample);
  }, 60_000);
  afterAll(async () => {
    await sample?.stop();
  });

  /** Makes one change, then captures the org a few seconds later as an instant to restore to. */
  async function step(label: string, change: () => Promise<unknown>): Promise<void> {
    later(20);
    await change();
    later(5);
    const rows = new Map(OBJECTS.map((object) => [object, liveRows(emu, object)] as const));
    instants.push({ at: new Date().toISOString(), label, rows, state: await orgState(emu, OBJECTS) });
    later(5);
  }

  const liveIds = (object: string) =>
    [...emu.org.dumpObject(object)].filter(([, v]) => v.IsDeleted !== 'true').map(([id]) => id);

  it('journals every change between and after two scheduled backups', async () => {
    expect((await backup(emu, dir, 'full', settings)).summary.status).toBe('complete');
    const brokers = liveIds('Broker__c').sort();
    const properties = liveIds('Property__c').sort();
    const contacts = liveIds('Contact').sort();
    let newBroker = '';
    let newProperties: string[] = [];
    let newContacts: string[] = [];

    await step('REST create of a broker', async () => {
      const r = await conn.sobject('Broker__c').create({ Name: 'Ana Ruiz, "senior"', Phone__c: '555 0101' });
      newBroker = (r as { id: string }).id;
    });
    await step('Collections insert of three properties, one under the new broker', async () => {
      newProperties = await writer.insert('Property__c', [
        { Name: 'Harbour loft', Broker__c: newBroker, Beds__c: 2, Price__c: 450_000, City__c: 'Boston' },
        { Name: 'Zoë’s cottage\ntwo lines', Broker__c: brokers[0], Beds__c: 3 },
        { Name: 'Plain house', Description__c: 'with, comma' },
      ]);
    });
    await step('REST update that sets a field and empties two', async () => {
      await conn
        .sobject('Property__c')
        .update({ Id: properties[0]!, Beds__c: 9, City__c: null, Description__c: null });
    });
    await step('Collections update of a contact and a broker', async () => {
      await writer.update('Contact', [{ Id: contacts[0]!, Title: 'VP, "Sales"', Phone: null }]);
      await writer.update('Broker__c', [{ Id: brokers[1]!, Title__c: 'Partner' }]);
    });
    await step('soft delete of a property', () => writer.softDelete([properties[1]!]));
    await step('SOAP undelete of that property', () => writer.undelete([properties[1]!]));
    await step('Bulk hard delete of two fixture properties', () =>
      writer.hardDelete('Property__c', [properties[2]!, properties[3]!]),
    );
    await step('delete of a broker, which clears its properties’ lookups', () =>
      writer.softDelete([brokers[0]!]),
    );
    await step('undelete of that broker', () => writer.undelete([brokers[0]!]));
    await step('Bulk API 2.0 update of four properties', async () => {
      const job = await conn.bulk2.loadAndWaitForResults({
        object: 'Property__c',
        operation: 'update',
        input: `Id,Status__c,Price__c\n${properties
          .slice(4, 8)
          .map((id, i) => `${id},Closed,${100_000 + i}`)
          .join('\n')}\n`,
        pollInterval: 20,
        pollTimeout: 30_000,
      });
      expect(job.failedResults).toEqual([]);
    });
    await step('Bulk API 2.0 insert of three contacts', async () => {
      const job = await conn.bulk2.loadAndWaitForResults({
        object: 'Contact',
        operation: 'insert',
        input:
          'LastName,FirstName,Email\nOkafor,Chidi,chidi@example.com\nLund,Maja,\n"Smith, Jr.",Al,al@example.com\n',
        pollInterval: 20,
        pollTimeout: 30_000,
      });
      expect(job.failedResults).toEqual([]);
      newContacts = job.successfulResults.map((r) => String(r.sf__Id));
    });
    await step('Collections delete of two contacts, one of them then purged', async () => {
      await writer.softDelete([contacts[1]!, newContacts[0]!]);
      await writer.emptyRecycleBin([newContacts[0]!]);
    });
    await step('Collections delete of two properties', () => writer.softDelete(properties.slice(8, 10)));
    await step('undelete of one of them', () => writer.undelete([properties[8]!]));
    await step('a property created and edited twice', async () => {
      const [id] = await writer.insert('Property__c', [{ Name: 'Quick flip', Beds__c: 1 }]);
      await writer.update('Property__c', [{ Id: id!, Beds__c: 2, Broker__c: newBroker }]);
      await writer.update('Property__c', [{ Id: id!, Name: 'Quick flip, sold', Status__c: 'Closed' }]);
      newProperties.push(id!);
    });
    await step('Bulk hard delete of a new contact and a new property', async () => {
      await writer.hardDelete('Contact', [newContacts[1]!]);
      await writer.hardDelete('Property__c', [newProperties[2]!]);
    });
    await continuous.deliver();
    await step('an update of a contact inserted by Bulk', () =>
      writer.update('Contact', [{ Id: newContacts[2]!, Title: 'Buyer' }]),
    );
    await step('a purge from the recycle bin (no change event)', () =>
      writer.emptyRecycleBin([properties[9]!]),
    );
    await continuous.deliver();

    later(60);
    const second = await backup(emu, dir, 'incremental', settings);
    expect(second.summary.status).toBe('complete');
    expect(second.summary.mode).toBe('incremental');

    // After the second run, the journal replays over the incremental, from its watermark less the overlap.
    await step('an update after the second backup', () =>
      writer.update('Broker__c', [{ Id: newBroker, Phone__c: null, Title__c: 'Lead broker' }]),
    );
    await step('a soft delete and a hard delete after it', async () => {
      await writer.softDelete([contacts[2]!]);
      await writer.hardDelete('Broker__c', [brokers[2]!]);
    });
    await continuous.deliver();
    expect(instants).toHaveLength(20);
  }, 300_000);

  it('replays the journal over the snapshot before each instant to exactly the org as it was then', async () => {
    const store = new LocalDirectoryStore(dir);
    const differences: string[] = [];
    for (const instant of instants) {
      for (const object of OBJECTS) {
        const found = await instantDifferences(
          store,
          object,
          instant.at,
          instant.rows.get(object)!,
          columns.get(object)!,
          instant.label,
        );
        expect(found.view.snapshotOnly, `${instant.label}: ${object}`).toBeUndefined();
        expect(found.view.uncertain.size, `${instant.label}: ${object}`).toBe(0);
        differences.push(...found.differences);
      }
    }
    expect(differences).toEqual([]);
  }, 120_000);

  it('restores each instant into an org without those rows, and the org then holds exactly that instant', async () => {
    const failures: string[] = [];
    // The journal is trusted to an instant once the queue's batching window and a minute have passed.
    later(6 * 60);
    for (const [n, instant] of instants.entries()) {
      // A fresh copy of the vault each time: the snapshots and the journal, no earlier restore's records.
      const vault = `${dir}-restore-${n}`;
      cpSync(dir, vault, { recursive: true, filter: (path) => !path.startsWith(join(dir, 'restores')) });
      const target = await startSampleOrg('dreamhouse-lwc');
      try {
        for (const object of ['Property__c', 'Contact', 'Broker__c'])
          target.org.hardDelete([...target.org.dumpObject(object).keys()]);
        const { summary } = await restore(target, vault, {
          pointInTime: instant.at,
          objects: [...OBJECTS],
          mode: 'full',
          confirmOrgId: target.orgId,
        });
        if (summary.status !== 'SUCCEEDED') {
          failures.push(`${instant.label} (${instant.at}): ${summary.status} ${summary.message}`);
          continue;
        }
        const state = await orgState(target, OBJECTS);
        for (const object of OBJECTS)
          if (JSON.stringify(state[object]) !== JSON.stringify(instant.state[object]))
            failures.push(
              `${instant.label} (${instant.at}): ${object} restored ${state[object]!.length} rows, the org had ${instant.state[object]!.length}: ${JSON.stringify(
                state[object]!.filter((r) => !instant.state[object]!.includes(r)).slice(0, 2),
              )}`,
            );
      } finally {
        await target.stop();
        if (existsSync(vault)) rmSync(vault, { recursive: true, force: true });
      }
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
