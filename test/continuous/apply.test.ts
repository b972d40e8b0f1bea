import { describe, expect, it } from 'vitest';
import { applyChangeEvents, cellOf, componentColumn } from '../../lambdas/core/continuous/apply.ts';
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
          // Salesforce names an UPDATE's changed fields; its other events carry an empty list.
          changedFields: changeType === 'UPDATE' ? Object.keys(fields) : [],
          ...extra,
        },
        ...fields,
      },
    },
  };
  return { event, sort: sortOf(event), writer: { receivedAt: '', messageId: String(replay), version: 1 } };
}

/** Contact's fields as a snapshot describes them: the type of each column. */
const TYPES = new Map([
  ['Id', 'id'],
  ['IsDeleted', 'boolean'],
  ['Email', 'email'],
  ['Salutation', 'picklist'],
  ['FirstName', 'string'],
  ['LastName', 'string'],
  ['Title', 'string'],
  ['Description', 'textarea'],
  ['DoNotCall', 'boolean'],
  ['NumberOfEmployees', 'int'],
  ['Birthdate', 'date'],
  ['LastModifiedDate', 'datetime'],
  ['Call_Window__c', 'time'],
  ['MailingStreet', 'textarea'],
  ['MailingCity', 'string'],
  ['MailingPostalCode', 'string'],
]);

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
      TYPES,
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
      TYPES,
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
    const outcome = applyChangeEvents(rows, [created, updated, deleted, after], 'Contact', TYPES, readAt);
    expect(rows.size).toBe(0);
    // An event after the read that names a row the snapshot lacks is still uncertain.
    expect([...outcome.uncertain.keys()]).toEqual([B]);
    // Without the read's time, the same events recreate the row.
    const unbounded = new Map<string, Record<string, string>>();
    applyChangeEvents(unbounded, [created, updated], 'Contact', TYPES);
    expect(unbounded.get(A)?.LastName).toBe('Edited');
  });

  it('ignores the events of other entities', () => {
    const rows = new Map<string, Record<string, string>>();
    const other = line('CREATE', [A], { Name: 'Acme' });
    (
      other.event as { detail: { payload: { ChangeEventHeader: { entityName: string } } } }
    ).detail.payload.ChangeEventHeader.entityName = 'Account';
    expect(applyChangeEvents(rows, [{ ...other, sort: sortOf(other.event) }], 'Contact', TYPES).applied).toBe(
      0,
    );
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
    line('UPDATE', [A], fields, { diffFields, changedFields: Object.keys(fields) });
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
      TYPES,
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
      TYPES,
    );
    expect(outcome.uncertain).toEqual(new Map());
    expect(rows.get(A)?.Description).toBe(v2);
  });

  it('never writes a wrong value: a stale base keeps its value, and the record is uncertain for that event', () => {
    const rows = row(v1);
    const stale = update({ Description: diff(v2, v3), Email: 'b@example.com' }, ['Description']);
    const outcome = applyChangeEvents(rows, [stale], 'Contact', TYPES);
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
      TYPES,
    );
    expect([...outcome.uncertain.keys()].sort()).toEqual([A, B]);
    expect(rows.get(A)?.Description).toBe(v1);
    expect(rows.has(B)).toBe(false);
  });
});

describe('an UPDATE changes only the fields its header names', () => {
  const row = () =>
    new Map([
      [
        A,
        {
          Id: A,
          IsDeleted: 'false',
          Email: 'a@example.com',
          FirstName: 'Ada',
          LastName: 'Old',
          Title: 'CEO',
          MailingCity: 'Paris',
          MailingPostalCode: '75001',
          LastModifiedDate: '2026-12-01T08:00:00.000Z',
        },
      ],
    ]);

  it('keeps the fields a payload of every field sends as null but does not name (the Pub/Sub and Apex shape)', () => {
    const rows = row();
    const event = line(
      'UPDATE',
      [A],
      {
        Email: null,
        Name: { Salutation: null, FirstName: null, LastName: 'Renamed' },
        Title: null,
        MailingAddress: { Street: null, City: 'Lyon', PostalCode: null },
        LastModifiedDate: 1_764_770_000_123,
      },
      { changedFields: ['Name.LastName', 'MailingAddress.City', 'LastModifiedDate'], nulledFields: [] },
    );
    const outcome = applyChangeEvents(rows, [event], 'Contact', TYPES);
    expect(outcome.uncertain).toEqual(new Map());
    expect(rows.get(A)).toEqual({
      Id: A,
      IsDeleted: 'false',
      Email: 'a@example.com',
      FirstName: 'Ada',
      LastName: 'Renamed',
      Title: 'CEO',
      MailingCity: 'Lyon',
      MailingPostalCode: '75001',
      LastModifiedDate: '2025-12-03T13:53:20.123Z',
    });
  });

  it('empties the fields and components nulledFields names, whatever the payload sends for them', () => {
    const rows = row();
    const event = line(
      'UPDATE',
      [A],
      { Title: null, MailingAddress: { City: null } },
      {
        changedFields: ['Title', 'MailingAddress.City', 'LastModifiedDate'],
        nulledFields: ['Title', 'MailingAddress.City'],
      },
    );
    // LastModifiedDate is named but not carried: that record is uncertain, the rest applied.
    const outcome = applyChangeEvents(rows, [event], 'Contact', TYPES);
    expect(rows.get(A)).toMatchObject({ Title: '', MailingCity: '', MailingPostalCode: '75001' });
    expect(rows.get(A)?.LastModifiedDate).toBe('2026-12-01T08:00:00.000Z');
    expect([...outcome.uncertain.keys()]).toEqual([A]);
  });

  it('counts a record uncertain when its header names fields by undecoded bitmaps', () => {
    const rows = row();
    const event = line(
      'UPDATE',
      [A],
      { Email: null, Title: 'CTO' },
      { changedFields: ['0x650004E0', '4-0x10'], nulledFields: ['0x01'] },
    );
    const outcome = applyChangeEvents(rows, [event], 'Contact', TYPES);
    expect([...outcome.uncertain.keys()]).toEqual([A]);
    expect(rows.get(A)).toEqual(row().get(A));
  });

  it('applies nothing of an UPDATE without a changedFields list, and counts its records uncertain', () => {
    const rows = row();
    const event = line('UPDATE', [A], { Email: 'b@example.com', Title: null }, { changedFields: undefined });
    const outcome = applyChangeEvents(rows, [event], 'Contact', TYPES);
    expect(outcome.uncertain).toEqual(new Map([[A, new Date(event.sort.commitTimestamp).toISOString()]]));
    expect(rows.get(A)).toEqual(row().get(A));
  });
});

