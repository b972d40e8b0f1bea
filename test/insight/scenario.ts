/**
 * A vault with three snapshots of the dreamhouse sample org and known changes between them, made
 * through the org's public APIs: S1 full; then one property's description changed, one deleted to
 * the recycle bin, one hard deleted, one inserted; S2 full; then the deleted one undeleted and the
 * changed one changed again; S3 incremental.
 */
import type { RunningEmulator } from '../../emulator/index.ts';
import { backup, freshStoreDir, nextSecond, startSampleOrg } from '../backup/e2e-support.ts';
import { OrgWriter } from '../support/org-writer.ts';
import { liveIds } from '../../cli/commands/demo-org.ts';

/** The vault, its snapshots and the rows the scenario changed. */
export interface Scenario {
  readonly emu: RunningEmulator;
  readonly dir: string;
  readonly s1: string;
  readonly s2: string;
  readonly s3: string;
  /** Description changed before S2 and again before S3. */
  readonly changed: string;
  /** Deleted to the recycle bin before S2, undeleted before S3. */
  readonly binned: string;
  /** Hard deleted before S2. */
  readonly hardDeleted: string;
  /** Inserted before S2. */
  readonly inserted: string;
  /** The description before and after each change. */
  readonly descriptions: readonly [string, string, string];
}

/** Builds the scenario; the caller stops `emu`. */
export async function buildScenario(): Promise<Scenario> {
  const emu = await startSampleOrg('dreamhouse-lwc');
  const dir = freshStoreDir();
  const writer = new OrgWriter(emu);
  const s1 = await snapshot(emu, dir, 'full');
  const [changed, binned, hardDeleted] = (await liveIds(emu, 'Property__c')).sort();
  if (!changed || !binned || !hardDeleted) throw new Error('the sample org has fewer than 3 properties');
  const before = await description(emu, changed);
  await nextSecond();
  await writer.update('Property__c', [{ Id: changed, Description__c: 'Roof, "new", and\nwindows' }]);
  await writer.softDelete([binned]);
  await writer.hardDelete('Property__c', [hardDeleted]);
  const [inserted] = await writer.insert('Property__c', [{ Name: 'Insight Test House', Price__c: 1 }]);
  const s2 = await snapshot(emu, dir, 'full');
  await nextSecond();
  await writer.undelete([binned]);
  await writer.update('Property__c', [{ Id: changed, Description__c: 'Third version' }]);
  await nextSecond();
  const s3 = await snapshot(emu, dir, 'incremental');
  return {
    emu,
    dir,
    s1,
    s2,
    s3,
    changed,
    binned,
    hardDeleted,
    inserted: inserted!,
    descriptions: [before, 'Roof, "new", and\nwindows', 'Third version'],
  };
}

async function snapshot(emu: RunningEmulator, dir: string, mode: 'full' | 'incremental'): Promise<string> {
  const { summary } = await backup(emu, dir, mode);
  if (!summary.snapshotId || summary.status !== 'complete') throw new Error(`the ${mode} backup failed`);
  return summary.snapshotId;
}

async function description(emu: RunningEmulator, id: string): Promise<string> {
  const response = await fetch(
    `${emu.instanceUrl}/services/data/v62.0/sobjects/Property__c/${id}?fields=Description__c`,
    { headers: { authorization: `Bearer ${emu.accessToken}` } },
  );
  const row = (await response.json()) as { Description__c?: string | null };
  return row.Description__c ?? '';
}
