import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { XMLParser } from 'fast-xml-parser';
import type { SnapshotComponent } from './model.ts';

/** Types whose components live inside their parent's file (`objects/Broker__c.object`). */
export const CHILD_TYPES: Record<string, string> = {
  CustomField: 'CustomObject',
  ListView: 'CustomObject',
  CompactLayout: 'CustomObject',
  ValidationRule: 'CustomObject',
  RecordType: 'CustomObject',
  WebLink: 'CustomObject',
  FieldSet: 'CustomObject',
  BusinessProcess: 'CustomObject',
};

interface PackageXml {
  Package?: { types?: unknown; version?: unknown };
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Components named by the package.xml of each retrieve zip. */
export function componentsInZips(zips: readonly Uint8Array[]): SnapshotComponent[] {
  const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false });
  const out = new Map<string, SnapshotComponent>();
  for (const zip of zips) {
    const files = unzipSync(zip);
    const manifest = Object.keys(files).find((p) => p === 'package.xml' || p.endsWith('/package.xml'));
    if (!manifest) continue;
    const parsed = parser.parse(strFromU8(files[manifest]!)) as PackageXml;
    for (const t of asArray(
      parsed.Package?.types as { name: string; members: string | string[] }[] | undefined,
    )) {
      for (const m of asArray(t.members)) {
        if (m === '*') continue;
        out.set(`${t.name}:${m}`, { type: t.name, fullName: m });
      }
    }
  }
  return [...out.values()];
}

/**
 * Builds a deployable zip holding the given components: their files as retrieved (a child
 * component such as a CustomField travels in its object's file) and a package.xml naming them.
 */
export function zipOfComponents(
  zips: readonly Uint8Array[],
  components: readonly SnapshotComponent[],
): Uint8Array {
  const all: Record<string, Uint8Array> = {};
  let version = '62.0';
  const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false });
  for (const zip of zips) {
    for (const [path, bytes] of Object.entries(unzipSync(zip))) {
      const rel = path.replace(/^unpackaged\//, '');
      if (rel === 'package.xml') {
        const v = (parser.parse(strFromU8(bytes)) as PackageXml).Package?.version;
        if (typeof v === 'string') version = v;
        continue;
      }
      all[rel] = bytes;
    }
  }
  const chosen: Record<string, Uint8Array> = {};
  for (const c of components) {
    const owner = CHILD_TYPES[c.type] ? (c.fullName.split('.')[0] ?? c.fullName) : c.fullName;
    const matches = Object.keys(all).filter((p) => stem(p) === owner || stem(p) === c.fullName);
    for (const p of matches) chosen[p] = all[p]!;
  }
  const byType = new Map<string, string[]>();
  for (const c of components) byType.set(c.type, [...(byType.get(c.type) ?? []), c.fullName]);
  const types = [...byType]
    .map(
      ([name, members]) =>
        `  <types>\n${members.map((m) => `    <members>${m}</members>\n`).join('')}    <name>${name}</name>\n  </types>\n`,
    )
    .join('');
  chosen['package.xml'] = strToU8(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Package xmlns="http://soap.sforce.com/2006/04/metadata">\n${types}  <version>${version}</version>\n</Package>\n`,
  );
  return zipSync(chosen);
}

/** A file's component name: its path after the type folder, without extensions (`layouts/Case-Case Layout.layout`). */
function stem(path: string): string {
  const rest = path.includes('/') ? path.slice(path.indexOf('/') + 1) : path;
  return rest.replace(/-meta\.xml$/, '').replace(/\.[^./]+$/, '');
}
