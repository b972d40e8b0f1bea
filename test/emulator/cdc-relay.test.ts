import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { ReplayIdNotRetainedError } from '../../emulator/org/cdc/bus.ts';
import type { EventBridgeEvent } from '../../emulator/org/cdc/relay.ts';
import { connect, raw, start } from './server-support.ts';

const START = new Date('2026-03-01T10:00:00.000Z');
const HOUR = 60 * 60 * 1000;

describe('the change event bus keeps events 72 hours and the relay delivers them as EventBridge events', () => {
  let emulator: RunningEmulator;
  afterEach(async () => emulator?.stop());

  async function org(): Promise<RunningEmulator> {
    emulator = await start({ clock: START });
    emulator.cdc.select(['Account']);
    return emulator;
  }

  const createAccount = (name: string) => emulator.org.insert('Account', { Name: name });
  const replayIds = (events: readonly EventBridgeEvent[]) => events.map((e) => e.detail.replayId);

  it('replays from a replay id, and drops events older than 72 hours on the org clock', async () => {
    await org();
    createAccount('One');
    emulator.server.clock.advance(71 * HOUR);
    createAccount('Two');
    createAccount('Three');
    expect(emulator.cdc.events(1).map((e) => e.event.replayId)).toEqual([2, 3]);
    expect(emulator.cdc.events(undefined, '/data/AccountChangeEvent')).toHaveLength(3);
    emulator.server.clock.advance(HOUR);
    expect(emulator.cdc.events().map((e) => e.event.replayId)).toEqual([2, 3]);
    expect(emulator.cdc.bus.droppedThrough).toBe(1);
    expect(() => emulator.cdc.events(0)).toThrow(ReplayIdNotRetainedError);
    expect(emulator.cdc.events(1).map((e) => e.event.replayId)).toEqual([2, 3]);
    const gone = await raw(emulator, '/__emulator/cdc/events?after=0', { token: null });
    expect(gone.status).toBe(410);
    expect((gone.json() as { errorCode: string }[])[0]?.errorCode).toBe('REPLAY_ID_NOT_RETAINED');
    expect(() => emulator.cdc.events(undefined, '/data/Nope')).toThrow(/not a change event channel/);
  });

  it('relays each event as an EventBridge event from the partner event source', async () => {
    await org();
    const received: EventBridgeEvent[] = [];
    emulator.relay.subscribe((e) => received.push(e));
    emulator.relay.configure({ state: 'RUN', account: '111122223333', region: 'eu-west-1' });
    const id = createAccount('Relayed');
    expect(received).toHaveLength(1);
    const event = received[0]!;
    expect(Object.keys(event)).toEqual([
      'version',
      'id',
      'detail-type',
      'source',
      'account',
      'time',
      'region',
      'resources',
      'detail',
    ]);
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'AccountChangeEvent',
      source: `aws.partner/salesforce.com/${emulator.orgId}/${emulator.relay.relayId}`,
      account: '111122223333',
      time: '2026-03-01T10:00:00Z',
      region: 'eu-west-1',
      resources: [],
    });
    expect(emulator.relay.relayId).toMatch(/^0YL\w{15}$/);
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.detail.replayId).toBe(1);
    expect(event.detail.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.detail.schemaId).toBe(emulator.cdc.events()[0]!.schema);
    expect(event.detail.payload.ChangeEventHeader).toMatchObject({ changeType: 'CREATE', recordIds: [id] });
    expect(event.detail.payload.Name).toBe('Relayed');
  });

  it('starts a new relay stopped; STOP then RUN relays only new events, PAUSE then RUN resumes after the last', async () => {
    await org();
    expect(emulator.relay.state).toBe('STOP');
    createAccount('Before start');
    emulator.relay.configure({ state: 'RUN' });
    createAccount('First');
    emulator.relay.configure({ state: 'PAUSE' });
    createAccount('While paused');
    expect(replayIds(emulator.relay.relayed())).toEqual([2]);
    emulator.relay.configure({ state: 'RUN' });
    expect(replayIds(emulator.relay.relayed())).toEqual([2, 3]);
    emulator.relay.configure({ state: 'STOP' });
    createAccount('While stopped');
    emulator.relay.configure({ state: 'RUN' });
    createAccount('After restart');
    expect(replayIds(emulator.relay.relayed())).toEqual([2, 3, 5]);
    expect(replayIds(emulator.relay.relayed(3))).toEqual([5]);
  });

  it('applies ReplayRecovery when a pause outlasts retention: EARLIEST relays what is retained, LATEST only new events', async () => {
    await org();
    const received: EventBridgeEvent[] = [];
    emulator.relay.subscribe((e) => received.push(e));
    emulator.relay.configure({ state: 'RUN', replayRecovery: 'EARLIEST' });
    createAccount('Relayed');
    emulator.relay.configure({ state: 'PAUSE' });
    createAccount('Lost');
    emulator.server.clock.advance(72 * HOUR);
    createAccount('Kept');
    emulator.relay.configure({ state: 'RUN' });
    expect(replayIds(received)).toEqual([1, 3]);
    // The relayed log keeps 72 hours too: the first delivery has left it.
    expect(replayIds(emulator.relay.relayed())).toEqual([3]);

    const latest = await start({ clock: START });
    try {
      latest.cdc.select(['Account']);
      const delivered: EventBridgeEvent[] = [];
      latest.relay.subscribe((e) => delivered.push(e));
      latest.relay.configure({ state: 'RUN', replayRecovery: 'LATEST' });
      latest.org.insert('Account', { Name: 'Relayed' });
      latest.relay.configure({ state: 'PAUSE' });
      latest.org.insert('Account', { Name: 'Lost' });
      latest.server.clock.advance(72 * HOUR);
      latest.org.insert('Account', { Name: 'Skipped' });
      latest.relay.configure({ state: 'RUN' });
      latest.org.insert('Account', { Name: 'New' });
      expect(replayIds(delivered)).toEqual([1, 4]);
    } finally {
      await latest.stop();
    }
  });

  it('publishes a gap event in place of the real one for the named records', async () => {
    await org();
    const id = createAccount('Gap');
    const other = createAccount('Normal');
    emulator.cdc.injectGap([id.slice(0, 15)]);
    emulator.org.update('Account', id, { Name: 'Changed' });
    emulator.org.update('Account', other, { Name: 'Changed too' });
    emulator.org.delete([id]);
    const [gap, normal, deleted] = emulator.cdc.events(2);
    expect(gap!.payload).toEqual({
      ChangeEventHeader: expect.objectContaining({
        changeType: 'GAP_UPDATE',
        recordIds: [id],
        changedFields: [],
      }),
    });
    expect(normal!.payload.ChangeEventHeader.changeType).toBe('UPDATE');
    expect(deleted!.payload.ChangeEventHeader.changeType).toBe('DELETE');
  });

  it('publishes GAP_OVERFLOW for the changes beyond the threshold, and on demand for an entity', async () => {
    await org();
    emulator.cdc.overflowThreshold = 2;
    const records = Array.from({ length: 4 }, (_, i) => ({ attributes: { type: 'Account' }, Name: `O${i}` }));
    await raw(emulator, '/services/data/v62.0/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify({ records }),
    });
    const events = emulator.cdc.events();
    expect(
      events.map((e) => [
        e.payload.ChangeEventHeader.changeType,
        e.payload.ChangeEventHeader.recordIds.length,
      ]),
    ).toEqual([
      ['CREATE', 1],
      ['CREATE', 1],
      ['GAP_OVERFLOW', 0],
    ]);
    expect(Object.keys(events[2]!.payload)).toEqual(['ChangeEventHeader']);
    emulator.cdc.overflowThreshold = 100_000;
    emulator.cdc.injectOverflow('account');
    createAccount('Overflowed');
    createAccount('Normal again');
    expect(emulator.cdc.events(3).map((e) => e.payload.ChangeEventHeader.changeType)).toEqual([
      'GAP_OVERFLOW',
      'CREATE',
    ]);
  });

  it('delivers a duplicate with the same event id, and reverses the next N events', async () => {
    await org();
    emulator.relay.configure({ state: 'RUN' });
    emulator.relay.duplicateNext(1);
    createAccount('Twice');
    const [first, second] = emulator.relay.relayed();
    expect(second!.detail).toEqual(first!.detail);
    expect(second!.id).not.toBe(first!.id);
    emulator.relay.reorderNext(3);
    createAccount('A');
    createAccount('B');
    expect(replayIds(emulator.relay.relayed(1))).toEqual([]);
    createAccount('C');
    createAccount('D');
    expect(replayIds(emulator.relay.relayed(1))).toEqual([4, 3, 2, 5]);
  });

  it('holds events during an outage, and resumes after a hole when the outage outlasts retention', async () => {
    await org();
    emulator.relay.configure({ state: 'RUN', replayRecovery: 'EARLIEST' });
    emulator.relay.outage(HOUR);
    createAccount('During short outage');
    expect(emulator.relay.relayed()).toEqual([]);
    emulator.server.clock.advance(HOUR);
    expect(replayIds(emulator.relay.relayed())).toEqual([1]);
    emulator.relay.outage(80 * HOUR);
    createAccount('Lost in long outage');
    emulator.server.clock.advance(75 * HOUR);
    createAccount('Retained');
    emulator.server.clock.advance(5 * HOUR);
    expect(replayIds(emulator.relay.relayed())).toEqual([3]);
    expect(emulator.relay.describe().lastRelayedReplayId).toBe(3);
  });

  it('serves selection, events, relay settings, relayed events and faults over the control surface', async () => {
    emulator = await start({ clock: START });
    const post = (path: string, body: unknown) =>
      raw(emulator, `/__emulator${path}`, { method: 'POST', body: JSON.stringify(body), token: null });
    expect((await post('/cdc', { selectedEntities: ['account'] })).status).toBe(200);
    expect((await post('/cdc/relay', { state: 'RUN' })).status).toBe(200);
    expect((await post('/cdc/faults', { duplicate: 1 })).status).toBe(200);
    const conn = connect(emulator);
    const created = await conn.sobject('Account').create({ Name: 'Over HTTP' });
    const status = (await raw(emulator, '/__emulator/cdc', { token: null })).json() as {
      selectedEntities: string[];
      bus: { latestReplayId: number };
      relay: { state: string };
    };
    expect(status).toMatchObject({
      selectedEntities: ['Account'],
      bus: { latestReplayId: 1 },
      relay: { state: 'RUN' },
    });
    const events = (await raw(emulator, '/__emulator/cdc/events?after=0', { token: null })).json() as {
      events: { payload: { ChangeEventHeader: { recordIds: string[] } } }[];
    };
    expect(events.events[0]?.payload.ChangeEventHeader.recordIds).toEqual([created.id]);
    const relayed = (await raw(emulator, '/__emulator/cdc/relayed?after=0', { token: null })).json() as {
      events: EventBridgeEvent[];
    };
    expect(relayed.events.map((e) => e['detail-type'])).toEqual(['AccountChangeEvent', 'AccountChangeEvent']);
    expect((await post('/cdc/faults', { gap: [created.id] })).status).toBe(200);
    await conn.sobject('Account').update({ Id: created.id as string, Name: 'Gapped' });
    expect(emulator.cdc.events(1)[0]?.payload.ChangeEventHeader.changeType).toBe('GAP_UPDATE');
    const bad = await post('/cdc/relay', { state: 'RUNNING' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/state must be one of RUN, PAUSE, STOP; got RUNNING/);
    expect((await post('/cdc', { selectedEntities: ['Nope__c'] })).text).toMatch(
      /Nope__c.{1,4} is not an object/,
    );
    expect((await post('/cdc/faults', {})).status).toBe(400);
    expect((await raw(emulator, '/__emulator/cdc/events?after=x', { token: null })).status).toBe(400);
  });
});
