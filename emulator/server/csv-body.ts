/**
 * A streamed CSV answer, gzip-compressed when the client asks for it. Salesforce compresses Bulk
 * API 2.0 results when the request's `Accept-Encoding` lists gzip ("Use Compression for Bulk API
 * 2.0 Query Responses", "Use Compression for Bulk API 2.0 Ingest Responses").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Gzip, createGzip } from 'node:zlib';

/** The gzip levels zlib accepts: 0 (stored, no compression) to 9 (smallest). */
export const GZIP_LEVELS = { min: 0, max: 9 } as const;

/** The level used when none is configured: fast, and most of the size saving of higher levels. */
export const DEFAULT_GZIP_LEVEL = 1;

/** Whether `level` is a gzip level zlib accepts. */
export function isGzipLevel(level: number): boolean {
  return Number.isInteger(level) && level >= GZIP_LEVELS.min && level <= GZIP_LEVELS.max;
}

/**
 * Whether an `Accept-Encoding` header accepts gzip: one of its comma-separated codings is `gzip`
 * (any case) with no q-value or a q-value above 0. `*` is not taken as gzip: Salesforce compresses
 * only when gzip is named.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const part of text.split(',')) {
    const [coding, ...params] = part.split(';').map((s) => s.trim());
    if (coding?.toLowerCase() !== 'gzip') continue;
    const q = params.find((p) => /^q\s*=/i.test(p));
    if (q === undefined) return true;
    const weight = Number(q.slice(q.indexOf('=') + 1).trim());
    return Number.isFinite(weight) && weight > 0;
  }
  return false;
}

/** Resolves when `emitter` emits any of `events` (the listeners are removed then). */
function firstOf(emitter: NodeJS.EventEmitter, events: readonly string[]): Promise<void> {
  return firstOfEach([[emitter, events]]);
}

/**
 * Resolves on the first of several emitters' events; every listener is removed then, so waits
 * repeated for each chunk of a long body leave none behind.
 */
function firstOfEach(waits: readonly (readonly [NodeJS.EventEmitter, readonly string[]])[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const [emitter, events] of waits) for (const e of events) emitter.off(e, done);
      resolve();
    };
    for (const [emitter, events] of waits) for (const e of events) emitter.on(e, done);
  });
}

function gone(res: ServerResponse): boolean {
  return res.destroyed || res.closed;
}

/** Where a handler writes a CSV body; every write waits while the client is slower than the server. */
export interface CsvBody {
  /** Writes a chunk; false once the response is gone (the client left, or a cut fault fired). */
  write(chunk: Buffer): Promise<boolean>;
  /** Writes the last chunk and resolves when the response has ended or is gone. */
  end(chunk: Buffer): Promise<void>;
  /** Whether the body is gzip-compressed. */
  readonly compressed: boolean;
  /** Bytes of body handed to the connection so far (compressed bytes when compressed). */
  readonly bytesSent: number;
}

class PlainBody implements CsvBody {
  readonly compressed = false;
  bytesSent = 0;
  constructor(private readonly res: ServerResponse) {}

  async write(chunk: Buffer): Promise<boolean> {
    if (gone(this.res)) return false;
    this.bytesSent += chunk.length;
    if (!this.res.write(chunk) && !gone(this.res)) await firstOf(this.res, ['drain', 'close']);
    return !gone(this.res);
  }

  async end(chunk: Buffer): Promise<void> {
    if (gone(this.res)) return;
    this.bytesSent += chunk.length;
    this.res.end(chunk);
  }
}

class GzipBody implements CsvBody {
  readonly compressed = true;
  bytesSent = 0;
  private readonly gzip: Gzip;

  constructor(
    private readonly res: ServerResponse,
    level: number,
  ) {
    this.gzip = createGzip({ level });
    this.gzip.on('data', (chunk: Buffer) => {
      this.bytesSent += chunk.length;
    });
    // pipe() waits for the response's `drain` before reading more from the compressor, so a slow
    // client holds the compressor back, and a full compressor holds back write() below.
    this.gzip.pipe(res);
    this.gzip.on('error', (error) => res.destroy(error));
    res.on('close', () => this.gzip.destroy());
  }

  async write(chunk: Buffer): Promise<boolean> {
    if (gone(this.res)) return false;
    if (!this.gzip.write(chunk) && !gone(this.res)) {
      await firstOfEach([
        [this.gzip, ['drain', 'close']],
        [this.res, ['close']],
      ]);
    }
    return !gone(this.res);
  }

  async end(chunk: Buffer): Promise<void> {
    if (gone(this.res)) return;
    const ended = firstOf(this.res, ['finish', 'close']);
    this.gzip.end(chunk);
    await ended;
  }
}

/**
 * Starts a 200 CSV answer with `headers`, compressed with gzip at `level` when the request's
 * `Accept-Encoding` accepts gzip (then `Content-Encoding: gzip` is added), and answers the body
 * to write it through. `Vary: Accept-Encoding` is sent either way, since the encoding depends on it.
 */
export function startCsvBody(
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
  level: number,
): CsvBody {
  const gzip = acceptsGzip(req.headers['accept-encoding']);
  res.writeHead(200, {
    'content-type': 'text/csv',
    vary: 'Accept-Encoding',
    ...headers,
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  return gzip ? new GzipBody(res, level) : new PlainBody(res);
}
