import { describe, expect, it } from 'vitest';
import { journalArrivals, writeJournalBatch } from '../../lambdas/core/continuous/journal.ts';
import {
  type JournalArrival,
  relayBreak,
  relayOutage,
  UNKNOWN_START,
} from '../../lambdas/core/continuous/relay-health.ts';
import type { EventRelayReport } from '../../lambdas/core/salesforce.ts';
import { MemoryStore } from '../backup/memory-store.ts';

const NOW = new Date('2026-12-10T12:00:00.000Z');
const HOUR = 3_600_000;
const hoursAgo = (hours: number, ms = 0) => new Date(NOW.getTime() - hours * HOUR - ms).toISOString();
const plusHours = (iso: string, hours: number, ms = 0) =>
  new Date(Date.parse(iso) + hours * HOUR + ms).toISOString();

/** A journal batch written at `writtenAt`, its earliest event committed `lagMs` before. */
const batch = (writtenAt: string, lagMs = 60_000): JournalArrival => ({
  writtenAt,
  firstCommit: new Date(Date.parse(writtenAt) - lagMs).toISOString(),
});

function relay(overrides: Partial<EventRelayReport> = {}): EventRelayReport {
  return {
    id: '0YLxx0000000001AAA',
    developerName: 'SfVault',
    state: 'RUN',
    eventChannel: 'SfVault__chn',
    replayRecovery: 'EARLIEST',
    status: 'RUNNING',
    errorCode: null,
    errorMessage: null,
    errorTime: null,
    lastRelayedEventTime: hoursAgo(0.1),
    remoteResource: 'aws.partner/salesforce.com/00D000000000001AAA/0YLxx0000000001',
    ...overrides,
  };
}

describe('a relay that is down now', () => {
  it('is a break from its last delivery to now when that is more than 72 hours old, naming the relay, the error and the hours', () => {
    const last = hoursAgo(81);
    const found = relayBreak(
      relay({
        status: 'ERROR',
        errorCode: 'EVENT_RELAY_AUTH_FAILED',
        errorMessage: 'denied',
        errorTime: hoursAgo(80),
        lastRelayedEventTime: last,
      }),
      NOW,
      [batch(hoursAgo(81))],
    );
    expect(found).toEqual({ from: last, to: NOW.toISOString(), reason: expect.any(String) });
    expect(found!.reason).toContain('Event Relay SfVault');
    expect(found!.reason).toContain('status ERROR');
    expect(found!.reason).toContain('EVENT_RELAY_AUTH_FAILED');
    expect(found!.reason).toContain(last);
    expect(found!.reason).toContain(NOW.toISOString());
    expect(found!.reason).toContain('81.0 hours');
  });

  it('dates the outage by the last delivery, not by an error time a retrying relay keeps moving on', () => {
    const last = hoursAgo(80);
    // The relay retries and fails again and again: its ErrorTime is always recent.
    for (const minutesAgo of [90, 30, 1]) {
      const retrying = relay({
        status: 'ERROR',
        errorCode: 'EVENT_RELAY_AUTH_FAILED',
        errorTime: new Date(NOW.getTime() - minutesAgo * 60_000).toISOString(),
        lastRelayedEventTime: last,
      });
      expect(relayBreak(retrying, NOW, [])).toMatchObject({ from: last, to: NOW.toISOString() });
    }
  });

  it('is no break at exactly 72 hours, and a break a millisecond later', () => {
    const at72 = relay({ status: 'ERROR', errorTime: hoursAgo(72), lastRelayedEventTime: null });
    expect(relayBreak(at72, NOW, [])).toBeNull();
    const past72 = relay({ status: 'ERROR', errorTime: hoursAgo(72, 1), lastRelayedEventTime: null });
    expect(relayBreak(past72, NOW, [])).toMatchObject({ from: hoursAgo(72, 1), to: NOW.toISOString() });
  });

  it('is no break while the outage is shorter than 72 hours: an EARLIEST relay sends it again', () => {
    expect(
      relayBreak(
        relay({ status: 'ERROR', errorTime: hoursAgo(10), lastRelayedEventTime: hoursAgo(11) }),
        NOW,
        [],
      ),
    ).toBeNull();
  });

  it('counts a relay whose state is not RUN as down, dating it by the last event it relayed', () => {
    const last = hoursAgo(100);
    const found = relayBreak(
      relay({ state: 'PAUSE', status: 'PAUSED', lastRelayedEventTime: last }),
      NOW,
      [],
    );
    expect(found).toMatchObject({ from: last, to: NOW.toISOString() });
    expect(found!.reason).toContain('state PAUSE');
    expect(found!.reason).toContain('the last event it relayed');
  });

  it('counts a relay set to RUN whose feedback says STOPPED or PAUSED as down', () => {
    for (const status of ['STOPPED', 'PAUSED']) {
      expect(relayBreak(relay({ status, lastRelayedEventTime: hoursAgo(73) }), NOW, [])).toMatchObject({
        from: hoursAgo(73),
      });
    }
  });

  it('dates the outage by the last relayed event whether the error came before it or after, and by the error without one', () => {
    const found = relayBreak(
      relay({ status: 'ERROR', errorTime: hoursAgo(200), lastRelayedEventTime: hoursAgo(90) }),
      NOW,
      [],
    );
    expect(found?.from).toBe(hoursAgo(90));
    expect(
      relayBreak(
        relay({ status: 'ERROR', errorTime: hoursAgo(90), lastRelayedEventTime: hoursAgo(200) }),
        NOW,
        [],
      )?.from,
    ).toBe(hoursAgo(200));
    const errorOnly = relay({ status: 'ERROR', errorTime: hoursAgo(90), lastRelayedEventTime: null });
    expect(relayBreak(errorOnly, NOW, [batch(hoursAgo(95))])).toMatchObject({ from: hoursAgo(90) });
    expect(relayBreak(errorOnly, NOW, [batch(hoursAgo(95))])!.reason).toContain('its last error');
  });

  it('dates it by the newest journal batch when the relay says nothing (a stopped relay keeps no feedback)', () => {
    const arrivals = [hoursAgo(200), hoursAgo(75), hoursAgo(120)];
    const found = relayBreak(
      null,
      NOW,
      arrivals.map((a) => batch(a)),
    );
    expect(found).toMatchObject({ from: hoursAgo(75), to: NOW.toISOString() });
    expect(found!.reason).toContain('The Event Relay');
    expect(found!.reason).toContain('the newest journal batch');
    expect(relayBreak(null, NOW, [batch(hoursAgo(71))])).toBeNull();
  });

  it('starts the break at the epoch, saying so, when nothing tells when it stopped', () => {
    const found = relayBreak(relay({ state: 'STOP', status: null, lastRelayedEventTime: null }), NOW, []);
    expect(found).toEqual({
      from: UNKNOWN_START,
      to: NOW.toISOString(),
      reason: expect.stringContaining('unknown'),
    });
    expect(relayBreak(null, NOW, [])?.from).toBe(UNKNOWN_START);
  });
});

