import { describe, expect, it } from 'vitest';
import { journalArrivals, writeJournalBatch } from '../../lambdas/core/continuous/journal.ts';
import { relayBreak, UNKNOWN_START } from '../../lambdas/core/continuous/relay-health.ts';
import type { EventRelayReport } from '../../lambdas/core/salesforce.ts';
import { MemoryStore } from '../backup/memory-store.ts';

const NOW = new Date('2026-12-10T12:00:00.000Z');
const HOUR = 3_600_000;
const hoursAgo = (hours: number, ms = 0) => new Date(NOW.getTime() - hours * HOUR - ms).toISOString();
const plusHours = (iso: string, hours: number, ms = 0) =>
  new Date(Date.parse(iso) + hours * HOUR + ms).toISOString();

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
  it('is a break from its error to now when the error is more than 72 hours old, naming the relay, the error and the hours', () => {
    const errorTime = hoursAgo(80);
    const found = relayBreak(
      relay({
        status: 'ERROR',
        errorCode: 'EVENT_RELAY_AUTH_FAILED',
        errorMessage: 'denied',
        errorTime,
        lastRelayedEventTime: hoursAgo(81),
      }),
      NOW,
      [hoursAgo(81)],
    );
    expect(found).toEqual({ from: errorTime, to: NOW.toISOString(), reason: expect.any(String) });
    expect(found!.reason).toContain('Event Relay SfVault');
    expect(found!.reason).toContain('status ERROR');
    expect(found!.reason).toContain('EVENT_RELAY_AUTH_FAILED');
    expect(found!.reason).toContain(errorTime);
    expect(found!.reason).toContain(NOW.toISOString());
    expect(found!.reason).toContain('80.0 hours');
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

  it('dates the outage by the last relayed event when an event was relayed after the last error', () => {
    const found = relayBreak(
      relay({ status: 'ERROR', errorTime: hoursAgo(200), lastRelayedEventTime: hoursAgo(90) }),
      NOW,
      [],
    );
    expect(found?.from).toBe(hoursAgo(90));
    // ...and by the error when the error is the later of the two.
    expect(
      relayBreak(
        relay({ status: 'ERROR', errorTime: hoursAgo(90), lastRelayedEventTime: hoursAgo(200) }),
        NOW,
        [],
      )?.from,
    ).toBe(hoursAgo(90));
  });

  it('dates it by the newest journal batch when the relay says nothing (a stopped relay keeps no feedback)', () => {
    const arrivals = [hoursAgo(200), hoursAgo(75), hoursAgo(120)];
    const found = relayBreak(null, NOW, arrivals);
    expect(found).toMatchObject({ from: hoursAgo(75), to: NOW.toISOString() });
    expect(found!.reason).toContain('The Event Relay');
    expect(found!.reason).toContain('the newest journal batch');
    expect(relayBreak(null, NOW, [hoursAgo(71)])).toBeNull();
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

  it('is a break from the error to the first journal batch after it when that came more than 72 hours later', () => {
    const firstBack = plusHours(errorTime, 90);
    const found = relayBreak(relay({ errorTime, errorCode: 'EVENT_RELAY_AUTH_FAILED' }), NOW, [
      hoursAgo(300),
      plusHours(errorTime, 120),
      firstBack,
    ]);
    expect(found).toMatchObject({ from: errorTime, to: firstBack });
    expect(found!.reason).toContain('runs again');
    expect(found!.reason).toContain('EVENT_RELAY_AUTH_FAILED');
    expect(found!.reason).toContain('90.0 hours');
  });

  it('is no break at exactly 72 hours, and a break a millisecond later', () => {
    expect(relayBreak(relay({ errorTime }), NOW, [plusHours(errorTime, 72)])).toBeNull();
    expect(relayBreak(relay({ errorTime }), NOW, [plusHours(errorTime, 72, 1)])).toMatchObject({
      from: errorTime,
      to: plusHours(errorTime, 72, 1),
    });
  });

  it('uses the last relayed event when no journal batch came after the error', () => {
    const last = plusHours(errorTime, 100);
    const found = relayBreak(relay({ errorTime, lastRelayedEventTime: last }), NOW, [hoursAgo(300)]);
    expect(found).toMatchObject({ from: errorTime, to: last });
    expect(found!.reason).toContain('it next relayed an event');
  });

  it('is no break when the relay came back within 72 hours, or when nothing says when it came back', () => {
    expect(relayBreak(relay({ errorTime }), NOW, [plusHours(errorTime, 5)])).toBeNull();
    expect(relayBreak(relay({ errorTime, lastRelayedEventTime: null }), NOW, [])).toBeNull();
  });

  it('is no break for a running relay that never failed', () => {
    expect(relayBreak(relay(), NOW, [hoursAgo(500)])).toBeNull();
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

  it('are the times batches were written, ascending, from the commit hour of `from` on, without the rereads', async () => {
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
    expect(await journalArrivals(store, 'acme')).toEqual([hoursAgo(49), hoursAgo(9), hoursAgo(2)]);
    expect(await journalArrivals(store, 'acme', new Date(hoursAgo(60)))).toEqual([hoursAgo(49), hoursAgo(9)]);
    expect(await journalArrivals(store, 'other')).toEqual([]);
  });
});
