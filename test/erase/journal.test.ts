import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { readJournal, writeJournalBatch } from '../../lambdas/core/continuous/journal.ts';
import { holdRestoreLeases } from '../../lambdas/core/erase/lease.ts';
import { eraseFromPlan, finishErasure, startErasure } from './steps.ts';
import { everyVersion } from './vault-scan.ts';

const PERSON = '0035g000000000PAAQ';
const OTHER = '0035g000000000QAAQ';
const AT = Date.parse('2026-11-02T10:15:00Z');

/** A change event as Event Relay puts it on EventBridge. */
function event(
  replayId: number,
  recordIds: string[],
  fields: Record<string, unknown>,
  entityName = 'Contact',
) {
  return {
    id: `event-${replayId}`,
    detail: {
      replayId: String(replayId),
      payload: {
        ChangeEventHeader: {
          commitTimestamp: AT + replayId * 1000,
          commitNumber: replayId,
          sequenceNumber: 1,
          transactionKey: `tx-${replayId}`,
          changeType: 'UPDATE',
          entityName,
          recordIds,
        },
        ...fields,
      },
    },
  };
}

/** A real plan's digests of her values, where none were found: a dry run's plan holds none. */
const NO_VALUES = { key: '', digests: [], nameWords: [], phoneDigits: [] };

describe('erasure from the continuous journal', () => {
  it('finds the person by a value her change events carry, and leaves every journal object readable without her', async () => {
    // GIVEN a journal with an event of hers, one of the other contact, and one for both of them
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-erase-journal-'));
    const store = new LocalDirectoryStore(dir);
    const clock = () => new Date(AT + 3_600_000);
    await writeJournalBatch(
      store,
      'sample',
      [
        { messageId: 'm1', event: event(1, [PERSON], { Email: 'Jane.Doe@Example.com', Phone: '555-0101' }) },
        { messageId: 'm2', event: event(2, [OTHER], { Phone: '555-0202' }) },
        { messageId: 'm3', event: event(3, [PERSON, OTHER], { MailingCity: 'Springfield' }) },
      ],
      clock,
    );
    const deps = { store, versions: store, org: 'sample', clock };
    const input = {
      object: 'Contact',
      where: { Email: 'jane.doe@example.com' },
      requestedBy: 'dpo@example.com',
      mode: 'erase',
    };
    // The journal alone names no org id; an erase without one is refused as the restore refuses it.
    await expect(startErasure(deps, input, 'journal-1')).rejects.toThrow(/confirmOrgId/);

    // WHEN a dry run plans it
    const planned = await startErasure(deps, { ...input, mode: 'dry-run' }, 'journal-dry');
    // THEN it finds her in the journal object: two of its events name her
    expect(planned).toMatchObject({ ids: 1, journalObjects: 1, journalEvents: 2, parts: 0 });

    // WHEN the plan is carried out (a dry-run plan is refused, an erase plan is not)
    await expect(eraseFromPlan(deps, { ...input, mode: 'dry-run' }, planned.planKey)).rejects.toThrow(
      /dry run/,
    );
    // The journal alone names no org id to confirm: the dry run's plan is made the plan an erase
    // run confirmed with the org id would have written.
    const plan = JSON.parse(new TextDecoder().decode(await store.get(planned.planKey)));
    const confirmed = { ...input, confirmOrgId: '00D5g000004ExAmEAK' };
    await store.replace(
      planned.planKey,
      JSON.stringify({
        ...plan,
        mode: 'erase',
        request: { ...plan.request, mode: 'erase' },
        values: NO_VALUES,
      }),
    );
    // A real start takes the org's leases before it plans; the converted plan takes them here.
    await holdRestoreLeases(store, 'sample', 'journal-dry');
    const outcome = await eraseFromPlan(deps, confirmed, planned.planKey);
    expect(outcome.journalEventsRemoved).toBe(2);
    const finished = await finishErasure(deps, confirmed, planned.planKey, outcome);
    expect(finished.traces).toBe(0);

    // THEN the journal reads back, checked against its rewritten manifest: the other contact's
    // event whole, the shared one without her id, hers gone
    const lines = await readJournal(store, 'sample', new Date(AT), new Date(AT + 60_000));
    expect(lines.map((l) => l.sort.recordIds)).toEqual([[OTHER], [OTHER]]);
    for (const [key, text] of await everyVersion(store, 'orgs/sample/')) {
      if (key.includes('/erasures/')) continue;
      expect(text, key).not.toContain(PERSON.slice(0, 15));
      expect(text.toLowerCase(), key).not.toContain('jane.doe@example.com');
    }
  });

  it("keeps another record's change event that names her in a lookup, and counts it as a kept reference", async () => {
    // GIVEN a journal with an event of hers and a Case's event whose ContactId is her id
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-erase-journal-'));
    const store = new LocalDirectoryStore(dir);
    const clock = () => new Date(AT + 3_600_000);
    await writeJournalBatch(
      store,
      'sample',
      [
        { messageId: 'm1', event: event(1, [PERSON], { Phone: '555-0101' }) },
        { messageId: 'm4', event: event(4, ['500000000000001AAA'], { ContactId: PERSON }, 'Case') },
      ],
      clock,
    );
    const deps = { store, versions: store, org: 'sample', clock };
    const input = { ids: [PERSON], requestedBy: 'request 48', mode: 'dry-run' };
    // WHEN she is erased
    const planned = await startErasure(deps, input, 'journal-ref');
    expect(planned).toMatchObject({ journalObjects: 1, journalEvents: 1 });
    const plan = JSON.parse(new TextDecoder().decode(await store.get(planned.planKey)));
    await store.replace(
      planned.planKey,
      JSON.stringify({
        ...plan,
        mode: 'erase',
        request: { ...plan.request, mode: 'erase' },
        values: NO_VALUES,
      }),
    );
    const confirmed = { ...input, mode: 'erase', confirmOrgId: '00D5g000004ExAmEAK' };
    await holdRestoreLeases(store, 'sample', 'journal-ref');
    const outcome = await eraseFromPlan(deps, confirmed, planned.planKey);
    expect(outcome.journalEventsRemoved).toBe(1);
    // THEN the scan is clean, the Case's event stays, counted as a kept reference
    const finished = await finishErasure(deps, confirmed, planned.planKey, outcome);
    expect(finished.traces).toBe(0);
    const log = JSON.parse(new TextDecoder().decode(await store.get(finished.logKey)));
    expect(log.scan.keptReferences).toEqual({ Case: 1 });
    const journal = [...(await everyVersion(store, 'orgs/sample/journal/')).values()].join('\n');
    expect(journal).toContain('500000000000001AAA');
  });
});
