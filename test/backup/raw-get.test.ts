import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { rawGet } from '../../lambdas/adapters/salesforce/raw-get.ts';

describe('a GET whose answer is kept as sent', () => {
  let server: Server | undefined;
  // Kept-alive connections would hold the server open.
  const stop = (s: Server) =>
    new Promise((resolve) => {
      s.close(resolve);
      s.closeAllConnections();
    });
  afterEach(async () => {
    if (server) await stop(server);
    server = undefined;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('hands over a compressed answer compressed, with its headers, and sends the headers given', async () => {
    const csv = '"Id"\n"a1"\n';
    let asked: string | undefined;
    const url = await serve((req, res) => {
      asked = req.headers['accept-encoding'];
      res.writeHead(200, { 'content-encoding': 'gzip', 'sforce-numberofrecords': '1' });
      res.end(gzipSync(csv));
    });
    const answer = await rawGet(`${url}/results`, { 'accept-encoding': 'gzip' });
    expect(asked).toBe('gzip');
    expect(answer.headers.get('content-encoding')).toBe('gzip');
    expect(answer.headers.get('sforce-numberofrecords')).toBe('1');
    const body = Buffer.from(await answer.arrayBuffer());
    expect(gunzipSync(body).toString()).toBe(csv);
  });

  it('decodes a compressed error answer, so that its text can name the error', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(400, { 'content-encoding': 'gzip', 'content-type': 'application/json' });
      res.end(gzipSync('[{"errorCode":"INVALIDJOB","message":"no"}]'));
    });
    const answer = await rawGet(`${url}/results`, {});
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('INVALIDJOB');
  });

  it('fails the body of an answer cut mid-way', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(10));
      setTimeout(() => res.destroy(), 20);
    });
    const answer = await rawGet(`${url}/results`, {});
    await expect(answer.arrayBuffer()).rejects.toThrow();
  });

  it('refuses a connection that cannot be made', async () => {
    const url = await serve((_req, res) => res.end());
    await stop(server!);
    server = undefined;
    await expect(rawGet(`${url}/results`, {})).rejects.toThrow(/ECONNREFUSED/);
  });
});
