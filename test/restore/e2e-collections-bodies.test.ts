import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import {
  BASE64_PER_REQUEST,
  collectionCalls,
  SalesforceWriter,
} from '../../lambdas/adapters/salesforce/writer.ts';

async function collectionsCalls(emu: RunningEmulator): Promise<number> {
  const counts = (await (await fetch(`${emu.instanceUrl}/__emulator/counts`)).json()) as {
    byEndpoint: Record<string, number>;
  };
  return counts.byEndpoint.collections ?? 0;
}

describe('inserting rows that carry bodies through sObject Collections', () => {
  it('sends at most 200 rows, and at most 37.5 MB of base64, a call; a body over it alone', () => {
    const row = (bytes: number) => ({ Name: 'a', Body: 'A'.repeat(bytes) });
    const third = Math.floor(BASE64_PER_REQUEST / 3);
    expect(collectionCalls(Array.from({ length: 450 }, () => ({ Name: 'x' }))).map((c) => c.length)).toEqual([
      200, 200, 50,
    ]);
    expect(collectionCalls([row(third), row(third), row(third), row(third)]).map((c) => c.length)).toEqual([
      3, 1,
    ]);
    expect(
      collectionCalls([row(10), row(BASE64_PER_REQUEST + 1), row(10)]).map((c) =>
        c.map((r) => String(r.Body).length),
      ),
    ).toEqual([[10], [BASE64_PER_REQUEST + 1], [10]]);
  });

  describe('against the emulator', () => {
    let emu: RunningEmulator;
    beforeAll(async () => {
      emu = await startEmulator({ port: 0 });
    });
    afterAll(async () => emu?.stop());

    it('inserts attachments whose bodies together pass one request in several calls, each body whole', async () => {
      const parent = emu.org.insert('Account', { Name: 'Bodies' });
      const bytes = 12 * 1024 * 1024;
      const bodies = [1, 2, 3, 4].map((n) => Buffer.alloc(bytes, n));
      const writer = new SalesforceWriter(
        { kind: 'access-token', instanceUrl: emu.instanceUrl, accessToken: emu.accessToken },
        '62.0',
      );
      const before = await collectionsCalls(emu);
      const results = await writer.create(
        'Attachment',
        bodies.map((b, i) => ({ ParentId: parent, Name: `body-${i}.bin`, Body: b.toString('base64') })),
      );
      // 16 MB of base64 each: two fit in a call, not three.
      expect(await collectionsCalls(emu)).toBe(before + 2);
      expect(results.map((r) => r.success)).toEqual([true, true, true, true]);
      for (const [i, r] of results.entries()) {
        const res = await fetch(`${emu.instanceUrl}/services/data/v62.0/sobjects/Attachment/${r.id}/Body`, {
          headers: { authorization: `Bearer ${emu.accessToken}` },
        });
        expect(Buffer.from(await res.arrayBuffer()).equals(bodies[i]!)).toBe(true);
      }
    }, 120_000);
  });
});
