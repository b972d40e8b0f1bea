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

const hoursBetween = (from: number, to: number): string => ((to - from) / 3_600_000).toFixed(1);

/**
 * The break a relay outage left in the journal, or null when there is none to be seen.
 *
 * - The relay is down now (no relay for the source, `EventRelayConfig.State` not `RUN`, or its
 *   feedback's `Status` an error, paused or stopped) since more than 72 hours before `now`: the
 *   break runs from then to `now`. Since when is `ErrorTime` (unless an event was relayed after
 *   it), else `LastRelayedEventTime`, else the newest journal arrival; with none of them (and so
 *   no arrival at all), it is unknown and the break starts at the epoch.
 * - The relay runs, but its feedback records an error at `ErrorTime`, and the first journal
 *   arrival after it (else `LastRelayedEventTime`) came more than 72 hours later: the break runs
 *   from the error to that arrival.
 *
 * `arrivals` are the ISO instants journal batches were written, in any order.
 */
export function relayBreak(
  report: EventRelayReport | null,
  now: Date,
  arrivals: readonly string[],
): JournalBreak | null {
  const times = arrivals.map((a) => Date.parse(a)).filter((t) => Number.isFinite(t));
  times.sort((a, b) => a - b);
  const name = report ? `Event Relay ${report.developerName}` : 'The Event Relay';
  const state = report
    ? `state ${report.state}, status ${report.status ?? 'none'}${report.errorCode ? `, error ${report.errorCode}` : ''}${report.errorMessage ? ` (${report.errorMessage})` : ''}`
    : 'not found: the org has no relay feedback for this partner event source (a stopped relay has none)';
  const down = report === null || report.state !== 'RUN' || DOWN_STATUSES.has(report.status ?? '');

  if (down) {
    const since = downSince(report, times);
    if (since === null) {
      return {
        from: UNKNOWN_START,
        to: now.toISOString(),
        reason: `${name} is not relaying (${state}) since an unknown time: neither its feedback nor the journal says when it last relayed, so the journal is not trusted from ${UNKNOWN_START} to ${now.toISOString()}.`,
      };
    }
    if (!(now.getTime() - since.at > CHANGE_EVENT_RETENTION_MS)) return null;
    const from = new Date(since.at).toISOString();
    return {
      from,
      to: now.toISOString(),
      reason: `${name} is not relaying (${state}) since ${from} (${since.what}), ${hoursBetween(since.at, now.getTime())} hours before ${now.toISOString()}: Salesforce keeps change events for 72 hours, so the changes between these two instants are not in the journal.`,
    };
  }

  if (!report.errorTime) return null;
  const error = Date.parse(report.errorTime);
  const after = times.find((t) => t > error);
  const resumed =
    after ?? (report.lastRelayedEventTime ? Date.parse(report.lastRelayedEventTime) : Number.NaN);
  if (!Number.isFinite(resumed) || !(resumed - error > CHANGE_EVENT_RETENTION_MS)) return null;
  const to = new Date(resumed).toISOString();
  return {
    from: new Date(error).toISOString(),
    to,
    reason: `${name} runs again (${state}), but it failed at ${new Date(error).toISOString()} and ${after !== undefined ? 'the first journal batch after that was written' : 'it next relayed an event'} at ${to}, ${hoursBetween(error, resumed)} hours later: Salesforce keeps change events for 72 hours, so the changes between these two instants are not in the journal.`,
  };
}

/**
 * Since when a relay that is down has relayed nothing: its last error, unless it relayed an event
 * after that error (then the error is an old one and the last relayed event says more); else the
 * last event it relayed; else the newest journal batch. Null when none of them is known.
 */
function downSince(
  report: EventRelayReport | null,
  times: readonly number[],
): { at: number; what: string } | null {
  const error = report?.errorTime ? Date.parse(report.errorTime) : Number.NaN;
  const relayed = report?.lastRelayedEventTime ? Date.parse(report.lastRelayedEventTime) : Number.NaN;
  if (Number.isFinite(error) && !(relayed > error)) return { at: error, what: 'its last error' };
  if (Number.isFinite(relayed)) return { at: relayed, what: 'the last event it relayed' };
  const newest = times.at(-1);
  return newest === undefined ? null : { at: newest, what: 'the newest journal batch' };
}
