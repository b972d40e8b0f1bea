import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { OrgApi } from '../org/api.ts';
import { BulkJobs } from './bulk-jobs.ts';
import type { EmulatorClock } from './clock.ts';
import type { EmulatorContext, MetadataSoapHandler, OAuthSettings } from './context.ts';
import { FaultInjector, type FaultSpec } from './faults.ts';
import { handleRequest } from './pipeline.ts';
import { QueryLocators } from './query-locators.ts';
import { Sessions } from './sessions.ts';
import type { TlsMaterial } from './tls.ts';
import { ApiUsage } from './usage.ts';

/** What the HTTP server needs to serve an org. */
export interface EmulatorServerProps {
  readonly org: OrgApi;
  readonly clock: EmulatorClock;
  /** Supported API versions, oldest first (`['31.0', ..., '62.0']`). */
  readonly versions: readonly string[];
  readonly dailyApiRequests: number;
  readonly bulkPageSize: number;
  /** zlib level (0..9) of Bulk results sent gzip-compressed. */
  readonly gzipLevel: number;
  readonly faults: FaultSpec;
  readonly metadata: MetadataSoapHandler | undefined;
  readonly oauth: Omit<OAuthSettings, 'audiences'>;
  /** @default - plain http */
  readonly tls?: TlsMaterial;
}

/** A listening emulator server. */
export interface EmulatorServer {
  readonly ctx: EmulatorContext;
  readonly instanceUrl: string;
  close(): Promise<void>;
}

/** Starts the HTTP(S) server on 127.0.0.1 (port 0: a free port). */
export async function listenEmulator(
  props: EmulatorServerProps,
  port: number,
  host = '127.0.0.1',
): Promise<EmulatorServer> {
  const faults = new FaultInjector();
  faults.set(props.faults);
  const oauth = {
    ...props.oauth,
    audiences: ['https://login.salesforce.com', 'https://test.salesforce.com'],
  };
  const ctx: EmulatorContext = {
    org: props.org,
    instanceUrl: '',
    versions: props.versions,
    sessions: new Sessions(props.org.info.orgId),
    usage: new ApiUsage(props.dailyApiRequests, () => props.clock.now()),
    faults,
    bulk: new BulkJobs(),
    locators: new QueryLocators(props.org),
    metadata: props.metadata,
    oauth,
    clock: props.clock,
  };
  ctx.bulk.defaultPageSize = props.bulkPageSize;
  ctx.bulk.gzipLevel = props.gzipLevel;
  const listener = (req: Parameters<typeof handleRequest>[1], res: Parameters<typeof handleRequest>[2]) => {
    void handleRequest(ctx, req, res);
  };
  // Node's HTTP parser answers 431 itself past 16 KiB of request line and headers; it is given more
  // room so that the request reaches the pipeline, which answers as Salesforce does (request-size.ts).
  const maxHeaderSize = 256 * 1024;
  const server: Server = props.tls
    ? createHttpsServer({ key: props.tls.privateKey, cert: props.tls.certificate, maxHeaderSize }, listener)
    : createHttpServer({ maxHeaderSize }, listener);
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const instanceUrl = `${props.tls ? 'https' : 'http'}://${host}:${address.port}`;
  ctx.instanceUrl = instanceUrl;
  oauth.audiences.push(instanceUrl);
  return {
    ctx,
    instanceUrl,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      }),
  };
}
