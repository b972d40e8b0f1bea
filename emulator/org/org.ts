import { runQuery } from '../soql/query.ts';
import { sobjectUrl } from '../soql/records.ts';
import { compoundGetter } from '../soql/resolve.ts';
import {
  type DumpedRow,
  type FieldDef,
  type ObjectDef,
  type OrgApi,
  type OrgInfo,
  type OrgOptions,
  type OrgSettings,
  type OrgUser,
  type QueryCursor,
  type QueryOptions,
  type RestRecord,
  SalesforceError,
  type SfValue,
  type WriteCounters,
  type WriteResult,
} from './api.ts';
import { ChangeDataCapture } from './cdc/cdc.ts';
import { type RelayApi, RelayRecords } from './cdc/relay-records.ts';
import { parseSoql } from '../soql/parser.ts';
import type { OrgContext } from './context.ts';
import { DeleteLog } from './delete-log.ts';
import { RecycleBin } from './deletes.ts';
import { caseSafeSuffix, toId18 } from './ids.ts';
import { FieldIndexes } from './indexes.ts';
import { systemInsert } from './object-hooks.ts';
import { CORE_OBJECTS } from './standard-objects-core.ts';
import { CONTENT_OBJECTS } from './standard-objects-content.ts';
import { filterRestriction, productionCatalog } from './standard-catalog.ts';
import { OrgStore, type Row, type Table } from './store.ts';
import {
  DEFAULT_REPLICATION_ID_LIMIT,
  type GetDeletedResult,
  type GetUpdatedResult,
  getDeleted,
  getUpdated,
} from './replication.ts';
import { formatStored } from './values.ts';
import { insertRow, liveRow, updateRow, upsertRow } from './writes.ts';

const DEFAULT_ORG_ID15 = '00D5g0000012345';

/** An in-memory Salesforce org: schema, rows, SOQL, writes with Salesforce's rules. */
export class Org implements OrgApi {
  readonly info: OrgInfo;
  readonly user: OrgUser;
  readonly settings: OrgSettings;
  readonly counters: WriteCounters = { inserted: 0, updated: 0, deleted: 0, hardDeleted: 0, undeleted: 0 };
  private readonly store = new OrgStore([...CORE_OBJECTS, ...CONTENT_OBJECTS]);
  private readonly indexes = new FieldIndexes();
  private readonly clock: () => Date;
  private readonly ctx: OrgContext;
  private readonly bin: RecycleBin;
  private readonly log = new DeleteLog();
  private readonly replicationIdLimit: number;
  readonly cdc: ChangeDataCapture;
  private readonly relayRecords: RelayRecords;

  constructor(options: OrgOptions = {}) {
    this.clock = options.now ?? (() => new Date());
    this.replicationIdLimit = options.replicationIdLimit ?? DEFAULT_REPLICATION_ID_LIMIT;
    if (!Number.isInteger(this.replicationIdLimit) || this.replicationIdLimit < 1) {
      throw new Error(
        `replicationIdLimit must be a positive whole number of ids; got ${options.replicationIdLimit}`,
      );
    }
    const orgId = options.orgId ? toId18(options.orgId) : DEFAULT_ORG_ID15 + caseSafeSuffix(DEFAULT_ORG_ID15);
    if (!orgId?.startsWith('00D')) {
      throw new Error(`orgId must be a 15- or 18-character id starting with 00D; got ${options.orgId}`);
    }
    this.settings = { setAuditFieldsOnCreate: options.setAuditFieldsOnCreate ?? false };
    this.info = {
      orgId,
      name: options.name ?? 'Emulated Org',
      instanceName: options.instanceName ?? 'CS1',
      isSandbox: options.isSandbox ?? false,
      organizationType: options.organizationType ?? 'Developer Edition',
      namespacePrefix: null,
    };
    const username = options.username ?? 'admin@emulated.org';
    const userId = this.store.ids.next('005');
    this.user = { id: userId, username, name: 'Admin User', email: username };
    this.cdc = new ChangeDataCapture({
      store: this.store,
      orgId,
      userId,
      now: () => this.clock().getTime(),
    });
    this.relayRecords = new RelayRecords({
      relay: this.cdc.relay,
      selectedEntities: () => this.cdc.selectedEntities(),
      userId,
    });
    this.ctx = {
      store: this.store,
      indexes: this.indexes,
      changes: this.cdc.capture,
      settings: this.settings,
      counters: this.counters,
      user: this.user,
      orgId,
      now: () => this.clock(),
    };
    this.bin = new RecycleBin(this.ctx, this.log);
    const catalog = options.catalog ?? 'core';
    if (catalog !== 'core' && catalog !== 'production') {
      throw new Error(`catalog must be 'core' or 'production'; got ${String(catalog)}`);
    }
    if (catalog === 'production') this.addProductionCatalog();
    this.seed();
  }

