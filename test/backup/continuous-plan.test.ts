import { describe, expect, it } from 'vitest';
import { describeBackup } from '../../cli/commands/backup.ts';
import { describeCoverage, readCoverage } from '../../cli/commands/coverage.ts';
import { writeJournalBatch } from '../../lambdas/core/continuous/journal.ts';
import { rowsAtInstant } from '../../lambdas/core/continuous/view.ts';
import {
  type EventRelayReport,
  SalesforceQueryError,
  SalesforceTransientError,
} from '../../lambdas/core/salesforce.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
import { baseFields, type FakeObject, FakeSource } from './fake-source.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';
import { amendManifest } from '../continuous/manifest-fields.ts';

const ORG = 'acme';
const SOURCE = 'aws.partner/salesforce.com/00D000000000001AAA/0YLxx0000000001AAA';
const CHANNEL = 'SfVault__chn';
const T0 = '2026-11-01T00:00:00.000Z';
const DAY1 = Date.parse('2026-12-01T08:00:00.000Z');
const HOUR = 3_600_000;
const at = (ms: number) => () => new Date(ms);
const iso = (ms: number) => new Date(ms).toISOString();
const settings = { continuous: { partnerEventSource: SOURCE } };

function object(name: string, prefix: string): FakeObject {
  return {
    name,
    fields: baseFields,
    rows: [{ Id: `${prefix}000000000001AAA`, Name: `${name} 1`, IsDeleted: 'false', SystemModstamp: T0 }],
  };
}

function relay(overrides: Partial<EventRelayReport> = {}): EventRelayReport {
  return {
    id: '0YLxx0000000001AAA',
    developerName: 'SfVault',
    state: 'RUN',
    eventChannel: CHANNEL,
    replayRecovery: 'EARLIEST',
    status: 'RUNNING',
    errorCode: null,
    errorMessage: null,
    errorTime: null,
    lastRelayedEventTime: iso(DAY1 - HOUR),
    remoteResource: SOURCE,
    ...overrides,
  };
}

/** An org with Account (on the relay's channel) and Contact (not on it), and a healthy relay. */
function continuousOrg(): FakeSource {
  const source = new FakeSource([object('Account', '001'), object('Contact', '003')]);
  source.relays.push(relay());
  source.channelMembers.set(CHANNEL, ['Account']);
  return source;
}

async function manifestOf(store: BackupStore, snapshotId: string) {
  return new SnapshotReader(store).manifest(ORG, snapshotId);
}

