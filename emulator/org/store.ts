import { SalesforceError, type ChildRelationship, type FieldDef, type ObjectDef } from './api.ts';
import { customKeyPrefix, IdFactory, toId18 } from './ids.ts';
import { POLYMORPHIC_CUSTOM_TARGETS } from './standard-objects-content.ts';
import type { Stored } from './values.ts';

/**
 * A stored row: one slot per stored field, in the table's field order (no per-row keys). Rows are
 * never changed in place once stored: every write stores a changed copy, so a reference to a row
 * (an ORDER BY sort, a Bulk job's snapshot) keeps the values it had.
 */
export type Row = Stored[];

/**
 * Rows of one object. A row is a plain array indexed by `slot(field)`, so a million rows cost a
 * million arrays, not a million objects with repeated key strings.
 */
export class Table {
  def: ObjectDef;
  /** Stored fields (compound address/location fields are derived, not stored). */
  readonly stored: FieldDef[] = [];
  private readonly slots = new Map<string, number>();
  private byName = new Map<string, FieldDef>();
  readonly rows = new Map<string, Row>();
  /** Next auto-number per field. */
  readonly autoNumbers = new Map<string, number>();
  readonly idSlot: number;
  readonly deletedSlot: number;
  /** Slots of audit fields (-1 where the object has none), looked up once. */
  audit = {
    owner: -1,
    createdDate: -1,
    createdBy: -1,
    lastModifiedDate: -1,
    lastModifiedBy: -1,
    systemModstamp: -1,
  };
  /** Slots of fields required on create. */
  requiredSlots: number[] = [];

  constructor(def: ObjectDef) {
    this.def = def;
    this.setDef(def);
    this.idSlot = this.slotOf('Id');
    this.deletedSlot = this.slots.get('isdeleted') ?? -1;
  }

  /** Adopts a new definition, keeping slots of fields that already exist. */
  setDef(def: ObjectDef): void {
    this.def = def;
    this.byName = new Map(def.fields.map((f) => [f.name.toLowerCase(), f]));
    for (const f of def.fields) {
      if (f.type === 'address' || f.type === 'location') continue;
      const key = f.name.toLowerCase();
      const slot = this.slots.get(key);
      if (slot === undefined) {
        this.slots.set(key, this.stored.length);
        this.stored.push(f);
      } else {
        this.stored[slot] = f;
      }
    }
    const at = (name: string) => this.slots.get(name.toLowerCase()) ?? -1;
    this.audit = {
      owner: at('OwnerId'),
      createdDate: at('CreatedDate'),
      createdBy: at('CreatedById'),
      lastModifiedDate: at('LastModifiedDate'),
      lastModifiedBy: at('LastModifiedById'),
      systemModstamp: at('SystemModstamp'),
    };
    this.requiredSlots = this.stored.flatMap((f, i) => (f.required ? [i] : []));
  }

  /** Slot of a stored field, or -1. */
  slot(name: string): number {
    return this.slots.get(name.toLowerCase()) ?? -1;
  }

  /** Slot of a stored field that must exist. */
  slotOf(name: string): number {
    const s = this.slot(name);
    if (s < 0) throw new Error(`${this.def.name} has no stored field ${name}`);
    return s;
  }

  /** Field definition by name (case-insensitive), including compound fields. */
  field(name: string): FieldDef | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** A stored value (null for slots added after the row was written). */
  get(row: Row, slot: number): Stored {
    return slot < 0 ? null : (row[slot] ?? null);
  }

  isDeleted(row: Row): boolean {
    return this.deletedSlot >= 0 && row[this.deletedSlot] === true;
  }
}

