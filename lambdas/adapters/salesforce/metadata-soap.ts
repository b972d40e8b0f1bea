import type { RetrieveRequest } from 'jsforce/lib/api/metadata/schema.js';
import type {
  ListMetadataQuery,
  MetadataComponentInfo,
  MetadataTypeInfo,
  RetrieveStatus,
} from '../../core/salesforce.ts';
import type { SalesforceConnection } from './connection.ts';
import { translateNetworkError } from './errors.ts';

/** describeMetadata: every type the org knows. */
export async function describeMetadata(connection: SalesforceConnection): Promise<MetadataTypeInfo[]> {
  const result = await connection.api(
    'Metadata API describeMetadata',
    (conn) => conn.metadata.describe(connection.apiVersion),
    { idempotent: true },
  );
  return (result.metadataObjects ?? []).map((t) => ({
    xmlName: t.xmlName,
    inFolder: t.inFolder,
    directoryName: t.directoryName ?? '',
    childXmlNames: t.childXmlNames ?? [],
  }));
}

/** listMetadata with at most 3 queries. */
export async function listMetadata(
  connection: SalesforceConnection,
  queries: readonly ListMetadataQuery[],
): Promise<MetadataComponentInfo[]> {
  const result = await connection.api(
    'Metadata API listMetadata',
    (conn) =>
      conn.metadata.list(
        queries.map((q) => ({ ...(q.folder ? { folder: q.folder } : {}), type: q.type })),
        connection.apiVersion,
      ),
    { idempotent: true },
  );
  return result.map((c) => ({ type: c.type, fullName: c.fullName }));
}

/** retrieve: starts an unpackaged retrieve of the given members. */
export async function retrieve(
  connection: SalesforceConnection,
  members: ReadonlyMap<string, readonly string[]>,
): Promise<string> {
  const what = 'Metadata API retrieve';
  const types = [...members.entries()].map(([name, names]) => ({ members: [...names], name }));
  const result = await connection.api(
    what,
    async (conn) => await conn.metadata.retrieve(retrieveRequest(conn, types)),
  );
  if (!result.id) throw translateNetworkError(new Error('retrieve returned no id'), what);
  return result.id;
}

/**
 * The most a checkRetrieveStatus answer may hold by default: the base64 of the backup's default
 * bound on a retrieve zip (64 MiB, `maxRetrieveZipBytes`), and room for the envelope. jsforce reads the answer
 * whole, so the transport stops reading past it and the core splits the retrieve.
 */
export const RETRIEVE_ANSWER_LIMIT_BYTES = retrieveAnswerLimit(64 * 1024 * 1024);

/** The most a checkRetrieveStatus answer carrying a zip of `zipBytes` may hold: its base64 and 1 MiB of envelope. */
export function retrieveAnswerLimit(zipBytes: number): number {
  return Math.ceil(zipBytes / 3) * 4 + 1024 * 1024;
}

/** checkRetrieveStatus with the zip. */
export async function checkRetrieveStatus(
  connection: SalesforceConnection,
  id: string,
  maxAnswerBytes = RETRIEVE_ANSWER_LIMIT_BYTES,
): Promise<RetrieveStatus> {
  const result = await connection.api(
    'Metadata API checkRetrieveStatus',
    (conn) => conn.metadata.checkRetrieveStatus(id),
    { idempotent: true, maxAnswerBytes },
  );
  return {
    id,
    done: result.done,
    success: result.success,
    status: result.status ?? '',
    ...(result.errorMessage ? { errorMessage: result.errorMessage } : {}),
    ...(result.zipFile ? { zip: new Uint8Array(Buffer.from(result.zipFile, 'base64')) } : {}),
  };
}

/** The unpackaged, single-package retrieve request of the given types, at the connection's version. */
export function retrieveRequest(
  conn: { version: string },
  types: readonly { members: string[]; name: string }[],
): Partial<RetrieveRequest> {
  // jsforce types apiVersion as a number; Salesforce reads it as a decimal, which 62.0 stays as text.
  return {
    apiVersion: conn.version as unknown as number,
    singlePackage: true,
    unpackaged: { types: [...types], version: conn.version } as never,
  };
}
