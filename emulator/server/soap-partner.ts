import { XMLParser } from 'fast-xml-parser';
import type { WriteResult } from '../org/api.ts';
import type { EmulatorContext, Handler, Reply } from './context.ts';
import { ApiError, errors } from './errors.ts';
import { replicationDate } from './replication.ts';
import { soapEnvelope, soapSessionId, xmlEscape } from './soap-xml.ts';

const PARTNER_NS = 'urn:partner.soap.sforce.com';
const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });

/** Checks a SOAP request's SessionHeader against the issued tokens. */
export function requireSoapSession(ctx: EmulatorContext, xml: string): void {
  const sessionId = soapSessionId(xml);
  if (!sessionId || !ctx.sessions.find(sessionId)) throw errors.invalidSession();
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function resultXml(result: WriteResult): string {
  const errorsXml = result.errors
    .map(
      (e) =>
        `<errors>${e.fields.map((f) => `<fields>${xmlEscape(f)}</fields>`).join('')}<message>${xmlEscape(e.message)}</message><statusCode>${xmlEscape(e.errorCode)}</statusCode></errors>`,
    )
    .join('');
  const id = result.id ? `<id>${xmlEscape(result.id)}</id>` : '<id xsi:nil="true"/>';
  return `<result>${errorsXml}${id}<success>${result.success}</success></result>`;
}

function ids(operation: Record<string, unknown>): string[] {
  return asArray(operation.ids).map(String);
}

/** The object and window of a getDeleted / getUpdated call. */
function replicationArgs(
  ctx: EmulatorContext,
  input: Record<string, unknown>,
): { objectName: string; start: Date; end: Date } {
  const objectName = String(input.sObjectType ?? '').trim();
  if (objectName === '') {
    throw new ApiError(500, 'INVALID_TYPE', 'sObjectType is required: the name of the object to replicate.');
  }
  if (!ctx.org.findObject(objectName)) {
    throw new ApiError(500, 'INVALID_TYPE', `sObject type '${objectName}' is not supported.`);
  }
  const date = (name: 'startDate' | 'endDate'): Date => {
    const value = input[name];
    const parsed = typeof value === 'string' ? replicationDate(value) : undefined;
    if (!parsed) {
      throw new ApiError(
        500,
        'INVALID_REPLICATION_DATE',
        `${name} is missing or not an xsd:dateTime: ${value === undefined ? '(none)' : String(value)}`,
      );
    }
    return parsed;
  };
  return { objectName, start: date('startDate'), end: date('endDate') };
}

function getDeletedXml(ctx: EmulatorContext, input: Record<string, unknown>): string {
  const { objectName, start, end } = replicationArgs(ctx, input);
  const result = ctx.org.getDeleted(objectName, start, end);
  const records = result.deletedRecords
    .map(
      (r) =>
        `<deletedRecords><deletedDate>${r.deletedDate.toISOString()}</deletedDate><id>${r.id}</id></deletedRecords>`,
    )
    .join('');
  return (
    `<result>${records}<earliestDateAvailable>${result.earliestDateAvailable.toISOString()}</earliestDateAvailable>` +
    `<latestDateCovered>${result.latestDateCovered.toISOString()}</latestDateCovered></result>`
  );
}

function getUpdatedXml(ctx: EmulatorContext, input: Record<string, unknown>): string {
  const { objectName, start, end } = replicationArgs(ctx, input);
  const result = ctx.org.getUpdated(objectName, start, end);
  const idsXml = result.ids.map((id) => `<ids>${id}</ids>`).join('');
  return `<result>${idsXml}<latestDateCovered>${result.latestDateCovered.toISOString()}</latestDateCovered></result>`;
}

/** The partner `login` call: username and password (plus security token) for a session. */
function login(ctx: EmulatorContext, input: Record<string, unknown>, version: string): Reply {
  const { org } = ctx;
  const username = String(input.username ?? '');
  const password = String(input.password ?? '');
  if (
    ctx.oauth.password === undefined ||
    password !== ctx.oauth.password ||
    username.toLowerCase() !== org.user.username.toLowerCase()
  ) {
    throw new ApiError(
      500,
      'INVALID_LOGIN',
      'Invalid username, password, security token; or user locked out.',
    );
  }
  const session = ctx.sessions.issue(org.now().getTime());
  const base = ctx.instanceUrl;
  const result =
    `<result><metadataServerUrl>${base}/services/Soap/m/${version}/${org.info.orgId}</metadataServerUrl>` +
    '<passwordExpired>false</passwordExpired>' +
    `<sandbox>${org.info.isSandbox}</sandbox>` +
    `<serverUrl>${base}/services/Soap/u/${version}/${org.info.orgId}</serverUrl>` +
    `<sessionId>${xmlEscape(session.token)}</sessionId>` +
    `<userId>${org.user.id}</userId>` +
    `<userInfo><organizationId>${org.info.orgId}</organizationId><organizationName>${xmlEscape(org.info.name)}</organizationName>` +
    `<userEmail>${xmlEscape(org.user.email)}</userEmail><userFullName>${xmlEscape(org.user.name)}</userFullName>` +
    `<userId>${org.user.id}</userId><userName>${xmlEscape(org.user.username)}</userName></userInfo></result>`;
  return {
    status: 200,
    text: soapEnvelope(PARTNER_NS, `<loginResponse>${result}</loginResponse>`),
    headers: { 'content-type': 'text/xml;charset=UTF-8' },
  };
}

/** POST /services/Soap/u/XX.X: the partner API calls a restore needs. */
export const partnerSoap: Handler = async (ctx, req) => {
  const xml = (await req.body()).toString('utf8');
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch (error) {
    throw new ApiError(500, 'INVALID_XML', `The SOAP request is not valid XML: ${(error as Error).message}`);
  }
  const envelope = doc.Envelope as Record<string, unknown> | undefined;
  const body = envelope?.Body as Record<string, unknown> | undefined;
  const [operation, args] = Object.entries(body ?? {})[0] ?? [];
  if (!operation) throw new ApiError(500, 'INVALID_XML', 'The SOAP request has no operation in its Body.');
  const input = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
  if (operation === 'login') return login(ctx, input, req.version);
  requireSoapSession(ctx, xml);
  let inner: string;
  switch (operation) {
    case 'undelete':
      inner = ctx.org.undelete(ids(input)).map(resultXml).join('');
      break;
    case 'emptyRecycleBin':
      inner = ctx.org.emptyRecycleBin(ids(input)).map(resultXml).join('');
      break;
    case 'delete':
      inner = ctx.org.delete(ids(input)).map(resultXml).join('');
      break;
    case 'getDeleted':
      inner = getDeletedXml(ctx, input);
      break;
    case 'getUpdated':
      inner = getUpdatedXml(ctx, input);
      break;
    case 'getServerTimestamp':
      inner = `<result><timestamp>${ctx.org.now().toISOString()}</timestamp></result>`;
      break;
    case 'getUserInfo': {
      const { org } = ctx;
      inner =
        `<result><organizationId>${org.info.orgId}</organizationId><organizationName>${xmlEscape(org.info.name)}</organizationName>` +
        `<userEmail>${xmlEscape(org.user.email)}</userEmail><userFullName>${xmlEscape(org.user.name)}</userFullName>` +
        `<userId>${org.user.id}</userId><userName>${xmlEscape(org.user.username)}</userName></result>`;
      break;
    }
    default:
      throw new ApiError(
        500,
        'INVALID_OPERATION',
        `The partner API operation ${operation} is not supported by this org.`,
      );
  }
  const text = soapEnvelope(PARTNER_NS, `<${operation}Response>${inner}</${operation}Response>`);
  return { status: 200, text, headers: { 'content-type': 'text/xml;charset=UTF-8' } };
};
