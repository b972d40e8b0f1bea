/** A small vault for the ui's unit tests: full snapshots of one org's accounts, written as a backup writes them. */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { csvHeader, csvLine } from '../../lambdas/core/snapshot/csv.ts';
import { partKey } from '../../lambdas/core/snapshot/keys.ts';
import type { SnapshotManifest } from '../../lambdas/core/snapshot/manifest.ts';
import { recordSnapshotOutcome, writeManifest } from '../../lambdas/core/snapshot/writer.ts';
import type { MemoryStore } from '../backup/memory-store.ts';

/** The org key of the test vault. */
export const ORG = 'acme';
/** Its org id, as Salesforce prints it. */
export const ORG_ID = '00D000000000001AAA';
const FIELDS = ['Id', 'Name', 'IsDeleted', 'SystemModstamp'];

/** An account id numbered `n`. */
export const accountId = (n: number): string => `001${String(n).padStart(12, '0')}AAA`;

/** An account row. */
export const account = (n: number, name = `Account ${n}`, deleted = false): Record<string, string> => ({
  Id: accountId(n),
  Name: name,
  IsDeleted: String(deleted),
  SystemModstamp: '2026-01-01T00:00:00.000Z',
});

/** Writes a complete full snapshot `id` holding `rows` of Account, finished at `finishedAt`. */
export async function fullSnapshot(
  store: MemoryStore,
  id: string,
  finishedAt: string,
  rows: readonly Record<string, string>[],
): Promise<void> {
  const body = gzipSync(csvHeader(FIELDS) + rows.map((r) => csvLine(FIELDS, r)).join(''));
  const key = partKey(ORG, id, 'Account', 1, 'a1');
  await store.put(key, body);
  const manifest: SnapshotManifest = {
    formatVersion: 1,
    snapshotId: id,
    runId: `run-${id}`,
    org: ORG,
    orgId: ORG_ID,
    apiVersion: '62.0',
    mode: 'full',
    requestedMode: 'full',
    baseSnapshotId: null,
    startedAt: finishedAt,
    finishedAt,
    watermark: finishedAt,
    overlapSeconds: 0,
    objects: [
      {
        name: 'Account',
        status: 'exported',
        api: 'bulk',
        fields: FIELDS.map((name) => ({ name, type: name === 'Id' ? 'id' : 'string', inCsv: true })),
        rows: rows.length,
        deletedRows: rows.filter((r) => r.IsDeleted === 'true').length,
        bytes: body.length,
        parts: [
          {
            key,
            rows: rows.length,
            bytes: body.length,
            sha256: createHash('sha256').update(body).digest('hex'),
          },
        ],
        since: null,
        watermark: finishedAt,
        apiCalls: 1,
      },
    ],
    skippedObjects: [],
    files: [],
    metadata: { included: false, components: 0, parts: [] },
    apiCalls: { total: 1, plan: 0, export: 1, files: 0, metadata: 0, finish: 0 },
    errors: [],
  };
  const written = await writeManifest(store, manifest);
  await recordSnapshotOutcome(store, manifest, {
    manifestKey: written.key,
    manifestSha256: written.sha256,
    problems: [],
  });
}
