/**
 * Turns a committed transaction into Salesforce change events: one event per record change
 * (the first change type, the values at commit), events of one entity with the same change
 * merged into one with many `recordIds`, gap events in place of the changes a fault names,
 * one `GAP_OVERFLOW` per entity for the changes beyond the overflow threshold, and sequence
 * numbers 1..n over the whole transaction, so unselected entities leave holes, as on Salesforce.
 */
import type { CommittedTransaction } from './capture.ts';
import { eventBody, schemaIdOf } from './payload.ts';

/** `changeType` of a change event header. */
export type ChangeType =
  | 'CREATE'
  | 'UPDATE'
  | 'DELETE'
  | 'UNDELETE'
  | 'GAP_CREATE'
  | 'GAP_UPDATE'
  | 'GAP_DELETE'
  | 'GAP_UNDELETE'
  | 'GAP_OVERFLOW';

/** The `ChangeEventHeader` of every change event, in Salesforce's field order. */
export interface ChangeEventHeader {
  readonly entityName: string;
  readonly recordIds: string[];
  readonly changeType: ChangeType;
  readonly changeOrigin: string;
  readonly transactionKey: string;
  readonly sequenceNumber: number;
  readonly commitTimestamp: number;
  readonly commitNumber: number;
  readonly commitUser: string;
  readonly nulledFields: string[];
  readonly diffFields: string[];
  readonly changedFields: string[];
}

/** The `payload` of a change event: the header, then the record fields. */
export interface ChangeEventPayload {
  readonly ChangeEventHeader: ChangeEventHeader;
  readonly [field: string]: unknown;
}

/** A change event before the bus gives it a replay id. */
export interface ChangeEventDraft {
  /** `AccountChangeEvent`, `Employee__ChangeEvent`. */
  readonly eventName: string;
  readonly entityName: string;
  readonly schemaId: string;
  readonly payload: ChangeEventPayload;
}

/** The change event name of an entity: `<Name>ChangeEvent`, custom `X__c` as `X__ChangeEvent`. */
export function changeEventName(entity: string): string {
  return entity.endsWith('__c') ? `${entity.slice(0, -3)}__ChangeEvent` : `${entity}ChangeEvent`;
}

/** What the publisher knows beyond the transaction. */
export interface PublishContext {
  readonly selected: ReadonlySet<string>;
  readonly commitTimestamp: number;
  readonly commitNumber: number;
  readonly commitUser: string;
  /** Changes per transaction before the rest overflow (Salesforce: 100,000). */
  readonly overflowThreshold: number;
  /** Record ids whose next change is published as a gap event (consumed here). */
  readonly gapIds: Set<string>;
  /** Entities whose changes in the next transaction that touches them overflow (consumed here). */
  readonly overflowEntities: Set<string>;
}

interface Pending {
  readonly entityName: string;
  readonly schemaId: string;
  readonly changeType: ChangeType;
  readonly recordIds: string[];
  readonly fields: Record<string, unknown>;
  readonly changedFields: string[];
  readonly nulledFields: string[];
  readonly diffFields: string[];
}

/** The events of one transaction, in sequence order, for the selected entities only. */
export function eventsOf(tx: CommittedTransaction, ctx: PublishContext): ChangeEventDraft[] {
  const ordered: Pending[] = [];
  const merged = new Map<string, Pending>();
  const overflow = new Map<string, Pending>();
  const forcedOverflow = new Set<string>();
  let count = 0;
  for (const change of tx.changes) {
    const entityName = change.table.def.name;
    if (ctx.overflowEntities.has(entityName)) forcedOverflow.add(entityName);
    const body = eventBody(change.table, change.kind, change.before, change.after);
    count += body.weight;
    const schemaId = schemaIdOf(change.table);
    if (count > ctx.overflowThreshold || forcedOverflow.has(entityName)) {
      if (!overflow.has(entityName)) {
        overflow.set(entityName, {
          entityName,
          schemaId,
          changeType: 'GAP_OVERFLOW',
          recordIds: [],
          fields: {},
          changedFields: [],
          nulledFields: [],
          diffFields: [],
        });
      }
      continue;
    }
    const gap = ctx.gapIds.delete(change.id);
    const pending: Pending = gap
      ? {
          entityName,
          schemaId,
          changeType: `GAP_${change.kind}`,
          recordIds: [change.id],
          fields: {},
          changedFields: [],
          nulledFields: [],
          diffFields: [],
        }
      : {
          entityName,
          schemaId,
          changeType: change.kind,
          recordIds: [change.id],
          fields: body.fields,
          changedFields: body.changedFields,
          nulledFields: body.nulledFields,
          diffFields: body.diffFields,
        };
    const key = JSON.stringify([
      entityName,
      pending.changeType,
      pending.fields,
      pending.changedFields,
      pending.nulledFields,
    ]);
    const same = merged.get(key);
    if (same) {
      same.recordIds.push(change.id);
      continue;
    }
    merged.set(key, pending);
    ordered.push(pending);
  }
  for (const entity of forcedOverflow) ctx.overflowEntities.delete(entity);
  ordered.push(...overflow.values());
  const out: ChangeEventDraft[] = [];
  ordered.forEach((p, i) => {
    if (!ctx.selected.has(p.entityName)) return;
    const header: ChangeEventHeader = {
      entityName: p.entityName,
      recordIds: p.recordIds,
      changeType: p.changeType,
      changeOrigin: tx.origin,
      transactionKey: tx.transactionKey,
      sequenceNumber: i + 1,
      commitTimestamp: ctx.commitTimestamp,
      commitNumber: ctx.commitNumber,
      commitUser: ctx.commitUser,
      nulledFields: p.nulledFields,
      diffFields: p.diffFields,
      changedFields: p.changedFields,
    };
    out.push({
      eventName: changeEventName(p.entityName),
      entityName: p.entityName,
      schemaId: p.schemaId,
      payload: { ChangeEventHeader: header, ...p.fields },
    });
  });
  return out;
}
