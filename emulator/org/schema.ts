import type { FieldDef, FieldType, ObjectDef, PicklistValue, SoapType } from './api.ts';

/** What a field definition must say; everything else gets the default for its type. */
export type FieldSpec = Partial<FieldDef> & { readonly name: string; readonly type: FieldType };

const SOAP_TYPES: Record<FieldType, SoapType> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  multipicklist: 'xsd:string',
  combobox: 'xsd:string',
  encryptedstring: 'xsd:string',
  boolean: 'xsd:boolean',
  int: 'xsd:int',
  long: 'xsd:long',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
  time: 'xsd:time',
  base64: 'xsd:base64Binary',
  address: 'urn:address',
  location: 'urn:location',
  anyType: 'xsd:anyType',
};

const DEFAULT_LENGTH: Partial<Record<FieldType, number>> = {
  id: 18,
  reference: 18,
  string: 255,
  textarea: 255,
  email: 80,
  phone: 40,
  url: 255,
  picklist: 255,
  multipicklist: 4099,
  combobox: 255,
  encryptedstring: 175,
};

/** Labels like Salesforce derives them: `AnnualRevenue` -> `Annual Revenue`, `Foo__c` -> `Foo`. */
export function labelFromName(name: string): string {
  return name
    .replace(/__c$/, '')
    .replace(/Id$/, ' ID')
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim();
}

/** A full field definition from a partial spec, with Salesforce's defaults for its type. */
export function field(input: FieldSpec): FieldDef {
  // Explicit `undefined` in a spec means "use the default", so drop those keys before spreading.
  const spec = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as FieldSpec;
  const t = spec.type;
  const unsortable = t === 'textarea' && (spec.length ?? 255) > 255;
  const compound = t === 'address' || t === 'location';
  const filterable = !(unsortable || t === 'base64' || t === 'multipicklist' || compound);
  const nillable = spec.nillable ?? (t !== 'boolean' && t !== 'id');
  const createable = spec.createable ?? !(t === 'id' || compound || spec.calculated || spec.autoNumber);
  const updateable = spec.updateable ?? createable;
  const defaultedOnCreate = spec.defaultedOnCreate ?? (t === 'boolean' || Boolean(spec.autoNumber));
  const def: FieldDef = {
    label: spec.label ?? labelFromName(spec.name),
    soapType: SOAP_TYPES[t],
    length: DEFAULT_LENGTH[t] ?? 0,
    precision: t === 'double' || t === 'currency' || t === 'percent' ? 18 : 0,
    scale: t === 'currency' ? 2 : 0,
    digits: t === 'int' ? 9 : 0,
    referenceTo: [],
    relationshipName: null,
    relationshipOrder: null,
    cascadeDelete: false,
    custom: spec.name.endsWith('__c'),
    nillable,
    createable,
    updateable,
    filterable,
    sortable: filterable && t !== 'textarea',
    groupable: filterable && !['double', 'currency', 'percent', 'datetime', 'textarea'].includes(t),
    externalId: false,
    unique: false,
    caseSensitive: false,
    idLookup: t === 'id',
    nameField: false,
    calculated: false,
    calculatedFormula: null,
    autoNumber: false,
    defaultedOnCreate,
    defaultValue: t === 'boolean' ? false : null,
    picklistValues: [],
    restrictedPicklist: false,
    compoundFieldName: null,
    childRelationshipName: null,
    displayFormat: null,
    ...spec,
    required: false,
  };
  return { ...def, required: spec.required ?? (!def.nillable && def.createable && !def.defaultedOnCreate) };
}

/** Picklist entries from plain values; the first is the default when `defaultFirst`. */
export function picklistValues(values: readonly string[], defaultFirst = false): PicklistValue[] {
  return values.map((value, i) => ({
    value,
    label: value,
    active: true,
    defaultValue: defaultFirst && i === 0,
  }));
}

/** A text field of the given length. */
export function text(name: string, length = 255, extra: Partial<FieldSpec> = {}): FieldDef {
  return field({ name, type: 'string', length, ...extra });
}

/** A lookup; `relationshipName` defaults to the name without its `Id` suffix. */
export function ref(
  name: string,
  referenceTo: readonly string[],
  extra: Partial<FieldSpec> & { childRelationshipName?: string | null } = {},
): FieldDef {
  return field({
    name,
    type: 'reference',
    referenceTo,
    relationshipName: name.endsWith('Id') ? name.slice(0, -2) : null,
    ...extra,
  });
}

/** A picklist (unrestricted unless said otherwise). */
export function picklist(name: string, values: readonly string[], extra: Partial<FieldSpec> = {}): FieldDef {
  return field({ name, type: 'picklist', picklistValues: picklistValues(values), ...extra });
}

/** A field of any other type. */
export function typed(name: string, type: FieldType, extra: Partial<FieldSpec> = {}): FieldDef {
  return field({ name, type, ...extra });
}

