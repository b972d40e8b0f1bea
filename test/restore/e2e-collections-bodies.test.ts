import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import {
  BYTES_PER_REQUEST,
  collectionCalls,
  requestBytes,
  SalesforceWriter,
} from '../../lambdas/adapters/salesforce/writer.ts';

async function collectionsCalls(emu: RunningEmulator): Promise<number> {
  const counts = (await (await fetch(`${emu.instanceUrl}/__emulator/counts`)).json()) as {
    byEndpoint: Record<string, number>;
  };
  return counts.byEndpoint.collections ?? 0;
}

describe('inserting rows that carry bodies through sObject Collections', () => {
  it('sends at most 200 rows, and at most 37.5 MB of JSON, a call; a row over it alone', () => {
    expect(BYTES_PER_REQUEST).toBe(37_500_000);
    const row = (bytes: number) => ({ Name: 'a', Body: 'A'.repeat(bytes) });
    const third = Math.floor(BYTES_PER_REQUEST / 3) - 100;
    const cuts = (rows: { Body?: string }[]) =>
      collectionCalls('Attachment', rows).map((c) => c.map((r) => String(r.Body ?? '').length));
    expect(
      collectionCalls(
        'Account',
        Array.from({ length: 450 }, () => ({ Name: 'x' })),
      ).map((c) => c.length),
    ).toEqual([200, 200, 50]);
    expect(cuts([row(third), row(third), row(third), row(third)])).toEqual([[third, third, third], [third]]);
    expect(cuts([row(10), row(BYTES_PER_REQUEST), row(10)])).toEqual([[10], [BYTES_PER_REQUEST], [10]]);
    expect(collectionCalls('Attachment', [])).toEqual([]);
  });

  it('counts a row by the bytes of its JSON, a body by its length and any other text as escaped', () => {
    const rows: Record<string, string | number | boolean | null>[] = [
      { Name: 'plain', Body: Buffer.alloc(100_000, 7).toString('base64') },
      { Name: 'é "quoted"\n', Description: `${'line "one"\n\t\u0001 ü '.repeat(2_000)}` },
      { Name: 'not base64', Body: `${'AB'.repeat(3_000)}é` },
      { Name: 'short', Body: 'QUJD', Count: 3, Flag: true, Empty: null },
    ];
    for (const row of rows)
      expect(requestBytes('Attachment', row)).toBe(
        Buffer.byteLength(JSON.stringify({ attributes: { type: 'Attachment' }, ...row })),
      );
  });

  describe('against the emulator', () => {
    let emu: RunningEmulator;
    let writer: SalesforceWriter;
    let parent: string;
    beforeAll(async () => {
      emu = await startEmulator({ port: 0 });
      writer = new SalesforceWriter(
        { kind: 'access-token', instanceUrl: emu.instanceUrl, accessToken: emu.accessToken },
        '62.0',
      );
      parent = emu.org.insert('Account', { Name: 'Bodies' });
    });
    afterAll(async () => emu?.stop());

    const bodyOf = async (id: string) => {
      const res = await fetch(`${emu.instanceUrl}/services/data/v62.0/sobjects/Attachment/${id}/Body`, {
        headers: { authorization: `Bearer ${emu.accessToken}` },
      });
      return Buffer.from(await res.arrayBuffer());
    };

    it('inserts attachments whose bodies together pass one request in several calls, each body whole', async () => {
      const bytes = 12 * 1024 * 1024;
      const bodies = [1, 2, 3, 4].map((n) => Buffer.alloc(bytes, n));
      const before = await collectionsCalls(emu);
      const results = await writer.create(
        'Attachment',
        bodies.map((b, i) => ({ ParentId: parent, Name: `body-${i}.bin`, Body: b.toString('base64') })),
      );
      // 16.8 MB of base64 each: two fit in a call, not three.
      expect(await collectionsCalls(emu)).toBe(before + 2);
      expect(results.map((r) => r.success)).toEqual([true, true, true, true]);
      for (const [i, r] of results.entries()) expect((await bodyOf(r.id!)).equals(bodies[i]!)).toBe(true);
    }, 120_000);

    it('is refused whole, as Salesforce refuses it, when one call carries more than 50 MiB of JSON', async () => {
      const count = async () =>
        (await (await fetch(`${emu.instanceUrl}/__emulator/counts`)).json()) as {
          rowsWritten: { inserted: number };
        };
      const before = (await count()).rowsWritten.inserted;
      const records = [1, 2, 3, 4].map((n, i) => ({
        attributes: { type: 'Attachment' },
        ParentId: parent,
        Name: `together-${i}.bin`,
        Body: Buffer.alloc(10_000_000, n).toString('base64'),
      }));
      const body = JSON.stringify({ allOrNone: false, records });
      expect(Buffer.byteLength(body)).toBeGreaterThan(52_428_800);
      const res = await fetch(`${emu.instanceUrl}/services/data/v62.0/composite/sobjects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${emu.accessToken}`, 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual([
        {
          errorCode: 'JSON_PARSER_ERROR',
          message:
            '; nested exception is: \n\tcommon.exception.ApiException: Maximum size of request reached. Maximum size of request is 52428800 bytes.',
        },
      ]);
      expect((await count()).rowsWritten.inserted).toBe(before);
      // The bound is on the request's bytes: exactly 52,428,800 of them are taken, one more is not.
      const sized = (bytes: number) => {
        // 200 attachments of some 260 KB each, their bodies padded to the exact size.
        const rows = (pad: (i: number) => number) =>
          Array.from({ length: 200 }, (_, i) => ({
            ...records[0]!,
            Name: `sized-${i}.bin`,
            Body: 'A'.repeat(pad(i)),
          }));
        const shell = Buffer.byteLength(JSON.stringify({ allOrNone: false, records: rows(() => 0) }));
        const each = Math.floor((bytes - shell) / 200);
        const body = JSON.stringify({
          allOrNone: false,
          records: rows((i) => each + (i === 0 ? bytes - shell - each * 200 : 0)),
        });
        expect(Buffer.byteLength(body)).toBe(bytes);
        return fetch(`${emu.instanceUrl}/services/data/v62.0/composite/sobjects`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.accessToken}`, 'content-type': 'application/json' },
          body,
        });
      };
      expect((await sized(52_428_801)).status).toBe(400);
      expect((await count()).rowsWritten.inserted).toBe(before);
      expect((await sized(52_428_800)).status).toBe(200);
      expect((await count()).rowsWritten.inserted).toBe(before + 200);
    }, 120_000);

    it('fails a row too large for any request alone, without sending it, and inserts the rows beside it', async () => {
      const small = Buffer.from('small body');
      const before = await collectionsCalls(emu);
      const results = await writer.create('Attachment', [
        { ParentId: parent, Name: 'before.txt', Body: small.toString('base64') },
        { ParentId: parent, Name: 'huge.bin', Body: 'A'.repeat(BYTES_PER_REQUEST) },
        { ParentId: parent, Name: 'after.txt', Body: small.toString('base64') },
      ]);
      expect(await collectionsCalls(emu)).toBe(before + 2);
      expect(results.map((r) => r.success)).toEqual([true, false, true]);
      expect(results[1]!.errors[0]).toMatchObject({ statusCode: 'FILE_TOO_LARGE' });
      expect(results[1]!.errors[0]!.message).toMatch(
        /takes at most 37500000 in a request that is not multipart/,
      );
      for (const i of [0, 2]) expect((await bodyOf(results[i]!.id!)).equals(small)).toBe(true);
    }, 120_000);
  });
});
