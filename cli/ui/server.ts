/**
 * The ui server: the page's static files and a JSON API over one org of the vault, on 127.0.0.1.
 * It reads the vault only; the one way it writes to an org is the restore runner, which takes a
 * real run only after a dry run of the same input and the org id typed to confirm it.
 */
import { displayOrg } from '../../contract/org-id.ts';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  diffSnapshots,
  InvalidInsightRequestError,
  listSnapshots,
  checkSnapshotId,
  parseSelector,
  planFromDiff,
  planFromHistory,
  recordHistory,
  type SnapshotDiff,
} from '../../lambdas/core/insight/index.ts';
import { SnapshotNotFoundError, SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { MAX_RECORD_IDS } from '../../lambdas/core/restore/input.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
import { checkOrigin, checkToken, newToken } from './guard.ts';
import { LruCache } from './lru.ts';
import { type ObjectCount, objectCounts, searchRecords, UnknownFieldError } from './queries.ts';
import type { RestoreRunner } from './restore-runner.ts';

/** Where the ui server reads and what it may run. */
export interface UiServerOptions {
  readonly store: BackupStore;
  /** The org key in the vault. */
  readonly org: string;
  /** Runs dry runs and confirmed restores; absent when the ui was started without an org connection. */
  readonly restore?: RestoreRunner;
  /** @default 0 (an open port) */
  readonly port?: number;
  /** @default - a new random token */
  readonly token?: string;
  /** Receives one line per request: method, path without its query, status, duration. @default - none */
  readonly log?: (line: string) => void;
}

/** A started ui server. */
export interface RunningUi {
  /** The page's URL with the launch token, to print or open. */
  readonly url: string;
  /** The origin alone, without the token. */
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  /** The org key browsed. */
  readonly org: string;
  readonly server: Server;
  stop(): Promise<void>;
}

/** A request the API cannot answer as asked; the message says what to send instead. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

const STATIC_DIR = join(import.meta.dirname, 'static');
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

// Only the page's own files run: no inline script, nothing from another origin, no framing.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
};

const MAX_BODY = 512 * 1024;

/**
 * Diffs kept for the plans built from them. A diff holds up to MAX_RECORD_IDS ids per kind and
 * object, so only the last few are kept.
 */
const DIFFS_KEPT = 4;

type Handler = (
  body: Record<string, unknown>,
  query: URLSearchParams,
  signal: AbortSignal,
) => Promise<unknown>;

/** Starts the ui server on 127.0.0.1 and resolves once it listens. */
export async function startUiServer(options: UiServerOptions): Promise<RunningUi> {
  const token = options.token ?? newToken();
  const reader = new SnapshotReader(options.store);
  const { org } = options;
  const counts = new Map<string, Promise<ObjectCount[]>>();
  const diffs = new LruCache<string, Promise<SnapshotDiff>>(DIFFS_KEPT);
  // A diff reads both sides in full, so the last few are kept for the plans built from them. They
  // are keyed by the snapshots the selectors resolve to now: "latest" moves when a backup finishes.
  // Its samples hold as many ids as a restore input takes, so that every diff the page shows can
  // be planned.
  const diff = async (a: unknown, b: unknown): Promise<SnapshotDiff> => {
    const textA = requireText(a, 'a');
    const textB = requireText(b, 'b');
    const [idA, idB] = await Promise.all([resolveSelector(textA), resolveSelector(textB)]);
    const key = `${idA}\n${idB}`;
    let found = diffs.get(key);
    if (!found) {
      found = diffSnapshots(options.store, org, idA, idB, { sampleLimit: MAX_RECORD_IDS });
      diffs.set(key, found);
      const settled = found;
      settled.catch(() => diffs.deleteIf(key, settled));
    }
    const result = await found;
    // Each side says how this request named it; the snapshots are the same.
    return { ...result, a: { ...result.a, selector: textA }, b: { ...result.b, selector: textB } };
  };
  /**
   * The snapshot id a selector names now: the newer of the data snapshot and the metadata one it
   * resolves to (a metadata-only run after the data), which resolves to the same two again.
   */
  const resolveSelector = async (text: string): Promise<string> => {
    // A mistyped id is answered with the ids there are and the nearest one, as sfbackup diff does.
    checkSnapshotId(text, await reader.catalog(org), org, options.store.location);
    const pit = await reader.pointInTime(org, parseSelector(text));
    const data = pit.target.snapshotId;
    const metadata = pit.metadataSnapshot?.snapshotId;
    return metadata !== undefined && metadata > data ? metadata : data;
  };
  const history = (body: Record<string, unknown>) =>
    recordHistory(options.store, org, requireText(body.object, 'object'), requireText(body.id, 'id'));
  const pointInTime = (snapshot: unknown) => reader.pointInTime(org, requireText(snapshot, 'snapshot'));

  const routes: Record<string, Handler> = {
    'GET /api/session': async () => {
      const latest = await reader.latestComplete(org);
      // The org as every command prints it: an org id in Salesforce's casing, or the config name.
      return {
        org: displayOrg(org),
        orgId: latest?.orgId ?? null,
        connected: options.restore !== undefined,
      };
    },
    'GET /api/timeline': async () => listSnapshots(options.store, org),
    'GET /api/objects': async (_body, query) => {
      const pit = await pointInTime(query.get('snapshot'));
      const id = pit.target.snapshotId;
      // Snapshots never change once written, so a count is read once per launch.
      if (!counts.has(id)) counts.set(id, objectCounts(pit));
      return { snapshotId: id, objects: await counts.get(id)! };
    },
    'POST /api/search': async (body, _query, signal) => {
      const pit = await pointInTime(body.snapshot);
      const field =
        body.field === undefined || body.field === '' ? undefined : requireText(body.field, 'field');
      return searchRecords(pit, requireText(body.object, 'object'), {
        text: typeof body.text === 'string' ? body.text : '',
        ...(field ? { field } : {}),
        signal,
      });
    },
    'POST /api/history': history,
    'POST /api/diff': async (body) => diff(body.a, body.b),
    'POST /api/plan/diff': async (body) => ({
      input: planFromDiff(await diff(body.a, body.b), {
        ...(body.kind === 'deleted' || body.kind === 'changed' ? { kind: body.kind } : {}),
        ...(body.objects !== undefined ? { objects: requireTexts(body.objects, 'objects') } : {}),
        ...(body.fields !== undefined ? { fields: requireTexts(body.fields, 'fields') } : {}),
        ...(body.ids !== undefined ? { ids: requireTexts(body.ids, 'ids') } : {}),
      }),
    }),
    'POST /api/plan/history': async (body) => ({
      input: planFromHistory(await history(body), {
        to: requireText(body.to, 'to'),
        ...(body.fields !== undefined ? { fields: requireTexts(body.fields, 'fields') } : {}),
      }),
    }),
    'POST /api/restore/dry-run': async (body) => runner().dryRun(body.input, body.realMode),
    'POST /api/restore/run': async (body) =>
      runner().run(requireText(body.dryRunId, 'dryRunId'), requireText(body.confirmOrgId, 'confirmOrgId')),
  };

  function runner(): RestoreRunner {
    if (!options.restore) {
      throw new BadRequestError(
        'This ui was started without an org connection: start it with --instance-url and --access-token to run a dry run here, or run `sfbackup restore --input FILE` with the input.',
      );
    }
    return options.restore;
  }

  let port = options.port ?? 0;
  const server = createServer((request, response) => {
    const started = Date.now();
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    // The path alone is logged: a query string may carry what was searched for.
    response.on('finish', () =>
      options.log?.(`${request.method} ${path} ${response.statusCode} ${Date.now() - started}ms`),
    );
    serve(request, response, path).catch((error: unknown) => {
      sendJson(response, 500, { error: `The server failed: ${(error as Error).name}` });
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const refused = checkOrigin(request, port);
    if (refused) return sendJson(response, refused.status, { error: refused.message });
    // Browsers ask for an icon on their own; the page has none.
    if (path === '/favicon.ico') {
      response.writeHead(204, SECURITY_HEADERS);
      response.end();
      return;
    }
    const file = request.method === 'GET' ? STATIC[path] : undefined;
    if (file) {
      response.writeHead(200, { 'content-type': file.type, ...SECURITY_HEADERS });
      response.end(readFileSync(join(STATIC_DIR, file.file)));
      return;
    }
    if (!path.startsWith('/api/')) return sendJson(response, 404, { error: `Nothing is served at ${path}.` });
    const unauthorized = checkToken(request, token);
    if (unauthorized) return sendJson(response, unauthorized.status, { error: unauthorized.message });
    const handler = routes[`${request.method} ${path}`];
    if (!handler) return sendJson(response, 404, { error: `No API ${request.method} ${path}.` });
    // The response closes before it is finished when the page stops waiting (the browser aborted
    // the fetch or the tab went away): a query reading the vault for it then stops. The request's
    // own 'close' is no sign of that: it fires once its body has been read.
    const gone = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) gone.abort();
    });
    try {
      const body = request.method === 'POST' ? await readJsonBody(request) : {};
      const query = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams;
      sendJson(response, 200, await handler(body, query, gone.signal));
    } catch (error) {
      if (gone.signal.aborted) return;
      const known =
        error instanceof BadRequestError ||
        error instanceof SnapshotNotFoundError ||
        error instanceof UnknownFieldError ||
        error instanceof InvalidInsightRequestError ||
        (error as Error).name === 'InvalidRestoreRequestError';
      sendJson(response, known ? 400 : 500, {
        error: known
          ? (error as Error).message
          : `The server failed (${(error as Error).name}): ${(error as Error).message}`,
      });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    org,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
  response.end(JSON.stringify(value));
}

async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new BadRequestError('Send the request body as JSON (content-type: application/json).');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BadRequestError(`The request body is larger than ${MAX_BODY} bytes.`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new BadRequestError('The request body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestError('The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

/** The value as a list of non-empty strings, or a BadRequestError naming the parameter. */
function requireTexts(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) throw new BadRequestError(`${name} must be a list of strings.`);
  return value.map((v, i) => requireText(v, `${name}[${i}]`));
}

/** The value as a non-empty string, or a BadRequestError naming the parameter. */
export function requireText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BadRequestError(`${name} is required: give it as a non-empty string.`);
  }
  return value.trim();
}
