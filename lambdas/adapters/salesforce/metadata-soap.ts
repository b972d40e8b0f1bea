import { XMLParser } from 'fast-xml-parser';
import type {
  ListMetadataQuery,
  MetadataComponentInfo,
  MetadataTypeInfo,
  RetrieveStatus,
} from '../../core/salesforce.ts';
import type { SalesforceConnection } from './connection.ts';
import { translateNetworkError, translateSoapFault } from './errors.ts';

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
});

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Calls one Metadata API operation and returns its `result`, translating faults. */
async function call(connection: SalesforceConnection, operation: string, inner: string): Promise<unknown> {
  const path = `/services/Soap/m/${connection.apiVersion}`;
  const what = `Metadata API ${operation}`;
  // The session id goes in the envelope, so it is built per attempt from the current session.
  const session = await connection.current();
  const envelope =
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:met="http://soap.sforce.com/2006/04/metadata">' +
    `<soapenv:Header><met:SessionHeader><met:sessionId>${xmlEscape(session.accessToken)}</met:sessionId></met:SessionHeader></soapenv:Header>` +
    `<soapenv:Body><met:${operation}>${inner}</met:${operation}></soapenv:Body></soapenv:Envelope>`;
  const response = await connection.request(path, what, {
    method: 'POST',
    body: envelope,
    contentType: 'text/xml; charset=UTF-8',
    accept: 'text/xml',
    headers: { SOAPAction: '""' },
    idempotent: operation !== 'retrieve',
    acceptStatus: (status) => status === 500,
  });
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw translateNetworkError(error, what);
  }
  const doc = parser.parse(text) as { Envelope?: { Body?: Record<string, unknown> } };
  const body = doc.Envelope?.Body;
  if (!body) throw translateNetworkError(new Error('the answer is not a SOAP envelope'), what);
  const fault = body.Fault as { faultcode?: string; faultstring?: string } | undefined;
  if (fault) throw translateSoapFault(String(fault.faultcode ?? ''), String(fault.faultstring ?? ''), what);
  return (body[`${operation}Response`] as { result?: unknown } | undefined)?.result;
}

/** describeMetadata: every type the org knows. */
export async function describeMetadata(connection: SalesforceConnection): Promise<MetadataTypeInfo[]> {
  const result = (await call(
    connection,
    'describeMetadata',
    `<met:asOfVersion>${connection.apiVersion}</met:asOfVersion>`,
  )) as { metadataObjects?: unknown } | undefined;
  return list(result?.metadataObjects as Record<string, unknown>[] | undefined).map((t) => ({
    xmlName: String(t.xmlName),
    inFolder: String(t.inFolder) === 'true',
    directoryName: String(t.directoryName ?? ''),
    childXmlNames: list(t.childXmlNames as string[] | string | undefined).map(String),
  }));
}

/** listMetadata with at most 3 queries. */
export async function listMetadata(
  connection: SalesforceConnection,
  queries: readonly ListMetadataQuery[],
): Promise<MetadataComponentInfo[]> {
  const inner =
    queries
      .map(
        (q) =>
          `<met:queries>${q.folder ? `<met:folder>${xmlEscape(q.folder)}</met:folder>` : ''}<met:type>${xmlEscape(q.type)}</met:type></met:queries>`,
      )
      .join('') + `<met:asOfVersion>${connection.apiVersion}</met:asOfVersion>`;
  const result = await call(connection, 'listMetadata', inner);
  return list(result as Record<string, unknown>[] | Record<string, unknown> | undefined)
    .filter((c) => c && typeof c === 'object')
    .map((c) => ({ type: String(c.type), fullName: String(c.fullName) }));
}

/** retrieve: starts an unpackaged retrieve of the given members. */
export async function retrieve(
  connection: SalesforceConnection,
  members: ReadonlyMap<string, readonly string[]>,
): Promise<string> {
  const types = [...members.entries()]
    .map(
      ([name, names]) =>
        `<met:types>${names.map((n) => `<met:members>${xmlEscape(n)}</met:members>`).join('')}<met:name>${xmlEscape(name)}</met:name></met:types>`,
    )
    .join('');
  const inner =
    `<met:request><met:apiVersion>${connection.apiVersion}</met:apiVersion><met:singlePackage>true</met:singlePackage>` +
    `<met:unpackaged>${types}<met:version>${connection.apiVersion}</met:version></met:unpackaged></met:request>`;
  const result = (await call(connection, 'retrieve', inner)) as { id?: string } | undefined;
  if (!result?.id) throw translateNetworkError(new Error('retrieve returned no id'), 'Metadata API retrieve');
  return String(result.id);
}

/** checkRetrieveStatus with the zip. */
export async function checkRetrieveStatus(
  connection: SalesforceConnection,
  id: string,
): Promise<RetrieveStatus> {
  const result = (await call(
    connection,
    'checkRetrieveStatus',
    `<met:asyncProcessId>${xmlEscape(id)}</met:asyncProcessId><met:includeZip>true</met:includeZip>`,
  )) as Record<string, unknown> | undefined;
  const done = String(result?.done) === 'true';
  const status: RetrieveStatus = {
    id,
    done,
    success: String(result?.success) === 'true',
    status: String(result?.status ?? ''),
    ...(result?.errorMessage ? { errorMessage: String(result.errorMessage) } : {}),
    ...(result?.zipFile ? { zip: new Uint8Array(Buffer.from(String(result.zipFile), 'base64')) } : {}),
  };
  return status;
}