describe('a backup of a continuous org', () => {
  it('records per object whether its change events are on the relay channel, and coverage shows it', async () => {
    const source = continuousOrg();
    const { store, finish } = await runCore(
      source,
      { org: ORG, mode: 'full' },
      settings,
      undefined,
      at(DAY1),
    );
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.objects.map((o) => [o.name, o.continuous])).toEqual([
      ['Account', true],
      ['Contact', false],
    ]);
    expect(manifest.journalBreak).toBeUndefined();
    expect(manifest.warnings).toBeUndefined();
    expect(source.callLog).toContain('eventRelay');
    expect(source.callLog).toContain('changeEventEntities');

    const coverage = await readCoverage(store, ORG);
    expect(coverage.exported.map((o) => [o.name, o.continuous])).toEqual([
      ['Account', true],
      ['Contact', false],
    ]);
    expect(coverage.continuous).toEqual(['Account']);
    const text = describeCoverage(coverage);
    expect(text).toContain('    Account: 1 rows (bulk; changes by SystemModstamp; continuous)');
    expect(text).toContain(
      '    Contact: 1 rows (bulk; changes by SystemModstamp; snapshot only, not continuous)',
    );
    expect(text).toContain('  continuous (change events journaled after the snapshot): Account');
  });

  it('marks objects an incremental found unchanged too', async () => {
    const source = continuousOrg();
    const { store } = await runCore(source, { org: ORG, mode: 'full' }, settings, undefined, at(DAY1));
    const { finish } = await runCore(
      source,
      { org: ORG, mode: 'incremental' },
      settings,
      store,
      at(DAY1 + HOUR),
    );
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.mode).toBe('incremental');
    expect(manifest.objects.map((o) => [o.name, o.status, o.continuous])).toEqual([
      ['Account', 'unchanged', true],
      ['Contact', 'unchanged', false],
    ]);
  });

  it('counts no object as continuous while the relay is down, and warns and alerts each run, without a break under 72 hours', async () => {
    const source = continuousOrg();
    const { store } = await runCore(source, { org: ORG, mode: 'full' }, settings, undefined, at(DAY1));
    source.relays[0] = relay({
      status: 'ERROR',
      errorCode: 'EVENT_RELAY_AUTH_FAILED',
      errorTime: iso(DAY1 + 2 * HOUR),
      lastRelayedEventTime: iso(DAY1 + HOUR),
    });
    for (const hours of [10, 30]) {
      const { finish } = await runCore(
        source,
        { org: ORG, mode: 'incremental' },
        settings,
        store,
        at(DAY1 + hours * HOUR),
      );
      const manifest = await manifestOf(store, finish.snapshotId);
      expect(manifest.mode).toBe('incremental');
      expect(manifest.journalBreak).toBeUndefined();
      expect(manifest.fullReason).toBeUndefined();
      expect(manifest.objects.map((o) => [o.name, o.continuous])).toEqual([
        ['Account', false],
        ['Contact', false],
      ]);
      expect(manifest.warnings).toHaveLength(1);
      const warning = manifest.warnings![0]!;
      expect(warning).toContain('Event Relay SfVault is not relaying');
      expect(warning).toContain('status ERROR');
      expect(warning).toContain(`since ${iso(DAY1 + HOUR)}`);
      expect(warning).toContain('72 hours');
      expect(finish.warnings).toEqual(manifest.warnings);
      expect(finish.hasAnomalies).toBe(true);
      expect(finish.anomalyMessage).toContain(`found the change-event journal's relay down: ${warning}`);
    }
  });

  it('makes an incremental full when the relay has been down for more than 72 hours, and again while the break grows', async () => {
    const source = continuousOrg();
    const { store } = await runCore(source, { org: ORG, mode: 'full' }, settings, undefined, at(DAY1));
    const lastRelayed = iso(DAY1);
    // A relay that retries: its error time is always just before the run.
    const failing = (ms: number) =>
      relay({
        status: 'ERROR',
        errorCode: 'EVENT_RELAY_AUTH_FAILED',
        errorMessage: 'The relay could not reach the partner event source.',
        errorTime: iso(ms - 5 * 60_000),
        lastRelayedEventTime: lastRelayed,
      });

    const second = DAY1 + 82 * HOUR;
    source.relays[0] = failing(second);
    const { finish } = await runCore(source, { org: ORG, mode: 'incremental' }, settings, store, at(second));
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.mode).toBe('full');
    expect(manifest.baseSnapshotId).toBeNull();
    expect(manifest.journalBreak).toEqual({ from: lastRelayed, to: iso(second), reason: expect.any(String) });
    expect(manifest.journalBreak!.reason).toContain('EVENT_RELAY_AUTH_FAILED');
    expect(manifest.journalBreak!.reason).toContain('82.0 hours');
    expect(manifest.fullReason).toMatch(
      /^the change-event journal has a break: Event Relay SfVault is not relaying/,
    );
    expect(manifest.objects.every((o) => o.continuous === false)).toBe(true);
    expect(finish.fullReason).toBe(manifest.fullReason);
    // The alert names the break, and the relay still down.
    expect(finish.hasAnomalies).toBe(true);
    expect(finish.anomalyMessage).toContain('ran as a full backup instead of an incremental');
    expect(finish.anomalyMessage).toContain(lastRelayed);
    expect(finish.anomalyMessage).toContain('EVENT_RELAY_AUTH_FAILED');
    expect(finish.anomalyMessage).toContain("found the change-event journal's relay down");
    // ...and so does the CLI's summary.
    expect(
      describeBackup({
        org: ORG,
        snapshotId: finish.snapshotId,
        status: 'complete',
        mode: finish.mode,
        fullReason: finish.fullReason,
        objects: finish.objects,
        rows: finish.rows,
        files: 0,
        filesDownloaded: 0,
        metadataComponents: 0,
        apiCalls: finish.apiCalls,
        problems: [],
        skippedObjects: [],
        newlySkipped: [],
        execution: { status: 'SUCCEEDED', historyEvents: 1, largestPayloadBytes: 1, withinLimits: true },
      }),
    ).toContain(`ran in full instead of incremental: the change-event journal has a break`);

    // The relay is still down an hour later: the break has grown past the end recorded, so the
    // longer break is recorded and the run is full again.
    const third = second + HOUR;
    source.relays[0] = failing(third);
    const grown = await runCore(source, { org: ORG, mode: 'incremental' }, settings, store, at(third));
    const next = await manifestOf(store, grown.finish.snapshotId);
    expect(next.mode).toBe('full');
    expect(next.journalBreak).toMatchObject({ from: lastRelayed, to: iso(third) });
    expect(next.objects.every((o) => o.continuous === false)).toBe(true);
    expect(grown.finish.hasAnomalies).toBe(true);
  });

  it('records a break found again after the relay came back once, then runs as asked', async () => {
    const source = continuousOrg();
    const store = new MemoryStore();
    await runCore(source, { org: ORG, mode: 'full' }, settings, store, at(DAY1));
    const errorTime = DAY1 + 2 * HOUR;
    const back = errorTime + 90 * HOUR;
    source.relays[0] = relay({
      errorTime: iso(errorTime),
      errorCode: 'EVENT_RELAY_AUTH_FAILED',
      lastRelayedEventTime: iso(back + HOUR),
    });
    await writeJournalBatch(
      store,
      ORG,
      [{ messageId: 'm-1', event: changeEvent(back - 10 * 60_000) }],
      at(back),
    );
    const first = await runCore(
      source,
      { org: ORG, mode: 'incremental' },
      settings,
      store,
      at(back + 2 * HOUR),
    );
    expect((await manifestOf(store, first.finish.snapshotId)).journalBreak).toMatchObject({
      from: iso(errorTime),
      to: iso(back),
    });
    const again = await runCore(
      source,
      { org: ORG, mode: 'incremental' },
      settings,
      store,
      at(back + 3 * HOUR),
    );
    const manifest = await manifestOf(store, again.finish.snapshotId);
    expect(manifest.mode).toBe('incremental');
    expect(manifest.journalBreak).toBeUndefined();
    expect(manifest.fullReason).toBeUndefined();
    expect(manifest.warnings).toBeUndefined();
    expect(manifest.objects.map((o) => [o.name, o.continuous])).toEqual([
      ['Account', true],
      ['Contact', false],
    ]);
    expect(again.finish.hasAnomalies).toBe(false);
  });

  it('records a break a full run finds, and alerts it on its own', async () => {
    const source = continuousOrg();
    source.relays[0] = relay({
      state: 'PAUSE',
      status: 'PAUSED',
      lastRelayedEventTime: iso(DAY1 - 100 * HOUR),
    });
    const { store, finish } = await runCore(
      source,
      { org: ORG, mode: 'full' },
      settings,
      undefined,
      at(DAY1),
    );
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.journalBreak).toMatchObject({ from: iso(DAY1 - 100 * HOUR), to: iso(DAY1) });
    expect(manifest.fullReason).toBeUndefined();
    expect(finish.anomalyMessage).toContain(
      `found a break in the change-event journal from ${iso(DAY1 - 100 * HOUR)} to ${iso(DAY1)}`,
    );
  });

  it('finds a break a relay left after it came back, from the journal batches written since its error', async () => {
    const source = continuousOrg();
    const store = new MemoryStore();
    await runCore(source, { org: ORG, mode: 'full' }, settings, store, at(DAY1));
    const errorTime = DAY1 + 2 * HOUR;
    const back = errorTime + 90 * HOUR;
    // The relay is running again; the journal's first batch after the error was written 90 hours later.
    source.relays[0] = relay({
      errorTime: iso(errorTime),
      errorCode: 'EVENT_RELAY_AUTH_FAILED',
      lastRelayedEventTime: iso(back + HOUR),
    });
    await writeJournalBatch(
      store,
      ORG,
      [{ messageId: 'm-1', event: changeEvent(back - 10 * 60_000) }],
      at(back),
    );
    const { finish } = await runCore(
      source,
      { org: ORG, mode: 'incremental' },
      settings,
      store,
      at(back + 2 * HOUR),
    );
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.mode).toBe('full');
    expect(manifest.journalBreak).toMatchObject({ from: iso(errorTime), to: iso(back) });
    expect(manifest.journalBreak!.reason).toContain(
      'the first journal batch of events committed after that was written',
    );
  });

  it('does not fail when the relay cannot be read: it warns, and counts no object as continuous', async () => {
    const source = continuousOrg();
    const { store } = await runCore(source, { org: ORG, mode: 'full' }, settings, undefined, at(DAY1));
    source.eventRelay = async () => {
      throw new SalesforceQueryError(
        "query of EventRelayFeedback: INVALID_TYPE: sObject type 'EventRelayFeedback' is not supported.",
        'INVALID_TYPE',
        400,
      );
    };
    const { finish } = await runCore(
      source,
      { org: ORG, mode: 'incremental' },
      settings,
      store,
      at(DAY1 + 100 * HOUR),
    );
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(finish.status).toBe('complete');
    expect(manifest.mode).toBe('incremental');
    expect(manifest.journalBreak).toBeUndefined();
    expect(manifest.warnings).toHaveLength(1);
    expect(manifest.warnings![0]).toContain(`The Event Relay of ${SOURCE} could not be read`);
    expect(manifest.warnings![0]).toContain('INVALID_TYPE');
    expect(manifest.objects.every((o) => o.continuous === false)).toBe(true);
    expect(finish.warnings).toEqual(manifest.warnings);
    expect(
      describeBackup({
        org: ORG,
        snapshotId: finish.snapshotId,
        status: 'complete',
        mode: finish.mode,
        ...(finish.warnings ? { warnings: finish.warnings } : {}),
        objects: finish.objects,
        rows: finish.rows,
        files: 0,
        filesDownloaded: 0,
        metadataComponents: 0,
        apiCalls: finish.apiCalls,
        problems: [],
        skippedObjects: [],
        newlySkipped: [],
        execution: { status: 'SUCCEEDED', historyEvents: 1, largestPayloadBytes: 1, withinLimits: true },
      }),
    ).toContain(`  warning: The Event Relay of ${SOURCE} could not be read`);
  });

  it('warns when the channel cannot be read, and still judges the relay', async () => {
    const source = continuousOrg();
    source.changeEventEntities = async () => {
      throw new SalesforceQueryError('INVALID_TYPE: PlatformEventChannelMember', 'INVALID_TYPE', 400);
    };
    const { store, finish } = await runCore(
      source,
      { org: ORG, mode: 'full' },
      settings,
      undefined,
      at(DAY1),
    );
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.warnings![0]).toContain(`The members of channel ${CHANNEL} could not be read`);
    expect(manifest.objects.map((o) => o.continuous)).toEqual([false, false]);
  });

  it('fails the plan, for the workflow to retry, when reading the relay fails for a passing reason', async () => {
    const source = continuousOrg();
    source.eventRelay = async () => {
      throw new SalesforceTransientError('query of EventRelayFeedback: HTTP 503', undefined, 503);
    };
    await expect(runCore(source, { org: ORG, mode: 'full' }, settings, undefined, at(DAY1))).rejects.toThrow(
      SalesforceTransientError,
    );
  });

  it('reads no relay for an org that is not continuous, and records no flags', async () => {
    const source = continuousOrg();
    const { store, finish } = await runCore(source, { org: ORG, mode: 'full' }, {}, undefined, at(DAY1));
    expect(source.callLog).not.toContain('eventRelay');
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.objects.every((o) => o.continuous === undefined)).toBe(true);
    const coverage = await readCoverage(store, ORG);
    expect(coverage.continuous).toBeNull();
    expect(describeCoverage(coverage)).not.toContain('continuous');
  });
});

