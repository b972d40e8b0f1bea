/**
 * Custom objects and custom fields that exist in the data org but in no project (a generated org
 * for benchmarks), described as CustomObject metadata so a metadata backup sees them too.
 */
import type { FieldDef, ObjectDef } from '../org/api.ts';
import type { ComponentData } from './component.ts';
import { type DecomposedModel, emptyModel, putChild } from './decomposed.ts';
import { makeNode, type OrderedNode } from './xml.ts';

type Value = string | number | boolean | OrderedNode[];

/** Builds `<tag>` children from [tag, value] pairs; undefined values are left out. */
function elements(pairs: ReadonlyArray<readonly [string, Value | undefined]>): OrderedNode[] {
  return pairs.flatMap(([tag, value]) => {
    if (value === undefined) return [];
    return [makeNode(tag, Array.isArray(value) ? value : [{ '#text': String(value) }])];
  });
}

function valueSet(field: FieldDef): OrderedNode[] {
  const values = field.picklistValues.map((v) =>
    makeNode(
      'value',
      elements([
        ['fullName', v.value],
        ['default', v.defaultValue],
        ['label', v.label],
      ]),
    ),
  );
  return elements([
    ['restricted', field.restrictedPicklist ? true : undefined],
    ['valueSetDefinition', [...elements([['sorted', false]]), ...values]],
  ]);
}

/** The Metadata API field type and type-specific elements of a field. */
function typeElements(field: FieldDef): ReadonlyArray<readonly [string, Value | undefined]> | undefined {
  const number = (type: string, precision: number, scale: number) =>
    [
      ['precision', precision],
      ['scale', scale],
      ['type', type],
    ] as const;
  switch (field.type) {
    case 'string':
      return field.autoNumber
        ? [
            ['displayFormat', field.displayFormat ?? '{0}'],
            ['type', 'AutoNumber'],
          ]
        : [
            ['length', field.length],
            ['type', 'Text'],
          ];
    case 'textarea':
      return field.length > 255
        ? [
            ['length', field.length],
            ['type', 'LongTextArea'],
            ['visibleLines', 3],
          ]
        : [['type', 'TextArea']];
    case 'email':
      return [['type', 'Email']];
    case 'phone':
      return [['type', 'Phone']];
    case 'url':
      return [['type', 'Url']];
    case 'encryptedstring':
      return [
        ['length', field.length],
        ['type', 'EncryptedText'],
      ];
    case 'boolean':
      return [
        ['defaultValue', field.defaultValue === true ? 'true' : 'false'],
        ['type', 'Checkbox'],
      ];
    case 'int':
      return number('Number', field.digits || 18, 0);
    case 'double':
      return number('Number', field.precision, field.scale);
    case 'currency':
      return number('Currency', field.precision, field.scale);
    case 'percent':
      return number('Percent', field.precision, field.scale);
    case 'date':
      return [['type', 'Date']];
    case 'datetime':
      return [['type', 'DateTime']];
    case 'time':
      return [['type', 'Time']];
    case 'picklist':
      return [
        ['type', 'Picklist'],
        ['valueSet', valueSet(field)],
      ];
    case 'multipicklist':
      return [
        ['type', 'MultiselectPicklist'],
        ['valueSet', valueSet(field)],
        ['visibleLines', 4],
      ];
    case 'location':
      return [
        ['displayLocationInDecimal', true],
        ['scale', field.scale],
        ['type', 'Location'],
      ];
    case 'reference': {
      const target = field.referenceTo[0];
      if (field.referenceTo.length !== 1 || !target) return undefined;
      const relationshipName = field.childRelationshipName ?? undefined;
      return field.cascadeDelete
        ? [
            ['referenceTo', target],
            ['relationshipLabel', relationshipName],
            ['relationshipName', relationshipName],
            ['relationshipOrder', field.relationshipOrder ?? 0],
            ['type', 'MasterDetail'],
          ]
        : [
            ['deleteConstraint', 'SetNull'],
            ['referenceTo', target],
            ['relationshipLabel', relationshipName],
            ['relationshipName', relationshipName],
            ['type', 'Lookup'],
          ];
    }
    default:
      return undefined;
  }
}

/** A `<fields>` node for a custom field, or undefined for types a custom field cannot have. */
function fieldNode(field: FieldDef): OrderedNode | undefined {
  const typed = typeElements(field);
  if (!typed) return undefined;
  const required =
    field.type !== 'boolean' && field.type !== 'reference' && !field.calculated && field.required;
  const pairs: Array<readonly [string, Value | undefined]> = [
    ['fullName', field.name],
    ['externalId', field.externalId],
    ['formula', field.calculated ? (field.calculatedFormula ?? '') : undefined],
    ['label', field.label],
    ['required', field.type === 'boolean' || field.type === 'reference' ? undefined : required],
    ['unique', field.unique && !field.calculated ? true : undefined],
    ...typed,
  ];
  return makeNode(
    'fields',
    elements(
      [...pairs].sort((a, b) => (a[0] === 'fullName' ? -1 : b[0] === 'fullName' ? 1 : a[0] < b[0] ? -1 : 1)),
    ),
  );
}

function objectParent(def: ObjectDef): OrderedNode[] {
  const name = def.fields.find((f) => f.nameField);
  const nameField = elements([
    ['displayFormat', name?.autoNumber ? (name.displayFormat ?? '{0}') : undefined],
    ['label', name?.label ?? `${def.label} Name`],
    ['type', name?.autoNumber ? 'AutoNumber' : 'Text'],
  ]);
  return elements([
    ['deploymentStatus', 'Deployed'],
    ['enableActivities', false],
    ['enableBulkApi', true],
    ['enableReports', true],
    ['enableSearch', def.searchable],
    ['enableSharing', true],
    ['enableStreamingApi', true],
    ['label', def.label],
    ['nameField', nameField],
    ['pluralLabel', def.labelPlural],
    ['sharingModel', 'ReadWrite'],
  ]);
}

/**
 * CustomObject components for org objects: whole custom objects, and the custom fields of
 * standard objects. Objects and fields the projects already describe are left to the projects.
 */
export function orgObjectComponents(
  objects: readonly ObjectDef[],
  described: (objectName: string) => DecomposedModel | undefined,
): ComponentData[] {
  const out: ComponentData[] = [];
  for (const def of objects) {
    const existing = described(def.name);
    const model = emptyModel();
    if (def.custom && !existing) model.parent = objectParent(def);
    for (const field of def.fields) {
      // Components of a compound field (Location__Latitude__s) belong to their field, not listed alone.
      if (!field.custom || field.compoundFieldName !== null) continue;
      if (existing?.children.get('CustomField')?.has(field.name)) continue;
      const node = fieldNode(field);
      if (node) putChild(model, 'CustomField', field.name, node);
    }
    if (model.parent.length === 0 && model.children.size === 0) continue;
    out.push({
      type: 'CustomObject',
      fullName: def.name,
      files: new Map(),
      model,
      fileName: `objects/${def.name}.object`,
    });
  }
  return out;
}
