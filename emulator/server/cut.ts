import type { ServerResponse } from 'node:http';

function toBuffer(chunk: unknown, encoding?: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') {
    return Buffer.from(chunk, (typeof encoding === 'string' ? encoding : 'utf8') as BufferEncoding);
  }
  return Buffer.from(chunk as Uint8Array);
}

/**
 * Makes the response die mid-body: after `bytes` bytes of body (or just before the last byte,
 * for a shorter body) the socket is destroyed, as a dropped connection would.
 */
export function cutAfter(res: ServerResponse, bytes: number): void {
  let sent = 0;
  let cut = false;
  const write = res.write.bind(res) as (chunk: Buffer, cb?: () => void) => boolean;
  const cutWith = (part: Buffer) => {
    cut = true;
    const destroy = () => res.socket?.destroy();
    if (!res.headersSent) res.flushHeaders();
    if (part.length > 0) write(part, () => setImmediate(destroy));
    else setImmediate(destroy);
  };
  res.write = ((chunk: unknown, encoding?: unknown, cb?: unknown) => {
    if (cut) return false;
    const buf = toBuffer(chunk, encoding);
    if (sent + buf.length >= bytes) {
      cutWith(buf.subarray(0, Math.max(0, bytes - sent)));
      return false;
    }
    sent += buf.length;
    const callback =
      typeof cb === 'function'
        ? (cb as () => void)
        : typeof encoding === 'function'
          ? (encoding as () => void)
          : undefined;
    return write(buf, callback);
  }) as ServerResponse['write'];
  res.end = ((chunk?: unknown, encoding?: unknown) => {
    if (cut) return res;
    const buf =
      chunk === undefined || typeof chunk === 'function' ? Buffer.alloc(0) : toBuffer(chunk, encoding);
    cutWith(buf.subarray(0, Math.max(0, Math.min(buf.length - 1, bytes - sent))));
    return res;
  }) as ServerResponse['end'];
}
