import { describe, expect, it } from 'vitest';
import { applyChangeEvents, componentColumn } from '../../lambdas/core/continuous/apply.ts';
import { type JournalLine, sortOf } from '../../lambdas/core/continuous/journal.ts';
import { textDiff } from '../../emulator/org/cdc/text-diff.ts';

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

  it('leaves a record gone by the snapshot’s read gone: events committed before it that name a row the snapshot lacks', () => {
    const created = line('CREATE', [A], { LastName: 'Made then hard deleted' });
    const updated = line('UPDATE', [A], { LastName: 'Edited' });
    const deleted = line('DELETE', [B]);
    const after = line('UPDATE', [B], { LastName: 'After the read' });
    const readAt = after.sort.commitTimestamp;
    const rows = new Map<string, Record<string, string>>();
    const outcome = applyChangeEvents(rows, [created, updated, deleted, after], 'Contact', readAt);
    expect(rows.size).toBe(0);
    // An event after the read that names a row the snapshot lacks is still uncertain.
    expect([...outcome.uncertain.keys()]).toEqual([B]);
    // Without the read's time, the same events recreate the row.
    const unbounded = new Map<string, Record<string, string>>();
    applyChangeEvents(unbounded, [created, updated], 'Contact');
    expect(unbounded.get(A)?.LastName).toBe('Edited');
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

describe('applying a long text field sent as a unified diff', () => {
  const paragraphs = Array.from({ length: 30 }, (_, i) => `Paragraph ${i + 1} of a long description.`);
  const v1 = paragraphs.join('\n');
  const v2 = paragraphs.map((p, i) => (i === 4 ? 'Paragraph 5, edited.' : p)).join('\n');
  const v3 = paragraphs
    .map((p, i) => (i === 4 ? 'Paragraph 5, edited.' : i === 25 ? 'Paragraph 26, edited.' : p))
    .join('\n');
  const diff = (from: string, to: string): string => {
    const text = textDiff(from, to);
    if (text === null) throw new Error('expected a diff');
    return text;
  };
  const update = (fields: Record<string, unknown>, diffFields: string[]) =>
    line('UPDATE', [A], fields, { diffFields, changedFields: [...Object.keys(fields), 'LastModifiedDate'] });
  const row = (description: string) =>
    new Map([[A, { Id: A, IsDeleted: 'false', Email: 'a@example.com', Description: description }]]);

  it("rebuilds the new value from the row's, event after event, in the relayed and the streaming shape", () => {
    const rows = row(v1);
    const outcome = applyChangeEvents(
      rows,
      [
        update({ Description: diff(v1, v2), Email: 'b@example.com' }, ['Description']),
        update({ Description: { diff: diff(v2, v3) } }, ['Description']),
      ],
      'Contact',
    );
    expect(outcome.uncertain).toEqual(new Map());
    expect(rows.get(A)).toEqual({ Id: A, IsDeleted: 'false', Email: 'b@example.com', Description: v3 });
  });

  it('keeps a value the snapshot already read as the new one: an event replayed from the overlap', () => {
    const rows = row(v2);
    const outcome = applyChangeEvents(
      rows,
      [update({ Description: diff(v1, v2) }, ['Description'])],
      'Contact',
    );
    expect(outcome.uncertain).toEqual(new Map());
    expect(rows.get(A)?.Description).toBe(v2);
  });

  it('never writes a wrong value: a stale base keeps its value, and the record is uncertain for that event', () => {
    const rows = row(v1);
    const stale = update({ Description: diff(v2, v3), Email: 'b@example.com' }, ['Description']);
    const outcome = applyChangeEvents(rows, [stale], 'Contact');
    expect(outcome.uncertain).toEqual(new Map([[A, new Date(stale.sort.commitTimestamp).toISOString()]]));
    // The event's other fields are applied; the diffed field keeps the row's value.
    expect(rows.get(A)).toEqual({ Id: A, IsDeleted: 'false', Email: 'b@example.com', Description: v1 });
  });

  it('counts a diffed field whose value is not a diff, or a row the snapshot did not hold, as uncertain', () => {
    const rows = row(v1);
    const outcome = applyChangeEvents(
      rows,
      [
        update({ Description: 42 }, ['Description']),
        line('UPDATE', [B], { Description: diff(v1, v2) }, { diffFields: ['Description'] }),
      ],
      'Contact',
    );
    expect([...outcome.uncertain.keys()].sort()).toEqual([A, B]);
    expect(rows.get(A)?.Description).toBe(v1);
    expect(rows.has(B)).toBe(false);
  });
});
