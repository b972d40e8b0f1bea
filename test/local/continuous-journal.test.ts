import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../cli/commands/demo-org.ts';
import { localJournal } from '../../cli/local/continuous.ts';
import { synthesizeDefinition } from '../../cli/local/synthesize.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { readJournal } from '../../lambdas/core/continuous/journal.ts';
import { buildApp } from '../../lib/app.ts';
import type { OrgStack } from '../../lib/stacks/org-stack.ts';
import { appWithoutBundling, configWith } from '../infra/fixtures/app-fixture.ts';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({});
});
afterAll(async () => {
  await emu?.stop();
});

describe("the org's change events, through the synthesized rule and queue, into the journal", () => {
  it('journals every change the org relays, in order, and parks an unreadable event after the receive limit', async () => {
    const config = configWith({
      orgs: [
        {
          name: 'acme-prod',
          type: 'production',
          secretName: 'sfbackup/acme-prod',
          continuous: { partnerEventSource: emu.relay.source },
        },
      ],
    });
    const { orgStacks } = buildApp(config, appWithoutBundling(), { nag: false });
    const stack = orgStacks[0] as OrgStack;
    const workflow = synthesizeDefinition(stack, stack.backup.stateMachine);
    const dir = mkdtempSync(join(tmpdir(), 'sfbackup-journal-'));
    const journal = localJournal(workflow, { storeDir: dir, env: { POWERTOOLS_METRICS_DISABLED: 'true' } });
    expect(journal.pattern).toEqual({ source: [emu.relay.source] });
    expect(journal.batchSize).toBe(10_000);
    expect(journal.maxReceiveCount).toBe(5);

    const relayed: unknown[] = [];
    emu.relay.subscribe((event) => relayed.push(event));
    emu.cdc.select(['Account']);
    emu.relay.configure({ state: 'RUN' });
    const created = await api<{ id: string }>(emu, 'POST', '/sobjects/Account', { Name: 'Acme' });
    await api(emu, 'PATCH', `/sobjects/Account/${created.id}`, { Name: 'Acme, renamed', Phone: '555' });
    await api(emu, 'DELETE', `/sobjects/Account/${created.id}`);
    expect(relayed).toHaveLength(3);

    // An event from another source is not the rule's; one of the right source but unreadable is.
    const foreign = { ...(relayed[0] as object), source: 'aws.partner/other.com/x' };
    const unreadable = { ...(relayed[0] as object), id: 'broken', detail: { payload: {} } };
    expect(journal.put([...relayed, relayed[1], foreign, unreadable])).toBe(5);
    const drained = await journal.drain();
    expect(drained.deadLettered).toEqual([unreadable]);
    expect(drained.batches).toBe(5);
    expect(drained.delivered).toBe(4);

    const lines = await readJournal(
      new LocalDirectoryStore(dir),
      'acme-prod',
      new Date(0),
      new Date(Date.now() + 60_000),
    );
    expect(lines.map((l) => l.sort.changeType)).toEqual(['CREATE', 'UPDATE', 'DELETE']);
    expect(lines.every((l) => l.sort.recordIds.includes(created.id))).toBe(true);
  });
});
