import { describe, expect, it } from 'vitest';
import type { SalesforceError } from '../../emulator/org/api.ts';
import { DeleteLog, RETENTION_MS } from '../../emulator/org/delete-log.ts';
import { createOrg } from '../../emulator/org/org.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

describe('the delete log', () => {
  it('lists the entries of an object in a half-open window, oldest first', () => {
    const log = new DeleteLog();
    log.record('Account', 'b', T0 + 2 * MINUTE);
    log.record('Account', 'a', T0 + MINUTE);
    log.record('Account', 'c', T0 + 3 * MINUTE);
    log.record('Contact', 'x', T0 + MINUTE);
    expect(log.deletedBetween('Account', T0 + MINUTE, T0 + 3 * MINUTE)).toEqual([
      { id: 'a', deletedDate: T0 + MINUTE },
      { id: 'b', deletedDate: T0 + 2 * MINUTE },
    ]);
    expect(log.deletedBetween('Contact', T0, T0 + DAY).map((e) => e.id)).toEqual(['x']);
  });

  it('keeps the first entry of a row logged twice and forgets it on request', () => {
    const log = new DeleteLog();
    log.record('Account', 'a', T0);
    log.record('Account', 'a', T0 + DAY);
    expect(log.deletedBetween('Account', T0, T0 + 2 * DAY)).toEqual([{ id: 'a', deletedDate: T0 }]);
    log.forget('Account', 'a');
    expect(log.size('Account')).toBe(0);
  });

  it('drops entries older than 15 days and keeps the rest', () => {
    const log = new DeleteLog();
    log.record('Account', 'old', T0);
    log.record('Account', 'new', T0 + DAY);
    log.expire(T0 + RETENTION_MS);
    expect(log.size('Account')).toBe(2);
    log.expire(T0 + RETENTION_MS + 1);
    expect(log.deletedBetween('Account', 0, T0 + 2 * DAY).map((e) => e.id)).toEqual(['new']);
  });

  it('reports the later of the retention bound and the latest purge of the object', () => {
    const log = new DeleteLog();
    expect(log.earliestDateAvailable('Account', T0)).toBe(T0);
    log.purged('Account', T0 + DAY);
    log.purged('Account', T0 + MINUTE);
    expect(log.earliestDateAvailable('Account', T0)).toBe(T0 + DAY);
    expect(log.earliestDateAvailable('Account', T0 + 2 * DAY)).toBe(T0 + 2 * DAY);
    expect(log.earliestDateAvailable('Contact', T0)).toBe(T0);
  });
});

