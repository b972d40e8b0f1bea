import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OrgUnreachableError, orgKeyOf } from '../../cli/commands/options.ts';
import { translateNetworkError } from '../../lambdas/adapters/salesforce/errors.ts';
import { FetchTransport, TransportFailure } from '../../lambdas/adapters/salesforce/transport.ts';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

/** A plain-http server on a free local port; `answer` false accepts connections and never answers. */
async function listen(answer: boolean): Promise<number> {
  const server = createServer((_request, response) => {
    if (answer) response.end('{}');
  });
  server.on('connection', (socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

/** A local port nothing listens on: a server's, once closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

async function failureOf(url: string, timeoutMs?: number): Promise<Error> {
  const error = await orgKeyOf(url, 'token', timeoutMs !== undefined ? { timeoutMs } : {}).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error).toBeInstanceOf(OrgUnreachableError);
  return error as Error;
}

describe('an org that cannot be reached', () => {
  it('names the URL and a refused connection, and says to check that the org or emulator runs', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { message } = await failureOf(url);
    expect(message).toContain(url);
    expect(message).toContain('connection refused');
    expect(message).toMatch(/emulator is running/);
    expect(message).not.toContain('fetch failed');
  });

  it('names a DNS name that does not resolve, and says to check the spelling and the network', async () => {
    const { message } = await failureOf('https://no-such-org.invalid');
    expect(message).toContain('https://no-such-org.invalid');
    expect(message).toContain('DNS name not found');
    expect(message).toMatch(/spelling.*proxy or VPN/);
  });

  it('names a TLS problem when https meets a plain-http server, and says to check http vs https and the certificate', async () => {
    const port = await listen(true);
    const { message } = await failureOf(`https://127.0.0.1:${port}`);
    expect(message).toContain(`https://127.0.0.1:${port}`);
    expect(message).toContain('TLS/certificate problem');
    expect(message).toMatch(/use http:\/\/.*NODE_EXTRA_CA_CERTS/);
  });

  it('gives up on a server that never answers after the timeout, and names it', async () => {
    const port = await listen(false);
    const started = Date.now();
    const { message } = await failureOf(`http://127.0.0.1:${port}`, 300);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(message).toContain(`http://127.0.0.1:${port}`);
    expect(message).toContain('no answer within 0.3 s (timeout)');
    expect(message).toMatch(/firewall, proxy or VPN/);
  });

  it("tells the same in the handlers' errors, through the Salesforce adapter's translation", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/services/data/v62.0/limits`;
    const error = await fetch(url).then(
      () => undefined,
      (e: unknown) => e,
    );
    const translated = translateNetworkError(error, 'GET /limits', url);
    expect(translated.name).toBe('SalesforceTransientError');
    expect(translated.message).toContain('connection refused');
    expect(translated.message).toContain(new URL(url).origin);
  });
});

describe('an org that answered but whose answer was cut', () => {
  it('is not reported as unreachable: the message says the answer was cut, with its status', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"partial":');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    servers.push(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/data/v62.0/limits`;
    const answer = new FetchTransport().httpRequest({ method: 'GET', url, headers: {} });
    const error = (await answer.then(
      () => undefined,
      (e: Error) => e,
    )) as Error;
    expect(error).toBeInstanceOf(TransportFailure);
    expect(error.message).toContain('(HTTP 200) was cut while it was read');
    expect(error.message).not.toMatch(/could not reach|emulator is running|VPN/i);
  });
});
