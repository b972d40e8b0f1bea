import { strFromU8, unzipSync } from 'fflate';
import { XMLParser } from 'fast-xml-parser';
import { CHILD_TYPES } from './metadata-zip.ts';
import type { SnapshotComponent } from './model.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
});

function files(zip: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [path, bytes] of Object.entries(unzipSync(zip))) {
    const rel = path.replace(/^unpackaged\//, '');
    if (rel === 'package.xml' || rel.endsWith('/')) continue;
    out.set(rel, bytes);
  }
  return out;
}

/** A form of a file that ignores what a round trip may change: whitespace between tags, the declaration, key order. */
function normalise(bytes: Uint8Array): unknown {
  const text = strFromU8(bytes);
  if (!text.trimStart().startsWith('<')) return text;
  return sortKeys(parser.parse(text));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The element of a parent file (an object's) whose fullName is the child's own name. */
function findChild(tree: unknown, name: string): unknown {
  if (Array.isArray(tree)) {
    for (const item of tree) {
      const hit = findChild(item, name);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  if (tree && typeof tree === 'object') {
    const record = tree as Record<string, unknown>;
    if (record.fullName === name) return record;
    for (const v of Object.values(record)) {
      const hit = findChild(v, name);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

function stemOf(path: string): string {
  const rest = path.includes('/') ? path.slice(path.indexOf('/') + 1) : path;
  return rest.replace(/-meta\.xml$/, '').replace(/\.[^./]+$/, '');
}

/**
 * Compares what a retrieve returned with the snapshot's files for the same components and names
 * every difference: a whole component's file must match (as normalised XML, or byte for byte when
 * it is not XML); a child component (a field inside its object's file) must match as that element.
 */
export function compareComponentZips(
  expected: Uint8Array,
  retrieved: Uint8Array,
  components: readonly SnapshotComponent[],
): string[] {
  const want = files(expected);
  const got = files(retrieved);
  const problems: string[] = [];
  for (const c of components) {
    const label = `${c.type}:${c.fullName}`;
    if (CHILD_TYPES[c.type]) {
      const owner = c.fullName.split('.')[0] ?? c.fullName;
      const child = c.fullName.slice(owner.length + 1);
      const path = [...want.keys()].find((p) => stemOf(p) === owner);
      if (!path) continue; // not in the snapshot's files: the deploy itself would have failed
      const inGot = got.get(path);
      if (!inGot) {
        problems.push(`${label}: the org returned no ${path}`);
        continue;
      }
      const a = findChild(normalise(want.get(path)!), child);
      const b = findChild(normalise(inGot), child);
      if (b === undefined) problems.push(`${label}: missing from the org's ${path}`);
      else if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${label}: differs from the snapshot`);
      continue;
    }
    for (const path of [...want.keys()].filter((p) => stemOf(p) === c.fullName)) {
      const inGot = got.get(path);
      if (!inGot) {
        problems.push(`${label}: the org returned no ${path}`);
        continue;
      }
      const same = JSON.stringify(normalise(want.get(path)!)) === JSON.stringify(normalise(inGot));
      if (!same) problems.push(`${label}: ${path} differs from the snapshot`);
    }
  }
  return problems;
}
