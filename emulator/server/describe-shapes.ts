import type { FieldDef, ObjectDef } from '../org/api.ts';
import { AUDIT_ON_CREATE } from '../org/writes.ts';

/** The `sobjects` entry of describeGlobal for one object. */
export function globalEntry(def: ObjectDef, version: string): Record<string, unknown> {
  const base = `/services/data/v${version}/sobjects/${def.name}`;
  return {
    activateable: false,
    associateEntityType: null,
    associateParentEntity: null,
    createable: def.createable,
    custom: def.custom,
    customSetting: def.customSetting ?? false,
    deepCloneable: false,
    deletable: def.deletable,
    deprecatedAndHidden: false,
    feedEnabled: false,
    hasSubtypes: false,
    isInterface: def.isInterface ?? false,
    isSubtype: false,
    keyPrefix: def.keyPrefix,
    label: def.label,
    labelPlural: def.labelPlural,
    layoutable: def.layoutable,
    mergeable: false,
    mruEnabled: false,
    name: def.name,
    queryable: def.queryable,
    replicateable: def.replicateable,
    retrieveable: def.retrieveable,
    searchable: def.searchable,
    triggerable: def.triggerable,
    undeletable: def.undeletable,
    updateable: def.updateable,
    urls: {
      rowTemplate: `${base}/{ID}`,
      defaultValues: `${base}/defaultValues?recordTypeId&fields`,
      describe: `${base}/describe`,
      sobject: base,
    },
  };
}

function byteLength(field: FieldDef): number {
  if (field.type === 'id' || field.type === 'reference') return 18;
  return field.length * 3;
}

/** What in the org's settings changes how fields describe themselves. */
export interface DescribeSettings {
  /** "Set Audit Fields upon Record Creation": the audit fields become createable. */
  readonly setAuditFieldsOnCreate: boolean;
}

/** One entry of `fields` in an object's describe. */
export function fieldDescribe(field: FieldDef, settings?: DescribeSettings): Record<string, unknown> {
  const auditCreateable =
    settings?.setAuditFieldsOnCreate === true && AUDIT_ON_CREATE.has(field.name.toLowerCase());
  return {
    aggregatable: field.groupable,
    aiPredictionField: false,
    autoNumber: field.autoNumber,
    byteLength: byteLength(field),
    calculated: field.calculated,
    calculatedFormula: field.calculatedFormula,
    cascadeDelete: field.cascadeDelete,
    caseSensitive: field.caseSensitive,
    compoundFieldName: field.compoundFieldName,
    controllerName: null,
    createable: field.createable || auditCreateable,
    custom: field.custom,
    defaultValue: field.defaultValue,
    defaultValueFormula: null,
    defaultedOnCreate: field.defaultedOnCreate,
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: field.digits,
    displayLocationInDecimal: false,
    encrypted: field.type === 'encryptedstring',
    externalId: field.externalId,
    extraTypeInfo: null,
    filterable: field.filterable,
    filteredLookupInfo: null,
    formulaTreatNullNumberAsZero: false,
    groupable: field.groupable,
    highScaleNumber: false,
    htmlFormatted: false,
    idLookup: field.idLookup,
    inlineHelpText: null,
    label: field.label,
    length: field.length,
    mask: null,
    maskType: null,
    name: field.name,
    nameField: field.nameField,
    namePointing: field.referenceTo.length > 1,
    nillable: field.nillable,
    permissionable: field.custom && field.nillable,
    picklistValues: field.picklistValues.map((p) => ({
      active: p.active,
      defaultValue: p.defaultValue,
      label: p.label,
      validFor: null,
      value: p.value,
    })),
    polymorphicForeignKey: field.referenceTo.length > 1,
    precision: field.precision,
    queryByDistance: false,
    referenceTargetField: null,
    referenceTo: [...field.referenceTo],
    relationshipName: field.relationshipName,
    relationshipOrder: field.relationshipOrder,
    restrictedDelete: false,
    restrictedPicklist: field.restrictedPicklist,
    scale: field.scale,
    searchPrefilterable: false,
    soapType: field.soapType,
    sortable: field.sortable,
    type: field.type,
    unique: field.unique,
    updateable: field.updateable,
    writeRequiresMasterRead: false,
  };
}

/** The full describe of one object. */
export function objectDescribe(
  def: ObjectDef,
  version: string,
  settings?: DescribeSettings,
): Record<string, unknown> {
  const entry = globalEntry(def, version);
  const urls = entry.urls as Record<string, string>;
  return {
    actionOverrides: [],
    ...entry,
    childRelationships: def.childRelationships.map((c) => ({
      cascadeDelete: c.cascadeDelete,
      childSObject: c.childSObject,
      deprecatedAndHidden: false,
      field: c.field,
      junctionIdListNames: [],
      junctionReferenceTo: [],
      relationshipName: c.relationshipName,
      restrictedDelete: false,
    })),
    compactLayoutable: def.layoutable,
    defaultImplementation: null,
    extendedBy: null,
    extendsInterfaces: null,
    fields: def.fields.map((f) => fieldDescribe(f, settings)),
    implementedBy: null,
    implementsInterfaces: null,
    listviewable: null,
    lookupLayoutable: null,
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    recordTypeInfos: [],
    searchLayoutable: def.searchable,
    sobjectDescribeOption: 'FULL',
    supportedScopes: [{ label: 'All records', name: 'everything' }],
    urls: {
      ...urls,
      compactLayouts: `${urls.sobject}/describe/compactLayouts`,
      approvalLayouts: `${urls.sobject}/describe/approvalLayouts`,
      uiDetailTemplate: null,
      uiEditTemplate: null,
      listviews: `${urls.sobject}/listviews`,
      uiNewRecord: null,
      layouts: `${urls.sobject}/describe/layouts`,
      quickActions: `${urls.sobject}/quickActions`,
    },
  };
}
