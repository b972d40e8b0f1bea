import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalBackup } from '../../cli/commands/backup.ts';
import { api } from '../../cli/commands/demo-org.ts';
import { localJournal } from '../../cli/local/continuous.ts';
import { synthesizeDefinition } from '../../cli/local/synthesize.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import type { EventBridgeEvent } from '../../emulator/org/cdc/relay.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { rowsAtInstant } from '../../lambdas/core/continuous/view.ts';
import { manifestKey } from '../../lambdas/core/snapshot/keys.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { buildApp } from '../../lib/app.ts';
import type { OrgStack } from '../../lib/stacks/org-stack.ts';
import { freshStoreDir } from '../backup/e2e-support.ts';
import { appWithoutBundling, configWith } from '../infra/fixtures/app-fixture.ts';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({});
});
afterAll(async () => {
  await emu?.stop();
});

/** A long description of `n` paragraphs, the `edits` (index -> text) applied. */
function description(n: number, edits: Record<number, string> = {}): string {
  return Array.from(
    { length: n },
    (_, i) => edits[i] ?? `Paragraph ${i + 1}: what the account bought, and when, and from whom.`,
  ).join('\n');
}

describe('a long text field the org sends as diffs, journaled and read back as of an instant', () => {
  it("rebuilds the org's Description from the snapshot and the relayed diffs", async () => {
    const org = 'acme-prod';
    const config = configWith({
      orgs: [
        {
          name: org,
          type: 'production',
          secretName: 'sfbackup/acme-prod',
          continuous: { partnerEventSource: emu.relay.source },
        },
      ],
    });
    const { orgStacks } = buildApp(config, appWithoutBundling(), { nag: false });
    const stack = orgStacks[0] as OrgStack;
    const dir = freshStoreDir();
    const journal = localJournal(synthesizeDefinition(stack, stack.backup.stateMachine), {
      storeDir: dir,
      env: { POWERTOOLS_METRICS_DISABLED: 'true' },
    });
    const relayed: EventBridgeEvent[] = [];
    emu.relay.subscribe((event) => relayed.push(event));
    emu.cdc.select(['Account']);
    emu.relay.configure({ state: 'RUN' });

    const created = await api<{ id: string }>(emu, 'POST', '/sobjects/Account', {
      Name: 'Acme',
      Description: description(40),
    });
    const path = `/sobjects/Account/${created.id}`;
    // Before the snapshot's read, inside its overlap: the snapshot already holds this value.
    await api(emu, 'PATCH', path, {
      Description: description(40, { 3: 'Paragraph 4, before the snapshot.' }),
    });

    const { summary } = await runLocalBackup({
      instanceUrl: emu.instanceUrl,
      accessToken: emu.accessToken,
      store: dir,
      mode: 'full',
      org,
      settings: { includeObjects: ['Account'], files: false, metadata: false, pollIntervalMs: 50 },
      retryIntervalScale: 0,
    });
    expect(summary.status).toBe('complete');
    // The run marks objects continuous when it reads the relay's channel; this one is set directly.
    const key = manifestKey(org, summary.snapshotId as string);
    const file = join(dir, ...key.split('/'));
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as {
      objects: { name: string; continuous?: boolean }[];
    };
    for (const object of manifest.objects) object.continuous = object.name === 'Account';
    writeFileSync(file, JSON.stringify(manifest));

    await api(emu, 'PATCH', path, {
      Description: description(40, { 3: 'Paragraph 4, before the snapshot.', 0: 'A new opening.' }),
    });
    await api(emu, 'PATCH', path, {
      Description: description(40, {
        3: 'Paragraph 4, before the snapshot.',
        0: 'A new opening.',
        39: 'The end.',
      }),
      Phone: '555',
    });
    const updates = relayed.filter((e) => e.detail.payload.ChangeEventHeader.changeType === 'UPDATE');
    expect(updates.map((e) => e.detail.payload.ChangeEventHeader.diffFields)).toEqual([
      ['Description'],
      ['Description'],
      ['Description'],
    ]);

    expect(journal.put(relayed)).toBe(relayed.length);
    const drained = await journal.drain();
    expect(drained.deadLettered).toEqual([]);

    const inOrg = await api<{ Description: string; Phone: string }>(emu, 'GET', path);
    const view = await rowsAtInstant(
      new LocalDirectoryStore(dir),
      org,
      'Account',
      new Date(Date.now() + 60_000),
    );
    expect(view.snapshotOnly).toBeUndefined();
    expect(view.uncertain).toEqual(new Map());
    expect(view.events).toBe(relayed.length);
    expect(view.rows.get(created.id)?.Description).toBe(inOrg.Description);
    expect(view.rows.get(created.id)?.Phone).toBe('555');
    // The snapshot itself holds the value of before its read.
    const pit = await new SnapshotReader(new LocalDirectoryStore(dir)).pointInTime(org, new Date());
    const read: (string | undefined)[] = [];
    for await (const row of pit.rows('Account', { includeDeleted: true }))
      if (row.id === created.id) read.push(row.values.Description);
    expect(read).toEqual([description(40, { 3: 'Paragraph 4, before the snapshot.' })]);
  });
});
