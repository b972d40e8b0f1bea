/**
 * A vault with three snapshots of the dreamhouse sample org and known changes between them, made
 * through the org's public APIs: S1 full; then one property's description changed, one deleted to
 * the recycle bin, one hard deleted, one inserted; S2 full; then the deleted one undeleted and the
 * changed one changed again; S3 incremental. Between S1 and S2 the metadata changes too, through
 * a Metadata API deploy: the broker layout is changed, a copy of it is added, another layout deleted.
 */
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import type { RunningEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { SalesforceWriter } from '../../lambdas/adapters/salesforce/writer.ts';
import { componentsInZips } from '../../lambdas/core/restore/metadata-zip.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
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
  /** Metadata components changed, added and removed between S1 and S2. */
  readonly metadata: { readonly changed: string; readonly added: string; readonly removed: string };
}

const LAYOUT = 'Broker__c-Broker Layout';
const COPY = 'Broker__c-Insight Layout';

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
  const removed = await changeLayouts(emu, dir, s1);
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
    metadata: { changed: `Layout:${LAYOUT}`, added: `Layout:${COPY}`, removed: `Layout:${removed}` },
  };
}

/** The dry-run input that puts the changed property's description back as it was at S1. */
export function descriptionRevert(s: Scenario): Record<string, unknown> {
  return {
    snapshot: s.s1,
    objects: ['Property__c'],
    records: [s.changed],
    fields: ['Property__c.Description__c'],
    mode: 'dry-run',
  };
}

/**
 * Deploys the broker layout changed (one more excluded button), a copy of it under a new name, and
 * deletes another layout; answers the deleted layout's name.
 */
async function changeLayouts(emu: RunningEmulator, dir: string, s1: string): Promise<string> {
  const pit = await new SnapshotReader(new LocalDirectoryStore(dir)).pointInTime('sample', s1);
  const zips = await Promise.all(pit.metadataParts().map((p) => pit.readMetadataPart(p)));
  const other = componentsInZips(zips).find((c) => c.type === 'Layout' && c.fullName !== LAYOUT);
  const path = zips
    .flatMap((z) => Object.entries(unzipSync(z)))
    .find(([p]) => p.endsWith(`layouts/${LAYOUT}.layout`));
  if (!other || !path) throw new Error('the sample org has no second layout, or no broker layout file');
  const layout = strFromU8(path[1]).replace(/(<Layout[^>]*>)/, '$1<excludeButtons>Submit</excludeButtons>');
  await deployLayouts(emu, { [LAYOUT]: layout, [COPY]: layout }, [other.fullName]);
  return other.fullName;
}

/**
 * Deploys one more change of the broker layout (another excluded button) over its version at
 * `snapshot`; answers the component's name.
 */
export async function changeBrokerLayoutAgain(
  emu: RunningEmulator,
  dir: string,
  snapshot: string,
): Promise<string> {
  const pit = await new SnapshotReader(new LocalDirectoryStore(dir)).pointInTime('sample', snapshot);
  const zips = await Promise.all(pit.metadataParts().map((p) => pit.readMetadataPart(p)));
  const path = zips
    .flatMap((z) => Object.entries(unzipSync(z)))
    .find(([p]) => p.endsWith(`layouts/${LAYOUT}.layout`));
  if (!path) throw new Error('the snapshot holds no broker layout file');
  const layout = strFromU8(path[1]).replace(/(<Layout[^>]*>)/, '$1<excludeButtons>Edit</excludeButtons>');
  await deployLayouts(emu, { [LAYOUT]: layout });
  return `Layout:${LAYOUT}`;
}

/** Deploys layouts by name (and deletes `removed`), waiting for the deploy to succeed. */
async function deployLayouts(
  emu: RunningEmulator,
  layouts: Record<string, string>,
  removed: readonly string[] = [],
): Promise<void> {
  const pkg = (members: readonly string[]): Uint8Array =>
    strToU8(
      `<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><types>${members.map((m) => `<members>${m}</members>`).join('')}<name>Layout</name></types><version>62.0</version></Package>`,
    );
  const writer = new SalesforceWriter(
    { kind: 'access-token', instanceUrl: emu.instanceUrl, accessToken: emu.accessToken },
    '62.0',
  );
  const files: Record<string, Uint8Array> = { 'package.xml': pkg(Object.keys(layouts)) };
  if (removed.length > 0) files['destructiveChanges.xml'] = pkg(removed);
  for (const [name, text] of Object.entries(layouts)) files[`layouts/${name}.layout`] = strToU8(text);
  const id = await writer.deploy(zipSync(files), false);
  for (let i = 0; i < 100; i++) {
    const state = await writer.deployStatus(id);
    if (state.done) {
      if (!state.success) throw new Error(`the layout deploy failed: ${JSON.stringify(state.failures)}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the layout deploy did not finish');
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
