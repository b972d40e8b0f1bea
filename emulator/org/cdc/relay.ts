/**
 * An event relay, as Salesforce Event Relay (`EventRelayConfig`) delivers change events to an
 * Amazon EventBridge partner event source: each event becomes an EventBridge event (`version`,
 * `id`, `detail-type`, `source`, `account`, `time`, `region`, `resources`, `detail`), handed to
 * in-process subscribers and kept in a log of what was relayed.
 *
 * State is `EventRelayConfig.State`: `STOP` (the default of a new relay), `RUN`, `PAUSE`. A paused
 * relay (or one in an outage) resumes after the last event it relayed; if that event's
 * successors are no longer retained (72 hours), or the relay was stopped, it starts where
 * `ReplayRecovery` says: `LATEST`, only events published from then on; `EARLIEST`, every retained
 * event, which leaves a hole in replay ids when some were dropped.
 *
 * Faults change delivery only: duplicates, the next N events reversed, an outage on the org clock.
 * Nothing runs in the background: the relay delivers when an event is published, when its state
 * changes, and on `pump()` and `relayed()`.
 */
import { randomUUID } from 'node:crypto';
import {
  ALL_CHANGE_EVENTS,
  type BusEvent,
  type ChangeEventBus,
  EVENT_RETENTION_MS,
  channelFilter,
} from './bus.ts';
import type { ChangeEventPayload } from './events.ts';

/** `EventRelayConfig.State`. */
export type RelayState = 'RUN' | 'PAUSE' | 'STOP';
/** `ReplayRecovery` of `EventRelayConfig.RelayOption`. */
export type ReplayRecovery = 'LATEST' | 'EARLIEST';

/** The `detail` Event Relay puts on each EventBridge event. */
export interface RelayDetail {
  readonly payload: ChangeEventPayload;
  readonly schemaId: string;
  /** The event's UUID: the same on every delivery of one event. */
  readonly id: string;
  readonly replayId: number;
}

/** An Amazon EventBridge event, as the partner event source receives it. */
export interface EventBridgeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: RelayDetail;
}

/** Settings of the relay; all optional in `configure`. */
export interface RelaySettings {
  /** `RUN`, `PAUSE` or `STOP`. */
  readonly state: RelayState;
  /** Where to start when the relay cannot resume after its last event. */
  readonly replayRecovery: ReplayRecovery;
  /** The relayed channel: `/data/ChangeEvents` or one entity's `/data/XChangeEvent`. */
  readonly channel: string;
  /** The 12-digit AWS account of the named credential. */
  readonly account: string;
  /** The AWS region of the named credential. */
  readonly region: string;
}

/** What `describe()` reports. */
export interface RelayStatus extends RelaySettings {
  readonly relayId: string;
  readonly source: string;
  /** The replay id of the last event relayed, or null before the first. */
  readonly lastRelayedReplayId: number | null;
  /** End of an injected outage (ISO instant), or null. */
  readonly outageUntil: string | null;
  readonly pendingFaults: { readonly duplicate: number; readonly reorder: number; readonly held: number };
  /** The message of the last error a subscriber threw, or null. */
  readonly lastSubscriberError: string | null;
}

/** `EventRelayFeedback.Status`. `DELETED` is reserved by Salesforce and never reported. */
export type RelayFeedbackStatus = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'ERROR';

/** The error an injected outage records: Salesforce's code for a failed connection to EventBridge. */
export const OUTAGE_ERROR = {
  code: 'sfdc.platform.eventbus.relay.aws.partner.eventsource.connect.error',
  message: 'The configured event relay encountered an error while connecting to Amazon EventBridge.',
} as const;

/** What `EventRelayFeedback` reports of the relay; times are epoch milliseconds on the org clock. */
export interface RelayFeedback {
  readonly status: RelayFeedbackStatus;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly errorTime: number | null;
  /** When the relay last handed an event to EventBridge. */
  readonly lastRelayedEventTime: number | null;
  /** When the relay was created (the feedback record's CreatedDate). */
  readonly createdAt: number;
  /** The last change of anything above (LastModifiedDate, SystemModstamp). */
  readonly modifiedAt: number;
}

/** A relay setting that is not one of the allowed values. */
export class InvalidRelaySettingError extends Error {
  override readonly name = 'InvalidRelaySettingError';
}

