/**
 * Reads the components out of a Metadata API format package (a deploy zip's folder): groups
 * content files with their `-meta.xml`, bundles by folder, and custom objects into models.
 */
import type { ComponentData } from './component.ts';
import { fromUtf8 } from './component.ts';
import { MetadataFileError, readMdapiFile } from './decomposed.ts';
import { hasChildren, type TypeRegistry } from './registry.ts';
import { parseOrdered, rootOf, tagOf, xmlProblem } from './xml.ts';

/** A component read from the zip, or why it could not be read. */
export interface ZipComponent {
  readonly type: string;
  readonly fullName: string;
  /** The file deploy messages name (`classes/A.cls`, `objects/X.object`). */
  readonly fileName: string;
  readonly component?: ComponentData;
  readonly problem?: string;
  /** A file no served type reads: it fails the deploy whether or not package.xml names its type. */
  readonly unreadable?: true;
}

const META = '-meta.xml';

/** Checks an XML file is well formed and rooted at the expected type. */
function xmlFileProblem(bytes: Uint8Array, expectedRoot: string): string | undefined {
  const text = fromUtf8(bytes);
  const problem = xmlProblem(text);
  if (problem) return `Error parsing file: ${problem}`;
  const root = rootOf(parseOrdered(text));
  const tag = root ? tagOf(root) : '';
  if (tag !== expectedRoot)
    return `Error parsing file: expected root element ${expectedRoot}, found ${tag || 'none'}`;
  return undefined;
}

/** Groups a package folder's files (paths relative to the folder, package.xml excluded) into components. */
export function readPackageFolder(
  files: ReadonlyMap<string, Uint8Array>,
  registry: TypeRegistry,
): ZipComponent[] {
  const groups = new Map<
    string,
    { type: string; fullName: string; fileName: string; files: Map<string, Uint8Array> }
  >();
  const out: ZipComponent[] = [];
  const group = (type: string, fullName: string, fileName: string, path: string, bytes: Uint8Array): void => {
    const key = `${type}\u0000${fullName}`;
    let g = groups.get(key);
    if (!g) {
      g = { type, fullName, fileName, files: new Map() };
      groups.set(key, g);
    }
    g.files.set(path, bytes);
  };
  for (const [path, bytes] of files) {
    const slash = path.indexOf('/');
    if (slash < 0) continue;
    const dir = path.slice(0, slash);
    const rest = path.slice(slash + 1);
    const directoryType = registry.byDirectoryName(dir);
    if (!directoryType) {
      // Skipped silently, a refused type's files would seem deployed when package.xml does not name it.
      const refused = registry.refusedDirectory(dir);
      if (refused) {
        out.push({
          type: refused.xmlName,
          fullName: rest,
          fileName: path,
          problem: `Unknown type name '${refused.xmlName}' specified in package.xml`,
          unreadable: true,
        });
      }
      continue;
    }
    // Several types may share a directory (`wave`, `discovery`): the suffix says which.
    const bySuffix = directoryType.folderContentType ? undefined : registry.bySuffixIn(dir, rest);
    const inFolders = directoryType.folderContentType || registry.folderTypeOf(directoryType);
    if (!inFolders && !bySuffix && registry.sharesDirectory(dir)) {
      // Read as the directory's first type, such a file would be deployed as a component of that type.
      out.push({
        type: '',
        fullName: rest,
        fileName: path,
        problem: `No metadata type of the ${dir} directory has the suffix of ${rest}`,
        unreadable: true,
      });
      continue;
    }
    const type = bySuffix ?? directoryType;
    if (type.layout === 'decomposed' || (type.layout === 'xml' && hasChildren(type))) {
      if (!rest.endsWith(`.${type.suffix}`)) continue;
      const fullName = rest.slice(0, -`.${type.suffix}`.length);
      const problem = xmlFileProblem(bytes, type.xmlName);
      if (problem) {
        out.push({ type: type.xmlName, fullName, fileName: path, problem });
        continue;
      }
      try {
        const model = readMdapiFile(type, fromUtf8(bytes), path);
        out.push({
          type: type.xmlName,
          fullName,
          fileName: path,
          component: { type: type.xmlName, fullName, files: new Map(), model, fileName: path },
        });
      } catch (error) {
        if (!(error instanceof MetadataFileError)) throw error;
        out.push({
          type: type.xmlName,
          fullName,
          fileName: path,
          problem: `Error parsing file: ${error.message}`,
        });
      }
      continue;
    }
    if (type.layout === 'site' && !rest.includes('/') && rest.endsWith(`.site${META}`)) {
      const name = rest.slice(0, -`.site${META}`.length);
      group(type.xmlName, name, `${dir}/${name}`, path, bytes);
      continue;
    }
    if (type.layout === 'bundle' || type.layout === 'site') {
      const name = rest.split('/')[0] ?? '';
      group(type.xmlName, name, `${dir}/${name}`, path, bytes);
      continue;
    }
    const folderType = registry.folderTypeOf(type);
    if (folderType && rest.endsWith(META) && !rest.slice(0, -META.length).includes('.')) {
      const fullName = rest.slice(0, -META.length);
      group(folderType.xmlName, fullName, `${dir}/${fullName}`, path, bytes);
      continue;
    }
    const contentPath = rest.endsWith(META) ? rest.slice(0, -META.length) : rest;
    if (type.layout === 'document') {
      group(type.xmlName, contentPath, `${dir}/${contentPath}`, path, bytes);
      continue;
    }
    const suffix = `.${type.suffix}`;
    if (!contentPath.endsWith(suffix)) continue;
    const fullName = contentPath.slice(0, -suffix.length);
    group(type.xmlName, fullName, `${dir}/${contentPath}`, path, bytes);
  }
  for (const g of groups.values()) {
    const type = registry.byXmlName(g.type);
    let problem: string | undefined;
    for (const [path, bytes] of g.files) {
      const isMeta = path.endsWith(META);
      const expectsXml = isMeta || type?.layout === 'xml';
      if (!expectsXml || type?.layout === 'bundle') continue;
      problem = xmlFileProblem(bytes, g.type);
      if (problem) break;
    }
    if (!problem && type?.metaFile && ![...g.files.keys()].some((p) => p.endsWith(META))) {
      problem = `The ${g.type} ${g.fullName} has no ${g.fileName}${META} file`;
    }
    out.push({
      type: g.type,
      fullName: g.fullName,
      fileName: g.fileName,
      ...(problem
        ? { problem }
        : { component: { type: g.type, fullName: g.fullName, files: g.files, fileName: g.fileName } }),
    });
  }
  return out;
}