function unsupportedType(name: string): SalesforceError {
  return new SalesforceError(
    'INVALID_TYPE',
    `sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
  );
}

/** Schema registry plus tables: what every org operation reads and writes. */
export class OrgStore {
  private readonly tables = new Map<string, Table>();
  private readonly prefixes = new Map<string, Table>();
  private childCache: Map<string, ChildRelationship[]> | undefined;
  private customObjects = 0;
  readonly ids = new IdFactory();

  constructor(objects: readonly ObjectDef[]) {
    for (const def of objects) this.add(def);
  }

  private add(def: ObjectDef): Table {
    const table = new Table(def);
    this.tables.set(def.name.toLowerCase(), table);
    this.prefixes.set(def.keyPrefix, table);
    this.childCache = undefined;
    return table;
  }

  /** Every table, in name order. */
  all(): Table[] {
    return [...this.tables.values()].sort((a, b) => a.def.name.localeCompare(b.def.name));
  }

  find(name: string): Table | undefined {
    return this.tables.get(name.toLowerCase());
  }

  /** The table for a name; `INVALID_TYPE` as SOQL and writes report it. */
  require(name: string): Table {
    const t = this.find(name);
    if (!t) throw unsupportedType(name);
    return t;
  }

  /** The table an id belongs to by key prefix. */
  forId(id: string): Table | undefined {
    return this.prefixes.get(id.slice(0, 3));
  }

  /** Locates a row (live or deleted) by a 15- or 18-character id. */
  locate(id: string): { table: Table; id: string; row: Row } | undefined {
    const id18 = toId18(id);
    if (!id18) return undefined;
    const table = this.forId(id18);
    const row = table?.rows.get(id18);
    return table && row ? { table, id: id18, row } : undefined;
  }

  /** Next key prefix for a custom object not yet defined. */
  nextCustomPrefix(): string {
    let prefix = customKeyPrefix(this.customObjects++);
    while (this.prefixes.has(prefix)) prefix = customKeyPrefix(this.customObjects++);
    return prefix;
  }

  /**
   * Adds an object or replaces its definition; custom objects join the polymorphic lookups. An
   * empty `keyPrefix` gets the next custom prefix (a00, a01, ...).
   */
  define(input: ObjectDef): void {
    let def = input;
    const existing = this.find(def.name);
    if (!existing && def.keyPrefix === '') def = { ...def, keyPrefix: this.nextCustomPrefix() };
    if (existing) {
      if (existing.def.keyPrefix !== def.keyPrefix) def = { ...def, keyPrefix: existing.def.keyPrefix };
      existing.setDef(def);
      this.childCache = undefined;
    } else {
      if (this.prefixes.has(def.keyPrefix)) {
        throw new Error(`Key prefix ${def.keyPrefix} of ${def.name} is already used by another object`);
      }
      this.add(def);
    }
    // Custom settings are not records activities or files can hang off.
    if (def.custom && def.queryable && def.name.endsWith('__c') && !def.customSetting) {
      for (const [objectName, fieldName] of POLYMORPHIC_CUSTOM_TARGETS)
        this.addTarget(objectName, fieldName, def.name);
    }
  }

  private addTarget(objectName: string, fieldName: string, target: string): void {
    const table = this.find(objectName);
    const f = table?.field(fieldName);
    if (!table || !f || f.referenceTo.includes(target)) return;
    this.replaceFields(table, [{ ...f, referenceTo: [...f.referenceTo, target] }]);
  }

  /** Adds fields to an object or replaces same-named ones. */
  defineFields(objectName: string, fields: readonly FieldDef[]): void {
    this.replaceFields(this.require(objectName), fields);
  }

  private replaceFields(table: Table, fields: readonly FieldDef[]): void {
    const byName = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
    const merged = table.def.fields.map((f) => byName.get(f.name.toLowerCase()) ?? f);
    const existing = new Set(table.def.fields.map((f) => f.name.toLowerCase()));
    const added = fields.filter((f) => !existing.has(f.name.toLowerCase()));
    // New custom fields go before the audit tail so describe lists them where Salesforce does.
    const tail = merged.findIndex((f) => f.name === 'CreatedDate');
    const at = tail < 0 ? merged.length : tail;
    table.setDef({ ...table.def, fields: [...merged.slice(0, at), ...added, ...merged.slice(at)] });
    this.childCache = undefined;
  }

  /** Child relationships of an object, derived from every reference field pointing at it. */
  childRelationships(objectName: string): ChildRelationship[] {
    if (!this.childCache) {
      const cache = new Map<string, ChildRelationship[]>();
      for (const t of this.tables.values()) {
        for (const f of t.def.fields) {
          if (f.type !== 'reference' || /^(CreatedById|LastModifiedById)$/.test(f.name)) continue;
          for (const target of f.referenceTo) {
            const list = cache.get(target.toLowerCase()) ?? [];
            list.push({
              childSObject: t.def.name,
              field: f.name,
              relationshipName: f.childRelationshipName,
              cascadeDelete: f.cascadeDelete,
            });
            cache.set(target.toLowerCase(), list);
          }
        }
      }
      this.childCache = cache;
    }
    return this.childCache.get(objectName.toLowerCase()) ?? [];
  }
}