const STATES: readonly RelayState[] = ['RUN', 'PAUSE', 'STOP'];
const RECOVERIES: readonly ReplayRecovery[] = ['LATEST', 'EARLIEST'];

/** One EventRelayConfig and its partner event source (see module comment). */
export class EventRelay {
  private settings: RelaySettings = {
    state: 'STOP',
    replayRecovery: 'LATEST',
    channel: ALL_CHANGE_EVENTS,
    account: '123456789012',
    region: 'us-east-1',
  };
  /** Replay id of the last event taken from the bus; undefined when stopped. */
  private position: number | undefined;
  private readonly handlers = new Set<(event: EventBridgeEvent) => void>();
  private log: EventBridgeEvent[] = [];
  private outageEnd: number | undefined;
  private duplicates = 0;
  private reorderLeft = 0;
  private held: BusEvent[] = [];
  private subscriberError: string | null = null;
  private error: { code: string; message: string; time: number } | null = null;
  private lastRelayedAt: number | null = null;
  private readonly createdAt: number;
  private modifiedAt: number;

  constructor(
    private readonly bus: ChangeEventBus,
    readonly relayId: string,
    private readonly orgId: string,
    private readonly now: () => number,
  ) {
    bus.onPublish(() => this.pump());
    this.createdAt = now();
    this.modifiedAt = this.createdAt;
  }

  /** The partner event source: `aws.partner/salesforce.com/<orgId>/<relay id>`. */
  get source(): string {
    return `aws.partner/salesforce.com/${this.orgId}/${this.relayId}`;
  }

  get state(): RelayState {
    return this.settings.state;
  }

