/** package.xml (and destructiveChanges.xml) manifests: `<Package>` with types, members and version. */
import { asArray, asText, escapeXml, METADATA_NS, readXml } from './xml.ts';

/** One `<types>` entry. */
export interface PackageTypeMembers {
  readonly name: string;
  readonly members: string[];
}

/** A parsed manifest. */
export interface PackageManifest {
  readonly fullName?: string;
  readonly types: PackageTypeMembers[];
  readonly version?: string;
}

/** Thrown for a manifest that is not a `<Package>` document. */
export class InvalidManifestError extends Error {
  override name = 'InvalidManifestError';
}

/** Reads the `<types>` of a parsed `Package`-shaped object (a SOAP `unpackaged` or a package.xml root). */
export function manifestFromObject(value: unknown): PackageManifest {
  const pkg = (value ?? {}) as Record<string, unknown>;
  const types = asArray<Record<string, unknown>>(pkg.types).map((t) => ({
    name: asText(t.name) ?? '',
    members: asArray(t.members)
      .map((m) => asText(m) ?? '')
      .filter((m) => m !== ''),
  }));
  return { fullName: asText(pkg.fullName), types, version: asText(pkg.version) };
}

/** Parses package.xml text. */
export function parseManifest(text: string, fileName: string): PackageManifest {
  const doc = readXml(text);
  if (!doc.Package || typeof doc.Package !== 'object') {
    throw new InvalidManifestError(`${fileName} has no <Package> root element`);
  }
  return manifestFromObject(doc.Package);
}

/** Writes a manifest as package.xml, types sorted by name and members sorted, as Salesforce does. */
export function buildManifest(manifest: PackageManifest): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<Package xmlns="${METADATA_NS}">`];
  if (manifest.fullName) lines.push(`    <fullName>${escapeXml(manifest.fullName)}</fullName>`);
  const types = [...manifest.types].sort((a, b) => a.name.localeCompare(b.name));
  for (const type of types) {
    lines.push('    <types>');
    for (const member of [...type.members].sort())
      lines.push(`        <members>${escapeXml(member)}</members>`);
    lines.push(`        <name>${escapeXml(type.name)}</name>`);
    lines.push('    </types>');
  }
  if (manifest.version) lines.push(`    <version>${escapeXml(manifest.version)}</version>`);
  lines.push('</Package>');
  return `${lines.join('\n')}\n`;
}
