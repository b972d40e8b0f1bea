import type { IncomingMessage } from 'node:http';
import { ApiError, errors } from './errors.ts';

/** Largest request body read at all (Bulk ingest allows 150 MB per upload); larger ones get 413. */
const MAX_BODY_BYTES = 160 * 1024 * 1024;

/** Reads a whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError(
        413,
        'REQUEST_ENTITY_TOO_LARGE',
        `The request body exceeds ${MAX_BODY_BYTES} bytes.`,
      );
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Largest JSON request body Salesforce takes (50 MiB). Over it, a REST call is refused whole with
 * `JSON_PARSER_ERROR` and the message below, as reported for an sObject Collections call
 * (SalesforceMobileSDK-iOS#3575) and ContentVersion inserts (SFDX-Data-Move-Utility#321, #569).
 * Salesforce documents the bound as 50 MB of text or 37.5 MB of base64 in a request that is not
 * multipart. (A body over MAX_BODY_BYTES is cut off before, with 413.)
 */
export const MAX_JSON_BODY_BYTES = 52_428_800;

/** Parses the JSON body of a call to Salesforce's APIs, refused whole over their size. */
export function parseApiJson(body: Buffer): unknown {
  if (body.length > MAX_JSON_BODY_BYTES)
    throw errors.badJson(
      `; nested exception is: \n\tcommon.exception.ApiException: Maximum size of request reached. Maximum size of request is ${MAX_JSON_BODY_BYTES} bytes.`,
    );
  return parseJson(body);
}

/** Parses a JSON body, answering Salesforce's JSON_PARSER_ERROR on bad input. */
export function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') throw errors.badJson('The request body is empty; send a JSON document.');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw errors.badJson(`Unexpected JSON in the request body: ${(error as Error).message}`);
  }
}

/** True for a plain JSON object (not an array or null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
