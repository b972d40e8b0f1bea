/**
 * Whether the change-event journal has a hole a relay outage left (docs/continuous.md, "A relay
 * down for longer than 72 hours"). Salesforce keeps change events for 72 hours, so a relay set to
 * `EARLIEST` that comes back within that time sends again what it missed; one down for longer
 * cannot, and the journal does not cover the stretch in between.
 */
import type { EventRelayReport } from '../salesforce.ts';

/** How long Salesforce keeps change events (Event Message Durability, Pub/Sub API guide). */
export const CHANGE_EVENT_RETENTION_MS = 72 * 3_600_000;

/** The instant a break starts at when nothing says when the relay stopped. */
export const UNKNOWN_START = '1970-01-01T00:00:00.000Z';

/**
 * `EventRelayFeedback.Status` values of a relay that relays nothing (Object Reference,
 * EventRelayFeedback): `ERROR`, and a relay paused or stopped.
 */
const DOWN_STATUSES = new Set(['ERROR', 'PAUSED', 'STOPPED']);

/** A stretch the journal does not cover: its events were never relayed and are gone from Salesforce. */
export interface JournalBreak {
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

/** A journal batch as the relay's health is judged by it (from its manifest). */
export interface JournalArrival {
  /** When the batch was written: the relay delivered its events shortly before. */
  readonly writtenAt: string;
  /** The commit time of its earliest event. */
  readonly firstCommit: string;
}

/** A relay that relays nothing at plan time, and since when. */
export interface RelayOutage {
  /** The last successful delivery, or null when nothing says when it was. */
  readonly since: string | null;
  /** What `since` comes from. */
  readonly what: string;
  /** The warning and alert text: names the relay, its state and status, since when, and what is lost after 72 hours. */
  readonly message: string;
}

const hoursBetween = (from: number, to: number): string => ((to - from) / 3_600_000).toFixed(1);

const relayName = (report: EventRelayReport | null): string =>
  report ? `Event Relay ${report.developerName}` : 'The Event Relay';

function relayState(report: EventRelayReport | null): string {
  if (!report)
    return 'not found: the org has no relay feedback for this partner event source (a stopped relay has none)';
  return `state ${report.state}, status ${report.status ?? 'none'}${report.errorCode ? `, error ${report.errorCode}` : ''}${report.errorMessage ? ` (${report.errorMessage})` : ''}`;
}

/**
 * Whether the relay relays nothing now: no relay for the source, `EventRelayConfig.State` not
 * `RUN`, or its feedback's `Status` an error, paused or stopped.
 */
export function relayIsDown(report: EventRelayReport | null): boolean {
  return report === null || report.state !== 'RUN' || DOWN_STATUSES.has(report.status ?? '');
}

/**
 * The relay's outage at `now`, or null when it runs. Since when: its last relayed event when
 * known (the last successful delivery: an error time moves on with every retry of a failing
 * relay, so it says when the relay last failed, not when it stopped delivering), else its last
 * error, else the newest journal batch.
 */
export function relayOutage(
  report: EventRelayReport | null,
  now: Date,
  arrivals: readonly JournalArrival[],
): RelayOutage | null {
  if (!relayIsDown(report)) return null;
  const since = downSince(report, arrivals);
  const head = `${relayName(report)} is not relaying (${relayState(report)})`;
  const loss =
    'Salesforce keeps change events for 72 hours: changes older than that when it relays again are lost to the change-event journal, and a backup then runs in full. Until it relays again, no object counts as continuous and point-in-time restores after this snapshot use snapshots only. Fix the relay (docs/continuous.md, "A relay down for longer than 72 hours").';
  if (since === null) {
    return {
      since: null,
      what: 'unknown',
      message: `${head} since an unknown time: neither its feedback nor the journal says when it last relayed. ${loss}`,
    };
  }
  const from = new Date(since.at).toISOString();
  return {
    since: from,
    what: since.what,
    message: `${head} since ${from} (${since.what}), ${hoursBetween(since.at, now.getTime())} hours before ${now.toISOString()}. ${loss}`,
  };
}

/**
 * The break a relay outage left in the journal, or null when there is none to be seen.
 *
 * - The relay is down now (see `relayIsDown`) since more than 72 hours before `now` (see
 *   `relayOutage` for since when): the break runs from then to `now`. When nothing says since
 *   when (no feedback and no journal batch), the break starts at the epoch.
 * - The relay runs, but its feedback records an error at `ErrorTime`, and it came back more than
 *   72 hours after its last delivery before that error (`LastRelayedEventTime` when it is not
 *   after the error, else the error itself). It came back with the first journal batch holding an
 *   event committed after that start and after the error (a batch written after the error but
 *   holding only events committed before it was in flight when the relay failed), else at
 *   `LastRelayedEventTime` when that is after the error. The break runs from the start to then.
 *
 * `arrivals` are the journal's batches, in any order.
 */
export function relayBreak(
  report: EventRelayReport | null,
  now: Date,
  arrivals: readonly JournalArrival[],
): JournalBreak | null {
  const name = relayName(report);
  const state = relayState(report);

  const outage = relayOutage(report, now, arrivals);
  if (outage) {
    if (outage.since === null) {
      return {
        from: UNKNOWN_START,
        to: now.toISOString(),
        reason: `${name} is not relaying (${state}) since an unknown time: neither its feedback nor the journal says when it last relayed, so the journal is not trusted from ${UNKNOWN_START} to ${now.toISOString()}.`,
      };
    }
    const since = Date.parse(outage.since);
    if (!(now.getTime() - since > CHANGE_EVENT_RETENTION_MS)) return null;
    return {
      from: outage.since,
      to: now.toISOString(),
      reason: `${name} is not relaying (${state}) since ${outage.since} (${outage.what}), ${hoursBetween(since, now.getTime())} hours before ${now.toISOString()}: Salesforce keeps change events for 72 hours, so the changes between these two instants are not in the journal.`,
    };
  }

  if (!report?.errorTime) return null;
  const error = Date.parse(report.errorTime);
  if (!Number.isFinite(error)) return null;
  const relayed = report.lastRelayedEventTime ? Date.parse(report.lastRelayedEventTime) : Number.NaN;
  const start = relayed <= error ? relayed : error;
  const after = arrivals
    .filter((a) => Date.parse(a.firstCommit) > Math.max(start, error))
    .map((a) => Date.parse(a.writtenAt))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b)[0];
  const resumed = after ?? (relayed > error ? relayed : Number.NaN);
  if (!Number.isFinite(resumed) || !(resumed - start > CHANGE_EVENT_RETENTION_MS)) return null;
  const from = new Date(start).toISOString();
  const to = new Date(resumed).toISOString();
  return {
    from,
    to,
    reason: `${name} runs again (${state}), but it failed at ${new Date(error).toISOString()}${start < error ? ` after last relaying an event at ${from}` : ''}, and ${after !== undefined ? 'the first journal batch of events committed after that was written' : 'it next relayed an event'} at ${to}, ${hoursBetween(start, resumed)} hours after ${from}: Salesforce keeps change events for 72 hours, so the changes between these two instants are not in the journal.`,
  };
}

/**
 * Since when a relay that is down has relayed nothing: the last event it relayed; else its last
 * error; else the newest journal batch. Null when none of them is known.
 */
function downSince(
  report: EventRelayReport | null,
  arrivals: readonly JournalArrival[],
): { at: number; what: string } | null {
  const relayed = report?.lastRelayedEventTime ? Date.parse(report.lastRelayedEventTime) : Number.NaN;
  if (Number.isFinite(relayed)) return { at: relayed, what: 'the last event it relayed' };
  const error = report?.errorTime ? Date.parse(report.errorTime) : Number.NaN;
  if (Number.isFinite(error)) return { at: error, what: 'its last error' };
  const times = arrivals.map((a) => Date.parse(a.writtenAt)).filter((t) => Number.isFinite(t));
  return times.length === 0 ? null : { at: Math.max(...times), what: 'the newest journal batch' };
}
