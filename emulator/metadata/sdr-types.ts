/**
 * The emulator's metadata types, derived from the registry Salesforce publishes in
 * `@salesforce/source-deploy-retrieve` (the library behind the `sf` CLI): names, directories,
 * suffixes, folders, children and decomposition come from there, so the emulator lays out and
 * names every type as a real project and a real org do. A type whose source layout needs an
 * adapter the emulator does not implement is listed as refused, with the reason.
 */
// Only the registry's JSON is imported. The package's index (and its `registryAccess` module)
// load @salesforce/core: about 1.7 s and 65 MB more at start-up on this machine, against a few
// milliseconds for the 210 kB JSON; `sfbackup demo` and every emulator test start the emulator.
// The package has no "exports" map, so this deep path is part of what it publishes.
import sdrRegistryJson from '@salesforce/source-deploy-retrieve/lib/src/registry/metadataRegistry.json' with {
  type: 'json',
};
import type {
  MetadataRegistry,
  MetadataType,
} from '@salesforce/source-deploy-retrieve/lib/src/registry/types.js';

/** Salesforce's registry, as the installed `@salesforce/source-deploy-retrieve` publishes it. */
export const SDR_REGISTRY = sdrRegistryJson as unknown as MetadataRegistry;

/**
 * How a type's files look on disk:
 * - `xml`: one `Name.suffix-meta.xml` in source, `Name.suffix` in Metadata API format.
 * - `content`: a content file `Name.suffix` plus `Name.suffix-meta.xml`, identical in both formats.
 * - `bundle`: a folder `dir/Name/` whose files travel together (LWC, Aura).
 * - `resource`: static resources: `Name.resource-meta.xml` plus a file or folder of content.
 * - `decomposed`: custom objects and the like, split into one file per child in source format.
 * - `document`: documents: `Name.ext` plus `Name.document-meta.xml` (`Name.ext-meta.xml` in MDAPI).
 * - `site`: experience bundles: a folder `dir/Name/` plus `dir/Name.site-meta.xml` beside it.
 */
export type TypeLayout = 'xml' | 'content' | 'bundle' | 'resource' | 'decomposed' | 'document' | 'site';

/** A child type stored inside its parent's file (CustomField inside CustomObject). */
export interface ChildTypeInfo {
  readonly xmlName: string;
  /** Element name inside the parent file (`fields`). */
  readonly element: string;
  /** Folder of the child files in source format (`fields`). */
  readonly directoryName: string;
  /** Source-format suffix (`field` for `Name.field-meta.xml`). */
  readonly suffix: string;
  /** Element holding the child's name inside its element (`fullName`; `name` for field translations). */
  readonly idElement: string;
}

/** One Metadata API type. */
export interface MetadataTypeInfo {
  readonly xmlName: string;
  readonly directoryName: string;
  /** File suffix in Metadata API format; undefined for bundles. */
  readonly suffix: string | undefined;
  readonly layout: TypeLayout;
  /** True when Metadata API format carries a separate `-meta.xml` beside the content. */
  readonly metaFile: boolean;
  /** Components live in folders (`reports/Folder/Name.report`). */
  readonly inFolder: boolean;
  /** The folder type for inFolder types (ReportFolder for Report). */
  readonly folderType?: string;
  /** The content type a folder type holds (Report for ReportFolder). */
  readonly folderContentType?: string;
  readonly children: readonly ChildTypeInfo[];
  /**
   * Where a decomposed type's child files sit in source format: a folder per child type
   * (`objects/X/fields/F.field-meta.xml`) or beside the parent file (`bots/B/v1.botVersion-meta.xml`).
   */
  readonly decomposition?: 'folderPerType' | 'topLevel';
  /** Found in a project but unknown to the table; described from the project's files. */
  readonly generic?: boolean;
}

/** A type Salesforce's registry knows that the emulator does not serve, and why. */
export interface RefusedType {
  readonly xmlName: string;
  readonly directoryName: string;
  /** The served type whose files hold this child type, for refused child types. */
  readonly parent?: string;
  readonly reason: string;
}

/** What the registry's types become: served types and refused ones. */
export interface TypeTable {
  readonly served: readonly MetadataTypeInfo[];
  readonly refused: readonly RefusedType[];
}

