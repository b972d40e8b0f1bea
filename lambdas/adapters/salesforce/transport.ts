import { AsyncLocalStorage } from 'node:async_hooks';
import { Duplex, PassThrough, Readable } from 'node:stream';
import { Transport } from 'jsforce/lib/transport.js';
import { ErrorName } from '../../../contract/workflow-contract.ts';
import type { HttpRequest, HttpResponse } from 'jsforce/lib/types/common.js';
import { StreamPromise } from 'jsforce/lib/util/promise.js';
import { SalesforceRequestError } from '../../core/salesforce.ts';
import { describeUnreachable } from './unreachable.ts';

/** What a transport reports of each request it sends. */
export interface TransportHooks {
  /** Called once per HTTP request, retries and requests after a session refresh included. */
  readonly onRequest?: () => void;
  /** Called with each answer's status and body. */
  readonly onAnswer?: (status: number, body: string) => void;
}

/**
 * A request that failed below HTTP: refused, reset, or its answer cut. Its own class, so that only
 * these failures are read as worth repeating, and not every error jsforce raises without a code.
 */
export class TransportFailure extends Error {
  override readonly name = ErrorName.TransportFailure;
}

/**
 * An answer passed the most its call may hold. jsforce reads every answer whole (a Metadata API
 * retrieve comes as one base64 zip inside SOAP), so the transport stops reading there instead.
 */
export class SalesforceAnswerTooLargeError extends SalesforceRequestError {
  override readonly name: string = ErrorName.SalesforceAnswerTooLarge;
}

const answerLimit = new AsyncLocalStorage<{ bytes: number; what: string }>();

/** Runs `run` with every answer its requests read limited to `bytes`; past that, the call fails. */
export function withAnswerLimit<T>(bytes: number, what: string, run: () => Promise<T>): Promise<T> {
  return answerLimit.run({ bytes, what }, run);
}

/**
 * The HTTP transport under every jsforce call, in place of jsforce's own for two reasons.
 * jsforce's transport (3.10.26, `lib/request.js`) pipes the answer with `Readable.fromWeb(...).pipe()`,
 * which does not forward errors: a connection cut mid-body throws an uncaught `TypeError: terminated`
 * and ends the process instead of failing the call. It also repeats a GET, PUT or DELETE answered
 * 429, 500, 502, 503 or 504 (420 twice at most), or failed by a reset or refused connection, itself:
 * up to 5 times, 500 ms doubling to 8 s apart (15.5 s), handing back only the last answer, so
 * requests Salesforce counts against the daily allowance go uncounted and the workflow's own retry
 * and backoff are bypassed. Both are shown in test/backup/jsforce-shortfalls.test.ts.
 * This one reads the whole answer with Node's fetch, fails the call on a cut body, never repeats,
 * and records the last status, which jsforce's errors do not carry.
 */
export class FetchTransport extends Transport {
  /** Status of the last answer, undefined before one arrived. */
  status: number | undefined;

  constructor(private readonly hooks: TransportHooks = {}) {
    super();
  }

  override httpRequest(request: HttpRequest): StreamPromise<HttpResponse> {
    return StreamPromise.create(() => {
      // As in jsforce's own transport, a POST, PUT or PATCH without a body takes what the caller
      // writes into the stream (bulk2 pipes its CSV upload so); the answer is read from the stream.
      const upload = new PassThrough();
      const answer = new PassThrough();
      const stream = Duplex.from({ writable: upload, readable: answer });
      const given = request.body !== undefined && request.body !== null;
      const body = !given && /^(post|put|patch)$/i.test(request.method) ? readAll(upload) : undefined;
      const promise = Promise.resolve(body)
        .then((piped) => {
          // jsforce resends the same request object after renewing a session, and nothing writes
          // into the resend's stream: the collected body stays on the request for it.
          if (piped !== undefined) request.body = piped;
          return this.send(request, piped);
        })
        .then((response) => {
          // jsforce hands back the parsed body; the stream is read only by callers of `.stream()`
          // (record blobs, Bulk query results). Its bytes are made from the body as it is read, not
          // copied whole into a buffer that nobody may read.
          bodyStream(response.body).pipe(answer);
          return response;
        });
      // Nobody may read the stream; its error must not be unhandled.
      stream.on('error', () => undefined);
      return { stream, promise };
    });
  }

  private async send(request: HttpRequest, piped: Buffer | undefined): Promise<HttpResponse> {
    this.hooks.onRequest?.();
    // jsforce sets content-length from the string's length, not its bytes; fetch computes it.
    const { 'content-length': _length, ...headers } = request.headers ?? {};
    const sent = piped ?? request.body;
    let response: Response;
    let body: string;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers,
        ...(sent !== undefined && sent !== null ? { body: sent as string | Buffer | URLSearchParams } : {}),
      });
    } catch (error) {
      // No answer at all: the message says why the org could not be reached and what to check.
      throw new TransportFailure(describeUnreachable(request.url, error) ?? causeOf(error), { cause: error });
    }
    try {
      const limit = answerLimit.getStore();
      body = limit ? await readLimited(response, limit) : await response.text();
    } catch (error) {
      if (error instanceof SalesforceAnswerTooLargeError) throw error;
      // The org answered and the body was cut on the way: not a reachability problem.
      throw new TransportFailure(
        `The answer of ${new URL(request.url).origin} (HTTP ${response.status}) was cut while it was read: ${causeOf(error)}`,
        { cause: error },
      );
    }
    this.status = response.status;
    this.hooks.onAnswer?.(response.status, body);
    return { statusCode: response.status, headers: Object.fromEntries(response.headers), body };
  }
}

/** The lowest-level message of a failed request, for a failure that is not the org's to name. */
function causeOf(error: unknown): string {
  const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : '';
  return cause || 'the request failed';
}

/** An answer's text, read a chunk at a time and abandoned once it passes the limit. */
async function readLimited(response: Response, limit: { bytes: number; what: string }): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = response.body?.getReader();
  if (!reader) return '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > limit.bytes) {
      await reader.cancel().catch(() => undefined);
      throw new SalesforceAnswerTooLargeError(
        `${limit.what}: the answer passed ${limit.bytes} bytes, the most this call may hold; it was not read further.`,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const CHUNK_CHARS = 16_384;

/** A body's UTF-8 bytes, encoded a slice at a time as they are read. */
function bodyStream(body: string): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= body.length) {
        this.push(null);
        return;
      }
      let end = Math.min(at + CHUNK_CHARS, body.length);
      // Never split a surrogate pair across slices: each half alone would encode as U+FFFD.
      const last = body.charCodeAt(end - 1);
      if (end < body.length && last >= 0xd800 && last <= 0xdbff) end--;
      this.push(Buffer.from(body.slice(at, end)));
      at = end;
    },
  });
}

/** Everything written into a stream until its end. */
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer | string));
  return Buffer.concat(chunks);
}