  /** The long tail of a production org's standard objects, and the query rules of modelled ones. */
  private addProductionCatalog(): void {
    for (const def of productionCatalog()) {
      if (!this.store.find(def.name)) this.store.define(def);
    }
    for (const t of this.store.all()) {
      const restriction = t.def.queryRestriction ?? filterRestriction(t.def.name);
      if (restriction && !t.def.queryRestriction)
        this.store.define({ ...t.def, queryRestriction: restriction });
    }
  }

  private seed(): void {
    const orgTable = this.store.require('Organization');
    const orgRowId = systemInsert(this.ctx, orgTable, {
      Name: this.info.name,
      InstanceName: this.info.instanceName,
      IsSandbox: this.info.isSandbox,
      OrganizationType: this.info.organizationType,
      NamespacePrefix: null,
      LanguageLocaleKey: 'en_US',
      DefaultLocaleSidKey: 'en_US',
      TimeZoneSidKey: 'GMT',
    });
    // The org's own row carries the org id, not a generated one.
    const row = orgTable.rows.get(orgRowId)!;
    orgTable.rows.delete(orgRowId);
    row[orgTable.idSlot] = this.info.orgId;
    orgTable.rows.set(this.info.orgId, row);
    const profileId = systemInsert(this.ctx, this.store.require('Profile'), {
      Name: 'System Administrator',
      UserType: 'Standard',
    });
    const users = this.store.require('User');
    const userRow: Row = new Array(users.stored.length).fill(null);
    const now = this.clock().getTime();
    const values: Record<string, string | number | boolean> = {
      Id: this.user.id,
      Username: this.user.username,
      LastName: 'User',
      FirstName: 'Admin',
      Name: this.user.name,
      Email: this.user.email,
      Alias: 'admin',
      CommunityNickname: 'admin',
      IsActive: true,
      TimeZoneSidKey: 'GMT',
      LocaleSidKey: 'en_US',
      EmailEncodingKey: 'UTF-8',
      LanguageLocaleKey: 'en_US',
      ProfileId: profileId,
      UserType: 'Standard',
      CreatedDate: now,
      CreatedById: this.user.id,
      LastModifiedDate: now,
      LastModifiedById: this.user.id,
      SystemModstamp: now,
    };
    for (const [k, v] of Object.entries(values)) userRow[users.slotOf(k)] = v;
    users.rows.set(this.user.id, userRow);
  }

  now(): Date {
    return this.clock();
  }

  /**
   * Brings the org up to its clock before a read or a write: rows 15 days in the recycle bin are
   * purged (each at the instant it fell due) and delete-log entries older than 15 days dropped.
   */
  private settle(): void {
    const now = this.clock().getTime();
    this.bin.purgeExpired(now);
    this.log.expire(now);
  }

  getDeleted(objectName: string, start: Date, end: Date): GetDeletedResult {
    this.settle();
    return getDeleted(this.replicationSource(), objectName, start, end);
  }

  getUpdated(objectName: string, start: Date, end: Date): GetUpdatedResult {
    this.settle();
    return getUpdated(this.replicationSource(), objectName, start, end);
  }

  private replicationSource() {
    return {
      store: this.store,
      log: this.log,
      now: this.clock().getTime(),
      idLimit: this.replicationIdLimit,
    };
  }

  describeGlobal(): readonly ObjectDef[] {
    return this.store.all().map((t) => this.withChildren(t.def));
  }

  describe(objectName: string): ObjectDef {
    const t = this.store.find(objectName);
    if (!t) {
      throw new SalesforceError('NOT_FOUND', 'The requested resource does not exist', { statusCode: 404 });
    }
    return this.withChildren(t.def);
  }

  findObject(objectName: string): ObjectDef | undefined {
    const t = this.store.find(objectName);
    return t ? this.withChildren(t.def) : undefined;
  }

  objectForId(id: string): ObjectDef | undefined {
    const t = this.store.forId(id);
    return t ? this.withChildren(t.def) : undefined;
  }

  private withChildren(def: ObjectDef): ObjectDef {
    return { ...def, childRelationships: this.store.childRelationships(def.name) };
  }

