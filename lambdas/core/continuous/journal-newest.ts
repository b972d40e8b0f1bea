/**
 * When the change-event journal was last written: the newest `writtenAt` of the batch manifests
 * under `orgs/<org>/journal/<yyyy>/<mm>/<dd>/<hh>/`. A batch is filed under the commit hour of its
 * events, not its write time, so every hour is read: a relay catching up writes into old hours.
 */
import type { BackupStore } from '../store.ts';
import { type JournalManifest, journalPrefix } from './journal.ts';

const BATCH_MANIFEST = /^\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+\.manifest\.json$/;

/** The newest batch's `writtenAt` (ISO instant), or null when the journal holds no batch. */
export async function newestJournalWrite(store: BackupStore, org: string): Promise<string | null> {
  const prefix = journalPrefix(org);
  let newest: string | null = null;
  for await (const entry of store.list(prefix)) {
    if (!BATCH_MANIFEST.test(entry.key.slice(prefix.length))) continue;
    const manifest = JSON.parse(new TextDecoder().decode(await store.get(entry.key))) as JournalManifest;
    if (newest === null || Date.parse(manifest.writtenAt) > Date.parse(newest)) newest = manifest.writtenAt;
  }
  return newest;
}