/** A compound address and its components, e.g. `BillingAddress` + `BillingStreet`, ... */
export function address(prefix: string): FieldDef[] {
  const compound = prefix + 'Address';
  const part = (n: string, type: FieldType, length: number, extra: Partial<FieldSpec> = {}) =>
    field({ name: prefix + n, type, length, compoundFieldName: compound, ...extra });
  return [
    part('Street', 'textarea', 255),
    part('City', 'string', 40),
    part('State', 'string', 80),
    part('PostalCode', 'string', 20),
    part('Country', 'string', 80),
    part('Latitude', 'double', 0, { precision: 18, scale: 15 }),
    part('Longitude', 'double', 0, { precision: 18, scale: 15 }),
    part('GeocodeAccuracy', 'picklist', 40, {
      picklistValues: picklistValues([
        'Address',
        'NearAddress',
        'Block',
        'Street',
        'ExtendedZip',
        'Zip',
        'City',
      ]),
    }),
    field({ name: compound, type: 'address', label: `${labelFromName(prefix)} Address`.trim() }),
  ];
}

/** The components of a compound address field, keyed by the JSON property REST uses. */
export const ADDRESS_PARTS: ReadonlyArray<readonly [string, string]> = [
  ['city', 'City'],
  ['country', 'Country'],
  ['geocodeAccuracy', 'GeocodeAccuracy'],
  ['latitude', 'Latitude'],
  ['longitude', 'Longitude'],
  ['postalCode', 'PostalCode'],
  ['state', 'State'],
  ['street', 'Street'],
];

/** Options for `sobject`. */
export interface ObjectSpec {
  readonly name: string;
  readonly keyPrefix: string;
  readonly label?: string;
  readonly labelPlural?: string;
  readonly custom?: boolean;
  /** Add `OwnerId` pointing at these objects; omit for objects without an owner. */
  readonly owner?: readonly string[];
  /** Objects without `IsDeleted` (User, Organization, ...). @default true */
  readonly isDeleted?: boolean;
  /** Objects with only `SystemModstamp` as audit field (ContentDocumentLink). @default false */
  readonly modstampOnly?: boolean;
  readonly flags?: Partial<
    Pick<
      ObjectDef,
      | 'queryable'
      | 'createable'
      | 'updateable'
      | 'deletable'
      | 'undeletable'
      | 'retrieveable'
      | 'bulkQueryable'
      | 'searchable'
      | 'replicateable'
    >
  >;
}

const AUDIT_READ_ONLY = { createable: false, updateable: false, nillable: false, defaultedOnCreate: true };

/** An object with `Id`, the system audit fields, optional `OwnerId`, and the given fields. */
export function sobject(spec: ObjectSpec, fields: readonly FieldDef[]): ObjectDef {
  const audit: FieldDef[] = [
    field({ name: 'Id', type: 'id', label: `${spec.label ?? spec.name} ID`, ...AUDIT_READ_ONLY }),
  ];
  if (spec.owner) {
    audit.push(
      ref('OwnerId', spec.owner, {
        label: 'Owner ID',
        nillable: false,
        defaultedOnCreate: true,
        relationshipName: 'Owner',
      }),
    );
  }
  if (spec.isDeleted !== false)
    audit.push(typed('IsDeleted', 'boolean', { label: 'Deleted', ...AUDIT_READ_ONLY }));
  const modstamp = typed('SystemModstamp', 'datetime', { label: 'System Modstamp', ...AUDIT_READ_ONLY });
  const auditTail: FieldDef[] = spec.modstampOnly
    ? [modstamp]
    : [
        typed('CreatedDate', 'datetime', { label: 'Created Date', ...AUDIT_READ_ONLY }),
        ref('CreatedById', ['User'], { label: 'Created By ID', ...AUDIT_READ_ONLY }),
        typed('LastModifiedDate', 'datetime', { label: 'Last Modified Date', ...AUDIT_READ_ONLY }),
        ref('LastModifiedById', ['User'], { label: 'Last Modified By ID', ...AUDIT_READ_ONLY }),
        modstamp,
      ];
  const custom = spec.custom ?? spec.name.endsWith('__c');
  const label = spec.label ?? labelFromName(spec.name);
  const flags = spec.flags ?? {};
  const createable = flags.createable ?? true;
  return {
    name: spec.name,
    label,
    labelPlural: spec.labelPlural ?? `${label}s`,
    keyPrefix: spec.keyPrefix,
    custom,
    queryable: flags.queryable ?? true,
    createable,
    updateable: flags.updateable ?? createable,
    deletable: flags.deletable ?? createable,
    undeletable: flags.undeletable ?? (createable && spec.isDeleted !== false),
    retrieveable: flags.retrieveable ?? true,
    searchable: flags.searchable ?? createable,
    replicateable: flags.replicateable ?? true,
    layoutable: createable,
    triggerable: createable,
    bulkQueryable: flags.bulkQueryable ?? flags.queryable ?? true,
    fields: [...audit, ...fields, ...auditTail],
    childRelationships: [],
  };
}
