import type { IncomingMessage } from 'node:http';

/**
 * Salesforce's limit on one request: its URI and headers together take at most 16,384 bytes. Over
 * it, the answer is 414 URI Too Long when the URI alone is over, else 431 Request Header Fields Too
 * Large (Salesforce Help, "Maximum number of rows returned by SOQL queries over the REST API",
 * article 000386264, which names the statuses and no body: the emulator answers the reason phrase).
 */
export const MAX_URI_AND_HEADERS = 16_384;

/** The status and text Salesforce refuses a request of this size with, or undefined when it fits. */
export function requestSizeRefusal(req: IncomingMessage): { status: 414 | 431; text: string } | undefined {
  const uri = Buffer.byteLength(req.url ?? '');
  if (uri > MAX_URI_AND_HEADERS) return { status: 414, text: 'URI Too Long' };
  let headers = 0;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    // `Name: value` and its line end.
    headers += Buffer.byteLength(req.rawHeaders[i]!) + 2 + Buffer.byteLength(req.rawHeaders[i + 1]!) + 2;
  }
  if (uri + headers > MAX_URI_AND_HEADERS) return { status: 431, text: 'Request Header Fields Too Large' };
  return undefined;
}
