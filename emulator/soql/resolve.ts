import type { SalesforceError, FieldDef } from '../org/api.ts';
import { ADDRESS_PARTS, field } from '../org/schema.ts';
import type { OrgStore, Row, Table } from '../org/store.ts';
import type { Stored } from '../org/values.ts';
import type { PathRef } from './ast.ts';
import { malformed } from './lexer.ts';

/** A value read through a path: stored values, or an object for compound fields. */
export type PathValue = Stored | { readonly [key: string]: unknown };

/** One relationship hop of a path. */
export interface Hop {
  readonly relationshipName: string;
  readonly field: FieldDef;
  /** Candidate target tables (several for polymorphic lookups). */
  readonly targets: readonly Table[];
}

/** A path checked against the schema, with a getter that walks it on a row. */
export interface ResolvedPath {
  /** Canonical spelling (`Account.Name`). */
  readonly path: string;
  readonly hops: readonly Hop[];
  readonly field: FieldDef;
  /** Table owning `field` (the first candidate for polymorphic hops). */
  readonly table: Table;
  /** Reads the value from a row of the root table. */
  get(row: Row): PathValue;
  /** Walks the hops; the parent rows reached, or null where a lookup is empty. */
  parents(row: Row): Array<{ table: Table; id: string; row: Row } | null>;
}

const COMPONENT_RE = /(Street|City|State|PostalCode|Country|GeocodeAccuracy|Latitude|Longitude)(__s)?$/;

/** REST key of a compound component (`BillingCity` -> `city`, `Loc__Latitude__s` -> `latitude`). */
export function componentKey(fieldName: string): string {
  const m = COMPONENT_RE.exec(fieldName);
  const word = m?.[1] ?? fieldName;
  return word[0]!.toLowerCase() + word.slice(1);
}

function invalidField(soql: string, pos: number, message: string): SalesforceError {
  const e = malformed(soql, pos, message, 'INVALID_FIELD');
  return e;
}

/** Reads a compound field as the REST object, or null if every component is null. */
export function compoundGetter(table: Table, field: FieldDef): (row: Row) => PathValue {
  const parts = table.def.fields
    .filter((f) => f.compoundFieldName === field.name)
    .map((f) => [componentKey(f.name), table.slot(f.name)] as const);
  const ordered =
    field.type === 'address'
      ? ADDRESS_PARTS.map(([key]) => parts.find(([k]) => k === key)).filter((p) => p !== undefined)
      : parts;
  return (row) => {
    const out: Record<string, unknown> = {};
    let any = false;
    for (const [key, slot] of ordered) {
      const v = table.get(row, slot);
      if (v !== null) any = true;
      out[key] = v;
    }
    return any ? out : null;
  };
}

/**
 * Resolves a path like `Account.Owner.Name` from a root object, accepting the object name or
 * alias as a leading qualifier, with Salesforce's INVALID_FIELD messages.
 */
export function resolvePath(
  store: OrgStore,
  soql: string,
  root: Table,
  alias: string | null,
  ref: PathRef,
): ResolvedPath {
  let parts = [...ref.parts];
  const first = parts[0]!.toLowerCase();
  const isRelationship = (t: Table, name: string) =>
    t.def.fields.some((f) => f.type === 'reference' && f.relationshipName?.toLowerCase() === name);
  if (
    parts.length > 1 &&
    (first === alias?.toLowerCase() || first === root.def.name.toLowerCase()) &&
    !isRelationship(root, first)
  ) {
    parts = parts.slice(1);
  }
  const hops: Hop[] = [];
  let tables: Table[] = [root];
  const canonical: string[] = [];
  for (const part of parts.slice(0, -1)) {
    const lower = part.toLowerCase();
    const f = tables
      .flatMap((t) => t.def.fields)
      .find((x) => x.type === 'reference' && x.relationshipName?.toLowerCase() === lower);
    if (!f) {
      throw invalidField(
        soql,
        ref.pos,
        `Didn't understand relationship '${part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    const targets = f.referenceTo.map((n) => store.find(n)).filter((t): t is Table => t !== undefined);
    hops.push({ relationshipName: f.relationshipName!, field: f, targets });
    canonical.push(f.relationshipName!);
    tables = targets;
  }
  const last = parts[parts.length - 1]!;
  const lastHop = hops[hops.length - 1];
  if (lastHop && lastHop.targets.length > 1 && last.toLowerCase() === 'type')
    return typeOfParent(store, root, hops);
  const owner = tables.find((t) => t.field(last));
  const field = owner?.field(last);
  if (!owner || !field) {
    const entity = tables[0]?.def.name ?? root.def.name;
    throw invalidField(
      soql,
      ref.pos,
      `No such column '${last}' on entity '${entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  canonical.push(field.name);
  return {
    path: canonical.join('.'),
    hops,
    field,
    table: owner,
    ...makeGetters(store, root, hops, field.name),
  };
}

/** `What.Type`: the object name of a polymorphic parent, as the Name pseudo-object exposes it. */
function typeOfParent(store: OrgStore, root: Table, hops: readonly Hop[]): ResolvedPath {
  const type = field({ name: 'Type', type: 'picklist', length: 40, createable: false, updateable: false });
  const { parents } = makeGetters(store, root, hops, 'Id');
  return {
    path: [...hops.map((h) => h.relationshipName), 'Type'].join('.'),
    hops,
    field: type,
    table: hops[hops.length - 1]!.targets[0]!,
    parents,
    get: (row) => parents(row)[hops.length - 1]?.table.def.name ?? null,
  };
}

function makeGetters(store: OrgStore, root: Table, hops: readonly Hop[], fieldName: string) {
  const finalGetters = new Map<Table, (row: Row) => PathValue>();
  const finalGetter = (t: Table): ((row: Row) => PathValue) => {
    let g = finalGetters.get(t);
    if (!g) {
      const f = t.field(fieldName);
      if (!f) g = () => null;
      else if (f.type === 'address' || f.type === 'location') g = compoundGetter(t, f);
      else {
        const slot = t.slot(f.name);
        g = (row) => t.get(row, slot);
      }
      finalGetters.set(t, g);
    }
    return g;
  };
  const hopSlots = new Map<Table, number>();
  const slotIn = (t: Table, hop: Hop) => {
    let s = hopSlots.get(t);
    if (s === undefined) {
      s = t.slot(hop.field.name);
      hopSlots.set(t, s);
    }
    return s;
  };
  if (hops.length === 0) {
    const g = finalGetter(root);
    return { get: g, parents: () => [] };
  }
  const walk = (row: Row) => {
    const out: Array<{ table: Table; id: string; row: Row } | null> = [];
    let table = root;
    let current: Row | undefined = row;
    for (const hop of hops) {
      const id: Stored = current ? table.get(current, slotIn(table, hop)) : null;
      if (typeof id !== 'string') {
        out.push(null);
        current = undefined;
        continue;
      }
      const next: Table | undefined = hop.targets.length === 1 ? hop.targets[0] : store.forId(id);
      const parentRow: Row | undefined = next?.rows.get(id);
      if (!next || !parentRow) {
        out.push(null);
        current = undefined;
        continue;
      }
      out.push({ table: next, id, row: parentRow });
      table = next;
      current = parentRow;
    }
    return out;
  };
  return {
    parents: walk,
    get: (row: Row): PathValue => {
      const chain = walk(row);
      const end = chain[chain.length - 1];
      return end ? finalGetter(end.table)(end.row) : null;
    },
  };
}
