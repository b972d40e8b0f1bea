import { describe, expect, it } from 'vitest';
import { describeBackup } from '../../cli/commands/backup.ts';
import { describeCoverage, readCoverage } from '../../cli/commands/coverage.ts';
import { writeJournalBatch } from '../../lambdas/core/continuous/journal.ts';
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

  it('makes an incremental full when the relay has been down for more than 72 hours, once per break', async () => {
    const source = continuousOrg();
    const { store } = await runCore(source, { org: ORG, mode: 'full' }, settings, undefined, at(DAY1));
    const errorTime = iso(DAY1 + HOUR);
    source.relays[0] = relay({
      status: 'ERROR',
      errorCode: 'EVENT_RELAY_AUTH_FAILED',
      errorMessage: 'The relay could not reach the partner event source.',
      errorTime,
      lastRelayedEventTime: iso(DAY1),
    });

    const second = DAY1 + 82 * HOUR;
    const { finish } = await runCore(source, { org: ORG, mode: 'incremental' }, settings, store, at(second));
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.mode).toBe('full');
    expect(manifest.baseSnapshotId).toBeNull();
    expect(manifest.journalBreak).toEqual({ from: errorTime, to: iso(second), reason: expect.any(String) });
    expect(manifest.journalBreak!.reason).toContain('EVENT_RELAY_AUTH_FAILED');
    expect(manifest.journalBreak!.reason).toContain('81.0 hours');
    expect(manifest.fullReason).toMatch(
      /^the change-event journal has a break: Event Relay SfVault is not relaying/,
    );
    expect(finish.fullReason).toBe(manifest.fullReason);
    // The alert names the break.
    expect(finish.hasAnomalies).toBe(true);
    expect(finish.anomalyMessage).toContain('ran as a full backup instead of an incremental');
    expect(finish.anomalyMessage).toContain(errorTime);
    expect(finish.anomalyMessage).toContain('EVENT_RELAY_AUTH_FAILED');
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

    // The relay is still down, with the same error: the break is recorded already, so the next
    // run is an incremental again.
    const third = await runCore(
      source,
      { org: ORG, mode: 'incremental' },
      settings,
      store,
      at(second + HOUR),
    );
    const next = await manifestOf(store, third.finish.snapshotId);
    expect(next.mode).toBe('incremental');
    expect(next.baseSnapshotId).toBe(finish.snapshotId);
    expect(next.journalBreak).toBeUndefined();
    expect(next.fullReason).toBeUndefined();
    expect(third.finish.hasAnomalies).toBe(false);
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
    expect(manifest.journalBreak!.reason).toContain('the first journal batch after that was written');
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