describe('a relay that runs again after an error', () => {
  const errorTime = hoursAgo(200);

  it('is a break from the error to the first journal batch of events committed after it when that came more than 72 hours later', () => {
    const firstBack = plusHours(errorTime, 90);
    const found = relayBreak(relay({ errorTime, errorCode: 'EVENT_RELAY_AUTH_FAILED' }), NOW, [
      batch(hoursAgo(300)),
      batch(plusHours(errorTime, 120)),
      batch(firstBack),
    ]);
    expect(found).toMatchObject({ from: errorTime, to: firstBack });
    expect(found!.reason).toContain('runs again');
    expect(found!.reason).toContain('EVENT_RELAY_AUTH_FAILED');
    expect(found!.reason).toContain('90.0 hours');
  });

  it('is no break at exactly 72 hours, and a break a millisecond later', () => {
    expect(relayBreak(relay({ errorTime }), NOW, [batch(plusHours(errorTime, 72))])).toBeNull();
    expect(relayBreak(relay({ errorTime }), NOW, [batch(plusHours(errorTime, 72, 1))])).toMatchObject({
      from: errorTime,
      to: plusHours(errorTime, 72, 1),
    });
  });

  it('does not take a batch in flight at the error, written after it but of events committed before it, for the return', () => {
    const back = plusHours(errorTime, 100);
    const inFlight: JournalArrival = {
      writtenAt: plusHours(errorTime, 0, 4 * 60_000),
      firstCommit: plusHours(errorTime, 0, -60_000),
    };
    const found = relayBreak(relay({ errorTime }), NOW, [inFlight, batch(back)]);
    expect(found).toMatchObject({ from: errorTime, to: back });
    expect(found!.reason).toContain('100.0 hours');
    // The relay's replay of what it stored may hold events from before the error: only a batch
    // with an event committed after it dates the return.
    const replayed: JournalArrival = { writtenAt: back, firstCommit: plusHours(errorTime, -1) };
    expect(
      relayBreak(relay({ errorTime }), NOW, [inFlight, replayed, batch(plusHours(back, 1))]),
    ).toMatchObject({ from: errorTime, to: plusHours(back, 1) });
  });

  it('starts the break at the last relayed event when that is before the error', () => {
    const last = plusHours(errorTime, -5);
    const found = relayBreak(relay({ errorTime, lastRelayedEventTime: last }), NOW, [
      batch(plusHours(errorTime, 70)),
    ]);
    expect(found).toMatchObject({ from: last, to: plusHours(errorTime, 70) });
    expect(found!.reason).toContain(`after last relaying an event at ${last}`);
  });

  it('uses the last relayed event when no journal batch of events committed after the error came', () => {
    const last = plusHours(errorTime, 100);
    const found = relayBreak(relay({ errorTime, lastRelayedEventTime: last }), NOW, [batch(hoursAgo(300))]);
    expect(found).toMatchObject({ from: errorTime, to: last });
    expect(found!.reason).toContain('it next relayed an event');
  });

  it('is no break when the relay came back within 72 hours, or when nothing says when it came back', () => {
    expect(relayBreak(relay({ errorTime }), NOW, [batch(plusHours(errorTime, 5))])).toBeNull();
    expect(relayBreak(relay({ errorTime, lastRelayedEventTime: null }), NOW, [])).toBeNull();
  });

  it('is no break for a running relay that never failed', () => {
    expect(relayBreak(relay(), NOW, [batch(hoursAgo(500))])).toBeNull();
  });
});

