/** Small helpers for the SOAP envelopes the partner and metadata endpoints speak. */

/** Escapes text for XML element content and attributes. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

/** A SOAP 1.1 fault envelope with Salesforce's `sf:` fault code. */
export function soapFault(code: string, message: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    '<soapenv:Body><soapenv:Fault>' +
    `<faultcode>sf:${xmlEscape(code)}</faultcode>` +
    `<faultstring>${xmlEscape(`${code}: ${message}`)}</faultstring>` +
    `<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault"><sf:exceptionCode>${xmlEscape(code)}</sf:exceptionCode><sf:exceptionMessage>${xmlEscape(message)}</sf:exceptionMessage></sf:UnexpectedErrorFault></detail>` +
    '</soapenv:Fault></soapenv:Body></soapenv:Envelope>'
  );
}

/** Wraps body XML in a SOAP envelope declaring the given default namespace. */
export function soapEnvelope(namespace: string, bodyXml: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="${namespace}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    `<soapenv:Body>${bodyXml}</soapenv:Body></soapenv:Envelope>`
  );
}

/** The `sessionId` of a SOAP request's SessionHeader, if any. */
export function soapSessionId(xml: string): string | undefined {
  const match = /<(?:[A-Za-z0-9_]+:)?sessionId>([^<]*)<\/(?:[A-Za-z0-9_]+:)?sessionId>/.exec(xml);
  return match?.[1]?.trim();
}
