/**
 * `sfbackup continuous check`: whether an org's continuous protection works, judged from what the
 * org says of its Event Relay, what its channel carries, what the backup exports, and when the
 * journal was last written (docs/continuous.md, "The platform engineer", step 4). Pure: the caller
 * reads the org and the vault.
 */
import type { EventRelayReport } from '../salesforce.ts';

/** The writer's batching window (the queue's 300 s) plus a minute for the write itself. */
export const JOURNAL_LAG_LIMIT_MS = 6 * 60_000;

/** One thing the check found. */
export interface CheckFinding {
  /** `problem` fails the check; `info` is worth knowing; `ok` says a rule passed. */
  readonly level: 'ok' | 'info' | 'problem';
  /** What was checked, in a few words. */
  readonly what: string;
  /** What was found. */
  readonly detail: string;
  /** What to do; empty when nothing needs doing. */
  readonly fix: string;
}

/** What the check judges. */
export interface ContinuousCheckInput {
  /** The org's configured partner event source (`continuous.partnerEventSource`), or null. */
  readonly partnerEventSource: string | null;
  /** The relay whose `RemoteResource` is that source, as the org reports it; null when none. */
  readonly relay: EventRelayReport | null;
  /** Objects whose change events are members of the relay's channel. */
  readonly channelEntities: readonly string[];
  /** Objects the backup exports. */
  readonly backedUp: readonly string[];
  /** When the newest journal batch was written (ISO instant), or null when the journal is empty. */
  readonly newestBatchWrittenAt: string | null;
  readonly now: Date;
  /** How to start the relay where the check runs, when not by deploying the relay's metadata. */
  readonly startRelayHint?: string;
}

/** How long Salesforce keeps change events (Event Message Durability, Pub/Sub API guide). */
const CHANGE_EVENTS_KEPT_MS = 72 * 3_600_000;

const hours = (ms: number): string => (ms / 3_600_000).toFixed(1);

const ok = (what: string, detail: string): CheckFinding => ({ level: 'ok', what, detail, fix: '' });

/** Every finding, in the order the guide lists the checks: the relay, the entities, the journal. */
export function checkContinuous(input: ContinuousCheckInput): CheckFinding[] {
  const source = input.partnerEventSource;
  if (source === null) {
    return [
      {
        level: 'problem',
        what: 'configuration',
        detail: 'the org has no continuous.partnerEventSource: continuous protection is not set up',
        fix: 'add "continuous": {"partnerEventSource": "aws.partner/salesforce.com/<org id>/<channel id>"} to the org in the config (docs/continuous.md, "The platform engineer", step 2)',
      },
    ];
  }
  const relay = input.relay;
  if (relay === null) {
    return [
      {
        level: 'problem',
        what: 'relay',
        detail: `no Event Relay of the org reports the partner event source ${source} (EventRelayFeedback.RemoteResource)`,
        fix: 'compare the config with "SELECT RemoteResource, Status FROM EventRelayFeedback" in the org: correct continuous.partnerEventSource, or create the relay (docs/continuous.md, "The Salesforce admin", step 4)',
      },
    ];
  }
  return [...relayFindings(relay, source, input), ...entityFindings(input), journalFinding(relay, input)];
}