describe('values converted by the snapshot field’s type', () => {
  it('writes date-times, dates, times and booleans sent as numbers the way the Bulk CSV holds them', () => {
    const rows = new Map<string, Record<string, string>>();
    const outcome = applyChangeEvents(
      rows,
      [
        line('CREATE', [A], {
          LastName: 'Epoch',
          LastModifiedDate: 1_764_770_709_123,
          Birthdate: 20_425,
          Call_Window__c: 34_200_500,
          DoNotCall: true,
          NumberOfEmployees: 12,
        }),
      ],
      'Contact',
      TYPES,
    );
    expect(outcome.uncertain).toEqual(new Map());
    expect(rows.get(A)).toEqual({
      Id: A,
      IsDeleted: 'false',
      LastName: 'Epoch',
      LastModifiedDate: '2025-12-03T14:05:09.123Z',
      Birthdate: '2025-12-03',
      Call_Window__c: '09:30:00.500Z',
      DoNotCall: 'true',
      NumberOfEmployees: '12',
    });
  });

  it('never writes a value it cannot convert: the row keeps its value and the record is uncertain', () => {
    const rows = new Map([[A, { Id: A, IsDeleted: 'false', LastName: 'Kept', Birthdate: '1990-05-01' }]]);
    const bad = line('UPDATE', [A], { Birthdate: 1.5, LastName: 'Changed' });
    const outcome = applyChangeEvents(rows, [bad], 'Contact', TYPES);
    expect(outcome.uncertain).toEqual(new Map([[A, new Date(bad.sort.commitTimestamp).toISOString()]]));
    expect(rows.get(A)).toEqual({ Id: A, IsDeleted: 'false', LastName: 'Changed', Birthdate: '1990-05-01' });
  });

  it('converts or refuses each kind of value', () => {
    expect(cellOf('2026-12-03T10:05:09.123Z', 'datetime')).toBe('2026-12-03T10:05:09.123Z');
    expect(cellOf('2026-12-03T11:05:09.1+01:00', 'datetime')).toBe('2026-12-03T10:05:09.100Z');
    expect(cellOf('2026-12-03T10:05:09.000+0000', 'datetime')).toBe('2026-12-03T10:05:09.000Z');
    expect(cellOf('2026-02-30T10:00:00Z', 'datetime')).toBeUndefined();
    expect(cellOf(1e20, 'datetime')).toBeUndefined();
    expect(cellOf(-86_400_000, 'datetime')).toBe('1969-12-31T00:00:00.000Z');
    expect(cellOf('2026-12-03', 'date')).toBe('2026-12-03');
    expect(cellOf('2026-13-01', 'date')).toBeUndefined();
    expect(cellOf(0, 'date')).toBe('1970-01-01');
    expect(cellOf('09:30', 'time')).toBeUndefined();
    expect(cellOf('09:30:00', 'time')).toBe('09:30:00.000Z');
    expect(cellOf(86_400_000, 'time')).toBeUndefined();
    expect(cellOf(false, 'boolean')).toBe('false');
    expect(cellOf(1, 'boolean')).toBeUndefined();
    expect(cellOf('12.5', 'currency')).toBe('12.5');
    expect(cellOf('twelve', 'double')).toBeUndefined();
    expect(cellOf(null, 'datetime')).toBe('');
    expect(cellOf({ City: 'Lyon' }, 'string')).toBeUndefined();
    expect(cellOf(42, undefined)).toBe('42');
  });
});
