import { ApiError } from './errors.ts';

/** One part of a multipart/form-data body. */
export interface FormPart {
  readonly name: string;
  readonly contentType: string | undefined;
  readonly data: Buffer;
}

/** Splits a multipart/form-data body (RFC 7578) into its parts. */
export function parseMultipart(contentType: string, body: Buffer): FormPart[] {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary)
    throw new ApiError(400, 'MALFORMED_REQUEST', 'multipart/form-data without a boundary parameter.');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    let partStart = start + delimiter.length;
    if (body[partStart] === 0x2d && body[partStart + 1] === 0x2d) break;
    if (body[partStart] === 0x0d) partStart += 2;
    else if (body[partStart] === 0x0a) partStart += 1;
    const next = body.indexOf(delimiter, partStart);
    if (next < 0) break;
    let partEnd = next;
    if (body[partEnd - 1] === 0x0a) partEnd--;
    if (body[partEnd - 1] === 0x0d) partEnd--;
    const part = body.subarray(partStart, partEnd);
    let headerEnd = part.indexOf('\r\n\r\n');
    let skip = 4;
    if (headerEnd < 0) {
      headerEnd = part.indexOf('\n\n');
      skip = 2;
    }
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const name = /content-disposition:[^\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
      const type = /content-type:\s*([^\r\n;]+)/i.exec(headers)?.[1]?.trim();
      if (name !== undefined) parts.push({ name, contentType: type, data: part.subarray(headerEnd + skip) });
    }
    start = next;
  }
  return parts;
}