type Converted = { readonly served: MetadataTypeInfo; readonly refusedChildren: RefusedType[] } | RefusedType;

function byId(id: string | undefined): MetadataType | undefined {
  return id ? SDR_REGISTRY.types[id] : undefined;
}

/** Source-format children of a type; those whose element in the parent file the registry does not name are refused. */
function childrenOf(
  type: MetadataType,
  decomposed: boolean,
): { children: ChildTypeInfo[]; refused: RefusedType[] } {
  const children: ChildTypeInfo[] = [];
  const refused: RefusedType[] = [];
  for (const child of Object.values(type.children?.types ?? {})) {
    // Decomposed parents keep each child under an element named like the child's source folder.
    const element = child.xmlElementName ?? (decomposed ? child.directoryName : undefined);
    if (!element) {
      refused.push({
        xmlName: child.name,
        directoryName: child.directoryName,
        parent: type.name,
        reason: `the registry does not name the element ${child.name} takes inside the ${type.name} file`,
      });
      continue;
    }
    children.push({
      xmlName: child.name,
      element,
      directoryName: child.directoryName,
      suffix: child.suffix ?? '',
      idElement: child.uniqueIdElement ?? 'fullName',
    });
  }
  return { children: children.sort((a, b) => a.xmlName.localeCompare(b.xmlName)), refused };
}

function layoutOf(type: MetadataType): TypeLayout | string {
  const adapter = type.strategies?.adapter ?? 'default';
  switch (adapter) {
    case 'default':
      return 'xml';
    case 'matchingContentFile':
      return 'content';
    case 'bundle':
      return 'bundle';
    case 'decomposed':
      return 'decomposed';
    case 'mixedContent':
      if (type.strategies?.transformer === 'staticResource') return 'resource';
      if (type.folderType) return 'document';
      if (!type.suffix) return 'site';
      return `the ${adapter} layout of ${type.name}`;
    default:
      return `the source adapter '${adapter}'`;
  }
}

function convert(type: MetadataType): Converted {
  const refuse = (reason: string): RefusedType => ({
    xmlName: type.name,
    directoryName: type.directoryName,
    reason,
  });
  const folder = byId(type.folderType);
  // Territory2 and its rules name Territory2Model as their "folder", but live in nested folders
  // of a model (territory2Models/M/territories/T.territory2-meta.xml), not in folders of their own.
  if (folder && !type.inFolder) return refuse('it lives in nested folders of its territory model');
  const layout = layoutOf(type);
  if (!['xml', 'content', 'bundle', 'resource', 'decomposed', 'document', 'site'].includes(layout)) {
    return refuse(`the emulator does not implement ${layout}`);
  }
  const typed = layout as TypeLayout;
  const { children, refused } = childrenOf(type, typed === 'decomposed');
  const decomposition =
    typed === 'decomposed' ? (type.strategies?.decomposition ?? 'folderPerType') : undefined;
  const served: MetadataTypeInfo = {
    xmlName: type.name,
    directoryName: type.directoryName,
    suffix: typed === 'bundle' || typed === 'site' || typed === 'document' ? undefined : type.suffix,
    layout: typed,
    metaFile: ['content', 'resource', 'document', 'site'].includes(typed),
    inFolder: type.inFolder === true,
    ...(folder ? { folderType: folder.name } : {}),
    ...(type.folderContentType ? { folderContentType: byId(type.folderContentType)?.name ?? '' } : {}),
    children,
    ...(decomposition ? { decomposition } : {}),
  };
  return { served, refusedChildren: refused };
}

/** Builds the emulator's type table from Salesforce's registry. */
export function buildTypeTable(): TypeTable {
  const served: MetadataTypeInfo[] = [];
  const refused: RefusedType[] = [];
  for (const type of Object.values(SDR_REGISTRY.types)) {
    // Aliases (EmailTemplateFolder for EmailFolder) name another type; the org answers with that one.
    if (type.aliasFor) continue;
    const converted = convert(type);
    if ('served' in converted) {
      served.push(converted.served);
      refused.push(...converted.refusedChildren);
    } else {
      refused.push(converted);
    }
  }
  const byName = (a: { xmlName: string }, b: { xmlName: string }) => a.xmlName.localeCompare(b.xmlName);
  return { served: served.sort(byName), refused: refused.sort(byName) };
}
