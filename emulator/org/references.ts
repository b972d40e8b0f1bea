import { SalesforceError, type FieldDef } from './api.ts';
import type { OrgContext } from './context.ts';
import type { Table } from './store.ts';

/** Checks that a reference value points at a live row of an allowed type. */
export function checkReference(ctx: OrgContext, field: FieldDef, id: string): void {
  const target = ctx.store.forId(id);
  if (!target || !field.referenceTo.some((t) => t.toLowerCase() === target.def.name.toLowerCase())) {
    throw new SalesforceError(
      'FIELD_INTEGRITY_EXCEPTION',
      `${field.label}: id value of incorrect type: ${id}`,
      {
        fields: [field.name],
      },
    );
  }
  const row = target.rows.get(id);
  if (!row) {
    throw new SalesforceError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', {
      fields: [field.name],
    });
  }
  if (target.isDeleted(row)) {
    throw new SalesforceError('ENTITY_IS_DELETED', 'entity is deleted', { fields: [field.name] });
  }
}

/** The reference field whose relationship name is given (`Account` -> `AccountId`). */
export function relationshipField(table: Table, relationshipName: string): FieldDef | undefined {
  const lower = relationshipName.toLowerCase();
  return table.def.fields.find((f) => f.type === 'reference' && f.relationshipName?.toLowerCase() === lower);
}

/**
 * Resolves a parent given by external id (`Account: { Ext__c: 'x' }` or `Account.Ext__c = 'x'`)
 * to its id, as REST and Bulk writes allow.
 */
export function resolveByExternalId(
  ctx: OrgContext,
  field: FieldDef,
  externalField: string,
  value: unknown,
  typeHint?: string,
): string | null {
  if (value === null || value === undefined || value === '') return null;
  const targetName = typeHint ?? (field.referenceTo.length === 1 ? field.referenceTo[0] : undefined);
  if (!targetName) {
    throw new SalesforceError(
      'INVALID_FIELD',
      `${field.relationshipName}: a polymorphic relationship needs attributes.type to name the target object`,
      { fields: [field.name] },
    );
  }
  const target = ctx.store.require(targetName);
  const extField = target.field(externalField);
  if (!extField || !(extField.externalId || extField.idLookup)) {
    throw new SalesforceError(
      'INVALID_FIELD',
      `Field name provided, ${externalField} is not an External ID or indexed field for ${target.def.name}`,
      { fields: [field.name] },
    );
  }
  if (extField.name === 'Id') return String(value);
  const ids = ctx.indexes
    .lookup(target, target.slotOf(extField.name), value)
    .filter((id) => !target.isDeleted(target.rows.get(id)!));
  if (ids.length === 0) {
    throw new SalesforceError(
      'INVALID_FIELD',
      `Foreign key external ID: ${String(value)} not found for field ${extField.name} in entity ${target.def.name}`,
      { fields: [field.name] },
    );
  }
  if (ids.length > 1) {
    throw new SalesforceError(
      'DUPLICATE_EXTERNAL_ID',
      `${extField.name}: more than one record found for external id field: [${ids.join(', ')}]`,
      { fields: [field.name] },
    );
  }
  return ids[0]!;
}
