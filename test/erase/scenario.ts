/**
 * A vault with five snapshots of the dreamhouse sample org in which one person, a Contact, changes:
 * S1 full; her phone changed, S2 incremental; her e-mail changed, S3 incremental; she is deleted to
 * the recycle bin, S4 incremental; she is hard deleted, S5 incremental. Another contact shares
 * nothing with her and must survive every erasure. Two records that are not hers copied her values
 * before S1: a property's description names her, her phone and her e-mail in another case, and a
 * broker's mobile phone is her phone.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { createStore } from '../../lambdas/adapters/create-store.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { liveIds } from '../../cli/commands/demo-org.ts';
import { runLocalBackup } from '../../cli/commands/backup.ts';
import { freshStoreDir, nextSecond, startSampleOrg, TEST_SETTINGS } from '../backup/e2e-support.ts';
import { OrgWriter } from '../support/org-writer.ts';

/** The vault, its snapshots and the person the scenario changes. */
export interface ErasureScenario {
  readonly emu: RunningEmulator;
  /** The vault directory, or the bucket's spec when the vault is on S3. */
  readonly dir: string;
  readonly snapshots: readonly string[];
  /** The org id its snapshots record: what a confirmed erasure names. */
  readonly orgId: string;
  /** The person's Contact id (18 characters). */
  readonly person: string;
  /** Her e-mail addresses and phone numbers over time: values no vault version may hold after erasure. */
  readonly values: readonly string[];
  /** Her first e-mail address, as the sample data holds it. */
  readonly email: string;
  /** A contact the erasure must leave alone. */
  readonly other: string;
  /** A property whose description copied her name, phone and e-mail. */
  readonly property: string;
  /** A broker whose mobile phone is her first phone number. */
  readonly broker: string;
}

/** The property's description, as written before S1, and as an erasure leaves it. */
export const COPIED_DESCRIPTION =
  'Viewing booked by Leslie  Martin; call (617) 555-0112 or write to LESLIE@pentagon.com.';
export const BLANKED_DESCRIPTION = 'Viewing booked by [erased]; call [erased] or write to [erased].';

/**
 * Builds the scenario's org and vault (a fresh directory, or `s3`: a bucket on an S3-compatible
 * server); the caller stops `emu`.
 */
export async function buildErasureScenario(s3?: {
  readonly bucket: string;
  readonly endpoint: string;
}): Promise<ErasureScenario> {
  const emu = await startSampleOrg('dreamhouse-lwc');
  try {
    return await populate(emu, s3);
  } catch (error) {
    await emu.stop();
    throw error;
  }
}

/** The scenario's changes and backups, in the running sample org. */
async function populate(
  emu: RunningEmulator,
  s3: { readonly bucket: string; readonly endpoint: string } | undefined,
): Promise<ErasureScenario> {
  const dir = s3 ? `s3://${s3.bucket}` : freshStoreDir();
  const writer = new OrgWriter(emu);
  const snapshots: string[] = [];
  const take = async (mode: 'full' | 'incremental') => {
    const { summary } = await runLocalBackup({
      instanceUrl: emu.instanceUrl,
      accessToken: emu.accessToken,
      store: s3 ? { s3 } : dir,
      mode,
      org: 'sample',
      settings: TEST_SETTINGS,
      retryIntervalScale: 0,
    });
    if (summary.status !== 'complete') throw new Error(`backup ${mode} ended ${summary.status}`);
    snapshots.push(String(summary.snapshotId));
    await nextSecond();
  };
  const [person] = await liveIds(emu, 'Contact', "Email = 'leslie@pentagon.com'");
  const [other] = await liveIds(emu, 'Contact', "Email = 'bholmes@goodmail.com'");
  const [property] = await liveIds(emu, 'Property__c', "Name = 'Stunning Victorian'");
  const [broker] = await liveIds(emu, 'Broker__c', "Name = 'Caroline Kingsley'");
  if (!person || !other || !property || !broker) throw new Error('the sample org lacks its records');
  await writer.update('Property__c', [{ Id: property, Description__c: COPIED_DESCRIPTION }]);
  await writer.update('Broker__c', [{ Id: broker, Mobile_Phone__c: '617-555-0112' }]);
  await take('full');
  await writer.update('Contact', [{ Id: person, Phone: '617-555-0199' }]);
  await take('incremental');
  await writer.update('Contact', [{ Id: person, Email: 'Leslie.Martin@Erasable.example' }]);
  await take('incremental');
  await writer.softDelete([person]);
  await take('incremental');
  await writer.hardDelete('Contact', [person]);
  await take('incremental');
  const store = createStore(s3 ? { s3 } : dir);
  const orgId = (await new SnapshotReader(store).catalog('sample'))[0]?.orgId;
  if (!orgId) throw new Error('the scenario vault has no catalog entry');
  return {
    emu,
    dir,
    snapshots,
    orgId,
    person,
    values: [
      'leslie@pentagon.com',
      '617-555-0112',
      '(617) 555-0112',
      '617-555-0199',
      'Leslie.Martin@Erasable.example',
      'Leslie  Martin',
    ],
    email: 'leslie@pentagon.com',
    other,
    property,
    broker,
  };
}

/**
 * The scenario, built before the calling describe's tests, its org stopped after them. The object
 * answered is filled in by that set-up: read its fields inside the tests.
 */
export function erasureScenario(): ErasureScenario {
  const sc = {} as ErasureScenario;
  beforeAll(async () => {
    Object.assign(sc, await buildErasureScenario());
  }, 300_000);
  afterAll(async () => sc.emu?.stop());
  return sc;
}

/** A copy of the scenario's vault directory, so that each test erases from the same five snapshots. */
export function copyOfVault(sc: ErasureScenario, namePrefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), namePrefix));
  cpSync(sc.dir, dir, { recursive: true });
  return dir;
}

/** A confirmed erasure of her by her first e-mail address. */
export const eraseHerByEmail = (sc: ErasureScenario) => ({
  object: 'Contact',
  where: { Email: sc.email },
  requestedBy: 'dpo@example.com',
  mode: 'erase',
  confirmOrgId: sc.orgId,
});

/** A confirmed erasure of her by her id. */
export const eraseHerById = (sc: ErasureScenario, requestedBy = 'dpo@example.com') => ({
  ids: [sc.person],
  requestedBy,
  mode: 'erase',
  confirmOrgId: sc.orgId,
});
