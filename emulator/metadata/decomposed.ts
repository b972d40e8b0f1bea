/**
 * Custom objects (and object translations) as one model: the parent's own elements plus named
 * children (fields, list views, record types...). Source format splits them into one file per
 * child; Metadata API format keeps them in one `objects/X.object` file.
 */
import { childFullName, type MetadataTypeInfo } from './registry.ts';
import {
  buildDocument,
  childrenOf,
  childText,
  makeNode,
  METADATA_NS,
  type OrderedNode,
  parseOrdered,
  rootOf,
  tagOf,
} from './xml.ts';

/** A decomposed component: parent elements and children keyed by child type, then name. */
export interface DecomposedModel {
  /** Elements of the parent itself, in file order; empty when only children are known. */
  parent: OrderedNode[];
  /** Child nodes (tagged with their Metadata API element name) by child xmlName and fullName. */
  children: Map<string, Map<string, OrderedNode>>;
}

/** Thrown when a metadata file cannot be read as the type it claims to be. */
export class MetadataFileError extends Error {
  override name = 'MetadataFileError';
}

/** An empty model. */
export function emptyModel(): DecomposedModel {
  return { parent: [], children: new Map() };
}

function parseRoot(text: string, expected: string, fileName: string): OrderedNode {
  const root = rootOf(parseOrdered(text));
  if (!root) throw new MetadataFileError(`${fileName}: no root element`);
  if (tagOf(root) !== expected) {
    throw new MetadataFileError(`${fileName}: root element is <${tagOf(root)}>, expected <${expected}>`);
  }
  return root;
}

/** Adds a child node to the model, replacing one of the same type and name. */
export function putChild(model: DecomposedModel, childType: string, name: string, node: OrderedNode): void {
  let byName = model.children.get(childType);
  if (!byName) {
    byName = new Map();
    model.children.set(childType, byName);
  }
  byName.set(name, node);
}

/** Reads a source-format parent file (`X.object-meta.xml`) into the model's parent elements. */
export function readSourceParent(
  model: DecomposedModel,
  type: MetadataTypeInfo,
  text: string,
  fileName: string,
): void {
  const root = parseRoot(text, type.xmlName, fileName);
  model.parent = childrenOf(root).filter((c) => tagOf(c) !== 'fullName');
}

/**
 * Reads a source-format child file (`fields/F.field-meta.xml`, root `CustomField`) into the
 * model under its `fullName` (or the file's base name when it has none).
 */
export function readSourceChild(
  model: DecomposedModel,
  type: MetadataTypeInfo,
  childXmlName: string,
  text: string,
  fileName: string,
  baseName: string,
): void {
  const child = type.children.find((c) => c.xmlName === childXmlName);
  if (!child) throw new MetadataFileError(`${fileName}: ${childXmlName} is not a child of ${type.xmlName}`);
  const root = parseRoot(text, childXmlName, fileName);
  const name = childText(root, child.idElement) || baseName;
  let elements = childrenOf(root);
  if (!elements.some((e) => tagOf(e) === child.idElement)) {
    elements = [makeNode(child.idElement, [{ '#text': name }]), ...elements];
  }
  putChild(model, childXmlName, name, makeNode(child.element, elements));
}

/** Reads a Metadata API format file (`objects/X.object`) into a model. */
export function readMdapiFile(type: MetadataTypeInfo, text: string, fileName: string): DecomposedModel {
  const root = parseRoot(text, type.xmlName, fileName);
  const model = emptyModel();
  for (const node of childrenOf(root)) {
    const tag = tagOf(node);
    const child = type.children.find((c) => c.element === tag);
    if (!child) {
      if (tag !== 'fullName') model.parent.push(node);
      continue;
    }
    const name = childText(node, child.idElement);
    if (!name) throw new MetadataFileError(`${fileName}: a <${tag}> element has no <${child.idElement}>`);
    putChild(model, child.xmlName, name, node);
  }
  return model;
}

/** Which parts of a model to render: everything, or the parent and/or some children. */
export interface ModelSelection {
  readonly parent: boolean;
  /** Child names by child xmlName; undefined means every child. */
  readonly children?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Writes the Metadata API format file, elements sorted by tag as Salesforce returns them. */
export function renderMdapiFile(
  type: MetadataTypeInfo,
  model: DecomposedModel,
  selection?: ModelSelection,
): string {
  const nodes: OrderedNode[] = [];
  if (!selection || selection.parent) nodes.push(...model.parent);
  for (const [childType, byName] of model.children) {
    const wanted = selection ? selection.children?.get(childType) : undefined;
    if (selection?.children && !wanted) continue;
    for (const [name, node] of byName) {
      if (wanted && !wanted.has(name)) continue;
      nodes.push(node);
    }
  }
  const ordered = nodes
    .map((node, index) => {
      const tag = tagOf(node);
      const idElement = type.children.find((c) => c.element === tag)?.idElement ?? 'fullName';
      return { node, index, tag, name: childText(node, idElement) ?? '' };
    })
    .sort((a, b) =>
      a.tag === b.tag ? compareText(a.name, b.name) || a.index - b.index : compareText(a.tag, b.tag),
    )
    .map((e) => e.node);
  return buildDocument(makeNode(type.xmlName, ordered, { '@_xmlns': METADATA_NS }));
}

/** Code-point order, as Salesforce sorts names in the files it writes. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Child full names of a model by child type (`Parent.Child`, custom labels by their own name). */
export function childFullNames(
  parentType: string,
  parentName: string,
  model: DecomposedModel,
): Array<{ type: string; fullName: string }> {
  const out: Array<{ type: string; fullName: string }> = [];
  for (const [childType, byName] of model.children) {
    for (const name of byName.keys()) {
      out.push({ type: childType, fullName: childFullName(parentType, parentName, name) });
    }
  }
  return out;
}
