import { describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, restoreFiles } from '../../lambdas/core/restore/files.ts';
import { restoreRoot } from '../../lambdas/core/restore/keys.ts';
import { FakeOrg, FakeSnapshot, MemoryStore } from './fakes.ts';
import { BROKER, ORG_NAME } from './scenario.ts';

describe('file bodies a restore uploads', () => {
  it('refuses a file larger than one upload takes before reading it, naming it, and uploads the rest', async () => {
    const org = new FakeOrg([BROKER]);
    const read: string[] = [];
    const file = (versionId: string, bytes: number) => ({
      versionId,
      contentDocumentId: null,
      title: versionId,
      pathOnClient: `${versionId}.bin`,
      linkedEntityIds: [],
      bytes,
      read: async () => {
        read.push(versionId);
        return new Uint8Array(Math.min(bytes, 16));
      },
    });
    const big = '068000000000001AAA';
    const small = '068000000000002AAA';
    const snapshot = new FakeSnapshot('20260101T000000Z-abcdef', org.orgId, '2026-01-01T00:00:00.000Z', {}, [
      file(big, MAX_FILE_BYTES + 1),
      file(small, 16),
    ]);
    const entry = (versionId: string) => ({
      versionId,
      contentDocumentId: null,
      action: 'insert' as const,
      title: versionId,
      linkedEntityId: null,
    });
    const outcome = await restoreFiles({
      org,
      store: new MemoryStore(),
      snapshot,
      root: restoreRoot(ORG_NAME, org.orgId),
      runId: 'run-files',
      userId: '005000000000001AAA',
      plan: { entries: [entry(big), entry(small)], present: 0 },
      danglingReferences: [],
    });
    expect(read).toEqual([small]);
    expect(outcome.restored).toBe(1);
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0]?.versionId).toBe(big);
    expect(outcome.failures[0]?.errors[0]?.statusCode).toBe('FILE_TOO_LARGE');
    expect(outcome.failures[0]?.errors[0]?.message).toMatch(/MB.*at most/);
  });
});
