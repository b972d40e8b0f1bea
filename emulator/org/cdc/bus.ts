/**
 * The org's event bus for change events: each published event gets the next replay id (one
 * increasing sequence for the org, so every channel's replay ids increase) and is kept for 72
 * hours on the org clock, then dropped. A reader asks for the events after a replay id; one whose
 * replay id was dropped learns it missed events, with `ReplayIdNotRetainedError`.
 */
import { randomUUID } from 'node:crypto';
import type { ChangeEventDraft, ChangeEventPayload } from './events.ts';

/** How long the bus keeps an event: 72 hours. */
export const EVENT_RETENTION_MS = 72 * 60 * 60 * 1000;

/** The channel of every selected entity's change events. */
export const ALL_CHANGE_EVENTS = '/data/ChangeEvents';

/** A change event on the bus. */
export interface BusEvent {
  readonly replayId: number;
  /** The event's own UUID (Pub/Sub API's `id`), the same however often it is delivered. */
  readonly eventUuid: string;
  readonly eventName: string;
  readonly entityName: string;
  readonly schemaId: string;
  /** When it was published: its commit timestamp on the org clock. */
  readonly publishedAt: number;
  readonly payload: ChangeEventPayload;
}

/** A change event as a streaming (CometD) subscriber receives it. */
export interface StreamingMessage {
  readonly schema: string;
  readonly payload: ChangeEventPayload;
  readonly event: { readonly replayId: number };
}

/** A read asked for events after a replay id the bus no longer holds. */
export class ReplayIdNotRetainedError extends Error {
  override readonly name = 'ReplayIdNotRetainedError';
  constructor(
    readonly after: number,
    readonly droppedThrough: number,
  ) {
    super(
      `Replay id ${after} is no longer retained: events ${after + 1} to ${droppedThrough} were older than 72 hours and were dropped. ` +
        'Read again without a replay id (from the earliest retained event) and re-read the records of the entities you follow, since changes were missed.',
    );
  }
}

/** A channel name that is not a change event channel. */
export class InvalidChannelError extends Error {
  override readonly name = 'InvalidChannelError';
}

/**
 * The event names a channel carries: undefined for `/data/ChangeEvents` (all), else the one
 * change event of `/data/AccountChangeEvent` or `/data/Employee__ChangeEvent`.
 */
export function channelFilter(channel: string): string | undefined {
  if (channel === ALL_CHANGE_EVENTS) return undefined;
  const m = /^\/data\/(\w+ChangeEvent)$/.exec(channel);
  if (!m) {
    throw new InvalidChannelError(
      `Channel ${JSON.stringify(channel)} is not a change event channel: use ${ALL_CHANGE_EVENTS}, /data/<Object>ChangeEvent (e.g. /data/AccountChangeEvent) or /data/<Name>__ChangeEvent for a custom object <Name>__c.`,
    );
  }
  return m[1]!;
}

/** The bus (see module comment). */
export class ChangeEventBus {
  private events: BusEvent[] = [];
  private nextReplayId = 1;
  private dropped = 0;
  private readonly listeners = new Set<(events: readonly BusEvent[]) => void>();

  constructor(private readonly now: () => number) {}

  /** Publishes the events of one transaction, in order. */
  publish(drafts: readonly ChangeEventDraft[], at: number): BusEvent[] {
    this.expire();
    const published = drafts.map(
      (d): BusEvent => ({
        replayId: this.nextReplayId++,
        eventUuid: randomUUID(),
        eventName: d.eventName,
        entityName: d.entityName,
        schemaId: d.schemaId,
        publishedAt: at,
        payload: d.payload,
      }),
    );
    this.events.push(...published);
    if (published.length > 0) for (const listener of this.listeners) listener(published);
    return published;
  }

  /** Calls `listener` with every batch of published events; returns the way to stop. */
  onPublish(listener: (events: readonly BusEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops the events older than 72 hours on the org clock. */
  expire(): void {
    const cutoff = this.now() - EVENT_RETENTION_MS;
    let n = 0;
    while (n < this.events.length && this.events[n]!.publishedAt <= cutoff) n++;
    if (n === 0) return;
    this.dropped = this.events[n - 1]!.replayId;
    this.events = this.events.slice(n);
  }

  /** The highest replay id dropped by retention (0 when none was). */
  get droppedThrough(): number {
    this.expire();
    return this.dropped;
  }

  /** The replay id of the newest event published (0 before the first). */
  get latestReplayId(): number {
    return this.nextReplayId - 1;
  }

  /** The replay id of the oldest retained event, or undefined when none is retained. */
  get earliestReplayId(): number | undefined {
    this.expire();
    return this.events[0]?.replayId;
  }

  /** Number of retained events. */
  get size(): number {
    this.expire();
    return this.events.length;
  }

  /**
   * The retained events after `after` (all retained ones when undefined) on `channel`.
   * `ReplayIdNotRetainedError` when events after `after` were dropped.
   */
  read(after?: number, channel: string = ALL_CHANGE_EVENTS): BusEvent[] {
    const only = channelFilter(channel);
    this.expire();
    if (after !== undefined && after < this.dropped) throw new ReplayIdNotRetainedError(after, this.dropped);
    return this.events.filter(
      (e) => (after === undefined || e.replayId > after) && (only === undefined || e.eventName === only),
    );
  }
}

/** A bus event as a streaming (CometD) subscriber receives it. */
export function streamingMessage(event: BusEvent): StreamingMessage {
  return { schema: event.schemaId, payload: event.payload, event: { replayId: event.replayId } };
}