describe('the outage of a relay that relays nothing', () => {
  it('is there for any length of time, naming the relay, its status, since when, and the 72 hours', () => {
    const last = hoursAgo(3);
    const outage = relayOutage(
      relay({
        status: 'ERROR',
        errorCode: 'EVENT_RELAY_AUTH_FAILED',
        errorTime: hoursAgo(1),
        lastRelayedEventTime: last,
      }),
      NOW,
      [],
    );
    expect(outage).toMatchObject({ since: last, what: 'the last event it relayed' });
    expect(outage!.message).toContain('Event Relay SfVault is not relaying');
    expect(outage!.message).toContain('status ERROR');
    expect(outage!.message).toContain(`since ${last}`);
    expect(outage!.message).toContain('3.0 hours');
    expect(outage!.message).toContain('72 hours');
    expect(outage!.message).toContain('no object counts as continuous');
  });

  it('is there for a paused relay and for one not found, and not for a running one', () => {
    expect(relayOutage(relay({ state: 'PAUSE', status: 'PAUSED' }), NOW, [])?.since).toBe(hoursAgo(0.1));
    expect(relayOutage(null, NOW, [batch(hoursAgo(2))])).toMatchObject({
      since: hoursAgo(2),
      what: 'the newest journal batch',
    });
    expect(relayOutage(null, NOW, [])).toMatchObject({ since: null });
    expect(relayOutage(null, NOW, [])!.message).toContain('unknown time');
    expect(relayOutage(relay(), NOW, [])).toBeNull();
    expect(relayOutage(relay({ errorTime: hoursAgo(100) }), NOW, [])).toBeNull();
  });
});

describe('the journal arrivals', () => {
  const event = (replayId: number, commitTimestamp: number, changeType = 'UPDATE') => ({
    detail: {
      replayId: String(replayId),
      payload: {
        ChangeEventHeader: {
          entityName: 'Account',
          recordIds: ['001000000000001AAA'],
          changeType,
          transactionKey: `tx-${replayId}`,
          sequenceNumber: 1,
          commitTimestamp,
          commitNumber: replayId,
        },
      },
    },
  });

  it('are the times batches were written and their first commits, ascending by writing, from the commit hour of `from` on, without the rereads', async () => {
    const store = new MemoryStore();
    const commit = (hours: number) => Date.parse(hoursAgo(hours));
    // Written out of order; the late batch holds events committed long before it was written.
    await writeJournalBatch(
      store,
      'acme',
      [{ messageId: 'a', event: event(1, commit(50)) }],
      () => new Date(hoursAgo(49)),
    );
    await writeJournalBatch(
      store,
      'acme',
      [{ messageId: 'b', event: event(2, commit(200)) }],
      () => new Date(hoursAgo(2)),
    );
    await writeJournalBatch(
      store,
      'acme',
      [{ messageId: 'c', event: event(3, commit(10), 'GAP_UPDATE') }],
      () => new Date(hoursAgo(9)),
    );
    expect(await journalArrivals(store, 'acme')).toEqual([
      { writtenAt: hoursAgo(49), firstCommit: hoursAgo(50) },
      { writtenAt: hoursAgo(9), firstCommit: hoursAgo(10) },
      { writtenAt: hoursAgo(2), firstCommit: hoursAgo(200) },
    ]);
    expect(await journalArrivals(store, 'acme', new Date(hoursAgo(60)))).toEqual([
      { writtenAt: hoursAgo(49), firstCommit: hoursAgo(50) },
      { writtenAt: hoursAgo(9), firstCommit: hoursAgo(10) },
    ]);
    expect(await journalArrivals(store, 'other')).toEqual([]);
  });
});
