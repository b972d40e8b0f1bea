/**
 * XML helpers for the Metadata API: a lenient reader for requests and package.xml, an
 * order-preserving tree for metadata files, and a writer for SOAP answers.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

/** The Metadata API namespace every metadata file and SOAP body uses. */
export const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

const reader = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

/** Parses XML into plain objects: namespace prefixes dropped, every value kept as text. */
export function readXml(text: string): Record<string, unknown> {
  return reader.parse(text) as Record<string, unknown>;
}

/** Returns undefined for well-formed XML, otherwise a message with line and column. */
export function xmlProblem(text: string): string | undefined {
  const result = XMLValidator.validate(text);
  if (result === true) return undefined;
  return `${result.err.msg} (line ${result.err.line}, column ${result.err.col})`;
}

/** Wraps a value that may be absent, single or repeated into an array. */
export function asArray<T = unknown>(value: unknown): T[] {
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value]) as T[];
}

/** Reads a text value from a parsed node (numbers and booleans stay text). */
export function asText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object') return undefined;
  return String(value);
}

/** Reads an xsd:boolean. */
export function asBoolean(value: unknown, fallback: boolean): boolean {
  const text = asText(value);
  if (text === undefined || text === '') return fallback;
  return text === 'true' || text === '1';
}

/** Escapes text for element content. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A value the writer can serialise: objects keep their key order; arrays repeat the element. */
export type XmlValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | XmlValue[]
  | { [key: string]: XmlValue };

/** Serialises `<name>value</name>`; undefined values are left out, null becomes xsi:nil. */
export function element(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => element(name, v)).join('');
  if (value === null) return `<${name} xsi:nil="true"/>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value)
      .map(([k, v]) => element(k, v))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** One node of an order-preserving tree, as fast-xml-parser's `preserveOrder` mode gives it. */
export type OrderedNode = Record<string, unknown>;

const orderedParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  commentPropName: '#comment',
});

const orderedBuilder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  format: true,
  indentBy: '    ',
  suppressEmptyNode: true,
  commentPropName: '#comment',
});

/** Parses a metadata file, keeping element order, attributes and comments. */
export function parseOrdered(text: string): OrderedNode[] {
  return orderedParser.parse(text) as OrderedNode[];
}

/** The tag of an ordered node (its one key besides attributes). */
export function tagOf(node: OrderedNode): string {
  return Object.keys(node).find((k) => k !== ':@') ?? '';
}

/** The child nodes of an ordered node. */
export function childrenOf(node: OrderedNode): OrderedNode[] {
  const value = node[tagOf(node)];
  return Array.isArray(value) ? (value as OrderedNode[]) : [];
}

/** The text of the first child element called `tag`, if any. */
export function childText(node: OrderedNode, tag: string): string | undefined {
  const child = childrenOf(node).find((c) => tagOf(c) === tag);
  if (!child) return undefined;
  const text = childrenOf(child).find((c) => tagOf(c) === '#text');
  return text ? String(text['#text']) : '';
}

/** The root element of a parsed document (skipping the declaration and comments). */
export function rootOf(nodes: OrderedNode[]): OrderedNode | undefined {
  return nodes.find((n) => {
    const tag = tagOf(n);
    return tag !== '?xml' && tag !== '#comment' && tag !== '#text';
  });
}

/** Makes an element node with the given tag, children and attributes. */
export function makeNode(
  tag: string,
  children: OrderedNode[],
  attributes?: Record<string, string>,
): OrderedNode {
  const node: OrderedNode = { [tag]: children };
  if (attributes && Object.keys(attributes).length > 0) node[':@'] = attributes;
  return node;
}

/** Writes a metadata document: XML declaration plus the root element, four-space indented. */
export function buildDocument(root: OrderedNode): string {
  const body = orderedBuilder.build([root]) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body.trim()}\n`;
}
