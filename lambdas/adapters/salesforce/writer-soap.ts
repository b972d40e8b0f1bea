import { XMLParser } from 'fast-xml-parser';
import type {
  DeployState,
  RetrieveState,
  RowError,
  SnapshotComponent,
  WriteResult,
} from '../../core/restore/model.ts';
import type { SalesforceHttp } from './writer-http.ts';
import { xmlEscape } from './writer-http.ts';

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });

function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

function envelope(ns: string, body: string): (session: string) => string {
  return (session) =>
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="${ns}"><soapenv:Header><urn:SessionHeader><urn:sessionId>${xmlEscape(session)}</urn:sessionId></urn:SessionHeader></soapenv:Header><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}

function bodyOf(xml: string, response: string): Record<string, unknown> {
  const doc = parser.parse(xml) as { Envelope?: { Body?: Record<string, unknown> } };
  return (doc.Envelope?.Body?.[response] ?? {}) as Record<string, unknown>;
}

/** Undeletes up to 200 ids through the SOAP API; results in the order of the ids. */
export async function undeleteIds(http: SalesforceHttp, ids: readonly string[]): Promise<WriteResult[]> {
  const body = `<urn:undelete>${ids.map((id) => `<urn:ids>${xmlEscape(id)}</urn:ids>`).join('')}</urn:undelete>`;
  const xml = await http.soap(
    `/services/Soap/u/${http.apiVersion}`,
    envelope('urn:partner.soap.sforce.com', body),
  );
  const results = asArray(bodyOf(xml, 'undeleteResponse').result as Record<string, unknown>[] | undefined);
  return results.map((r) => ({
    id: typeof r.id === 'string' && r.id !== '' ? r.id : null,
    success: r.success === 'true',
    errors: asArray(r.errors as Record<string, unknown>[] | undefined).map(
      (e): RowError => ({
        statusCode: String(e.statusCode ?? 'UNKNOWN_EXCEPTION'),
        message: String(e.message ?? ''),
        fields: asArray(e.fields as string[] | undefined).map(String),
      }),
    ),
  }));
}

/** Starts a Metadata API deploy of a zip; `checkOnly` validates without saving. */
export async function deployZip(http: SalesforceHttp, zip: Uint8Array, checkOnly: boolean): Promise<string> {
  const body = `<urn:deploy><urn:ZipFile>${Buffer.from(zip).toString('base64')}</urn:ZipFile><urn:DeployOptions><urn:checkOnly>${checkOnly}</urn:checkOnly><urn:rollbackOnError>true</urn:rollbackOnError><urn:singlePackage>true</urn:singlePackage><urn:ignoreWarnings>false</urn:ignoreWarnings></urn:DeployOptions></urn:deploy>`;
  const xml = await http.soap(
    `/services/Soap/m/${http.apiVersion}`,
    envelope('http://soap.sforce.com/2006/04/metadata', body),
  );
  const result = bodyOf(xml, 'deployResponse').result as Record<string, unknown> | undefined;
  return String(result?.id ?? '');
}

/** Reads a deploy's state, with every component failure. */
export async function checkDeployStatus(http: SalesforceHttp, id: string): Promise<DeployState> {
  const body = `<urn:checkDeployStatus><urn:asyncProcessId>${xmlEscape(id)}</urn:asyncProcessId><urn:includeDetails>true</urn:includeDetails></urn:checkDeployStatus>`;
  const xml = await http.soap(
    `/services/Soap/m/${http.apiVersion}`,
    envelope('http://soap.sforce.com/2006/04/metadata', body),
  );
  const r = (bodyOf(xml, 'checkDeployStatusResponse').result ?? {}) as Record<string, unknown>;
  const details = (r.details ?? {}) as Record<string, unknown>;
  const failures = asArray(details.componentFailures as Record<string, unknown>[] | undefined).map((f) => ({
    component: `${String(f.componentType ?? '')}:${String(f.fullName ?? '')}`,
    problem: String(f.problem ?? ''),
  }));
  if (r.errorMessage && failures.length === 0 && r.success === 'false') {
    failures.push({ component: '(deploy)', problem: String(r.errorMessage) });
  }
  return {
    id,
    done: r.done === 'true',
    success: r.success === 'true',
    failures,
    status: String(r.status ?? ''),
  };
}

/** Starts a Metadata API retrieve of the components, as one package (no `unpackaged/` folder). */
export async function retrieveComponents(
  http: SalesforceHttp,
  components: readonly SnapshotComponent[],
): Promise<string> {
  const byType = new Map<string, string[]>();
  for (const c of components) byType.set(c.type, [...(byType.get(c.type) ?? []), c.fullName]);
  const types = [...byType]
    .map(
      ([name, members]) =>
        `<urn:types>${members.map((m) => `<urn:members>${xmlEscape(m)}</urn:members>`).join('')}<urn:name>${xmlEscape(name)}</urn:name></urn:types>`,
    )
    .join('');
  const body = `<urn:retrieve><urn:request><urn:apiVersion>${http.apiVersion}</urn:apiVersion><urn:singlePackage>true</urn:singlePackage><urn:unpackaged>${types}<urn:version>${http.apiVersion}</urn:version></urn:unpackaged></urn:request></urn:retrieve>`;
  const xml = await http.soap(
    `/services/Soap/m/${http.apiVersion}`,
    envelope('http://soap.sforce.com/2006/04/metadata', body),
  );
  const result = bodyOf(xml, 'retrieveResponse').result as Record<string, unknown> | undefined;
  return String(result?.id ?? '');
}

/** Reads a retrieve's state, with its zip once done. */
export async function checkRetrieve(http: SalesforceHttp, id: string): Promise<RetrieveState> {
  const body = `<urn:checkRetrieveStatus><urn:asyncProcessId>${xmlEscape(id)}</urn:asyncProcessId><urn:includeZip>true</urn:includeZip></urn:checkRetrieveStatus>`;
  const xml = await http.soap(
    `/services/Soap/m/${http.apiVersion}`,
    envelope('http://soap.sforce.com/2006/04/metadata', body),
  );
  const r = (bodyOf(xml, 'checkRetrieveStatusResponse').result ?? {}) as Record<string, unknown>;
  return {
    id,
    done: r.done === 'true',
    success: r.success === 'true',
    ...(r.errorMessage ? { errorMessage: String(r.errorMessage) } : {}),
    ...(r.zipFile ? { zip: new Uint8Array(Buffer.from(String(r.zipFile), 'base64')) } : {}),
  };
}