function relayFindings(relay: EventRelayReport, source: string, input: ContinuousCheckInput): CheckFinding[] {
  const out: CheckFinding[] = [];
  const name = `Event Relay ${relay.developerName}`;
  if (relay.state === 'RUN') out.push(ok('relay state', `${name} is RUN`));
  else
    out.push({
      level: 'problem',
      what: 'relay state',
      detail: `${name} is ${relay.state} (status ${relay.status ?? 'none'}): no change events reach the journal`,
      fix:
        input.startRelayHint ??
        'deploy the relay with <state>RUN</state> once the partner event source is associated (docs/continuous.md, "The Salesforce admin", step 6)',
    });

  const error = relay.errorCode
    ? `${relay.errorCode}${relay.errorMessage ? ` (${relay.errorMessage})` : ''} at ${relay.errorTime ?? 'an unknown time'}`
    : null;
  if (relay.status === 'ERROR') {
    const since = relay.errorTime ? input.now.getTime() - Date.parse(relay.errorTime) : Number.NaN;
    const lasting = Number.isFinite(since)
      ? since > CHANGE_EVENTS_KEPT_MS
        ? `; it has lasted ${hours(since)} hours, longer than the 72 hours Salesforce keeps change events, so the journal misses events from ${relay.errorTime} on and a full backup is needed`
        : `; it has lasted ${hours(since)} hours`
      : '';
    out.push({
      level: 'problem',
      what: 'relay status',
      detail: `${name} reports ERROR: ${error ?? 'no error code recorded'}; nothing is relayed while it lasts${lasting}`,
      fix: 'fix the cause the error code names (Object Reference, EventRelayFeedback, "Error Codes"); Salesforce retries by itself, and with EARLIEST recovery the events of the outage follow once it recovers, if within 72 hours',
    });
  } else if (error)
    out.push({
      level: 'info',
      what: 'relay status',
      detail: `${name} is ${relay.status ?? 'without status'}; its last error was ${error}`,
      fix: '',
    });
  else out.push(ok('relay status', `${name} reports ${relay.status ?? 'no status'} and no error`));

  if (relay.replayRecovery === 'EARLIEST')
    out.push(ok('relay recovery', 'ReplayRecovery is EARLIEST: events of an outage are sent once it ends'));
  else
    out.push({
      level: 'problem',
      what: 'relay recovery',
      detail: `ReplayRecovery is ${relay.replayRecovery ?? 'not set (LATEST, the default)'}: after an error the relay resumes with new events only, and the events of the outage are lost to the journal`,
      fix: 'deploy the relay with <relayOption>{"ReplayRecovery":"EARLIEST"}</relayOption>',
    });

  if (relay.remoteResource === source)
    out.push(ok('partner event source', `the relay publishes to ${source}, as configured`));
  else
    out.push({
      level: 'problem',
      what: 'partner event source',
      detail: `the relay publishes to ${relay.remoteResource ?? 'no partner event source'}, but the config names ${source}`,
      fix: 'set continuous.partnerEventSource to the RemoteResource the relay reports, and deploy',
    });
  return out;
}

function entityFindings(input: ContinuousCheckInput): CheckFinding[] {
  const backed = new Map(input.backedUp.map((name) => [name.toLowerCase(), name]));
  const onChannel = new Set(input.channelEntities.map((name) => name.toLowerCase()));
  const notBacked = input.channelEntities.filter((name) => !backed.has(name.toLowerCase()));
  const snapshotOnly = input.backedUp.filter((name) => !onChannel.has(name.toLowerCase()));
  const out: CheckFinding[] = [];
  if (input.channelEntities.length === 0)
    out.push({
      level: 'problem',
      what: 'channel members',
      detail: "the relay's channel has no change event members: nothing is journaled",
      fix: 'add a PlatformEventChannelMember per object to the channel (docs/continuous.md, "The Salesforce admin", step 2)',
    });
  else if (notBacked.length > 0)
    out.push({
      level: 'problem',
      what: 'channel members',
      detail: `the channel carries change events of objects the backup leaves out: ${notBacked.join(', ')}; a point in time has no snapshot to apply them to`,
      fix: `include ${notBacked.join(', ')} in the org's backup objects, or remove their members from the channel`,
    });
  else
    out.push(
      ok('channel members', `every object on the channel is backed up: ${input.channelEntities.join(', ')}`),
    );
  if (snapshotOnly.length > 0)
    out.push({
      level: 'info',
      what: 'snapshot-only objects',
      detail: `${snapshotOnly.length} backed-up object(s) are not on the channel and restore from snapshots only: ${snapshotOnly.join(', ')}`,
      fix: '',
    });
  return out;
}

function journalFinding(relay: EventRelayReport, input: ContinuousCheckInput): CheckFinding {
  const relayed = relay.lastRelayedEventTime;
  const newest = input.newestBatchWrittenAt;
  if (relayed === null)
    return {
      level: 'info',
      what: 'journal',
      detail: `the relay reports no event relayed yet${newest ? `; the newest journal batch was written at ${newest}` : ''}`,
      fix: '',
    };
  if (newest === null)
    return {
      level: 'problem',
      what: 'journal',
      detail: `the relay last relayed an event at ${relayed}, but the journal holds no batch`,
      fix: "check the org stack is deployed with this partner event source and that the writer's queue and dead-letter queues are empty (the org's dashboard and alarms)",
    };
  const lag = Date.parse(relayed) - Date.parse(newest);
  if (lag > JOURNAL_LAG_LIMIT_MS)
    return {
      level: 'problem',
      what: 'journal',
      detail: `the newest journal batch was written at ${newest}, ${Math.round(lag / 60_000)} minutes before the relay last relayed an event (${relayed}); more than the writer's batching window of 5 minutes plus 1`,
      fix: "events reach EventBridge but are not written: look at the writer's errors, the queue's depth and both dead-letter queues on the org's dashboard and alarms",
    };
  return ok(
    'journal',
    `the newest journal batch was written at ${newest}; the relay last relayed at ${relayed}`,
  );
}

/** True when any finding is a problem: the check's exit code is then 1. */
export function hasProblem(findings: readonly CheckFinding[]): boolean {
  return findings.some((f) => f.level === 'problem');
}
