/**
 * The Metadata API types the emulator knows, as Salesforce's published registry gives them
 * (see `sdr-types.ts`), and lookups over them for one org.
 */
import {
  buildTypeTable,
  type ChildTypeInfo,
  type MetadataTypeInfo,
  type RefusedType,
  type TypeLayout,
} from './sdr-types.ts';

export type { ChildTypeInfo, MetadataTypeInfo, RefusedType, TypeLayout };

const TABLE = buildTypeTable();

/** Every served type, in describeMetadata order (alphabetical by xmlName). */
export const METADATA_TYPES: readonly MetadataTypeInfo[] = TABLE.served;

/** Types Salesforce's registry knows that the emulator refuses, alphabetical by xmlName. */
export const REFUSED_TYPES: readonly RefusedType[] = TABLE.refused;

/**
 * Type lookups for one org: the known types plus generic ones discovered in a loaded project
 * (an unknown folder whose XML files name their type in the root element).
 */
export class TypeRegistry {
  private readonly byName = new Map<string, MetadataTypeInfo>();
  private readonly byDirectory = new Map<string, MetadataTypeInfo>();
  private readonly childByName = new Map<string, { parent: MetadataTypeInfo; child: ChildTypeInfo }>();
  /** Types sharing a directory (`wave` holds ten), told apart by suffix. */
  private readonly sharing = new Map<string, MetadataTypeInfo[]>();
  private readonly refusedByName = new Map<string, RefusedType>();
  private readonly refusedByDirectory = new Map<string, RefusedType>();

  constructor() {
    for (const t of METADATA_TYPES) this.add(t);
    for (const r of REFUSED_TYPES) {
      this.refusedByName.set(r.xmlName, r);
      if (!r.parent && !this.byDirectory.has(r.directoryName))
        this.refusedByDirectory.set(r.directoryName, r);
    }
  }

  /**
   * Registers a type. A directory belongs to its content type rather than the folder type
   * (reports, not ReportFolder); otherwise the first type claiming it keeps it.
   */
  add(type: MetadataTypeInfo): void {
    this.byName.set(type.xmlName, type);
    const holder = this.byDirectory.get(type.directoryName);
    if (!holder || (holder.folderContentType && !type.folderContentType)) {
      this.byDirectory.set(type.directoryName, type);
    }
    this.sharing.set(type.directoryName, [...(this.sharing.get(type.directoryName) ?? []), type]);
    for (const child of type.children) this.childByName.set(child.xmlName, { parent: type, child });
  }

  /** The refused type with this xmlName (served by Salesforce, not by the emulator), or undefined. */
  refused(xmlName: string): RefusedType | undefined {
    return this.refusedByName.get(xmlName);
  }

  /** The refused type whose components live in this directory, when no served type claims it. */
  refusedDirectory(directoryName: string): RefusedType | undefined {
    return this.refusedByDirectory.get(directoryName);
  }

  /**
   * The type of a file in a directory that several types share (`wave/X.wdash` is a
   * WaveDashboard), by its suffix with or without `-meta.xml`; undefined when none matches.
   */
  bySuffixIn(directoryName: string, fileName: string): MetadataTypeInfo | undefined {
    const name = fileName.endsWith('-meta.xml') ? fileName.slice(0, -'-meta.xml'.length) : fileName;
    return this.sharing
      .get(directoryName)
      ?.find((t) => t.suffix !== undefined && !t.folderContentType && name.endsWith(`.${t.suffix}`));
  }

  /** Whether several types share this directory, so that a file's suffix must name its type. */
  sharesDirectory(directoryName: string): boolean {
    return (this.sharing.get(directoryName)?.length ?? 0) > 1;
  }

  /** Every type, alphabetical by xmlName. */
  all(): MetadataTypeInfo[] {
    return [...this.byName.values()].sort((a, b) => a.xmlName.localeCompare(b.xmlName));
  }

  /** The type with this xmlName, or undefined. */
  byXmlName(xmlName: string): MetadataTypeInfo | undefined {
    return this.byName.get(xmlName);
  }

  /** The decomposed parent type and child description of a child type name (CustomField). */
  child(xmlName: string): { parent: MetadataTypeInfo; child: ChildTypeInfo } | undefined {
    return this.childByName.get(xmlName);
  }

  /** The content type whose components live in this directory, or undefined. */
  byDirectoryName(directoryName: string): MetadataTypeInfo | undefined {
    return this.byDirectory.get(directoryName);
  }

  /** The folder type of an inFolder type (ReportFolder for Report). */
  folderTypeOf(type: MetadataTypeInfo): MetadataTypeInfo | undefined {
    return type.folderType ? this.byName.get(type.folderType) : undefined;
  }
}

/** True when a type's components are held as a parent with named children (objects, labels, workflows). */
export function hasChildren(type: MetadataTypeInfo): boolean {
  return type.children.length > 0;
}

/**
 * The full name of a child: `Parent.Child` (`Account.Phone__c`), except custom labels, which are
 * named alone because all of them live in the one `CustomLabels` component.
 */
export function childFullName(parentType: string, parentName: string, childName: string): string {
  return parentType === 'CustomLabels' ? childName : `${parentName}.${childName}`;
}

/** Splits a child's full name into its parent's name and its own; undefined when it has no parent part. */
export function splitChildFullName(parentType: string, fullName: string): [string, string] | undefined {
  if (parentType === 'CustomLabels') return ['CustomLabels', fullName];
  const dot = fullName.indexOf('.');
  return dot > 0 ? [fullName.slice(0, dot), fullName.slice(dot + 1)] : undefined;
}
