/** Helpers for the Metadata API tests: envelopes as jsforce writes them, and answer readers. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { strFromU8, unzipSync, zipSync, strToU8 } from 'fflate';
import { XMLParser } from 'fast-xml-parser';
import type { MetadataService } from '../../emulator/metadata/index.ts';
import { SAMPLE_ORGS_DIR } from '../../emulator/fixtures/samples.ts';

/** The sample orgs shipped with the project. */
export const DREAMHOUSE = join(SAMPLE_ORGS_DIR, 'dreamhouse-lwc');
export const EBIKES = join(SAMPLE_ORGS_DIR, 'ebikes-lwc');

/** The token the tests treat as valid. */
export const SESSION = '00D000000000001!token';

/** A Metadata API envelope shaped like jsforce's, with `body` as the operation's XML. */
export function envelope(operation: string, body: string, sessionId = SESSION): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"' +
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<soapenv:Header xmlns="http://soap.sforce.com/2006/04/metadata"><SessionHeader><sessionId>${sessionId}</sessionId></SessionHeader></soapenv:Header>` +
    `<soapenv:Body xmlns="http://soap.sforce.com/2006/04/metadata"><${operation}>${body}</${operation}></soapenv:Body></soapenv:Envelope>`
  );
}

const parser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  isArray: (name) =>
    [
      'result',
      'metadataObjects',
      'childXmlNames',
      'fileProperties',
      'messages',
      'componentSuccesses',
      'componentFailures',
    ].includes(name),
});

/** Parses an answer envelope: the `result` elements of the response, or the fault. */
export function parseAnswer(body: string): {
  results: Record<string, unknown>[];
  fault?: Record<string, unknown>;
} {
  const doc = parser.parse(body) as Record<string, Record<string, Record<string, unknown>>>;
  const soapBody = doc['soapenv:Envelope']?.['soapenv:Body'] ?? {};
  const fault = soapBody['soapenv:Fault'] as Record<string, unknown> | undefined;
  if (fault) return { results: [], fault };
  const response = Object.values(soapBody)[0] as Record<string, unknown> | undefined;
  return { results: (response?.result as Record<string, unknown>[] | undefined) ?? [] };
}

/** Calls an operation that must succeed and returns its results. */
export async function call(
  service: MetadataService,
  operation: string,
  body: string,
): Promise<Record<string, unknown>[]> {
  const answer = await service.handle(envelope(operation, body), { checkSession: (id) => id === SESSION });
  const parsed = parseAnswer(answer.body);
  if (answer.status !== 200 || parsed.fault) throw new Error(`${operation} failed: ${answer.body}`);
  return parsed.results;
}

/** Calls an operation returning one result. */
export async function callOne(
  service: MetadataService,
  operation: string,
  body: string,
): Promise<Record<string, unknown>> {
  const [result] = await call(service, operation, body);
  if (!result) throw new Error(`${operation} returned no result`);
  return result;
}

/** Runs a retrieve to completion; returns the final result and the unzipped files. */
export async function retrieve(
  service: MetadataService,
  requestXml: string,
): Promise<{
  first: Record<string, unknown>;
  result: Record<string, unknown>;
  files: Record<string, string>;
}> {
  const started = await callOne(service, 'retrieve', `<request>${requestXml}</request>`);
  const first = await callOne(
    service,
    'checkRetrieveStatus',
    `<asyncProcessId>${started.id}</asyncProcessId>`,
  );
  const result = await callOne(
    service,
    'checkRetrieveStatus',
    `<asyncProcessId>${started.id}</asyncProcessId>`,
  );
  const files: Record<string, string> = {};
  if (typeof result.zipFile === 'string' && result.zipFile) {
    for (const [name, bytes] of Object.entries(unzipSync(Buffer.from(result.zipFile, 'base64'))))
      files[name] = strFromU8(bytes);
  }
  return { first, result, files };
}

/** A `<unpackaged>` manifest from `{ Type: [members] }`. */
export function unpackaged(types: Record<string, string[]>, version = '64.0'): string {
  const entries = Object.entries(types)
    .map(
      ([name, members]) =>
        `<types>${members.map((m) => `<members>${m}</members>`).join('')}<name>${name}</name></types>`,
    )
    .join('');
  return `<apiVersion>${version}</apiVersion><singlePackage>true</singlePackage><unpackaged>${entries}<version>${version}</version></unpackaged>`;
}

/** package.xml text from `{ Type: [members] }`. */
export function packageXml(types: Record<string, string[]>, version = '64.0'): string {
  const entries = Object.entries(types)
    .map(
      ([name, members]) =>
        `<types>${members.map((m) => `<members>${m}</members>`).join('')}<name>${name}</name></types>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata">${entries}<version>${version}</version></Package>`;
}

/** Base64 zip of text files. */
export function zipBase64(files: Record<string, string>): string {
  const entries: Record<string, Uint8Array> = {};
  for (const [name, text] of Object.entries(files)) entries[name] = strToU8(text);
  return Buffer.from(zipSync(entries)).toString('base64');
}

/** Runs a deploy to completion; returns the first check and the final DeployResult. */
export async function deploy(
  service: MetadataService,
  files: Record<string, string>,
  options = '<singlePackage>true</singlePackage><rollbackOnError>true</rollbackOnError>',
): Promise<{ first: Record<string, unknown>; result: Record<string, unknown> }> {
  const started = await callOne(
    service,
    'deploy',
    `<ZipFile>${zipBase64(files)}</ZipFile><DeployOptions>${options}</DeployOptions>`,
  );
  const check = `<asyncProcessId>${started.id}</asyncProcessId><includeDetails>true</includeDetails>`;
  const first = await callOne(service, 'checkDeployStatus', check);
  const result = await callOne(service, 'checkDeployStatus', check);
  return { first, result };
}

const projects: string[] = [];

/** Removes the projects `writeProject` wrote (call from afterAll). */
export function removeProjects(): void {
  for (const dir of projects.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes a temporary sfdx project from `{ relativePath: text }` (sfdx-project.json added). */
export function writeProject(files: Record<string, string | Uint8Array>): string {
  const root = mkdtempSync(join(tmpdir(), 'md-project-'));
  projects.push(root);
  const all: Record<string, string | Uint8Array> = {
    'sfdx-project.json': JSON.stringify({
      packageDirectories: [{ path: 'force-app', default: true, package: 'Sample' }],
    }),
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}
