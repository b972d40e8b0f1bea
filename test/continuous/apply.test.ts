import { describe, expect, it } from 'vitest';
import { applyChangeEvents, componentColumn } from '../../lambdas/core/continuous/apply.ts';
import { type JournalLine, sortOf } from '../../lambdas/core/continuous/journal.ts';

let replay = 0;
/** A journal line of one change event, as the relay put it on EventBridge. */
function line(
  changeType: string,
  recordIds: string[],
  fields: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): JournalLine {
  replay++;
  const event = {
    detail: {
      replayId: replay,
      payload: {
        ChangeEventHeader: {
          entityName: 'Contact',
          recordIds,
          changeType,
          transactionKey: `tx-${replay}`,
          sequenceNumber: 1,
          commitTimestamp: 1_764_770_000_000 + replay,
          commitNumber: replay,
          ...extra,
        },
        ...fields,
      },
    },
  };
  return { event, sort: sortOf(event), writer: { receivedAt: '', messageId: String(replay), version: 1 } };
}

const A = '003000000000001AAA';
const B = '003000000000002AAA';

describe('applying change events to snapshot rows', () => {
  it('creates, updates, deletes and undeletes rows as the snapshot would hold them', () => {
    const rows = new Map<string, Record<string, string>>([
      [A, { Id: A, IsDeleted: 'false', Email: 'a@example.com', LastName: 'Old', Title: 'CEO' }],
    ]);
    const outcome = applyChangeEvents(
      rows,
      [
        line('CREATE', [B], {
          Name: { FirstName: 'Zoë', LastName: 'New', Salutation: null },
          Email: null,
          DoNotCall: false,
          NumberOfEmployees: 12,
        }),
        line(
          'UPDATE',
          [A],
          { Name: { LastName: 'Renamed' }, LastModifiedDate: '2026-12-03T10:00:00.000Z' },
          { nulledFields: ['Title'], changedFields: ['Name.LastName', 'Title', 'LastModifiedDate'] },
        ),
        line('DELETE', [B]),
        line('UNDELETE', [B], { Name: { FirstName: 'Zoë', LastName: 'New', Salutation: null }, Email: null }),
        line('UPDATE', [A, B], { Email: 'same@example.com' }),
      ],
      'Contact',
    );
    expect(outcome).toEqual({ uncertain: new Map(), overflow: false, applied: 5 });
    expect(rows.get(A)).toEqual({
      Id: A,
      IsDeleted: 'false',
      Email: 'same@example.com',
      LastName: 'Renamed',
      Title: '',
      LastModifiedDate: '2026-12-03T10:00:00.000Z',
    });
    expect(rows.get(B)).toMatchObject({
      Id: B,
      IsDeleted: 'false',
      FirstName: 'Zoë',
      LastName: 'New',
      Salutation: '',
      Email: 'same@example.com',
      DoNotCall: 'false',
      NumberOfEmployees: '12',
    });
  });

  it('leaves rows a gap names, or every row after an overflow, to the next backup, and says so', () => {
    const rows = new Map([[A, { Id: A, IsDeleted: 'false', Email: 'a@example.com' }]]);
    const outcome = applyChangeEvents(
      rows,
      [line('GAP_UPDATE', [A]), line('UPDATE', [B], { Email: 'x' }), line('GAP_OVERFLOW', [])],
      'Contact',
    );
    expect([...outcome.uncertain.keys()].sort()).toEqual([A, B]);
    expect(outcome.overflow).toBe(true);
    expect(rows.get(A)?.Email).toBe('a@example.com');
    expect(rows.has(B)).toBe(false);
  });

  it('ignores the events of other entities', () => {
    const rows = new Map<string, Record<string, string>>();
    const other = line('CREATE', [A], { Name: 'Acme' });
    (
      other.event as { detail: { payload: { ChangeEventHeader: { entityName: string } } } }
    ).detail.payload.ChangeEventHeader.entityName = 'Account';
    expect(applyChangeEvents(rows, [{ ...other, sort: sortOf(other.event) }], 'Contact').applied).toBe(0);
    expect(rows.size).toBe(0);
  });

  it('names compound components as the Bulk API exports them', () => {
    expect(componentColumn('BillingAddress', 'City')).toBe('BillingCity');
    expect(componentColumn('Address', 'Street')).toBe('Street');
    expect(componentColumn('Loc__c', 'Latitude')).toBe('Loc__Latitude__s');
    expect(componentColumn('Name', 'FirstName')).toBe('FirstName');
  });
});
