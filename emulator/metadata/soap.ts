/** SOAP envelopes of the Metadata API: request reading, responses and faults as Salesforce writes them. */
import { element, escapeXml, METADATA_NS, readXml, type XmlValue } from './xml.ts';

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"';

/** A parsed request: the operation (first Body element), its arguments and the session id. */
export interface SoapRequest {
  readonly operation: string;
  readonly args: Record<string, unknown>;
  readonly sessionId: string | undefined;
}

/** A Metadata API fault (`sf:INVALID_SESSION_ID`, ...), answered with HTTP 500 as Salesforce does. */
export class SoapFault extends Error {
  override name = 'SoapFault';
  constructor(
    /** Fault code without prefix (`INVALID_SESSION_ID`); `Client` means a `soapenv:Client` fault. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the envelope; throws a `soapenv:Client` fault when it is not one. */
export function parseSoapRequest(xml: string): SoapRequest {
  let doc: Record<string, unknown>;
  try {
    doc = readXml(xml);
  } catch (error) {
    throw new SoapFault('Client', `Unable to parse the request: ${(error as Error).message}`);
  }
  const envelope = doc.Envelope as Record<string, unknown> | undefined;
  const body = envelope?.Body as Record<string, unknown> | undefined;
  if (!envelope || !body || typeof body !== 'object') {
    throw new SoapFault('Client', 'The request is not a SOAP envelope with a Body');
  }
  const operation = Object.keys(body)[0];
  if (!operation) throw new SoapFault('Client', 'The SOAP Body names no operation');
  const header = (envelope.Header ?? {}) as Record<string, unknown>;
  const session = (header.SessionHeader ?? {}) as Record<string, unknown>;
  const sessionId = typeof session.sessionId === 'string' ? session.sessionId : undefined;
  const args = body[operation];
  return {
    operation,
    args: typeof args === 'object' && args !== null ? (args as Record<string, unknown>) : {},
    sessionId,
  };
}

/** The session id of a Metadata API envelope, for HTTP layers that authenticate before dispatching. */
export function extractSessionId(xml: string): string | undefined {
  try {
    return parseSoapRequest(xml).sessionId;
  } catch {
    return undefined;
  }
}

/** `<operationResponse>` with one `<result>` per value (none for an empty list). */
export function soapResponse(operation: string, result: XmlValue): string {
  return (
    `${ENVELOPE_OPEN} xmlns="${METADATA_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    `<soapenv:Body><${operation}Response>${element('result', result)}</${operation}Response></soapenv:Body></soapenv:Envelope>`
  );
}

/** A SOAP fault body: `sf:CODE` with `CODE: message`, plus Salesforce's UnexpectedErrorFault detail. */
export function soapFault(fault: SoapFault): string {
  if (fault.code === 'Client') {
    return (
      `${ENVELOPE_OPEN}><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode>` +
      `<faultstring>${escapeXml(fault.message)}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`
    );
  }
  const message = `${fault.code}: ${fault.message}`;
  return (
    `${ENVELOPE_OPEN} xmlns:sf="${METADATA_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    `<soapenv:Body><soapenv:Fault><faultcode>sf:${fault.code}</faultcode><faultstring>${escapeXml(message)}</faultstring>` +
    `<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault"><sf:exceptionCode>${fault.code}</sf:exceptionCode>` +
    `<sf:exceptionMessage>${escapeXml(fault.message)}</sf:exceptionMessage></sf:UnexpectedErrorFault></detail>` +
    `</soapenv:Fault></soapenv:Body></soapenv:Envelope>`
  );
}