  /** Changes settings; `InvalidRelaySettingError` names a bad value and the allowed ones. */
  configure(changes: Partial<RelaySettings>): RelayStatus {
    const next = { ...this.settings, ...changes };
    if (!STATES.includes(next.state)) {
      throw new InvalidRelaySettingError(
        `state must be one of ${STATES.join(', ')}; got ${String(next.state)}`,
      );
    }
    if (!RECOVERIES.includes(next.replayRecovery)) {
      throw new InvalidRelaySettingError(
        `replayRecovery must be LATEST or EARLIEST; got ${String(next.replayRecovery)}`,
      );
    }
    try {
      channelFilter(next.channel);
    } catch (error) {
      throw new InvalidRelaySettingError((error as Error).message);
    }
    if (!/^\d{12}$/.test(next.account)) {
      throw new InvalidRelaySettingError(
        `account must be a 12-digit AWS account id; got ${String(next.account)}`,
      );
    }
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(next.region)) {
      throw new InvalidRelaySettingError(
        `region must be an AWS region such as us-east-1; got ${String(next.region)}`,
      );
    }
    const was = this.settings.state;
    this.settings = next;
    this.modifiedAt = this.now();
    if (next.state === 'STOP') {
      // Stopping forgets the position, the last relayed time and the error [RELAY-FEEDBACK].
      this.position = undefined;
      this.lastRelayedAt = null;
      this.error = null;
    } else if (this.inOutage(this.modifiedAt) && this.error === null) {
      this.recordOutageError(this.modifiedAt);
    }
    if (next.state === 'RUN' && was !== 'RUN' && this.position === undefined)
      this.position = this.recoveryPoint();
    this.pump();
    return this.describe();
  }

  /** Receives every relayed EventBridge event, in delivery order; returns the way to stop. */
  subscribe(handler: (event: EventBridgeEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * The EventBridge events relayed (within the last 72 hours on the org clock), in delivery
   * order, whose replay id is after `after` (all when undefined). Delivers what is due first.
   */
  relayed(after?: number): EventBridgeEvent[] {
    this.pump();
    return this.log.filter((e) => after === undefined || e.detail.replayId > after);
  }

  /** Delivers the next `count` events twice each. */
  duplicateNext(count = 1): void {
    this.duplicates += positive(count, 'duplicate count');
  }

  /** Holds the next `count` events and delivers them in reverse order once all have arrived. */
  reorderNext(count: number): void {
    if (positive(count, 'reorder count') < 2)
      throw new InvalidRelaySettingError('reorder count must be at least 2');
    this.reorderLeft += count;
  }

  /** Relays nothing for `ms` milliseconds of the org clock, from now. */
  outage(ms: number): void {
    const now = this.now();
    this.outageEnd = now + positive(ms, 'outage length in milliseconds');
    if (this.settings.state !== 'STOP') this.recordOutageError(now);
  }

  /**
   * The relay's `EventRelayFeedback`: `STOPPED`, `PAUSED` or `RUNNING` from its state, `ERROR`
   * while an outage lasts (unless stopped). The error stays recorded after the relay resumes,
   * until it is stopped. Delivers what is due first, so `lastRelayedEventTime` is current.
   */
  feedback(): RelayFeedback {
    this.pump();
    const now = this.now();
    const status: RelayFeedbackStatus =
      this.settings.state === 'STOP'
        ? 'STOPPED'
        : this.inOutage(now)
          ? 'ERROR'
          : this.settings.state === 'PAUSE'
            ? 'PAUSED'
            : 'RUNNING';
    return {
      status,
      errorCode: this.error?.code ?? null,
      errorMessage: this.error?.message ?? null,
      errorTime: this.error?.time ?? null,
      lastRelayedEventTime: this.lastRelayedAt,
      createdAt: this.createdAt,
      modifiedAt: this.modifiedAt,
    };
  }

  private inOutage(now: number): boolean {
    return this.outageEnd !== undefined && now < this.outageEnd;
  }

  private recordOutageError(at: number): void {
    this.error = { code: OUTAGE_ERROR.code, message: OUTAGE_ERROR.message, time: at };
    this.modifiedAt = at;
  }

  /** Delivers every retained event after the last one relayed, if the relay runs. */
  pump(): void {
    if (this.settings.state !== 'RUN') return;
    const now = this.now();
    if (this.outageEnd !== undefined) {
      if (now < this.outageEnd) return;
      this.outageEnd = undefined;
    }
    this.expireLog(now);
    if (this.position === undefined || this.position < this.bus.droppedThrough) {
      this.position = this.recoveryPoint();
    }
    const due = this.bus.read(this.position, this.settings.channel);
    this.position = this.bus.latestReplayId;
    for (const event of due) this.deliver(event);
  }

  describe(): RelayStatus {
    return {
      ...this.settings,
      relayId: this.relayId,
      source: this.source,
      lastRelayedReplayId: this.position ?? null,
      outageUntil: this.outageEnd === undefined ? null : new Date(this.outageEnd).toISOString(),
      pendingFaults: { duplicate: this.duplicates, reorder: this.reorderLeft, held: this.held.length },
      lastSubscriberError: this.subscriberError,
    };
  }

  /** Where a relay that cannot resume starts: after the newest event, or before the oldest retained. */
  private recoveryPoint(): number {
    if (this.settings.replayRecovery === 'LATEST') return this.bus.latestReplayId;
    return Math.max(this.bus.droppedThrough, (this.bus.earliestReplayId ?? this.bus.latestReplayId + 1) - 1);
  }

  private deliver(event: BusEvent): void {
    if (this.reorderLeft > 0) {
      this.held.push(event);
      this.reorderLeft--;
      if (this.reorderLeft > 0) return;
      const batch = this.held.reverse();
      this.held = [];
      for (const e of batch) this.send(e);
      return;
    }
    this.send(event);
  }

  private send(event: BusEvent): void {
    const times = this.duplicates > 0 ? 2 : 1;
    if (this.duplicates > 0) this.duplicates--;
    const now = this.now();
    this.lastRelayedAt = now;
    this.modifiedAt = now;
    for (let i = 0; i < times; i++) {
      const envelope = this.envelope(event);
      this.log.push(envelope);
      for (const handler of this.handlers) {
        try {
          handler(envelope);
        } catch (error) {
          this.subscriberError = error instanceof Error ? error.message : String(error);
        }
      }
    }
  }

  private envelope(event: BusEvent): EventBridgeEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': event.eventName,
      source: this.source,
      account: this.settings.account,
      time: new Date(event.publishedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.settings.region,
      resources: [],
      detail: {
        payload: event.payload,
        schemaId: event.schemaId,
        id: event.eventUuid,
        replayId: event.replayId,
      },
    };
  }

  private expireLog(now: number): void {
    const cutoff = now - EVENT_RETENTION_MS;
    if (this.log.length > 0 && Date.parse(this.log[0]!.time) <= cutoff) {
      this.log = this.log.filter((e) => Date.parse(e.time) > cutoff);
    }
  }
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidRelaySettingError(`${what} must be a positive whole number; got ${n}`);
  return n;
}
