import { describe, expect, it } from 'vitest';
import type { StreamingMessage } from '../../emulator/org/cdc/bus.ts';
import { createOrg } from '../../emulator/org/org.ts';
import { resolveFieldDiff, sha256Hex } from '../../lambdas/core/continuous/unified-diff.ts';

/** The lines of a long text: `n` numbered lines of about 60 characters. */
function lines(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `Paragraph ${i + 1} of the account's long description.`);
}

/** An org publishing Account change events, with one account whose Description is `before`. */
function orgWith(before: string) {
  const org = createOrg({ now: () => new Date('2026-03-01T10:00:00.000Z') });
  org.cdc.select(['Account']);
  const id = org.insert('Account', { Name: 'Acme', Description: before });
  const mark = org.cdc.bus.latestReplayId;
  /** Sets the Description (and any other fields) and returns the one UPDATE event published. */
  const update = (values: Record<string, unknown>): StreamingMessage => {
    org.update('Account', id, values);
    const events = org.cdc.events(mark);
    expect(events).toHaveLength(1);
    return events[0] as StreamingMessage;
  };
  return { org, id, update };
}

describe('an updated long text field is sent as a unified diff when Salesforce may send one', () => {
  it("sends a long Description edited in one line as a diff with the new value's SHA-256, listed in diffFields", () => {
    const before = lines(40);
    const { update } = orgWith(before.join('\n'));
    const edited = [...before];
    edited[11] = 'Paragraph 12, rewritten.';
    const after = edited.join('\n');
    const event = update({ Description: after, Phone: '555' });
    const header = event.payload.ChangeEventHeader;
    expect(header.diffFields).toEqual(['Description']);
    expect(header.changedFields).toEqual(
      expect.arrayContaining(['Description', 'Phone', 'LastModifiedDate']),
    );
    expect(event.payload.Phone).toBe('555');
    expect(event.payload.Description).toBe(
      `--- \n+++ ${sha256Hex(after)}\n@@ -12,1 +12,1 @@\n-${before[11]}\n+Paragraph 12, rewritten.`,
    );
    expect(resolveFieldDiff(before.join('\n'), event.payload.Description as string)).toEqual({
      kind: 'applied',
      value: after,
    });
  });

  it('sends a diff over \\r\\n line breaks as lines without them', () => {
    const before = lines(40);
    const { update } = orgWith(before.join('\r\n'));
    const edited = [...before];
    edited.splice(5, 1);
    const event = update({ Description: edited.join('\r\n') });
    expect(event.payload.ChangeEventHeader.diffFields).toEqual(['Description']);
    expect(event.payload.Description).toBe(
      `--- \n+++ ${sha256Hex(edited.join('\r\n'))}\n@@ -6,1 +5,0 @@\n-${before[5]}`,
    );
  });

  it('sends the whole value when it is shorter than 1,000 characters', () => {
    const before = lines(10);
    const { update } = orgWith(before.join('\n'));
    const after = [...before.slice(0, 9), 'The last paragraph, changed.'].join('\n');
    expect(after.length).toBeLessThan(1000);
    const event = update({ Description: after });
    expect(event.payload.ChangeEventHeader.diffFields).toEqual([]);
    expect(event.payload.Description).toBe(after);
  });

  it('sends the whole value when its length changed by more than half', () => {
    const before = lines(30);
    const { update } = orgWith(before.join('\n'));
    const after = [...before, ...lines(16)].join('\n');
    const event = update({ Description: after });
    expect(event.payload.ChangeEventHeader.diffFields).toEqual([]);
    expect(event.payload.Description).toBe(after);
  });

  it('sends the whole value when more than a quarter of the old and new lines changed', () => {
    const before = lines(40);
    const { update } = orgWith(before.join('\n'));
    // 11 lines rewritten: 22 of 80 lines changed, over 25%, while the length hardly moves.
    const after = before.map((l, i) => (i % 3 === 0 && i < 33 ? l.toUpperCase() : l)).join('\n');
    const event = update({ Description: after });
    expect(event.payload.ChangeEventHeader.diffFields).toEqual([]);
    expect(event.payload.Description).toBe(after);
    // 10 lines rewritten, 20 of 80: a diff.
    const { update: again } = orgWith(before.join('\n'));
    const fewer = before.map((l, i) => (i % 3 === 0 && i < 30 ? l.toUpperCase() : l)).join('\n');
    expect(again({ Description: fewer }).payload.ChangeEventHeader.diffFields).toEqual(['Description']);
  });

  it('sends the whole value when the diff would be longer than the value', () => {
    // Four lines, one of them long and rewritten: 2 of 8 lines changed, but the diff repeats it twice.
    const before = ['a', 'b', 'c', 'x'.repeat(1200)];
    const { update } = orgWith(before.join('\n'));
    const after = ['a', 'b', 'c', 'y'.repeat(1200)].join('\n');
    const event = update({ Description: after });
    expect(event.payload.ChangeEventHeader.diffFields).toEqual([]);
    expect(event.payload.Description).toBe(after);
  });

  it('sends the whole value when the line breaks are mixed, set from null, or set to null', () => {
    const before = lines(40);
    const mixed = orgWith(before.join('\n'));
    const edited = [...before];
    edited[3] = 'Changed.';
    const after = `${edited.slice(0, 20).join('\r\n')}\r\n${edited.slice(20).join('\n')}`;
    expect(mixed.update({ Description: after }).payload.ChangeEventHeader.diffFields).toEqual([]);

    const fromNull = orgWith('');
    const event = fromNull.update({ Description: before.join('\n') });
    expect(event.payload.ChangeEventHeader.diffFields).toEqual([]);
    expect(event.payload.Description).toBe(before.join('\n'));

    const toNull = orgWith(before.join('\n'));
    const nulled = toNull.update({ Description: null }).payload.ChangeEventHeader;
    expect(nulled.diffFields).toEqual([]);
    expect(nulled.nulledFields).toEqual(['Description']);
  });

  it('sends the same payload, diff included, through the relay to EventBridge', () => {
    const before = lines(40);
    const { org, update } = orgWith(before.join('\n'));
    org.cdc.relay.configure({ state: 'RUN', replayRecovery: 'EARLIEST' });
    const edited = [...before];
    edited[0] = 'A new opening paragraph.';
    const event = update({ Description: edited.join('\n') });
    const relayed = org.cdc.relay.relayed().at(-1);
    expect(relayed?.detail.payload).toEqual(event.payload);
    expect(relayed?.detail.payload.ChangeEventHeader.diffFields).toEqual(['Description']);
  });
});
