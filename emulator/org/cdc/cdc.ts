/**
 * Change Data Capture of the org: which entities publish change events (Setup > Change Data
 * Capture, the standard `ChangeEvents` channel; none in a new org), the transactions that
 * produce them, the event bus that keeps them 72 hours, the relay to EventBridge, and the faults
 * a test can inject into publishing. See docs/emulator-cdc.md.
 */
import { caseSafeSuffix, toId18 } from '../ids.ts';
import type { OrgStore } from '../store.ts';
import { ChangeEventBus, type BusEvent, streamingMessage, type StreamingMessage } from './bus.ts';
import { ChangeCapture, type CommittedTransaction } from './capture.ts';
import { eventsOf } from './events.ts';
import { EventRelay } from './relay.ts';

/** An entity that cannot be selected for Change Data Capture, or an unknown one. */
export class InvalidChangeDataCaptureSettingError extends Error {
  override readonly name = 'InvalidChangeDataCaptureSettingError';
}

/** Salesforce's threshold: changes beyond the first 100,000 of a transaction overflow. */
export const DEFAULT_OVERFLOW_THRESHOLD = 100_000;

/** What the org hands to its Change Data Capture. */
export interface CdcDeps {
  readonly store: OrgStore;
  readonly orgId: string;
  readonly userId: string;
  readonly now: () => number;
}

/** The org's Change Data Capture (see module comment). */
export class ChangeDataCapture {
  readonly bus: ChangeEventBus;
  readonly relay: EventRelay;
  readonly capture: ChangeCapture;
  private selected = new Set<string>();
  private threshold = DEFAULT_OVERFLOW_THRESHOLD;
  private commitNumber = 10_000_000;
  private readonly gapIds = new Set<string>();
  private readonly overflowEntities = new Set<string>();

  constructor(private readonly deps: CdcDeps) {
    this.bus = new ChangeEventBus(deps.now);
    this.capture = new ChangeCapture(
      () => this.selected.size > 0,
      (tx) => this.publish(tx),
    );
    const relayId15 = `0YL${deps.orgId.slice(3, 15)}`;
    this.relay = new EventRelay(this.bus, relayId15 + caseSafeSuffix(relayId15), deps.orgId, deps.now);
  }

  /**
   * Selects the entities that publish change events, replacing the selection (an empty list
   * turns Change Data Capture off). Names are case-insensitive; unknown objects and objects that
   * have no change events (change events themselves, platform events) are refused, all named.
   */
  select(entities: readonly string[]): string[] {
    const problems: string[] = [];
    const names = new Set<string>();
    for (const raw of entities) {
      const table = typeof raw === 'string' ? this.deps.store.find(raw) : undefined;
      if (!table) {
        problems.push(`${JSON.stringify(raw)} is not an object of this org`);
        continue;
      }
      const name = table.def.name;
      if (/ChangeEvent$|__e$/.test(name) || !table.def.createable) {
        problems.push(`${name} has no change events (only objects whose records can be created do)`);
        continue;
      }
      names.add(name);
    }
    if (problems.length > 0) {
      throw new InvalidChangeDataCaptureSettingError(
        `Cannot select entities for Change Data Capture: ${problems.join('; ')}. Give object API names such as Account or Employee__c.`,
      );
    }
    this.selected = names;
    return this.selectedEntities();
  }

  /** The selected entities, in name order. */
  selectedEntities(): string[] {
    return [...this.selected].sort();
  }

  /** Changes per transaction before the rest overflow into `GAP_OVERFLOW` events. */
  get overflowThreshold(): number {
    return this.threshold;
  }

  set overflowThreshold(n: number) {
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidChangeDataCaptureSettingError(
        `overflowThreshold must be a positive whole number of changes; got ${n}`,
      );
    }
    this.threshold = n;
  }

  /** Publishes the next change of each of these records as a gap event (`GAP_<type>`). */
  injectGap(recordIds: readonly string[]): void {
    const ids = recordIds.map((id) => (typeof id === 'string' ? toId18(id) : undefined));
    if (ids.length === 0 || ids.some((id) => id === undefined)) {
      throw new InvalidChangeDataCaptureSettingError(
        `gap needs a list of record ids (15 or 18 characters); got ${JSON.stringify(recordIds)}`,
      );
    }
    for (const id of ids) this.gapIds.add(id!);
  }

  /** Publishes the changes of `entity` in the next transaction that has any as one `GAP_OVERFLOW`. */
  injectOverflow(entity: string): void {
    const table = this.deps.store.find(entity);
    if (!table) {
      throw new InvalidChangeDataCaptureSettingError(
        `overflow needs an object of this org; got ${JSON.stringify(entity)}`,
      );
    }
    this.overflowEntities.add(table.def.name);
  }

  /** The retained events after `after` on `channel`, as a streaming subscriber receives them. */
  events(after?: number, channel?: string): StreamingMessage[] {
    return this.bus.read(after, channel).map(streamingMessage);
  }

  private publish(tx: CommittedTransaction): BusEvent[] {
    const commitTimestamp = this.deps.now();
    const drafts = eventsOf(tx, {
      selected: this.selected,
      commitTimestamp,
      commitNumber: ++this.commitNumber,
      commitUser: this.deps.userId,
      overflowThreshold: this.threshold,
      gapIds: this.gapIds,
      overflowEntities: this.overflowEntities,
    });
    return this.bus.publish(drafts, commitTimestamp);
  }
}