  /**
   * SOQL over the org's objects, and the relay's `EventRelayFeedback` and `EventRelayConfig`
   * (API 56.0 and later). With `tooling`, over the Tooling API's objects the emulator models: the
   * relay's `EventRelayConfig` and the channel members (`PlatformEventChannelMember`); any
   * other object is then `INVALID_TYPE`.
   */
  query(soql: string, options?: QueryOptions): QueryCursor {
    this.settle();
    const version = options?.apiVersion ?? '62.0';
    const store = options?.tooling
      ? (this.relayStoreFor(soql, 'tooling', version) ?? this.relayRecords.store('tooling'))
      : (this.relayStoreFor(soql, 'data', version) ?? this.store);
    return runQuery({ store, now: () => this.clock() }, soql, options);
  }

  /** The relay records' store when the query's object is theirs on that API, else undefined. */
  private relayStoreFor(soql: string, api: RelayApi, apiVersion: string) {
    let from: string;
    try {
      from = parseSoql(soql).from.name;
    } catch {
      return undefined; // runQuery reports the malformed query
    }
    if (api === 'data' && this.store.find(from)) return undefined;
    return this.relayRecords.answers(from, api, apiVersion) ? this.relayRecords.store(api) : undefined;
  }

  insert(objectName: string, values: Readonly<Record<string, unknown>>): string {
    this.settle();
    return this.cdc.capture.operation(() => insertRow(this.ctx, this.store.require(objectName), values));
  }

  update(objectName: string, id: string, values: Readonly<Record<string, unknown>>): void {
    this.settle();
    this.cdc.capture.operation(() => updateRow(this.ctx, this.store.require(objectName), id, values));
  }

  upsert(
    objectName: string,
    externalIdField: string,
    externalIdValue: string,
    values: Readonly<Record<string, unknown>>,
  ): { id: string; created: boolean } {
    this.settle();
    return this.cdc.capture.operation(() =>
      upsertRow(this.ctx, this.store.require(objectName), externalIdField, externalIdValue, values),
    );
  }

  delete(ids: readonly string[]): WriteResult[] {
    this.settle();
    return this.cdc.capture.operation(() => this.bin.delete(ids, false));
  }

  hardDelete(ids: readonly string[]): WriteResult[] {
    this.settle();
    return this.cdc.capture.operation(() => this.bin.delete(ids, true));
  }

  discardInserted(ids: readonly string[]): void {
    this.settle();
    this.cdc.capture.operation(() => this.bin.delete(ids, true, false));
  }

  undelete(ids: readonly string[]): WriteResult[] {
    this.settle();
    return this.cdc.capture.operation(() => this.bin.undelete(ids));
  }

  emptyRecycleBin(ids?: readonly string[]): WriteResult[] {
    this.settle();
    return this.cdc.capture.operation(() => this.bin.empty(ids));
  }

  retrieve(objectName: string, id: string, fields?: readonly string[], apiVersion = '62.0'): RestRecord {
    this.settle();
    const table = this.store.require(objectName);
    const id18 = toId18(id);
    const row = id18 && this.store.forId(id18) === table ? table.rows.get(id18) : undefined;
    if (!id18 || !row) {
      throw new SalesforceError('NOT_FOUND', 'The requested resource does not exist', { statusCode: 404 });
    }
    if (table.isDeleted(row)) {
      throw new SalesforceError('ENTITY_IS_DELETED', 'entity is deleted', { statusCode: 404 });
    }
    const wanted = fields?.map((name) => {
      const f = table.field(name);
      if (!f) {
        throw new SalesforceError(
          'INVALID_FIELD',
          `No such column '${name}' on sobject of type ${table.def.name}`,
          {
            fields: [name],
          },
        );
      }
      return f;
    });
    const rec: RestRecord = {
      attributes: { type: table.def.name, url: sobjectUrl(apiVersion, table.def.name, id18) },
    };
    for (const f of wanted ?? table.def.fields)
      rec[f.name] = this.outputField(table, f, row, id18, apiVersion);
    return rec;
  }

  private outputField(table: Table, f: FieldDef, row: Row, id: string, apiVersion: string): SfValue {
    if (f.type === 'address' || f.type === 'location') return compoundGetter(table, f)(row) as SfValue;
    const v = table.get(row, table.slot(f.name));
    if (v instanceof Uint8Array) return `${sobjectUrl(apiVersion, table.def.name, id)}/${f.name}`;
    return formatStored(f, v);
  }