describe('changes the journal could not hold, served by when they arrived', () => {
  const ACCOUNT = '001000000000001AAA';
  const MIN = 60_000;
  /** An Account change event, as relayed, with its own replay id. */
  const accountEvent = (replayId: number, changeType: string, recordIds: string[], commit: number) => ({
    messageId: `m-${replayId}`,
    event: {
      detail: {
        replayId: String(replayId),
        payload: {
          ChangeEventHeader: {
            entityName: 'Account',
            recordIds,
            changeType,
            transactionKey: `tx-${replayId}`,
            sequenceNumber: 1,
            commitTimestamp: commit,
            commitNumber: replayId,
            changedFields: changeType === 'UPDATE' ? ['Name'] : [],
          },
          ...(changeType === 'UPDATE' ? { Name: 'Account 1' } : {}),
        },
      },
    },
  });
  /** A run of the org at `ms`, marked continuous for Account as a run with a healthy relay marks it. */
  const run = async (store: BackupStore, mode: 'full' | 'incremental', ms: number) => {
    const source = new FakeSource([object('Account', '001'), object('Contact', '003')]);
    const { finish } = await runCore(source, { org: ORG, mode }, {}, store, at(ms));
    amendManifest(store as MemoryStore, ORG, finish.snapshotId, { continuous: ['Account'] });
    return manifestOf(store, finish.snapshotId);
  };
  const view = (store: BackupStore, ms: number) => rowsAtInstant(store, ORG, 'Account', new Date(ms));

  it('serves a gap the journal received late, committed before the previous run’s window, and the view says so until then', async () => {
    const store = new MemoryStore();
    await run(store, 'full', DAY1);
    const second = await run(store, 'incremental', DAY1 + 4 * HOUR);
    // Committed at 09:00, long before the second run's window (from 11:55); the relay delivered it
    // at 13:00, after that run.
    await writeJournalBatch(
      store,
      ORG,
      [accountEvent(1, 'GAP_UPDATE', [ACCOUNT], DAY1 + HOUR)],
      at(DAY1 + 5 * HOUR),
    );
    const before = await view(store, DAY1 + 5 * HOUR + 30 * MIN);
    expect(before.snapshotId).toBe(second.snapshotId);
    expect(before.snapshotOnly).toBeUndefined();
    expect([...before.uncertain]).toEqual([[ACCOUNT, iso(DAY1 + HOUR)]]);

    const third = await run(store, 'incremental', DAY1 + 6 * HOUR);
    const account = third.objects.find((o) => o.name === 'Account')!;
    expect(account.since).toBeNull();
    expect(account.fullReason).toMatch(
      /gap for 1 record\(s\) of Account at 2026-12-01T09:00:00.000Z \(GAP_UPDATE\)/,
    );
    expect(account.journalSettled).toBe(iso(DAY1 + 5 * HOUR));
    expect(third.objects.find((o) => o.name === 'Contact')!.status).toBe('unchanged');
    const after = await view(store, DAY1 + 6 * HOUR + 10 * MIN);
    expect(after.snapshotId).toBe(third.snapshotId);
    expect(after.uncertain.size).toBe(0);
    // Served once: the run after does not read the object again for it.
    const fourth = await run(store, 'incremental', DAY1 + 8 * HOUR);
    expect(fourth.objects.find((o) => o.name === 'Account')!.status).toBe('unchanged');
  });

  it('reads the object in full after an event for every record (a wildcard), which its snapshot then settles', async () => {
    const store = new MemoryStore();
    await run(store, 'full', DAY1);
    // A field's type changed: one UPDATE names every Account by its key prefix.
    await writeJournalBatch(
      store,
      ORG,
      [accountEvent(2, 'UPDATE', ['001*'], DAY1 + HOUR)],
      at(DAY1 + HOUR + MIN),
    );
    const before = await view(store, DAY1 + HOUR + 2 * MIN);
    expect(before.snapshotOnly).toEqual({ kind: 'overflow', at: iso(DAY1 + HOUR) });

    // Two minutes later: the wildcard event lies in the next run's overlap, so its view replays it.
    const second = await run(store, 'incremental', DAY1 + HOUR + 2 * MIN);
    const account = second.objects.find((o) => o.name === 'Account')!;
    expect(account.since).toBeNull();
    expect(account.fullReason).toMatch(
      /an event for every record of Account at 2026-12-01T09:00:00.000Z \(UPDATE, record ids 001\*\)/,
    );
    expect(account.journalSettled).toBe(iso(DAY1 + HOUR + MIN));
    const after = await view(store, DAY1 + HOUR + 30 * MIN);
    expect(after.snapshotId).toBe(second.snapshotId);
    expect(after.snapshotOnly).toBeUndefined();
    expect(after.uncertain.size).toBe(0);
  });
});

/** A change event as Event Relay puts it on EventBridge. */
function changeEvent(commitTimestamp: number) {
  return {
    version: '0',
    id: 'evt-1',
    'detail-type': 'AccountChangeEvent',
    source: SOURCE,
    time: iso(commitTimestamp),
    detail: {
      replayId: '1001',
      payload: {
        ChangeEventHeader: {
          entityName: 'Account',
          recordIds: ['001000000000001AAA'],
          changeType: 'UPDATE',
          transactionKey: 'tx-1',
          sequenceNumber: 1,
          commitTimestamp,
          commitNumber: 1,
          commitUser: '005000000000001AAA',
          changedFields: ['Name'],
        },
        Name: 'Acme',
      },
    },
  };
}
