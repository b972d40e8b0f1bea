import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

// Connections are kept open between result pages, as fetch keeps its own.
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/** A connection silent this long fails the request, as fetch's own header and body timeouts do. */
export const IDLE_TIMEOUT_MS = 300_000;

/**
 * A GET whose successful answer is handed over as the bytes that came over the wire. Node's fetch
 * always decodes `Content-Encoding: gzip`, so a Bulk results page Salesforce sent compressed
 * would be decompressed only to be compressed again for the vault; this keeps it as sent. Error
 * answers are decoded, so that their text can name the error. The answer is a standard Response:
 * a cut body errors its stream, as fetch's does.
 */
export function rawGet(url: string, headers: Record<string, string>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const https = target.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const request = send(
      target,
      { method: 'GET', headers, agent: https ? agents.https : agents.http },
      (answer: IncomingMessage) => {
        try {
          resolve(responseOf(answer));
        } catch (error) {
          answer.destroy();
          reject(error);
        }
      },
    );
    request.setTimeout(IDLE_TIMEOUT_MS, () => {
      request.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`));
    });
    request.on('error', reject);
    request.end();
  });
}

/** The answer as a Response: the body as sent when it succeeded, decoded when it is an error. */
function responseOf(answer: IncomingMessage): Response {
  const status = answer.statusCode ?? 0;
  const answered = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined) answered.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  // These answers have no body, and a Response refuses one for them.
  if (status === 204 || status === 205 || status === 304) {
    answer.resume();
    return new Response(null, { status, headers: answered });
  }
  let body: Readable = answer;
  const ok = status >= 200 && status < 300;
  if (!ok && /\bgzip\b/i.test(answered.get('content-encoding') ?? '')) {
    const gunzip = createGunzip();
    answer.on('error', (error) => gunzip.destroy(error));
    body = answer.pipe(gunzip);
  }
  return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, { status, headers: answered });
}