  getBlob(objectName: string, id: string, field: string): Uint8Array {
    this.settle();
    const table = this.store.require(objectName);
    const f = table.field(field);
    if (f?.type !== 'base64') {
      throw new SalesforceError('NOT_FOUND', 'The requested resource does not exist', { statusCode: 404 });
    }
    const { row } = liveRow(this.ctx, table, id);
    const v = table.get(row, table.slot(f.name));
    if (!(v instanceof Uint8Array)) {
      throw new SalesforceError('NOT_FOUND', 'The requested resource does not exist', { statusCode: 404 });
    }
    return v;
  }

  /**
   * Appends rows whose values are already valid and in stored form (datetimes as epoch ms, dates
   * as `YYYY-MM-DD`, blobs as bytes), without per-value checks: the fast path for generated
   * benchmark orgs. Audit fields, owner and defaults are filled as on insert. Returns the new ids.
   */
  loadRows(objectName: string, fieldNames: readonly string[], rows: Iterable<readonly unknown[]>): string[] {
    const load = this.rowLoader(objectName, fieldNames);
    return Array.from(rows, load);
  }

  /** `loadRows` one row at a time, with the field lookup done once: returns a function per row. */
  rowLoader(objectName: string, fieldNames: readonly string[]): (values: readonly unknown[]) => string {
    this.settle();
    const table = this.store.require(objectName);
    const slots = fieldNames.map((name) => table.slotOf(table.field(name)?.name ?? name));
    const defaults = table.stored.flatMap((f, i) =>
      f.defaultValue !== null ? [[i, f.defaultValue] as const] : [],
    );
    const a = table.audit;
    const width = table.stored.length;
    return (values) => {
      const now = this.clock().getTime();
      const row: Row = new Array(width).fill(null);
      for (const [slot, v] of defaults) row[slot] = v;
      for (let i = 0; i < slots.length; i++) row[slots[i]!] = (values[i] ?? null) as Row[number];
      for (const slot of [a.createdDate, a.lastModifiedDate, a.systemModstamp])
        if (slot >= 0) row[slot] = now;
      for (const slot of [a.owner, a.createdBy, a.lastModifiedBy]) if (slot >= 0) row[slot] = this.user.id;
      if (table.deletedSlot >= 0) row[table.deletedSlot] = false;
      const id = this.store.ids.next(table.def.keyPrefix);
      row[table.idSlot] = id;
      table.rows.set(id, row);
      this.indexes.onWrite(table, id, undefined, row);
      this.counters.inserted++;
      return id;
    };
  }

  defineObject(def: ObjectDef): void {
    this.store.define(def);
  }

  defineFields(objectName: string, fields: readonly FieldDef[]): void {
    this.store.defineFields(objectName, fields);
  }

  /** Key prefix the next new custom object should use (a00, a01, ...). */
  nextCustomKeyPrefix(): string {
    return this.store.nextCustomPrefix();
  }

  rowCounts(): Record<string, { live: number; deleted: number }> {
    this.settle();
    const out: Record<string, { live: number; deleted: number }> = {};
    for (const t of this.store.all()) {
      let deleted = 0;
      for (const row of t.rows.values()) if (t.isDeleted(row)) deleted++;
      out[t.def.name] = { live: t.rows.size - deleted, deleted };
    }
    return out;
  }

  dumpObject(objectName: string): Map<string, Record<string, string>> {
    this.settle();
    const t = this.store.require(objectName);
    const out = new Map<string, Record<string, string>>();
    for (const [id, row] of t.rows) {
      const values: Record<string, string> = {};
      t.stored.forEach((f, i) => {
        values[f.name] = csvCell(f, row[i] ?? null);
      });
      out.set(id, values);
    }
    return out;
  }

  *dumpRows(): Generator<DumpedRow> {
    this.settle();
    for (const t of this.store.all()) {
      for (const [id, row] of t.rows) {
        const values: Record<string, SfValue> = {};
        t.stored.forEach((f, i) => {
          const v = row[i] ?? null;
          values[f.name] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : formatStored(f, v);
        });
        yield { object: t.def.name, id, isDeleted: t.isDeleted(row), values };
      }
    }
  }
}

/** A stored value as a Bulk API 2.0 query result cell shows it (datetimes end in `Z`, null is empty). */
function csvCell(f: FieldDef, v: Row[number]): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  const out = formatStored(f, v);
  if (out === null) return '';
  if (typeof out === 'object') return JSON.stringify(out);
  const text = String(out);
  return f.type === 'datetime' && text.endsWith('+0000') ? `${text.slice(0, -5)}Z` : text;
}

/** Creates an org with the built-in standard objects, its Organization row and its user. */
export function createOrg(options: OrgOptions = {}): Org {
  return new Org(options);
}
