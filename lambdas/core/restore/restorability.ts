import { ROW_STATE_FIELDS, SYSTEM_FIELDS } from '../snapshot/system-fields.ts';
import type { FieldInfo, ObjectInfo, SnapshotField } from './model.ts';

/** Fields Salesforce sets itself; writable on insert only with "Set Audit Fields upon Record Creation". */
export const AUDIT_FIELDS = new Set([
  'CreatedDate',
  'CreatedById',
  'LastModifiedDate',
  'LastModifiedById',
  'SystemModstamp',
]);

/** Fields that identify or describe a row's state rather than its data. */
const NOT_WRITTEN: ReadonlySet<string> = new Set([...ROW_STATE_FIELDS, ...SYSTEM_FIELDS]);

/** A field the restore cannot put back, and why. */
export interface UnrestorableField {
  readonly field: string;
  readonly reason: string;
}

/** Which snapshot fields of an object can be written on insert and on update, and which cannot. */
export interface FieldSplit {
  /** Fields sent when a row is inserted. */
  readonly insert: readonly FieldInfo[];
  /** Fields sent when a row is updated. */
  readonly update: readonly FieldInfo[];
  readonly unrestorable: readonly UnrestorableField[];
}

/** Splits the snapshot's fields of an object by what the live org lets the restore write. */
export function splitFields(snapshotFields: readonly SnapshotField[], live: ObjectInfo): FieldSplit {
  const byName = new Map(live.fields.map((f) => [f.name, f]));
  const insert: FieldInfo[] = [];
  const update: FieldInfo[] = [];
  const unrestorable: UnrestorableField[] = [];
  for (const sf of snapshotFields) {
    if (NOT_WRITTEN.has(sf.name)) continue;
    const f = byName.get(sf.name);
    if (!f) {
      unrestorable.push({
        field: sf.name,
        reason: 'the field no longer exists in the org; restore its metadata (CustomField) first',
      });
      continue;
    }
    if (f.type === 'address' || f.type === 'location') continue; // restored through its components
    if (f.type === 'base64') {
      unrestorable.push({
        field: f.name,
        reason: 'file content is restored by the files step, not as a field',
      });
      continue;
    }
    if (f.createable) insert.push(f);
    if (f.updateable) update.push(f);
    if (f.createable || f.updateable) {
      if (!f.updateable && !AUDIT_FIELDS.has(f.name)) {
        unrestorable.push({
          field: f.name,
          reason: 'can be set on insert only, so changed rows keep the live value',
        });
      } else if (AUDIT_FIELDS.has(f.name)) {
        unrestorable.push({
          field: f.name,
          reason: 'audit field: set on inserted rows only; kept rows keep the live value',
        });
      }
      continue;
    }
    unrestorable.push({ field: f.name, reason: whyNotWritable(f) });
  }
  return { insert, update, unrestorable };
}

function whyNotWritable(f: FieldInfo): string {
  if (f.name === 'SystemModstamp') return 'system timestamp: Salesforce sets it on every write';
  if (AUDIT_FIELDS.has(f.name)) {
    return 'audit field: the org does not grant "Set Audit Fields upon Record Creation", so Salesforce sets it';
  }
  if (f.calculated) return 'formula field: Salesforce computes it';
  if (f.autoNumber) return 'auto-number field: Salesforce assigns it';
  return 'read-only field: not createable or updateable';
}
