import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { OUTAGE_ERROR } from '../../emulator/org/cdc/relay.ts';
import { sobject, text } from '../../emulator/org/schema.ts';
import { connect, failure, raw, start } from './server-support.ts';

const START = new Date('2026-03-01T10:00:00.000Z');
const MINUTE = 60 * 1000;

const FEEDBACK =
  'SELECT Id, EventRelayConfigId, EventRelayNumber, Status, ErrorCode, ErrorIdentifier, ErrorMessage, ErrorTime, LastRelayedEventTime, RemoteResource, CreatedDate, LastModifiedDate FROM EventRelayFeedback';

interface Feedback {
  Id: string;
  EventRelayConfigId: string;
  Status: string;
  ErrorCode: string | null;
  ErrorMessage: string | null;
  ErrorTime: string | null;
  LastRelayedEventTime: string | null;
  RemoteResource: string;
}

describe("the relay's state reads as EventRelayFeedback, EventRelayConfig and the channel members", () => {
  let emulator: RunningEmulator;
  afterEach(async () => emulator?.stop());

  const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
  const now = () => emulator.server.clock.now().getTime();

  async function feedback(): Promise<Feedback> {
    const result = await connect(emulator).query<Feedback>(FEEDBACK);
    expect(result.totalSize).toBe(1);
    return result.records[0]!;
  }

  it('reports STOPPED, RUNNING, PAUSED, ERROR in an outage that stays recorded after it, and STOPPED again clears it', async () => {
    emulator = await start({ clock: START });
    emulator.cdc.select(['Account']);
    const stopped = await feedback();
    expect(stopped).toMatchObject({
      Status: 'STOPPED',
      ErrorCode: null,
      LastRelayedEventTime: null,
      RemoteResource: emulator.relay.source,
      EventRelayConfigId: emulator.relay.relayId,
    });

    emulator.relay.configure({ state: 'RUN', replayRecovery: 'EARLIEST' });
    emulator.server.clock.advance(MINUTE);
    emulator.org.insert('Account', { Name: 'First' });
    const firstRelay = now();
    expect(await feedback()).toMatchObject({ Status: 'RUNNING', LastRelayedEventTime: iso(firstRelay) });

    emulator.relay.configure({ state: 'PAUSE' });
    emulator.server.clock.advance(MINUTE);
    emulator.org.insert('Account', { Name: 'While paused' });
    expect(await feedback()).toMatchObject({ Status: 'PAUSED', LastRelayedEventTime: iso(firstRelay) });
    emulator.relay.configure({ state: 'RUN' });
    const caughtUp = now();
    expect(await feedback()).toMatchObject({ Status: 'RUNNING', LastRelayedEventTime: iso(caughtUp) });

    emulator.server.clock.advance(MINUTE);
    const outageStart = now();
    emulator.relay.outage(10 * MINUTE);
    emulator.server.clock.advance(MINUTE);
    emulator.org.insert('Account', { Name: 'During the outage' });
    expect(await feedback()).toMatchObject({
      Status: 'ERROR',
      ErrorCode: OUTAGE_ERROR.code,
      ErrorMessage: OUTAGE_ERROR.message,
      ErrorTime: iso(outageStart),
      LastRelayedEventTime: iso(caughtUp),
    });

    emulator.server.clock.advance(10 * MINUTE);
    const resumed = await feedback();
    expect(resumed).toMatchObject({
      Status: 'RUNNING',
      ErrorCode: OUTAGE_ERROR.code,
      ErrorTime: iso(outageStart),
      LastRelayedEventTime: iso(now()),
    });
    expect(emulator.relay.relayed().map((e) => e.detail.payload.ChangeEventHeader.changeType)).toHaveLength(
      3,
    );

    emulator.relay.configure({ state: 'STOP' });
    expect(await feedback()).toMatchObject({
      Status: 'STOPPED',
      ErrorCode: null,
      ErrorMessage: null,
      ErrorTime: null,
      LastRelayedEventTime: null,
    });
  });

  it('answers SOQL filters and queryAll, and refuses EventRelayFeedback before API 56.0', async () => {
    emulator = await start({ clock: START });
    const conn = connect(emulator);
    const byStatus = await conn.query(`SELECT Id FROM EventRelayFeedback WHERE Status = 'RUNNING'`);
    expect(byStatus.totalSize).toBe(0);
    const matched = await conn.query<{ Status: string; EventRelayConfig: { DeveloperName: string } }>(
      `SELECT Status, EventRelayConfig.DeveloperName FROM EventRelayFeedback WHERE RemoteResource = '${emulator.relay.source}'`,
    );
    expect(matched.records[0]).toMatchObject({
      Status: 'STOPPED',
      EventRelayConfig: { DeveloperName: 'Emulator_Relay' },
    });
    const all = await raw(
      emulator,
      `/services/data/v62.0/queryAll?q=${encodeURIComponent('SELECT Id FROM EventRelayFeedback')}`,
    );
    expect(all.status).toBe(200);
    expect((all.json() as { totalSize: number }).totalSize).toBe(1);
    const old = await failure(connect(emulator, '55.0').query('SELECT Id FROM EventRelayFeedback'));
    expect(old.errorCode).toBe('INVALID_TYPE');
    // Not an object of the org's describe, so a backup never exports it.
    const global = await conn.describeGlobal();
    expect(global.sobjects.map((s) => s.name)).not.toContain('EventRelayFeedback');
  });

  it('answers the Tooling API for EventRelayConfig and the selected entities as channel members', async () => {
    emulator = await start({ clock: START });
    emulator.org.defineObject(sobject({ name: 'Employee__c', keyPrefix: '' }, [text('Title__c')]));
    emulator.cdc.select(['Account', 'Employee__c']);
    emulator.relay.configure({ state: 'RUN', replayRecovery: 'EARLIEST' });
    const conn = connect(emulator);
    const config = await conn.tooling.query<Record<string, unknown>>(
      `SELECT Id, DeveloperName, MasterLabel, State, EventChannel, DestinationResourceName, RelayOption FROM EventRelayConfig WHERE Id = '${emulator.relay.relayId}'`,
    );
    expect(config.records).toHaveLength(1);
    expect(config.records[0]).toMatchObject({
      attributes: {
        type: 'EventRelayConfig',
        url: `/services/data/v62.0/tooling/sobjects/EventRelayConfig/${emulator.relay.relayId}`,
      },
      Id: emulator.relay.relayId,
      DeveloperName: 'Emulator_Relay',
      MasterLabel: 'Emulator Relay',
      State: 'RUN',
      EventChannel: 'ChangeEvents',
      DestinationResourceName: 'callout:Emulator_AWS',
      RelayOption: '{"ReplayRecovery":"EARLIEST"}',
    });
    const members = await conn.tooling.query<{
      DeveloperName: string;
      EventChannel: string;
      SelectedEntity: string;
    }>(
      'SELECT Id, DeveloperName, EventChannel, SelectedEntity FROM PlatformEventChannelMember ORDER BY SelectedEntity',
    );
    expect(members.records.map((m) => [m.DeveloperName, m.EventChannel, m.SelectedEntity])).toEqual([
      ['ChangeEvents_AccountChangeEvent', 'ChangeEvents', 'AccountChangeEvent'],
      ['ChangeEvents_Employee__ChangeEvent', 'ChangeEvents', 'Employee__ChangeEvent'],
    ]);
    emulator.cdc.select([]);
    expect((await conn.tooling.query('SELECT Id FROM PlatformEventChannelMember')).totalSize).toBe(0);
    expect((await conn.tooling.query('SELECT Id, DeveloperName FROM PlatformEventChannel')).totalSize).toBe(
      0,
    );

    const notModelled = await failure(conn.tooling.query('SELECT Id FROM ApexClass'));
    expect(notModelled.errorCode).toBe('INVALID_TYPE');
    const otherPath = await raw(emulator, '/services/data/v62.0/tooling/sobjects');
    expect(otherPath.status).toBe(404);
  });
});
