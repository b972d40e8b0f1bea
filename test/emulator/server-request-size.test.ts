/**
 * Salesforce's limit on a request's URI and headers: 16,384 bytes together, answered 414 URI Too
 * Long when the URI alone is over, 431 Request Header Fields Too Large when the headers take it over
 * (Salesforce Help, article 000386264).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { raw, start } from './server-support.ts';

const V = '/services/data/v62.0';

/** A queryAll path whose request target is exactly `bytes` long. */
function pathOf(bytes: number): string {
  const head = `${V}/queryAll?q=${encodeURIComponent("SELECT Id FROM Account WHERE Name != '")}`;
  const tail = encodeURIComponent("'");
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

describe('the size of a request', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await start();
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  it('answers a query whose URI and headers fit in 16,384 bytes', async () => {
    const reply = await raw(emulator, pathOf(14_000));
    expect(reply.status).toBe(200);
  });

  it('refuses a URI over 16,384 bytes with 414 URI Too Long', async () => {
    const reply = await raw(emulator, pathOf(16_385));
    expect(reply.status).toBe(414);
    expect(reply.text).toMatch(/URI Too Long/);
    // Far over: still Salesforce's answer, not the HTTP server's own.
    expect((await raw(emulator, pathOf(130_000))).status).toBe(414);
  });

  it('refuses a URI that fits but leaves no room for the headers with 431 Request Header Fields Too Large', async () => {
    const reply = await raw(emulator, pathOf(16_000), { headers: { 'x-padding': 'p'.repeat(1_000) } });
    expect(reply.status).toBe(431);
    expect(reply.text).toMatch(/Request Header Fields Too Large/);
  });
});