describe('the org logs every delete and answers getDeleted and getUpdated', () => {
  function org(options: { idLimit?: number } = {}) {
    const clock = { now: T0 };
    const o = createOrg({ now: () => new Date(clock.now), replicationIdLimit: options.idLimit });
    return { org: o, clock };
  }
  const deletedIds = (o: ReturnType<typeof createOrg>, object: string, from: number, to: number) =>
    o.getDeleted(object, new Date(from), new Date(to)).deletedRecords.map((r) => r.id);
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as SalesforceError).errorCode;
    }
    throw new Error('expected a SalesforceError');
  };

  it('logs soft deletes with their cascades, and undelete takes the entries away', () => {
    const { org: o, clock } = org();
    const account = o.insert('Account', { Name: 'A' });
    const contact = o.insert('Contact', { LastName: 'C', AccountId: account });
    clock.now += MINUTE;
    o.delete([account]);
    clock.now += 5 * MINUTE;
    expect(deletedIds(o, 'Account', T0, clock.now)).toEqual([account]);
    expect(deletedIds(o, 'Contact', T0, clock.now)).toEqual([contact]);
    const result = o.getDeleted('Account', new Date(T0), new Date(clock.now));
    expect(result.deletedRecords[0]?.deletedDate.getTime()).toBe(T0 + MINUTE);
    o.undelete([account]);
    expect(deletedIds(o, 'Account', T0, clock.now)).toEqual([]);
    expect(deletedIds(o, 'Contact', T0, clock.now)).toEqual([]);
    clock.now += 2 * MINUTE;
    expect(o.getUpdated('Account', new Date(T0 + 2 * MINUTE), new Date(clock.now)).ids).toEqual([account]);
  });

  it('logs hard deletes, and a purge keeps the delete entry and moves earliestDateAvailable', () => {
    const { org: o, clock } = org();
    const hard = o.insert('Account', { Name: 'hard' });
    const soft = o.insert('Account', { Name: 'soft' });
    clock.now += MINUTE;
    o.hardDelete([hard]);
    o.delete([soft]);
    clock.now += 10 * MINUTE;
    o.emptyRecycleBin([soft]);
    clock.now += 10 * MINUTE;
    const result = o.getDeleted('Account', new Date(T0), new Date(clock.now));
    expect(result.deletedRecords.map((r) => [r.id, r.deletedDate.getTime()])).toEqual(
      [
        [hard, T0 + MINUTE],
        [soft, T0 + MINUTE],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(result.earliestDateAvailable.getTime()).toBe(T0 + 11 * MINUTE);
    expect(o.getDeleted('Contact', new Date(T0), new Date(clock.now)).earliestDateAvailable.getTime()).toBe(
      T0 + 21 * MINUTE - RETENTION_MS,
    );
  });

  it('purges recycle-bin rows at 15 days as a background job would, and drops old entries', () => {
    const { org: o, clock } = org();
    const gone = o.insert('Account', { Name: 'gone' });
    o.delete([gone]);
    clock.now += RETENTION_MS - MINUTE;
    expect(o.rowCounts().Account).toEqual({ live: 0, deleted: 1 });
    clock.now += 2 * MINUTE;
    expect(o.rowCounts().Account).toEqual({ live: 0, deleted: 0 });
    const result = o.getDeleted('Account', new Date(clock.now - 10 * MINUTE), new Date(clock.now));
    expect(result.earliestDateAvailable.getTime()).toBe(T0 + RETENTION_MS);
    expect(deletedIds(o, 'Account', clock.now - RETENTION_MS, clock.now)).toEqual([]);
  });

  it('applies the one-minute rule, the age limits and the id limit', () => {
    const { org: o, clock } = org({ idLimit: 2 });
    clock.now += 40 * DAY;
    const now = clock.now;
    const window = (fn: 'getDeleted' | 'getUpdated', from: number, to: number) => () =>
      o[fn]('Account', new Date(from), new Date(to));
    expect(code(window('getDeleted', now - MINUTE, now))).toBe('INVALID_REPLICATION_DATE');
    expect(code(window('getDeleted', now - 30_000, now + DAY))).toBe('INVALID_REPLICATION_DATE');
    expect(o.getDeleted('Account', new Date(now - MINUTE - 1000), new Date(now)).latestDateCovered).toEqual(
      new Date(now),
    );
    expect(code(window('getDeleted', now - 15 * DAY - MINUTE, now))).toBe('INVALID_REPLICATION_DATE');
    expect(o.getDeleted('Account', new Date(now - 15 * DAY), new Date(now)).deletedRecords).toEqual([]);
    expect(code(window('getUpdated', now - 30 * DAY - MINUTE, now))).toBe('INVALID_REPLICATION_DATE');
    expect(o.getUpdated('Account', new Date(now - 30 * DAY), new Date(now)).ids).toEqual([]);
    for (const name of ['a', 'b', 'c']) o.insert('Account', { Name: name });
    clock.now += 2 * MINUTE;
    expect(code(window('getUpdated', now, clock.now))).toBe('EXCEEDED_ID_LIMIT');
    expect(code(() => o.getDeleted('NoSuch__c', new Date(now), new Date(clock.now)))).toBe('INVALID_TYPE');
  });

  it('refuses an injected id limit that is not a positive whole number', () => {
    expect(() => createOrg({ replicationIdLimit: 0 })).toThrow(/replicationIdLimit must be a positive/);
  });

  it('dumps an object with its recycle-bin rows, keyed by Id, as Bulk CSV shows them', () => {
    const { org: o } = org();
    const live = o.insert('Account', { Name: 'live', NumberOfEmployees: 5 });
    const binned = o.insert('Account', { Name: 'binned' });
    o.delete([binned]);
    const dump = o.dumpObject('Account');
    expect([...dump.keys()].sort()).toEqual([live, binned].sort());
    expect(dump.get(live)).toMatchObject({
      Id: live,
      Name: 'live',
      NumberOfEmployees: '5',
      IsDeleted: 'false',
      Phone: '',
      CreatedDate: '2026-03-01T10:00:00.000Z',
    });
    expect(dump.get(binned)).toMatchObject({ Name: 'binned', IsDeleted: 'true' });
  });
});
